"""Vision stages for the runner: ID capture (card -> identity + portrait, checked) and the 1:1 face match."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from hardware.camera import Camera, Frame
from hardware.errors import EndOfReplay
from kiosk.journey import events as ev
from kiosk.journey.session import BiometricSample, BiometricVault, IdentityDocument, LivenessSummary
from vision.id_capture import IdCardCapture
from vision.liveness.active import Challenge
from vision.liveness.engine import LivenessEngine
from vision.types import FaceObservation
from vision.verifier import FaceVerifier, VerificationInputError


def _images(camera: Camera, max_frames: int) -> Iterator:
    for _ in range(max_frames):
        try:
            yield camera.read().image
        except EndOfReplay:
            return


class VisionIdCapture:
    """Reads the card (and its chip, with a reader) until the identity and the portrait are both good."""

    def __init__(self, capture: IdCardCapture) -> None:
        self.capture = capture

    def capture_id(self, camera: Camera, attempt: int, on_prompt: Callable[[str], None],
                   on_status: Callable[[str], None] | None = None) -> ev.IdCaptureResult:
        out = self.capture.run(_images(camera, self.capture.max_frames), on_prompt, on_status)
        if not out.ok:
            return ev.IdCaptureResult(ok=False, reasons=out.reasons)
        chip_photo = out.chip.portrait if out.chip is not None else None
        document = IdentityDocument(out.source, out.fields, out.checks,
                                    out.chip.photo_status if out.chip is not None else "no_chip")
        portrait = BiometricSample("id_portrait", out.portrait.document, {"face": out.portrait.face})
        chip = BiometricSample("chip_portrait", chip_photo) if chip_photo is not None else None
        return ev.IdCaptureResult(ok=True, portrait=portrait, chip_portrait=chip, document=document)


class VisionLiveCapture:
    """Runs the randomised challenge over the camera stream; passes on the best frames if the face is live."""

    def __init__(self, engine: LivenessEngine, max_frames: int) -> None:
        self.engine = engine
        self.max_frames = max_frames
        self.challenge_seconds = engine.limits.time_limit_s  # the screen counts each challenge down

    def _frames(self, camera: Camera) -> Iterator[Frame]:
        for _ in range(self.max_frames):
            try:
                yield camera.read()
            except EndOfReplay:
                return

    def capture_live(
        self, camera: Camera, attempt: int, challenges: tuple[str, ...], on_prompt: Callable[[str], None],
        on_status: Callable[[str], None] | None = None,
    ) -> ev.LiveCaptureResult:
        def status(obs) -> None:  # "ok", or the frame's first problem as a hint code ("no_face", "too_dark")
            if on_status is not None:
                on_status("no_face" if obs is None else next(iter(obs.quality.reasons), "ok"))

        capture = self.engine.run(
            self._frames(camera), tuple(Challenge(c) for c in challenges), lambda c: on_prompt(c.value), status
        )
        decision = capture.decision
        chosen = self.engine.verifier.best_frames(capture.observations) if decision.live else []
        # Only the chosen frames go on (into the session vault, wiped at the end); the rest are zeroed now
        # rather than left for the garbage collector.
        for i, obs in enumerate(capture.observations):
            if i not in chosen:
                obs.image.fill(0)
        a = decision.active
        liveness = LivenessSummary(decision.passive_score, sum(o.passed for o in a.outcomes), len(challenges))
        if not decision.live:
            return ev.LiveCaptureResult(ok=False, liveness=liveness, reasons=decision.reasons)
        frames = tuple(
            BiometricSample("live_frame", o.image, {"face": o.detection, "quality": o.quality})
            for o in (capture.observations[i] for i in chosen)
        )
        return ev.LiveCaptureResult(ok=True, frames=frames, liveness=liveness)


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
        decision, chosen = self.verifier.match(id_embedding, observations)
        vault.embeddings["id"] = BiometricSample("embedding", next(iter(id_embedding.values())))
        matched, chip_score = decision.matched, None
        if vault.chip_portrait is not None:
            # The chip photo is the authority's own copy: when there is one, the face must match it too.
            chip = self.verifier.match_photo(vault.chip_portrait.array, [observations[i] for i in chosen])
            chip_score = chip.score if chip is not None else -1.0
            matched = matched and chip is not None and chip.matched
        return ev.MatchResult(matched=matched, score=decision.score, threshold=decision.threshold,
                              chip_score=chip_score)

