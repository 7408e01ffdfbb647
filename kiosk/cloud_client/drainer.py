"""The running kiosk's outbox drainer: queued applications go out without anyone running a command.

It drains at start, then again after a pause that doubles while the service cannot be reached (30 s up to
15 min, so a dead network is not hammered) and returns to the shortest pause once something goes through;
``kick()`` drains at once (called after every cloud call that succeeded: the network is back).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable

from kiosk.cloud_client.errors import CloudError
from kiosk.cloud_client.outbox import DrainReport, Outbox, OutboxItem

log = logging.getLogger("kiosk.outbox")


class OutboxDrainer:
    def __init__(self, outbox: Outbox, send: Callable[[OutboxItem], dict], min_pause_s: float = 30.0,
                 max_pause_s: float = 900.0) -> None:
        self.outbox, self.send = outbox, send
        self.min_pause_s, self.max_pause_s = min_pause_s, max_pause_s
        self.pause_s = min_pause_s
        self.last: DrainReport | None = None
        self._wake, self._stop = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="outbox-drainer", daemon=True)
            self._thread.start()

    def kick(self) -> None:
        self._wake.set()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def drain_once(self) -> DrainReport | None:
        try:
            report = self.outbox.drain(self.send)
        except (CloudError, sqlite3.Error, OSError) as exc:  # a bad answer, a full disk: try again later
            log.warning("outbox drain failed", extra={"detail": str(exc)[:200]})
            self.pause_s = min(self.pause_s * 2, self.max_pause_s)
            return None
        except Exception:  # a bug must not stop deliveries for the rest of the day
            log.exception("outbox drain failed unexpectedly")
            self.pause_s = min(self.pause_s * 2, self.max_pause_s)
            return None
        if report.sent or report.rejected or not report.remaining:
            self.pause_s = self.min_pause_s
        else:
            self.pause_s = min(self.pause_s * 2, self.max_pause_s)
        if report.sent or report.rejected:
            log.info("outbox drained", extra={"sent": report.sent, "rejected": report.rejected,
                                              "remaining": report.remaining})
        self.last = report
        return report

    def _run(self) -> None:
        while not self._stop.is_set():
            self.drain_once()
            self._wake.wait(self.pause_s)
            self._wake.clear()
