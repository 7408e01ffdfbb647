"""Reading the ID card in a camera frame: find and rectify the card, read its text, find the portrait.

One frame gives one side. The text decides the side and the orientation: a card held upside down reads as
nothing, so the rectified card is read again turned by 180 degrees, and the portrait is looked for on the
upright card.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from hardware.id_card import IdCardFields
from vision.detectors.base import FaceDetector
from vision.id_ocr import CardOcr
from vision.id_portrait import IdPortrait, card_width, find_card, portrait_on, rectify
from vision.id_text import CardText, read_card_text


@dataclass(eq=False)
class CardSide:
    side: str  # "front" | "back" | "unknown" | "no_card"
    fields: IdCardFields
    confidences: dict[str, float] = field(default_factory=dict)
    portrait: IdPortrait | None = None  # front only; biometric data
    seconds: float = 0.0
    number_problem: str | None = None  # front without a number: why


class CardReader:
    def __init__(self, detector: FaceDetector, ocr: CardOcr) -> None:
        self.detector = detector
        self.ocr = ocr

    def _read(self, document: np.ndarray) -> tuple[np.ndarray, CardText]:
        text = read_card_text(self.ocr.lines(document))
        if text.side != "unknown":
            return document, text
        turned = cv2.rotate(document, cv2.ROTATE_180)
        turned_text = read_card_text(self.ocr.lines(turned))
        return (turned, turned_text) if turned_text.side != "unknown" else (document, text)

    def read(self, frame: np.ndarray) -> CardSide:
        t0 = time.perf_counter()
        quad = find_card(frame)
        # No outline: the frame may be a scan or a close-up of the card filling the image.
        document = rectify(frame, quad) if quad is not None else frame
        document, text = self._read(document)
        if text.side == "unknown":
            side = CardSide("no_card" if quad is None else "unknown", IdCardFields())
        elif text.side == "front":
            width = card_width(quad) if quad is not None else None
            side = CardSide("front", text.fields, text.confidences,
                            portrait_on(document, self.detector, quad, width), number_problem=text.number_problem)
        else:
            side = CardSide("back", text.fields, text.confidences)
        side.seconds = time.perf_counter() - t0
        return side
