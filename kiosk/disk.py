"""Telling a full disk from other failures, so the kiosk can say so plainly instead of printing a traceback."""

from __future__ import annotations

import errno
import sqlite3

# ENOSPC: no space; EDQUOT: over quota; EFBIG: past the largest file allowed (also what RLIMIT_FSIZE gives).
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return exc.errno in FULL_ERRNOS
    if isinstance(exc, sqlite3.OperationalError):  # SQLite words it, its errno is not kept
        text = str(exc)
        return "disk is full" in text or "disk I/O error" in text
    return False
