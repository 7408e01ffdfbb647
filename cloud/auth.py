"""Who is asking, as route dependencies: a registered device by its request signature, support staff by their
bearer token, a field agent by the provisioning token (wrong tokens count towards a per-source lockout)."""

from __future__ import annotations

import base64
import hmac
import time
from typing import Annotated

from cryptography.exceptions import InvalidSignature
from fastapi import Depends, Header, Request
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from cloud import db
from cloud.api_errors import ApiError
from cloud.guards import token_matches
from cloud.service import Service, ServiceDep
from contract.signing import (
    HEADER_DEVICE,
    HEADER_DIGEST,
    HEADER_IDEMPOTENCY,
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    body_digest,
    load_public_key,
    signing_string,
)


def check_token(svc: Service, kind: str, request: Request, token: str) -> None:
    """``kind``: "provisioning" (field agents) or "support"."""
    accepted = svc.settings.provisioning_tokens if kind == "provisioning" else svc.settings.support_tokens
    source = request.client.host if request.client else "unknown"
    if svc.lockout.locked(kind, source):
        raise ApiError("locked_out", "too many wrong tokens from this address; try again later")
    if not token or not token_matches(token, accepted):
        svc.lockout.failed(kind, source)
        if kind == "provisioning":
            raise ApiError("bad_token", "provisioning token not accepted")
        raise ApiError("not_support", "support token required")


async def signed_device(request: Request, svc: ServiceDep) -> str:
    """Authenticates the request: known device, fresh timestamp, unused nonce, intact body, valid signature."""
    h = request.headers
    device_id, timestamp = h.get(HEADER_DEVICE), h.get(HEADER_TIMESTAMP)
    nonce, digest, signature = h.get(HEADER_NONCE), h.get(HEADER_DIGEST), h.get(HEADER_SIGNATURE)
    if not all((device_id, timestamp, nonce, digest, signature)):
        raise ApiError("unsigned", "request is not signed")
    body = await request.body()  # already read and size-checked by BodyGuard
    try:
        ts = int(timestamp)
    except ValueError:
        raise ApiError("bad_timestamp", "timestamp is not an integer") from None
    now = time.time()
    skew = svc.settings.max_clock_skew_s
    if abs(now - ts) > skew:
        raise ApiError("stale_timestamp", "request timestamp outside the allowed clock skew", server_time=now)
    if not hmac.compare_digest(body_digest(body).encode(), digest.encode("utf-8", "surrogatepass")):
        raise ApiError("digest_mismatch", "body does not match its digest")
    with svc.engine.connect() as conn:
        row = conn.execute(select(db.devices.c.public_key).where(db.devices.c.device_id == device_id)).first()
    if row is None:
        raise ApiError("unknown_device", "device is not registered")
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    try:
        load_public_key(row.public_key).verify(
            base64.b64decode(signature),
            signing_string(request.method, path, timestamp, nonce, digest, h.get(HEADER_IDEMPOTENCY, "")),
        )
    except (InvalidSignature, ValueError):
        raise ApiError("bad_signature", "signature does not verify") from None
    try:
        with svc.engine.begin() as conn:
            if now - svc.housekeeping["nonces_pruned"] > 60:
                # Nonces older than twice the allowed skew can never be replayed (their timestamp is stale),
                # so they are pruned; once a minute is plenty and keeps writes per request low.
                conn.execute(delete(db.nonces).where(db.nonces.c.seen_at < now - 2 * skew))
                svc.housekeeping["nonces_pruned"] = now
            conn.execute(insert(db.nonces).values(device_id=device_id, nonce=nonce, seen_at=now))
    except IntegrityError:
        raise ApiError("replayed", "nonce already used") from None
    return device_id


def support_staff(request: Request, svc: ServiceDep,
                  authorization: Annotated[str, Header(alias="Authorization")] = "") -> None:
    scheme, _, token = authorization.partition(" ")
    check_token(svc, "support", request, token.strip() if scheme == "Bearer" else "")


SignedDevice = Annotated[str, Depends(signed_device)]  # a route's parameter: the device that signed it
