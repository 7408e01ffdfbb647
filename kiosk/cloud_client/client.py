"""Signed HTTP client for the scoring service: a total deadline per call, bounded retries, strict responses.

Retries are done here rather than by urllib3's Retry: every attempt must be signed afresh (new nonce,
new timestamp), or the service would rightly reject the retry as a replay. Connection failures, timeouts,
5xx, 408 and any 4xx that is not the service's own documented error (a gateway's page) are retried; so are the
service's refusals a fresh signature can cure (a stale timestamp, after re-syncing the clock from the
``server_time`` it sends; a replayed nonce; a signature spoilt in transit). The service's other errors are
answers (contract.errors says which are final).

Each attempt runs on its own short-lived thread and the caller waits at most until the deadline: urllib3's
read timeout is per socket read, so a server that drips one byte a second would otherwise hold the caller
forever. An abandoned attempt ends on its own at its next read timeout; its answer is discarded.
"""

from __future__ import annotations

import json
import threading
import time
from typing import TypeVar
from urllib.parse import urlsplit

import requests
from pydantic import BaseModel, ValidationError

from contract.errors import ERRORS, is_service_error
from contract.schemas import (
    AgentCheck,
    AgentCheckResult,
    ApplicationRequest,
    ApplicationResponse,
    AuditAnchor,
    AuditCheckpoint,
    BundleRequest,
    EstimateRequest,
    EstimateResponse,
    Health,
    OffersResponse,
    PendingRequests,
    RegisterRequest,
    RegisterResponse,
)
from contract.signing import HEADER_IDEMPOTENCY, public_key_b64, sign_request
from kiosk.cloud_client.errors import (
    CloudBadResponse,
    CloudRejected,
    CloudUnavailable,
    InsecureCloudUrl,
    NotRegistered,
)
from kiosk.cloud_client.identity import DeviceIdentity

