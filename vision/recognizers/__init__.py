"""Face recognizer plugins, chosen by config (``vision.recognizer``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from edge_models.loader import verified_model_path
from vision.recognizers.base import OnnxRecognizer, cosine
from vision.recognizers.dlib_resnet import DlibResNetRecognizer
from vision.recognizers.mobilefacenet import MobileFaceNetRecognizer

RECOGNIZERS: dict[str, type[OnnxRecognizer]] = {
    "mobilefacenet": MobileFaceNetRecognizer,
    "dlib_resnet": DlibResNetRecognizer,
}


def build_recognizer(
    name: str, models_dir: Path | Sequence[Path], allow_noncommercial: bool = False, flip_tta: bool = False, threads: int = 2
) -> OnnxRecognizer:
    try:
        plugin = RECOGNIZERS[name]
    except KeyError:
        raise ValueError(f"unknown recognizer {name!r}; available: {', '.join(RECOGNIZERS)}") from None
    path = verified_model_path(plugin.model, models_dir, allow_noncommercial)
    return plugin(path, threads=threads, flip_tta=flip_tta)


__all__ = ["RECOGNIZERS", "OnnxRecognizer", "build_recognizer", "cosine"]
