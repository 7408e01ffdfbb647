"""Active liveness: a randomised challenge sequence verified from head pose, eye aspect ratio and face size.

The sequence is chosen per session with a cryptographic RNG, so a pre-recorded video cannot anticipate it.
Each challenge has a time limit from its prompt, and the *first* deliberate motion after a prompt must be
the requested one: a video that cycles through every motion fails because it shows the wrong one first.
Blinks are measured against the person's own open-eye baseline (not a fixed EAR threshold: see the models
MANIFEST), and only a dip that reopens counts.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from vision.liveness.landmarks import FaceGeometry


class Challenge(StrEnum):
    TURN_LEFT = "turn_left"  # the subject's own left: nose toward the image right (yaw decreases)
    TURN_RIGHT = "turn_right"
    BLINK = "blink"
    MOVE_CLOSER = "move_closer"


def choose_challenges(count: int = 2, rng: secrets.SystemRandom | None = None) -> tuple[Challenge, ...]:
    rng = rng or secrets.SystemRandom()
    return tuple(rng.sample(list(Challenge), count))


@dataclass(frozen=True)
class ActiveLimits:
    baseline_frames: int = 3  # neutral frames before the first prompt
    time_limit_s: float = 6.0  # per challenge, from its prompt
    turn_deg: float = 18.0  # yaw change from baseline (the landmark yaw is uncalibrated: use a wide margin)
    neutral_deg: float = 10.0  # below this the head counts as facing the camera again
    blink_ratio: float = 0.75  # EAR below this share of the open-eye baseline = eyes closed
    reopen_ratio: float = 0.9
    closer_ratio: float = 1.25  # face height grows by this factor
    max_missing_frames: int = 5  # consecutive frames without a face before the check gives up


@dataclass(frozen=True)
class FrameSignal:
    t: float  # seconds (camera timestamp)
    geometry: FaceGeometry | None  # None: no face in this frame


@dataclass(frozen=True)
class ChallengeOutcome:
    challenge: Challenge
    passed: bool
    reason: str  # "ok" | "timeout" | "wrong_motion:<seen>" | "face_lost"
    seconds: float


@dataclass
class ActiveResult:
    outcomes: list[ChallengeOutcome] = field(default_factory=list)
    reason: str = ""

    @property
    def passed(self) -> bool:
        return bool(self.outcomes) and all(o.passed for o in self.outcomes) and not self.reason


class ActiveCheck:
    """Feed frames in order; the check advances through the challenges and reports the outcome."""

    def __init__(self, challenges: tuple[Challenge, ...], limits: ActiveLimits | None = None) -> None:
        self.challenges = challenges
        self.limits = limits or ActiveLimits()
        self.result = ActiveResult()
        self._baseline: list[FaceGeometry] = []
        self._index = 0
        self._started: float | None = None
        self._missing = 0
        self._eyes_closed = False
        self._await_neutral = False
        self._height_base: float | None = None

    @property
    def current(self) -> Challenge | None:
        """The challenge to prompt now (None before the baseline is complete, or when finished)."""
        if len(self._baseline) < self.limits.baseline_frames or self.done:
            return None
        return self.challenges[self._index]

    @property
    def done(self) -> bool:
        return bool(self.result.reason) or self._index >= len(self.challenges)

    def feed(self, frame: FrameSignal) -> None:
        if self.done:
            return
        g = frame.geometry
        if g is None:
            self._missing += 1
            if self._missing > self.limits.max_missing_frames:
                self._finish_current(frame.t, False, "face_lost")
            return
        self._missing = 0
        if len(self._baseline) < self.limits.baseline_frames:
            self._baseline.append(g)
            return
        if self._started is None:
            self._started = frame.t
        elapsed = frame.t - self._started
        if elapsed > self.limits.time_limit_s:
            self._finish_current(frame.t, False, "timeout")
            return
        if self._height_base is not None:
            # After "move closer" the customer may drift nearer still; only turns count as motion then.
            self._height_base = max(self._height_base, g.face_height)
        if self._await_neutral:
            # The next challenge counts only once the head faces the camera again, so one long turn
            # cannot serve two prompts.
            self._await_neutral = abs(g.yaw - self._base("yaw")) >= self.limits.neutral_deg
            return
        challenge = self.challenges[self._index]
        motion = self._motion(g)
        if challenge is Challenge.BLINK:
            if self._blinked(g):
                self._finish_current(frame.t, True, "ok")
                return
            if motion is not None:
                self._finish_current(frame.t, False, f"wrong_motion:{motion}")
                return
        elif motion is not None:
            ok = motion == challenge.value
            if ok and challenge is Challenge.MOVE_CLOSER:
                self._height_base = g.face_height  # staying close afterwards is the new neutral
            self._finish_current(frame.t, ok, "ok" if ok else f"wrong_motion:{motion}")

    def finish(self, t: float) -> ActiveResult:
        """Close the check: a challenge still open when the frames ran out has timed out."""
        if not self.done:
            if len(self._baseline) < self.limits.baseline_frames:
                self.result.reason = "no_baseline"
            else:
                self._finish_current(t, False, "timeout")
        return self.result

    # ---- internals --------------------------------------------------------------------------------

    def _base(self, attr: str) -> float:
        if attr == "face_height" and self._height_base is not None:
            return self._height_base
        return float(np.median([getattr(b, attr) for b in self._baseline]))

    def _motion(self, g: FaceGeometry) -> str | None:
        """The deliberate motion this frame shows relative to the baseline, if any (blinks excluded)."""
        dyaw = g.yaw - self._base("yaw")
        if dyaw <= -self.limits.turn_deg:
            return Challenge.TURN_LEFT.value
        if dyaw >= self.limits.turn_deg:
            return Challenge.TURN_RIGHT.value
        if g.face_height >= self.limits.closer_ratio * self._base("face_height"):
            return Challenge.MOVE_CLOSER.value
        return None

    def _blinked(self, g: FaceGeometry) -> bool:
        open_ear = self._base("ear")
        if g.ear < self.limits.blink_ratio * open_ear:
            self._eyes_closed = True
        elif self._eyes_closed and g.ear > self.limits.reopen_ratio * open_ear:
            return True
        return False

    def _finish_current(self, t: float, passed: bool, reason: str) -> None:
        started = self._started if self._started is not None else t
        self.result.outcomes.append(ChallengeOutcome(self.challenges[self._index], passed, reason, t - started))
        if not passed:
            self.result.reason = f"{self.challenges[self._index].value}:{reason}"
            return
        self._index += 1
        self._eyes_closed = False
        self._started = None
        self._await_neutral = True
