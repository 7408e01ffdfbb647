"""The durable outbox: applications made while the network is down wait here and are sent when it returns.

SQLite with synchronous=FULL: a row that ``enqueue`` returned for is on disk and survives kill -9 or a
power cut. Payloads are encrypted at rest (Fernet) and hold only what the service needs (estimate id,
offer, amount, term): no names, ID numbers or biometrics. Each row carries its idempotency key, so a send
repeated after a crash (sent, but not yet marked sent) is answered by the service with the first result.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet

from kiosk.cloud_client.errors import CloudRejected, CloudUnavailable
from kiosk.private_files import write_private

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
    last_error TEXT
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


@dataclass(frozen=True)
class DrainReport:
    sent: int
    rejected: int
    remaining: int


def _key(path: Path) -> bytes:
    if path.is_file():
        return path.read_bytes()
    key = Fernet.generate_key()
    write_private(path, key)
    return key


class Outbox:
    def __init__(self, db_path: Path, key_path: Path) -> None:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self._fernet = Fernet(_key(key_path))
        # Built on one thread, used on the journey worker: sqlite3 allows that when calls are serialised,
        # which the lock below does.
        self._db = sqlite3.connect(db_path, isolation_level=None, timeout=10, check_same_thread=False)
        self._lock = threading.RLock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(SCHEMA)

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> Outbox:
        return cls(data_dir / "outbox.sqlite3", data_dir / "device" / "outbox.key")

    def enqueue(self, kind: str, idempotency_key: str, payload: dict) -> int:
        """Durably store; the same idempotency key is stored once. Returns the row id."""
        with self._lock:
            blob = self._fernet.encrypt(json.dumps(payload).encode())
            with self._db:
                self._db.execute(
                    "INSERT OR IGNORE INTO outbox (idempotency_key, kind, payload, created_at) VALUES (?, ?, ?, ?)",
                    (idempotency_key, kind, blob, time.time()),
                )
            return self._db.execute("SELECT id FROM outbox WHERE idempotency_key = ?", (idempotency_key,)).fetchone()[0]

    def items(self, status: str | None = None) -> list[OutboxItem]:
        with self._lock:
            query = "SELECT id, idempotency_key, kind, payload, status, attempts FROM outbox"
            rows = self._db.execute(query + (" WHERE status = ?" if status else "") + " ORDER BY id",
                                    (status,) if status else ()).fetchall()
            return [OutboxItem(r[0], r[1], r[2], json.loads(self._fernet.decrypt(r[3])), r[4], r[5]) for r in rows]

    def result(self, item_id: int) -> dict | None:
        with self._lock:
            row = self._db.execute("SELECT result FROM outbox WHERE id = ?", (item_id,)).fetchone()
            return json.loads(row[0]) if row and row[0] else None

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._db.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status").fetchall())

    def drain(self, send: Callable[[OutboxItem], dict], only: int | None = None) -> DrainReport:
        """Send pending items in order; stop at the first network failure (the rest wait for the next try)."""
        with self._lock:
            sent = rejected = 0
            for item in self.items("pending"):
                if only is not None and item.id != only:
                    continue
                with self._db:
                    self._db.execute("UPDATE outbox SET attempts = attempts + 1 WHERE id = ?", (item.id,))
                try:
                    result = send(item)
                except CloudUnavailable as exc:
                    with self._db:
                        self._db.execute("UPDATE outbox SET last_error = ? WHERE id = ?", (str(exc)[:200], item.id))
                    break
                except CloudRejected as exc:
                    with self._db:
                        self._db.execute("UPDATE outbox SET status = 'rejected', last_error = ? WHERE id = ?",
                                         (str(exc)[:200], item.id))
                    rejected += 1
                    continue
                with self._db:
                    self._db.execute("UPDATE outbox SET status = 'sent', sent_at = ?, result = ? WHERE id = ?",
                                     (time.time(), json.dumps(result), item.id))
                sent += 1
            return DrainReport(sent, rejected, len(self.items("pending")))

    def close(self) -> None:
        self._db.close()
