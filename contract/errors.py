"""Every error the scoring service answers with, and whether the same request can ever get another answer.

The service's error body is ``{"error": {"code", "message"[, "server_time"]}}`` with a code from :data:`ERRORS`
and that code's status. Anything else at a 4xx (a gateway's 404 page, a proxy's 408, an unknown code) is not the
service's answer and is treated as "no answer yet": the kiosk keeps the request and tries again later. Only a
``final`` code is a definitive refusal; everything else is worth sending again (re-signed).
"""

from __future__ import annotations

from dataclasses import dataclass

from contract.id_number import NUMBER_REASONS


@dataclass(frozen=True)
class ServiceError:
    status: int
    final: bool  # True: sending the same request again gets the same refusal
    meaning: str


ERRORS: dict[str, ServiceError] = {
    # Signature and freshness: a re-signed retry (new nonce, re-synced clock) can pass.
    "unsigned": ServiceError(401, False, "the request carries no complete signature"),
    "bad_timestamp": ServiceError(401, False, "the signature's timestamp is not an integer"),
    "stale_timestamp": ServiceError(401, False, "the device clock is outside the allowed skew (server_time given)"),
    "digest_mismatch": ServiceError(401, False, "the body does not match its signed digest (altered in transit)"),
    "bad_signature": ServiceError(401, False, "the signature does not verify"),
    "replayed": ServiceError(401, False, "this nonce was used before"),
    "unknown_device": ServiceError(401, False, "no device with this id is registered (re-provision the kiosk)"),
    "rate_limited": ServiceError(429, False, "too many requests; try again later"),
    "locked_out": ServiceError(429, False, "too many wrong tokens from this source; try again later"),
    "internal_error": ServiceError(500, False, "the service failed; try again later"),
    # A path or method this version of the service does not serve: a deployment mismatch, cured by an update.
    "no_route": ServiceError(404, False, "no such endpoint on this version of the service"),
    "method_not_allowed": ServiceError(405, False, "the endpoint does not take this method"),
    "unavailable": ServiceError(503, False, "the service is overloaded or starting; try again later"),
    # Definitive refusals of this request.
    "bad_token": ServiceError(403, True, "the provisioning token is not accepted"),
    "not_support": ServiceError(403, True, "a support token is required"),
    "no_such_device": ServiceError(404, True, "no such device"),
    "unknown_estimate": ServiceError(404, True, "no such estimate for this device"),
    "unknown_request": ServiceError(404, True, "no such bundle request"),
    "device_exists": ServiceError(409, True, "the device id is registered with another key"),
    "idempotency_conflict": ServiceError(409, True, "the idempotency key was used for a different request"),
    "estimate_used": ServiceError(409, True, "this estimate already has a live application"),
    "not_uploaded_yet": ServiceError(409, True, "the device has not uploaded the bundle yet"),
    "audit_truncated": ServiceError(409, True, "the audit log ends before the record the service anchored"),
    "audit_forked": ServiceError(409, True, "the audit log no longer holds the record the service anchored"),
    "body_too_large": ServiceError(413, True, "the request body is too large"),
    "invalid_body": ServiceError(422, True, "the request body is not valid for this endpoint"),
    "bad_public_key": ServiceError(422, True, "the public key is not a raw Ed25519 key"),
    "bad_bundle": ServiceError(422, True, "the bundle is not a safe zip file (names, size, ratio)"),
    "offer_not_eligible": ServiceError(422, True, "the offer is not available for this estimate"),
    "amount_out_of_range": ServiceError(422, True, "the amount exceeds the limit or the product range"),
    "bad_reference": ServiceError(422, True, "the reference is not this device's, or its check character is wrong"),
    "reference_taken": ServiceError(409, True, "another application already has this reference"),
    **{code: ServiceError(422, True, "the ID number fails the GB 11643 checks") for code in NUMBER_REASONS},
}


def is_service_error(status: int, code: str) -> bool:
    """Whether ``(status, code)`` is one of the service's own documented answers."""
    known = ERRORS.get(code)
    return known is not None and known.status == status
