"""Loan arithmetic against known values: amortisation, fees in the APR, rounding to the fen."""

from __future__ import annotations

from decimal import Decimal

import pytest

from contract.schemas import Product
from kiosk.offers import effective_apr, match_offers, monthly_payment, quote, to_cents


def product(**kw) -> Product:
    base = {"id": "p", "lender": "L", "name": "N", "min_amount": 500, "max_amount": 20000, "terms": [6, 12],
            "apr": 0.12, "fee_rate": 0.0, "grades": ["A", "B"]}
    return Product(**{**base, **kw})


@pytest.mark.parametrize(
    ("principal", "apr", "months", "payment"),
    [
        ("10000", "0.12", 12, "888.49"),  # textbook: 1% a month for a year
        ("5000", "0.108", 12, "441.44"),
        ("1000", "0.18", 6, "175.53"),
        ("2400", "0", 12, "200.00"),  # zero rate: straight division
        ("100", "0.12", 3, "34.00"),  # 33.9978 rounds half-up to 34.00
    ],
)
def test_monthly_payment_known_values(principal, apr, months, payment):
    assert monthly_payment(Decimal(principal), Decimal(apr), months) == Decimal(payment)


def test_without_fee_the_apr_is_the_nominal_rate():
    q = quote(product(), Decimal(10000), 12)
    assert q.fee == 0 and q.total_repayable == Decimal("10661.88")
    assert abs(q.apr - Decimal("0.12")) < Decimal("0.0005")


def test_a_fee_raises_the_apr_shown():
    q = quote(product(fee_rate=0.02), Decimal(1000), 6)
    assert q.fee == Decimal("20.00") and q.monthly_payment == Decimal("172.55")
    assert q.apr > Decimal("0.18") and q.cost == q.total_repayable - Decimal("980.00")
    # The APR is the rate at which the payments repay exactly what was received.
    r = float(q.apr) / 12
    pv = sum(float(q.monthly_payment) / (1 + r) ** k for k in range(1, 7))
    assert pv == pytest.approx(980.00, abs=0.01)


def test_rounding_to_the_fen_is_half_up():
    assert to_cents(Decimal("1.005")) == Decimal("1.01") and to_cents(Decimal("1.0049")) == Decimal("1.00")


def test_matching_respects_grade_range_limit_and_term():
    products = [
        product(id="cheap", apr=0.10, grades=["A"]),
        product(id="mid", apr=0.13, grades=["A", "B"], max_amount=3000),
        product(id="small", apr=0.20, grades=["B"], min_amount=4000),
        product(id="starter", apr=0.18, grades=["S"], terms=[3, 6]),
    ]
    quotes = match_offers(products, "B", limit=3500, requested=5000, term=10)
    assert [q.product.id for q in quotes] == ["mid"]
    assert quotes[0].amount == Decimal("3000.00") and quotes[0].term_months == 12
    assert [q.product.id for q in match_offers(products, "A", 20000, 5000, 12)] == ["cheap", "mid"]
    assert match_offers(products, "S", 1000, 1000, 12)[0].term_months == 6


def test_effective_apr_solver_round_trip():
    payment = monthly_payment(Decimal(8000), Decimal("0.15"), 24)
    assert abs(effective_apr(Decimal(8000), payment, 24) - Decimal("0.15")) < Decimal("0.0005")
