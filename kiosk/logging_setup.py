"""Structured JSON logs with rotation; every record passes through :mod:`kiosk.redaction`.

Redaction happens in the formatter rather than at call sites so that a careless ``log.info(..., extra=...)``
anywhere in the code base still cannot write an ID number or an image to disk.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from kiosk.redaction import redact, redact_text

LOG_FILE_NAME = "kiosk.log.jsonl"


class RedactingJsonFormatter(JsonFormatter):
    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "ts", "levelname": "level", "name": "logger"},
            timestamp=False,
        )

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        cleaned = redact(dict(log_data))
        if isinstance(log_data.get("message"), str):
            cleaned["message"] = redact_text(log_data["message"])
        return cleaned

    def formatException(self, ei) -> str:
        # Exception texts routinely embed the offending value (e.g. a bad ID number in a ValueError).
        return redact_text(super().formatException(ei))


def configure_logging(
    log_dir: Path,
    level: str = "INFO",
    max_bytes: int = 5_000_000,
    backup_count: int = 5,
    console: bool = False,
) -> Path:
    """Route the root logger to a rotating JSON-lines file (and optionally stderr). Returns the file path."""
    path = log_dir / LOG_FILE_NAME
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_kiosk_handler", False):
            root.removeHandler(handler)
            handler.close()
    formatter = RedactingJsonFormatter()
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=max_bytes, backupCount=backup_count, encoding="utf-8"
        )
    except OSError:  # a full or read-only disk must not stop the kiosk from starting: log to stderr instead
        console = True
    else:
        file_handler.setFormatter(formatter)
        file_handler._kiosk_handler = True  # type: ignore[attr-defined]
        root.addHandler(file_handler)
    if console:
        stream = logging.StreamHandler()
        stream.setFormatter(formatter)
        stream._kiosk_handler = True  # type: ignore[attr-defined]
        root.addHandler(stream)
    root.setLevel(level)
    return path
