"""Synthetic ID-card scenes for evaluating ID-vs-live matching. SYNTHETIC: a stand-in, not real documents.

An LFW photo is printed onto an ID-1 card template (downscaled, JPEG-compressed, blurred, colour-cast as a
printed photo would be), the card is placed with a random rotation and perspective on a textured table and
"photographed" at 640x480 with uneven light and sensor noise. What this does not model: real security
printing, holograms and laminate glare, real card layouts, and the years between ID photo and live face.
"""

from __future__ import annotations

import cv2
import numpy as np

from vision.id_portrait import CARD_H, CARD_W

FRAME_W, FRAME_H = 640, 480


def _printed_photo(face_image: np.ndarray, rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    h, w = face_image.shape[:2]
    # LFW faces sit in the centre; an ID photo shows head and shoulders, so take the central 70%.
    crop = face_image[int(0.12 * h) : int(0.92 * h), int(0.17 * w) : int(0.83 * w)]
    photo = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
    small = cv2.resize(photo, (size[0] // 2, size[1] // 2), interpolation=cv2.INTER_AREA)
    photo = cv2.resize(small, size, interpolation=cv2.INTER_LINEAR)
    ok, jpg = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(45, 75))])
    photo = cv2.imdecode(jpg, cv2.IMREAD_COLOR)
    photo = cv2.GaussianBlur(photo, (3, 3), float(rng.uniform(0.3, 1.0)))
    cast = rng.uniform(0.9, 1.1, size=3)
    contrast = rng.uniform(0.75, 0.95)
    photo = (photo.astype(np.float32) - 128) * contrast + 128 + 10
    return np.clip(photo * cast, 0, 255).astype(np.uint8)


def render_card(face_image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    tint = rng.uniform(200, 245, size=3)
    gradient = np.linspace(0.92, 1.05, CARD_W, dtype=np.float32)[None, :, None]
    card = np.clip(np.ones((CARD_H, CARD_W, 3), np.float32) * tint * gradient, 0, 255).astype(np.uint8)
    cv2.rectangle(card, (0, 0), (CARD_W - 1, 70), (int(tint[0] * 0.6), int(tint[1] * 0.5), int(tint[2] * 0.4)), -1)
    for row in range(5):  # text-like strokes: the detector must not care about them
        y = 130 + row * 70
        cv2.putText(card, "XXXX 0000 XXXXXXXX", (40, y), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (60, 60, 60), 2)
    px, py, pw, ph = 560, 110, 250, 320  # portrait box on the right, as on the PRC resident ID card
    card[py : py + ph, px : px + pw] = _printed_photo(face_image, rng, (pw, ph))
    cv2.rectangle(card, (0, 0), (CARD_W - 1, CARD_H - 1), (90, 90, 90), 2)
    return card


def _table(rng: np.random.Generator) -> np.ndarray:
    base = rng.uniform(40, 110, size=3)
    noise = rng.normal(0, 12, size=(FRAME_H * 2, FRAME_W * 2, 1))
    texture = cv2.GaussianBlur(noise, (0, 0), 3)[..., None] if noise.ndim == 2 else cv2.GaussianBlur(noise, (0, 0), 3)
    return np.clip(base + texture.reshape(FRAME_H * 2, FRAME_W * 2, 1), 0, 255).astype(np.uint8)


def render_scene(face_image: np.ndarray, seed: int) -> np.ndarray:
    """A 640x480 camera frame of a card carrying ``face_image`` as its portrait."""
    rng = np.random.default_rng(seed)
    card = render_card(face_image, rng)
    scene = _table(rng)
    H, W = scene.shape[:2]
    card_w = W * rng.uniform(0.55, 0.72)
    card_h = card_w / (CARD_W / CARD_H)
    cx, cy = W / 2 + rng.uniform(-0.06, 0.06) * W, H / 2 + rng.uniform(-0.06, 0.06) * H
    angle = np.radians(rng.uniform(-10, 10))
    corners = np.array([[-card_w / 2, -card_h / 2], [card_w / 2, -card_h / 2], [card_w / 2, card_h / 2], [-card_w / 2, card_h / 2]])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    quad = corners @ rot.T + [cx, cy]
    quad += rng.uniform(-0.04, 0.04, size=(4, 2)) * card_w  # perspective: the card is not parallel to the lens
    src = np.array([[0, 0], [CARD_W - 1, 0], [CARD_W - 1, CARD_H - 1], [0, CARD_H - 1]], np.float32)
    matrix = cv2.getPerspectiveTransform(src, quad.astype(np.float32))
    warped = cv2.warpPerspective(card, matrix, (W, H))
    mask = cv2.warpPerspective(np.full((CARD_H, CARD_W), 255, np.uint8), matrix, (W, H))
    scene[mask > 0] = warped[mask > 0]
    light = np.linspace(rng.uniform(0.8, 1.0), rng.uniform(1.0, 1.15), W, dtype=np.float32)[None, :, None]
    scene = np.clip(scene.astype(np.float32) * light + rng.normal(0, 3, scene.shape), 0, 255).astype(np.uint8)
    frame = cv2.resize(scene, (FRAME_W, FRAME_H), interpolation=cv2.INTER_AREA)
    ok, jpg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return cv2.imdecode(jpg, cv2.IMREAD_COLOR)
