"""The route for applications: one per estimate, for one of the offers made with it, exactly as priced;
idempotent on the kiosk's key (a retry gets the first answer again)."""

from __future__ import annotations

import json
import secrets
import time
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from cloud import db
from cloud.api_errors import COMMON, SIGNED, ApiError, errors
from cloud.auth import SignedDevice
from cloud.service import ServiceDep
from contract.lending import to_cents
from contract.reference import parse_reference
from contract.schemas import ApplicationRequest, ApplicationResponse, Offer
from contract.signing import body_digest

router = APIRouter(prefix="/v1", tags=["applications"])


def _replay(existing, digest: str) -> JSONResponse:
    if existing.request_digest != digest:
        raise ApiError("idempotency_conflict", "idempotency key reused with a different request")
    return JSONResponse(json.loads(existing.response), status_code=200)


def _check_against_offer(req: ApplicationRequest, est) -> None:
    offered = [Offer.model_validate(o) for o in json.loads(est.offers)]
    offer = next((o for o in offered if o.offer_id == req.offer_id), None)
    if offer is None:
        raise ApiError("offer_not_eligible", "this offer was not made with this estimate")
    if to_cents(Decimal(str(req.amount))) != offer.amount or req.term_months != offer.term_months:
        raise ApiError("amount_out_of_range", "amount or term differs from the offer made")


@router.post("/applications", response_model=ApplicationResponse, status_code=201,
             responses={200: {"model": ApplicationResponse, "description": "a retry: the first answer again"},
                        **errors(*COMMON, *SIGNED, "unknown_estimate", "offer_not_eligible", "amount_out_of_range",
                                 "idempotency_conflict", "estimate_used", "bad_reference", "reference_taken")})
async def apply(
    request: Request,
    idempotency_key: Annotated[str, Header(alias="Idempotency-Key", min_length=8, max_length=128)],
    device_id: SignedDevice,
    svc: ServiceDep,
) -> JSONResponse:
    body = await request.body()
    try:
        req = ApplicationRequest.model_validate_json(body)
    except ValueError as exc:
        raise ApiError("invalid_body", str(exc).splitlines()[0]) from None
    digest = body_digest(body)
    apps = db.applications.c
    with svc.engine.connect() as conn:
        device_number = conn.execute(select(db.devices.c.device_number).where(
            db.devices.c.device_id == device_id)).scalar()
        existing = conn.execute(select(db.applications).where(
            apps.device_id == device_id, apps.idempotency_key == idempotency_key)).first()
        est = conn.execute(select(db.estimates).where(
            db.estimates.c.estimate_id == req.estimate_id, db.estimates.c.device_id == device_id)).first()
        taken = conn.execute(select(apps.application_id).where(apps.estimate_id == req.estimate_id)).first()
    if existing is not None:
        return _replay(existing, digest)
    parsed = parse_reference(req.reference)
    if parsed is None or parsed[0] != device_number:
        raise ApiError("bad_reference", "the reference is not this device's or fails its check character")
    if taken is not None:
        raise ApiError("estimate_used", "this estimate already has an application")
    if est is None:
        raise ApiError("unknown_estimate", "estimate not found for this device")
    _check_against_offer(req, est)
    response = ApplicationResponse(application_id=secrets.token_hex(8), status="received", **req.model_dump())
    try:
        with svc.engine.begin() as conn:
            conn.execute(insert(db.applications).values(
                application_id=response.application_id, device_id=device_id, idempotency_key=idempotency_key,
                request_digest=digest, reference=req.reference, estimate_id=req.estimate_id, offer_id=req.offer_id,
                amount=req.amount, term_months=req.term_months, status="received",
                response=response.model_dump_json(), created_at=time.time()))
    except IntegrityError:  # raced: the same key from a retry (answer as the first), or the same estimate
        with svc.engine.connect() as conn:
            existing = conn.execute(select(db.applications).where(
                apps.device_id == device_id, apps.idempotency_key == idempotency_key)).first()
            same_reference = conn.execute(select(apps.application_id).where(apps.reference == req.reference)).first()
        if existing is None:
            if same_reference is not None:
                raise ApiError("reference_taken", "another application has this reference") from None
            raise ApiError("estimate_used", "this estimate already has an application") from None
        return _replay(existing, digest)
    return JSONResponse(json.loads(response.model_dump_json()), status_code=201)
