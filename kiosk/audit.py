"""Append-only, keyed hash-chained audit log (SQLite), anchored in the cloud.

Each record carries an HMAC-SHA256, under this device's audit key (owner-only, never in a bundle), of the
previous record's hash and its own canonical content, so editing, deleting or reordering any record breaks the
chain at that point, and without the key nobody can re-chain an edit or forge a record; `verify` says where.
Triggers refuse UPDATE and DELETE through SQLite. What a keyed chain alone cannot show (the whole file deleted,
its tail cut off, or everything rewritten by someone holding the key) the cloud anchor shows: at every check-in
the head is sent, signed, and the service keeps it; `verify` against the service's last anchor reports
truncation or a fork. A damaged file is reported, never a crash. Details are redacted with the same list as the
logs before they are written.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from kiosk.private_files import read_or_create
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


def record_hash(key: bytes, prev_hash: str, seq: int, ts: float, actor: str, action: str, detail: str) -> str:
    canonical = json.dumps([prev_hash, seq, repr(ts), actor, action, detail], ensure_ascii=False)
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


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
    head: tuple[int, str] = (0, GENESIS)  # the last record's (seq, hash) when the chain is intact


class AuditLog:
    def __init__(self, path: Path, clock=time.time, key_path: Path | bytes | None = None) -> None:
        """``key_path``: the chain key's file (made on first use), or the key itself (derived from the TPM)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.clock = clock
        self._key = key_path if isinstance(key_path, bytes) else read_or_create(key_path or path.with_name("audit.key"))
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, timeout=10, check_same_thread=False)
        self.damage = ""  # why the file cannot be read as an audit log ("" when it can)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            for statement in SCHEMA:
                self._db.execute(statement)
        except sqlite3.DatabaseError as exc:  # not a database (truncated, overwritten), or no space: verify says so
            self.damage = f"the audit file cannot be read: damaged or no space ({exc})"

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> AuditLog:
        """With a TPM-sealed device key the chain key is derived from it (nothing on the disk re-chains the log);
        a log that already has its key file keeps it."""
        from kiosk.cloud_client.identity import identity_dir, tpm_secret

        key_file = data_dir / "device" / "audit.key"
        secret = None if key_file.is_file() else tpm_secret(identity_dir(data_dir), "audit")
        return cls(data_dir / "audit.sqlite3", key_path=secret if secret is not None else key_file)

    def append(self, actor: str, action: str, detail: dict | None = None) -> AuditRecord:
        detail_json = json.dumps(redact(detail or {}), ensure_ascii=False, sort_keys=True)
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            last = self._db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
            seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
            ts = self.clock()
            digest = record_hash(self._key, prev, seq, ts, actor, action, detail_json)
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

    def verify(self, anchor: tuple[int, str] | None = None) -> AuditVerification:
        """The chain checked record by record; with ``anchor`` (the service's last (seq, head) for this device),
        also that the log still holds that record, unchanged."""
        if self.damage:
            return AuditVerification(False, 0, self.damage)
        try:
            with self._lock:
                rows = self._db.execute(
                    "SELECT seq, ts, actor, action, detail, prev_hash, hash FROM audit ORDER BY rowid").fetchall()
        except sqlite3.DatabaseError as exc:  # a truncated or overwritten file
            return AuditVerification(False, 0, f"the audit file is damaged ({exc})")
        prev, expected_seq = GENESIS, 1
        for seq, ts, actor, action, detail, prev_hash, digest in rows:
            if seq != expected_seq:
                return AuditVerification(False, len(rows), f"record {expected_seq} is missing or out of order (found {seq})")
            if prev_hash != prev:
                return AuditVerification(False, len(rows), f"record {seq} does not follow record {seq - 1}")
            if record_hash(self._key, prev_hash, seq, ts, actor, action, detail) != digest:
                return AuditVerification(False, len(rows), f"record {seq} was altered")
            prev, expected_seq = digest, seq + 1
        head = (expected_seq - 1, prev)
        if anchor is not None and anchor[0] > 0:
            seq, digest = anchor
            if seq > head[0]:
                return AuditVerification(False, len(rows), f"truncated: the cloud anchored record {seq}, the log ends "
                                                           f"at record {head[0]}")
            if rows[seq - 1][6] != digest:
                return AuditVerification(False, len(rows), f"rewritten: record {seq} is not the one the cloud anchored")
        return AuditVerification(True, len(rows), "", head)

    def hash_at(self, seq: int) -> str | None:
        """The stored hash of record ``seq`` (GENESIS for 0), None when there is no such record."""
        if seq == 0:
            return GENESIS
        with self._lock:
            row = self._db.execute("SELECT hash FROM audit WHERE seq = ?", (seq,)).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        self._db.close()
