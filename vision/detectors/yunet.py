"""YuNet 2023mar through OpenCV's FaceDetectorYN (MIT). The default detector."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from vision.image_io import working_copy
from vision.types import Detection


class YuNetDetector:
    name = "yunet"
    model = "yunet_2023mar"

    def __init__(self, path: Path, score_threshold: float = 0.6, nms_threshold: float = 0.3) -> None:
        self._net = cv2.FaceDetectorYN.create(str(path), "", (320, 320), score_threshold, nms_threshold, 50)
        self._size: tuple[int, int] | None = None

    def detect(self, image: np.ndarray) -> list[Detection]:
        work, back = working_copy(image)
        h, w = work.shape[:2]
        if self._size != (w, h):
            self._net.setInputSize((w, h))
            self._size = (w, h)
        _, rows = self._net.detect(work)
        if rows is None:
            return []
        faces = [
            Detection(tuple(float(v) for v in r[:4]), r[4:14].reshape(5, 2).astype(np.float32), float(r[14]))
            for r in rows
        ]
        faces = [f.scaled(back) if back != 1.0 else f for f in faces]
        return sorted(faces, key=lambda f: f.score, reverse=True)
