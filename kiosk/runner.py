"""Carries out the journey's effects against devices and stages, feeding the results back as events.

The runner is the only place where the pure journey meets the outside world. It is synchronous: the
Kivy app calls it from a worker thread so the screen never waits on vision or the network.

Cancel and "call the shopkeeper" must act at once, even while a stage is busy on that worker: ``interrupt()``
(called from the UI thread) sets the stages' stop signal, which ends cloud calls within a tenth of a second; a
camera stage runs on a thread of its own and is left at once (one ID frame's reading takes up to 2 s on a busy
kiosk, too long to wait for): its camera refuses further frames, and whatever it returns later is wiped. What an
interrupted stage returns is dropped, and the Cancel queued behind it then ends the session and wipes the
biometrics.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable

import numpy as np

from hardware.audio import AudioClip
from hardware.camera import Camera, Frame
from hardware.errors import DeviceError, StreamStopped
from hardware.printer import Receipt
from kiosk.audit import AuditLog
from kiosk.config import KioskConfig
from kiosk.devices import Devices
from kiosk.i18n import reasons_text, tr
from kiosk.journey import effects as fx
from kiosk.journey import events as ev
from kiosk.journey.machine import Journey, JourneyLimits, Transition
from kiosk.journey.prompts import prompt_text
from kiosk.journey.states import DEFAULT_TIMEOUTS_S, State
from kiosk.memory import return_free_memory
from kiosk.spoken import screen_speech
from kiosk.stages import STAGES, Stages
from voice.intents import is_scam
from voice.tts import TtsError

log = logging.getLogger("kiosk.runner")

# "Speak now": 150 ms at 880 Hz, soft (the cue to talk, for a customer who does not read the screen).
LISTENING_TONE = AudioClip((6000 * np.sin(2 * np.pi * 880 * np.arange(2400) / 16000)).astype(np.int16), 16000)

# Events the customer or the shopkeeper use to stop whatever the kiosk is doing.
INTERRUPTING = (ev.Cancel, ev.CallShopkeeper)


class StoppableCamera:
    """The camera as one capture sees it: reading ends (StreamStopped) once the capture is left."""

    def __init__(self, camera: Camera) -> None:
        self._camera = camera
        self._left = threading.Event()
        self._reading = threading.Lock()

    def read(self) -> Frame:
        with self._reading:
            if self._left.is_set():
                raise StreamStopped("camera", "stopped by the kiosk")
            return self._camera.read()

    def leave(self) -> None:
        """No frame is read after this returns (a read under way finishes first: the device may close next)."""
        self._left.set()
        with self._reading:
            pass

    @property
    def left(self) -> bool:
        return self._left.is_set()

    def __getattr__(self, name: str):
        return getattr(self._camera, name)


def wipe_result(event: ev.Event | None) -> None:
    """Zero the biometrics of a capture result nobody will use (an abandoned capture's)."""
    for name in ("portrait", "chip_portrait", "frames"):
        value = getattr(event, name, None)
        for sample in value if isinstance(value, tuple) else (value,):
            if sample is not None:
                sample.wipe()


def limits_from_config(config: KioskConfig) -> JourneyLimits:
    j = config.journey
    timeouts = {State(k): v for k, v in j.timeouts_s.items()}
    return JourneyLimits(
        id_attempts=j.id_attempts,
        face_attempts=j.face_attempts,
        scoring_attempts=j.scoring_attempts,
        challenges=config.liveness.challenges,
        languages=tuple(config.languages),
        timeouts_s={**DEFAULT_TIMEOUTS_S, **timeouts},
    )


def receipt_lines(lang: str, reference: str, queued: bool, offer) -> tuple[str, ...]:
    """What the printed receipt says: the same honest figures the offer screen showed."""
    def line(key: str, value: str) -> str:
        return f"{tr(f'receipt.{key}', lang)}: {value}"

    lines = [tr("receipt.title", lang), line("reference", reference)]
    if offer is not None:
        lines += [line("lender", offer.lender_name(lang)), line("amount", f"{offer.amount:,.2f}"),
                  line("term", str(offer.term_months)), line("monthly", f"{offer.monthly_payment:,.2f}"),
                  line("total", f"{offer.total_repayable:,.2f}"), line("apr", f"{100 * offer.apr:.2f}%"),
                  line("fee", f"{offer.fee:,.2f}"), line("received", f"{offer.received:,.2f}"),
                  line("late", f"{100 * offer.late_daily_rate:.2f}%")]
    if queued:
        lines.append(tr("receipt.queued", lang))
    return tuple(lines)


def spoken_text(effect: fx.Speak, language: str) -> str:
    """The catalogue text of a Speak effect ("" when the key has none: nothing is said)."""
    params = dict(effect.params)
    if "reasons" in params:
        params["reasons"] = reasons_text(params["reasons"], language)
    text = tr(effect.message, language, **params)
    return "" if text == effect.message else text


def session_values(data) -> dict[str, str]:
    """Live values an answer may quote: the customer's estimated limit and the chosen offer's APR."""
    values = {}
    if data.estimate is not None:
        values["limit"] = f"{data.estimate.limit:,.0f} {data.estimate.currency}"
    chosen = next((o for o in data.offers if o.offer_id == data.chosen_offer_id), None)
    if chosen is not None:
        values["apr"] = f"{100 * chosen.apr:.1f}%"
    return values


class Runner:
    def __init__(
        self,
        journey: Journey,
        devices: Devices,
        stages: Stages,
        clock: Callable[[], float] = time.monotonic,
        on_transition: Callable[[Transition], None] | None = None,
        on_prompt: Callable[[str, str], None] | None = None,
        audit: AuditLog | None = None,
    ) -> None:
        self.audit = audit
        self.journey = journey
        self.devices = devices
        self.stages = stages
        self.clock = clock
        # Listeners: the screen, the demo's actor, the console printer. Prompts carry (challenge, text in
        # the session language) for the screen and the voice.
        self.transition_listeners: list[Callable[[Transition], None]] = [on_transition] if on_transition else []
        self.prompt_listeners: list[Callable[[str, str], None]] = [on_prompt] if on_prompt else []
        self.status_listeners: list[Callable[[str], None]] = []  # each capture frame's verdict: "ok" or a hint code
        self.last_answer = None  # the latest voice answer (transcript, intent, text) for the screen
        self._camera_open = False
        self._speech: list[tuple[str, str, bool]] = []  # (text, language, protected) said at the next flush
        self._last_speech: AudioClip | None = None
        self._protected_until = 0.0
        self._speaker_lock = threading.Lock()

    def interrupt(self) -> None:
        """From any thread: stop the running stage now (see the module's note)."""
        self.stages.stop.set()

    def send(self, event: ev.Event) -> list[Transition]:
        """Handle ``event`` and every event its effects produce; returns the transitions in order."""
        if isinstance(event, INTERRUPTING):
            self.stages.stop.clear()  # the interrupt has reached the journey: stages may run again
        queue = [event]
        transitions = []
        while queue:
            transition = self.journey.handle(queue.pop(0))
            transitions.append(transition)
            for listener in self.transition_listeners:
                listener(transition)
            for effect in transition.effects:
                queue.extend(self._stamp(e) for e in self._execute(effect))
        self._flush_speech()
        return transitions

    def _stamp(self, event: ev.Event) -> ev.Event:
        return dataclasses.replace(event, at=self.clock())

    def _execute(self, effect: fx.Effect) -> list[ev.Event]:
        try:
            events = self._run(effect)
        except StreamStopped:
            return []
        except DeviceError as exc:
            if self.stages.stop.is_set():
                return []
            log.warning("device failure", extra={"device": exc.device, "code": exc.code, "detail": exc.message})
            return [ev.DeviceFailed(device=exc.device, code=exc.code)]
        # An interrupted stage's result is not an attempt the customer made: the Cancel behind it decides.
        return [] if self.stages.stop.is_set() else events

    def _unavailable(self, stage: str) -> list[ev.Event]:
        info = STAGES[stage]
        return [ev.StageUnavailable(stage=stage, detail=f"{info.description}: provided by {info.provided_by}")]

    def _open_camera(self, purpose: str) -> None:
        if not self._camera_open:
            self.devices.camera.open()
            self._camera_open = True
        self.devices.camera.set_purpose(purpose)

    def _run(self, effect: fx.Effect) -> list[ev.Event]:
        stage, handler = EFFECTS[type(effect)]
        if stage is not None:
            self._flush_speech()  # what the screen says is heard while the stage works, not after it
            if getattr(self.stages, stage) is None:
                return self._unavailable(stage)
        return handler(self, effect) or []

    # One method per effect, each named for what it does; EFFECTS (below the class) maps effects to them.

    def _capture_id(self, effect: fx.StartIdCapture) -> list[ev.Event]:
        self._open_camera("id")
        return self._leavable(lambda camera, prompt, status: self.stages.id_capture.capture_id(
            camera, effect.attempt, prompt, on_status=status))

    def _capture_live(self, effect: fx.StartLiveCapture) -> list[ev.Event]:
        self._open_camera("live")
        return self._leavable(lambda camera, prompt, status: self.stages.live_capture.capture_live(
            camera, effect.attempt, effect.challenges, prompt, on_status=status))

    def _leavable(self, capture: Callable[[StoppableCamera, Callable[[str], None], Callable[[str], None]], ev.Event]
                  ) -> list[ev.Event]:
        """Run a capture on its own thread and wait for it, or leave it the moment the stop signal is set."""
        camera = StoppableCamera(self.devices.camera)
        done = threading.Event()
        outcome: dict[str, object] = {}

        def prompt(challenge: str) -> None:
            if not camera.left:  # a left capture's late instruction is not shown or said
                self._prompt(challenge)

        def status(code: str) -> None:
            if not camera.left:
                for listener in self.status_listeners:
                    listener(code)

        def run() -> None:
            try:
                outcome["event"] = capture(camera, prompt, status)
            except Exception as exc:  # noqa: BLE001 - re-raised on the waiting worker (StreamStopped, DeviceError)
                outcome["error"] = exc
            finally:
                done.set()
                if camera.left:
                    wipe_result(outcome.get("event"))

        threading.Thread(target=run, name="capture", daemon=True).start()
        while not done.wait(0.05):
            if self.stages.stop.is_set():
                camera.leave()
                if done.is_set():  # finished just now: the thread may have checked before leave(); wipe here
                    wipe_result(outcome.get("event"))
                log.info("capture left", extra={"reason": "interrupted"})
                return []
        if "error" in outcome:
            raise outcome["error"]
        return [outcome["event"]]

    def _match(self, _effect: fx.RunMatch) -> list[ev.Event]:
        return [self.stages.face_match.match(self.journey.data.biometrics)]

    def _score(self, effect: fx.RequestScore) -> list[ev.Event]:
        return [self.stages.credit_scoring.estimate(self.journey.data, effect.attempt)]

    def _apply(self, effect: fx.SubmitApplication) -> list[ev.Event]:
        return [self.stages.application.submit(self.journey.data, effect.offer_id, effect.idempotency_key)]

    def _withdraw(self, effect: fx.WithdrawApplication) -> list[ev.Event]:
        return [self.stages.application.withdraw(effect.idempotency_key)]

    def _stop_capture(self, _effect: fx.StopCapture) -> None:
        if self._camera_open:
            self.devices.camera.close()
            self._camera_open = False

    def _show_answer(self, effect: fx.ShowAnswer) -> None:
        # A scam warning is said in full: a tap on the screen does not cut it short.
        self._say(effect.text, protect=is_scam(effect.intent))

    def _warn_idle(self, effect: fx.WarnIdle) -> None:
        self._say(tr("idle.warning", self.journey.data.language or "en", seconds=effect.seconds))

    def _speak(self, effect: fx.Speak) -> None:
        self._say(spoken_text(effect, self.journey.data.language or "en"))

    def _show_screen(self, effect: fx.ShowScreen) -> None:
        for text, language in screen_speech(effect, self.journey.data):
            self._say(text, language)

    def _record_consent(self, effect: fx.RecordConsent) -> None:
        log.info("consent recorded", extra={"text_version": effect.text_version, "lang": effect.language})
        self._audit("customer", "consent", {"text_version": effect.text_version, "language": effect.language,
                                            "session": self.journey.data.session_id[:8]})

    def _notify_shopkeeper(self, effect: fx.NotifyShopkeeper) -> None:
        log.warning("handoff to shopkeeper", extra=dataclasses.asdict(effect.summary))
        self._audit("system", "handoff", dataclasses.asdict(effect.summary))

    def _session_ended(self, effect: fx.SessionEnded) -> None:
        log.info("session ended", extra={"summary": effect.summary})
        self._audit("system", "session_end", effect.summary)
        return_free_memory()  # the session's frames are zeroed and dropped: give the memory back

    def _nothing(self, _effect: fx.Effect) -> None:
        """Done inside the journey itself (WipeBiometrics)."""

    def _audit(self, actor: str, action: str, detail: dict) -> None:
        if self.audit is not None:
            self.audit.append(actor, action, detail)

    def ask(self, clip: AudioClip) -> list[Transition]:
        """A spoken question (press-to-talk) at any point of the journey."""
        if self.stages.answers is None:
            return self.send(self._stamp(self._unavailable("answers")[0]))
        data = self.journey.data
        answer = self.stages.answers.ask(clip, data.language, session_values(data))
        self.last_answer = answer
        transitions = self.send(
            ev.QuestionAnswered(at=self.clock(), intent=answer.intent, confidence=answer.confidence, text=answer.text)
        )
        if answer.intent == "talk_to_person":
            transitions += self.send(ev.CallShopkeeper(at=self.clock()))
        return transitions

    def listen(self, stop: threading.Event) -> list[Transition]:
        """A spoken question from the microphone (press-to-talk): a short tone, then as long as the customer speaks,
        ended by the end of speech, the length cap or ``stop`` (a second press)."""
        if self.stages.answers is None:
            return self.send(self._stamp(self._unavailable("answers")[0]))
        mic = self.devices.microphone
        mic.open()
        self._play(LISTENING_TONE, wait=True)
        heard = self.stages.answers.listen(mic.stream(), stop)
        log.info("question heard", extra={"ended": heard.ended, "seconds": round(heard.listened_s, 2)})
        return self.ask(heard.clip)

    def _play(self, clip: AudioClip, wait: bool = False) -> None:
        try:
            with self._speaker_lock:
                self.devices.speaker.open()
                self.devices.speaker.play(clip, wait=wait)
        except DeviceError as exc:
            # What is said is on screen already; a silent speaker must not interrupt the customer.
            log.warning("sound not played", extra={"detail": str(exc)})

    def _prompt(self, challenge: str) -> None:
        text = prompt_text(challenge, self.journey.data.language or "en")
        log.info("prompted", extra={"prompt": challenge})
        for listener in self.prompt_listeners:
            listener(challenge, text)
        self._say(text)
        self._flush_speech()  # a capture is running: the instruction is needed now

    # ---- speech: everything said for one step is joined and played once, without holding up the journey ----

    def _say(self, text: str, language: str | None = None, protect: bool = False) -> None:
        if text:
            self._speech.append((text, language or self.journey.data.language or "en", protect))

    def _flush_speech(self) -> None:
        speech, self._speech = self._speech, []
        if not speech or self.stages.answers is None:
            return
        clips = []
        for text, language, _ in speech:
            try:
                clips.append(self.stages.answers.speak(text, language))
            except TtsError as exc:
                log.warning("text not spoken", extra={"detail": str(exc)})
        if not clips:
            return
        rate = clips[0].sample_rate
        pause = np.zeros(rate * 2 // 5, np.int16)
        samples = [part for c in clips for part in (c.resampled(rate).samples, pause)][:-1]
        clip = AudioClip(np.concatenate(samples), rate)
        self._last_speech = clip
        if any(protect for *_, protect in speech):
            self._protected_until = time.monotonic() + clip.duration_s
        self._play(clip)

    def repeat(self) -> None:
        """"Say it again": what was said last, from the start."""
        if self._last_speech is not None:
            self._play(self._last_speech)

    def hush(self) -> None:
        """From any thread: the customer tapped, so the kiosk stops talking (not during a scam warning)."""
        if time.monotonic() >= self._protected_until:
            with self._speaker_lock:
                self.devices.speaker.stop()

    def _print_receipt(self, effect: fx.PrintReceipt) -> None:
        data = self.journey.data
        lang = data.language or "en"
        offer = next((o for o in data.offers if o.offer_id == data.chosen_offer_id), None)
        lines = receipt_lines(lang, effect.reference, effect.queued, offer)
        try:
            self.devices.printer.open()
            self.devices.printer.print_receipt(Receipt(lines, lang))
        except DeviceError as exc:
            # The reference stays on screen; a jammed printer must not undo a recorded application.
            log.warning("receipt not printed", extra={"code": exc.code, "detail": exc.message})


# Every effect the journey emits -> (the stage it needs, None if it needs none; how the runner carries it out).
# A test checks that every effect has a row.
EFFECTS: dict[type[fx.Effect], tuple[str | None, Callable[[Runner, fx.Effect], list[ev.Event] | None]]] = {
    fx.StartIdCapture: ("id_capture", Runner._capture_id),
    fx.StartLiveCapture: ("live_capture", Runner._capture_live),
    fx.RunMatch: ("face_match", Runner._match),
    fx.RequestScore: ("credit_scoring", Runner._score),
    fx.SubmitApplication: ("application", Runner._apply),
    fx.WithdrawApplication: ("application", Runner._withdraw),
    fx.StopCapture: (None, Runner._stop_capture),
    fx.ShowAnswer: (None, Runner._show_answer),
    fx.Speak: (None, Runner._speak),
    fx.PrintReceipt: (None, Runner._print_receipt),
    fx.RecordConsent: (None, Runner._record_consent),
    fx.NotifyShopkeeper: (None, Runner._notify_shopkeeper),
    fx.SessionEnded: (None, Runner._session_ended),
    fx.ShowScreen: (None, Runner._show_screen),
    fx.WipeBiometrics: (None, Runner._nothing),
    fx.WarnIdle: (None, Runner._warn_idle),
}
