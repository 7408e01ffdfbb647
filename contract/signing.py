"""The device-request signature, shared by the kiosk (signs) and the service (verifies).

In the spirit of RFC 9421 (HTTP Message Signatures), with a fixed set of covered components:
method, path (with query), timestamp, nonce, the SHA-256 of the body and the Idempotency-Key header (empty when
there is none), signed with the device's Ed25519 key. The timestamp bounds how long a captured request stays
valid; the nonce makes it single-use; covering the idempotency key stops a captured request from being sent
again under a new key (which the service would take for a second application).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

HEADER_DEVICE = "X-Device-Id"
HEADER_TIMESTAMP = "X-Timestamp"
HEADER_NONCE = "X-Nonce"
HEADER_DIGEST = "X-Content-SHA256"
HEADER_SIGNATURE = "X-Signature"
HEADER_IDEMPOTENCY = "Idempotency-Key"


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def signing_string(method: str, path: str, timestamp: str, nonce: str, digest: str, idempotency_key: str = "") -> bytes:
    # One component per line, in this order (tests/test_contract.py holds the known answer).
    return "\n".join((method.upper(), path, timestamp, nonce, digest, idempotency_key)).encode()  # noqa: FLY002


def sign_request(key: Ed25519PrivateKey, device_id: str, method: str, path: str, body: bytes,
                 now: float | None = None, idempotency_key: str = "") -> dict[str, str]:
    timestamp = str(int(now if now is not None else time.time()))
    nonce = secrets.token_hex(16)
    digest = body_digest(body)
    signature = key.sign(signing_string(method, path, timestamp, nonce, digest, idempotency_key))
    return {
        HEADER_DEVICE: device_id,
        HEADER_TIMESTAMP: timestamp,
        HEADER_NONCE: nonce,
        HEADER_DIGEST: digest,
        HEADER_SIGNATURE: base64.b64encode(signature).decode(),
    }


def public_key_b64(key: Ed25519PrivateKey) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def load_public_key(b64: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(b64, validate=True))
