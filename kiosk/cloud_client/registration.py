"""Registering this kiosk with the cloud: key pair made here, public key sent with a provisioning token."""

from __future__ import annotations

import threading
from pathlib import Path

from hardware.tpm import tpm_tcti
from kiosk.cloud_client.client import CloudClient
from kiosk.cloud_client.identity import KEY_FILE, DeviceIdentity, create_key, identity_dir, load_key, save_registration
from kiosk.config import KioskConfig


def register_device(config: KioskConfig, cloud_url: str, token: str, shop: str,
                    device_id: str | None = None) -> tuple[DeviceIdentity, bool]:
    """Idempotent: an existing key is reused (an interrupted registration resumes with the same key), and
    re-registering the same device and key is a no-op on the service. Returns (identity, newly created)."""
    device_id = device_id or config.device_id
    directory = identity_dir(config.data_dir)
    key_path: Path = directory / KEY_FILE
    key = load_key(directory) if key_path.is_file() else create_key(directory, tpm_tcti(config.hardware.tpm))
    client = CloudClient(cloud_url, None, config.cloud.connect_timeout_s, config.cloud.read_timeout_s,
                         config.cloud.max_retries, deadline_s=config.cloud.deadline_s)
    response = client.register(token, device_id, shop, key)
    save_registration(config.data_dir, device_id, cloud_url, response.device_number)
    return DeviceIdentity(device_id, key, response.device_number), response.created


def cloud_client(config: KioskConfig, identity: DeviceIdentity, base_url: str | None = None,
                 stop: threading.Event | None = None) -> CloudClient:
    c = config.cloud
    return CloudClient(base_url or str(c.base_url), identity, c.connect_timeout_s, c.read_timeout_s, c.max_retries,
                       deadline_s=c.deadline_s, stop=stop)
