"""The box's TPM 2.0: seals a small secret (the device key's passphrase) so that only this TPM can unseal it.

The sealed object is created under the storage hierarchy's primary key, which the TPM re-derives from its own
seed every time (same template, same key): nothing but the sealed blobs is kept on disk, and those blobs load
in no other TPM. A copy of the disk therefore no longer opens the device key. Through ``tpm2-pytss`` (ESAPI);
``tcti`` names the TPM: "device:/dev/tpmrm0" on the box, "swtpm:host=127.0.0.1,port=2321" in tests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from hardware.errors import DeviceDataError, DeviceMissing

DEFAULT_DEVICE = Path("/dev/tpmrm0")


@dataclass(frozen=True)
class SealedSecret:
    tcti: str  # which TPM sealed it (the same one must unseal it)
    private: bytes
    public: bytes

    def to_json(self) -> str:
        return json.dumps({"tcti": self.tcti, "private": self.private.hex(), "public": self.public.hex()})

    @classmethod
    def from_json(cls, text: str) -> SealedSecret:
        try:
            raw = json.loads(text)
            return cls(raw["tcti"], bytes.fromhex(raw["private"]), bytes.fromhex(raw["public"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise DeviceDataError("tpm", f"sealed key file unreadable: {exc}") from None


def tpm_tcti(setting: str) -> str | None:
    """The TCTI for a config value: "auto" (the kernel's resource manager when the box has one), "none", or a
    TCTI string."""
    if setting == "none":
        return None
    if setting == "auto":
        return f"device:{DEFAULT_DEVICE}" if DEFAULT_DEVICE.exists() else None
    return setting


class Tpm:
    def __init__(self, tcti: str) -> None:
        self.tcti = tcti

    def _esapi(self):
        from tpm2_pytss import ESAPI, TCTILdr
        from tpm2_pytss.TSS2_Exception import TSS2_Exception

        name, _, conf = self.tcti.partition(":")
        try:
            return ESAPI(TCTILdr(name, conf or None))
        except (TSS2_Exception, RuntimeError, OSError) as exc:
            raise DeviceMissing("tpm", f"no TPM at {self.tcti}: {exc}") from None

    @staticmethod
    def _primary(esapi):
        from tpm2_pytss.types import TPM2B_SENSITIVE_CREATE

        handle, *_ = esapi.create_primary(TPM2B_SENSITIVE_CREATE(), "rsa2048:aes128cfb")
        return handle

    def seal(self, secret: bytes) -> SealedSecret:
        from tpm2_pytss.types import TPM2B_PUBLIC, TPM2B_SENSITIVE_CREATE, TPM2B_SENSITIVE_DATA

        with self._esapi() as esapi:
            sensitive = TPM2B_SENSITIVE_CREATE()
            sensitive.sensitive.data = TPM2B_SENSITIVE_DATA(secret)
            template = TPM2B_PUBLIC.parse("keyedhash", objectAttributes="fixedtpm|fixedparent|userwithauth|noda")
            primary = self._primary(esapi)
            try:
                private, public, *_ = esapi.create(primary, sensitive, template)
            finally:  # a TPM holds only a few objects: nothing is left loaded (no resource manager in tests)
                esapi.flush_context(primary)
            return SealedSecret(self.tcti, private.marshal(), public.marshal())

    def unseal(self, sealed: SealedSecret) -> bytes:
        from tpm2_pytss.TSS2_Exception import TSS2_Exception
        from tpm2_pytss.types import TPM2B_PRIVATE, TPM2B_PUBLIC

        with self._esapi() as esapi:
            primary = self._primary(esapi)
            try:
                private, _ = TPM2B_PRIVATE.unmarshal(sealed.private)
                public, _ = TPM2B_PUBLIC.unmarshal(sealed.public)
                obj = esapi.load(primary, private, public)
                try:
                    return bytes(esapi.unseal(obj))
                finally:
                    esapi.flush_context(obj)
            except TSS2_Exception as exc:  # sealed by another TPM (a copied disk), or the blobs were altered
                raise DeviceDataError("tpm", f"this TPM cannot unseal the device key ({exc})") from None
            finally:
                esapi.flush_context(primary)
