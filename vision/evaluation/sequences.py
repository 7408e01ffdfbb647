"""SYNTHETIC "live" frame sequences built from still photos, for the active-challenge tests and the demo.

A head turn here is a cut from a frontal photo to a turned photo of the same person (real poses, not warps),
a blink is a cut to a real closed-eye photo, and moving closer is a progressive zoom. Every frame gets fresh
Gaussian sensor noise, as a camera would add. This proves the challenge *logic* responds to the requested
motion and rejects the wrong one; it is not proof that real people pass or that real attacks fail.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from hardware.camera import Frame

FRAME_W, FRAME_H = 640, 480
FPS = 15.0


def camera_frame(photo: np.ndarray, zoom: float = 1.0) -> np.ndarray:
    """The photo scaled to fill a 640x480 frame (a face at kiosk distance); zoom > 1 = nearer the camera.

    Filling the frame matters: a photo pasted onto a plain backdrop shows straight edges around the face,
    which is exactly what a printed photo held up to the camera looks like.
    """
    h, w = photo.shape[:2]
    scale = max(FRAME_W / w, FRAME_H / h) * zoom
    resized = cv2.resize(photo, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_LINEAR)
    y0 = (resized.shape[0] - FRAME_H) // 2
    x0 = (resized.shape[1] - FRAME_W) // 2
    return np.ascontiguousarray(resized[y0 : y0 + FRAME_H, x0 : x0 + FRAME_W])


@dataclass(frozen=True)
class Shot:
    image: np.ndarray  # the still photo
    frames: int
    zoom_to: float | None = None  # zoom progressively to this over the shot; None keeps the current zoom


def render(shots: Sequence[Shot], seed: int = 0, noise: float = 2.0, t0: float = 0.0, source: str = "synthetic") -> list[Frame]:
    rng = np.random.default_rng(seed)
    frames = []
    zoom = 1.0
    for shot in shots:
        start = zoom
        for i in range(shot.frames):
            if shot.zoom_to is not None:
                zoom = start + (shot.zoom_to - start) * (i + 1) / shot.frames
            image = camera_frame(shot.image, zoom).astype(np.float32)
            if noise:
                image += rng.normal(0, noise, image.shape)
            index = len(frames)
            frames.append(Frame(np.clip(image, 0, 255).astype(np.uint8), t0 + index / FPS, index + 1, source))
    return frames


@dataclass(frozen=True)
class Actor:
    """Photos of one person that act out each motion."""

    neutral: np.ndarray
    moves: dict[str, np.ndarray]  # challenge name -> photo (turn_left, turn_right, blink); closer is a zoom

    def perform(self, challenges: Sequence[str], seed: int = 0, hold: int = 3) -> list[Frame]:
        shots = [Shot(self.neutral, 4)]
        for name in challenges:
            shots.append(Shot(self.neutral, hold))
            if name == "move_closer":
                shots.append(Shot(self.neutral, 6, zoom_to=1.4))
            else:
                shots.append(Shot(self.moves[name], 2 if name == "blink" else hold))
            shots.append(Shot(self.neutral, hold))
        return render(shots, seed)


class ActorCamera:
    """A camera showing a SYNTHETIC customer who does what the kiosk asks: first the ID card, then the face,
    acting out each prompted challenge from the actor's photos. For the demo.

    It behaves like a person in front of a real camera: each pose lasts a stretch of wall-clock time (a blink
    0.35 s, a turn 0.5 s), whoever reads how often; frames carry the read time. So a preview reading at 30
    frames/s does not use up the actor's moves before the face pipeline (5-9 frames/s) sees them."""

    HOLD_S, MOVE_S, BLINK_S, BACK_S, ZOOM_STEP_S = 0.2, 0.5, 0.35, 0.4, 0.08

    def __init__(self, card_scene: np.ndarray, actor: Actor, seed: int = 0, noise: float = 2.0,
                 back_scene: np.ndarray | None = None, clock=time.monotonic) -> None:
        self.card_scene = self.front_scene = card_scene
        self.back_scene = back_scene  # shown when the kiosk asks for the card's back
        self.actor = actor
        self.clock = clock
        self._rng = np.random.default_rng(seed)
        self._noise = noise
        self._bank: list[np.ndarray] = []  # a few noise fields, cycled: fresh noise per frame costs 20 ms
        self._queue: list[tuple[np.ndarray, float, float]] = []  # (photo, zoom, seconds)
        self._pose: tuple[np.ndarray, float] | None = None
        self._pose_until = 0.0
        self._showing_face = False
        self._zoom = 1.0
        self._count = 0

    @property
    def repertoire(self) -> tuple[str, ...]:
        return (*self.actor.moves, "move_closer")

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def set_purpose(self, purpose: str) -> None:
        """The actor's frames have one size."""

    def show_card(self, front: np.ndarray, back: np.ndarray | None = None) -> None:
        """The card the actor holds up (front first; the back when the kiosk asks for it)."""
        self.card_scene = self.front_scene = front
        self.back_scene = back

    def new_customer(self) -> None:
        """The next session: the card's photo side held up again, no face yet."""
        self.card_scene, self._showing_face, self._zoom, self._queue, self._pose = self.front_scene, False, 1.0, [], None

    def look_at_camera(self) -> None:
        self._showing_face = True
        self._zoom = 1.0

    def perform(self, challenge: str) -> None:
        if challenge == "show_back":
            if self.back_scene is not None:
                self.card_scene = self.back_scene
            return
        neutral = self.actor.neutral
        motion = [(neutral, self._zoom, self.HOLD_S)]
        if challenge == "move_closer":
            motion += [(neutral, self._zoom + 0.4 * (i + 1) / 6, self.ZOOM_STEP_S) for i in range(6)]
            self._zoom += 0.4
        else:
            motion.append((self.actor.moves[challenge], self._zoom,
                           self.BLINK_S if challenge == "blink" else self.MOVE_S))
        self._queue.extend([*motion, (neutral, self._zoom, self.BACK_S)])

    def _current_pose(self) -> tuple[np.ndarray, float]:
        now = self.clock()
        if self._pose is None or now >= self._pose_until:
            if self._queue:
                photo, zoom, seconds = self._queue.pop(0)
                self._pose, self._pose_until = (photo, zoom), now + seconds
            else:
                self._pose, self._pose_until = (self.actor.neutral, self._zoom), now
        return self._pose

    def read(self) -> Frame:
        self._count += 1
        image = camera_frame(*self._current_pose()) if self._showing_face else self.card_scene
        if not self._bank or self._bank[0].shape != image.shape:
            self._bank = [self._rng.normal(0, self._noise, image.shape).astype(np.int16) for _ in range(7)]
        noisy = image.astype(np.int16) + self._bank[self._count % len(self._bank)]
        return Frame(np.clip(noisy, 0, 255).astype(np.uint8), self.clock(), self._count, "actor")
