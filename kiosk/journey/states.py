"""Journey states and their default idle timeouts."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    ATTRACT = "attract"
    LANGUAGE = "language"
    CONSENT = "consent"
    ID_CAPTURE = "id_capture"
    LIVE_CAPTURE = "live_capture"
    MATCH = "match"
    CONFIRM_IDENTITY = "confirm_identity"
    DETAILS = "details"
    SCORING = "scoring"
    OFFERS = "offers"
    REVIEW = "review"  # the chosen offer's full costs, a comprehension check, and "I agree to borrow"
    CONFIRMATION = "confirmation"
    END = "end"
    HANDOFF = "handoff"
    ERROR = "error"


# States in which a customer session exists (biometrics may be held, the idle timer ends the session).
CUSTOMER_STATES = frozenset(
    {
        State.LANGUAGE,
        State.CONSENT,
        State.ID_CAPTURE,
        State.LIVE_CAPTURE,
        State.MATCH,
        State.CONFIRM_IDENTITY,
        State.DETAILS,
        State.SCORING,
        State.OFFERS,
        State.REVIEW,
        State.CONFIRMATION,
        State.ERROR,
    }
)

# States where an idle customer is warned, with a countdown, before the session ends (MATCH and SCORING do not
# end a session when they run out: they fail over to a retry).
WARNED_STATES = CUSTOMER_STATES - {State.MATCH, State.SCORING}
IDLE_WARNING_S = 30.0  # or half the state's timeout, if that is shorter

DEFAULT_TIMEOUTS_S: dict[State, float] = {
    State.ATTRACT: 300.0,  # only refreshes the attract loop
    State.LANGUAGE: 60.0,
    State.CONSENT: 180.0,  # consent text is long; low-literacy customers may listen to it twice
    State.ID_CAPTURE: 90.0,
    State.LIVE_CAPTURE: 60.0,
    State.MATCH: 30.0,
    State.CONFIRM_IDENTITY: 90.0,
    State.DETAILS: 240.0,
    State.SCORING: 45.0,
    State.OFFERS: 240.0,
    State.REVIEW: 300.0,  # the costs are read out in full; the customer may ask questions
    State.CONFIRMATION: 120.0,
    State.END: 8.0,
    State.HANDOFF: 600.0,
    State.ERROR: 120.0,
}
