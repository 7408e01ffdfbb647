"""The device's signing identity: an Ed25519 key created on the device, never leaving it."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

KEY_FILE = "device_key.pem"
INFO_FILE = "device.json"


@dataclass(frozen=True)
class DeviceIdentity:
    device_id: str
    key: Ed25519PrivateKey


def identity_dir(data_dir: Path) -> Path:
    return data_dir / "device"


def create_key(directory: Path) -> Ed25519PrivateKey:
    """A new key, written atomically with owner-only permissions."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    tmp = directory / f".{KEY_FILE}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, directory / KEY_FILE)
    return key


def load_identity(data_dir: Path) -> DeviceIdentity | None:
    directory = identity_dir(data_dir)
    key_path, info_path = directory / KEY_FILE, directory / INFO_FILE
    if not key_path.is_file() or not info_path.is_file():
        return None
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    return DeviceIdentity(json.loads(info_path.read_text())["device_id"], key)


def save_registration(data_dir: Path, device_id: str, cloud_url: str) -> None:
    path = identity_dir(data_dir) / INFO_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"device_id": device_id, "cloud_url": cloud_url}))
    os.replace(tmp, path)
