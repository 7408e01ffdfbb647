"""The processing stages the runner calls for the journey's effects, and which of them are installed.

Each stage is a small protocol; vision, voice and the cloud client each provide one when their part
lands. A stage that is not available is reported as such (a ``StageUnavailable`` event and a plain
message in the demo): the kiosk never invents a match score, an answer or a credit limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from hardware.audio import AudioClip
from hardware.camera import Camera
from kiosk.config import KioskConfig
from kiosk.journey import events as ev
from kiosk.journey.session import BiometricVault, SessionData


class IdCaptureStage(Protocol):
    def capture_id(self, camera: Camera, attempt: int) -> ev.IdCaptureResult: ...


class LiveCaptureStage(Protocol):
    def capture_live(
        self, camera: Camera, attempt: int, challenges: tuple[str, ...], on_prompt: Callable[[str], None]
    ) -> ev.LiveCaptureResult: ...


class MatchStage(Protocol):
    def match(self, vault: BiometricVault) -> ev.MatchResult: ...


class AnswerStage(Protocol):
    def ask(self, clip: AudioClip, language: str | None, values: dict[str, str] | None = None): ...

    def speak(self, text: str, language: str) -> AudioClip: ...


class ScoringStage(Protocol):
    def estimate(self, session: SessionData, attempt: int) -> ev.ScoreReceived | ev.ScoringFailed: ...


class ApplicationStage(Protocol):
    def submit(
        self, session: SessionData, offer_id: str, idempotency_key: str
    ) -> ev.ApplicationRecorded | ev.ApplicationFailed: ...


@dataclass(frozen=True)
class StageInfo:
    name: str
    description: str
    provided_by: str  # which part of the product provides it


STAGES: dict[str, StageInfo] = {
    "id_capture": StageInfo("id_capture", "ID-document portrait capture and quality check", "vision (issue #3)"),
    "live_capture": StageInfo("live_capture", "live face capture with liveness check", "vision liveness (issue #4)"),
    "face_match": StageInfo("face_match", "1:1 face match against the ID portrait", "vision (issue #3)"),
    "credit_scoring": StageInfo("credit_scoring", "credit-limit estimate and offers",
                                "the cloud client once this kiosk is registered (`kiosk cloud register`)"),
    "application": StageInfo("application", "loan application submission",
                             "the cloud client once this kiosk is registered (`kiosk cloud register`)"),
    "answers": StageInfo("answers", "spoken questions and answers", "voice (issue #5)"),
}


@dataclass
class Stages:
    id_capture: IdCaptureStage | None = None
    live_capture: LiveCaptureStage | None = None
    face_match: MatchStage | None = None
    credit_scoring: ScoringStage | None = None
    application: ApplicationStage | None = None
    answers: AnswerStage | None = None

    def missing(self) -> list[StageInfo]:
        return [info for name, info in STAGES.items() if getattr(self, name) is None]


def build_stages(config: KioskConfig) -> Stages:
    """Every stage this build provides, loaded and verified now (a bad model fails here, loudly)."""
    from vision.liveness.engine import LivenessEngine
    from vision.stages import VisionFaceMatch, VisionIdCapture, VisionLiveCapture
    from vision.verifier import FaceVerifier

    from voice.assistant import VoiceAssistant

    from kiosk.cloud_client.identity import load_identity

    verifier = FaceVerifier.from_config(config)
    liveness = LivenessEngine.from_config(config, verifier)
    stages = Stages(
        answers=VoiceAssistant.from_config(config),
        id_capture=VisionIdCapture(verifier, config.vision.id_capture_frames),
        live_capture=VisionLiveCapture(liveness, config.vision.live_capture_frames),
        face_match=VisionFaceMatch(verifier),
    )
    identity = load_identity(config.data_dir)
    if identity is not None:  # cloud stages need a registered device (`kiosk cloud register`)
        from kiosk.cloud_client.outbox import Outbox
        from kiosk.cloud_client.registration import cloud_client
        from kiosk.cloud_client.stages import CloudApplications, CloudScoring

        client = cloud_client(config, identity)
        models = {"face": verifier.matcher.calibration.name, "liveness": "minifasnet_v2+v1se"}
        stages.credit_scoring = CloudScoring(client, models)
        stages.application = CloudApplications(client, Outbox.for_data_dir(config.data_dir))
    return stages
