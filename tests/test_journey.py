"""Every journey transition, timeout, retry limit, cancel path and handoff."""

from __future__ import annotations

import logging

import pytest

from kiosk.i18n import consent_version
from kiosk.journey import effects as fx
from kiosk.journey import events as ev
from kiosk.journey.session import CreditEstimate, LivenessSummary
from kiosk.journey.states import CUSTOMER_STATES, DEFAULT_TIMEOUTS_S, State
from tests.journey_helpers import (
    CHALLENGES,
    FORWARD,
    OFFER,
    details,
    id_ok,
    live_ok,
    new_journey,
    sample,
    score,
    walk,
    walk_to,
)


def effect_types(transition) -> list[type]:
    return [type(e) for e in transition.effects]


def test_forward_path_visits_every_main_state_in_order_and_ends_wiped():
    j = new_journey()
    seen = [j.state]
    for state, event in FORWARD:
        if state is State.REVIEW:
            j.handle(ev.PaymentPicked(monthly=OFFER.monthly_payment))
        j.handle(event)
        seen.append(j.state)
    t = j.handle(ev.Finish())
    seen.append(j.state)
    assert seen == [
        State.ATTRACT, State.LANGUAGE, State.CONSENT, State.ID_CAPTURE, State.LIVE_CAPTURE, State.MATCH,
        State.CONFIRM_IDENTITY, State.DETAILS, State.SCORING, State.OFFERS, State.REVIEW, State.CONFIRMATION,
        State.CONFIRMATION, State.END,
    ]
    assert fx.WipeBiometrics in effect_types(t)
    assert j.data.biometrics.is_empty
    assert j.data.details is None
    assert j.ended_sessions[-1]["end_reason"] == "completed"


@pytest.mark.parametrize(
    ("state", "expected_effect"),
    [
        (State.CONSENT, fx.Speak),
        (State.ID_CAPTURE, fx.StartIdCapture),
        (State.LIVE_CAPTURE, fx.StartLiveCapture),
        (State.MATCH, fx.RunMatch),
        (State.SCORING, fx.RequestScore),
        (State.CONFIRMATION, fx.SubmitApplication),
    ],
)
def test_entering_a_state_asks_the_runner_for_its_work(state, expected_effect):
    _, last = walk(state)
    assert last is not None and last.state is state
    assert expected_effect in effect_types(last)
    assert any(isinstance(e, fx.ShowScreen) and e.screen == state.value for e in last.effects)


def test_consent_is_recorded_with_language_and_version():
    j = walk_to(State.CONSENT)
    t = j.handle(ev.ConsentGiven(at=5.0, agreed=True))
    assert j.state is State.ID_CAPTURE
    assert fx.RecordConsent(consent_version("en"), "en") in t.effects
    assert j.data.consent.at == 5.0


def test_the_consent_version_is_a_hash_of_the_consent_text(monkeypatch):
    from kiosk import i18n

    en, zh = consent_version("en"), consent_version("zh")
    assert en.startswith("consent-en-") and zh.startswith("consent-zh-") and en[-12:] != zh[-12:]
    changed = {**i18n.catalog("en"), "consent": {**i18n.catalog("en")["consent"], "body": "We keep your photo."}}
    monkeypatch.setattr(i18n, "catalog", lambda lang: changed if lang == "en" else {})
    assert consent_version("en") != en


def test_declining_consent_ends_the_session():
    j = walk_to(State.CONSENT)
    j.handle(ev.ConsentGiven(agreed=False))
    assert j.state is State.END
    assert j.ended_sessions[-1]["end_reason"] == "consent_declined"


def test_unsupported_language_is_ignored():
    j = walk_to(State.LANGUAGE)
    t = j.handle(ev.LanguageChosen(language="fr"))
    assert t.ignored and j.state is State.LANGUAGE


def test_id_capture_retries_then_hands_off_after_the_limit():
    j = walk_to(State.ID_CAPTURE)
    t1 = j.handle(ev.IdCaptureResult(ok=False, reasons=("too_dark",)))
    assert j.state is State.ID_CAPTURE and fx.StartIdCapture(2) in t1.effects
    assert t1.effects[0].params == {"reasons": ["too_dark"]}
    j.handle(ev.IdCaptureResult(ok=False, reasons=("glare",)))
    assert j.state is State.ID_CAPTURE
    t3 = j.handle(ev.IdCaptureResult(ok=False, reasons=("glare",)))
    assert j.state is State.HANDOFF
    assert j.data.handoff.reason == "id_capture_failed" and j.data.handoff.id_attempts == 3
    assert fx.NotifyShopkeeper in effect_types(t3)


