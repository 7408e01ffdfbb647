"""Text recognition on the rectified card: PP-OCRv4 (PaddleOCR, Apache-2.0) through RapidOCR on onnxruntime.

The three model files ship inside the pinned ``rapidocr-onnxruntime`` wheel; like every model they are hash-
checked against the manifest and loaded from the verified copy, never from wherever the package put them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from edge_models.loader import verified_model_path
from vision.id_text import OcrLine

MODELS = {"det": "ppocr_v4_det", "rec": "ppocr_v4_rec", "cls": "ppocr_mobile_v2_cls"}
# The rectified card is at most 856 px wide. Detection at a 400 px short side reads it as well as the library's
# 736 px default at half the cost (217 vs 440 ms median per side on 2 cores); at 320 px (195 ms) the lone sex
# character (男/女) was sometimes not detected.
DET_SIDE = 400


class CardOcr:
    name = "ppocr_v4"

    def __init__(self, model_dirs: Sequence[Path], threads: int = 2) -> None:
        from rapidocr_onnxruntime import RapidOCR

        paths = {role: str(verified_model_path(model, model_dirs)) for role, model in MODELS.items()}
        # RapidOCR logs each call at INFO through its own logger: keep it out of the kiosk's log.
        logging.getLogger("RapidOCR").setLevel(logging.WARNING)
        self._engine = RapidOCR(
            det_model_path=paths["det"], rec_model_path=paths["rec"], cls_model_path=paths["cls"],
            det_limit_side_len=DET_SIDE, intra_op_num_threads=threads, inter_op_num_threads=1,
        )
        # onnxruntime's first run of each model costs seconds (allocations, kernel choice): pay it at start-up,
        # with a line of text so the recogniser runs too, not on the first customer's card. The warm-up image is
        # card-shaped: detection scales the short side to DET_SIDE, so a 48x320 strip became 400x2667 and left
        # the process 403 MB larger (a card's proportions: 189 MB, and real cards add nothing after it).
        warm = np.full((540, 856, 3), 255, np.uint8)
        cv2.putText(warm, "1234567890", (40, 270), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (0, 0, 0), 3)
        self.lines(warm)

    def lines(self, image: np.ndarray) -> list[OcrLine]:
        # The card is rectified, so text is upright or (a card held upside down) all rotated by 180 degrees:
        # the caller tries both orientations, which beats a per-line direction classifier here.
        result, _ = self._engine(image, use_cls=False)
        return [OcrLine(text, float(score), tuple((float(x), float(y)) for x, y in box))
                for box, text, score in (result or [])]
