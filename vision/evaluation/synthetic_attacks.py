"""SYNTHETIC presentation attacks built from face photos, for measuring the passive check.

print: the photo on paper (white margin, paper grain, faded colour and contrast), held slightly tilted in
front of the camera, re-captured (blur, JPEG). replay: the photo on a phone/monitor (black bezel, pixel grid,
moiré interference, cool colour cast, specular glare), re-captured. bona fide: the same photos composited
directly into a camera frame. These imitate the *look* of attacks; real attack instruments (glossy paper,
OLED screens, masks) and real capture conditions differ, so these figures are indicative only.
"""

from __future__ import annotations

import cv2
import numpy as np

from vision.evaluation.sequences import FRAME_H, FRAME_W, camera_frame

ATTACK_TYPES = ("print", "replay")


def _capture(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The kiosk camera, identical for bona fide and attacks: sensor noise, then JPEG."""
    frame = np.clip(frame.astype(np.float32) + rng.normal(0, 2.5, frame.shape), 0, 255).astype(np.uint8)
    return cv2.imdecode(cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 92])[1], cv2.IMREAD_COLOR)


def _reproduce(photo: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """What the attack instrument loses: printing or displaying resamples and softens the photo."""
    return cv2.GaussianBlur(photo, (0, 0), float(rng.uniform(0.6, 1.2)))


def _tilt(frame: np.ndarray, rng: np.random.Generator, fill: tuple[int, int, int]) -> np.ndarray:
    h, w = frame.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = (src + rng.uniform(-0.04, 0.04, size=(4, 2)) * [w, h]).astype(np.float32)
    return cv2.warpPerspective(frame, cv2.getPerspectiveTransform(src, dst), (w, h), borderValue=fill)


def _held_up(instrument: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The paper or device held in front of the camera, covering most (not all) of a room background."""
    frame = np.full((FRAME_H, FRAME_W, 3), rng.uniform(70, 140, size=3), np.uint8)
    side = int(FRAME_H * rng.uniform(0.85, 1.0))
    x0 = (FRAME_W - side) // 2 + int(rng.integers(-40, 40))
    y0 = (FRAME_H - side) // 2
    frame[y0 : y0 + side, x0 : x0 + side] = cv2.resize(instrument, (side, side))
    return frame


def bona_fide(face: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return _capture(camera_frame(face), rng)


def print_attack(face: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    photo = _reproduce(face, rng).astype(np.float32)
    grey = photo.mean(axis=2, keepdims=True)
    photo = grey + (photo - grey) * rng.uniform(0.55, 0.8)  # inks saturate less than a live scene
    photo = (photo - 128) * rng.uniform(0.7, 0.85) + 128 + rng.uniform(5, 20)
    photo *= rng.uniform(0.95, 1.08, size=3)  # warm/cool paper cast
    grain = cv2.GaussianBlur(rng.normal(0, 6, photo.shape[:2]).astype(np.float32), (0, 0), 0.8)
    photo = np.clip(photo + grain[..., None], 0, 255).astype(np.uint8)
    margin = int(photo.shape[0] * 0.08)
    paper = cv2.copyMakeBorder(photo, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=(235, 238, 240))
    frame = _held_up(cv2.resize(paper, photo.shape[1::-1]), rng)
    return _capture(_tilt(frame, rng, (105, 105, 105)), rng)


def replay_attack(face: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    screen = _reproduce(face, rng).astype(np.float32) * [1.08, 1.0, 0.92]  # cool white point (BGR)
    h, w = screen.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    period = rng.uniform(3.0, 6.0)
    moire = 10 * np.sin(2 * np.pi * (xx * np.cos(angle) + yy * np.sin(angle)) / period)
    screen += moire[..., None]
    grid = ((xx % 3) < 1) | ((yy % 3) < 1)  # dark gaps between sub-pixels
    screen[grid] *= 0.8
    gx, gy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.1, 0.5) * h
    glare = 90 * np.exp(-(((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * (0.18 * w) ** 2)))
    screen = np.clip(screen + glare[..., None], 0, 255).astype(np.uint8)
    bezel = int(h * 0.06)
    device = cv2.copyMakeBorder(screen, bezel, bezel, bezel, bezel, cv2.BORDER_CONSTANT, value=(15, 15, 15))
    frame = _held_up(cv2.resize(device, (w, h)), rng)
    return _capture(_tilt(frame, rng, (105, 105, 105)), rng)


RENDERERS = {"print": print_attack, "replay": replay_attack}
