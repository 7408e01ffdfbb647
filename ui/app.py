"""The Kivy kiosk app: screens for the journey, a clock for timeouts and the camera preview, a staff menu.

Import ``ui.env`` before this module when running without a display (tests, CI): it selects SDL's
offscreen driver and keeps Kivy away from the command line and the user's home directory.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.core.text import LabelBase
from kivy.core.window import Window
from kivy.metrics import dp
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.popup import Popup
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.admin_pin import PinStore
from kiosk.i18n import tr
from kiosk.runner import Runner
from ui.controller import JourneyController
from ui.guidance import GuidanceBoard
from ui.preview import PreviewCamera
from ui.screens import BACKSPACE, SCREENS, CameraScreen, big_button, label
from ui.view import ViewState

log = logging.getLogger("ui.app")

CJK_FONTS = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
ADMIN_TAPS = 5  # taps in the top-left corner within ADMIN_WINDOW_S open the staff PIN pad
ADMIN_WINDOW_S = 3.0


def register_cjk_font() -> str:
    """Make the default font one that draws Chinese (Kivy's Roboto shows boxes)."""
    for path in CJK_FONTS:
        if Path(path).is_file():
            LabelBase.register(name="Roboto", fn_regular=path)
            return path
    raise RuntimeError("no CJK font installed (Debian package fonts-wqy-microhei)")


def check_name(name: str, lang: str) -> str:
    words = tr(f"selftest.{name}", lang)
    return name if words == f"selftest.{name}" else words


class KioskApp(App):
    def __init__(self, runner: Runner, pins: PinStore, default_language: str = "zh", fullscreen: bool = False,
                 selftest=None, prepare=None, **kw) -> None:
        super().__init__(**kw)
        self.title = "Kiosk"
        self.runner = runner
        self.pins = pins
        self.default_language = default_language
        self.fullscreen = fullscreen
        self.selftest = selftest
        self.prepare = prepare  # builds the stages in the background once the attract screen shows
        self.preview = PreviewCamera(runner.devices.camera) if runner.devices.camera is not None else None
        if self.preview is not None:
            runner.devices.camera = self.preview
        self.controller = JourneyController(runner, runner.devices.microphone, self._schedule, self.show,
                                            default_language)
        self.guidance = GuidanceBoard(runner.journey.limits.challenges,
                                      lambda: getattr(runner.stages.live_capture, "challenge_seconds", None))
        # On the worker thread, in order: a new step resets the guidance before its capture starts talking.
        runner.transition_listeners.append(lambda t: self.guidance.reset() if t.state is not t.previous else None)
        runner.prompt_listeners.append(lambda prompt, _text: self.guidance.prompted(prompt))
        runner.status_listeners.append(self.guidance.status)
        self.controller.ready = prepare is None  # the first frame already says "getting ready"
        self.view: ViewState | None = None
        self.admin_open = False
        self._corner_taps: list[float] = []
        self.frames_drawn = 0

    def _schedule(self, fn) -> None:
        Clock.schedule_once(lambda _dt: fn(), 0)

    def build(self):
        register_cjk_font()
        Window.clearcolor = (0.07, 0.09, 0.12, 1)
        if self.fullscreen:
            Window.fullscreen = "auto"
            Window.show_cursor = False
        self.manager = ScreenManager(transition=NoTransition())
        for cls in SCREENS:
            extra = {"preview": self.preview, "guidance": self.guidance} if issubclass(cls, CameraScreen) else {}
            self.manager.add_widget(cls(self.controller.post, self.controller.ask, repeat=self.controller.repeat,
                                        **extra))
        Window.bind(on_touch_down=self._corner_gesture, on_keyboard=self._swallow_escape,
                    on_request_close=self._refuse_close)
        self._clocks = [
            Clock.schedule_interval(self._each_second, 1.0),
            Clock.schedule_interval(self._refresh_preview, 1 / 30),
        ]
        self.show(self.controller.view())
        # Support reads start-up time from this line (scripts/bench_ui.py too): the first frame is on the glass.
        Clock.schedule_once(self._first_frame, 0)
        return self.manager

    def _first_frame(self, _dt) -> None:
        log.info("first frame", extra={"state": self.manager.current, "ready": self.controller.ready})
        if self.prepare is not None:
            self.controller.prepare(self.prepare)

    def on_stop(self):
        for event in getattr(self, "_clocks", []):
            event.cancel()
        Window.unbind(on_touch_down=self._corner_gesture, on_keyboard=self._swallow_escape,
                      on_request_close=self._refuse_close)
        self.controller.shutdown()

    def show(self, view: ViewState) -> None:
        self.view = view
        screen = self.manager.get_screen(view.state)
        if view.state == "attract":
            self.manager.get_screen("details").reset()
        screen.render(view)
        self.manager.current = view.state

    def _each_second(self, _dt) -> None:
        self.controller.tick()
        self.manager.current_screen.update_countdown()

    def _refresh_preview(self, _dt) -> None:
        screen = self.manager.current_screen
        if isinstance(screen, CameraScreen):
            screen.refresh()
        self.frames_drawn += 1

    # ---- lockdown: a USB keyboard or the window manager cannot quit the kiosk --------------------------------

    @staticmethod
    def _swallow_escape(_window, key, *_args) -> bool:
        return key == 27  # Escape (Kivy's default quits the app); staff stop the kiosk through systemd

    def _refuse_close(self, *_args, **_kwargs) -> bool:
        return self.fullscreen  # Alt+F4 and the like: refused on the real kiosk, allowed in a desktop window

    # ---- staff menu ---------------------------------------------------------------------------------------

    def _corner_gesture(self, _window, touch) -> bool:
        if touch.x > dp(80) or touch.y < Window.height - dp(80):
            return False
        now = time.monotonic()
        self._corner_taps = [t for t in self._corner_taps if now - t < ADMIN_WINDOW_S] + [now]
        if len(self._corner_taps) >= ADMIN_TAPS:
            self._corner_taps.clear()
            self.open_pin_pad()
            return True
        return False

    def open_pin_pad(self) -> None:
        lang = self.view.language if self.view else self.default_language
        box = BoxLayout(orientation="vertical", spacing=dp(6))
        entry = label("", 28, size_hint_y=None, height=dp(48))
        status = label("", 18, size_hint_y=None, height=dp(32))
        digits: list[str] = []
        pad = GridLayout(cols=3, spacing=dp(4))
        popup = Popup(title=tr("admin.pin", lang), content=box, size_hint=(0.7, 0.95), auto_dismiss=True)

        def key(k: str) -> None:
            if not self.pins.is_set:  # a kiosk provisioned without a PIN: say so, not "0 tries left"
                status.text = tr("admin.no_pin", lang)
                return
            if k == BACKSPACE:
                digits[-1:] = []
            elif k == "✔":
                result = self.pins.check("".join(digits))
                digits.clear()
                if result.ok:
                    popup.dismiss()
                    self.open_admin_menu(lang)
                elif result.locked_for_s > 0:
                    status.text = tr("admin.locked", lang, minutes=math.ceil(result.locked_for_s / 60))
                else:
                    status.text = tr("admin.wrong_pin", lang, left=result.tries_left)
            else:
                digits.append(k)
            entry.text = "●" * len(digits)

        for k in "123456789" + BACKSPACE + "0✔":
            pad.add_widget(big_button(k, f"pin_{k}", lambda k=k: key(k)))
        box.add_widget(entry)
        box.add_widget(status)
        box.add_widget(pad)
        self.pin_popup = popup
        popup.open()

    def open_admin_menu(self, lang: str) -> None:
        self.admin_open = True
        box = BoxLayout(orientation="vertical", spacing=dp(8))
        report = label("", 16)
        popup = Popup(title=tr("admin.title", lang), content=box, size_hint=(0.9, 0.9), auto_dismiss=False)

        def run_selftest() -> None:
            if self.selftest is not None:
                # Verdict and check names in the staff member's language; the details are technical (English).
                report.text = "\n".join(f"{tr('admin.pass' if r.ok else 'admin.fail', lang)}  "
                                        f"{check_name(r.name, lang)}: {r.detail}" for r in self.selftest())

        def close() -> None:
            self.admin_open = False
            popup.dismiss()

        box.add_widget(big_button(tr("admin.selftest", lang), "admin_selftest", run_selftest))
        box.add_widget(report)
        box.add_widget(big_button(tr("admin.exit", lang), "admin_exit", close))
        self.admin_popup = popup
        popup.open()

