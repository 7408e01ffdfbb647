"""Where model files are looked up, and which licences this build may load: what every model user needs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ModelAccess:
    dirs: tuple[Path, ...]  # searched in order (the shared models, then those installed on the device)
    allow_noncommercial: bool = False  # a research build's explicit opt-in; never chosen silently
