"""Request and response bodies of the v1 API. Unknown fields are refused, so nothing like an image or an
embedding can ride along in a request."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from contract.lending import FORMULA


class Strict(BaseModel):
    # NaN and infinities are not numbers a score or an amount can be.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class RegisterRequest(Strict):
    token: str = Field(min_length=8, max_length=200)
    device_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")
    public_key: str = Field(min_length=40, max_length=64, description="raw Ed25519 public key, base64")
    shop: str = Field(min_length=1, max_length=120)


class RegisterResponse(Strict):
    device_id: str
    created: bool
    server_time: float
    device_number: int = Field(ge=1, description="unique across the fleet; the device part of references")


class Applicant(Strict):
    """What the customer declares. Their identity is not declared: it is the document in the evidence."""

    monthly_income: float = Field(ge=0, le=1_000_000)
    requested_amount: float = Field(gt=0, le=1_000_000)
    term_months: int = Field(ge=1, le=36)


ModelHashes = dict[str, str]  # manifest model name -> sha256 of the file the kiosk ran


class DocumentEvidence(Strict):
    source: Literal["ocr", "chip"] = Field(description="where the fields came from (chip: cross-checked with print)")
    id_number: str = Field(pattern=r"^\d{17}[\dX]$", description="PRC resident ID number read off the document")
    checks: list[str] = Field(max_length=16, description="checks the document passed on the kiosk")
    chip_photo: Literal["ok", "unavailable", "undecodable", "no_chip"]


class FaceEvidence(Strict):
    calibration: str = Field(max_length=64, description="the kiosk's calibration (models + thresholds)")
    models: ModelHashes = Field(max_length=8)
    score: float = Field(ge=-10, le=10, description="1:1 score, live face vs the printed portrait")
    chip_score: float | None = Field(None, ge=-10, le=10, description="live face vs the chip photo, when read")


class LivenessEvidence(Strict):
    models: ModelHashes = Field(max_length=8)
    passive_score: float = Field(ge=0, le=1)
    challenges: int = Field(ge=0, le=8)
    challenges_passed: int = Field(ge=0, le=8)


class IdentityEvidence(Strict):
    """What the kiosk measured. Scores only, no decisions: the service applies its own acceptance policy."""

    document: DocumentEvidence
    face: FaceEvidence
    liveness: LivenessEvidence


class EstimateRequest(Strict):
    applicant: Applicant
    identity: IdentityEvidence


Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2, description="yuan, to the fen")]
Rate = Annotated[Decimal, Field(ge=0, le=5, max_digits=10, decimal_places=6, description="a yearly share, 0.12 = 12%")]


class Product(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,40}$", description="no colon: an offer id is <product>:<term>")
    lender: str
    lender_zh: str = Field(min_length=1, description="the lender's name on Mandarin screens and receipts")
    name: str
    min_amount: Money
    max_amount: Money
    terms: list[int]
    nominal_rate: Rate
    fee_rate: Rate = Field(description="origination fee, a share of the amount, deducted at payout")
    late_daily_rate: Rate = Field(description="penalty interest per DAY on an overdue payment, 0.0005 = 0.05%")
    grades: list[str]


class Offer(Strict):
    """One loan the lender offers for an estimate, priced by the lender with the published formula
    (contract.lending); the kiosk recomputes every figure and shows only offers whose figures agree."""

    offer_id: str = Field(max_length=64, description="what an application names")
    product_id: str
    lender: str
    lender_zh: str = Field(min_length=1)
    name: str
    amount: Money
    term_months: int = Field(ge=1, le=36)
    nominal_rate: Rate
    fee_rate: Rate
    fee: Money
    monthly_payment: Money
    total_repayable: Money
    apr: Rate = Field(description="yearly rate including the fee (monthly IRR x 12), to 0.01%")
    late_daily_rate: Rate = Field(description="penalty interest per day on an overdue payment (disclosed before "
                                              "the customer agrees)")
    formula: Literal[FORMULA]


class EstimateResponse(Strict):
    estimate_id: str
    decision: Literal["approved", "starter", "declined", "review"]
    grade: str
    pd: float | None
    limit: float
    currency: str
    reason_codes: list[str] = Field(max_length=12, description="contract.reasons codes, most important first; "
                                                               "the kiosk words them in the customer's language")
    offers: list[Offer] = Field(max_length=12, description="best first: the most of what was asked, then lowest APR")


class OffersResponse(Strict):
    version: str
    products: list[Product]


class ApplicationRequest(Strict):
    # The reference the customer was given (printed, spoken), made on the kiosk before sending: contract.reference.
    reference: str = Field(pattern=r"^[0-9A-Z]{2,8}-[0-9A-Z]{5,12}$")
    estimate_id: str = Field(min_length=8, max_length=32)
    offer_id: str = Field(min_length=1, max_length=64)
    amount: float = Field(gt=0, le=1_000_000)
    term_months: int = Field(ge=1, le=36)


class ApplicationResponse(Strict):
    application_id: str
    reference: str
    status: Literal["received"]
    estimate_id: str
    offer_id: str
    amount: float
    term_months: int


class BundleRequestCreate(Strict):
    device_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")
    since_hours: float = Field(24.0, gt=0, le=24 * 90)


class BundleRequest(Strict):
    request_id: str
    device_id: str
    since: float
    status: Literal["pending", "uploaded"]


class PendingRequests(Strict):
    requests: list[BundleRequest]


class Flag(Strict):
    """A fraud or velocity signal for support to review. No ID number, not even hashed."""

    flag_id: str
    kind: str
    device_id: str
    estimate_id: str | None
    detail: str
    created_at: float


class Flags(Strict):
    flags: list[Flag]


class Health(Strict):
    status: Literal["ok"]
    server_time: float
    model: dict[str, float]


class ErrorBody(Strict):
    code: str = Field(description="one of contract.errors.ERRORS")
    message: str
    server_time: float | None = Field(None, description="with stale_timestamp: the service's clock (Unix time)")


class ErrorResponse(Strict):
    error: ErrorBody


class AuditCheckpoint(Strict):
    """The head of a kiosk's audit chain, sent at check-in, with the kiosk's own hash at the service's last anchor
    (so the service can tell an extension of what it anchored from a rewrite or a cut)."""

    seq: int = Field(ge=0)
    head: str = Field(pattern=r"^[0-9a-f]{64}$")
    previous_seq: int = Field(ge=0)
    previous_head: str | None = Field(pattern=r"^[0-9a-f]{64}$", description="null: the kiosk has no such record")


class AuditAnchor(Strict):
    seq: int = Field(ge=0, description="0: nothing anchored yet")
    head: str
    anchored_at: float | None


class AgentCheck(Strict):
    """A field agent's provisioning token, checked by the service for a device (e.g. to reset its staff PIN)."""

    token: str = Field(min_length=8, max_length=200)


class AgentCheckResult(Strict):
    ok: Literal[True]
