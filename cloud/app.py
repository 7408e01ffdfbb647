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
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from cloud import db
from cloud.acceptance import AcceptancePolicy
from cloud.credit.model import CreditModel
from cloud.credit.policy import CURRENCY, decide, held_for_review, reason_text
from cloud.guards import BodyGuard, Lockout, bundle_problem, error_body, token_matches
from cloud.id_hash import id_hash, load_key
from cloud.settings import ServiceSettings
from contract.errors import ERRORS
from contract.id_number import NUMBER_REASONS, number_problems
from contract.reference import parse_reference
from contract.schemas import (
    AgentCheck,
    AgentCheckResult,
    ApplicationRequest,
    ApplicationResponse,
    AuditAnchor,
    AuditCheckpoint,
    BundleRequest,
    BundleRequestCreate,
    ErrorResponse,
    EstimateRequest,
    EstimateResponse,
    Flag,
    Flags,
    Health,
    OffersResponse,
    PendingRequests,
    Product,
    RegisterRequest,
    RegisterResponse,
)
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

log = logging.getLogger("cloud.api")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: object) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def errors(*codes: str) -> dict:
    """OpenAPI ``responses`` for a route: each status it can answer with, and the codes behind it."""
    out: dict[int, dict] = {}
    for code in codes:
        status = ERRORS[code].status
        entry = out.setdefault(status, {"model": ErrorResponse, "description": ""})
        entry["description"] = ", ".join(filter(None, (entry["description"], f"`{code}`")))
    return out


# What every route can answer, whatever it does: a body over the limit or not strict JSON, the service failing.
COMMON = ("body_too_large", "invalid_body", "internal_error")
SIGNED = ("unsigned", "bad_timestamp", "stale_timestamp", "digest_mismatch", "bad_signature", "replayed",
          "unknown_device")
SUPPORT = ("not_support", "locked_out")


