"""Check-in with the cloud: upload a diagnostics bundle for every pending support request (signed)."""

from __future__ import annotations

from kiosk.audit import AuditLog
from kiosk.cloud_client.identity import load_identity
from kiosk.cloud_client.registration import cloud_client
from kiosk.config import KioskConfig
from kiosk.diagnostics import build_bundle


def check_in(config: KioskConfig) -> list[str]:
    """The request ids whose bundle was uploaded. Raises the cloud client's typed errors."""
    identity = load_identity(config.data_dir)
    if identity is None:
        return []
    client = cloud_client(config, identity)
    uploaded = []
    for request in client.pending_requests().requests:
        client.upload_bundle(request.request_id, build_bundle(config, since=request.since))
        uploaded.append(request.request_id)
        audit = AuditLog.for_data_dir(config.data_dir)
        audit.append("support", "bundle_uploaded", {"request": request.request_id})
        audit.close()
    return uploaded
