"""Detect -> choose the subject's face -> align -> embed, with per-stage timings."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping

import cv2
import numpy as np

from vision.detectors.base import FaceDetector
from vision.recognizers.base import OnnxRecognizer
from vision.types import Detection


class StageTimer:
    """Wall-clock seconds per named stage, kept for benchmarks and the eval report."""

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = defaultdict(list)

    def time(self, stage: str):
        timer = self

        class _Span:
            def __enter__(self):
                self.t0 = time.perf_counter()

            def __exit__(self, *exc):
                timer.samples[stage].append(time.perf_counter() - self.t0)

        return _Span()


def primary_face(detections: list[Detection]) -> Detection | None:
    """The customer is the face nearest the camera, i.e. the largest one."""
    return max(detections, key=lambda d: d.box[2] * d.box[3], default=None)


def central_face(detections: list[Detection], shape: tuple[int, ...]) -> Detection | None:
    """The face nearest the image centre: LFW's labelled subject is centred by construction."""
    cy, cx = shape[0] / 2, shape[1] / 2
    return min(
        detections,
        key=lambda d: (d.box[0] + d.box[2] / 2 - cx) ** 2 + (d.box[1] + d.box[3] / 2 - cy) ** 2,
        default=None,
    )


class FaceEncoder:
    def __init__(self, detector: FaceDetector, recognizers: Mapping[str, OnnxRecognizer]) -> None:
        self.detector = detector
        self.recognizers = dict(recognizers)
        self.timer = StageTimer()

    def detect(self, image: np.ndarray) -> list[Detection]:
        with self.timer.time("detect"):
            return self.detector.detect(image)

    def embed_small_photo(self, photo: np.ndarray) -> dict[str, np.ndarray] | None:
        """The embedding of a tiny reference photo (a 102x126 chip photo), or None when no face is found on it.
        It is upscaled first: the detector misses faces that fill a tiny image."""
        large = cv2.resize(photo, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)
        face = primary_face(self.detect(large))
        return None if face is None else self.embed(large, face)

    def embed(self, image: np.ndarray, detection: Detection) -> dict[str, np.ndarray]:
        """One unit embedding per recognizer for this face."""
        out = {}
        for name, rec in self.recognizers.items():
            with self.timer.time(f"align:{name}"):
                crop = rec.align(image, detection.landmarks)
            with self.timer.time(f"embed:{name}"):
                out[name] = rec.embed([crop])[0]
        return out
