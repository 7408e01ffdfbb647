"""Liveness over one live capture: passive + active + continuity (+ the static-frame heuristic) -> decision."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from edge_models.access import ModelAccess
from edge_models.loader import verified_model_path
from hardware.camera import Frame
from vision.liveness.active import (
    ActiveCheck,
    ActiveLimits,
    ActiveResult,
    Challenge,
    FrameSignal,
)
from vision.liveness.continuity import ContinuityCheck, ContinuityLimits
from vision.liveness.heuristics import (
    STATIC_FRACTION_LIMIT,
    face_patch,
    static_fraction,
)
from vision.liveness.landmarks import FaceMesh
from vision.liveness.passive import MODELS, PassiveLiveness
from vision.settings import LivenessSettings
from vision.types import FaceObservation
from vision.verifier import FaceVerifier

# Continuity compares faces across a head turn, which lowers same-person scores: use the lenient FMR 1e-2
# threshold of the active calibration rather than the match threshold.
CONTINUITY_FMR = 1e-2


RELEASED = np.zeros((0, 0, 3), np.uint8)  # the pixels of a frame ranked out of the best (see run)


@dataclass(frozen=True)
class LivenessDecision:
    live: bool
    passive_score: float | None
    passive_threshold: float
    active: ActiveResult
    continuity: str  # "" when the same face was seen throughout
    static_fraction: float
    reasons: tuple[str, ...]
    frames: int


@dataclass(eq=False)
class LivenessCapture:
    decision: LivenessDecision
    observations: list[FaceObservation]
    embeddings: list[dict[str, np.ndarray]]


# Every reason a liveness check can report (each has a customer text: kiosk/i18n, tests/test_texts.py).
REASONS = ("no_face", "presentation_attack", "challenge_failed", "face_jump", "face_changed", "static_frames")


class LivenessEngine:
    def __init__(
        self,
        verifier: FaceVerifier,
        mesh: FaceMesh,
        passive: PassiveLiveness,
        passive_threshold: float = 0.5,
        passive_frames: int = 5,
        limits: ActiveLimits | None = None,
    ) -> None:
        self.verifier = verifier
        self.mesh = mesh
        self.passive = passive
        self.passive_threshold = passive_threshold
        self.passive_frames = passive_frames
        self.limits = limits or ActiveLimits()
        calibration = verifier.matcher.calibration
        self._continuity = ContinuityLimits(min_similarity=calibration.threshold(CONTINUITY_FMR))

    @classmethod
    def from_settings(cls, lv: LivenessSettings, models: ModelAccess, threads: int,
                      verifier: FaceVerifier) -> LivenessEngine:
        allow = models.allow_noncommercial
        mesh = FaceMesh(verified_model_path(FaceMesh.model, models.dirs, allow), threads)
        passive = PassiveLiveness(
            {m.model: verified_model_path(m.model, models.dirs, allow) for m in MODELS}, threads
        )
        limits = ActiveLimits(time_limit_s=lv.challenge_time_limit_s)
        return cls(verifier, mesh, passive, lv.passive_threshold, lv.passive_frames, limits)

    @property
    def model_names(self) -> tuple[str, ...]:
        """Manifest names of the models this check runs."""
        return (*(m.model for m in MODELS), self.mesh.model)

    def passive_score(self, observations: list[FaceObservation]) -> float | None:
        """P(real) fused over both models and over the best-quality frames."""
        chosen = self.verifier.best_frames(observations)[: self.passive_frames]
        if not chosen:
            return None
        return float(np.mean([self.passive.score(observations[i].image, observations[i].detection) for i in chosen]))

    def _keep_only_the_best_pixels(self, observations: list[FaceObservation]) -> None:
        """Only frames that can still end up among the best (for the passive check and the match) keep their
        pixels; the others are zeroed and dropped as the capture goes. Holding every frame to the end cost
        about 100 MB per capture (150 frames of 640x480) that the process then kept, and held more faces than
        needed. A frame ranked out cannot come back: later frames only push it further down."""
        keep = set(self.verifier.best_frames(observations, max(self.passive_frames, self.verifier.live_frames_used)))
        for i, obs in enumerate(observations):
            if i not in keep and obs.image.size:
                obs.image.fill(0)
                obs.image = RELEASED

    def run(
        self,
        frames: Iterable[Frame],
        challenges: tuple[Challenge, ...],
        on_prompt: Callable[[Challenge], None] | None = None,
        on_frame: Callable[[FaceObservation | None], None] | None = None,
    ) -> LivenessCapture:
        """``on_frame`` sees each frame's observation (None: no face) as it is made, for live guidance."""
        active = ActiveCheck(challenges, self.limits)
        calibration = self.verifier.matcher.calibration
        continuity = ContinuityCheck(self._continuity, calibration.score)
        observations: list[FaceObservation] = []
        embeddings: list[dict[str, np.ndarray]] = []
        patches = []
        prompted: Challenge | None = None
        last_t = 0.0
        count = 0
        for frame in frames:
            count += 1
            last_t = frame.timestamp
            obs = self.verifier.observe_live(frame.image)
            if obs is None:
                active.feed(FrameSignal(frame.timestamp, None))
            else:
                active.feed(FrameSignal(frame.timestamp, self.mesh.geometry(frame.image, obs.detection)))
                embedding = self.verifier.encoder.embed(frame.image, obs.detection)
                continuity.feed(obs.detection, embedding)
                patches.append(face_patch(frame.image, obs.detection))
                observations.append(obs)
                embeddings.append(embedding)
                self._keep_only_the_best_pixels(observations)
            if on_frame is not None:
                on_frame(obs)
            if active.current is not None and active.current is not prompted and on_prompt is not None:
                prompted = active.current
                on_prompt(prompted)
            if active.done or not continuity.ok:
                break
        result = active.finish(last_t)
        score = self.passive_score(observations)
        static = static_fraction(patches)
        reasons = []  # codes from REASONS ("challenge_failed" with ":<why>")
        if score is None:
            reasons.append("no_face")
        elif score < self.passive_threshold:
            reasons.append("presentation_attack")
        if not result.passed:
            reasons.append(f"challenge_failed:{result.reason}")
        if continuity.reason:
            reasons.append(continuity.reason)
        if static >= STATIC_FRACTION_LIMIT:
            reasons.append("static_frames")
        decision = LivenessDecision(
            live=not reasons,
            passive_score=score,
            passive_threshold=self.passive_threshold,
            active=result,
            continuity=continuity.reason,
            static_fraction=static,
            reasons=tuple(reasons),
            frames=count,
        )
        return LivenessCapture(decision, observations, embeddings)
