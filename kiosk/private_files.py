"""Writing secrets to disk: owner-only permissions from the first byte, fsynced, atomically replaced."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def write_private(path: Path, data: bytes) -> Path:
    """Replace ``path`` with ``data`` (mode 0600, directory 0700); a crash leaves the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def read_or_create(path: Path, make: Callable[[], bytes] = lambda: os.urandom(32)) -> bytes:
    """A device secret kept in ``path``: read it, or make one and write it owner-only on first use."""
    if path.is_file():
        return path.read_bytes()
    secret = make()
    write_private(path, secret)
    return secret
