"""ID numbers at rest: a keyed hash (HMAC-SHA256 under a server secret), never the number or a bare SHA-256.

A bare hash of an 18-digit number with a known structure (region, birth date, check digit) is reversed by
enumeration in minutes; without the key, the stored values say nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from contract.id_number import normalise


def load_key(path: Path) -> bytes:
    """The secret, created (owner-only, from the first byte) on first use."""
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another instance made it first
            return path.read_bytes()
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(32))
            fh.flush()
            os.fsync(fh.fileno())
    return path.read_bytes()


def id_hash(key: bytes, number: str) -> str:
    return hmac.new(key, normalise(number).encode(), hashlib.sha256).hexdigest()
