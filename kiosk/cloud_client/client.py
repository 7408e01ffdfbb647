"""Signed HTTP client for the scoring service: timeouts, bounded retries with backoff, strict responses.

Retries are done here rather than by urllib3's Retry: every attempt must be signed afresh (new nonce,
new timestamp), or the service would rightly reject the retry as a replay. Only connection failures,
timeouts and 5xx are retried; a 4xx is an answer.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TypeVar

import requests
from pydantic import BaseModel, ValidationError

from contract.signing import HEADER_IDEMPOTENCY, public_key_b64, sign_request
from contract.schemas import (
    ApplicationRequest,
    BundleRequest,
    PendingRequests,
    ApplicationResponse,
    EstimateRequest,
    EstimateResponse,
    Health,
    OffersResponse,
    RegisterRequest,
    RegisterResponse,
)
from kiosk.cloud_client.errors import CloudBadResponse, CloudRejected, CloudUnavailable, NotRegistered
from kiosk.cloud_client.identity import DeviceIdentity

T = TypeVar("T", bound=BaseModel)
MAX_RESPONSE_BYTES = 256_000


class CloudClient:
    def __init__(
        self,
        base_url: str,
        identity: DeviceIdentity | None = None,
        connect_timeout_s: float = 3.0,
        read_timeout_s: float = 10.0,
        max_retries: int = 3,
        backoff_s: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.identity = identity
        self.timeout = (connect_timeout_s, read_timeout_s)
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self._sleep = sleep
        self._session = requests.Session()

    # ---- API ----------------------------------------------------------------------------------------------

    def health(self) -> Health:
        return self._call("GET", "/v1/health", None, Health, signed=False)

    def register(self, token: str, device_id: str, shop: str, key) -> RegisterResponse:
        body = RegisterRequest(token=token, device_id=device_id, public_key=public_key_b64(key), shop=shop)
        return self._call("POST", "/v1/devices/register", body, RegisterResponse, signed=False)

    def estimate(self, request: EstimateRequest) -> EstimateResponse:
        return self._call("POST", "/v1/credit-estimates", request, EstimateResponse)

    def offers(self) -> OffersResponse:
        return self._call("GET", "/v1/offers", None, OffersResponse)

    def submit_application(self, request: ApplicationRequest, idempotency_key: str) -> ApplicationResponse:
        return self._call("POST", "/v1/applications", request, ApplicationResponse,
                          headers={HEADER_IDEMPOTENCY: idempotency_key})

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
        last: Exception | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                self._sleep(self.backoff_s * 2 ** (attempt - 1))
            request_headers = {"Content-Type": "application/json", **(headers or {})}
            if signed:
                if self.identity is None:
                    raise NotRegistered("this kiosk is not registered with the cloud (run `kiosk cloud register`)")
                request_headers.update(sign_request(self.identity.key, self.identity.device_id, method, path, payload))
            try:
                response = self._session.request(method, self.base_url + path, data=payload or None,
                                                 headers=request_headers, timeout=self.timeout, stream=True)
                raw = self._read_limited(response)
            except requests.RequestException as exc:  # refused, timed out, cut off mid-body
                last = exc
                continue
            if response.status_code >= 500:
                last = CloudUnavailable(f"service error {response.status_code}")
                continue
            return self._parse(response.status_code, raw, model)
        raise CloudUnavailable(f"{method} {path}: no answer after {self.max_retries + 1} attempts ({last})")

    def _read_limited(self, response: requests.Response) -> bytes:
        """The body, refusing one that is too big or that arrives too slowly in total (a slow drip keeps
        each read under the read timeout, so the overall deadline is checked here)."""
        deadline = time.monotonic() + self.timeout[1]
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
            raise CloudBadResponse(f"status {status}: response is not JSON") from None
        if status >= 400:
            error = data.get("error", {}) if isinstance(data, dict) else {}
            raise CloudRejected(status, str(error.get("code", "error")), str(error.get("message", "")))
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "<root>"
            raise CloudBadResponse(f"response field {where}: {first['msg']}") from None
