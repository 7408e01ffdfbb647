"""The one redaction list used everywhere: logs, diagnostics bundles, transition records.

Two layers, because either alone leaks: keys that are sensitive by *name* are replaced whatever their
value, and free text is scanned for values that are sensitive by *shape* (ID numbers, phone numbers,
e-mail addresses, inline image data). Binary payloads and arrays are never rendered at all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

REDACTED = "**REDACTED**"

# Keys whose values are personal or biometric data, matched case-insensitively against the key name
# with separators removed ("ID-Number", "id_number" and "idNumber" all match "idnumber").
REDACT_KEYS: frozenset[str] = frozenset(
    {
        "name",
        "fullname",
        "firstname",
        "lastname",
        "customername",
        "idnumber",
        "nationalid",
        "documentnumber",
        "phone",
        "phonenumber",
        "mobile",
        "email",
        "address",
        "dateofbirth",
        "dob",
        "image",
        "images",
        "frame",
        "frames",
        "portrait",
        "photo",
        "face",
        "embedding",
        "embeddings",
        "template",
        "audio",
        "transcript",
        "privatekey",
        "secret",
        "token",
        "pin",
        "password",
        "signature",
    }
)

# Values that look like PII wherever they appear in free text.
PII_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # PRC resident identity card: 17 digits + check digit/X.
    ("id_number", re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")),
    # Mainland mobile numbers, optionally with +86.
    ("phone", re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)")),
    # Generic international numbers: +country and 7+ digits with separators.
    ("phone", re.compile(r"\+\d{1,3}[- ]?\(?\d{1,4}\)?(?:[- ]?\d){6,}")),
    ("email", re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")),
    ("image", re.compile(r"data:image/[a-z]+;base64,[A-Za-z0-9+/=]+")),
    # Long base64 runs are encoded images/embeddings in practice.
    ("blob", re.compile(r"[A-Za-z0-9+/]{120,}={0,2}")),
    # Any other run of 9+ digits is treated as an account/ID number.
    ("number", re.compile(r"(?<!\d)\d{9,}(?!\d)")),
)


def _normalise_key(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


def is_sensitive_key(key: str) -> bool:
    return _normalise_key(key) in REDACT_KEYS


def redact_text(text: str) -> str:
    for label, pattern in PII_PATTERNS:
        text = pattern.sub(f"[{label}]", text)
    return text


def redact(value: Any, _depth: int = 0) -> Any:
    """Return a JSON-safe copy of ``value`` with sensitive keys and PII-shaped text removed."""
    if _depth > 12:
        return "[too deep]"
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"[{len(value)} bytes]"
    if hasattr(value, "shape") and hasattr(value, "dtype"):  # numpy arrays: pixels or embeddings
        return f"[array {getattr(value, 'dtype', '')} {tuple(value.shape)}]"
    if isinstance(value, Mapping):
        return {
            str(k): (REDACTED if is_sensitive_key(str(k)) else redact(v, _depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple, set, frozenset)):
        return [redact(v, _depth + 1) for v in value]
    return redact_text(str(value))