def test_rejected_id_sample_is_wiped_not_kept():
    j = walk_to(State.ID_CAPTURE)
    bad = sample("id_portrait")
    j.handle(ev.IdCaptureResult(ok=False, portrait=bad, reasons=("blur",)))
    assert bad.is_wiped and j.data.biometrics.id_portrait is None


def test_failed_liveness_counts_as_a_face_attempt_and_limits_apply():
    j = walk_to(State.LIVE_CAPTURE)
    for attempt in (1, 2):
        frame = sample()
        t = j.handle(ev.LiveCaptureResult(ok=False, frames=(frame,), liveness=LivenessSummary(0.1, 0, 2), reasons=("spoof",)))
        assert j.state is State.LIVE_CAPTURE and j.data.face_attempts == attempt
        assert fx.StartLiveCapture(attempt + 1, CHALLENGES) in t.effects and frame.is_wiped
    j.handle(ev.LiveCaptureResult(ok=False, liveness=LivenessSummary(0.1, 0, 2)))
    assert j.state is State.HANDOFF and j.data.handoff.reason == "live_capture_failed"


def test_face_mismatch_returns_to_live_capture_then_hands_off():
    j = walk_to(State.MATCH)
    j.handle(ev.MatchResult(matched=False, score=0.1, threshold=0.43))
    assert j.state is State.LIVE_CAPTURE and j.data.face_attempts == 1
    assert j.data.biometrics.live_samples == [] and j.data.biometrics.id_portrait is not None
    j.handle(live_ok())
    j.handle(ev.MatchResult(matched=False, score=0.1, threshold=0.43))
    j.handle(live_ok())
    t = j.handle(ev.MatchResult(matched=False, score=0.1, threshold=0.43))
    assert j.state is State.HANDOFF
    summary = j.data.handoff
    assert summary.reason == "face_mismatch" and summary.face_attempts == 3 and summary.match_decision is False
    assert j.data.biometrics.is_empty and fx.WipeBiometrics in effect_types(t)


def test_face_attempt_limit_is_configurable():
    j = walk_to(State.MATCH, new_journey(face_attempts=1))
    j.handle(ev.MatchResult(matched=False, score=0.1, threshold=0.43))
    assert j.state is State.HANDOFF


def test_scoring_failure_retries_then_hands_off():
    j = walk_to(State.SCORING)
    t = j.handle(ev.ScoringFailed(code="network_down"))
    assert j.state is State.SCORING and fx.RequestScore(2) in t.effects
    j.handle(ev.ScoringFailed(code="network_down"))
    j.handle(ev.ScoringFailed(code="network_down"))
    assert j.state is State.HANDOFF and j.data.handoff.reason == "scoring_network_down"


def test_offer_must_be_one_that_was_offered_and_choosing_is_not_applying():
    j = walk_to(State.OFFERS)
    assert j.handle(ev.OfferChosen(offer_id="not-offered")).ignored
    t = j.handle(ev.OfferChosen(offer_id="offer-a"))
    assert j.state is State.REVIEW and fx.SubmitApplication not in effect_types(t)


def test_the_review_asks_for_the_monthly_payment_before_i_agree_unlocks_the_application():
    j = walk_to(State.REVIEW)
    shown = j.handle(ev.Back())  # back to the offers, nothing applied for
    assert j.state is State.OFFERS and j.data.chosen_offer_id is None and shown.effects[0].screen == "offers"
    t = j.handle(ev.OfferChosen(offer_id="offer-a"))
    params = t.effects[0].params
    assert sorted(params["choices"]) == sorted([OFFER.monthly_payment, round(OFFER.amount / 12, 2),
                                                OFFER.total_repayable])
    assert params["name"] and params["understood"] is False
    assert j.handle(ev.BorrowAgreed()).ignored  # not before the check
    wrong = j.handle(ev.PaymentPicked(monthly=OFFER.total_repayable))  # the total taken for the monthly
    assert wrong.effects[0].message == "review.check_wrong" and j.state is State.REVIEW
    right = j.handle(ev.PaymentPicked(monthly=OFFER.monthly_payment))
    assert right.effects[0].message == "review.understood" and right.effects[0].params["understood"] is True
    t = j.handle(ev.BorrowAgreed())
    assert j.state is State.CONFIRMATION
    submit = next(e for e in t.effects if isinstance(e, fx.SubmitApplication))
    assert submit.offer_id == "offer-a"


