"""Find an ID card in a camera frame, rectify it, and find the portrait face on it.

A frame that is itself a scan of the card (the card fills the image) is handled too: when no card outline
is found but a face is, the whole image is treated as the document.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vision.detectors.base import FaceDetector
from vision.quality import ID_PORTRAIT, assess
from vision.types import Detection, QualityReport

# ID-1 format (ISO/IEC 7810: 85.60 x 53.98 mm), rectified at 10 px/mm.
CARD_W, CARD_H = 856, 540
CARD_ASPECT = CARD_W / CARD_H
MIN_CARD_AREA = 0.04  # of the frame: a smaller outline is not looked at (nor told to come closer)
MAX_CORNER_SKEW_DEG = 25.0
# Card width, in camera pixels, below which the customer is asked to bring it closer: the portrait is then too
# small to match well (`kiosk eval faces --synthetic-id --case far --case far_hd` measures the loss). 288 px is
# 45% of a 640-pixel frame; an HD capture (hardware.camera.id_width) reads the same card from twice as far.
MIN_CARD_PX = 288
# The reasons an ID frame can be refused for, besides the face-quality ones (vision.quality.REASONS); each has a
# customer text (kiosk/i18n, tests/test_texts.py).
REASONS = ("card_not_found", "tilt_card", "card_too_far", "portrait_upside_down", "glare", "portrait_unreadable")
# Where the PRC card prints the portrait, as shares of the rectified card (x0, y0, x1, y1).
PORTRAIT_REGION = (0.63, 0.17, 0.97, 0.83)
GLARE_LEVEL, GLARE_SHARE = 245, 0.04
INVERTED_MARGIN = 0.02  # detector score a face must gain when turned around to count as upside down  # near-white pixels, and the share of the portrait region they may cover


@dataclass(eq=False)
class IdPortrait:
    document: np.ndarray  # the rectified card (or the scan), BGR; biometric data
    face: Detection | None  # the portrait face, in ``document`` coordinates
    quality: QualityReport
    card_found: bool


def _order_corners(pts: np.ndarray) -> np.ndarray:
    """Top-left, top-right, bottom-right, bottom-left."""
    s, d = pts.sum(1), np.diff(pts, axis=1).ravel()
    return np.array([pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)], pts[np.argmax(d)]], np.float32)


def _corner_skew(quad: np.ndarray) -> float:
    worst = 0.0
    for i in range(4):
        a, b, c = quad[i - 1], quad[i], quad[(i + 1) % 4]
        v1, v2 = a - b, c - b
        cos = float(np.dot(v1, v2) / (np.linalg.norm(v1) * np.linalg.norm(v2) + 1e-9))
        worst = max(worst, abs(np.degrees(np.arccos(np.clip(cos, -1, 1))) - 90))
    return worst


def find_card(frame: np.ndarray) -> np.ndarray | None:
    """The card's four corners (ordered), or None when no card-shaped outline is in view."""
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    gray = cv2.GaussianBlur(gray, (5, 5), 0)
    edges = cv2.dilate(cv2.Canny(gray, 30, 100), np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(edges, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    frame_area = frame.shape[0] * frame.shape[1]
    for contour in sorted(contours, key=cv2.contourArea, reverse=True)[:5]:
        if cv2.contourArea(contour) < MIN_CARD_AREA * frame_area:
            break
        approx = cv2.approxPolyDP(contour, 0.02 * cv2.arcLength(contour, True), True)
        if len(approx) != 4 or not cv2.isContourConvex(approx):
            continue
        quad = _order_corners(approx.reshape(4, 2).astype(np.float32))
        width = (np.linalg.norm(quad[1] - quad[0]) + np.linalg.norm(quad[2] - quad[3])) / 2
        height = (np.linalg.norm(quad[3] - quad[0]) + np.linalg.norm(quad[2] - quad[1])) / 2
        aspect = max(width, height) / max(min(width, height), 1)
        if abs(aspect - CARD_ASPECT) / CARD_ASPECT < 0.3:
            return quad
    return None


def rectify(frame: np.ndarray, quad: np.ndarray) -> np.ndarray:
    width = np.linalg.norm(quad[1] - quad[0])
    height = np.linalg.norm(quad[3] - quad[0])
    if height > width:  # card held in portrait orientation: rotate so the long side is horizontal
        quad = np.roll(quad, -1, axis=0)
        width = height
    # Rectify at the card's size in the frame (capped at ID-1 at 10 px/mm): upsampling only adds blur.
    out_w = int(min(CARD_W, max(width, 200)))
    out_h = round(out_w / CARD_ASPECT)
    target = np.array([[0, 0], [out_w - 1, 0], [out_w - 1, out_h - 1], [0, out_h - 1]], np.float32)
    return cv2.warpPerspective(frame, cv2.getPerspectiveTransform(quad, target), (out_w, out_h))


def extract_portrait(frame: np.ndarray, detector: FaceDetector) -> IdPortrait:
    quad = find_card(frame)
    if quad is not None:
        document = rectify(frame, quad)
        portrait = upright_portrait(document, detector, quad, card_width(quad))
        if portrait.face is not None:
            return portrait
        # The outline may be the card's back or a different rectangle: fall back to the raw frame, and when that
        # finds no face either, say what was wrong with the card that was seen.
        scan = portrait_on(frame, detector, None)
        return scan if scan.face is not None else portrait
    return portrait_on(frame, detector, None)


def upright_portrait(document: np.ndarray, detector: FaceDetector, quad: np.ndarray | None,
                     width: float | None = None) -> IdPortrait:
    """The portrait on the rectified card read both ways up, keeping the orientation that puts the face where
    the PRC card has it (the right half) with the stronger detection: a card held upside down shows its
    portrait upside down on the left, and a face detector still finds it there, with the landmarks wrong."""
    candidates = [portrait_on(document, detector, quad, width),
                  portrait_on(cv2.rotate(document, cv2.ROTATE_180), detector, quad, width)]

    def rank(p: IdPortrait) -> tuple[bool, bool, float]:
        face = p.face
        on_right = face is not None and face.box[0] + face.box[2] / 2 > p.document.shape[1] / 2
        return face is not None, on_right, face.score if face is not None else 0.0

    return max(candidates, key=rank)


def portrait_on(document: np.ndarray, detector: FaceDetector, quad: np.ndarray | None,
                width: float | None = None) -> IdPortrait:
    """The portrait face on a document image (the rectified card when ``quad`` is its outline, else a scan);
    ``width``: the card's width in camera pixels, when known."""
    faces = detector.detect(document)
    face = max(faces, key=lambda d: d.box[2] * d.box[3]) if faces else None
    # Only the largest face counts: many ID cards carry a second, small "ghost" copy of the portrait.
    quality = assess(document, [face] if face else [], ID_PORTRAIT)
    reasons = list(quality.reasons)
    if not faces:
        reasons = [_no_portrait_reason(document) if quad is not None else "card_not_found"]
    else:
        if quad is not None and _corner_skew(quad) > MAX_CORNER_SKEW_DEG:
            reasons.append("tilt_card")
        if width is not None and width < MIN_CARD_PX:
            reasons.append("card_too_far")
        if upside_down(document, face, detector):
            reasons.append("portrait_upside_down")
    if "head_tilted" in reasons:  # on a document the fix is to straighten the card, not the head
        reasons[reasons.index("head_tilted")] = "tilt_card"
    report = QualityReport(not reasons, tuple(reasons), quality.score, quality.metrics)
    return IdPortrait(document, face, report, quad is not None)


def card_width(quad: np.ndarray) -> float:
    """The card's long side in camera pixels."""
    return float(max(np.linalg.norm(quad[1] - quad[0]), np.linalg.norm(quad[3] - quad[0])))


def _no_portrait_reason(document: np.ndarray) -> str:
    """A card was seen but no face on it: a reflection over the photo, or a photo that cannot be made out."""
    h, w = document.shape[:2]
    x0, y0, x1, y1 = PORTRAIT_REGION
    region = cv2.cvtColor(document[int(y0 * h) : int(y1 * h), int(x0 * w) : int(x1 * w)], cv2.COLOR_BGR2GRAY)
    if region.size and float(np.mean(region >= GLARE_LEVEL)) > GLARE_SHARE:
        return "glare"
    return "portrait_unreadable"


def upside_down(document: np.ndarray, face: Detection, detector: FaceDetector) -> bool:
    """True when the face region turned by 180 degrees is detected with a better score: the detector found an
    inverted face and placed its landmarks as if it were upright. On 200 LFW faces turned upside down, YuNet
    still found 183, always scoring at least 0.026 lower than the same face upright (median 0.09)."""
    x, y, w, h = (int(v) for v in face.box)
    pad = int(0.3 * max(w, h))
    crop = document[max(y - pad, 0) : y + h + pad, max(x - pad, 0) : x + w + pad]
    if crop.size == 0:
        return False
    turned = detector.detect(cv2.rotate(crop, cv2.ROTATE_180))
    return bool(turned) and max(d.score for d in turned) > face.score + INVERTED_MARGIN
