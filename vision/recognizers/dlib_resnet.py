"""dlib ResNet-34 face descriptor (128-d; public-domain weights via face-api.js, MIT)."""

from __future__ import annotations

import numpy as np

from vision.align import DLIB_150
from vision.recognizers.base import OnnxRecognizer


class DlibResNetRecognizer(OnnxRecognizer):
    name = "dlib_resnet"
    model = "dlib_resnet34_faceapi"
    template = DLIB_150
    size = 150

    def preprocess(self, crops_bgr: np.ndarray) -> np.ndarray:
        # The graph subtracts its mean and scales by 1/255 itself: feed RGB 0..255.
        return np.ascontiguousarray(crops_bgr[..., ::-1], dtype=np.float32)
