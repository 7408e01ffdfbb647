"""MobileFaceNet (sirius-ai, 192-d; Apache-2.0 weights trained on MS1M: see the manifest caveat)."""

from __future__ import annotations

import numpy as np

from vision.align import ARCFACE_112
from vision.recognizers.base import OnnxRecognizer


class MobileFaceNetRecognizer(OnnxRecognizer):
    name = "mobilefacenet"
    model = "mobilefacenet_sirius_192d"
    template = ARCFACE_112
    size = 112

    def preprocess(self, crops_bgr: np.ndarray) -> np.ndarray:
        rgb = crops_bgr[..., ::-1].astype(np.float32)
        return (rgb - 127.5) / 128.0
