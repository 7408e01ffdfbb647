"""Vision stages for the runner: ID capture (card -> portrait, quality-gated) and the 1:1 face match."""

from __future__ import annotations

from collections import Counter

from collections.abc import Callable, Iterator

from hardware.camera import Camera, Frame
from hardware.errors import EndOfReplay
from kiosk.journey import events as ev
from kiosk.journey.session import BiometricSample, BiometricVault
from vision.liveness.active import Challenge
from vision.liveness.engine import LivenessEngine
from vision.types import FaceObservation
from vision.verifier import FaceVerifier, VerificationInputError


class VisionIdCapture:
    """Reads frames until one shows a card whose portrait passes the quality gate."""

    def __init__(self, verifier: FaceVerifier, max_frames: int) -> None:
        self.verifier = verifier
        self.max_frames = max_frames

    def capture_id(self, camera: Camera, attempt: int) -> ev.IdCaptureResult:
        seen: Counter[str] = Counter()
        for _ in range(self.max_frames):
            try:
                frame = camera.read()
            except EndOfReplay:
                break
            portrait = self.verifier.id_portrait(frame.image)
            if portrait.quality.ok and portrait.face is not None:
                sample = BiometricSample("id_portrait", portrait.document, {"face": portrait.face})
                return ev.IdCaptureResult(ok=True, portrait=sample)
            seen.update(portrait.quality.reasons)
        # The most frequent problem is the most useful hint ("tilt the card" beats a one-off "blurry").
        reasons = tuple(r for r, _ in seen.most_common(2)) or ("card_not_found",)
        return ev.IdCaptureResult(ok=False, reasons=reasons)


class VisionLiveCapture:
    """Runs the randomised challenge over the camera stream; passes on the best frames if the face is live."""

    def __init__(self, engine: LivenessEngine, max_frames: int) -> None:
        self.engine = engine
        self.max_frames = max_frames

    def _frames(self, camera: Camera) -> Iterator[Frame]:
        for _ in range(self.max_frames):
            try:
                yield camera.read()
            except EndOfReplay:
                return

    def capture_live(
        self, camera: Camera, attempt: int, challenges: tuple[str, ...], on_prompt: Callable[[str], None]
    ) -> ev.LiveCaptureResult:
        capture = self.engine.run(
            self._frames(camera), tuple(Challenge(c) for c in challenges), lambda c: on_prompt(c.value)
        )
        decision = capture.decision
        chosen = self.engine.verifier.best_frames(capture.observations) if decision.live else []
        # Only the chosen frames go on (into the session vault, wiped at the end); the rest are zeroed now
        # rather than left for the garbage collector.
        for i, obs in enumerate(capture.observations):
            if i not in chosen:
                obs.image.fill(0)
        if not decision.live:
            return ev.LiveCaptureResult(ok=False, liveness_score=decision.passive_score, reasons=decision.reasons)
        frames = tuple(
            BiometricSample("live_frame", o.image, {"face": o.detection, "quality": o.quality})
            for o in (capture.observations[i] for i in chosen)
        )
        return ev.LiveCaptureResult(ok=True, frames=frames, liveness_score=decision.passive_score)


class VisionFaceMatch:
    """Compares the ID portrait in the vault with the live frames in the vault."""

    def __init__(self, verifier: FaceVerifier) -> None:
        self.verifier = verifier

    def match(self, vault: BiometricVault) -> ev.MatchResult:
        portrait = vault.id_portrait
        if portrait is None or not vault.live_samples:
            raise VerificationInputError("match needs an ID portrait and live frames")
        id_embedding = self.verifier.encoder.embed(portrait.array, portrait.meta["face"])
        observations = [
            FaceObservation(s.array, s.meta["face"], s.meta["quality"]) for s in vault.live_samples
        ]
        decision, _ = self.verifier.match(id_embedding, observations)
        vault.embeddings["id"] = BiometricSample("embedding", next(iter(id_embedding.values())))
        return ev.MatchResult(matched=decision.matched, score=decision.score, threshold=decision.threshold)

