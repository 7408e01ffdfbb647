"""Face detector plugins, chosen by config (``vision.detector``) from vision.plugins.DETECTORS, each tied to one
manifest model."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from edge_models.loader import verified_model_path
from vision.detectors.base import FaceDetector
from vision.plugins import DETECTORS


def build_detector(name: str, models_dir: Path | Sequence[Path], allow_noncommercial: bool = False) -> FaceDetector:
    plugin = DETECTORS[name].load()
    return plugin(verified_model_path(plugin.model, models_dir, allow_noncommercial))


__all__ = ["DETECTORS", "FaceDetector", "build_detector"]
