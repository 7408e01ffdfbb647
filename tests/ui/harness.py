"""Drive the real Kivy app headless: build it into the offscreen window, tap widgets, wait, screenshot."""

from __future__ import annotations

import time
from pathlib import Path

from ui.env import headless

headless()

from kivy.base import EventLoop
from kivy.core.window import Window
from kivy.tests.common import UnitTestTouch

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screens"


def start(app) -> None:
    EventLoop.ensure_window()
    for child in list(Window.children):
        Window.remove_widget(child)
    app._app_window = Window  # what App.run would set; popups and screenshots use it
    root = app.build()
    app.root = root
    Window.add_widget(root)
    pump(5)


def pump(n: int = 1) -> None:
    for _ in range(n):
        EventLoop.idle()


def settle(app, timeout: float = 60.0) -> None:
    """Until the journey worker is idle and every scheduled UI update has been drawn."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pump(2)
        if app.controller.idle:
            pump(3)
            if app.controller.idle:
                return
        time.sleep(0.01)
    raise TimeoutError("the kiosk did not settle")


def find(kiosk_id: str):
    stack = list(Window.children)
    while stack:
        widget = stack.pop()
        if getattr(widget, "kiosk_id", None) == kiosk_id and widget.get_root_window() is not None:
            return widget
        stack.extend(widget.children)
    raise LookupError(f"no widget {kiosk_id!r} on screen")


def tap_at(x: float, y: float) -> None:
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    pump(1)
    touch.touch_up()
    pump(2)


def tap(app, kiosk_id: str, wait: bool = True) -> None:
    widget = find(kiosk_id)
    assert widget.height >= 64 * 0.99 or kiosk_id.startswith("key_"), f"{kiosk_id} is smaller than a finger"
    tap_at(*widget.to_window(*widget.center))
    if wait:
        settle(app)


def screenshot(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return Path(Window.screenshot(name=str(ARTIFACTS / f"{name}.png")))


def type_digits(app, digits: str) -> None:
    for d in digits:
        tap(app, f"key_{d}", wait=False)