def test_three_wrong_picks_bring_the_shopkeeper_to_explain_and_no_application_is_made():
    j = walk_to(State.REVIEW)
    for _ in range(3):
        t = j.handle(ev.PaymentPicked(monthly=1.0))
    assert j.state is State.HANDOFF and j.data.handoff.reason == "review_not_understood"
    assert fx.SubmitApplication not in effect_types(t)


def test_an_application_still_in_the_outbox_can_be_withdrawn_or_cancelled_but_a_sent_one_cannot():
    j = walk_to(State.CONFIRMATION)
    j.handle(ev.ApplicationRecorded(reference="APP-9", queued=True))
    for ask in (ev.Withdraw(), ev.Cancel()):  # either takes it back while the lender does not have it
        t = j.handle(ask)
        assert t.effects == (fx.WithdrawApplication(f"{j.data.session_id}:offer-a"),) and j.state is State.CONFIRMATION
    t = j.handle(ev.ApplicationWithdrawn(outcome="withdrawn"))
    assert j.state is State.END and j.ended_sessions[-1]["end_reason"] == "withdrawn"
    assert t.effects[-1].message == "end.withdrawn"
    j = walk_to(State.CONFIRMATION)
    j.handle(ev.ApplicationRecorded(reference="APP-9", queued=True))
    j.handle(ev.Withdraw())
    t = j.handle(ev.ApplicationWithdrawn(outcome="already_sent"))  # the drainer sent it meanwhile
    assert j.state is State.CONFIRMATION and t.effects[0].message == "confirmation.already_sent"
    assert j.handle(ev.Withdraw()).ignored  # sent: nothing to take back here
    j.handle(ev.Cancel())
    assert j.state is State.END and j.ended_sessions[-1]["end_reason"] == "cancelled"


def test_confirmation_prints_receipt_once_and_queued_is_told_plainly():
    j = walk_to(State.CONFIRMATION)
    assert j.handle(ev.Finish()).ignored  # cannot finish before the application is recorded
    t = j.handle(ev.ApplicationRecorded(reference="APP-9", queued=True))
    assert fx.PrintReceipt("APP-9", True) in t.effects
    assert t.effects[0].message == "confirmation.queued"
    assert j.handle(ev.ApplicationRecorded(reference="APP-10", queued=False)).ignored
    j.handle(ev.Finish())
    assert j.state is State.END and j.ended_sessions[-1]["application_queued"] is True


def test_submit_application_carries_a_stable_idempotency_key():
    j, t = walk(State.CONFIRMATION)
    submit = next(e for e in t.effects if isinstance(e, fx.SubmitApplication))
    assert submit.idempotency_key == f"{j.data.session_id}:offer-a"


@pytest.mark.parametrize("state", sorted(CUSTOMER_STATES - {State.ERROR}, key=lambda s: s.value))
def test_cancel_from_every_customer_state_ends_and_wipes(state):
    j = walk_to(state)
    t = j.handle(ev.Cancel())
    assert j.state is State.END and j.data.biometrics.is_empty
    assert fx.WipeBiometrics in effect_types(t)
    assert j.ended_sessions[-1]["end_reason"] == "cancelled"


@pytest.mark.parametrize("state", sorted(CUSTOMER_STATES - {State.ERROR}, key=lambda s: s.value))
def test_call_shopkeeper_from_every_customer_state(state):
    j = walk_to(state)
    j.handle(ev.CallShopkeeper())
    assert j.state is State.HANDOFF
    assert j.data.handoff.reason == "customer_asked" and j.data.handoff.code == "123456"
    assert j.data.biometrics.is_empty


def test_handoff_summary_holds_no_biometrics_or_identity():
    j = walk_to(State.SCORING)
    j.handle(ev.CallShopkeeper())
    fields = vars(j.data.handoff)
    assert set(fields) == {
        "code", "reason", "last_state", "language", "id_attempts", "face_attempts", "match_decision"
    }
    assert all(isinstance(v, (str, int, bool, type(None))) for v in fields.values())


def test_handoff_resolves_or_times_out_to_end():
    j = walk_to(State.DETAILS)
    j.handle(ev.CallShopkeeper())
    j.handle(ev.HandoffResolved())
    assert j.state is State.END and j.ended_sessions[-1]["end_reason"] == "handed_off"
    j2 = walk_to(State.DETAILS)
    j2.handle(ev.CallShopkeeper(at=10.0))
    j2.handle(ev.Tick(at=10.0 + DEFAULT_TIMEOUTS_S[State.HANDOFF]))
    assert j2.state is State.END and j2.ended_sessions[-1]["end_reason"] == "handoff_timeout"


