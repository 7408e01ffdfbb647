"""The recognizer plugin interface: aligned crops in, L2-normalised embeddings out, similarity by cosine."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np

from edge_models.loader import onnx_session
from vision.align import align_face


class OnnxRecognizer:
    """Shared mechanics; subclasses set the template, input size and pixel preprocessing."""

    name: ClassVar[str]
    model: ClassVar[str]  # manifest name
    template: ClassVar[np.ndarray]
    size: ClassVar[int]

    def __init__(self, path: Path, threads: int = 2, flip_tta: bool = False) -> None:
        self._session = onnx_session(path, threads)
        self._input = self._session.get_inputs()[0].name
        self.flip_tta = flip_tta

    def align(self, image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        return align_face(image, landmarks, self.template, self.size)

    def preprocess(self, crops_bgr: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def embed(self, crops_bgr: list[np.ndarray]) -> np.ndarray:
        """(N, D) unit vectors. With flip TTA, each is the normalised sum of the crop's and its mirror's."""
        batch = np.stack(crops_bgr)
        if not self.flip_tta:
            return _unit(self._run(batch))
        # One run over crops and mirrors together: a batch of 2 costs less than two runs of 1.
        both = _unit(self._run(np.concatenate([batch, batch[:, :, ::-1]])))
        return _unit(both[: len(batch)] + both[len(batch) :])

    def _run(self, batch: np.ndarray) -> np.ndarray:
        return self._session.run(None, {self._input: self.preprocess(batch)})[0]


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b))
