"""Face recognizer plugins, named by a calibration (``vision.calibration``) from vision.plugins.RECOGNIZERS."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from edge_models.loader import verified_model_path
from vision.plugins import RECOGNIZERS
from vision.recognizers.base import OnnxRecognizer, cosine


def build_recognizer(
    name: str, models_dir: Path | Sequence[Path], allow_noncommercial: bool = False, flip_tta: bool = False, threads: int = 2
) -> OnnxRecognizer:
    plugin = RECOGNIZERS[name].load()
    path = verified_model_path(plugin.model, models_dir, allow_noncommercial)
    return plugin(path, threads=threads, flip_tta=flip_tta)


__all__ = ["RECOGNIZERS", "OnnxRecognizer", "build_recognizer", "cosine"]
