"""The touchscreen app's figures (issue 16): time to the attract screen, UI frames/s while vision runs, preview
new frames/s, and resident memory in every state of a whole journey. Headless (SDL offscreen, 800x480).

    .venv/bin/python scripts/bench_ui.py [--launches 3] [--seconds 5]

1. Time to attract: `kiosk run --windowed` (the product, on replay devices) and `kiosk run --demo --windowed`
   (plus the demo's scoring service, registration and actor), each launched ``--launches`` times in a fresh
   process; the time from launch to the app's "first frame" log line (the models load behind that screen).
2. The app in this process over the demo world: the customer's ID card and face, with the demo actor ignoring
   the liveness challenges, so the live capture runs its full time: UI frames/s and new preview frames/s while
   the face pipeline works (and on the ID capture while OCR works); then a whole journey (the actor performing,
   and asking a spoken question on the details screen), through review and confirmation, printing this process's RSS (VmRSS) on entering each state and its peak while
   in that state. The demo's scoring service runs in a process of its own (kiosk_app/demo_service.py), as a real
   kiosk's does, so the figures are the kiosk's (plus the demo actor's photos).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from kiosk.memory import tune_malloc
from ui.env import headless

tune_malloc()  # as `kiosk` does first thing (kiosk/memory.py)
headless()

from kivy.base import EventLoop

from kiosk.admin_pin import PinStore
from kiosk.config import load_config
from kiosk.journey import events as ev
from kiosk.journey.session import ApplicantDetails
from kiosk.journey.states import State
from kiosk.logging_setup import LOG_FILE_NAME
from kiosk_app.demo import SHARED_DATA, demo_world
from ui.app import KioskApp


def status_mb(field: str, pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


def rss_mb() -> float:
    return status_mb("VmRSS")


class StatePeaks:
    """RSS on entering each state and the peak while in it: the kernel's high-water mark (VmHWM), reset on every
    transition by writing 5 to /proc/self/clear_refs, so each state's peak is its own, not an earlier one's."""

    def __init__(self) -> None:
        self.rows: list[list] = []  # [state, RSS on entering, peak while in it]

    def enter(self, state: str) -> None:
        now = rss_mb()
        if self.rows:
            self.rows[-1][2] = status_mb("VmHWM")
        Path("/proc/self/clear_refs").write_text("5")
        self.rows.append([state, now, now])

    def close(self) -> None:
        self.rows[-1][2] = status_mb("VmHWM")


# The product (`kiosk run`) on replay devices: the customer's face as the camera, a recorded question as the
# microphone, a file speaker; no cloud needed to reach the attract screen.
REPLAY_DEVICES = {"KIOSK_HARDWARE__CAMERA__DRIVER": "replay",
                  "KIOSK_HARDWARE__CAMERA__REPLAY_PATH": str(SHARED_DATA / "faces" / "lfw-deepfunneled" / "Howard_Dean"),
                  "KIOSK_HARDWARE__MICROPHONE__DRIVER": "replay",
                  "KIOSK_HARDWARE__MICROPHONE__REPLAY_PATH": str(next((SHARED_DATA / "audio" / "en").glob("*.wav"))),
                  "KIOSK_HARDWARE__SPEAKER__DRIVER": "file"}


def logged(log: Path, message: str) -> bool:
    return log.is_file() and any(json.loads(line).get("message") == message
                                 for line in log.read_text(encoding="utf-8").splitlines() if line.strip())


def time_to_attract(models_dir: Path, demo: bool) -> tuple[float, float, float]:
    """(seconds to the first frame, seconds to ready (models loaded), RSS MB when ready)."""
    data = Path(tempfile.mkdtemp(prefix="bench-ui-launch-"))
    env = {**os.environ, "KIOSK_DATA_DIR": str(data), "KIOSK_EXTRA_MODELS_DIR": str(models_dir),
           "SDL_VIDEODRIVER": "offscreen", "KIVY_NO_ARGS": "1", "KIVY_HOME": str(data / "kivy")}
    if not demo:
        env.update(REPLAY_DEVICES, KIOSK_HARDWARE__SPEAKER__OUT_DIR=str(data / "speaker"))
    log = data / "logs" / LOG_FILE_NAME
    t0 = time.monotonic()
    proc = subprocess.Popen([str(ROOT / ".venv" / "bin" / "kiosk"), "run", *(["--demo"] if demo else []),
                             "--windowed"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        first = None
        while time.monotonic() - t0 < 120:
            if proc.poll() is not None:
                raise RuntimeError(f"kiosk run exited with {proc.returncode} before it was ready")
            if first is None and logged(log, "first frame"):
                first = time.monotonic() - t0
            if first is not None and logged(log, "ready"):
                return first, time.monotonic() - t0, status_mb("VmRSS", proc.pid)
            time.sleep(0.05)
        raise RuntimeError("not ready within 120 s")
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def pump_until(app: KioskApp, state: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while app.manager.current != state:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the app did not reach {state} (at {app.manager.current})")
        EventLoop.idle()


def rates(app: KioskApp, seconds: float) -> tuple[float, float]:
    """(UI frames/s, new preview frames/s) over ``seconds`` on the current screen."""
    screen = app.manager.current_screen
    frames, shown0, t0 = 0, screen.frames_shown, time.monotonic()
    while time.monotonic() - t0 < seconds:
        EventLoop.idle()
        frames += 1
    elapsed = time.monotonic() - t0
    return frames / elapsed, (screen.frames_shown - shown0) / elapsed


def start_app(world, config) -> KioskApp:
    app = KioskApp(world.runner, PinStore(config.data_dir / "pin.json"), "en")
    EventLoop.ensure_window()
    app._app_window = EventLoop.window
    app.root = app.build()
    EventLoop.window.add_widget(app.root)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--launches", type=int, default=3, help="0: skip the start-up timings")
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    base = load_config()
    for demo, what in ((False, "kiosk run, replay devices"), (True, "kiosk run --demo")) if args.launches else ():
        runs = [time_to_attract(base.installed_models_dir, demo) for _ in range(args.launches)]
        first, ready, mb = ([r[i] for r in runs] for i in range(3))
        print(f"time to attract ({what}, fresh process): median {statistics.median(first):.2f} s "
              f"(runs: {', '.join(f'{t:.2f}' for t in first)}; target <= 5 s); models loaded and Start shown "
              f"after {statistics.median(ready):.2f} s; RSS then {statistics.median(mb):.0f} MB")

    config = base.model_copy(update={"data_dir": Path(tempfile.mkdtemp(prefix="bench-ui-")),
                                     "extra_models_dir": base.installed_models_dir})
    with demo_world(config) as world:
        peaks = StatePeaks()
        world.runner.transition_listeners.append(lambda t: peaks.enter(t.state.value) if t.state is not t.previous else None)
        actor = world.runner.prompt_listeners[0]
        performing = {"on": False}  # first pass: the actor ignores the challenges (the capture runs its time)
        world.runner.prompt_listeners[0] = lambda c, t: actor(c, t) if performing["on"] or c == "show_back" else None
        app = start_app(world, config)
        peaks.enter("attract (app built)")
        post = app.controller.post
        for event in (ev.StartPressed(), ev.LanguageChosen(language="en"), ev.ConsentGiven(agreed=True)):
            post(event)
        pump_until(app, "id_capture")
        id_ui, id_preview = rates(app, min(args.seconds, 2.0))
        pump_until(app, "live_capture")
        live_ui, live_preview = rates(app, args.seconds)
        busy = world.runner.journey.state is State.LIVE_CAPTURE
        print(f"ID capture (OCR running): UI {id_ui:.1f} frames/s, preview {id_preview:.1f} new frames/s")
        print(f"live capture (face pipeline running: {busy}): UI {live_ui:.1f} frames/s (target >= 25), "
              f"preview {live_preview:.1f} new frames/s (target >= 20)")
        post(ev.Cancel())
        pump_until(app, "end")
        pump_until(app, "attract", 30)

        performing["on"] = True  # second pass: a whole journey
        for event in (ev.StartPressed(), ev.LanguageChosen(language="en"), ev.ConsentGiven(agreed=True)):
            post(event)
        pump_until(app, "confirm_identity", 90)
        post(ev.IdentityConfirmed(agreed=True))
        pump_until(app, "details")
        app.controller.ask()  # the customer asks a question by voice (the English engine loads meanwhile)
        while app.controller.view().answer is None:
            EventLoop.idle()
        post(ev.DetailsSubmitted(details=ApplicantDetails(monthly_income=6000, requested_amount=5000, term_months=12)))
        pump_until(app, "offers", 60)
        offer = world.runner.journey.data.offers[0]
        post(ev.OfferChosen(offer_id=offer.offer_id))
        pump_until(app, "review")
        post(ev.PaymentPicked(monthly=offer.monthly_payment))
        post(ev.BorrowAgreed())
        pump_until(app, "confirmation", 60)
        while world.runner.journey.data.application_ref is None:
            EventLoop.idle()
        post(ev.Finish())
        pump_until(app, "end")
        pump_until(app, "attract", 30)
        peaks.enter("attract (after the journey)")
        peaks.close()
        app.on_stop()
    print("RSS in each state (MB, this process: the kiosk and the demo's actor; its scoring service runs apart):")
    print(f"  {'state':28s} {'entering':>8s} {'peak in it':>10s}")
    for state, entering, peak in peaks.rows:
        print(f"  {state:28s} {entering:8.0f} {peak:10.0f}")
    print(f"peak {max(row[2] for row in peaks.rows):.0f} MB (target <= 600)")


if __name__ == "__main__":
    main()
