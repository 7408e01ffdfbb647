"""Cheap replay heuristics. Each is measured by ``kiosk eval liveness``; none is trusted on its own.

Identical frames: a live camera always adds sensor noise, so consecutive face crops never match exactly;
a still image injected as a "virtual camera" does. It says nothing about a photo held in front of a real
camera (that has sensor noise too): the passive model is what covers that.
"""

from __future__ import annotations

import itertools

import cv2
import numpy as np

from vision.types import Detection

IDENTICAL_MEAN_ABS_DIFF = 0.5  # grey levels; measured sensor noise of webcams is several levels
STATIC_FRACTION_LIMIT = 0.8


def face_patch(image: np.ndarray, det: Detection, size: int = 128) -> np.ndarray:
    x, y, w, h = (int(v) for v in det.box)
    crop = image[max(y, 0) : max(y, 0) + max(h, 1), max(x, 0) : max(x, 0) + max(w, 1)]
    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    # Nearest-neighbour: averaging pixels would also average away the sensor noise this test looks for.
    return cv2.resize(gray, (size, size), interpolation=cv2.INTER_NEAREST).astype(np.float32)


def static_fraction(patches: list[np.ndarray]) -> float:
    """Share of consecutive frame pairs whose face patches are identical (to within rounding)."""
    if len(patches) < 2:
        return 0.0
    same = [float(np.mean(np.abs(a - b))) < IDENTICAL_MEAN_ABS_DIFF for a, b in itertools.pairwise(patches)]
    return float(np.mean(same))
