"""The detector plugin interface."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from vision.types import Detection


class FaceDetector(Protocol):
    name: str
    model: str  # manifest name of the model file it runs

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Faces in a BGR image, highest score first."""
        ...
