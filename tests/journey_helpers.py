"""Builders shared by the journey tests: events carrying real numpy buffers, and a walk to each state."""

from __future__ import annotations

from datetime import date

import numpy as np

from contract.id_number import REQUIRED_CHECKS
from hardware.id_card import IdCardFields
from kiosk.journey import events as ev
from kiosk.journey.machine import Journey, JourneyLimits, Transition
from kiosk.journey.session import (
    ApplicantDetails,
    BiometricSample,
    CreditEstimate,
    IdentityDocument,
    LivenessSummary,
    OfferSummary,
)
from kiosk.journey.states import State

CHALLENGES = ("turn_left", "blink")
OFFER = OfferSummary("offer-a", 5000.0, 12, 0.18, 458.40, 5500.80)


def sample(kind: str = "live_frame", value: int = 200) -> BiometricSample:
    return BiometricSample(kind, np.full((8, 8, 3), value, dtype=np.uint8))


CARD = IdCardFields(id_number="11010219840406970X", name="王芳", sex="F", ethnicity="汉",
                    birth_date=date(1984, 4, 6), valid_until=date(2036, 1, 1))
DOCUMENT = IdentityDocument("ocr", CARD, REQUIRED_CHECKS)


def id_ok(at: float = 0.0) -> ev.IdCaptureResult:
    return ev.IdCaptureResult(at=at, ok=True, portrait=sample("id_portrait"), document=DOCUMENT)


def live_ok(at: float = 0.0) -> ev.LiveCaptureResult:
    return ev.LiveCaptureResult(at=at, ok=True, frames=(sample(), sample()), liveness=LivenessSummary(0.97, 2, 2))


def details(at: float = 0.0) -> ev.DetailsSubmitted:
    return ev.DetailsSubmitted(at=at, details=ApplicantDetails(monthly_income=6000, requested_amount=5000,
                                                                 term_months=12))


def score(at: float = 0.0) -> ev.ScoreReceived:
    return ev.ScoreReceived(at=at, estimate=CreditEstimate(8000, "CNY", "B"), offers=(OFFER,))


# The forward path, one event per state, in journey order.
FORWARD: list[tuple[State, ev.Event]] = [
    (State.ATTRACT, ev.StartPressed()),
    (State.LANGUAGE, ev.LanguageChosen(language="en")),
    (State.CONSENT, ev.ConsentGiven(agreed=True)),
    (State.ID_CAPTURE, id_ok()),
    (State.LIVE_CAPTURE, live_ok()),
    (State.MATCH, ev.MatchResult(matched=True, score=0.71, threshold=0.43)),
    (State.CONFIRM_IDENTITY, ev.IdentityConfirmed(agreed=True)),
    (State.DETAILS, details()),
    (State.SCORING, score()),
    (State.OFFERS, ev.OfferChosen(offer_id="offer-a")),
    (State.REVIEW, ev.BorrowAgreed()),  # after the right monthly payment is picked (forward_event)
    (State.CONFIRMATION, ev.ApplicationRecorded(reference="APP-1", queued=False)),
]


def new_journey(**limits) -> Journey:
    counter = iter(range(1, 10_000))
    return Journey(
        JourneyLimits(**limits),
        session_id_factory=lambda: f"{next(counter):032x}",
        handoff_code_factory=lambda: "123456",
        challenge_factory=lambda n: CHALLENGES[:n],
    )


def walk(state: State, journey: Journey | None = None) -> tuple[Journey, Transition | None]:
    """A journey advanced along the forward path until it is in ``state``, and the transition into it."""
    journey = journey or new_journey()
    last = None
    for current, _ in FORWARD:
        if journey.state is state:
            break
        assert journey.state is current, (journey.state, current)
        while journey.state is current:  # a state may take more than one step (the review's check, then agree)
            last = journey.handle(forward_event(journey))
    assert journey.state is state
    return journey, last


def walk_to(state: State, journey: Journey | None = None) -> Journey:
    return walk(state, journey)[0]


def forward_event(journey: Journey) -> ev.Event:
    """The event a cooperative customer (and working stages) would produce now."""
    state = journey.state
    if state is State.CONFIRMATION and journey.data.application_ref:
        return ev.Finish()
    if state is State.REVIEW and not journey.data.review_understood:
        return ev.PaymentPicked(monthly=OFFER.monthly_payment)
    for current, event in FORWARD:
        if current is state:
            if isinstance(event, ev.IdCaptureResult):
                return id_ok()
            if isinstance(event, ev.LiveCaptureResult):
                return live_ok()
            return event
    return ev.Finish() if state is State.END else ev.Retry()