class ErrorGuard:
    """Outermost ASGI wrapper: an exception no handler caught becomes the documented 500 body and one log line
    (its type), not a traceback per request."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        started = False

        async def tracking_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:  # noqa: BLE001 (the last line of defence: any bug becomes the 500 body)
            log.error("unhandled error", extra={"error": type(exc).__name__, "path": scope.get("path", "")})
            if scope["type"] != "http" or started:
                return
            body = error_body("internal_error", "the service failed; try again later")
            await send({"type": "http.response.start", "status": 500,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": body})


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

    lockout = Lockout(engine, settings.max_token_failures, settings.token_lockout_s)

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"error": {"code": exc.code, "message": exc.message, **exc.extra}}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # Only where and what, never the input itself (it may be NaN, huge, or somebody's data).
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        return JSONResponse({"error": {"code": "invalid_body", "message": f"{where}: {first.get('msg', 'invalid')}"[:200]}},
                            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "no_route", 405: "method_not_allowed"}.get(exc.status_code, "invalid_body")
        return JSONResponse({"error": {"code": code, "message": str(exc.detail)[:200]}},
                            status_code=ERRORS[code].status)

    def body_limit(path: str) -> int:
        return settings.max_bundle_bytes if path.startswith("/v1/devices/bundles/") else settings.max_body_bytes

    app.add_middleware(BodyGuard, limit_for=body_limit)
    app.add_middleware(ErrorGuard)

    def check_token(kind: str, request: Request, token: str, accepted: list[str]) -> None:
        source = request.client.host if request.client else "unknown"
        if lockout.locked(kind, source):
            raise ApiError(429, "locked_out", "too many wrong tokens from this address; try again later")
        if not token or not token_matches(token, accepted):
            lockout.failed(kind, source)
            raise ApiError(403, "bad_token" if kind == "provisioning" else "not_support",
                           "provisioning token not accepted" if kind == "provisioning" else "support token required")

    async def signed_device(request: Request) -> str:
        """Authenticates the request: known device, fresh timestamp, unused nonce, intact body, valid signature."""
        h = request.headers
        device_id, timestamp = h.get(HEADER_DEVICE), h.get(HEADER_TIMESTAMP)
        nonce, digest, signature = h.get(HEADER_NONCE), h.get(HEADER_DIGEST), h.get(HEADER_SIGNATURE)
        if not all((device_id, timestamp, nonce, digest, signature)):
            raise ApiError(401, "unsigned", "request is not signed")
        body = await request.body()  # already read and size-checked by BodyGuard
        try:
            ts = int(timestamp)
        except ValueError:
            raise ApiError(401, "bad_timestamp", "timestamp is not an integer") from None
        now = time.time()
        if abs(now - ts) > settings.max_clock_skew_s:
            raise ApiError(401, "stale_timestamp", "request timestamp outside the allowed clock skew", server_time=now)
        if not hmac.compare_digest(body_digest(body).encode(), digest.encode("utf-8", "surrogatepass")):
            raise ApiError(401, "digest_mismatch", "body does not match its digest")
        with engine.connect() as conn:
            row = conn.execute(select(db.devices.c.public_key).where(db.devices.c.device_id == device_id)).first()
        if row is None:
            raise ApiError(401, "unknown_device", "device is not registered")
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        try:
            load_public_key(row.public_key).verify(
                base64.b64decode(signature),
                signing_string(request.method, path, timestamp, nonce, digest, h.get(HEADER_IDEMPOTENCY, "")),
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

    @app.get("/v1/health", response_model=Health, responses=errors(*COMMON))
    def health() -> Health:
        m = credit.card.metrics
        return Health(status="ok", server_time=time.time(), model={"auc_test": m["auc_test"], "ks_test": m["ks_test"]})

    @app.post("/v1/devices/register", response_model=RegisterResponse,
              responses=errors(*COMMON, "bad_token", "locked_out", "rate_limited", "bad_public_key", "device_exists"))
    def register(req: RegisterRequest, request: Request) -> RegisterResponse:
        check_token("provisioning", request, req.token, settings.provisioning_tokens)
        try:
            load_public_key(req.public_key)
        except ValueError:
            raise ApiError(422, "bad_public_key", "public key is not a raw Ed25519 key") from None
        for _ in range(5):  # two registrations racing for the next device number: the loser takes the one after
            try:
                with engine.begin() as conn:
                    row = conn.execute(select(db.devices).where(db.devices.c.device_id == req.device_id)).first()
                    if row is not None:
                        if row.public_key != req.public_key:
                            raise ApiError(409, "device_exists", "device id registered with a different key")
                        return RegisterResponse(device_id=req.device_id, created=False, server_time=time.time(),
                                                device_number=row.device_number)
                    token_id = hashlib.sha256(req.token.encode()).hexdigest()[:16]
                    recent = conn.execute(select(func.count()).select_from(db.devices).where(
                        db.devices.c.token_id == token_id, db.devices.c.registered_at > time.time() - 3600)).scalar()
                    if recent >= settings.max_registrations_per_token_hour:
                        raise ApiError(429, "rate_limited", "too many new devices with this token in the last hour")
                    number = (conn.execute(select(func.max(db.devices.c.device_number))).scalar() or 0) + 1
                    conn.execute(insert(db.devices).values(device_id=req.device_id, public_key=req.public_key,
                                                           device_number=number, shop=req.shop,
                                                           registered_at=time.time(), token_id=token_id))
            except IntegrityError:
                continue
            log.info("device registered", extra={"device": req.device_id, "device_number": number})
            return RegisterResponse(device_id=req.device_id, created=True, server_time=time.time(),
                                    device_number=number)
        raise ApiError(503, "unavailable", "registration is busy; try again")

    @app.post("/v1/credit-estimates", response_model=EstimateResponse,
              responses=errors(*COMMON, *SIGNED, "rate_limited", *NUMBER_REASONS))
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

    @app.get("/v1/offers", response_model=OffersResponse, responses=errors(*COMMON, *SIGNED))
    def offers(device_id: str = Depends(signed_device)) -> OffersResponse:
        return catalog

    @app.post("/v1/applications", response_model=ApplicationResponse, status_code=201,
              responses={200: {"model": ApplicationResponse, "description": "a retry: the first answer again"},
                         **errors(*COMMON, *SIGNED, "unknown_estimate", "offer_not_eligible", "amount_out_of_range",
                                  "idempotency_conflict", "estimate_used", "bad_reference", "reference_taken")})
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
            device_number = conn.execute(select(db.devices.c.device_number).where(
                db.devices.c.device_id == device_id)).scalar()
            existing = conn.execute(select(db.applications).where(
                db.applications.c.device_id == device_id,
                db.applications.c.idempotency_key == idempotency_key)).first()
            est = conn.execute(select(db.estimates).where(
                db.estimates.c.estimate_id == req.estimate_id, db.estimates.c.device_id == device_id)).first()
            taken = conn.execute(select(db.applications.c.application_id).where(
                db.applications.c.estimate_id == req.estimate_id)).first()
        if existing is not None:
            return _replay(existing, digest)
        parsed = parse_reference(req.reference)
        if parsed is None or parsed[0] != device_number:
            raise ApiError(422, "bad_reference", "the reference is not this device's or fails its check character")
        if taken is not None:
            raise ApiError(409, "estimate_used", "this estimate already has an application")
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
                    request_digest=digest, reference=req.reference, estimate_id=req.estimate_id, offer_id=req.offer_id, amount=req.amount,
                    term_months=req.term_months, status="received", response=response.model_dump_json(),
                    created_at=time.time()))
        except IntegrityError:  # raced: the same key from a retry (answer as the first), or the same estimate
            with engine.connect() as conn:
                existing = conn.execute(select(db.applications).where(
                    db.applications.c.device_id == device_id,
                    db.applications.c.idempotency_key == idempotency_key)).first()
                same_reference = conn.execute(select(db.applications.c.application_id).where(
                    db.applications.c.reference == req.reference)).first()
            if existing is None:
                if same_reference is not None:
                    raise ApiError(409, "reference_taken", "another application has this reference") from None
                raise ApiError(409, "estimate_used", "this estimate already has an application") from None
            return _replay(existing, digest)
        return JSONResponse(json.loads(response.model_dump_json()), status_code=201)

    def _replay(existing, digest: str) -> JSONResponse:
        if existing.request_digest != digest:
            raise ApiError(409, "idempotency_conflict", "idempotency key reused with a different request")
        return JSONResponse(json.loads(existing.response), status_code=200)

    def support_staff(request: Request, authorization: str = Header("", alias="Authorization")) -> None:
        scheme, _, token = authorization.partition(" ")
        check_token("support", request, token.strip() if scheme == "Bearer" else "", settings.support_tokens)

    @app.post("/v1/support/bundle-requests", response_model=BundleRequest, status_code=201,
              responses=errors(*COMMON, *SUPPORT, "no_such_device"))
    def request_bundle(req: BundleRequestCreate, _: None = Depends(support_staff)) -> BundleRequest:
        now = time.time()
        request_id = secrets.token_hex(8)
        with engine.begin() as conn:
            if conn.execute(select(db.devices.c.device_id).where(db.devices.c.device_id == req.device_id)).first() is None:
                raise ApiError(404, "no_such_device", "no such device")
            conn.execute(insert(db.bundle_requests).values(
                request_id=request_id, device_id=req.device_id, since=now - 3600 * req.since_hours,
                requested_at=now, status="pending"))
        return BundleRequest(request_id=request_id, device_id=req.device_id, since=now - 3600 * req.since_hours,
                             status="pending")

    @app.get("/v1/support/flags", response_model=Flags, responses=errors(*COMMON, *SUPPORT))
    def list_flags(since: float = 0.0, _: None = Depends(support_staff)) -> Flags:
        with engine.connect() as conn:
            rows = conn.execute(select(db.flags).where(db.flags.c.created_at >= since)
                                .order_by(db.flags.c.created_at)).fetchall()
        return Flags(flags=[Flag(flag_id=r.flag_id, kind=r.kind, device_id=r.device_id, estimate_id=r.estimate_id,
                                 detail=r.detail, created_at=r.created_at) for r in rows])

    @app.get("/v1/devices/requests", response_model=PendingRequests, responses=errors(*COMMON, *SIGNED))
    def pending_requests(device_id: str = Depends(signed_device)) -> PendingRequests:
        with engine.connect() as conn:
            rows = conn.execute(select(db.bundle_requests).where(
                db.bundle_requests.c.device_id == device_id, db.bundle_requests.c.status == "pending")).fetchall()
        return PendingRequests(requests=[BundleRequest(request_id=r.request_id, device_id=r.device_id, since=r.since,
                                                       status="pending") for r in rows])

    @app.post("/v1/devices/agent-check", response_model=AgentCheckResult,
              responses=errors(*COMMON, *SIGNED, "bad_token", "locked_out"))
    def agent_check(req: AgentCheck, request: Request, device_id: str = Depends(signed_device)) -> AgentCheckResult:
        """A field agent at a registered kiosk proves who they are with the lender's token (wrong ones count
        towards the lockout like registrations do)."""
        check_token("provisioning", request, req.token, settings.provisioning_tokens)
        log.info("field agent authorised at device", extra={"device": device_id})
        return AgentCheckResult(ok=True)

    def last_anchor(device_id: str) -> AuditAnchor:
        with engine.connect() as conn:
            row = conn.execute(select(db.audit_anchors).where(db.audit_anchors.c.device_id == device_id)
                               .order_by(db.audit_anchors.c.seq.desc(), db.audit_anchors.c.anchored_at.desc())
                               .limit(1)).first()
        if row is None:
            return AuditAnchor(seq=0, head="0" * 64, anchored_at=None)
        return AuditAnchor(seq=row.seq, head=row.head, anchored_at=row.anchored_at)

    @app.get("/v1/devices/audit-anchor", response_model=AuditAnchor, responses=errors(*COMMON, *SIGNED))
    def get_anchor(device_id: str = Depends(signed_device)) -> AuditAnchor:
        return last_anchor(device_id)

    @app.post("/v1/devices/audit-anchor", response_model=AuditAnchor,
              responses=errors(*COMMON, *SIGNED, "audit_truncated", "audit_forked"))
    def anchor(req: AuditCheckpoint, device_id: str = Depends(signed_device)) -> AuditAnchor:
        """Anchors the head if it extends the last anchor; a cut or a rewrite is refused and flagged for support."""
        last = last_anchor(device_id)
        problem = None
        if req.seq < last.seq or req.previous_seq > req.seq:
            problem = ("audit_truncated", f"log ends at record {req.seq}, record {last.seq} was anchored")
        elif req.previous_seq != last.seq or req.previous_head != last.head:
            problem = ("audit_forked", f"record {last.seq} is not the one anchored")
        now = time.time()
        if problem:
            with engine.begin() as conn:
                conn.execute(insert(db.flags).values(flag_id=secrets.token_hex(8), kind=problem[0], device_id=device_id,
                                                     detail=problem[1], created_at=now))
            raise ApiError(409, *problem)
        with engine.begin() as conn:
            conn.execute(insert(db.audit_anchors).values(device_id=device_id, seq=req.seq, head=req.head,
                                                         anchored_at=now))
        return AuditAnchor(seq=req.seq, head=req.head, anchored_at=now)

    @app.put("/v1/devices/bundles/{request_id}", response_model=BundleRequest,
             responses=errors(*COMMON, *SIGNED, "bad_bundle", "unknown_request"))
    async def upload_bundle(request_id: str, request: Request, device_id: str = Depends(signed_device)) -> BundleRequest:
        data = await request.body()
        problem = bundle_problem(data, settings.max_bundle_uncompressed_bytes)
        if problem:
            raise ApiError(422, "bad_bundle", f"the bundle is refused: {problem}")
        with engine.begin() as conn:
            row = conn.execute(select(db.bundle_requests).where(
                db.bundle_requests.c.request_id == request_id, db.bundle_requests.c.device_id == device_id)).first()
            if row is None:
                raise ApiError(404, "unknown_request", "no such request for this device")
            conn.execute(db.bundle_requests.update().where(db.bundle_requests.c.request_id == request_id).values(
                status="uploaded", uploaded_at=time.time(), data=data))
        return BundleRequest(request_id=request_id, device_id=device_id, since=row.since, status="uploaded")

    @app.get("/v1/support/bundles/{request_id}", response_class=Response,
             responses={200: {"content": {"application/zip": {}}, "description": "the bundle"},
                        **errors(*COMMON, *SUPPORT, "unknown_request", "not_uploaded_yet")})
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
