"""Image-quality gate for ID portraits and live frames, with reasons the UI can show.

Each check is cheap (a few ms on the face region) and explainable. Limits are per role because an ID
portrait is a small printed photo while a live frame is a close-up; they were set from the distributions
measured on LFW (``scripts/quality_stats.py`` prints them) and on the synthetic ID cards.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vision.types import Detection, QualityReport


@dataclass(frozen=True)
class QualityLimits:
    min_face_px: float  # face box height
    max_face_fraction: float  # face height / frame height: beyond this the face is cut off
    min_brightness: float
    max_brightness: float
    min_sharpness: float  # variance of the Laplacian on the face resized to 64 px wide
    max_glare_fraction: float  # share of face pixels at >= 250 luminance
    max_yaw_ratio: float  # |nose offset from eye midpoint| / eye distance
    max_roll_deg: float
    min_eye_contrast: float  # eye-patch std / face std: sunglasses make the eye patch flat and dark


LIVE = QualityLimits(80, 0.9, 60, 200, 60, 0.03, 0.30, 20, 0.20)
ID_PORTRAIT = QualityLimits(48, 1.0, 50, 215, 25, 0.05, 0.30, 15, 0.20)

# Codes shown to the customer (translated by the UI), in the order they are reported.
REASONS = (
    "no_face",
    "multiple_faces",
    "move_closer",
    "move_back",
    "too_dark",
    "too_bright",
    "glare",
    "blurry",
    "face_turned",
    "head_tilted",
    "eyes_hidden",
)


def _face_region(gray: np.ndarray, det: Detection) -> np.ndarray:
    x, y, w, h = det.box
    x0, y0 = max(int(x), 0), max(int(y), 0)
    x1, y1 = min(int(x + w), gray.shape[1]), min(int(y + h), gray.shape[0])
    return gray[y0:y1, x0:x1]


def _eye_patch(gray: np.ndarray, centre: np.ndarray, half: int) -> np.ndarray:
    cx, cy = int(centre[0]), int(centre[1])
    return gray[max(cy - half, 0) : cy + half, max(cx - half, 0) : cx + half]


def measure(image: np.ndarray, det: Detection) -> dict[str, float]:
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    face = _face_region(gray, det)
    if face.size == 0:
        return {"face_px": 0.0}
    # Measured at 64 px wide: faces are almost always larger, so this only downsamples and the figure
    # does not depend on how far the customer stands.
    small = cv2.resize(face, (64, max(1, round(64 * face.shape[0] / max(face.shape[1], 1)))), interpolation=cv2.INTER_AREA)
    lm = det.landmarks
    eye_mid = (lm[0] + lm[1]) / 2
    eye_dist = max(det.eye_distance, 1e-6)
    roll = float(np.degrees(np.arctan2(lm[1, 1] - lm[0, 1], lm[1, 0] - lm[0, 0])))
    half = max(2, int(0.18 * eye_dist))
    eyes = [_eye_patch(gray, lm[i], half) for i in (0, 1)]
    face_std = float(face.std()) or 1.0
    eye_contrast = min((float(e.std()) if e.size else 0.0) for e in eyes) / face_std
    return {
        "face_px": float(det.height),
        "face_fraction": float(det.height / gray.shape[0]),
        "brightness": float(face.mean()),
        "sharpness": float(cv2.Laplacian(small, cv2.CV_64F).var()),
        "glare": float(np.mean(face >= 250)),
        "yaw_ratio": float(abs(lm[2, 0] - eye_mid[0]) / eye_dist),
        "roll_deg": abs(roll),
        "eye_contrast": eye_contrast,
        "detector_score": det.score,
    }


def assess(image: np.ndarray, faces: list[Detection], limits: QualityLimits) -> QualityReport:
    """Quality of the main (largest) face among ``faces`` in ``image``."""
    if not faces:
        return QualityReport(False, ("no_face",), 0.0, {})
    faces = sorted(faces, key=lambda d: d.box[2] * d.box[3], reverse=True)
    det = faces[0]
    m = measure(image, det)
    second_face_large = len(faces) > 1 and faces[1].box[2] * faces[1].box[3] > 0.4 * det.box[2] * det.box[3]
    failed = {
        "multiple_faces": second_face_large,
        "move_closer": m["face_px"] < limits.min_face_px,
        "move_back": m.get("face_fraction", 0) > limits.max_face_fraction,
        "too_dark": m.get("brightness", 0) < limits.min_brightness,
        "too_bright": m.get("brightness", 0) > limits.max_brightness,
        "glare": m.get("glare", 0) > limits.max_glare_fraction,
        "blurry": m.get("sharpness", 0) < limits.min_sharpness,
        "face_turned": m.get("yaw_ratio", 0) > limits.max_yaw_ratio,
        "head_tilted": m.get("roll_deg", 0) > limits.max_roll_deg,
        "eyes_hidden": m.get("eye_contrast", 1) < limits.min_eye_contrast,
    }
    reasons = [r for r in REASONS if failed.get(r)]
    return QualityReport(not reasons, tuple(reasons), _score(m, limits), m)


def _score(m: dict[str, float], limits: QualityLimits) -> float:
    """Rank frames: sharper, bigger, frontal, well-exposed faces first."""
    if not m.get("face_px"):
        return 0.0
    size = min(1.0, m["face_px"] / (2 * limits.min_face_px))
    sharp = min(1.0, m["sharpness"] / (4 * limits.min_sharpness))
    frontal = max(0.0, 1.0 - m["yaw_ratio"] / (2 * limits.max_yaw_ratio))
    mid = (limits.min_brightness + limits.max_brightness) / 2
    exposure = max(0.0, 1.0 - abs(m["brightness"] - mid) / (limits.max_brightness - mid))
    return float(size * sharp * frontal * (0.5 + 0.5 * exposure) * min(1.0, m["detector_score"]))
