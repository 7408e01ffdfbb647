"""What stands between the open network and the service's handlers: body limits that hold for chunked uploads,
JSON that is really JSON, token checks that cannot crash, lockout after wrong tokens, and safe zip uploads.

All of it answers with the documented error body (contract.errors), never a traceback.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import math
import time
import zipfile
from collections.abc import Callable, Iterable

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Engine

from cloud import db


def error_body(code: str, message: str, **extra: object) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, **extra}}).encode()


class BodyGuard:
    """Pure ASGI middleware: reads the body in full before any handler runs, counting bytes as they arrive
    (so a chunked body without Content-Length is cut off at the limit too), then checks a JSON body strictly
    (no NaN or Infinity, no numbers too large for a double, no lone surrogates) and hands the buffered body on."""

    def __init__(self, app, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limit_for(scope["path"])
        headers = dict(scope.get("headers") or ())
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return await _refuse(send, 413, "body_too_large", "request body too large")
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return await _refuse(send, 413, "body_too_large", "request body too large")
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body and b"json" in headers.get(b"content-type", b""):
            problem = json_problem(body)
            if problem:
                return await _refuse(send, 422, "invalid_body", problem)
        sent = False

        async def replay():
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send)


async def _refuse(send, status: int, code: str, message: str) -> None:
    body = error_body(code, message)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:20]} is too large")
    return value


def json_problem(body: bytes) -> str | None:
    """Why ``body`` is not strict JSON (None: it is)."""
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_no_constant, parse_float=_finite)
    except UnicodeDecodeError:
        return "body is not UTF-8"
    except ValueError as exc:  # also ints beyond Python's digit limit
        return f"body is not strict JSON: {str(exc)[:80]}"
    if not _well_formed(data):
        return "body holds a string that is not valid Unicode"
    return None


def _well_formed(value: object) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate from a \\ud800 escape
            return False
        return True
    if isinstance(value, dict):
        return all(_well_formed(k) and _well_formed(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_well_formed(v) for v in value)
    if isinstance(value, float):
        return math.isfinite(value)
    return True


def token_matches(given: str, accepted: Iterable[str]) -> bool:
    """Constant-time comparison that works for any input: digests of the UTF-8 bytes are compared, so a
    non-ASCII or malformed token is simply wrong, never an exception."""
    mine = hashlib.sha256(given.encode("utf-8", "surrogatepass")).digest()
    return any(hmac.compare_digest(mine, hashlib.sha256(t.encode("utf-8")).digest()) for t in accepted)


class Lockout:
    """Wrong tokens per source (client address) and kind ("provisioning", "support"): after ``limit`` in
    ``window_s`` the source is refused (429 locked_out) until the window has passed. Kept in the database so
    every service instance sees the same count."""

    def __init__(self, engine: Engine, limit: int, window_s: float) -> None:
        self.engine, self.limit, self.window_s = engine, limit, window_s

    def locked(self, kind: str, source: str) -> bool:
        since = time.time() - self.window_s
        with self.engine.connect() as conn:
            count = conn.execute(select(func.count()).select_from(db.auth_failures).where(
                db.auth_failures.c.kind == kind, db.auth_failures.c.source == source,
                db.auth_failures.c.at > since)).scalar()
        return count >= self.limit

    def failed(self, kind: str, source: str) -> None:
        now = time.time()
        with self.engine.begin() as conn:
            conn.execute(delete(db.auth_failures).where(db.auth_failures.c.at < now - self.window_s))
            conn.execute(insert(db.auth_failures).values(kind=kind, source=source, at=now))


def bundle_problem(data: bytes, max_uncompressed: int, max_entries: int = 200, max_ratio: float = 100.0) -> str | None:
    """Why an uploaded diagnostics bundle is not safe to keep and hand to support (None: it is): not a zip,
    names that escape the folder (zip-slip), too many entries, or inflating beyond the limits (a zip bomb)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return "not a zip file"
    if len(infos) > max_entries:
        return f"more than {max_entries} entries"
    total = 0
    for info in infos:
        name = info.filename
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ".." in parts or ":" in name:
            return f"entry name {name[:60]!r} leaves the bundle's folder"
        total += info.file_size
        if total > max_uncompressed:
            return f"inflates beyond {max_uncompressed} bytes"
        if info.compress_size and info.file_size / info.compress_size > max_ratio:
            return f"entry {name[:60]!r} inflates more than {max_ratio:.0f} times"
    return None
