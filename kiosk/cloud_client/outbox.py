"""The durable outbox: applications made while the network is down wait here and are sent when it returns.

SQLite with synchronous=FULL: a row that ``enqueue`` returned for is on disk and survives kill -9 or a
power cut. Payloads are encrypted at rest (Fernet) and hold only what the service needs (estimate id,
offer, amount, term): no names, ID numbers or biometrics. Each row carries its idempotency key, so a send
repeated after a crash (sent, but not yet marked sent) is answered by the service with the first result, and
the customer's reference (contract.reference: this device's number and the row's never-reused id), given
before anything is sent and the same whether the application went at once or later.

Delivery rules (``drain``): no answer (network down, timeouts, 5xx, a gateway's page) or a refusal of the
service's that can pass later (rate limited, stale clock, unknown device until re-provisioned) leaves the row
pending for the next try. Only the service's own final refusal (contract.errors) marks it rejected; a rejected
row is kept and counted for staff (self-test, diagnostics), never deleted. A row is claimed ('sending') while it
is sent, so a customer's withdrawal ('withdrawn': the row is never sent) can only take a row still waiting.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet

from contract.reference import make_reference
from kiosk.cloud_client.errors import CloudRejected, CloudUnavailable, NotRegistered
from kiosk.cloud_client.identity import identity_dir, registered_device_number, tpm_secret
from kiosk.private_files import read_or_create

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    payload BLOB NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    sent_at REAL,
    result TEXT,
    last_error TEXT,
    reference TEXT
)
"""


@dataclass(frozen=True)
class OutboxItem:
    id: int
    idempotency_key: str
    kind: str
    payload: dict
    status: str
    attempts: int
    reference: str | None = None


@dataclass(frozen=True)
class DrainReport:
    sent: int
    rejected: int
    remaining: int
    waiting_for: str | None = None  # why the rest is still pending (the last error), None when all went


