"""The runner between journey and world: device failures become error screens, missing stages say so."""

from __future__ import annotations

import itertools
import time

import pytest

from hardware.camera import Camera, ReplayCamera
from hardware.errors import DeviceMissing, EndOfReplay, StreamStopped
from hardware.microphone import ReplayMicrophone
from hardware.printer import EscPosFilePrinter
from hardware.speaker import FileSpeaker
from kiosk.devices import Devices
from kiosk.journey import events as ev
from kiosk.journey.session import BiometricSample, LivenessSummary
from kiosk.journey.states import State
from kiosk.runner import Runner
from kiosk.stages import Stages
from tests.journey_helpers import DOCUMENT, new_journey, walk_to


class FrameGrabbingIdStage:
    """Takes a real frame from the camera as the portrait; exercises the device path, not vision."""

    def capture_id(self, camera: Camera, attempt: int, on_prompt, on_status=None) -> ev.IdCaptureResult:
        frame = camera.read()
        return ev.IdCaptureResult(ok=True, portrait=BiometricSample("id_portrait", frame.image), document=DOCUMENT)


class FrameGrabbingLiveStage:
    def capture_live(self, camera: Camera, attempt: int, challenges, on_prompt, on_status=None) -> ev.LiveCaptureResult:
        frames = tuple(BiometricSample("live_frame", camera.read().image) for _ in range(3))
        return ev.LiveCaptureResult(ok=True, frames=frames, liveness=LivenessSummary(0.9, 2, 2))


@pytest.fixture
def devices(tmp_path, faces_dir, audio_dir):
    images = sorted((faces_dir / "Abel_Pacheco").glob("*.jpg"))

    def build(disconnect_after=None, printer_path=None):
        return Devices(
            camera=ReplayCamera(images, disconnect_after=disconnect_after),
            microphone=ReplayMicrophone(audio_dir / "en" / "ps_goforward.wav"),
            speaker=FileSpeaker(tmp_path / "spk"),
            printer=EscPosFilePrinter(printer_path or tmp_path / "lp0"),
        )

    return build


def clock():
    counter = itertools.count()
    return lambda: float(next(counter))


def start(runner):
    for event in (ev.StartPressed(), ev.LanguageChosen(language="zh"), ev.ConsentGiven(agreed=True)):
        runner.send(event)


def test_missing_stage_becomes_a_stage_unavailable_error_screen(devices):
    runner = Runner(new_journey(), devices(), Stages(), clock=clock())
    start(runner)
    assert runner.journey.state is State.ERROR
    error = runner.journey.data.error
    assert error.code == "stage_unavailable" and error.detail == "id_capture"


def test_camera_unplugged_mid_stream_becomes_an_error_screen_and_wipes_nothing_it_should_keep(devices):
    stages = Stages(id_capture=FrameGrabbingIdStage(), live_capture=FrameGrabbingLiveStage())
    runner = Runner(new_journey(), devices(disconnect_after=2), stages, clock=clock())
    start(runner)
    # ID frame read (1), then the live stage reads frame 2 and fails on frame 3: the camera "unplugs".
    assert runner.journey.state is State.ERROR
    assert runner.journey.data.error.code == "camera_disconnected"
    assert runner.journey.data.error.resume_state == "live_capture"
    assert runner.journey.data.biometrics.id_portrait is not None  # retry can resume without a new ID photo
    runner.send(ev.Cancel())
    assert runner.journey.state is State.END and runner.journey.data.biometrics.is_empty


def test_missing_camera_at_capture_start(devices, tmp_path):
    d = devices()
    d.camera = ReplayCamera(tmp_path / "unplugged.jpg")
    runner = Runner(new_journey(), d, Stages(id_capture=FrameGrabbingIdStage()), clock=clock())
    start(runner)
    assert runner.journey.state is State.ERROR and runner.journey.data.error.code == "camera_missing"


def test_stage_results_are_stamped_with_the_runner_clock(devices):
    stages = Stages(id_capture=FrameGrabbingIdStage(), live_capture=FrameGrabbingLiveStage())
    runner = Runner(new_journey(), devices(), stages, clock=clock())
    transitions = []
    runner.transition_listeners.append(transitions.append)
    start(runner)
    assert [t.state for t in transitions][-3:] == [State.LIVE_CAPTURE, State.MATCH, State.ERROR]
    assert runner.journey.last_activity > 0


def test_camera_is_closed_when_the_session_ends(devices):
    opened = []

    class TrackingCamera(ReplayCamera):
        def open(self):
            opened.append(True)
            super().open()

        def close(self):
            opened.clear()
            super().close()

    d = devices()
    d.camera = TrackingCamera(d.camera._paths)
    runner = Runner(new_journey(), d, Stages(id_capture=FrameGrabbingIdStage()), clock=clock())
    start(runner)
    runner.send(ev.Cancel())
    assert opened == [] and runner.journey.state is State.END


def test_receipt_printer_failure_does_not_undo_the_application(devices, tmp_path, caplog):
    d = devices(printer_path=tmp_path / "gone" / "lp0")
    runner = Runner(new_journey(), d, Stages(), clock=clock())
    runner.journey = walk_to(State.CONFIRMATION)
    runner.send(ev.ApplicationRecorded(reference="APP-7", queued=False))
    assert runner.journey.state is State.CONFIRMATION and runner.journey.data.application_ref == "APP-7"
    assert any(r.msg == "receipt not printed" for r in caplog.records)
    with pytest.raises(DeviceMissing):
        d.printer.open()


class ExpiredCardStage:
    def capture_id(self, camera: Camera, attempt: int, on_prompt, on_status=None) -> ev.IdCaptureResult:
        return ev.IdCaptureResult(ok=False, reasons=("id_expired",))


