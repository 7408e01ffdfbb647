"""A camera wrapper that keeps the latest frame for the on-screen preview (the capture stages read frames on
the worker thread; the screen shows them at its own pace). The frame is the customer's own face: it is shown,
never stored, and dropped when capture stops."""

from __future__ import annotations

import threading

import numpy as np

from hardware.camera import Camera, Frame


class PreviewCamera:
    def __init__(self, camera: Camera) -> None:
        self.camera = camera
        self._lock = threading.Lock()
        self._latest: Frame | None = None

    def open(self) -> None:
        self.camera.open()

    def read(self) -> Frame:
        frame = self.camera.read()
        with self._lock:
            self._latest = frame
        return frame

    def set_purpose(self, purpose: str) -> None:
        self.camera.set_purpose(purpose)

    def close(self) -> None:
        with self._lock:
            self._latest = None
        self.camera.close()

    def latest(self) -> tuple[int, np.ndarray] | None:
        with self._lock:
            frame = self._latest
        return None if frame is None else (frame.index, frame.image)
