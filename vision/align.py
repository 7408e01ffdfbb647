"""Similarity-transform alignment of a face to a recognizer's 5-point template.

The ArcFace 112x112 template is insightface's own (``face_align.arcface_dst``, pinned equal by a test); other
templates use the same least-squares similarity fit with their own points. The fit is OpenCV's: with every point
an inlier, its Levenberg-Marquardt refinement reaches the least-squares similarity that insightface gets from
scikit-image (Umeyama) to within 3e-5 px over 2000 random faces, and the kiosk does not load insightface, scikit-
image and SciPy (about 55 MB of memory, 1 s of start-up) for five points.
"""

from __future__ import annotations

import cv2
import numpy as np

ARCFACE_112 = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float32,
)
# dlib's 150x150 face chip (padding 0.25) expressed in YuNet's 5 points; measured over 2320 LFW images
# (../shared/models/MANIFEST.md, dlib_resnet34_faceapi).
DLIB_150 = np.array(
    [[46.17, 44.39], [103.25, 45.39], [74.81, 77.37], [50.19, 101.90], [98.98, 102.50]], dtype=np.float32
)


def alignment_matrix(landmarks: np.ndarray, template: np.ndarray) -> np.ndarray:
    # One RANSAC sample with an unbounded threshold, then the refinement over all points: the least-squares fit.
    matrix, _ = cv2.estimateAffinePartial2D(np.asarray(landmarks, np.float64), template.astype(np.float64),
                                            method=cv2.RANSAC, ransacReprojThreshold=1e9, maxIters=1,
                                            refineIters=100)
    if matrix is None:
        raise ValueError("face landmarks are degenerate (no similarity transform fits them)")
    return matrix.astype(np.float32)


def align_face(image: np.ndarray, landmarks: np.ndarray, template: np.ndarray, size: int) -> np.ndarray:
    matrix = alignment_matrix(landmarks, template)
    return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=0.0)
