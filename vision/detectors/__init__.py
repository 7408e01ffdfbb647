"""Face detector plugins, chosen by config (``vision.detector``), each tied to one manifest model."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from edge_models.loader import verified_model_path
from vision.detectors.base import FaceDetector
from vision.detectors.scrfd import ScrfdDetector
from vision.detectors.yunet import YuNetDetector

DETECTORS: dict[str, type] = {"yunet": YuNetDetector, "scrfd": ScrfdDetector}


def build_detector(name: str, models_dir: Path | Sequence[Path], allow_noncommercial: bool = False) -> FaceDetector:
    try:
        plugin = DETECTORS[name]
    except KeyError:
        raise ValueError(f"unknown detector {name!r}; available: {', '.join(DETECTORS)}") from None
    return plugin(verified_model_path(plugin.model, models_dir, allow_noncommercial))


__all__ = ["DETECTORS", "FaceDetector", "build_detector"]
