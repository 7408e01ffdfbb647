"""Face continuity: the same face, without jumps, from the first challenge frame to the last match frame.

Stops an attacker who performs the challenge with one face (their own) and then swaps in a photo of the
victim for the frames that get matched against the ID, or who swaps printouts between prompts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from vision.types import Detection

Embedding = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class ContinuityLimits:
    min_similarity: float  # same-person score threshold (calibration, FMR 1e-2: lenient for turned heads)
    max_centre_jump: float = 0.6  # between consecutive frames, in face widths
    max_size_jump: float = 0.35  # relative change of face height between consecutive frames


class ContinuityCheck:
    def __init__(self, limits: ContinuityLimits, similarity: Callable[[Embedding, Embedding], float]) -> None:
        self.limits = limits
        self.similarity = similarity
        self._reference: Embedding | None = None
        self._last: Detection | None = None
        self.reason = ""
        self.lowest_similarity = 1.0

    @property
    def ok(self) -> bool:
        return not self.reason

    def feed(self, det: Detection, embedding: Embedding | None) -> None:
        if self.reason:
            return
        if self._last is not None:
            (x0, y0, w0, h0), (x1, y1, w1, h1) = self._last.box, det.box
            jump = np.hypot(x1 + w1 / 2 - x0 - w0 / 2, y1 + h1 / 2 - y0 - h0 / 2) / max(w0, 1.0)
            if jump > self.limits.max_centre_jump or abs(h1 - h0) / max(h0, 1.0) > self.limits.max_size_jump:
                self.reason = "face_jump"
                return
        self._last = det
        if embedding is None:
            return
        if self._reference is None:
            self._reference = embedding
            return
        score = self.similarity(self._reference, embedding)
        self.lowest_similarity = min(self.lowest_similarity, score)
        if score < self.limits.min_similarity:
            self.reason = "face_changed"
