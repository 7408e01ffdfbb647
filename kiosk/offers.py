"""Re-checks the lender's offers before the customer sees them: every figure recomputed with the published
formula (contract.lending) from the offer's own amount, term and rates. An offer whose figures disagree, or that
is for more than the estimate allows, is not shown: the customer sees the lender's figures only when they add up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from contract.lending import FORMULA, price
from contract.schemas import Offer
from kiosk.journey.session import OfferSummary

log = logging.getLogger("kiosk.offers")

FIGURES = ("amount", "fee", "monthly_payment", "total_repayable", "apr")


@dataclass(frozen=True)
class CheckedOffers:
    shown: tuple[OfferSummary, ...]
    withheld: tuple[str, ...]  # offer ids whose figures did not add up (logged with the figure at fault)


def offer_problem(offer: Offer, limit: Decimal) -> str | None:
    """None when the offer's figures are the formula's; else which figure is wrong (for the log, no amounts)."""
    if offer.formula != FORMULA:
        return "formula"
    if offer.amount > limit:
        return "amount_over_limit"
    expected = price(offer.amount, offer.nominal_rate, offer.fee_rate, offer.term_months)
    return next((name for name in FIGURES if getattr(expected, name) != getattr(offer, name)), None)


def summary(offer: Offer) -> OfferSummary:
    return OfferSummary(offer.offer_id, float(offer.amount), offer.term_months, float(offer.apr),
                        float(offer.monthly_payment), float(offer.total_repayable), lender=offer.lender,
                        fee=float(offer.fee), lender_zh=offer.lender_zh,
                        late_daily_rate=float(offer.late_daily_rate))


def check_offers(offers: list[Offer], limit: float) -> CheckedOffers:
    shown, withheld = [], []
    for offer in offers:
        problem = offer_problem(offer, Decimal(str(limit)))
        if problem is None:
            shown.append(summary(offer))
        else:
            log.warning("offer withheld: its figures do not add up", extra={"offer": offer.offer_id, "figure": problem})
            withheld.append(offer.offer_id)
    return CheckedOffers(tuple(shown), tuple(withheld))
