"""The reference scoring service (FastAPI). Stateless between requests: all state is in the database."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
import tomllib

from cryptography.exceptions import InvalidSignature
from fastapi import Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from cloud import db
from cloud.credit.model import CreditModel
from cloud.acceptance import AcceptancePolicy
from cloud.credit.policy import CURRENCY, decide, held_for_review, reason_text
from cloud.id_hash import id_hash, load_key
from contract.id_number import number_problems
from contract.signing import (
    HEADER_DEVICE,
    HEADER_DIGEST,
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    body_digest,
    load_public_key,
    signing_string,
)
from contract.schemas import (
    ApplicationRequest,
    BundleRequest,
    BundleRequestCreate,
    PendingRequests,
    ApplicationResponse,
    EstimateRequest,
    EstimateResponse,
    Flag,
    Flags,
    Health,
    OffersResponse,
    Product,
    RegisterRequest,
    RegisterResponse,
)
from cloud.settings import ServiceSettings

log = logging.getLogger("cloud.api")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _load_offers(settings: ServiceSettings) -> OffersResponse:
    raw = settings.offers_file.read_bytes()
    products = [Product(**p) for p in tomllib.loads(raw.decode())["product"]]
    return OffersResponse(version=hashlib.sha256(raw).hexdigest()[:12], products=products)


def create_app(settings: ServiceSettings | None = None, model: CreditModel | None = None) -> FastAPI:
    settings = settings or ServiceSettings()
    engine = db.connect(settings.database_url)
    credit = model or CreditModel.load(settings.bureau_csv, settings.scorecard)
    catalog = _load_offers(settings)
    acceptance = AcceptancePolicy.load(settings.acceptance_file)
    hash_key = load_key(settings.id_hash_key_file)
    app = FastAPI(title="Kiosk credit scoring service", version="1.0.0")
    housekeeping = {"nonces_pruned": 0.0}

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"error": {"code": exc.code, "message": exc.message}}, status_code=exc.status)

    def body_limit(path: str) -> int:
        return settings.max_bundle_bytes if path.startswith("/v1/devices/bundles/") else settings.max_body_bytes

    @app.middleware("http")
    async def _limit_body(request: Request, call_next):
        length = request.headers.get("content-length")
        if length is not None and int(length) > body_limit(request.url.path):
            return JSONResponse({"error": {"code": "body_too_large", "message": "request body too large"}},
                                status_code=413)
        return await call_next(request)

    async def signed_device(request: Request) -> str:
        """Authenticates the request: known device, fresh timestamp, unused nonce, intact body, valid signature."""
        h = request.headers
        device_id, timestamp = h.get(HEADER_DEVICE), h.get(HEADER_TIMESTAMP)
        nonce, digest, signature = h.get(HEADER_NONCE), h.get(HEADER_DIGEST), h.get(HEADER_SIGNATURE)
        if not all((device_id, timestamp, nonce, digest, signature)):
            raise ApiError(401, "unsigned", "request is not signed")
        body = await request.body()
        if len(body) > body_limit(request.url.path):
            raise ApiError(413, "body_too_large", "request body too large")
        try:
            ts = int(timestamp)
        except ValueError:
            raise ApiError(401, "bad_timestamp", "timestamp is not an integer") from None
        now = time.time()
        if abs(now - ts) > settings.max_clock_skew_s:
            raise ApiError(401, "stale_timestamp", "request timestamp outside the allowed clock skew")
        if not hmac.compare_digest(body_digest(body), digest):
            raise ApiError(401, "digest_mismatch", "body does not match its digest")
        with engine.connect() as conn:
            row = conn.execute(select(db.devices.c.public_key).where(db.devices.c.device_id == device_id)).first()
        if row is None:
            raise ApiError(401, "unknown_device", "device is not registered")
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        try:
            load_public_key(row.public_key).verify(
                base64.b64decode(signature), signing_string(request.method, path, timestamp, nonce, digest)
            )
        except (InvalidSignature, ValueError):
            raise ApiError(401, "bad_signature", "signature does not verify") from None
        try:
            with engine.begin() as conn:
                if now - housekeeping["nonces_pruned"] > 60:
                    # Nonces older than twice the allowed skew can never be replayed (their timestamp is
                    # stale), so they are pruned; once a minute is plenty and keeps writes per request low.
                    conn.execute(delete(db.nonces).where(db.nonces.c.seen_at < now - 2 * settings.max_clock_skew_s))
                    housekeeping["nonces_pruned"] = now
                conn.execute(insert(db.nonces).values(device_id=device_id, nonce=nonce, seen_at=now))
        except IntegrityError:
            raise ApiError(401, "replayed", "nonce already used") from None
        return device_id

    @app.get("/v1/health", response_model=Health)
    def health() -> Health:
        m = credit.card.metrics
        return Health(status="ok", server_time=time.time(), model={"auc_test": m["auc_test"], "ks_test": m["ks_test"]})

    @app.post("/v1/devices/register", response_model=RegisterResponse)
    def register(req: RegisterRequest) -> RegisterResponse:
        if not any(hmac.compare_digest(req.token, t) for t in settings.provisioning_tokens):
            raise ApiError(403, "bad_token", "provisioning token not accepted")
        try:
            load_public_key(req.public_key)
        except ValueError:
            raise ApiError(422, "bad_public_key", "public key is not a raw Ed25519 key") from None
        with engine.begin() as conn:
            row = conn.execute(select(db.devices).where(db.devices.c.device_id == req.device_id)).first()
            if row is not None:
                if row.public_key != req.public_key:
                    raise ApiError(409, "device_exists", "device id registered with a different key")
                return RegisterResponse(device_id=req.device_id, created=False, server_time=time.time())
            conn.execute(insert(db.devices).values(device_id=req.device_id, public_key=req.public_key,
                                                   shop=req.shop, registered_at=time.time()))
        log.info("device registered", extra={"device": req.device_id})
        return RegisterResponse(device_id=req.device_id, created=True, server_time=time.time())

    @app.post("/v1/credit-estimates", response_model=EstimateResponse)
    def estimate(req: EstimateRequest, device_id: str = Depends(signed_device)) -> EstimateResponse:
        a, identity = req.applicant, req.identity
        number = identity.document.id_number
        problems = number_problems(number)
        if problems:  # not a number any card carries: refused, never scored as a "thin file"
            raise ApiError(422, problems[0], "the ID number fails the GB 11643 checks")
        now = time.time()
        hashed = id_hash(hash_key, number)
        with engine.connect() as conn:
            recent = conn.execute(select(func.count()).select_from(db.estimates).where(
                db.estimates.c.device_id == device_id, db.estimates.c.created_at > now - 3600)).scalar()
            elsewhere = conn.execute(select(db.estimates.c.device_id).where(
                db.estimates.c.id_hash == hashed, db.estimates.c.device_id != device_id,
                db.estimates.c.created_at > now - settings.cross_device_window_s).limit(1)).first()
        if recent >= settings.max_estimates_per_device_hour:
            raise ApiError(429, "rate_limited", "too many estimates from this device in the last hour")
        failures = acceptance.failures(identity)
        record = credit.lookup(number)
        pd, reasons = credit.score(record) if record is not None else (None, ())
        d = decide(pd, not failures, a.monthly_income, a.requested_amount, reasons)
        if failures:
            log.info("identity not verified", extra={"device": device_id, "failures": failures})
        elif elsewhere is not None:
            d = held_for_review(d.pd)
        estimate_id = secrets.token_hex(8)
        with engine.begin() as conn:
            conn.execute(insert(db.estimates).values(
                estimate_id=estimate_id, device_id=device_id, id_hash=hashed, decision=d.decision, grade=d.grade,
                pd=d.pd, limit_amount=d.limit, created_at=now))
            if d.decision == "review":
                conn.execute(insert(db.flags).values(
                    flag_id=secrets.token_hex(8), kind="same_id_other_device", device_id=device_id, id_hash=hashed,
                    estimate_id=estimate_id, detail=f"also seen at {elsewhere.device_id}", created_at=now))
        return EstimateResponse(estimate_id=estimate_id, decision=d.decision, grade=d.grade,
                                pd=None if d.pd is None else round(d.pd, 4), limit=d.limit,
                                currency=CURRENCY, reasons=[reason_text(c) for c in d.reasons],
                                reason_codes=list(d.reasons))

    @app.get("/v1/offers", response_model=OffersResponse)
    def offers(device_id: str = Depends(signed_device)) -> OffersResponse:
        return catalog

    @app.post("/v1/applications", response_model=ApplicationResponse)
    async def apply(
        request: Request,
        idempotency_key: str = Header(..., alias="Idempotency-Key", min_length=8, max_length=128),
        device_id: str = Depends(signed_device),
    ) -> JSONResponse:
        body = await request.body()
        try:
            req = ApplicationRequest.model_validate_json(body)
        except ValueError as exc:
            raise ApiError(422, "invalid_body", str(exc).splitlines()[0]) from None
        digest = body_digest(body)
        with engine.connect() as conn:
            existing = conn.execute(select(db.applications).where(
                db.applications.c.device_id == device_id,
                db.applications.c.idempotency_key == idempotency_key)).first()
            est = conn.execute(select(db.estimates).where(
                db.estimates.c.estimate_id == req.estimate_id, db.estimates.c.device_id == device_id)).first()
        if existing is not None:
            return _replay(existing, digest)
        if est is None:
            raise ApiError(404, "unknown_estimate", "estimate not found for this device")
        product = next((p for p in catalog.products if p.id == req.offer_id), None)
        if product is None or est.grade not in product.grades or req.term_months not in product.terms:
            raise ApiError(422, "offer_not_eligible", "offer not available for this estimate")
        if req.amount > est.limit_amount + 1e-6 or not product.min_amount <= req.amount <= product.max_amount:
            raise ApiError(422, "amount_out_of_range", "amount exceeds the limit or the product range")
        response = ApplicationResponse(application_id=secrets.token_hex(8), status="received", **req.model_dump())
        try:
            with engine.begin() as conn:
                conn.execute(insert(db.applications).values(
                    application_id=response.application_id, device_id=device_id, idempotency_key=idempotency_key,
                    request_digest=digest, estimate_id=req.estimate_id, offer_id=req.offer_id, amount=req.amount,
                    term_months=req.term_months, status="received", response=response.model_dump_json(),
                    created_at=time.time()))
        except IntegrityError:  # the same key raced in from a retry: answer as the first one was answered
            with engine.connect() as conn:
                existing = conn.execute(select(db.applications).where(
                    db.applications.c.device_id == device_id,
                    db.applications.c.idempotency_key == idempotency_key)).first()
            return _replay(existing, digest)
        return JSONResponse(json.loads(response.model_dump_json()), status_code=201)

    def _replay(existing, digest: str) -> JSONResponse:
        if existing.request_digest != digest:
            raise ApiError(409, "idempotency_conflict", "idempotency key reused with a different request")
        return JSONResponse(json.loads(existing.response), status_code=200)

    def support_staff(authorization: str = Header("", alias="Authorization")) -> None:
        token = authorization.removeprefix("Bearer ").strip()
        if not token or not any(hmac.compare_digest(token, t) for t in settings.support_tokens):
            raise ApiError(403, "not_support", "support token required")

    @app.post("/v1/support/bundle-requests", response_model=BundleRequest, status_code=201)
    def request_bundle(req: BundleRequestCreate, _: None = Depends(support_staff)) -> BundleRequest:
        now = time.time()
        request_id = secrets.token_hex(8)
        with engine.begin() as conn:
            if conn.execute(select(db.devices.c.device_id).where(db.devices.c.device_id == req.device_id)).first() is None:
                raise ApiError(404, "unknown_device", "no such device")
            conn.execute(insert(db.bundle_requests).values(
                request_id=request_id, device_id=req.device_id, since=now - 3600 * req.since_hours,
                requested_at=now, status="pending"))
        return BundleRequest(request_id=request_id, device_id=req.device_id, since=now - 3600 * req.since_hours,
                             status="pending")

    @app.get("/v1/support/flags", response_model=Flags)
    def list_flags(since: float = 0.0, _: None = Depends(support_staff)) -> Flags:
        with engine.connect() as conn:
            rows = conn.execute(select(db.flags).where(db.flags.c.created_at >= since)
                                .order_by(db.flags.c.created_at)).fetchall()
        return Flags(flags=[Flag(flag_id=r.flag_id, kind=r.kind, device_id=r.device_id, estimate_id=r.estimate_id,
                                 detail=r.detail, created_at=r.created_at) for r in rows])

    @app.get("/v1/devices/requests", response_model=PendingRequests)
    def pending_requests(device_id: str = Depends(signed_device)) -> PendingRequests:
        with engine.connect() as conn:
            rows = conn.execute(select(db.bundle_requests).where(
                db.bundle_requests.c.device_id == device_id, db.bundle_requests.c.status == "pending")).fetchall()
        return PendingRequests(requests=[BundleRequest(request_id=r.request_id, device_id=r.device_id, since=r.since,
                                                       status="pending") for r in rows])

    @app.put("/v1/devices/bundles/{request_id}", response_model=BundleRequest)
    async def upload_bundle(request_id: str, request: Request, device_id: str = Depends(signed_device)) -> BundleRequest:
        data = await request.body()
        if not data.startswith(b"PK"):
            raise ApiError(422, "not_a_zip", "the bundle must be a zip file")
        with engine.begin() as conn:
            row = conn.execute(select(db.bundle_requests).where(
                db.bundle_requests.c.request_id == request_id, db.bundle_requests.c.device_id == device_id)).first()
            if row is None:
                raise ApiError(404, "unknown_request", "no such request for this device")
            conn.execute(db.bundle_requests.update().where(db.bundle_requests.c.request_id == request_id).values(
                status="uploaded", uploaded_at=time.time(), data=data))
        return BundleRequest(request_id=request_id, device_id=device_id, since=row.since, status="uploaded")

    @app.get("/v1/support/bundles/{request_id}")
    def download_bundle(request_id: str, _: None = Depends(support_staff)) -> Response:
        with engine.connect() as conn:
            row = conn.execute(select(db.bundle_requests).where(db.bundle_requests.c.request_id == request_id)).first()
        if row is None:
            raise ApiError(404, "unknown_request", "no such request")
        if row.status != "uploaded":
            raise ApiError(409, "not_uploaded_yet", "the device has not uploaded the bundle yet")
        return Response(row.data, media_type="application/zip",
                        headers={"Content-Disposition": f'attachment; filename="{row.device_id}-{request_id}.zip"'})

    app.state.engine = engine
    app.state.settings = settings
    return app
