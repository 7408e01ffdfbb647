"""PII-laden log events must not reach the log file, whichever way they are logged."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from kiosk.logging_setup import LOG_FILE_NAME, configure_logging
from kiosk.redaction import REDACTED, redact, redact_text

ID_NUMBER = "11010519491231002X"
PHONE = "13812345678"
NAME = "Zhang Wei"
EMAIL = "zhang.wei@example.com"


@pytest.fixture
def log_file(tmp_path):
    path = configure_logging(tmp_path, "DEBUG", max_bytes=20_000, backup_count=2)
    yield path
    for handler in list(logging.getLogger().handlers):
        if getattr(handler, "_kiosk_handler", False):
            logging.getLogger().removeHandler(handler)
            handler.close()


def read_all(log_dir):
    return "".join(p.read_text(encoding="utf-8") for p in sorted(log_dir.glob(LOG_FILE_NAME + "*")))


def test_pii_in_messages_extras_and_exceptions_never_reaches_the_file(log_file):
    log = logging.getLogger("kiosk.test")
    log.info("applicant with id %s called from %s", ID_NUMBER, PHONE)
    log.info("details", extra={"customer_name": NAME, "id_number": ID_NUMBER, "phone": PHONE, "email": EMAIL})
    log.info("nested", extra={"applicant": {"fullName": NAME, "idNumber": ID_NUMBER, "contacts": [PHONE]}})
    log.info("capture", extra={"frame": np.full((4, 4, 3), 7, np.uint8), "embedding": np.ones(192)})
    log.info("bytes", extra={"blob": b"\xff\xd8\xff\xe0JFIF"})
    log.info("inline image data:image/jpeg;base64," + "A" * 200)
    log.info("free text mentions +86 138 1234 5678 and %s", EMAIL)
    try:
        raise ValueError(f"bad id number {ID_NUMBER}")
    except ValueError:
        log.exception("validation failed")
    text = read_all(log_file.parent)
    for secret in (ID_NUMBER, PHONE, "138 1234 5678", EMAIL, "JFIF", "A" * 200):
        assert secret not in text, secret
    # Names have no shape to match in free text, so they are dropped by key; code never formats them in.
    assert "Zhang" not in text


def test_records_are_json_lines_with_the_expected_fields(log_file):
    logging.getLogger("kiosk.test").warning("camera failed", extra={"device": "camera", "code": "missing"})
    lines = [json.loads(line) for line in log_file.read_text(encoding="utf-8").splitlines()]
    record = lines[-1]
    assert record["level"] == "WARNING" and record["logger"] == "kiosk.test"
    assert record["message"] == "camera failed" and record["device"] == "camera" and "ts" in record


def test_log_rotates_and_redacts_every_generation(log_file):
    log = logging.getLogger("kiosk.test")
    for i in range(400):
        log.info("event %d", i, extra={"phone": PHONE, "detail": f"id {ID_NUMBER}"})
    generations = sorted(log_file.parent.glob(LOG_FILE_NAME + "*"))
    assert len(generations) == 3  # current + backup_count
    assert PHONE not in read_all(log_file.parent) and ID_NUMBER not in read_all(log_file.parent)


def test_redact_keeps_non_sensitive_values_and_masks_sensitive_keys():
    out = redact({"state": "offers", "attempts": 2, "Phone-Number": PHONE, "score": 0.71, "ok": True})
    assert out == {"state": "offers", "attempts": 2, "Phone-Number": REDACTED, "score": 0.71, "ok": True}


@pytest.mark.parametrize(
    "text", [ID_NUMBER, "110105194912310021", PHONE, "+86-138-1234-5678", "+44 20 7946 0958", EMAIL, "6222021234567890123"]
)
def test_pii_shapes_are_masked_in_free_text(text):
    assert text not in redact_text(f"value: {text}.")


def test_ordinary_text_survives():
    text = "transition consent -> id_capture after 12.5s, attempt 2 of 3, code 123456"
    assert redact_text(text) == text
