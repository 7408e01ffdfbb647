"""SCRFD-500M (InsightFace, non-commercial research licence) through insightface's own decoder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from insightface.model_zoo import get_model

from vision.image_io import working_copy
from vision.types import Detection


class ScrfdDetector:
    name = "scrfd"
    model = "scrfd_500m"

    def __init__(self, path: Path, score_threshold: float = 0.5, input_size: int = 640) -> None:
        self._net = get_model(str(path), providers=["CPUExecutionProvider"])
        self._net.prepare(ctx_id=-1, input_size=(input_size, input_size), det_thresh=score_threshold)

    def detect(self, image: np.ndarray) -> list[Detection]:
        work, back = working_copy(image)
        boxes, kps = self._net.detect(work)
        faces = []
        for (x1, y1, x2, y2, score), points in zip(boxes, kps, strict=True):
            det = Detection((float(x1), float(y1), float(x2 - x1), float(y2 - y1)), points.astype(np.float32), float(score))
            faces.append(det.scaled(back) if back != 1.0 else det)
        return sorted(faces, key=lambda f: f.score, reverse=True)