class Outbox:
    def __init__(self, db_path: Path, key_path: Path | bytes, device_number: int | None = None) -> None:
        """``key_path``: the key file (made on first use), or the key itself (derived from the TPM)."""
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self.device_number = device_number
        self._fernet = Fernet(key_path if isinstance(key_path, bytes) else read_or_create(key_path, Fernet.generate_key))
        # Built on one thread, used on the journey worker: sqlite3 allows that when calls are serialised,
        # which the lock below does.
        self._db = sqlite3.connect(db_path, isolation_level=None, timeout=10, check_same_thread=False)
        self._lock = threading.RLock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(outbox)")}
        if "reference" not in columns:  # an outbox from before references
            self._db.execute("ALTER TABLE outbox ADD COLUMN reference TEXT")
        # A send cut short by a crash or power cut: pending again (a repeat is answered once: the idempotency key).
        self._db.execute("UPDATE outbox SET status = 'pending' WHERE status = 'sending'")

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> Outbox:
        """With a TPM-sealed device key, the payload key is derived from it (no key file beside the outbox); an
        outbox that already has its key file keeps it."""
        key_file = data_dir / "device" / "outbox.key"
        secret = None if key_file.is_file() else tpm_secret(identity_dir(data_dir), "outbox")
        key = base64.urlsafe_b64encode(secret) if secret is not None else key_file
        return cls(data_dir / "outbox.sqlite3", key, registered_device_number(data_dir))

    def enqueue(self, kind: str, idempotency_key: str, payload: dict) -> OutboxItem:
        """Durably store, with the customer's reference; the same idempotency key is stored once."""
        if self.device_number is None:
            raise NotRegistered("this kiosk has no device number from the service (run `kiosk cloud register`)")
        with self._lock:
            blob = self._fernet.encrypt(json.dumps(payload).encode())
            # One explicit transaction (the connection autocommits each statement otherwise): the row and its
            # reference reach the disk together, or neither does (a full disk fails the whole of it).
            self._db.execute("BEGIN IMMEDIATE")
            try:
                cursor = self._db.execute(
                    "INSERT OR IGNORE INTO outbox (idempotency_key, kind, payload, created_at) VALUES (?, ?, ?, ?)",
                    (idempotency_key, kind, blob, time.time()),
                )
                if cursor.rowcount:
                    self._db.execute("UPDATE outbox SET reference = ? WHERE id = ?",
                                     (make_reference(self.device_number, cursor.lastrowid), cursor.lastrowid))
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            return self._items("WHERE idempotency_key = ?", (idempotency_key,))[0]

    def items(self, status: str | None = None) -> list[OutboxItem]:
        return self._items("WHERE status = ?" if status else "", (status,) if status else ())

    def item(self, item_id: int) -> OutboxItem:
        return self._items("WHERE id = ?", (item_id,))[0]

    def _items(self, where: str, args: tuple) -> list[OutboxItem]:
        with self._lock:
            query = f"SELECT id, idempotency_key, kind, payload, status, attempts, reference FROM outbox {where} ORDER BY id"
            return [OutboxItem(r[0], r[1], r[2], json.loads(self._fernet.decrypt(r[3])), r[4], r[5], r[6])
                    for r in self._db.execute(query, args).fetchall()]

    def result(self, item_id: int) -> dict | None:
        with self._lock:
            row = self._db.execute("SELECT result FROM outbox WHERE id = ?", (item_id,)).fetchone()
            return json.loads(row[0]) if row and row[0] else None

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._db.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status").fetchall())

    def drain(self, send: Callable[[OutboxItem], dict], only: int | None = None) -> DrainReport:
        """Send pending items in order; stop at the first one that cannot go now (the rest wait for the next
        try: their order is kept). The lock is not held while sending: the journey can store a new application
        while the drainer waits on the network (an item sent twice from two threads is answered once: the
        idempotency key)."""
        sent = rejected = 0
        waiting = None
        for item in self.items("pending"):
            if only is not None and item.id != only:
                continue
            # Claimed before sending, so a withdrawal (``withdraw``) and a send never both happen to one row.
            if not self._update("UPDATE outbox SET status = 'sending', attempts = attempts + 1 "
                                "WHERE id = ? AND status = 'pending'", (item.id,)):
                continue
            try:
                result = send(item)
            except ValueError as exc:  # the row cannot make a valid request: kept for staff, not retried forever
                self._update("UPDATE outbox SET status = 'rejected', last_error = ? WHERE id = ?",
                             (f"unsendable: {str(exc)[:180]}", item.id))
                rejected += 1
                continue
            except (CloudUnavailable, CloudRejected) as exc:
                if isinstance(exc, CloudRejected) and exc.final:
                    self._update("UPDATE outbox SET status = 'rejected', last_error = ? WHERE id = ?",
                                 (str(exc)[:200], item.id))
                    rejected += 1
                    continue
                waiting = str(exc)[:200]
                self._update("UPDATE outbox SET status = 'pending', last_error = ? WHERE id = ?", (waiting, item.id))
                break
            except BaseException:
                self._update("UPDATE outbox SET status = 'pending' WHERE id = ?", (item.id,))
                raise
            self._update("UPDATE outbox SET status = 'sent', sent_at = ?, result = ? WHERE id = ?",
                         (time.time(), json.dumps(result), item.id))
            sent += 1
        return DrainReport(sent, rejected, len(self.items("pending")), waiting)

    def withdraw(self, idempotency_key: str) -> bool:
        """The customer changed their mind before the lender had it: True when the row was still waiting (now
        'withdrawn', kept for the record and never sent); False when it is already sent, being sent, or gone."""
        return bool(self._update("UPDATE outbox SET status = 'withdrawn' WHERE idempotency_key = ? AND "
                                 "status = 'pending'", (idempotency_key,)))

    def _update(self, sql: str, args: tuple) -> int:
        with self._lock, self._db:
            return self._db.execute(sql, args).rowcount

    def close(self) -> None:
        self._db.close()
