"""Kivy settings for running without a display (tests, CI, headless boxes). Import before any kivy module."""

from __future__ import annotations

import os
import tempfile


def headless(width: int = 800, height: int = 480) -> None:
    os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
    os.environ.setdefault("KIVY_WINDOW", "sdl2")
    os.environ["KIVY_NO_ARGS"] = "1"
    os.environ["KIVY_NO_FILELOG"] = "1"
    # Kivy logs through Python logging (our JSON handler) and leaves sys.excepthook alone, so an error in a
    # headless run is a normal traceback instead of a silent exit.
    os.environ["KIVY_LOG_MODE"] = "PYTHON"
    os.environ["KIVY_CLIPBOARD"] = "sdl2"  # xclip, if installed, fails without an X server
    os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-"))
    from kivy.config import Config

    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("input", "mouse", "mouse,disable_multitouch")
