"""Check-in with the cloud: anchor the audit log's head, and upload a diagnostics bundle for every pending
support request (all signed)."""

from __future__ import annotations

from dataclasses import dataclass

from contract.schemas import AuditCheckpoint
from kiosk.audit import AuditLog
from kiosk.cloud_client.client import CloudClient
from kiosk.cloud_client.errors import CloudRejected
from kiosk.cloud_client.identity import load_identity
from kiosk.cloud_client.registration import cloud_client
from kiosk.config import KioskConfig
from kiosk.diagnostics import build_bundle


@dataclass(frozen=True)
class CheckIn:
    uploaded: list[str]  # request ids whose bundle went up
    audit: str  # "anchored at record N" or what is wrong with the log (the service flagged it for support)


def anchor_audit(client: CloudClient, audit: AuditLog) -> str:
    """Sends the audit head with the local hash at the service's last anchor; says what happened."""
    last = client.audit_anchor()
    local = audit.verify((last.seq, last.head))
    if not local.ok and not local.problem.startswith(("truncated", "rewritten")):
        return f"not anchored: {local.problem}"
    rows = audit.verify()
    seq, head = rows.head if rows.ok else (0, last.head)
    checkpoint = AuditCheckpoint(seq=seq, head=head, previous_seq=last.seq, previous_head=audit.hash_at(last.seq))
    try:
        return f"anchored at record {client.anchor_audit(checkpoint).seq}"
    except CloudRejected as exc:
        if exc.error_code in ("audit_truncated", "audit_forked"):
            return f"REFUSED by the cloud ({exc.error_code}): {local.problem or exc}"
        raise


def check_in(config: KioskConfig) -> CheckIn:
    """Raises the cloud client's typed errors. Nothing to do for an unregistered kiosk."""
    identity = load_identity(config.data_dir)
    if identity is None:
        return CheckIn([], "not registered")
    client = cloud_client(config, identity)
    uploaded = []
    audit = AuditLog.for_data_dir(config.data_dir)
    try:
        for request in client.pending_requests().requests:
            client.upload_bundle(request.request_id, build_bundle(config, since=request.since))
            uploaded.append(request.request_id)
            audit.append("support", "bundle_uploaded", {"request": request.request_id})
        return CheckIn(uploaded, anchor_audit(client, audit))
    finally:
        audit.close()
