"""Effects the journey asks the runner to carry out. They describe work; they never do it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kiosk.journey.session import HandoffSummary


@dataclass(frozen=True)
class Effect:
    pass


@dataclass(frozen=True)
class ShowScreen(Effect):
    screen: str
    message: str | None = None  # translation key
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WarnIdle(Effect):
    """"Are you still there?": the session ends in ``seconds`` unless the customer touches the screen."""

    seconds: int


@dataclass(frozen=True)
class Speak(Effect):
    message: str  # catalogue key; the runner speaks it in the session language (a key with no text: silence)
    params: dict[str, Any] = field(default_factory=dict)  # "reasons": reason codes, spoken as their hints


@dataclass(frozen=True)
class RecordConsent(Effect):
    text_version: str
    language: str


@dataclass(frozen=True)
class StartIdCapture(Effect):
    attempt: int


@dataclass(frozen=True)
class StartLiveCapture(Effect):
    attempt: int
    challenges: tuple[str, ...] = ()  # randomised per attempt; prompts in the catalogues ([prompt.challenge])


@dataclass(frozen=True)
class StopCapture(Effect):
    pass


@dataclass(frozen=True)
class RunMatch(Effect):
    pass


@dataclass(frozen=True)
class RequestScore(Effect):
    attempt: int


@dataclass(frozen=True)
class SubmitApplication(Effect):
    offer_id: str
    idempotency_key: str


@dataclass(frozen=True)
class WithdrawApplication(Effect):
    idempotency_key: str


@dataclass(frozen=True)
class PrintReceipt(Effect):
    reference: str
    queued: bool


@dataclass(frozen=True)
class ShowAnswer(Effect):
    intent: str | None  # None: "I didn't understand, please try again or tap"
    text: str = ""


@dataclass(frozen=True)
class NotifyShopkeeper(Effect):
    summary: HandoffSummary


@dataclass(frozen=True)
class WipeBiometrics(Effect):
    pass


@dataclass(frozen=True)
class SessionEnded(Effect):
    reason: str
    summary: dict[str, Any]
