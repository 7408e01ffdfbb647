"""The lender's offers for an estimate: which products the grade may take, at the amount the customer can have,
priced with the published formula (contract.lending)."""

from __future__ import annotations

from decimal import Decimal

from contract.lending import FORMULA, price, to_cents
from contract.schemas import Offer, Product


def offer_for(product: Product, amount: Decimal, term_months: int) -> Offer:
    f = price(amount, product.nominal_rate, product.fee_rate, term_months)
    return Offer(offer_id=f"{product.id}:{term_months}", product_id=product.id, lender=product.lender,
                 lender_zh=product.lender_zh, name=product.name, amount=f.amount, term_months=term_months, nominal_rate=product.nominal_rate,
                 fee_rate=product.fee_rate, fee=f.fee, monthly_payment=f.monthly_payment,
                 total_repayable=f.total_repayable, apr=f.apr, late_daily_rate=product.late_daily_rate,
                 formula=FORMULA)


def match_offers(products: list[Product], grade: str, limit: float, requested: float, term: int) -> list[Offer]:
    """Eligible products at the amount the customer can have, each at the term nearest the one asked for: offers
    covering the most of what was asked first, then the lowest APR (fees included), then the lowest payment."""
    offers = []
    for p in products:
        if grade not in p.grades:
            continue
        amount = to_cents(min(Decimal(str(limit)), Decimal(str(requested)), p.max_amount))
        if amount < p.min_amount:
            continue
        nearest = min(p.terms, key=lambda t: (abs(t - term), t))
        offers.append(offer_for(p, amount, nearest))
    return sorted(offers, key=lambda o: (-o.amount, o.apr, o.monthly_payment))
