"""The camera as the screen and the capture stages share it: a thread reads the device at its own pace and keeps
the newest frame, so the on-screen preview moves at the camera's rate (about 30 frames/s) whatever the face
pipeline costs per frame (5-9 frames/s on this hardware); the pipeline takes the newest frame each time it is
ready for one, skipping those it had no time for, as it would behind a real camera's buffer.

The frame is the customer's own face: it is shown, never stored, and zeroed and dropped when capture stops. The
pipeline gets its own copy (it zeroes the frames it does not keep: the preview must not show those zeros).
"""

from __future__ import annotations

import threading
import time

import numpy as np

from hardware.camera import Camera, Frame
from hardware.errors import DeviceError, StreamStopped

PUMP_FPS = 30.0  # at most: a replay camera answers at once and would otherwise spin


class PreviewCamera:
    def __init__(self, camera: Camera, fps: float = PUMP_FPS) -> None:
        self.camera = camera
        self.period = 1.0 / fps
        self._new = threading.Condition()
        self._latest: Frame | None = None
        self._error: DeviceError | None = None
        self._taken = -1  # index of the last frame the pipeline took
        self._running = False
        self._thread: threading.Thread | None = None

    def open(self) -> None:
        self.camera.open()
        with self._new:
            self._latest, self._error, self._taken, self._running = None, None, -1, True
        self._thread = threading.Thread(target=self._pump, name="camera-pump", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        while self._running:
            started = time.monotonic()
            try:
                frame = self.camera.read()
            except DeviceError as exc:  # handed to the pipeline's next read: the journey shows the error
                with self._new:
                    self._error = exc
                    self._new.notify_all()
                return
            with self._new:
                if not self._running:
                    return
                self._latest = frame
                self._new.notify_all()
            time.sleep(max(0.0, self.period - (time.monotonic() - started)))

    def read(self) -> Frame:
        """The newest frame the pipeline has not had yet (waits for one), or the device's error."""
        with self._new:
            while True:
                if self._latest is not None and self._latest.index != self._taken:
                    frame = self._latest
                    self._taken = frame.index
                    return Frame(frame.image.copy(), frame.timestamp, frame.index, frame.source)
                if self._error is not None:
                    raise self._error
                if not self._running:
                    raise StreamStopped("camera", "the camera was closed")
                self._new.wait(1.0)

    def set_purpose(self, purpose: str) -> None:
        self.camera.set_purpose(purpose)

    def close(self) -> None:
        with self._new:
            self._running = False
            latest, self._latest = self._latest, None
            self._new.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        if latest is not None:
            latest.image.fill(0)
        self.camera.close()

    def latest(self) -> tuple[int, np.ndarray] | None:
        with self._new:
            frame = self._latest
        return None if frame is None else (frame.index, frame.image)
