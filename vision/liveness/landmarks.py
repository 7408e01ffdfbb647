"""MediaPipe Face Mesh (468 points, Apache-2.0) via onnxruntime: eye aspect ratio and head pose.

Pre/post-processing follows ../shared/models/MANIFEST.md "Landmarks": a square ROI rotated so the eye
line is horizontal, centred 0.048 h below the detector box centre, side 1.387 h, warped to 192x192 RGB/255.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge_models.loader import onnx_session
from vision.types import Detection

INPUT = 192
ROI_DY, ROI_SIDE = 0.048, 1.387
# Eye contours p1..p6 for the eye aspect ratio (Soukupova & Cech 2016): image-left eye, image-right eye.
EAR_POINTS = ((33, 160, 158, 133, 153, 144), (362, 385, 387, 263, 373, 380))
# Nose tip, chin, outer eye corners, mouth corners, and a generic 3D face for solvePnP
# (x right, y up, z toward the camera).
POSE_POINTS = (1, 152, 33, 263, 61, 291)
FACE_3D = np.array(
    [(0.0, 0.0, 0.0), (0.0, -330.0, -65.0), (-225.0, 170.0, -135.0), (225.0, 170.0, -135.0),
     (-150.0, -150.0, -125.0), (150.0, -150.0, -125.0)]
) * np.array([1, -1, -1])  # camera axes: y down, z away, so a frontal face has identity rotation


@dataclass(frozen=True)
class FaceGeometry:
    """Per-frame measurements for the active challenge. Angles in degrees.

    yaw > 0: nose toward the image left, i.e. the subject turned to their own right (unmirrored camera).
    """

    yaw: float
    pitch: float
    roll: float
    ear: float  # mean eye aspect ratio of both eyes
    presence: float  # face-presence probability from the mesh model
    face_height: float  # detector box height, pixels


def _roi_matrix(det: Detection) -> np.ndarray:
    x, y, w, h = det.box
    right_eye, left_eye = det.landmarks[0], det.landmarks[1]
    angle = float(np.arctan2(left_eye[1] - right_eye[1], left_eye[0] - right_eye[0]))
    c, s = np.cos(angle), np.sin(angle)
    cx, cy = x + w / 2 - s * ROI_DY * h, y + h / 2 + c * ROI_DY * h
    k = INPUT / (ROI_SIDE * h)
    a = np.array([[c, s], [-s, c]]) * k
    t = np.array([INPUT / 2, INPUT / 2]) - a @ np.array([cx, cy])
    return np.hstack([a, t[:, None]])


def eye_aspect_ratio(xy: np.ndarray) -> float:
    values = []
    for p1, p2, p3, p4, p5, p6 in EAR_POINTS:
        vertical = np.linalg.norm(xy[p2] - xy[p6]) + np.linalg.norm(xy[p3] - xy[p5])
        values.append(vertical / (2 * np.linalg.norm(xy[p1] - xy[p4]) + 1e-9))
    return float(np.mean(values))


def head_pose(xy: np.ndarray, width: int, height: int) -> tuple[float, float, float]:
    focal = float(width)
    camera = np.array([[focal, 0, width / 2], [0, focal, height / 2], [0, 0, 1]], np.float64)
    _ok, rvec, _ = cv2.solvePnP(FACE_3D, xy[list(POSE_POINTS)].astype(np.float64), camera, None,
                               flags=cv2.SOLVEPNP_ITERATIVE)
    r, _ = cv2.Rodrigues(rvec)
    yaw = np.degrees(np.arctan2(-r[2, 0], np.hypot(r[0, 0], r[1, 0])))
    pitch = np.degrees(np.arctan2(r[2, 1], r[2, 2]))
    roll = np.degrees(np.arctan2(r[1, 0], r[0, 0]))
    return float(yaw), float(pitch), float(roll)


class FaceMesh:
    model = "mediapipe_face_landmark_468"

    def __init__(self, path: Path, threads: int = 2) -> None:
        self._session = onnx_session(path, threads)

    def points(self, image_bgr: np.ndarray, det: Detection) -> tuple[np.ndarray, float]:
        """(468 x 2 image-pixel landmarks, face-presence probability)."""
        matrix = _roi_matrix(det)
        crop = cv2.warpAffine(image_bgr, matrix, (INPUT, INPUT), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
        tensor = (cv2.cvtColor(crop, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0)[None]
        mesh, flag = self._session.run(None, {"input_1": tensor})
        mesh = mesh.reshape(468, 3)
        inverse = cv2.invertAffineTransform(matrix)
        xy = mesh[:, :2] @ inverse[:, :2].T + inverse[:, 2]
        return xy, float(1.0 / (1.0 + np.exp(-float(flag.ravel()[0]))))

    def geometry(self, image_bgr: np.ndarray, det: Detection) -> FaceGeometry:
        xy, presence = self.points(image_bgr, det)
        yaw, pitch, roll = head_pose(xy, image_bgr.shape[1], image_bgr.shape[0])
        return FaceGeometry(yaw, pitch, roll, eye_aspect_ratio(xy), presence, det.height)