@pytest.mark.parametrize(
    "state",
    [State.LANGUAGE, State.CONSENT, State.ID_CAPTURE, State.LIVE_CAPTURE, State.DETAILS, State.OFFERS,
     State.CONFIRMATION],
)
def test_idle_timeout_in_customer_states_ends_and_wipes(state):
    j = walk_to(state)
    limit = DEFAULT_TIMEOUTS_S[state]
    assert j.handle(ev.Tick(at=limit - 31)).ignored
    # Issue 16 item 5: the session ended with no warning. Now "are you still there?" 30 s before, once.
    warned = j.handle(ev.Tick(at=limit - 29.5))
    assert warned.effects == (fx.WarnIdle(30),) and j.warning_until == limit
    assert j.handle(ev.Tick(at=limit - 0.5)).ignored
    assert j.state is state
    t = j.handle(ev.Tick(at=limit))
    assert j.state is State.END and fx.WipeBiometrics in effect_types(t)
    assert j.ended_sessions[-1]["end_reason"] == "idle_timeout"


def test_activity_resets_the_idle_timer():
    j = walk_to(State.DETAILS)
    limit = DEFAULT_TIMEOUTS_S[State.DETAILS]
    j.handle(ev.QuestionAnswered(at=limit - 1, intent="interest_rate", confidence=0.9))
    j.handle(ev.Tick(at=limit + 1))
    assert j.state is State.DETAILS


def test_a_touch_during_the_idle_warning_clears_it_and_the_next_wait_is_warned_again():
    j = walk_to(State.DETAILS)
    limit = DEFAULT_TIMEOUTS_S[State.DETAILS]
    j.handle(ev.Tick(at=limit - 20))
    assert j.warning_until == limit
    j.handle(ev.Touched(at=limit - 10))
    assert j.warning_until is None
    assert j.handle(ev.Tick(at=limit + 1)).ignored and j.state is State.DETAILS  # the clock restarted
    again = j.handle(ev.Tick(at=2 * limit - 40))
    assert again.effects == (fx.WarnIdle(30),) and j.state is State.DETAILS


@pytest.mark.parametrize("state", [State.MATCH, State.SCORING])
def test_stages_that_fail_over_when_they_run_out_give_no_idle_warning(state):
    j = walk_to(state)
    assert j.handle(ev.Tick(at=DEFAULT_TIMEOUTS_S[state] - 1)).ignored and j.warning_until is None


def test_match_timeout_is_a_failed_face_attempt():
    j = walk_to(State.MATCH)
    j.handle(ev.Tick(at=DEFAULT_TIMEOUTS_S[State.MATCH]))
    assert j.state is State.LIVE_CAPTURE and j.data.face_attempts == 1


def test_scoring_timeout_is_a_failed_scoring_attempt():
    j = walk_to(State.SCORING)
    j.handle(ev.Tick(at=DEFAULT_TIMEOUTS_S[State.SCORING]))
    assert j.state is State.SCORING and j.data.scoring_attempts == 1


def test_attract_timeout_only_refreshes_and_end_timeout_returns_to_attract():
    j = new_journey()
    t = j.handle(ev.Tick(at=DEFAULT_TIMEOUTS_S[State.ATTRACT]))
    assert j.state is State.ATTRACT and not t.ignored
    j = walk_to(State.LANGUAGE)
    j.handle(ev.Cancel(at=1.0))
    j.handle(ev.Tick(at=1.0 + DEFAULT_TIMEOUTS_S[State.END]))
    assert j.state is State.ATTRACT and j.data.session_id == ""


def test_configured_timeouts_override_defaults():
    j = walk_to(State.LANGUAGE, new_journey(timeouts_s={State.LANGUAGE: 5.0}))
    j.handle(ev.Tick(at=5.0))
    assert j.state is State.END


def test_end_returns_to_attract_on_touch_and_a_new_session_gets_a_new_id():
    j = walk_to(State.LANGUAGE)
    first = j.data.session_id
    j.handle(ev.Cancel())
    j.handle(ev.StartPressed())
    assert j.state is State.ATTRACT
    j.handle(ev.StartPressed())
    assert j.state is State.LANGUAGE and j.data.session_id != first
    assert j.data.face_attempts == 0 and j.data.consent is None


