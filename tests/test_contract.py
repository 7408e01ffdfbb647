"""Known answers for the wire contract, and the exact edges the product's promises rest on."""

from __future__ import annotations

import numpy as np
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contract.signing import (
    HEADER_SIGNATURE,
    body_digest,
    load_public_key,
    public_key_b64,
    sign_request,
    signing_string,
)

# A fixed key (seed bytes 0..31) and a fixed request: the canonical string and the Ed25519 signature (Ed25519 is
# deterministic) must come out exactly so. A change that stops covering the method, the path, the body digest or
# the idempotency key changes them.
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
BODY = b'{"estimate_id":"0123456789abcdef"}'
CANONICAL = (b"POST\n/v1/applications\n1764547200\n00112233445566778899aabbccddeeff\n"
             b"dd4f20cabc20f6ef99b942b0fe688b256287270a4f3d07596de479b8dbc46e11\nsession-1:rural-bank-flex")
SIGNATURE = "D37PJsZBswieKtOkSFCMp3Hi2JCpk/sHDzyu0B+dCn3SvY/TbJwczWKmcoVIXzcl6JfR1xkbc28MwPc2vnQYDg=="


def test_request_signing_known_answer(monkeypatch):
    assert public_key_b64(KEY) == "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="
    assert body_digest(BODY) == "dd4f20cabc20f6ef99b942b0fe688b256287270a4f3d07596de479b8dbc46e11"
    assert signing_string("POST", "/v1/applications", "1764547200", "00112233445566778899aabbccddeeff",
                          body_digest(BODY), "session-1:rural-bank-flex") == CANONICAL
    monkeypatch.setattr("contract.signing.secrets.token_hex", lambda n: "00112233445566778899aabbccddeeff")
    headers = sign_request(KEY, "kiosk-kat-0001", "post", "/v1/applications", BODY, now=1764547200.7,
                           idempotency_key="session-1:rural-bank-flex")
    assert headers[HEADER_SIGNATURE] == SIGNATURE
    assert headers["X-Timestamp"] == "1764547200" and headers["X-Content-SHA256"] == body_digest(BODY)


@pytest.mark.parametrize("change", ["method", "path", "digest", "idempotency"])
def test_every_covered_part_changes_the_signature(change):
    import base64

    parts = {"method": "POST", "path": "/v1/applications", "timestamp": "1764547200",
             "nonce": "00112233445566778899aabbccddeeff", "digest": body_digest(BODY),
             "idempotency_key": "session-1:rural-bank-flex"}
    key = {"method": "method", "path": "path", "digest": "digest", "idempotency": "idempotency_key"}[change]
    parts[key] = {"method": "PUT", "path": "/v1/applications?x=1", "digest": body_digest(BODY + b" "),
                  "idempotency": "session-2:rural-bank-flex"}[change]
    altered = signing_string(**parts)
    assert altered != CANONICAL
    public = load_public_key(public_key_b64(KEY))
    with pytest.raises(InvalidSignature):  # the known signature does not verify the altered request
        public.verify(base64.b64decode(SIGNATURE), altered)
    public.verify(base64.b64decode(SIGNATURE), CANONICAL)


def test_biometric_buffers_are_zeroed_in_place():
    """Another reference to the same pixels (a UI texture, a worker) must see zeros after the wipe."""
    from kiosk.journey.session import BiometricSample, BiometricVault

    frame = np.full((48, 64, 3), 200, np.uint8)
    view = frame[10:20]  # a view into the same buffer
    embedding = np.ones(192, np.float32)
    vault = BiometricVault(id_portrait=BiometricSample("id_portrait", frame),
                           embeddings={"id": BiometricSample("embedding", embedding)})
    assert vault.wipe() == 2
    assert not frame.any() and not view.any() and not embedding.any() and vault.is_empty


def test_a_score_exactly_at_the_threshold_matches_and_one_just_below_does_not():
    from vision.matching import Calibration, Matcher

    threshold = 0.6063091158866882
    calibration = Calibration("m", ("m",), False, "yunet", {}, {"m": 1.0}, {"1e-03": threshold}, {}, "test")
    matcher = Matcher(calibration, 1e-3)
    reference = {"m": np.array([1.0, 0.0])}

    def probe(score):
        return {"m": np.array([score, np.sqrt(1 - score**2)])}

    assert matcher.decide(reference, [probe(threshold)]).matched
    assert not matcher.decide(reference, [probe(np.nextafter(threshold, 0))]).matched
