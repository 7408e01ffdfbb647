"""The device's signing identity: an Ed25519 key created on the device, never leaving it."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hardware.tpm import SealedSecret, Tpm
from kiosk.private_files import write_private

KEY_FILE = "device_key.pem"
INFO_FILE = "device.json"


@dataclass(frozen=True)
class DeviceIdentity:
    device_id: str
    key: Ed25519PrivateKey
    device_number: int | None = None  # assigned by the service at registration (None: registered before numbers)


def identity_dir(data_dir: Path) -> Path:
    return data_dir / "device"


MACHINE_ID = Path("/etc/machine-id")
SALT_FILE = "key_salt"
SEAL_FILE = "key_seal.json"  # the passphrase sealed by the box's TPM (hardware.tpm)


def key_protection(directory: Path) -> str:
    """How the key file is protected: "tpm", "machine" (machine id + salt only) or "none"."""
    if (directory / SEAL_FILE).is_file():
        return "tpm"
    return "machine" if (directory / SALT_FILE).is_file() else "none"


def tpm_secret(directory: Path, purpose: str) -> bytes | None:
    """A 32-byte key for ``purpose`` ("outbox", "audit") derived from the TPM-sealed secret, so that no such key
    file lies on the disk beside what it protects; None on a box without a TPM-sealed key."""
    if key_protection(directory) != "tpm":
        return None
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(hashes.SHA256(), 32, salt=None, info=f"kiosk {purpose} key".encode()).derive(_passphrase(directory))


def _passphrase(directory: Path) -> bytes | None:
    """The key file's passphrase. With a TPM: random, sealed by it (only this box's TPM unseals it; a copy of
    the disk is useless). Without one: derived from this machine's id and a random salt, which keeps a copied
    key file from opening on another board but not a copy of the whole disk."""
    if (directory / SEAL_FILE).is_file():
        sealed = SealedSecret.from_json((directory / SEAL_FILE).read_text())
        return Tpm(sealed.tcti).unseal(sealed)
    if not MACHINE_ID.is_file():
        return None
    salt_path = directory / SALT_FILE
    if not salt_path.is_file():
        fd = os.open(salt_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(os.urandom(16))
    digest = hashlib.sha256(MACHINE_ID.read_bytes().strip() + salt_path.read_bytes())
    return digest.hexdigest().encode()


def load_key(directory: Path) -> Ed25519PrivateKey:
    pem = (directory / KEY_FILE).read_bytes()
    encrypted = b"ENCRYPTED" in pem.split(b"\n", 1)[0]
    # Keys written before at-rest encryption (or on a box without a machine id) are plain PEM.
    return serialization.load_pem_private_key(pem, password=_passphrase(directory) if encrypted else None)


def create_key(directory: Path, tcti: str | None = None) -> Ed25519PrivateKey:
    """A new key, written atomically with owner-only permissions, encrypted at rest (see _passphrase); with
    ``tcti``, its passphrase is sealed by that TPM."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    if tcti is not None:
        secret = os.urandom(32)
        write_private(directory / SEAL_FILE, Tpm(tcti).seal(secret).to_json().encode())
    passphrase = _passphrase(directory)
    encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase
                  else serialization.NoEncryption())
    write_private(directory / KEY_FILE,
                  key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption))
    return key


def load_identity(data_dir: Path) -> DeviceIdentity | None:
    directory = identity_dir(data_dir)
    key_path, info_path = directory / KEY_FILE, directory / INFO_FILE
    if not key_path.is_file() or not info_path.is_file():
        return None
    info = json.loads(info_path.read_text())
    return DeviceIdentity(info["device_id"], load_key(directory), info.get("device_number"))


def registered_device_number(data_dir: Path) -> int | None:
    """The fleet-wide device number from the registration record, without opening the key."""
    path = identity_dir(data_dir) / INFO_FILE
    return json.loads(path.read_text()).get("device_number") if path.is_file() else None


def save_registration(data_dir: Path, device_id: str, cloud_url: str, device_number: int) -> None:
    write_private(identity_dir(data_dir) / INFO_FILE,
                  json.dumps({"device_id": device_id, "cloud_url": cloud_url, "device_number": device_number}).encode())
