"""The staff PIN: a salted scrypt hash on disk, and a lockout after repeated failures (survives restarts).

The state file carries an HMAC under a device key (owner-only, beside it): a file edited to reset the lockout
or to swap in a known PIN's hash no longer verifies, and is then treated as locked until a field agent resets
the PIN (with the lender's provisioning token, checked by the service). Changing a PIN needs the current one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from kiosk.private_files import read_or_create, write_private

log = logging.getLogger("kiosk.admin")
MAX_FAILURES = 5
LOCKOUT_S = 300
SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


@dataclass(frozen=True)
class PinResult:
    ok: bool
    tries_left: int
    locked_for_s: float


class PinChangeRefused(PermissionError):
    """A new PIN without the current one (or a field agent's authorisation)."""


class PinStore:
    def __init__(self, path: Path, clock=time.time, audit=None, key_path: Path | None = None) -> None:
        self.path = path
        self.clock = clock
        self.audit = audit  # every staff action is audited
        self._key_path = key_path or path.with_name("pin.key")

    def _record(self, action: str, detail: dict | None = None) -> None:
        if self.audit is not None:
            self.audit.append("staff", action, detail or {})

    def _mac(self, state: dict) -> str:
        return hmac.new(read_or_create(self._key_path), json.dumps(state, sort_keys=True).encode(), hashlib.sha256).hexdigest()

    def _load(self) -> dict:
        """The state, or {"tampered": True} when the file does not verify."""
        if not self.path.is_file():
            return {}
        try:
            raw = json.loads(self.path.read_text())
            state, mac = raw["state"], raw["mac"]
            if hmac.compare_digest(self._mac(state), mac):
                return state
        except (OSError, ValueError, KeyError, TypeError):
            pass
        return {"tampered": True}

    def _save(self, data: dict) -> None:
        write_private(self.path, json.dumps({"state": data, "mac": self._mac(data)}).encode())

    @property
    def is_set(self) -> bool:
        state = self._load()
        return "hash" in state or "tampered" in state

    def set_pin(self, pin: str, current: str | None = None, agent_authorised: bool = False) -> None:
        """A new PIN. Once one is set, ``current`` must be it, or a field agent must have authorised the reset
        (``agent_authorised``: the caller checked a provisioning token with the service)."""
        if not (pin.isdigit() and 6 <= len(pin) <= 12):
            raise ValueError("the PIN must be 6 to 12 digits")
        needs_current = self.is_set and not agent_authorised
        if needs_current and (current is None or not self.check(current).ok):
            self._record("pin_change_refused")
            raise PinChangeRefused("changing the staff PIN needs the current PIN (or a field agent's token)")
        salt = secrets.token_bytes(16)
        digest = hashlib.scrypt(pin.encode(), salt=salt, **SCRYPT)
        self._save({"salt": salt.hex(), "hash": digest.hex(), "failures": 0, "locked_until": 0})
        log.info("admin PIN set")
        self._record("pin_reset_by_agent" if agent_authorised else "pin_set")

    def check(self, pin: str) -> PinResult:
        data = self._load()
        now = self.clock()
        if data.get("tampered"):
            log.warning("admin PIN state does not verify; locked until a field agent resets it")
            self._record("pin_state_tampered")
            return PinResult(False, 0, float(LOCKOUT_S))
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
