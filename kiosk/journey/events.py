"""Events the journey consumes. Every event carries ``at``: monotonic seconds from the runner's clock."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.journey.session import (
    ApplicantDetails,
    BiometricSample,
    CreditEstimate,
    IdentityDocument,
    LivenessSummary,
    OfferSummary,
)


@dataclass(frozen=True, kw_only=True)
class Event:
    at: float = 0.0


@dataclass(frozen=True, kw_only=True)
class Tick(Event):
    """Clock tick; lets the machine notice idle timeouts without a timer of its own."""


@dataclass(frozen=True, kw_only=True)
class StartPressed(Event):
    pass


@dataclass(frozen=True, kw_only=True)
class LanguageChosen(Event):
    language: str


@dataclass(frozen=True, kw_only=True)
class ConsentGiven(Event):
    agreed: bool  # to the [consent] text of the session's language (its version is recorded with it)


@dataclass(frozen=True, kw_only=True)
class ManualCheckChosen(Event):
    """The non-face route: the customer wants the shopkeeper to check the ID card by hand (no face photo)."""


@dataclass(frozen=True, kw_only=True)
class IdCaptureResult(Event):
    ok: bool
    portrait: BiometricSample | None = None  # printed on the card
    chip_portrait: BiometricSample | None = None
    document: IdentityDocument | None = None  # what was read; required when ok
    reasons: tuple[str, ...] = ()  # reason codes the UI can show ("tilt the card", "this card has expired")


@dataclass(frozen=True, kw_only=True)
class LiveCaptureResult(Event):
    ok: bool
    frames: tuple[BiometricSample, ...] = ()
    liveness: LivenessSummary | None = None
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class MatchResult(Event):
    matched: bool
    score: float
    threshold: float
    chip_score: float | None = None


@dataclass(frozen=True, kw_only=True)
class IdentityConfirmed(Event):
    """The customer saw the name and masked number read from the card: "this is me" (True) or "not me"."""

    agreed: bool


@dataclass(frozen=True, kw_only=True)
class DetailsSubmitted(Event):
    details: ApplicantDetails


@dataclass(frozen=True, kw_only=True)
class Touched(Event):
    """The customer is using the screen (a key of the keypad, a field): activity for the idle clock."""


@dataclass(frozen=True, kw_only=True)
class DetailsInvalid(Event):
    problem: str  # "income_missing" | "amount_missing": said and shown so the customer knows what to fix


@dataclass(frozen=True, kw_only=True)
class QuestionAnswered(Event):
    """The voice stage understood (or failed to understand) a question; the UI shows the answer."""

    intent: str | None
    confidence: float
    text: str = ""  # the answer to show and speak


@dataclass(frozen=True, kw_only=True)
class ScoreReceived(Event):
    estimate: CreditEstimate
    offers: tuple[OfferSummary, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ScoringFailed(Event):
    code: str  # "network_down", "timeout", "bad_response", or the service's refusal code
    final: bool = False  # the service refused (e.g. an ID number it does not accept): a retry cannot help


@dataclass(frozen=True, kw_only=True)
class OfferChosen(Event):
    offer_id: str


@dataclass(frozen=True, kw_only=True)
class PaymentPicked(Event):
    """The comprehension check: which of three amounts the customer thinks they pay each month."""

    monthly: float


@dataclass(frozen=True, kw_only=True)
class BorrowAgreed(Event):
    """"I agree to borrow": only after the customer picked their monthly payment right."""


@dataclass(frozen=True, kw_only=True)
class Back(Event):
    """One step back (from the review to the offers)."""


@dataclass(frozen=True, kw_only=True)
class Withdraw(Event):
    """The customer takes back an application the lender does not have yet (still in the outbox)."""


@dataclass(frozen=True, kw_only=True)
class ApplicationWithdrawn(Event):
    outcome: str  # "withdrawn" (never sent), "already_sent" (the lender has it), "failed" (could not record it)


@dataclass(frozen=True, kw_only=True)
class ApplicationRecorded(Event):
    reference: str
    queued: bool  # True when stored in the outbox for later delivery (network down)


@dataclass(frozen=True, kw_only=True)
class ApplicationFailed(Event):
    """The lender refused the application outright (not a network problem: that is queued instead)."""

    code: str


@dataclass(frozen=True, kw_only=True)
class Finish(Event):
    """Customer taps "done" (or the receipt has printed)."""


@dataclass(frozen=True, kw_only=True)
class Cancel(Event):
    pass


@dataclass(frozen=True, kw_only=True)
class CallShopkeeper(Event):
    pass


@dataclass(frozen=True, kw_only=True)
class HandoffResolved(Event):
    """The shopkeeper has taken over; the session can end."""


@dataclass(frozen=True, kw_only=True)
class DeviceFailed(Event):
    device: str  # "camera" | "microphone" | "speaker" | "printer"
    code: str  # "missing" | "disconnected" | "bad_data"


@dataclass(frozen=True, kw_only=True)
class StageUnavailable(Event):
    """A processing stage cannot run (its component is not installed, or its model failed to load)."""

    stage: str
    detail: str = ""


@dataclass(frozen=True, kw_only=True)
class Retry(Event):
    pass
