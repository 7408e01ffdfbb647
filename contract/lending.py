"""The published loan arithmetic: the one formula the lender prices its offers with and the kiosk re-checks them
with, so the figures a customer is shown are the lender's and provably add up.

Money is Decimal throughout and the arithmetic runs in a fixed decimal context, so the same inputs give the same
figures to the fen on any machine. The monthly payment is the annuity payment on the amount at the product's
nominal yearly rate, rounded half-up to the fen; the origination fee is deducted from the payout, so the APR is
the rate at which the payments repay what the customer actually receives (monthly IRR x 12), to 0.01%.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext

FORMULA = "annuity-fee-deducted-v1"  # named in every offer: a change of formula is a change of this name
CENT = Decimal("0.01")
APR_STEP = Decimal("0.0001")  # an APR is shown to two decimals of a percent
_CONTEXT = Context(prec=34, rounding=ROUND_HALF_UP)
_MAX_MONTHLY_RATE = Decimal(5) / 12  # 500% a year: far beyond any lawful loan, the solver's upper bound


def to_cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def monthly_payment(principal: Decimal, nominal_rate: Decimal, months: int) -> Decimal:
    if months <= 0:
        raise ValueError("term must be at least one month")
    with localcontext(_CONTEXT):
        if nominal_rate == 0:
            return to_cents(principal / months)
        r = nominal_rate / 12
        return to_cents(principal * r / (1 - (1 + r) ** -months))


def effective_apr(received: Decimal, payment: Decimal, months: int) -> Decimal:
    """Nominal yearly rate (monthly IRR x 12) at which ``months`` payments repay ``received``, by bisection in
    decimal arithmetic (deterministic: both sides of the wire get the same digits)."""
    with localcontext(_CONTEXT):
        lo, hi = Decimal(0), _MAX_MONTHLY_RATE
        for _ in range(64):
            mid = (lo + hi) / 2
            present_value = sum(payment / (1 + mid) ** k for k in range(1, months + 1))
            lo, hi = (mid, hi) if present_value > received else (lo, mid)
        return (12 * (lo + hi) / 2).quantize(APR_STEP, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Figures:
    """What a loan costs, every figure the customer is shown."""

    amount: Decimal
    term_months: int
    fee: Decimal
    monthly_payment: Decimal
    total_repayable: Decimal
    apr: Decimal  # including the fee

    @property
    def cost(self) -> Decimal:
        """Everything repaid beyond what was received."""
        return self.total_repayable - (self.amount - self.fee)


def price(amount: Decimal, nominal_rate: Decimal, fee_rate: Decimal, term_months: int) -> Figures:
    amount = to_cents(amount)
    fee = to_cents(amount * fee_rate)
    payment = monthly_payment(amount, nominal_rate, term_months)
    return Figures(amount, term_months, fee, payment, payment * term_months,
                   effective_apr(amount - fee, payment, term_months))
