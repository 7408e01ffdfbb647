"""Cameras: an OpenCV capture driver and a replay driver reading image files, folders or videos."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from hardware.errors import DeviceDataError, DeviceDisconnected, DeviceMissing, EndOfReplay

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mkv", ".mov", ".webm"})


@dataclass(eq=False)
class Frame:
    """One BGR camera frame. Biometric data: never logged, never persisted."""

    image: np.ndarray  # H x W x 3, uint8, BGR
    timestamp: float  # monotonic seconds
    index: int
    source: str  # "camera:0", "replay:<file name>"

    @property
    def size(self) -> tuple[int, int]:
        return int(self.image.shape[1]), int(self.image.shape[0])


class Camera(Protocol):
    def open(self) -> None: ...
    def read(self) -> Frame: ...
    def close(self) -> None: ...

    def set_purpose(self, purpose: str) -> None:
        """"id": the resolution that reads a card best; "live": the one the face pipeline runs at."""
        ...


def decode_image(data: bytes, source: str) -> np.ndarray:
    """Decode an encoded image to BGR, or raise a clear error for corrupt/empty/non-image bytes."""
    if not data:
        raise DeviceDataError("camera", f"{source}: empty image data")
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise DeviceDataError("camera", f"{source}: not a readable image")
    return image


class OpenCVCamera:
    """A V4L2/USB camera through ``cv2.VideoCapture``."""

    def __init__(self, index: int = 0, width: int = 640, height: int = 480,
                 id_size: tuple[int, int] | None = (1280, 720)) -> None:
        self.index, self.width, self.height = index, width, height
        # The card's text and portrait are small in a 640x480 frame: the ID is read at the camera's higher
        # resolution when it offers one (the camera picks the nearest it supports), the face at the usual one.
        self.sizes = {"live": (width, height), "id": id_size or (width, height)}
        self._size = self.sizes["live"]
        self._cap: cv2.VideoCapture | None = None
        self._count = 0

    def open(self) -> None:
        cap = cv2.VideoCapture(self.index)
        if not cap.isOpened():
            cap.release()
            raise DeviceMissing("camera", f"no camera at index {self.index}")
        self._cap = cap
        self._apply()

    def set_purpose(self, purpose: str) -> None:
        self._size = self.sizes[purpose]
        if self._cap is not None:
            self._apply()

    def _apply(self) -> None:
        self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, self._size[0])
        self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self._size[1])

    def read(self) -> Frame:
        if self._cap is None:
            raise DeviceMissing("camera", "camera is not open")
        ok, image = self._cap.read()
        if not ok or image is None:
            raise DeviceDisconnected("camera", f"camera {self.index} stopped delivering frames")
        self._count += 1
        return Frame(image, time.monotonic(), self._count, f"camera:{self.index}")

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


def _expand_sources(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES)
        if not files:
            raise DeviceMissing("camera", f"replay folder {path} holds no images or videos")
        return files
    if not path.exists():
        raise DeviceMissing("camera", f"replay file not found: {path}")
    return [path]


class ReplayCamera:
    """Plays image files, folders of images, or video files as if they were a live camera.

    ``disconnect_after`` makes the replay behave like a camera unplugged after that many frames, so the
    error path can be exercised end to end without hardware.
    """

    def __init__(
        self,
        sources: Path | Sequence[Path],
        loop: bool = True,
        disconnect_after: int | None = None,
        clock=time.monotonic,
    ) -> None:
        self._paths = [sources] if isinstance(sources, Path) else list(sources)
        self.loop = loop
        self.disconnect_after = disconnect_after
        self._clock = clock
        self._frames: Iterator[tuple[np.ndarray, str]] | None = None
        self._count = 0

    def open(self) -> None:
        files: list[Path] = []
        for p in self._paths:
            files.extend(_expand_sources(Path(p)))
        self._files = files
        self._frames = self._iterate()
        self._count = 0

    def _iterate(self) -> Iterator[tuple[np.ndarray, str]]:
        while True:
            for path in self._files:
                if path.suffix.lower() in VIDEO_SUFFIXES:
                    yield from self._video_frames(path)
                else:
                    try:
                        data = path.read_bytes()
                    except OSError as exc:
                        raise DeviceDataError("camera", f"{path.name}: cannot read ({exc.strerror})") from None
                    yield decode_image(data, path.name), path.name
            if not self.loop:
                return

    @staticmethod
    def _video_frames(path: Path) -> Iterator[tuple[np.ndarray, str]]:
        cap = cv2.VideoCapture(str(path))
        if not cap.isOpened():
            raise DeviceDataError("camera", f"{path.name}: not a readable video")
        try:
            while True:
                ok, image = cap.read()
                if not ok:
                    return
                yield image, path.name
        finally:
            cap.release()

    def set_purpose(self, purpose: str) -> None:
        """Replayed frames keep the size they were recorded at."""

    def read(self) -> Frame:
        if self._frames is None:
            raise DeviceMissing("camera", "replay camera is not open")
        if self.disconnect_after is not None and self._count >= self.disconnect_after:
            raise DeviceDisconnected("camera", "replay camera unplugged (simulated)")
        try:
            image, name = next(self._frames)
        except StopIteration:
            raise EndOfReplay("camera", "replay finished") from None
        self._count += 1
        return Frame(image, self._clock(), self._count, f"replay:{name}")

    def close(self) -> None:
        self._frames = None
