"""Similarity-transform alignment of a face to a recognizer's 5-point template.

The ArcFace 112x112 template is insightface's own (``face_align.arcface_dst``); other templates use the same
least-squares similarity fit (scikit-image, as insightface does) with their own points.
"""

from __future__ import annotations

import cv2
import numpy as np
from insightface.utils import face_align
from skimage.transform import SimilarityTransform

ARCFACE_112 = face_align.arcface_dst.astype(np.float32)
# dlib's 150x150 face chip (padding 0.25) expressed in YuNet's 5 points; measured over 2320 LFW images
# (../shared/models/MANIFEST.md, dlib_resnet34_faceapi).
DLIB_150 = np.array(
    [[46.17, 44.39], [103.25, 45.39], [74.81, 77.37], [50.19, 101.90], [98.98, 102.50]], dtype=np.float32
)


def alignment_matrix(landmarks: np.ndarray, template: np.ndarray) -> np.ndarray:
    transform = SimilarityTransform.from_estimate(np.asarray(landmarks, np.float64), template.astype(np.float64))
    return transform.params[:2].astype(np.float32)


def align_face(image: np.ndarray, landmarks: np.ndarray, template: np.ndarray, size: int) -> np.ndarray:
    matrix = alignment_matrix(landmarks, template)
    return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=0.0)
