"""The staff PIN: a salted scrypt hash on disk, and a lockout after repeated failures (survives restarts)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from kiosk.private_files import write_private

log = logging.getLogger("kiosk.admin")
MAX_FAILURES = 5
LOCKOUT_S = 300
SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


@dataclass(frozen=True)
class PinResult:
    ok: bool
    tries_left: int
    locked_for_s: float


class PinStore:
    def __init__(self, path: Path, clock=time.time, audit=None) -> None:
        self.path = path
        self.clock = clock
        self.audit = audit  # every staff action is audited

    def _record(self, action: str, detail: dict | None = None) -> None:
        if self.audit is not None:
            self.audit.append("staff", action, detail or {})

    def _load(self) -> dict:
        return json.loads(self.path.read_text()) if self.path.is_file() else {}

    def _save(self, data: dict) -> None:
        write_private(self.path, json.dumps(data).encode())

    @property
    def is_set(self) -> bool:
        return "hash" in self._load()

    def set_pin(self, pin: str) -> None:
        if not (pin.isdigit() and 6 <= len(pin) <= 12):
            raise ValueError("the PIN must be 6 to 12 digits")
        salt = secrets.token_bytes(16)
        digest = hashlib.scrypt(pin.encode(), salt=salt, **SCRYPT)
        self._save({"salt": salt.hex(), "hash": digest.hex(), "failures": 0, "locked_until": 0})
        log.info("admin PIN set")
        self._record("pin_set")

    def check(self, pin: str) -> PinResult:
        data = self._load()
        now = self.clock()
        if "hash" not in data:
            return PinResult(False, 0, 0.0)
        if data.get("locked_until", 0) > now:
            log.warning("admin PIN attempt while locked")
            self._record("pin_refused_locked")
            return PinResult(False, 0, data["locked_until"] - now)
        digest = hashlib.scrypt(pin.encode(), salt=bytes.fromhex(data["salt"]), **SCRYPT)
        if hmac.compare_digest(digest.hex(), data["hash"]):
            data.update(failures=0, locked_until=0)
            self._save(data)
            log.info("admin PIN accepted")
            self._record("pin_accepted")
            return PinResult(True, MAX_FAILURES, 0.0)
        data["failures"] = data.get("failures", 0) + 1
        if data["failures"] >= MAX_FAILURES:
            data.update(failures=0, locked_until=now + LOCKOUT_S)
            log.warning("admin PIN locked out", extra={"seconds": LOCKOUT_S})
        self._save(data)
        self._record("pin_locked" if data["locked_until"] > now else "pin_failed")
        left = 0 if data["locked_until"] > now else MAX_FAILURES - data["failures"]
        return PinResult(False, left, max(0.0, data["locked_until"] - now))
