"""Data that flows between the vision stages. Anything holding pixels or embeddings is biometric data."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, eq=False)
class Detection:
    """A face: box (x, y, w, h) in image pixels, five landmarks, detector confidence.

    Landmark order (both detectors): image-left eye, image-right eye, nose tip, image-left mouth corner,
    image-right mouth corner (the subject's right eye is the image-left one).
    """

    box: tuple[float, float, float, float]
    landmarks: np.ndarray  # (5, 2) float32
    score: float

    @property
    def height(self) -> float:
        return self.box[3]

    @property
    def eye_distance(self) -> float:
        return float(np.linalg.norm(self.landmarks[1] - self.landmarks[0]))

    def scaled(self, factor: float, offset: tuple[float, float] = (0.0, 0.0)) -> Detection:
        x, y, w, h = self.box
        ox, oy = offset
        return Detection(
            (x * factor + ox, y * factor + oy, w * factor, h * factor),
            self.landmarks * factor + np.array([ox, oy], dtype=np.float32),
            self.score,
        )


@dataclass(frozen=True)
class QualityReport:
    """``reasons`` are stable codes the UI translates ("move_closer" -> "Please move closer")."""

    ok: bool
    reasons: tuple[str, ...]
    score: float  # 0..1, higher is better; used to rank frames
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass(eq=False)
class FaceObservation:
    """One detected face in one image, with its quality; ``image`` is the source frame."""

    image: np.ndarray
    detection: Detection
    quality: QualityReport


@dataclass(frozen=True)
class MatchDecision:
    matched: bool
    score: float
    threshold: float
    fmr_target: float
    recognizer: str
    calibration: str  # which calibration file (data + model) produced the threshold
