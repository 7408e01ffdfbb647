"""Per-session data: the non-sensitive record of what happened, and the biometric vault.

Biometric data (ID portrait, live frames, embeddings) lives only in :class:`BiometricVault`, which the
journey wipes when a session ends or is handed to a human. Everything else here is safe to summarise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from contract.id_number import mask
from hardware.id_card import IdCardFields


@dataclass(eq=False)
class BiometricSample:
    """One piece of biometric data (an image crop, a frame, an embedding) and where it came from."""

    kind: str  # "id_portrait" | "live_frame" | "embedding"
    array: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    def wipe(self) -> None:
        # Zero the buffer in place: other references (a UI texture, a worker) then hold only zeros.
        if self.array.flags.writeable:
            self.array.fill(0)
        self.array = np.zeros((0,), dtype=np.uint8)
        self.meta.clear()

    @property
    def is_wiped(self) -> bool:
        return self.array.size == 0


@dataclass(eq=False)
class BiometricVault:
    id_portrait: BiometricSample | None = None  # the portrait printed on the card
    chip_portrait: BiometricSample | None = None  # the card chip's photo, when a reader and decoder gave one
    live_samples: list[BiometricSample] = field(default_factory=list)
    embeddings: dict[str, BiometricSample] = field(default_factory=dict)

    def all_samples(self) -> list[BiometricSample]:
        samples = list(self.live_samples) + list(self.embeddings.values())
        samples += [s for s in (self.id_portrait, self.chip_portrait) if s is not None]
        return samples

    def wipe(self) -> int:
        """Zero and drop every sample; returns how many were wiped."""
        samples = self.all_samples()
        for sample in samples:
            sample.wipe()
        self.id_portrait = self.chip_portrait = None
        self.live_samples.clear()
        self.embeddings.clear()
        return len(samples)

    @property
    def is_empty(self) -> bool:
        return self.id_portrait is None and self.chip_portrait is None and not self.live_samples \
            and not self.embeddings


@dataclass(frozen=True)
class IdentityDocument:
    """The ID card read in this session: the identity that is scored, and only this one. Personal data: never
    logged or summarised, dropped when the session ends."""

    source: str  # "ocr" | "chip" (the chip's fields, cross-checked against the printed card)
    fields: IdCardFields
    checks: tuple[str, ...]  # the checks it passed (contract.id_number and chip-vs-print)
    photo_status: str = "no_chip"  # chip photo: "ok" | "unavailable" | "undecodable" | "no_chip"

    @property
    def id_number(self) -> str:
        return self.fields.id_number or ""

    @property
    def masked_number(self) -> str:
        return mask(self.id_number)


@dataclass(frozen=True)
class ConsentRecord:
    text_version: str
    language: str
    at: float


@dataclass(frozen=True)
class MatchSummary:
    matched: bool
    score: float
    threshold: float
    chip_score: float | None = None  # against the chip photo, when there was one


@dataclass(frozen=True)
class LivenessSummary:
    passive_score: float | None
    challenges_passed: int
    challenges: int


@dataclass(frozen=True)
class ApplicantDetails:
    """What the customer declares. The identity is not among it: it comes from the card that was read."""

    monthly_income: float
    requested_amount: float
    term_months: int


@dataclass(frozen=True)
class CreditEstimate:
    limit: float
    currency: str
    grade: str
    estimate_id: str = ""
    decision: str = "approved"  # "approved" | "starter" | "declined" | "review" (held by the lender)
    reason_codes: tuple[str, ...] = ()  # contract.reasons codes; the catalogues' [reason] words them


@dataclass(frozen=True)
class OfferSummary:
    offer_id: str
    amount: float
    term_months: int
    apr: float
    monthly_payment: float
    total_repayable: float
    lender: str = ""
    fee: float = 0.0
    lender_zh: str = ""  # the lender's name on Mandarin screens (the English one when the lender gave none)
    late_daily_rate: float = 0.0  # penalty interest per day on an overdue payment

    def lender_name(self, language: str) -> str:
        return self.lender_zh if language == "zh" and self.lender_zh else self.lender

    @property
    def received(self) -> float:
        """What the customer gets in hand: the fee is deducted at payout."""
        return round(self.amount - self.fee, 2)


@dataclass(frozen=True)
class ErrorInfo:
    code: str  # e.g. "camera_missing", "network_down", "stage_unavailable"
    resume_state: str  # the state to return to on Retry
    detail: str = ""


@dataclass(frozen=True)
class HandoffSummary:
    """What the shopkeeper (and support) sees: codes and counts, never biometrics or identity."""

    code: str  # short code the customer reads out to the shopkeeper
    reason: str
    last_state: str
    language: str | None
    id_attempts: int
    face_attempts: int
    match_decision: bool | None


@dataclass
class SessionData:
    session_id: str
    started_at: float
    language: str | None = None
    consent: ConsentRecord | None = None
    id_attempts: int = 0
    face_attempts: int = 0
    scoring_attempts: int = 0
    error_retries: int = 0
    liveness: LivenessSummary | None = None
    document: IdentityDocument | None = None
    identity_confirmed: bool = False
    match: MatchSummary | None = None
    details: ApplicantDetails | None = None
    estimate: CreditEstimate | None = None
    offers: tuple[OfferSummary, ...] = ()
    chosen_offer_id: str | None = None
    review_understood: bool = False  # picked the right monthly payment on the review screen
    review_misses: int = 0
    application_ref: str | None = None
    application_queued: bool = False
    last_answer_intent: str | None = None
    error: ErrorInfo | None = None
    handoff: HandoffSummary | None = None
    end_reason: str | None = None
    biometrics: BiometricVault = field(default_factory=BiometricVault)

    @property
    def chosen_offer(self) -> OfferSummary | None:
        return next((o for o in self.offers if o.offer_id == self.chosen_offer_id), None)

    @property
    def application_key(self) -> str:
        """The idempotency key of this session's application (the outbox row, and the service's answer once)."""
        return f"{self.session_id}:{self.chosen_offer_id}"

    def forget_personal_data(self) -> None:
        """Drop identity data at session end; keep only codes and counts for the session summary."""
        self.biometrics.wipe()
        self.details = None
        self.document = None
