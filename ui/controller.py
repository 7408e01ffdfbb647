"""Runs the journey off the UI thread and hands the screen plain snapshots back on the UI thread.

Vision, voice and network calls all happen inside ``Runner.send`` on a single worker thread, so the journey
is only ever touched by one thread and the screen never waits; ``schedule`` is Kivy's ``Clock`` in the app
and a direct call in tests that do not need a display.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace

from hardware.errors import DeviceError
from hardware.microphone import Microphone
from kiosk.journey import events as ev
from kiosk.journey.machine import Transition
from kiosk.runner import INTERRUPTING, Runner
from kiosk.stages import Stages
from ui.view import ViewState, snapshot

log = logging.getLogger("ui.controller")


class JourneyController:
    def __init__(
        self,
        runner: Runner,
        microphone: Microphone | None,
        schedule: Callable[[Callable[[], None]], None],
        on_view: Callable[[ViewState], None],
        default_language: str = "zh",
    ) -> None:
        self.runner = runner
        self.microphone = microphone
        self.schedule = schedule
        self.on_view = on_view
        self.default_language = default_language
        self._stop_listening = threading.Event()
        self._listening = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journey")
        self._pending = 0
        self._lock = threading.Lock()
        self._answer: str | None = None
        self._prompt: str | None = None
        self._last: Transition | None = None
        self._shown_deadline: float | None = None  # the idle warning's, as last published
        self.ready = True  # the stages are loaded (see prepare)
        self.not_ready: str | None = None  # why the kiosk cannot serve customers, when loading failed
        runner.transition_listeners.append(self._transitioned)
        runner.prompt_listeners.append(self._prompted)

    def prepare(self, build: Callable[[], Stages]) -> threading.Thread:
        """Load the stages (models checked and loaded: seconds) on a thread of their own while the attract
        screen already shows; Start is refused until they are in. A failure keeps the kiosk out of service
        with the reason on the staff's log, and says so on the screen."""
        self.ready = False

        def install(stages: Stages) -> None:  # on the journey worker: the only thread that touches the runner
            self.runner.stages = stages
            if stages.drainer is not None:
                stages.drainer.start()
            self.ready = True
            log.info("ready", extra={"missing_stages": [info.name for info in stages.missing()]})
            self._publish(None)

        def load() -> None:
            try:
                stages = build()
            except Exception as exc:  # a bad model or config: out of service, and why, for the staff
                log.exception("the kiosk could not load its stages")
                self.not_ready = f"{type(exc).__name__}: {exc}"
                self._publish(None)
                return
            self._submit(lambda: install(stages))

        thread = threading.Thread(target=load, name="prepare", daemon=True)
        thread.start()
        return thread

    # ---- called from the UI thread ------------------------------------------------------------------------

    def post(self, event: ev.Event) -> Future:
        if isinstance(event, ev.StartPressed) and not self.ready:  # nothing to serve a customer with yet
            done: Future = Future()
            done.set_result(None)
            return done
        self.runner.hush()  # a tap on anything stops the kiosk talking (barge-in)
        if isinstance(event, INTERRUPTING):  # now, not after the busy stage: it stops at its next frame
            self.runner.interrupt()
        return self._submit(lambda: self.runner.send(self._stamp(event)))

    def tick(self) -> None:
        """Clock ticks are dropped while work is queued: a slow stage must not build up a backlog."""
        if self.idle:  # not through post(): a tick is not a tap, it must not silence the kiosk
            self._submit(lambda: self.runner.send(self._stamp(ev.Tick())))

    def repeat(self) -> None:
        """"Say it again" (at once, even while a stage works: playing does not wait for the worker)."""
        self.runner.repeat()

    def ask(self) -> Future | None:
        """Press to talk; pressed again while listening, the question ends there."""
        if self._listening:
            self._stop_listening.set()
            return None
        self.runner.hush()
        self._stop_listening.clear()
        self._listening = True
        self._publish(None)
        return self._submit(self._ask)

    @property
    def idle(self) -> bool:
        with self._lock:
            return self._pending == 0

    def view(self) -> ViewState:
        return self._snapshot(None)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    # ---- worker thread ------------------------------------------------------------------------------------

    def _submit(self, work: Callable[[], object]) -> Future:
        with self._lock:
            self._pending += 1

        def run() -> None:
            try:
                work()
            except Exception:  # a bug must not kill the worker: log it, keep the kiosk usable
                log.exception("journey work failed")
            finally:
                with self._lock:
                    self._pending -= 1

        return self._executor.submit(run)

    def _stamp(self, event: ev.Event) -> ev.Event:
        return type(event)(**{**event.__dict__, "at": time.monotonic()})

    def _ask(self) -> None:
        try:
            if self.microphone is None:
                return
            try:
                self.runner.listen(self._stop_listening)
            except DeviceError as exc:
                self.runner.send(self._stamp(ev.DeviceFailed(device=exc.device, code=exc.code)))
                return
            answer = self.runner.last_answer
            self._answer = answer.text if answer else None
        finally:
            self._listening = False
            self._publish(None)

    def _transitioned(self, transition: Transition) -> None:
        unchanged = not transition.effects and transition.state is transition.previous
        if transition.ignored or (unchanged and self.runner.journey.warning_until == self._shown_deadline):
            return  # nothing new to show (a touch that only restarts the idle clock): no redraw
        if transition.state is not transition.previous:
            self._answer = None
            self._prompt = None
        self._publish(transition)

    def _prompted(self, challenge: str, text: str) -> None:
        self._prompt = text
        self._publish(None)

    def _snapshot(self, transition: Transition | None) -> ViewState:
        view = snapshot(self.runner.journey, transition, self.default_language, self._answer, self._prompt,
                        self._listening)
        return replace(view, ready=self.ready, not_ready=self.not_ready)

    def _publish(self, transition: Transition | None) -> None:
        self._last = transition or self._last
        view = self._snapshot(self._last)
        self._shown_deadline = view.idle_deadline
        self.schedule(lambda: self.on_view(view))
