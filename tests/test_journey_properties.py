"""Property tests: no event sequence reaches an undefined state or keeps biometrics after the session."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.journey import effects as fx
from kiosk.journey import events as ev
from kiosk.journey.session import LivenessSummary
from kiosk.journey.states import DEFAULT_TIMEOUTS_S, State
from tests.journey_helpers import OFFER, details, forward_event, new_journey, sample, score


def _event_factories():
    return [
        lambda: ev.StartPressed(),
        lambda: ev.LanguageChosen(language="zh"),
        lambda: ev.LanguageChosen(language="xx"),
        lambda: ev.ConsentGiven(agreed=True),
        lambda: ev.ConsentGiven(agreed=False),
        lambda: ev.ManualCheckChosen(),
        lambda: ev.IdCaptureResult(ok=True, portrait=sample("id_portrait")),
        lambda: ev.IdCaptureResult(ok=False, portrait=sample("id_portrait"), reasons=("blur",)),
        lambda: ev.LiveCaptureResult(ok=True, frames=(sample(), sample()), liveness=LivenessSummary(0.9, 2, 2)),
        lambda: ev.LiveCaptureResult(ok=False, frames=(sample(),), liveness=LivenessSummary(0.1, 0, 2)),
        lambda: ev.MatchResult(matched=True, score=0.8, threshold=0.4),
        lambda: ev.MatchResult(matched=False, score=0.1, threshold=0.4),
        lambda: details(),
        lambda: ev.QuestionAnswered(intent="limit", confidence=0.9),
        lambda: score(),
        lambda: ev.ScoringFailed(code="network_down"),
        lambda: ev.OfferChosen(offer_id="offer-a"),
        lambda: ev.PaymentPicked(monthly=OFFER.monthly_payment),
        lambda: ev.PaymentPicked(monthly=1.0),
        lambda: ev.BorrowAgreed(),
        lambda: ev.Back(),
        lambda: ev.Withdraw(),
        lambda: ev.ApplicationRecorded(reference="APP-2", queued=True),
        lambda: ev.ApplicationWithdrawn(outcome="withdrawn"),
        lambda: ev.ApplicationWithdrawn(outcome="already_sent"),
        lambda: ev.ApplicationRecorded(reference="APP-1", queued=False),
        lambda: ev.Finish(),
        lambda: ev.Cancel(),
        lambda: ev.CallShopkeeper(),
        lambda: ev.HandoffResolved(),
        lambda: ev.DeviceFailed(device="camera", code="disconnected"),
        lambda: ev.StageUnavailable(stage="face_match"),
        lambda: ev.Retry(),
        lambda: ev.Tick(),
    ]


FACTORIES = _event_factories()
MAX_TIMEOUT = max(DEFAULT_TIMEOUTS_S.values())
FORWARD_STEP = -1  # "what a cooperative customer would do now": lets sequences reach deep states
steps = st.lists(
    st.tuples(
        st.one_of(st.just(FORWARD_STEP), st.integers(0, len(FACTORIES) - 1)),
        st.sampled_from([0.0, 0.5, 5.0, MAX_TIMEOUT + 1]),
    ),
    max_size=60,
)


def _make(index: int, j, now: float) -> ev.Event:
    event = forward_event(j) if index == FORWARD_STEP else FACTORIES[index]()
    return type(event)(**{**event.__dict__, "at": now})



@settings(max_examples=400, deadline=None)
@given(steps)
def test_any_event_sequence_stays_in_defined_states_and_limits(sequence):
    j = new_journey()
    now = 0.0
    for index, dt in sequence:
        now += dt
        t = j.handle(_make(index, j, now))
        assert j.state in set(State)
        assert isinstance(t.state, State)
        assert all(isinstance(e, fx.Effect) for e in t.effects)
        assert j.data.id_attempts <= j.limits.id_attempts
        assert j.data.face_attempts <= j.limits.face_attempts
        assert j.data.scoring_attempts <= j.limits.scoring_attempts


@settings(max_examples=400, deadline=None)
@given(steps)
def test_no_biometric_data_survives_end_handoff_or_attract(sequence):
    j = new_journey()
    now = 0.0
    held = []  # every sample the journey ever accepted into its vault
    for index, dt in sequence:
        now += dt
        j.handle(_make(index, j, now))
        held.extend(j.data.biometrics.all_samples())
        if j.state in (State.END, State.HANDOFF, State.ATTRACT):
            assert j.data.biometrics.is_empty
            assert all(s.is_wiped for s in held), "a sample the journey held was not zeroed"
            if j.state is State.END:
                assert j.data.details is None


def test_forward_steps_reach_every_state():
    """Guards the strategy above: the cooperative step must be able to walk the whole journey."""
    j = new_journey()
    seen = {j.state}
    for _ in range(len(State) + 2):
        j.handle(forward_event(j))
        seen.add(j.state)
    assert {State.MATCH, State.OFFERS, State.REVIEW, State.CONFIRMATION, State.END} <= seen
