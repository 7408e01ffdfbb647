"""Loan offers with honest cost figures: standard amortisation, fees included in the APR, rounded to fen.

Money is Decimal throughout. The monthly payment is the annuity payment on the amount at the product's
nominal rate, rounded half-up to the cent; an origination fee is deducted from the payout, so the APR
shown is the rate at which the payments repay what the customer actually receives (IRR x 12).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from contract.schemas import Product
from kiosk.journey.session import OfferSummary

CENT = Decimal("0.01")


def to_cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def monthly_payment(principal: Decimal, apr: Decimal, months: int) -> Decimal:
    if months <= 0:
        raise ValueError("term must be at least one month")
    if apr == 0:
        return to_cents(principal / months)
    r = apr / 12
    return to_cents(principal * r / (1 - (1 + r) ** -months))


def effective_apr(received: Decimal, payment: Decimal, months: int) -> Decimal:
    """Nominal yearly rate (monthly IRR x 12) at which ``months`` payments repay ``received``."""
    lo, hi = 0.0, 5.0 / 12
    target = float(received)
    for _ in range(100):
        mid = (lo + hi) / 2
        pv = sum(float(payment) / (1 + mid) ** k for k in range(1, months + 1))
        lo, hi = (mid, hi) if pv > target else (lo, mid)
    return Decimal(str(round(12 * (lo + hi) / 2, 6)))


@dataclass(frozen=True)
class Quote:
    product: Product
    amount: Decimal
    term_months: int
    fee: Decimal
    monthly_payment: Decimal
    total_repayable: Decimal
    apr: Decimal  # including the fee

    @property
    def cost(self) -> Decimal:
        """What the loan costs: everything repaid beyond what was received."""
        return self.total_repayable - (self.amount - self.fee)

    def summary(self) -> OfferSummary:
        return OfferSummary(f"{self.product.id}:{self.term_months}", float(self.amount), self.term_months,
                            float(self.apr), float(self.monthly_payment), float(self.total_repayable),
                            lender=self.product.lender, fee=float(self.fee))


def quote(product: Product, amount: Decimal, term_months: int) -> Quote:
    fee = to_cents(amount * Decimal(str(product.fee_rate)))
    payment = monthly_payment(amount, Decimal(str(product.apr)), term_months)
    total = payment * term_months
    return Quote(product, amount, term_months, fee, payment, total, effective_apr(amount - fee, payment, term_months))


def match_offers(products: list[Product], grade: str, limit: float, requested: float, term: int) -> list[Quote]:
    """Eligible products at the amount the customer can have: offers covering the most of what was asked
    first, then the lowest APR (fees included), then the lowest monthly payment."""
    quotes = []
    for p in products:
        if grade not in p.grades:
            continue
        amount = to_cents(Decimal(str(min(limit, requested, p.max_amount))))
        if amount < Decimal(str(p.min_amount)):
            continue
        nearest = min(p.terms, key=lambda t: (abs(t - term), t))
        quotes.append(quote(p, amount, nearest))
    return sorted(quotes, key=lambda q: (-q.amount, q.apr, q.monthly_payment))
