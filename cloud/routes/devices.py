"""Routes a kiosk calls about itself: registration, audit anchoring, diagnostics requests and uploads, a field
agent's check."""

from __future__ import annotations

import hashlib
import logging
import secrets
import time

from fastapi import APIRouter, Request
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from cloud import db
from cloud.api_errors import COMMON, SIGNED, ApiError, errors
from cloud.auth import SignedDevice, check_token
from cloud.guards import bundle_problem
from cloud.service import Service, ServiceDep
from contract.schemas import (
    AgentCheck,
    AgentCheckResult,
    AuditAnchor,
    AuditCheckpoint,
    BundleRequest,
    PendingRequests,
    RegisterRequest,
    RegisterResponse,
)
from contract.signing import load_public_key

log = logging.getLogger("cloud.api")
router = APIRouter(prefix="/v1/devices", tags=["devices"])


@router.post("/register", response_model=RegisterResponse,
             responses=errors(*COMMON, "bad_token", "locked_out", "rate_limited", "bad_public_key", "device_exists"))
def register(req: RegisterRequest, request: Request, svc: ServiceDep) -> RegisterResponse:
    check_token(svc, "provisioning", request, req.token)
    try:
        load_public_key(req.public_key)
    except ValueError:
        raise ApiError("bad_public_key", "public key is not a raw Ed25519 key") from None
    for _ in range(5):  # two registrations racing for the next device number: the loser takes the one after
        try:
            with svc.engine.begin() as conn:
                row = conn.execute(select(db.devices).where(db.devices.c.device_id == req.device_id)).first()
                if row is not None:
                    if row.public_key != req.public_key:
                        raise ApiError("device_exists", "device id registered with a different key")
                    return RegisterResponse(device_id=req.device_id, created=False, server_time=time.time(),
                                            device_number=row.device_number)
                token_id = hashlib.sha256(req.token.encode()).hexdigest()[:16]
                recent = conn.execute(select(func.count()).select_from(db.devices).where(
                    db.devices.c.token_id == token_id, db.devices.c.registered_at > time.time() - 3600)).scalar()
                if recent >= svc.settings.max_registrations_per_token_hour:
                    raise ApiError("rate_limited", "too many new devices with this token in the last hour")
                number = (conn.execute(select(func.max(db.devices.c.device_number))).scalar() or 0) + 1
                conn.execute(insert(db.devices).values(device_id=req.device_id, public_key=req.public_key,
                                                       device_number=number, shop=req.shop,
                                                       registered_at=time.time(), token_id=token_id))
        except IntegrityError:
            continue
        log.info("device registered", extra={"device": req.device_id, "device_number": number})
        return RegisterResponse(device_id=req.device_id, created=True, server_time=time.time(), device_number=number)
    raise ApiError("unavailable", "registration is busy; try again")


@router.get("/requests", response_model=PendingRequests, responses=errors(*COMMON, *SIGNED))
def pending_requests(device_id: SignedDevice, svc: ServiceDep) -> PendingRequests:
    with svc.engine.connect() as conn:
        rows = conn.execute(select(db.bundle_requests).where(
            db.bundle_requests.c.device_id == device_id, db.bundle_requests.c.status == "pending")).fetchall()
    return PendingRequests(requests=[BundleRequest(request_id=r.request_id, device_id=r.device_id, since=r.since,
                                                   status="pending") for r in rows])


@router.post("/agent-check", response_model=AgentCheckResult,
             responses=errors(*COMMON, *SIGNED, "bad_token", "locked_out"))
def agent_check(req: AgentCheck, request: Request, device_id: SignedDevice,
                svc: ServiceDep) -> AgentCheckResult:
    """A field agent at a registered kiosk proves who they are with the lender's token (wrong ones count towards
    the lockout like registrations do)."""
    check_token(svc, "provisioning", request, req.token)
    log.info("field agent authorised at device", extra={"device": device_id})
    return AgentCheckResult(ok=True)


def last_anchor(svc: Service, device_id: str) -> AuditAnchor:
    with svc.engine.connect() as conn:
        row = conn.execute(select(db.audit_anchors).where(db.audit_anchors.c.device_id == device_id)
                           .order_by(db.audit_anchors.c.seq.desc(), db.audit_anchors.c.anchored_at.desc())
                           .limit(1)).first()
    if row is None:
        return AuditAnchor(seq=0, head="0" * 64, anchored_at=None)
    return AuditAnchor(seq=row.seq, head=row.head, anchored_at=row.anchored_at)


@router.get("/audit-anchor", response_model=AuditAnchor, responses=errors(*COMMON, *SIGNED))
def get_anchor(device_id: SignedDevice, svc: ServiceDep) -> AuditAnchor:
    return last_anchor(svc, device_id)


@router.post("/audit-anchor", response_model=AuditAnchor,
             responses=errors(*COMMON, *SIGNED, "audit_truncated", "audit_forked"))
def anchor(req: AuditCheckpoint, device_id: SignedDevice,
           svc: ServiceDep) -> AuditAnchor:
    """Anchors the head if it extends the last anchor; a cut or a rewrite is refused and flagged for support."""
    last = last_anchor(svc, device_id)
    problem = None
    if req.seq < last.seq or req.previous_seq > req.seq:
        problem = ("audit_truncated", f"log ends at record {req.seq}, record {last.seq} was anchored")
    elif req.previous_seq != last.seq or req.previous_head != last.head:
        problem = ("audit_forked", f"record {last.seq} is not the one anchored")
    now = time.time()
    if problem:
        with svc.engine.begin() as conn:
            conn.execute(insert(db.flags).values(flag_id=secrets.token_hex(8), kind=problem[0], device_id=device_id,
                                                 detail=problem[1], created_at=now))
        raise ApiError(*problem)
    with svc.engine.begin() as conn:
        conn.execute(insert(db.audit_anchors).values(device_id=device_id, seq=req.seq, head=req.head, anchored_at=now))
    return AuditAnchor(seq=req.seq, head=req.head, anchored_at=now)


@router.put("/bundles/{request_id}", response_model=BundleRequest,
            responses=errors(*COMMON, *SIGNED, "bad_bundle", "unknown_request"))
async def upload_bundle(request_id: str, request: Request, device_id: SignedDevice,
                        svc: ServiceDep) -> BundleRequest:
    data = await request.body()
    problem = bundle_problem(data, svc.settings.max_bundle_uncompressed_bytes)
    if problem:
        raise ApiError("bad_bundle", f"the bundle is refused: {problem}")
    with svc.engine.begin() as conn:
        row = conn.execute(select(db.bundle_requests).where(
            db.bundle_requests.c.request_id == request_id, db.bundle_requests.c.device_id == device_id)).first()
        if row is None:
            raise ApiError("unknown_request", "no such request for this device")
        conn.execute(db.bundle_requests.update().where(db.bundle_requests.c.request_id == request_id).values(
            status="uploaded", uploaded_at=time.time(), data=data))
    return BundleRequest(request_id=request_id, device_id=device_id, since=row.since, status="uploaded")
