"""Passive anti-spoofing: MiniFASNetV2 (crop scale 2.7) and MiniFASNetV1SE (scale 4.0), Apache-2.0.

Input per model: the detector box expanded about its centre by the model's scale (capped to fit the image),
resized to 80x80, BGR 0..255, NCHW. Output: 3 logits; softmax class 1 = real. The two models' P(real) are
averaged, then averaged again over the frames of the live capture.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge_models.loader import onnx_session
from vision.types import Detection

INPUT = 80


@dataclass(frozen=True)
class PassiveModel:
    model: str  # manifest name
    scale: float


MODELS = (PassiveModel("minifasnet_v2", 2.7), PassiveModel("minifasnet_v1se", 4.0))


def crop_for_scale(image: np.ndarray, det: Detection, scale: float) -> np.ndarray:
    """The box scaled about its centre, shifted (not clipped) back inside the image when it overflows, so
    the crop keeps the context the model was trained with."""
    height, width = image.shape[:2]
    x, y, w, h = det.box
    scale = min(scale, (height - 1) / h, (width - 1) / w)
    cx, cy = x + w / 2, y + h / 2
    left, top = cx - w * scale / 2, cy - h * scale / 2
    right, bottom = cx + w * scale / 2, cy + h * scale / 2
    shift_x = -left if left < 0 else min(0.0, width - 1 - right)
    shift_y = -top if top < 0 else min(0.0, height - 1 - bottom)
    left, right, top, bottom = left + shift_x, right + shift_x, top + shift_y, bottom + shift_y
    crop = image[int(top) : int(bottom) + 1, int(left) : int(right) + 1]
    return cv2.resize(crop, (INPUT, INPUT))


class PassiveLiveness:
    def __init__(self, paths: dict[str, Path], threads: int = 2) -> None:
        self._sessions = [(m, onnx_session(paths[m.model], threads)) for m in MODELS]

    def score(self, image: np.ndarray, det: Detection) -> float:
        """P(real) for one face, averaged over both models."""
        probabilities = []
        for spec, session in self._sessions:
            crop = crop_for_scale(image, det, spec.scale)
            tensor = crop.astype(np.float32).transpose(2, 0, 1)[None]
            logits = session.run(None, {session.get_inputs()[0].name: tensor})[0][0]
            exp = np.exp(logits - logits.max())
            probabilities.append(float(exp[1] / exp.sum()))
        return float(np.mean(probabilities))