def test_device_failure_shows_error_and_retry_resumes_the_capture():
    j = walk_to(State.LIVE_CAPTURE)
    t = j.handle(ev.DeviceFailed(device="camera", code="disconnected"))
    assert j.state is State.ERROR and j.data.error.code == "camera_disconnected"
    assert t.effects[-1].message == "error.camera_disconnected"
    t = j.handle(ev.Retry())
    assert j.state is State.LIVE_CAPTURE and fx.StartLiveCapture in effect_types(t)


def test_error_during_match_resumes_at_live_capture():
    j = walk_to(State.MATCH)
    j.handle(ev.StageUnavailable(stage="face_match"))
    assert j.state is State.ERROR and j.data.error.resume_state == "live_capture"
    assert j.data.error.detail == "face_match"


def test_repeated_errors_go_to_the_shopkeeper():
    j = walk_to(State.ID_CAPTURE)
    for _ in range(2):
        j.handle(ev.DeviceFailed(device="camera", code="missing"))
        j.handle(ev.Retry())
        assert j.state is State.ID_CAPTURE
    j.handle(ev.DeviceFailed(device="camera", code="missing"))
    j.handle(ev.Retry())
    assert j.state is State.HANDOFF and j.data.handoff.reason == "error_camera_missing"


def test_error_screen_cancel_and_timeout_end_the_session():
    j = walk_to(State.ID_CAPTURE)
    j.handle(ev.DeviceFailed(at=1.0, device="camera", code="missing"))
    j.handle(ev.Cancel(at=2.0))
    assert j.state is State.END
    j = walk_to(State.ID_CAPTURE)
    j.handle(ev.DeviceFailed(at=1.0, device="camera", code="missing"))
    j.handle(ev.Tick(at=1.0 + DEFAULT_TIMEOUTS_S[State.ERROR]))
    assert j.state is State.END and j.ended_sessions[-1]["error"] == "camera_missing"


def test_device_failure_in_attract_shows_error_and_is_ignored_in_end_and_handoff():
    j = new_journey()
    j.handle(ev.DeviceFailed(device="camera", code="missing"))
    assert j.state is State.ERROR and j.data.error.resume_state == "attract"
    j.handle(ev.Retry())
    assert j.state is State.ATTRACT
    j = walk_to(State.DETAILS)
    j.handle(ev.CallShopkeeper())
    assert j.handle(ev.DeviceFailed(device="printer", code="missing")).ignored
    j.handle(ev.HandoffResolved())
    assert j.handle(ev.DeviceFailed(device="camera", code="missing")).ignored


def test_questions_are_answered_in_any_customer_state_without_moving():
    j = walk_to(State.OFFERS)
    t = j.handle(ev.QuestionAnswered(intent="scam_upfront_fee", confidence=0.8))
    assert j.state is State.OFFERS and t.effects == (fx.ShowAnswer("scam_upfront_fee"),)
    t = j.handle(ev.QuestionAnswered(intent=None, confidence=0.1))
    assert t.effects == (fx.ShowAnswer(None),)
    assert new_journey().handle(ev.QuestionAnswered(intent="limit", confidence=1.0)).ignored


def test_results_arriving_in_the_wrong_state_are_ignored():
    j = walk_to(State.DETAILS)
    for stray in (id_ok(), live_ok(), ev.MatchResult(matched=True, score=1, threshold=0), score(), details()):
        if isinstance(stray, ev.DetailsSubmitted):
            continue
        assert j.handle(stray).ignored
        assert j.state is State.DETAILS


def test_transitions_are_logged_without_personal_data(caplog):
    caplog.set_level(logging.INFO, logger="kiosk.journey")
    j = walk_to(State.SCORING)
    assert any(r.msg == "transition" and r.to_state == "scoring" for r in caplog.records)
    assert "110101199003074518" not in caplog.text
    assert all(not hasattr(r, "details") for r in caplog.records)
    assert j.state is State.SCORING


def test_session_summary_is_codes_and_counts():
    j = walk_to(State.MATCH)
    j.handle(ev.MatchResult(matched=False, score=0.2, threshold=0.43))
    j.handle(ev.Cancel(at=30.0))
    summary = j.ended_sessions[-1]
    assert summary["face_attempts"] == 1 and summary["match"] is False and summary["consent"] is True
    assert all(isinstance(v, (str, int, float, bool, type(None))) for v in summary.values())


# ---- identity binding: the card read is the identity scored -------------------------------------------------

