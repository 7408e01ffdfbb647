"""Append-only, hash-chained audit log (SQLite).

Each record carries the SHA-256 of the previous record's hash and its own canonical content, so editing,
deleting or reordering any record breaks the chain at that point; `verify` says where. Triggers refuse UPDATE
and DELETE through SQLite (tampering with the file directly is what the chain is for). Details are redacted
with the same list as the logs before they are written.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from kiosk.redaction import redact

GENESIS = "0" * 64
SCHEMA = (
    """CREATE TABLE IF NOT EXISTS audit (
        seq INTEGER PRIMARY KEY, ts REAL NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
        detail TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)""",
    """CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END""",
)


def record_hash(prev_hash: str, seq: int, ts: float, actor: str, action: str, detail: str) -> str:
    canonical = json.dumps([prev_hash, seq, repr(ts), actor, action, detail], ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    ts: float
    actor: str  # "customer" | "staff" | "system" | "support"
    action: str
    detail: dict


@dataclass(frozen=True)
class AuditVerification:
    ok: bool
    records: int
    problem: str  # "" or where the chain breaks and how


class AuditLog:
    def __init__(self, path: Path, clock=time.time) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.clock = clock
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, timeout=10, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        for statement in SCHEMA:
            self._db.execute(statement)

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> AuditLog:
        return cls(data_dir / "audit.sqlite3")

    def append(self, actor: str, action: str, detail: dict | None = None) -> AuditRecord:
        detail_json = json.dumps(redact(detail or {}), ensure_ascii=False, sort_keys=True)
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            last = self._db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
            seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
            ts = self.clock()
            digest = record_hash(prev, seq, ts, actor, action, detail_json)
            self._db.execute("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (seq, ts, actor, action, detail_json, prev, digest))
        return AuditRecord(seq, ts, actor, action, json.loads(detail_json))

    def records(self, since: float = 0.0, action: str | None = None) -> list[AuditRecord]:
        query = "SELECT seq, ts, actor, action, detail FROM audit WHERE ts >= ?"
        params: list = [since]
        if action:
            query += " AND action = ?"
            params.append(action)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY seq", params).fetchall()
        return [AuditRecord(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows]

    def verify(self) -> AuditVerification:
        with self._lock:
            rows = self._db.execute("SELECT seq, ts, actor, action, detail, prev_hash, hash FROM audit ORDER BY rowid").fetchall()
        prev, expected_seq = GENESIS, 1
        for seq, ts, actor, action, detail, prev_hash, digest in rows:
            if seq != expected_seq:
                return AuditVerification(False, len(rows), f"record {expected_seq} is missing or out of order (found {seq})")
            if prev_hash != prev:
                return AuditVerification(False, len(rows), f"record {seq} does not follow record {seq - 1}")
            if record_hash(prev_hash, seq, ts, actor, action, detail) != digest:
                return AuditVerification(False, len(rows), f"record {seq} was altered")
            prev, expected_seq = digest, seq + 1
        return AuditVerification(True, len(rows), "")

    def close(self) -> None:
        self._db.close()
