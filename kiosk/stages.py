"""The processing stages the runner calls for the journey's effects, and which of them are installed.

Each stage is a small protocol; vision, voice and the cloud client each provide one when their part
lands. A stage that is not available is reported as such (a ``StageUnavailable`` event and a plain
message in the demo): the kiosk never invents a match score, an answer or a credit limit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from hardware.audio import AudioClip
from hardware.camera import Camera
from hardware.id_card import DocumentReader
from kiosk.config import KioskConfig
from kiosk.journey import events as ev
from kiosk.journey.session import BiometricVault, SessionData

if TYPE_CHECKING:  # heavy imports (models), loaded only when the stages are built
    from kiosk.cloud_client.drainer import OutboxDrainer
    from kiosk.cloud_client.stages import VerificationSetup
    from vision.liveness.engine import LivenessEngine
    from vision.verifier import FaceVerifier
    from voice.assistant import VoiceAssistant


class IdCaptureStage(Protocol):
    def capture_id(self, camera: Camera, attempt: int, on_prompt: Callable[[str], None],
                   on_status: Callable[[str], None] | None = None) -> ev.IdCaptureResult:
        """``on_status``: each frame's verdict as a hint code ("ok", "card_not_found", "tilt_card")."""
        ...


class LiveCaptureStage(Protocol):
    def capture_live(
        self, camera: Camera, attempt: int, challenges: tuple[str, ...], on_prompt: Callable[[str], None],
        on_status: Callable[[str], None] | None = None,
    ) -> ev.LiveCaptureResult: ...


class MatchStage(Protocol):
    def match(self, vault: BiometricVault) -> ev.MatchResult: ...


class AnswerStage(Protocol):
    def ask(self, clip: AudioClip, language: str | None, values: dict[str, str] | None = None): ...

    def listen(self, chunks: Iterable[AudioClip], stop: threading.Event | None = None): ...

    def speak(self, text: str, language: str) -> AudioClip: ...


class ScoringStage(Protocol):
    def estimate(self, session: SessionData, attempt: int) -> ev.ScoreReceived | ev.ScoringFailed: ...


class ApplicationStage(Protocol):
    def submit(
        self, session: SessionData, offer_id: str, idempotency_key: str
    ) -> ev.ApplicationRecorded | ev.ApplicationFailed: ...

    def withdraw(self, idempotency_key: str) -> ev.ApplicationWithdrawn: ...


@dataclass(frozen=True)
class StageInfo:
    name: str
    description: str
    provided_by: str  # which part of the product provides it


STAGES: dict[str, StageInfo] = {
    "id_capture": StageInfo("id_capture", "ID card reading (fields, checks) and portrait capture",
                            "vision (issues #3, #11)"),
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
    # Sends queued applications in the background while the kiosk runs (started by whoever runs the kiosk).
    drainer: OutboxDrainer | None = None
    # Set by Runner.interrupt (cancel, the shopkeeper button): camera streams and cloud calls stop at once.
    stop: threading.Event = field(default_factory=threading.Event)

    def missing(self) -> list[StageInfo]:
        return [info for name, info in STAGES.items() if getattr(self, name) is None]


def face_verifier(config: KioskConfig) -> FaceVerifier:
    """The configured face verifier (vision takes only its own settings and where the models are)."""
    from vision.verifier import FaceVerifier

    return FaceVerifier.from_settings(config.vision, config.model_access)


def liveness_engine(config: KioskConfig, verifier: FaceVerifier) -> LivenessEngine:
    from vision.liveness.engine import LivenessEngine

    return LivenessEngine.from_settings(config.liveness, config.model_access, config.vision.threads, verifier)


def voice_assistant(config: KioskConfig) -> VoiceAssistant:
    from kiosk.i18n import answer_text
    from voice.assistant import VoiceAssistant

    return VoiceAssistant.from_settings(config.voice, config.model_access, answer_text)


def build_stages(config: KioskConfig, id_reader: DocumentReader | None = None) -> Stages:
    """Every stage this build provides, loaded and verified now (a bad model fails here, loudly).
    ``id_reader``: the card's chip reader, when the kiosk has one (``Devices.id_reader``)."""
    from edge_models.verify import use_hash_cache
    from kiosk.cloud_client.identity import load_identity
    from kiosk.memory import return_free_memory
    from kiosk.vision_stages import VisionFaceMatch, VisionIdCapture, VisionLiveCapture
    from vision.id_capture import IdCardCapture
    from vision.id_card import CardReader
    from vision.id_ocr import CardOcr

    # Start-up: a model unchanged since the last start is not hashed again (`kiosk models verify` always is).
    use_hash_cache(config.data_dir / "cache" / "model_hashes.json")
    verifier = face_verifier(config)
    if id_reader is not None and config.hardware.id_reader.photo_decoder and verifier.chip_matcher is None:
        from vision.matching import CalibrationError

        # Found now, not when the first customer's chip photo arrives.
        raise CalibrationError(f"the ID reader decodes chip photos but calibration {config.vision.calibration} "
                               "has no chip-photo calibration to match them with")
    liveness = liveness_engine(config, verifier)
    card = CardReader(verifier.encoder.detector, CardOcr(config.model_dirs, config.vision.threads))
    stages = Stages(
        answers=voice_assistant(config),
        id_capture=VisionIdCapture(IdCardCapture(card, id_reader, config.vision.id_capture_frames)),
        live_capture=VisionLiveCapture(liveness, config.vision.live_capture_frames),
        face_match=VisionFaceMatch(verifier),
    )
    identity = load_identity(config.data_dir)
    if identity is not None:  # cloud stages need a registered device (`kiosk cloud register`)
        from kiosk.cloud_client.drainer import OutboxDrainer
        from kiosk.cloud_client.outbox import Outbox
        from kiosk.cloud_client.registration import cloud_client
        from kiosk.cloud_client.stages import CloudApplications, CloudScoring

        client = cloud_client(config, identity, stop=stages.stop)
        outbox = Outbox.for_data_dir(config.data_dir)
        # The drainer has a client of its own: a customer's cancel must not cut off a background delivery.
        stages.drainer = OutboxDrainer(outbox, CloudApplications(cloud_client(config, identity), outbox).send)
        stages.credit_scoring = CloudScoring(client, verification_setup(verifier, liveness), stages.drainer.kick)
        stages.application = CloudApplications(client, outbox, stages.drainer.kick)
    return_free_memory()  # the models' warm-up runs freed their activations: about 55 MB back to the system
    return stages


def verification_setup(verifier: FaceVerifier, liveness: LivenessEngine) -> VerificationSetup:
    """The calibration and the hashes of every model file the face match and the liveness check ran."""
    from edge_models.manifest import load_manifest
    from kiosk.cloud_client.stages import VerificationSetup

    sha = {m.name: m.sha256 for m in load_manifest().model}
    encoder = verifier.encoder
    face = [encoder.detector.model, *(r.model for r in encoder.recognizers.values())]
    return VerificationSetup(verifier.matcher.calibration.name, {n: sha[n] for n in face},
                             {n: sha[n] for n in liveness.model_names})