T = TypeVar("T", bound=BaseModel)
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def url_problem(url: str) -> str | None:
    """Why the kiosk must not talk to ``url`` (None: it may): only https, except on this machine itself."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme == "http" and (host in LOOPBACK or host.startswith("127.")):
        return None
    return f"{url}: the scoring service must be reached over https (plain http only on this machine)"
MAX_RESPONSE_BYTES = 256_000
# The service's refusals that a re-signed attempt can cure, tried again within the same call.
RESIGN = frozenset({"stale_timestamp", "replayed", "bad_signature", "digest_mismatch"})


class CloudClient:
    def __init__(
        self,
        base_url: str,
        identity: DeviceIdentity | None = None,
        connect_timeout_s: float = 3.0,
        read_timeout_s: float = 10.0,
        max_retries: int = 3,
        backoff_s: float = 0.5,
        deadline_s: float | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        problem = url_problem(base_url)
        if problem:
            raise InsecureCloudUrl(problem)
        self.base_url = base_url.rstrip("/")
        self.identity = identity
        self.timeout = (connect_timeout_s, read_timeout_s)
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        # When set (the customer cancelled), a call in progress gives up within a tenth of a second.
        self.stop = stop or threading.Event()
        # The whole call, all attempts included: what the customer can be kept waiting, at most.
        self.deadline_s = deadline_s if deadline_s is not None else 2 * (connect_timeout_s + read_timeout_s)
        # Service clock minus ours, learnt from its ``server_time``: a kiosk whose clock has drifted still
        # signs timestamps the service accepts.
        self.clock_offset = 0.0

    # ---- API ----------------------------------------------------------------------------------------------

    def health(self) -> Health:
        health = self._call("GET", "/v1/health", None, Health, signed=False)
        self.clock_offset = health.server_time - time.time()
        return health

    def register(self, token: str, device_id: str, shop: str, key) -> RegisterResponse:
        body = RegisterRequest(token=token, device_id=device_id, public_key=public_key_b64(key), shop=shop)
        answer = self._call("POST", "/v1/devices/register", body, RegisterResponse, signed=False)
        self.clock_offset = answer.server_time - time.time()
        return answer

    def estimate(self, request: EstimateRequest) -> EstimateResponse:
        return self._call("POST", "/v1/credit-estimates", request, EstimateResponse)

    def offers(self) -> OffersResponse:
        return self._call("GET", "/v1/offers", None, OffersResponse)

    def submit_application(self, request: ApplicationRequest, idempotency_key: str) -> ApplicationResponse:
        return self._call("POST", "/v1/applications", request, ApplicationResponse,
                          headers={HEADER_IDEMPOTENCY: idempotency_key})

    def agent_check(self, token: str) -> AgentCheckResult:
        return self._call("POST", "/v1/devices/agent-check", AgentCheck(token=token), AgentCheckResult)

    def audit_anchor(self) -> AuditAnchor:
        return self._call("GET", "/v1/devices/audit-anchor", None, AuditAnchor)

    def anchor_audit(self, checkpoint: AuditCheckpoint) -> AuditAnchor:
        return self._call("POST", "/v1/devices/audit-anchor", checkpoint, AuditAnchor)

    def pending_requests(self) -> PendingRequests:
        return self._call("GET", "/v1/devices/requests", None, PendingRequests)

    def upload_bundle(self, request_id: str, data: bytes) -> BundleRequest:
        return self._call("PUT", f"/v1/devices/bundles/{request_id}", data, BundleRequest,
                          headers={"Content-Type": "application/zip"})

    # ---- mechanics ----------------------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: BaseModel | bytes | None, model: type[T], signed: bool = True,
              headers: dict[str, str] | None = None) -> T:
        if isinstance(body, bytes):
            payload = body
        else:
            payload = body.model_dump_json().encode() if body is not None else b""
        end = time.monotonic() + self.deadline_s
        last: Exception | None = None
        for attempt in range(self.max_retries + 1):
            if attempt and not isinstance(last, CloudRejected):  # a re-signed attempt needs no wait
                # The backoff pause ends early on stop.
                self.stop.wait(min(self.backoff_s * 2 ** (attempt - 1), max(end - time.monotonic(), 0)))
            left = end - time.monotonic()
            if left <= 0 or self.stop.is_set():
                break
            request_headers = {"Content-Type": "application/json", **(headers or {})}
            if signed:
                if self.identity is None:
                    raise NotRegistered("this kiosk is not registered with the cloud (run `kiosk cloud register`)")
                request_headers.update(sign_request(self.identity.key, self.identity.device_id, method, path, payload,
                                                    now=time.time() + self.clock_offset,
                                                    idempotency_key=request_headers.get(HEADER_IDEMPOTENCY, "")))
            try:
                status, raw = self._attempt(method, self.base_url + path, payload, request_headers, left)
            except requests.RequestException as exc:  # refused, timed out, cut off mid-body
                last = exc
                continue
            try:
                return self._parse(status, raw, model)
            except CloudRejected as exc:
                if exc.error_code not in RESIGN:
                    raise
                if exc.server_time is not None:
                    self.clock_offset = exc.server_time - time.time()
                last = exc
            except CloudUnavailable as exc:
                last = exc
        if isinstance(last, CloudRejected):
            raise last
        raise CloudUnavailable(f"{method} {path}: no answer after {attempt + 1} attempts within "
                               f"{self.deadline_s:.0f} s ({last})")

    def _attempt(self, method: str, url: str, payload: bytes, headers: dict[str, str], left: float
                 ) -> tuple[int, bytes]:
        """One HTTP exchange, status line to last byte, within ``left`` seconds (see the module's note)."""
        box: dict[str, object] = {}
        deadline = time.monotonic() + left

        def run() -> None:
            try:
                response = requests.request(method, url, data=payload or None, headers=headers,
                                            timeout=(min(self.timeout[0], left), min(self.timeout[1], left)),
                                            stream=True)
                box["answer"] = (response.status_code, self._read_limited(response, deadline))
            except Exception as exc:  # noqa: BLE001 (handed to the caller's thread, which raises it)
                box["error"] = exc

        worker = threading.Thread(target=run, name="cloud-call", daemon=True)
        worker.start()
        while worker.is_alive() and time.monotonic() < deadline and not self.stop.is_set():
            worker.join(min(0.1, max(deadline - time.monotonic(), 0)))
        if worker.is_alive():
            raise requests.Timeout("stopped" if self.stop.is_set() else f"no complete answer within {left:.1f} s")
        if "error" in box:
            raise box["error"]
        return box["answer"]

    @staticmethod
    def _read_limited(response: requests.Response, deadline: float) -> bytes:
        """The body, refusing one that is too big or still arriving at the deadline."""
        chunks, size = [], 0
        try:
            for chunk in response.iter_content(8192):
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    raise CloudBadResponse(f"response larger than {MAX_RESPONSE_BYTES} bytes")
                if time.monotonic() > deadline:
                    raise requests.Timeout("response body too slow")
                chunks.append(chunk)
        finally:
            response.close()
        return b"".join(chunks)

    @staticmethod
    def _parse(status: int, raw: bytes, model: type[T]) -> T:
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            if status >= 400:
                raise CloudUnavailable(f"status {status} that is not the service's answer") from None
            raise CloudBadResponse(f"status {status}: response is not JSON") from None
        if status >= 500 or status == 408:
            raise CloudUnavailable(f"service error {status}")
        if status >= 400:
            error = data.get("error") if isinstance(data, dict) else None
            code = str(error.get("code", "")) if isinstance(error, dict) else ""
            if not is_service_error(status, code):  # a gateway's or a proxy's answer: no answer yet
                raise CloudUnavailable(f"status {status} that is not the service's answer ({code or 'no code'})")
            server_time = error.get("server_time")
            raise CloudRejected(status, code, str(error.get("message", "")), ERRORS[code].final,
                                float(server_time) if isinstance(server_time, int | float) else None)
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "<root>"
            raise CloudBadResponse(f"response field {where}: {first['msg']}") from None