class MisreadCardStage:
    def capture_id(self, camera: Camera, attempt: int, on_prompt, on_status=None) -> ev.IdCaptureResult:
        return ev.IdCaptureResult(ok=False, reasons=("id_check_digit",))


class RecordingVoice:
    """Speaks nothing; records what the kiosk would say."""

    def __init__(self) -> None:
        self.said: list[tuple[str, str]] = []

    def speak(self, text: str, language: str):
        import numpy as np

        from hardware.audio import AudioClip

        self.said.append((text, language))
        return AudioClip(np.zeros(160, np.int16), 16000)


@pytest.mark.parametrize("stage, spoken", [(ExpiredCardStage(), "handoff.id_expired"),
                                           (MisreadCardStage(), "hint.id_check_digit")])
def test_id_problems_are_spoken_in_the_customers_language(devices, stage, spoken):
    from kiosk.i18n import tr

    voice = RecordingVoice()
    runner = Runner(new_journey(id_attempts=5), devices(), Stages(id_capture=stage, answers=voice), clock=clock())
    runner.send(ev.StartPressed())
    assert [lang for _, lang in voice.said] == ["zh", "en"]  # nobody has chosen yet: the language screen says both
    voice.said.clear()
    runner.send(ev.LanguageChosen(language="zh"))
    runner.send(ev.ConsentGiven(agreed=True))
    said = " ".join(text for text, _ in voice.said)
    assert tr(spoken, "zh") in said and all(lang == "zh" for _, lang in voice.said)


class SlowCamera(ReplayCamera):
    """A camera whose every frame takes 0.2 s (a capture that would run for a minute)."""

    def read(self):
        time.sleep(0.2)
        return super().read()


class ReadUntilTheEndIdStage:
    """Reads frames until the stream ends, the way the vision ID capture does, then gives up."""

    def capture_id(self, camera: Camera, attempt: int, on_prompt, on_status=None) -> ev.IdCaptureResult:
        for _ in range(300):
            try:
                camera.read()
            except EndOfReplay:
                break
        return ev.IdCaptureResult(ok=False, reasons=("card_not_found",))


def test_cancel_during_a_busy_stage_ends_the_session_within_a_second(devices):
    """Issue 13 finding 2: cancel during ID capture took 28.7 s (the worker was busy with the capture)."""
    from ui.controller import JourneyController

    d = devices()
    d.camera = SlowCamera(d.camera._paths, loop=True)
    runner = Runner(new_journey(), d, Stages(id_capture=ReadUntilTheEndIdStage()))
    controller = JourneyController(runner, None, lambda f: f(), lambda view: None)
    try:
        for event in (ev.StartPressed(), ev.LanguageChosen(language="zh"), ev.ConsentGiven(agreed=True)):
            controller.post(event)
        deadline = time.monotonic() + 10
        while runner.journey.state is not State.ID_CAPTURE and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # the stage is now reading frames
        t0 = time.monotonic()
        controller.post(ev.Cancel()).result(timeout=5)
        assert time.monotonic() - t0 < 1.0
        assert runner.journey.state is State.END and runner.journey.data.id_attempts <= 1
        assert runner.journey.data.biometrics.is_empty
        # The stop reached the journey: the next customer's capture runs normally.
        assert not runner.stages.stop.is_set()
    finally:
        controller.shutdown()


class SlowAnalysisIdStage:
    """One frame, then 3 s of analysis (an ID frame's OCR on a busy kiosk took 1.9 s), then a portrait."""

    def __init__(self) -> None:
        self.result: ev.IdCaptureResult | None = None
        self.reads_after = 0

    def capture_id(self, camera: Camera, attempt: int, on_prompt, on_status=None) -> ev.IdCaptureResult:
        frame = camera.read()
        time.sleep(3.0)
        on_prompt("show_back")
        for _ in range(3):  # the capture was left meanwhile: no further frame
            try:
                camera.read()
                self.reads_after += 1
            except StreamStopped:
                pass
        self.result = ev.IdCaptureResult(ok=True, portrait=BiometricSample("id_portrait", frame.image.copy()),
                                         document=DOCUMENT)
        return self.result


def test_cancel_leaves_a_capture_busy_with_one_frame_and_wipes_what_it_returns(devices):
    """Issue 16 item 4: Cancel during ID capture waited for the frame being read (1.9 s under load)."""
    from ui.controller import JourneyController

    stage = SlowAnalysisIdStage()
    prompts = []
    runner = Runner(new_journey(), devices(), Stages(id_capture=stage), on_prompt=lambda c, t: prompts.append(c))
    controller = JourneyController(runner, None, lambda f: f(), lambda view: None)
    try:
        for event in (ev.StartPressed(), ev.LanguageChosen(language="zh"), ev.ConsentGiven(agreed=True)):
            controller.post(event)
        time.sleep(0.5)  # the stage is inside its analysis
        t0 = time.monotonic()
        controller.post(ev.CallShopkeeper()).result(timeout=5)
        assert time.monotonic() - t0 < 0.5
        assert runner.journey.state is State.HANDOFF and runner.journey.data.biometrics.is_empty
        time.sleep(3.0)  # the left capture finishes
        assert stage.result is not None and stage.result.portrait.is_wiped
        assert stage.reads_after == 0 and prompts == []  # no frame read, no late instruction shown
    finally:
        controller.shutdown()


def test_every_effect_the_journey_can_emit_has_a_handler_in_the_runner():
    from kiosk.journey import effects as fx
    from kiosk.runner import EFFECTS

    effects = {c for c in vars(fx).values() if isinstance(c, type) and issubclass(c, fx.Effect) and c is not fx.Effect}
    assert len(effects) >= 14 and set(EFFECTS) == effects
    assert all(stage is None or hasattr(Stages(), stage) for stage, _ in EFFECTS.values())
