"""What the camera screen tells the customer while a capture runs, frame by frame: is the face (or card) right
now, which challenge of how many, how long is left for it, which side of the card to show. The capture thread
writes it, the screen reads it at its own rate (like the preview's frames): no screen rebuild per frame."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from vision.id_capture import PROMPT_SHOW_BACK


@dataclass(frozen=True)
class Guidance:
    status: str | None = None  # the latest frame's verdict: "ok" or a hint code; None before the first
    step: int = 0  # the challenge being asked, from 1; 0 before the first
    of: int = 0
    deadline: float | None = None  # monotonic time the current challenge runs out
    side: str = "front"  # the card side to show


class GuidanceBoard:
    def __init__(self, challenges: int, challenge_seconds: Callable[[], float | None]) -> None:
        # (the seconds are asked for when a challenge starts: the stages may load after the screen is up)
        self.challenges, self.challenge_seconds = challenges, challenge_seconds
        self._lock = threading.Lock()
        self._now = Guidance()

    def reset(self) -> None:
        with self._lock:
            self._now = Guidance()

    def status(self, code: str) -> None:
        with self._lock:
            self._now = replace(self._now, status=code)

    def prompted(self, prompt: str) -> None:
        with self._lock:
            if prompt == PROMPT_SHOW_BACK:
                self._now = replace(self._now, side="back", status=None)
            else:  # a liveness challenge: the next step, with its own time
                seconds = self.challenge_seconds()
                self._now = replace(self._now, step=self._now.step + 1, of=self.challenges,
                                    deadline=time.monotonic() + seconds if seconds else None)

    def now(self) -> Guidance:
        with self._lock:
            return self._now
