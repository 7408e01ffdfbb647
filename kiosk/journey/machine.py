"""The journey state machine: ``Journey.handle(event) -> Transition``.

Rules that hold in every state (timeouts, cancel, shopkeeper, device failures, questions) are handled
once in :meth:`Journey.handle`; each state's own handler covers only its forward path. An event a state
does not expect is ignored (recorded as such), so no event sequence can reach an undefined state.
"""

from __future__ import annotations

import logging
import math
import random
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from kiosk.i18n import consent_version
from kiosk.journey import effects as fx
from kiosk.journey import events as ev
from kiosk.journey.prompts import random_challenges
from kiosk.journey.session import (
    ConsentRecord,
    ErrorInfo,
    HandoffSummary,
    MatchSummary,
    OfferSummary,
    SessionData,
)
from kiosk.journey.states import CUSTOMER_STATES, DEFAULT_TIMEOUTS_S, IDLE_WARNING_S, WARNED_STATES, State

log = logging.getLogger("kiosk.journey")

# Device/stage errors a retry can fix (re-seat a cable, wait for the network) get this many retries
# before the customer is sent to the shopkeeper.
MAX_ERROR_RETRIES = 2
# ID problems no second look can fix: the card itself is the problem, so the shopkeeper is called at once.
# Wrong picks of the monthly payment before the shopkeeper is asked to explain the loan.
MAX_REVIEW_MISSES = 3
FINAL_ID_REASONS = frozenset({"id_expired", "id_region_invalid", "id_birth_date_invalid", "chip_print_mismatch"})


@dataclass(frozen=True)
class JourneyLimits:
    id_attempts: int = 3
    face_attempts: int = 3
    scoring_attempts: int = 3
    challenges: int = 2  # active-liveness challenges per face attempt
    languages: tuple[str, ...] = ("zh", "en")
    timeouts_s: Mapping[State, float] = field(default_factory=lambda: dict(DEFAULT_TIMEOUTS_S))

    def timeout(self, state: State) -> float:
        return float(self.timeouts_s.get(state, DEFAULT_TIMEOUTS_S[state]))


@dataclass(frozen=True)
class Transition:
    previous: State
    state: State
    event: str
    effects: tuple[fx.Effect, ...]
    ignored: bool = False


def review_choices(offer: OfferSummary | None, seed: str) -> list[float]:
    """Three monthly amounts for the comprehension check: the real one; the amount shared over the months with no
    interest (what a customer who missed the interest expects); the total repayable (the total taken for the
    monthly). In an order fixed per session, so a guess of "the middle one" is no strategy."""
    if offer is None:
        return []
    no_interest = round(offer.amount / offer.term_months, 2)
    choices = list(dict.fromkeys([offer.monthly_payment, no_interest, offer.total_repayable]))
    while len(choices) < 3:  # figures that coincide (a one-month loan): a plainly wrong amount instead
        choices.append(round(choices[-1] * 1.5, 2))
    random.Random(seed).shuffle(choices)
    return choices


def _new_session_id() -> str:
    return uuid.uuid4().hex


def _handoff_code() -> str:
    # Six digits are easy to read aloud to a shopkeeper and to type into a support tool.
    return f"{secrets.randbelow(1_000_000):06d}"


