"""Routes for credit: the estimate for a verified identity (with the lender's priced offers), the product
catalogue, the service's health."""

from __future__ import annotations

import json
import logging
import secrets
import time

from fastapi import APIRouter
from sqlalchemy import func, insert, select

from cloud import db
from cloud.api_errors import COMMON, SIGNED, ApiError, errors
from cloud.auth import SignedDevice
from cloud.credit.offers import match_offers
from cloud.credit.policy import CURRENCY, decide, held_for_review
from cloud.id_hash import id_hash
from cloud.service import ServiceDep
from contract.id_number import NUMBER_REASONS, number_problems
from contract.schemas import EstimateRequest, EstimateResponse, Health, OffersResponse

log = logging.getLogger("cloud.api")
router = APIRouter(prefix="/v1", tags=["credit"])


@router.get("/health", response_model=Health, responses=errors(*COMMON))
def health(svc: ServiceDep) -> Health:
    m = svc.credit.card.metrics
    return Health(status="ok", server_time=time.time(), model={"auc_test": m["auc_test"], "ks_test": m["ks_test"]})


@router.post("/credit-estimates", response_model=EstimateResponse,
             responses=errors(*COMMON, *SIGNED, "rate_limited", *NUMBER_REASONS))
def estimate(req: EstimateRequest, device_id: SignedDevice,
             svc: ServiceDep) -> EstimateResponse:
    a, identity = req.applicant, req.identity
    number = identity.document.id_number
    problems = number_problems(number)
    if problems:  # not a number any card carries: refused, never scored as a "thin file"
        raise ApiError(problems[0], "the ID number fails the GB 11643 checks")
    now = time.time()
    hashed = id_hash(svc.hash_key, number)
    with svc.engine.connect() as conn:
        recent = conn.execute(select(func.count()).select_from(db.estimates).where(
            db.estimates.c.device_id == device_id, db.estimates.c.created_at > now - 3600)).scalar()
        elsewhere = conn.execute(select(db.estimates.c.device_id).where(
            db.estimates.c.id_hash == hashed, db.estimates.c.device_id != device_id,
            db.estimates.c.created_at > now - svc.settings.cross_device_window_s).limit(1)).first()
    if recent >= svc.settings.max_estimates_per_device_hour:
        raise ApiError("rate_limited", "too many estimates from this device in the last hour")
    failures = svc.acceptance.failures(identity)
    record = svc.credit.lookup(number)
    pd, reasons = svc.credit.score(record) if record is not None else (None, ())
    d = decide(pd, not failures, a.monthly_income, a.requested_amount, reasons)
    if failures:
        log.info("identity not verified", extra={"device": device_id, "failures": failures})
    elif elsewhere is not None:
        d = held_for_review(d.pd)
    offers = [] if d.limit <= 0 else match_offers(svc.catalog.products, d.grade, d.limit, a.requested_amount,
                                                  a.term_months)
    estimate_id = secrets.token_hex(8)
    with svc.engine.begin() as conn:
        # The offers are kept with the estimate: an application can only take one of them, as priced.
        conn.execute(insert(db.estimates).values(
            estimate_id=estimate_id, device_id=device_id, id_hash=hashed, decision=d.decision, grade=d.grade,
            pd=d.pd, limit_amount=d.limit, created_at=now,
            offers=json.dumps([o.model_dump(mode="json") for o in offers])))
        if d.decision == "review":
            conn.execute(insert(db.flags).values(
                flag_id=secrets.token_hex(8), kind="same_id_other_device", device_id=device_id, id_hash=hashed,
                estimate_id=estimate_id, detail=f"also seen at {elsewhere.device_id}", created_at=now))
    return EstimateResponse(estimate_id=estimate_id, decision=d.decision, grade=d.grade,
                            pd=None if d.pd is None else round(d.pd, 4), limit=d.limit, currency=CURRENCY,
                            reason_codes=list(d.reasons), offers=offers)


@router.get("/offers", response_model=OffersResponse, responses=errors(*COMMON, *SIGNED))
def offers(_device_id: SignedDevice, svc: ServiceDep) -> OffersResponse:
    return svc.catalog