@pytest.mark.parametrize("reason", ["id_expired", "chip_print_mismatch", "id_birth_date_invalid", "id_region_invalid"])
def test_a_card_no_retry_can_fix_goes_to_the_shopkeeper_at_once_with_its_reason(reason):
    j = walk_to(State.ID_CAPTURE)
    t = j.handle(ev.IdCaptureResult(ok=False, reasons=(reason,)))
    assert j.state is State.HANDOFF and j.data.handoff.reason == reason and j.data.id_attempts == 0
    show = next(e for e in t.effects if isinstance(e, fx.ShowScreen))
    assert show.message == f"handoff.{reason}" and fx.Speak(f"handoff.{reason}") in t.effects


def test_a_misread_card_is_retried_with_its_hint_spoken():
    j = walk_to(State.ID_CAPTURE)
    t = j.handle(ev.IdCaptureResult(ok=False, reasons=("id_check_digit",)))
    assert j.state is State.ID_CAPTURE and fx.Speak("hint.id_retry", {"reasons": ["id_check_digit"]}) in t.effects


def test_an_id_result_without_a_document_is_not_accepted():
    j = walk_to(State.ID_CAPTURE)
    j.handle(ev.IdCaptureResult(ok=True, portrait=sample("id_portrait")))
    assert j.state is State.ID_CAPTURE and j.data.document is None


def test_the_customer_confirms_the_name_and_masked_number_before_any_details():
    j, t = walk(State.CONFIRM_IDENTITY)
    show = next(e for e in t.effects if isinstance(e, fx.ShowScreen))
    assert show.params == {"name": "王芳", "number": "110102********970X"}
    j.handle(details())  # details before confirming: ignored
    assert j.state is State.CONFIRM_IDENTITY and j.data.details is None
    j.handle(ev.IdentityConfirmed(agreed=False))
    assert j.state is State.HANDOFF and j.data.handoff.reason == "identity_not_confirmed"
    assert j.data.document is None and j.data.biometrics.is_empty


def test_a_refusal_from_the_service_is_final_and_a_review_goes_to_the_shopkeeper():
    j = walk_to(State.SCORING)
    j.handle(ev.ScoringFailed(code="id_check_digit", final=True))
    assert j.state is State.HANDOFF and j.data.handoff.reason == "scoring_id_check_digit"
    j = walk_to(State.SCORING)
    from kiosk.journey.session import CreditEstimate

    j.handle(ev.ScoreReceived(estimate=CreditEstimate(0, "CNY", "R", decision="review")))
    assert j.state is State.HANDOFF and j.data.handoff.reason == "held_for_review"


def test_the_document_is_forgotten_when_the_session_ends():
    j = walk_to(State.DETAILS)
    assert j.data.document is not None
    j.handle(ev.Cancel())
    assert j.data.document is None and j.data.details is None


def test_typing_restarts_the_idle_clock_and_a_missing_field_is_said_at_once():
    j = walk_to(State.DETAILS)
    limit = DEFAULT_TIMEOUTS_S[State.DETAILS]
    j.handle(ev.Touched(at=limit - 1))
    assert j.handle(ev.Tick(at=limit + 1)).ignored and j.state is State.DETAILS  # still typing: not ended
    t = j.handle(ev.DetailsInvalid(at=limit + 2, problem="amount_missing"))
    assert j.state is State.DETAILS and t.effects[0].message == "details.amount_missing"


def test_the_non_face_route_from_consent_goes_to_the_shopkeeper_with_nothing_captured():
    j = walk_to(State.CONSENT)
    t = j.handle(ev.ManualCheckChosen())
    assert j.state is State.HANDOFF and j.data.handoff.reason == "manual_id_check" and j.data.consent is None
    assert fx.StartIdCapture not in effect_types(t) and fx.NotifyShopkeeper in effect_types(t)
    assert fx.Speak("handoff.manual_id_check") in t.effects


def test_a_declined_customer_ends_with_done_and_one_who_has_offers_cannot():
    j = walk_to(State.SCORING)
    j.handle(ev.ScoreReceived(at=1.0, estimate=CreditEstimate(0, "CNY", "E", decision="declined")))
    assert j.state is State.OFFERS
    t = j.handle(ev.Finish(at=2.0))
    assert j.state is State.END and fx.WipeBiometrics in effect_types(t)
    assert j.ended_sessions[-1]["end_reason"] == "declined"
    offered = walk_to(State.OFFERS)
    assert offered.handle(ev.Finish(at=2.0)).ignored and offered.state is State.OFFERS
