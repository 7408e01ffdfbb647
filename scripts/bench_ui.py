"""UI frame rate while the face pipeline runs (headless, SDL offscreen, 800x480).

    .venv/bin/python scripts/bench_ui.py [--seconds 8]

Drives the real app to the live-capture screen with a looping replay camera (a still face, so the liveness
challenge runs until its time limit), and counts rendered UI frames per second while the journey worker
runs detection, landmarks, embeddings and liveness on every camera frame; then the same with the worker idle.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from ui.env import headless

headless()

from kivy.base import EventLoop

from hardware.camera import ReplayCamera
from kiosk.admin_pin import PinStore
from kiosk.config import load_config
from kiosk.journey import events as ev
from kiosk_app.demo import SHARED_DATA, demo_world
from ui.app import KioskApp


def measure(app: KioskApp, seconds: float) -> tuple[float, int]:
    frames, t0 = 0, time.monotonic()
    screen = app.manager.current_screen
    shown0 = getattr(screen, "frames_shown", 0)
    while time.monotonic() - t0 < seconds:
        EventLoop.idle()
        frames += 1
    return frames / (time.monotonic() - t0), getattr(screen, "frames_shown", 0) - shown0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    base = load_config()
    config = base.model_copy(update={"data_dir": Path(tempfile.mkdtemp(prefix="bench-ui-")),
                                     "extra_models_dir": base.installed_models_dir})
    with demo_world(config) as world:
        face = SHARED_DATA / "faces" / "lfw-deepfunneled" / "Howard_Dean" / "Howard_Dean_0005.jpg"
        world.runner.devices.camera = ReplayCamera(face, loop=True)
        app = KioskApp(world.runner, PinStore(config.data_dir / "pin.json"), "en")
        EventLoop.ensure_window()
        app._app_window = EventLoop.window
        app.root = app.build()
        EventLoop.window.add_widget(app.root)
        for event in (ev.StartPressed(), ev.LanguageChosen(language="en"), ev.ConsentGiven(agreed=True)):
            app.controller.post(event)
        deadline = time.monotonic() + 30
        while app.manager.current != "live_capture" and time.monotonic() < deadline:
            EventLoop.idle()
        measured_on = app.manager.current
        busy_fps, preview_busy = measure(app, args.seconds)
        worker_was_busy = not app.controller.idle
        while not app.controller.idle:
            EventLoop.idle()
        idle_fps, _ = measure(app, 3.0)
        print(f"window 800x480, SDL offscreen, Kivy {__import__('kivy').__version__}, measured on {measured_on}")
        print(f"UI frames/s while the face pipeline runs: {busy_fps:.1f} (worker still busy at the end: {worker_was_busy})")
        print(f"preview refreshes in that time: {preview_busy} ({preview_busy / args.seconds:.1f}/s, camera upload at most 30/s)")
        print(f"UI frames/s with the worker idle: {idle_fps:.1f}")
        app.on_stop()


if __name__ == "__main__":
    main()
