"""Routes for support staff (bearer token): ask a kiosk for diagnostics, download them, review fraud flags."""

from __future__ import annotations

import secrets
import time

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlalchemy import insert, select

from cloud import db
from cloud.api_errors import COMMON, SUPPORT, ApiError, errors
from cloud.auth import support_staff
from cloud.service import ServiceDep
from contract.schemas import BundleRequest, BundleRequestCreate, Flag, Flags

router = APIRouter(prefix="/v1/support", tags=["support"], dependencies=[Depends(support_staff)])


@router.post("/bundle-requests", response_model=BundleRequest, status_code=201,
             responses=errors(*COMMON, *SUPPORT, "no_such_device"))
def request_bundle(req: BundleRequestCreate, svc: ServiceDep) -> BundleRequest:
    now = time.time()
    request_id = secrets.token_hex(8)
    with svc.engine.begin() as conn:
        if conn.execute(select(db.devices.c.device_id).where(db.devices.c.device_id == req.device_id)).first() is None:
            raise ApiError("no_such_device", "no such device")
        conn.execute(insert(db.bundle_requests).values(
            request_id=request_id, device_id=req.device_id, since=now - 3600 * req.since_hours,
            requested_at=now, status="pending"))
    return BundleRequest(request_id=request_id, device_id=req.device_id, since=now - 3600 * req.since_hours,
                         status="pending")


@router.get("/flags", response_model=Flags, responses=errors(*COMMON, *SUPPORT))
def list_flags(svc: ServiceDep, since: float = 0.0) -> Flags:
    with svc.engine.connect() as conn:
        rows = conn.execute(select(db.flags).where(db.flags.c.created_at >= since)
                            .order_by(db.flags.c.created_at)).fetchall()
    return Flags(flags=[Flag(flag_id=r.flag_id, kind=r.kind, device_id=r.device_id, estimate_id=r.estimate_id,
                             detail=r.detail, created_at=r.created_at) for r in rows])


@router.get("/bundles/{request_id}", response_class=Response,
            responses={200: {"content": {"application/zip": {}}, "description": "the bundle"},
                       **errors(*COMMON, *SUPPORT, "unknown_request", "not_uploaded_yet")})
def download_bundle(request_id: str, svc: ServiceDep) -> Response:
    with svc.engine.connect() as conn:
        row = conn.execute(select(db.bundle_requests).where(db.bundle_requests.c.request_id == request_id)).first()
    if row is None:
        raise ApiError("unknown_request", "no such request")
    if row.status != "uploaded":
        raise ApiError("not_uploaded_yet", "the device has not uploaded the bundle yet")
    return Response(row.data, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{row.device_id}-{request_id}.zip"'})