class Journey:
    def __init__(
        self,
        limits: JourneyLimits | None = None,
        *,
        now: float = 0.0,
        session_id_factory: Callable[[], str] = _new_session_id,
        handoff_code_factory: Callable[[], str] = _handoff_code,
        challenge_factory: Callable[[int], tuple[str, ...]] = random_challenges,
    ) -> None:
        self.limits = limits or JourneyLimits()
        self._new_id = session_id_factory
        self._new_code = handoff_code_factory
        self._new_challenges = challenge_factory
        self.state = State.ATTRACT
        self.data = SessionData(session_id="", started_at=now)
        self.last_activity = now
        self._warned_at: float | None = None  # the activity time the idle warning was given for
        self.ended_sessions: list[dict] = []

    # ---- public API -------------------------------------------------------------------------------

    def handle(self, event: ev.Event) -> Transition:
        previous = self.state
        effects = self._dispatch(event)
        ignored = effects is None
        if ignored:
            effects = []
        elif not isinstance(event, ev.Tick):
            self.last_activity = event.at
        transition = Transition(previous, self.state, type(event).__name__, tuple(effects), ignored)
        self._log(transition)
        return transition

    def seconds_left(self, now: float) -> float:
        return self.limits.timeout(self.state) - (now - self.last_activity)

    @property
    def warning_until(self) -> float | None:
        """When the session ends if the customer does nothing, while the idle warning shows (any activity since
        the warning clears it: the clock it was given for has restarted)."""
        if self._warned_at is None or self._warned_at != self.last_activity:
            return None
        return self.last_activity + self.limits.timeout(self.state)

    # ---- dispatch ---------------------------------------------------------------------------------

    def _dispatch(self, event: ev.Event) -> list[fx.Effect] | None:
        state = self.state
        if isinstance(event, ev.Tick):
            return self._on_tick(event)
        in_session = state in CUSTOMER_STATES
        d = self.data
        if isinstance(event, ev.Cancel) and state is State.CONFIRMATION and d.application_queued:
            # Cancel before the lender has it takes the application back; it never leaves the kiosk.
            return [fx.WithdrawApplication(d.application_key)]
        if isinstance(event, ev.Cancel) and (in_session or state is State.HANDOFF):
            return self._end("cancelled", event.at)
        if isinstance(event, ev.CallShopkeeper) and in_session:
            return self._handoff("customer_asked", event.at)
        if isinstance(event, ev.Touched) and in_session:
            return []  # handled: the activity clock restarts, nothing else changes
        if isinstance(event, ev.QuestionAnswered) and in_session:
            self.data.last_answer_intent = event.intent
            return [fx.ShowAnswer(event.intent, event.text)]
        # The shopkeeper is already there in HANDOFF, and nobody is there in END: no error screen then.
        can_fail = in_session or state is State.ATTRACT
        if isinstance(event, ev.DeviceFailed) and can_fail:
            return self._error(f"{event.device}_{event.code}", event.at)
        if isinstance(event, ev.StageUnavailable) and can_fail:
            return self._error("stage_unavailable", event.at, detail=event.stage)
        handler = getattr(self, f"_in_{state.value}")
        return handler(event)

    def _on_tick(self, event: ev.Tick) -> list[fx.Effect] | None:
        left = self.seconds_left(event.at)
        if left > 0:
            warn_at = min(IDLE_WARNING_S, self.limits.timeout(self.state) / 2)
            if self.state in WARNED_STATES and left <= warn_at and self.warning_until is None:
                self._warned_at = self.last_activity
                return [fx.WarnIdle(math.ceil(left))]
            return None
        self.last_activity = event.at
        state = self.state
        if state is State.ATTRACT:
            return [fx.ShowScreen(State.ATTRACT.value)]
        if state is State.END:
            return self._enter(State.ATTRACT, event.at)
        if state is State.HANDOFF:
            return self._end("handoff_timeout", event.at)
        if state is State.MATCH:
            return self._face_failed(event.at, "match_timeout")
        if state is State.SCORING:
            return self._scoring_failed(event.at, "timeout")
        return self._end("idle_timeout", event.at)

    # ---- per-state handlers (forward path only) ---------------------------------------------------

    def _in_attract(self, event: ev.Event) -> list[fx.Effect] | None:
        if isinstance(event, ev.StartPressed):
            self.data = SessionData(session_id=self._new_id(), started_at=event.at)
            return self._enter(State.LANGUAGE, event.at)
        return None

    def _in_language(self, event: ev.Event) -> list[fx.Effect] | None:
        if isinstance(event, ev.LanguageChosen) and event.language in self.limits.languages:
            self.data.language = event.language
            return self._enter(State.CONSENT, event.at)
        return None

    def _in_consent(self, event: ev.Event) -> list[fx.Effect] | None:
        if isinstance(event, ev.ManualCheckChosen):  # recorded (handoff reason, audit), no photo taken
            return self._handoff("manual_id_check", event.at)
        if not isinstance(event, ev.ConsentGiven):
            return None
        if not event.agreed:
            return self._end("consent_declined", event.at)
        lang = self.data.language or self.limits.languages[0]
        version = consent_version(lang)  # of the text the consent screen showed and read in this language
        self.data.consent = ConsentRecord(version, lang, event.at)
        return [fx.RecordConsent(version, lang), *self._enter(State.ID_CAPTURE, event.at)]

    def _in_id_capture(self, event: ev.Event) -> list[fx.Effect] | None:
        if not isinstance(event, ev.IdCaptureResult):
            return None
        if event.ok and event.portrait is not None and event.document is not None:
            vault = self.data.biometrics
            for old in (vault.id_portrait, vault.chip_portrait):
                if old is not None:
                    old.wipe()
            vault.id_portrait, vault.chip_portrait = event.portrait, event.chip_portrait
            # The identity that will be scored is fixed here, with the portrait the face is matched against.
            self.data.document = event.document
            self.data.identity_confirmed = False
            return self._enter(State.LIVE_CAPTURE, event.at)
        for sample in (event.portrait, event.chip_portrait):
            if sample is not None:
                sample.wipe()
        final = next((r for r in event.reasons if r in FINAL_ID_REASONS), None)
        if final is not None:
            return self._handoff(final, event.at)
        self.data.id_attempts += 1
        if self.data.id_attempts >= self.limits.id_attempts:
            return self._handoff("id_capture_failed", event.at)
        reasons = {"reasons": list(event.reasons)}
        return [fx.Speak("hint.id_retry", reasons), *self._enter(State.ID_CAPTURE, event.at, "id.retry", reasons)]

    def _in_live_capture(self, event: ev.Event) -> list[fx.Effect] | None:
        if not isinstance(event, ev.LiveCaptureResult):
            return None
        self.data.liveness = event.liveness
        if event.ok and event.frames:
            vault = self.data.biometrics
            for old in vault.live_samples:
                old.wipe()
            vault.live_samples = list(event.frames)
            return self._enter(State.MATCH, event.at)
        for frame in event.frames:
            frame.wipe()
        return self._face_failed(event.at, "live_capture_failed", event.reasons)

    def _in_match(self, event: ev.Event) -> list[fx.Effect] | None:
        if not isinstance(event, ev.MatchResult):
            return None
        self.data.match = MatchSummary(event.matched, event.score, event.threshold, event.chip_score)
        if event.matched:
            return self._enter(State.CONFIRM_IDENTITY, event.at)
        return self._face_failed(event.at, "face_mismatch")

    def _in_confirm_identity(self, event: ev.Event) -> list[fx.Effect] | None:
        if not isinstance(event, ev.IdentityConfirmed):
            return None
        if not event.agreed:
            return self._handoff("identity_not_confirmed", event.at)
        self.data.identity_confirmed = True
        return self._enter(State.DETAILS, event.at)

    def _in_details(self, event: ev.Event) -> list[fx.Effect] | None:
        # Only a verified, confirmed identity is ever scored; the details carry no identity of their own.
        d = self.data
        if isinstance(event, ev.DetailsSubmitted) and d.identity_confirmed and d.document is not None:
            d.details = event.details
            return self._enter(State.SCORING, event.at)
        if isinstance(event, ev.DetailsInvalid):
            return [fx.ShowScreen(State.DETAILS.value, f"details.{event.problem}")]
        return None

    def _in_scoring(self, event: ev.Event) -> list[fx.Effect] | None:
        if isinstance(event, ev.ScoreReceived):
            self.data.estimate = event.estimate
            self.data.offers = event.offers
            if event.estimate.decision == "review":  # the lender holds it for a person to look at
                return self._handoff("held_for_review", event.at)
            return self._enter(State.OFFERS, event.at)
        if isinstance(event, ev.ScoringFailed):
            if event.final:
                return self._handoff(f"scoring_{event.code}", event.at)
            return self._scoring_failed(event.at, event.code)
        return None

    def _in_offers(self, event: ev.Event) -> list[fx.Effect] | None:
        # Choosing is not applying: the review comes first, with every cost, a check and an explicit "I agree".
        if isinstance(event, ev.OfferChosen) and any(o.offer_id == event.offer_id for o in self.data.offers):
            d = self.data
            d.chosen_offer_id, d.review_understood, d.review_misses = event.offer_id, False, 0
            return self._enter(State.REVIEW, event.at)
        if isinstance(event, ev.Finish) and not self.data.offers:  # declined: "Done" ends the session kindly
            return self._end("declined", event.at)
        return None

    def _in_review(self, event: ev.Event) -> list[fx.Effect] | None:
        d = self.data
        offer = d.chosen_offer
        if offer is None:
            return None
        if isinstance(event, ev.Back):
            d.chosen_offer_id = None
            return self._enter(State.OFFERS, event.at)
        if isinstance(event, ev.PaymentPicked):
            if abs(event.monthly - offer.monthly_payment) < 0.005:
                d.review_understood = True
                return self._review_screen("review.understood")
            d.review_misses += 1
            if d.review_misses >= MAX_REVIEW_MISSES:  # a person should explain it: not a loan by guesswork
                return self._handoff("review_not_understood", event.at)
            return self._review_screen("review.check_wrong")
        if isinstance(event, ev.BorrowAgreed) and d.review_understood:
            return self._enter(State.CONFIRMATION, event.at)
        return None

    def _review_screen(self, message: str | None) -> list[fx.Effect]:
        d = self.data
        params = {"offer_id": d.chosen_offer_id, "name": d.document.fields.name if d.document else "",
                  "choices": review_choices(d.chosen_offer, d.session_id), "understood": d.review_understood}
        return [fx.ShowScreen(State.REVIEW.value, message, params)]  # spoken with its figures (kiosk.spoken)

    def _in_confirmation(self, event: ev.Event) -> list[fx.Effect] | None:
        d = self.data
        if isinstance(event, ev.Withdraw) and d.application_ref is not None and d.application_queued:
            return [fx.WithdrawApplication(d.application_key)]
        if isinstance(event, ev.ApplicationWithdrawn):
            if event.outcome == "withdrawn":
                return self._end("withdrawn", event.at)
            if event.outcome != "already_sent":
                return self._handoff("withdraw_failed", event.at)
            d.application_queued = False  # it went to the lender meanwhile: say so, nothing to take back here
            return [fx.ShowScreen(State.CONFIRMATION.value, "confirmation.already_sent",
                                  {"reference": d.application_ref})]
        if isinstance(event, ev.ApplicationRecorded) and self.data.application_ref is None:
            self.data.application_ref = event.reference
            self.data.application_queued = event.queued
            message = "confirmation.queued" if event.queued else "confirmation.sent"
            return [
                fx.ShowScreen(State.CONFIRMATION.value, message, {"reference": event.reference}),
                fx.PrintReceipt(event.reference, event.queued),
            ]
        if isinstance(event, ev.ApplicationFailed) and self.data.application_ref is None:
            return self._handoff(f"application_{event.code}", event.at)
        if isinstance(event, ev.Finish) and self.data.application_ref is not None:
            return self._end("completed", event.at)
        return None

    def _in_end(self, event: ev.Event) -> list[fx.Effect] | None:
        if isinstance(event, (ev.StartPressed, ev.Finish)):
            return self._enter(State.ATTRACT, event.at)
        return None

    def _in_handoff(self, event: ev.Event) -> list[fx.Effect] | None:
        if isinstance(event, ev.HandoffResolved):
            return self._end("handed_off", event.at)
        return None

    def _in_error(self, event: ev.Event) -> list[fx.Effect] | None:
        if isinstance(event, ev.Retry) and self.data.error is not None:
            if self.data.error_retries >= MAX_ERROR_RETRIES:
                return self._handoff(f"error_{self.data.error.code}", event.at)
            self.data.error_retries += 1
            resume = State(self.data.error.resume_state)
            self.data.error = None
            return self._enter(resume, event.at)
        return None

    # ---- shared moves -----------------------------------------------------------------------------

    def _enter(
        self, state: State, at: float, message: str | None = None, params: dict | None = None
    ) -> list[fx.Effect]:
        self.state = state
        self.last_activity = at
        d = self.data
        show = fx.ShowScreen(state.value, message, params or {})
        if state is State.ATTRACT:
            self.data = SessionData(session_id="", started_at=at)
            return [show]
        if state is State.CONSENT:
            return [show, fx.Speak("consent.read")]
        if state is State.ID_CAPTURE:
            return [show, fx.StartIdCapture(d.id_attempts + 1)]
        if state is State.LIVE_CAPTURE:
            challenges = self._new_challenges(self.limits.challenges)
            return [show, fx.StartLiveCapture(d.face_attempts + 1, challenges)]
        if state is State.MATCH:
            return [show, fx.StopCapture(), fx.RunMatch()]
        if state is State.CONFIRM_IDENTITY and d.document is not None:
            # Name and masked number only: enough for the customer to recognise their own card.
            name = d.document.fields.name or ""
            return [fx.ShowScreen(state.value, message, {"name": name, "number": d.document.masked_number})]
        if state is State.SCORING:
            return [show, fx.RequestScore(d.scoring_attempts + 1)]
        if state is State.REVIEW:
            return self._review_screen(message)
        if state is State.CONFIRMATION:
            return [show, fx.SubmitApplication(d.chosen_offer_id or "", d.application_key)]
        return [show]

    def _face_failed(self, at: float, reason: str, reasons: tuple[str, ...] = ()) -> list[fx.Effect]:
        self.data.face_attempts += 1
        if self.data.face_attempts >= self.limits.face_attempts:
            return self._handoff(reason, at)
        for frame in self.data.biometrics.live_samples:
            frame.wipe()
        self.data.biometrics.live_samples.clear()
        return self._enter(State.LIVE_CAPTURE, at, f"face.{reason}", {"reasons": list(reasons)})

    def _scoring_failed(self, at: float, code: str) -> list[fx.Effect]:
        self.data.scoring_attempts += 1
        if self.data.scoring_attempts >= self.limits.scoring_attempts:
            return self._handoff(f"scoring_{code}", at)
        return self._enter(State.SCORING, at, "scoring.retrying",
                           {"code": code, "attempt": self.data.scoring_attempts + 1, "of": self.limits.scoring_attempts})

    def _error(self, code: str, at: float, detail: str = "") -> list[fx.Effect]:
        previous = self.state
        if previous is State.ERROR and self.data.error is not None:
            resume = self.data.error.resume_state
        else:
            # A match restarts from the live capture that feeds it; every other state from its own entry.
            resume = (State.LIVE_CAPTURE if previous is State.MATCH else previous).value
        self.data.error = ErrorInfo(code=code, resume_state=resume, detail=detail)
        self.state = State.ERROR
        self.last_activity = at
        return [fx.StopCapture(), fx.ShowScreen(State.ERROR.value, f"error.{code}", {"detail": detail})]

    def _handoff(self, reason: str, at: float) -> list[fx.Effect]:
        d = self.data
        d.handoff = HandoffSummary(
            code=self._new_code(),
            reason=reason,
            last_state=self.state.value,
            language=d.language,
            id_attempts=d.id_attempts,
            face_attempts=d.face_attempts,
            match_decision=d.match.matched if d.match else None,
        )
        # The shopkeeper checks the card by hand from here: nothing read or seen by the kiosk is kept.
        d.forget_personal_data()
        self.state = State.HANDOFF
        self.last_activity = at
        return [
            fx.StopCapture(),
            fx.WipeBiometrics(),
            fx.ShowScreen(State.HANDOFF.value, f"handoff.{reason}", {"code": d.handoff.code}),
            fx.Speak(f"handoff.{reason}"),
            fx.NotifyShopkeeper(d.handoff),
        ]

    def _end(self, reason: str, at: float) -> list[fx.Effect]:
        d = self.data
        d.end_reason = reason
        d.forget_personal_data()
        summary = self.session_summary(at)
        self.ended_sessions.append(summary)
        self.state = State.END
        self.last_activity = at
        return [
            fx.StopCapture(),
            fx.WipeBiometrics(),
            fx.SessionEnded(reason, summary),
            fx.ShowScreen(State.END.value, f"end.{reason}"),
        ]

    def session_summary(self, at: float) -> dict:
        """Codes, counts and timings only: safe for logs and diagnostics bundles."""
        d = self.data
        return {
            "session": d.session_id[:8],
            "language": d.language,
            "duration_s": round(max(0.0, at - d.started_at), 1),
            "end_reason": d.end_reason,
            "id_attempts": d.id_attempts,
            "face_attempts": d.face_attempts,
            "scoring_attempts": d.scoring_attempts,
            "consent": d.consent is not None,
            "match": None if d.match is None else d.match.matched,
            "handoff_reason": d.handoff.reason if d.handoff else None,
            "error": d.error.code if d.error else None,
            "application_queued": d.application_queued if d.application_ref else None,
        }

    def _log(self, t: Transition) -> None:
        if t.ignored:
            log.debug("event ignored", extra={"state": t.state.value, "trigger": t.event})
            return
        log.info(
            "transition",
            extra={
                "session": self.data.session_id[:8],
                "from_state": t.previous.value,
                "to_state": t.state.value,
                "trigger": t.event,
                "effects": [type(e).__name__ for e in t.effects],
            },
        )
