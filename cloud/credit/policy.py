"""The limit policy, explicit: verification gate -> PD -> grade -> limit band -> caps.

An identity the service does not accept as verified is declined outright, whatever the credit history:
verification can only ever lower an outcome, never raise it. Applicants without a bureau record ("thin file")
get a small starter limit instead of a model score.
"""

from __future__ import annotations

from dataclasses import dataclass

from contract import reasons as code

CURRENCY = "CNY"
# (grade, PD strictly below, limit band). Bands are in yuan for a village-shop micro-loan product.
GRADES = (("A", 0.08, 20000.0), ("B", 0.15, 12000.0), ("C", 0.25, 6000.0), ("D", 0.40, 2000.0))
DECLINE_GRADE = "E"
STARTER_GRADE = "S"
REVIEW_GRADE = "R"  # no product takes it: nothing can be applied for while a request is held
STARTER_LIMIT = 1000.0
INCOME_MULTIPLE = 3.0  # the limit never exceeds three months of declared income
MIN_LIMIT = 500.0  # below this an offer is not worth its fees: decline instead


@dataclass(frozen=True)
class Decision:
    decision: str  # "approved" | "starter" | "declined" | "review"
    grade: str
    pd: float | None
    limit: float
    reasons: tuple[str, ...]  # contract.reasons codes, most important first (the kiosk words them)


def grade_for(pd: float) -> tuple[str, float]:
    for grade, below, band in GRADES:
        if pd < below:
            return grade, band
    return DECLINE_GRADE, 0.0


def held_for_review(pd: float | None) -> Decision:
    """No limit until a person at the lender has looked (e.g. the same ID number at another kiosk just now)."""
    return Decision("review", REVIEW_GRADE, pd, 0.0, (code.HELD_FOR_REVIEW,))


def decide(pd: float | None, verified: bool, monthly_income: float, requested: float,
           risk_reasons: tuple[str, ...] = ()) -> Decision:
    """``verified``: the service's own verdict on the identity evidence (cloud.acceptance)."""
    if not verified:
        return Decision("declined", DECLINE_GRADE, pd, 0.0, (code.VERIFICATION_FAILED,))
    income_cap = INCOME_MULTIPLE * max(monthly_income, 0.0)
    if pd is None:
        limit = min(STARTER_LIMIT, income_cap, requested)
        reasons = (code.THIN_FILE,)
        if limit < MIN_LIMIT:
            return Decision("declined", DECLINE_GRADE, None, 0.0, (*reasons, code.INCOME_TOO_LOW))
        return Decision("starter", STARTER_GRADE, None, limit, reasons)
    grade, band = grade_for(pd)
    if grade == DECLINE_GRADE:
        return Decision("declined", grade, pd, 0.0, risk_reasons)
    limit = min(band, income_cap, requested)
    reasons = list(risk_reasons)
    if limit < band and limit == income_cap:
        reasons.append(code.INCOME_CAP)
    if limit < MIN_LIMIT:
        return Decision("declined", DECLINE_GRADE, pd, 0.0, (*reasons, code.AMOUNT_TOO_SMALL))
    return Decision("approved", grade, pd, limit, tuple(reasons))
