"""Loan arithmetic against known values (amortisation, fees in the APR, rounding to the fen); the lender's offers
priced with it; the kiosk's re-check that withholds any offer whose figures do not add up."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cloud.credit.offers import match_offers, offer_for
from contract.lending import effective_apr, monthly_payment, price, to_cents
from contract.schemas import EstimateResponse, Product
from kiosk.cloud_client.stages import CloudScoring, VerificationSetup
from kiosk.journey.session import ApplicantDetails, LivenessSummary, MatchSummary, SessionData
from kiosk.offers import check_offers, offer_problem
from tests.journey_helpers import DOCUMENT


def product(**kw) -> Product:
    base = {"id": "p", "lender": "L", "lender_zh": "甲", "name": "N", "min_amount": 500, "max_amount": 20000,
            "terms": [6, 12], "nominal_rate": 0.12, "fee_rate": 0.0, "late_daily_rate": 0.0005, "grades": ["A", "B"]}
    return Product(**{**base, **kw})


@pytest.mark.parametrize(
    ("principal", "rate", "months", "payment"),
    [
        ("10000", "0.12", 12, "888.49"),  # textbook: 1% a month for a year
        ("5000", "0.108", 12, "441.44"),
        ("1000", "0.18", 6, "175.53"),
        ("2400", "0", 12, "200.00"),  # zero rate: straight division
        ("100", "0.12", 3, "34.00"),  # 33.9978 rounds half-up to 34.00
    ],
)
def test_monthly_payment_known_values(principal, rate, months, payment):
    assert monthly_payment(Decimal(principal), Decimal(rate), months) == Decimal(payment)


def test_without_fee_the_apr_is_the_nominal_rate():
    f = price(Decimal(10000), Decimal("0.12"), Decimal(0), 12)
    assert f.fee == 0 and f.total_repayable == Decimal("10661.88")
    assert f.apr == Decimal("0.1200")


def test_a_fee_raises_the_apr_shown():
    f = price(Decimal(1000), Decimal("0.12"), Decimal("0.02"), 6)
    assert f.fee == Decimal("20.00") and f.monthly_payment == Decimal("172.55")
    assert f.apr == Decimal("0.1910") and f.cost == f.total_repayable - Decimal("980.00")
    # The APR is the rate at which the payments repay exactly what was received (to the 0.01% it is shown at).
    r = float(f.apr) / 12
    pv = sum(float(f.monthly_payment) / (1 + r) ** k for k in range(1, 7))
    assert pv == pytest.approx(980.00, abs=0.05)


def test_rounding_to_the_fen_is_half_up():
    assert to_cents(Decimal("1.005")) == Decimal("1.01") and to_cents(Decimal("1.0049")) == Decimal("1.00")


def test_effective_apr_solver_round_trip():
    payment = monthly_payment(Decimal(8000), Decimal("0.15"), 24)
    assert effective_apr(Decimal(8000), payment, 24) == Decimal("0.1500")


def test_the_lender_matches_grade_range_limit_and_term():
    products = [
        product(id="cheap", nominal_rate=0.10, grades=["A"]),
        product(id="mid", nominal_rate=0.13, grades=["A", "B"], max_amount=3000),
        product(id="small", nominal_rate=0.20, grades=["B"], min_amount=4000),
        product(id="starter", nominal_rate=0.18, grades=["S"], terms=[3, 6]),
    ]
    offers = match_offers(products, "B", limit=3500, requested=5000, term=10)
    assert [o.offer_id for o in offers] == ["mid:12"]
    assert offers[0].amount == Decimal("3000.00") and offers[0].term_months == 12
    assert [o.product_id for o in match_offers(products, "A", 20000, 5000, 12)] == ["cheap", "mid"]
    assert match_offers(products, "S", 1000, 1000, 12)[0].term_months == 6


def test_the_kiosk_shows_the_lenders_figures_when_they_add_up():
    offer = offer_for(product(fee_rate=0.02), Decimal(3000), 12)
    checked = check_offers([offer], limit=3000)
    assert checked.withheld == () and len(checked.shown) == 1
    shown = checked.shown[0]
    assert (shown.offer_id, shown.amount, shown.monthly_payment, shown.fee) == ("p:12", 3000.0, 266.55, 60.0)
    assert shown.total_repayable == float(offer.total_repayable) and shown.apr == float(offer.apr)


@pytest.mark.parametrize(("figure", "value"), [
    ("monthly_payment", Decimal("266.54")),  # one fen off
    ("total_repayable", Decimal("3100.00")),
    ("apr", Decimal("0.1200")),  # the nominal rate passed off as the APR with fees
    ("fee", Decimal("0.00")),  # a fee left out
])
def test_an_offer_whose_figures_disagree_is_withheld(figure, value):
    good = offer_for(product(fee_rate=0.02), Decimal(3000), 12)
    bad = good.model_copy(update={figure: value})
    assert offer_problem(bad, Decimal(3000)) == figure
    checked = check_offers([bad, good], limit=3000)
    assert [o.offer_id for o in checked.shown] == ["p:12"] and checked.withheld == ("p:12",)


def test_an_offer_above_the_limit_or_priced_another_way_is_withheld():
    offer = offer_for(product(), Decimal(5000), 12)
    assert offer_problem(offer, Decimal(4999)) == "amount_over_limit"
    with pytest.raises(ValueError, match="formula"):  # the contract names the one formula an offer may use
        offer.model_validate({**offer.model_dump(), "formula": "flat-rate"})


class _Answers:
    def __init__(self, response: EstimateResponse) -> None:
        self.response = response

    def estimate(self, _request):
        return self.response


def test_the_scoring_stage_tells_the_customer_when_offers_are_withheld():
    good = offer_for(product(), Decimal(3000), 12)
    tampered = good.model_copy(update={"offer_id": "p:6", "monthly_payment": Decimal("1.00")})
    response = EstimateResponse(estimate_id="e" * 16, decision="approved", grade="A", pd=0.05, limit=3000,
                                currency="CNY", reason_codes=[], offers=[tampered, good])
    session = SessionData(session_id="s", started_at=0)
    session.details = ApplicantDetails(6000, 3000, 12)
    session.document, session.match = DOCUMENT, MatchSummary(True, 0.8, 0.6)
    session.liveness = LivenessSummary(0.97, 2, 2)
    result = CloudScoring(_Answers(response), VerificationSetup("c", {}, {})).estimate(session, 1)
    assert [o.offer_id for o in result.offers] == ["p:12"]
    assert result.estimate.reason_codes == ("offers_withheld",)
