"""How the service answers when it says no: one error type, the documented body for every failure (validation,
unknown route, an unhandled bug), and each route's OpenAPI ``responses`` derived from the error catalogue."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from cloud.guards import error_body
from contract.errors import ERRORS
from contract.schemas import ErrorResponse

log = logging.getLogger("cloud.api")

# What every route can answer, whatever it does: a body over the limit or not strict JSON, the service failing.
COMMON = ("body_too_large", "invalid_body", "internal_error")
SIGNED = ("unsigned", "bad_timestamp", "stale_timestamp", "digest_mismatch", "bad_signature", "replayed",
          "unknown_device")
SUPPORT = ("not_support", "locked_out")


class ApiError(Exception):
    def __init__(self, code: str, message: str, **extra: object) -> None:
        super().__init__(message)
        # The status is the catalogue's, so the wire contract and the answer can never disagree.
        self.status, self.code, self.message, self.extra = ERRORS[code].status, code, message, extra


def errors(*codes: str) -> dict:
    """OpenAPI ``responses`` for a route: each status it can answer with, and the codes behind it."""
    out: dict[int, dict] = {}
    for code in codes:
        status = ERRORS[code].status
        entry = out.setdefault(status, {"model": ErrorResponse, "description": ""})
        entry["description"] = ", ".join(filter(None, (entry["description"], f"`{code}`")))
    return out


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


async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
    return JSONResponse({"error": {"code": exc.code, "message": exc.message, **exc.extra}}, status_code=exc.status)


async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
    # Only where and what, never the input itself (it may be NaN, huge, or somebody's data).
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ())) or "body"
    return JSONResponse({"error": {"code": "invalid_body", "message": f"{where}: {first.get('msg', 'invalid')}"[:200]}},
                        status_code=422)


async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = {404: "no_route", 405: "method_not_allowed"}.get(exc.status_code, "invalid_body")
    return JSONResponse({"error": {"code": code, "message": str(exc.detail)[:200]}}, status_code=ERRORS[code].status)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(StarletteHTTPException, _http)
