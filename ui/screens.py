"""One screen per journey state. Each screen only renders a ViewState and turns taps into journey events.

Layout rules for first-time, low-literacy customers: one instruction per screen in large type, an icon with
every instruction, buttons at least 64 dp high, white on near-black for contrast, and the same bottom bar
everywhere (ask by voice, call the shopkeeper, cancel).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from kivy.clock import Clock
from kivy.graphics import Color, Line, Rectangle
from kivy.graphics.texture import Texture
from kivy.metrics import dp
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from kiosk.i18n import money, percent, reasons_text, retry_words, tr
from kiosk.journey import events as ev
from kiosk.spoken import review_values
from ui.pictures import STEP_PICTURES, Picture
from ui.view import ViewState

BG = (0.07, 0.09, 0.12, 1)
ACCENT = (0.0, 0.45, 0.85, 1)
GOOD = (0.05, 0.55, 0.25, 1)
WARN = (0.85, 0.45, 0.0, 1)
WARN_TEXT = (1, 0.8, 0.3, 1)
PROMPT = (1, 0.85, 0.2, 1)
GOOD_GUIDE = (0.2, 0.9, 0.35, 1)
WAIT_GUIDE = (0.2, 0.8, 1, 1)
MIN_TOUCH = dp(64)
# Icons are glyphs the CJK font (WenQuanYi Micro Hei) carries, checked by rendering them: every instruction
# gets one without image assets.
ICONS = {"attract": "☞", "language": "文A", "consent": "✓", "id_capture": "□", "live_capture": "◎", "match": "…",
         "confirm_identity": "?", "details": "☞", "scoring": "…", "offers": "¥", "review": "¥?", "confirmation": "✔", "end": "✔", "handoff": "☎", "error": "!"}
BACKSPACE = "←"

Post = Callable[[ev.Event], None]


# Text shrinks to fit its box, down to these sizes (a long word list at 800x480), and is never cut off.
SMALLEST_BUTTON_FONT, SMALLEST_FONT = dp(15), dp(13)


def fit(widget: Label, smallest: float) -> Label:
    """Wrap the text to the widget's width and shrink its font until it fits the height (never below
    ``smallest``); again whenever the size or the text changes."""
    base = widget.font_size

    def refit(*_):
        widget.text_size = (max(1.0, widget.width - dp(12)), None)
        widget.font_size = base
        widget.texture_update()
        # Text area grows with the square of the font size: one estimated step, then single steps (rendering a
        # label is the costly part, so as few as possible).
        # Whole pixels only: the text renderer opens (and keeps) the font once per distinct size, so sizes like
        # 15.94 and 16.63 made every new name or amount a new open font (25 in two journeys; now a handful).
        if widget.texture_size[1] > widget.height:
            widget.font_size = max(smallest, float(round(base * (widget.height / widget.texture_size[1]) ** 0.5)))
            widget.texture_update()
        while widget.texture_size[1] > widget.height and widget.font_size > smallest:
            widget.font_size = max(smallest, float(round(widget.font_size - dp(1))))
            widget.texture_update()

    widget.bind(size=refit, text=refit)
    return widget


def big_button(text: str, kiosk_id: str, on_press: Callable[[], None], color=ACCENT, **kw) -> Button:
    button = Button(text=text, font_size=dp(24), size_hint_y=None, height=max(MIN_TOUCH, kw.pop("height", 0)),
                    background_normal="", background_color=color, halign="center", valign="middle", **kw)
    button.kiosk_id = kiosk_id
    button.bind(on_release=lambda *_: on_press())
    return fit(button, SMALLEST_BUTTON_FONT)


def label(text: str, size: float = 24, **kw) -> Label:
    return fit(Label(text=text, font_size=dp(size), halign="center", valign="middle", **kw), SMALLEST_FONT)


def icon(glyph: str) -> Label:
    """A step's picture-glyph: one line, never wrapped."""
    return Label(text=glyph, font_size=dp(30), size_hint_x=None, width=dp(72))


class KioskScreen(Screen):
    """Title with icon, a content area, and the common bottom bar."""

    state = ""

    def __init__(self, post: Post, ask: Callable[[], None], repeat: Callable[[], None] = lambda: None, **kw) -> None:
        super().__init__(name=self.state, **kw)
        self.post, self.ask, self.repeat = post, ask, repeat
        self._countdown = None  # (deadline, language, warning label, button) while the idle warning shows
        with self.canvas.before:
            Color(*BG)
            self._bg = Rectangle(pos=self.pos, size=self.size)
        self.bind(pos=lambda *_: setattr(self._bg, "pos", self.pos), size=lambda *_: setattr(self._bg, "size", self.size))
        self.root_box = BoxLayout(orientation="vertical", padding=dp(12), spacing=dp(8))
        self.add_widget(self.root_box)

    def render(self, view: ViewState) -> None:
        lang = view.language
        self.root_box.clear_widgets()
        title = BoxLayout(size_hint_y=None, height=dp(56))
        kind = STEP_PICTURES.get(self.state)
        title.add_widget(Picture(kind, size_hint_x=None, width=dp(72)) if kind else icon(ICONS.get(self.state, "")))
        self._countdown = None
        if view.idle_deadline is not None:
            # "Are you still there?" takes the title band and its button the bar's first place, with a countdown
            # on both: the screen keeps its size, so nothing on it moves.
            warning = label("", 18, color=WARN_TEXT)
            still = big_button("", "still_here", lambda: self.post(ev.Touched()), WARN, size_hint_x=2)
            title.add_widget(warning)
            self._countdown = (view.idle_deadline, lang, warning, still)
            self.update_countdown()
        else:
            title.add_widget(label(self.title(view), 28))
        if view.answer and view.idle_deadline is None:  # a voice answer takes the title's place while it shows
            title.height = dp(84)
            title.add_widget(label(view.answer, 18, color=(0.7, 0.9, 1, 1), size_hint_x=2.5))
        self.root_box.add_widget(title)
        self.content(view, lang)
        if view.prompt and not self.prompt_on_picture:
            self.root_box.add_widget(label(view.prompt, 26, color=PROMPT, size_hint_y=None, height=dp(60)))
        if self.customer_bar:
            self.root_box.add_widget(self.bottom_bar(lang, view.listening))

    customer_bar = True
    prompt_on_picture = False  # camera steps show the challenge over the preview, which keeps its size

    def on_leave(self, *_args) -> None:
        """A screen not shown keeps nothing (``render`` builds it again): the labels' textures of a journey's
        screens held 31 MB (scripts/bench_ui.py), and a customer's name or amounts stay on no hidden screen."""
        self.root_box.clear_widgets()
        self._countdown = None

    def update_countdown(self) -> None:
        """Called every second by the app clock while the idle warning shows."""
        if self._countdown is None:
            return
        deadline, lang, warning, still = self._countdown
        seconds = max(0, math.ceil(deadline - time.monotonic()))
        warning.text = tr("idle.warning", lang, seconds=seconds)
        still.text = f"✔ {tr('idle.still_here', lang)} ({tr('idle.countdown', lang, seconds=seconds)})"

    def title(self, view: ViewState) -> str:
        return tr(f"screen.{self.state}", view.language)

    def content(self, view: ViewState, lang: str) -> None:
        self.root_box.add_widget(Widget())

    def bottom_bar(self, lang: str, listening: bool = False) -> BoxLayout:
        bar = BoxLayout(size_hint_y=None, height=MIN_TOUCH, spacing=dp(8))
        if self._countdown is not None:  # the idle warning: "I am still here" first, where the eye starts
            bar.add_widget(self._countdown[3])
        else:
            # The same button starts a question and, while listening, ends it (the endpointer usually does first).
            ask = "■ " + tr("listening_stop", lang) if listening else "? " + tr("ask", lang)
            bar.add_widget(big_button(ask, "ask", self.ask, (0.1, 0.5, 0.2, 1) if listening else ACCENT))
            bar.add_widget(big_button("↻ " + tr("say_again", lang), "say_again", self.repeat))
        bar.add_widget(big_button("☎ " + tr("help", lang), "help", lambda: self.post(ev.CallShopkeeper()), WARN))
        bar.add_widget(big_button("✖ " + tr("cancel", lang), "cancel", lambda: self.post(ev.Cancel()), (0.5, 0.1, 0.1, 1)))
        return bar


class AttractScreen(KioskScreen):
    state = "attract"
    customer_bar = False

    def content(self, view, lang):
        self.root_box.add_widget(label(tr("screen.attract_sub", "zh") + "\n" + tr("screen.attract_sub", "en"), 20))
        if view.ready:
            self.root_box.add_widget(big_button("开始  Start", "start", lambda: self.post(ev.StartPressed()), GOOD,
                                                height=dp(120)))
            return
        # Models are still loading (a few seconds after power-on), or failed to: no Start until the kiosk can serve.
        key = "screen.out_of_service" if view.not_ready else "screen.getting_ready"
        self.root_box.add_widget(Spinner(size_hint_y=None, height=dp(60)) if not view.not_ready else Widget(
            size_hint_y=None, height=dp(60)))
        self.root_box.add_widget(label(tr(key, "zh") + "\n" + tr(key, "en"), 22, color=WARN_TEXT,
                                       size_hint_y=None, height=dp(60)))

    def title(self, view):
        return tr("screen.attract", "zh") + " / " + tr("screen.attract", "en")


class LanguageScreen(KioskScreen):
    state = "language"

    def content(self, view, lang):
        row = BoxLayout(spacing=dp(16))
        row.add_widget(big_button("中文", "lang_zh", lambda: self.post(ev.LanguageChosen(language="zh")), height=dp(160)))
        row.add_widget(big_button("English", "lang_en", lambda: self.post(ev.LanguageChosen(language="en")),
                                  height=dp(160)))
        self.root_box.add_widget(row)


class ConsentScreen(KioskScreen):
    state = "consent"

    def title(self, view):
        return tr("consent.title", view.language)

    def content(self, view, lang):
        self.root_box.add_widget(label(tr("consent.body", lang), 20))
        row = BoxLayout(size_hint_y=None, height=MIN_TOUCH, spacing=dp(16))
        row.add_widget(big_button("✔ " + tr("consent.agree", lang), "agree",
                                  lambda: self.post(ev.ConsentGiven(agreed=True)), GOOD))
        row.add_widget(big_button("☎ " + tr("consent.manual", lang), "manual_check",
                                  lambda: self.post(ev.ManualCheckChosen()), WARN))
        row.add_widget(big_button("✖ " + tr("consent.decline", lang), "decline",
                                  lambda: self.post(ev.ConsentGiven(agreed=False)), (0.4, 0.4, 0.4, 1)))
        self.root_box.add_widget(row)


def hints(view: ViewState) -> str:
    reasons = view.params.get("reasons") or []
    return reasons_text(reasons, view.language)


def retry_text(view: ViewState) -> str:
    """Why the card or the face is asked for again, in words ("your face did not match the photo on your card"),
    and what to do (the stage's hints), never a bare "try again"."""
    return retry_words(view.message, view.params.get("reasons") or [], view.language)


class CameraScreen(KioskScreen):
    """Live preview with a guide (card outline or face oval) that turns green with a tick when the frame is right,
    the current problem in words, the challenge counter and its countdown, and which side of the card to show.
    Updated in place at the preview's rate from the guidance board: a capture never rebuilds the screen."""

    guide = "card"
    prompt_on_picture = True
    mirrored = False  # the customer-facing camera is shown as a mirror: turning left moves the picture left

    def __init__(self, post, ask, preview, guidance=None, **kw) -> None:
        super().__init__(post, ask, **kw)
        self.preview = preview
        self.guidance = guidance
        self._shown = -1
        self.frames_shown = 0  # new camera frames drawn (the preview's rate, for scripts/bench_ui.py)
        self.image = Widget()
        self._texture: Texture | None = None
        self._said: tuple = ()
        self._status = self._counter = None

    def content(self, view, lang):
        text = retry_text(view)
        if text:
            self.root_box.add_widget(label(text, 20, color=WARN_TEXT, size_hint_y=None, height=dp(40)))
        row = BoxLayout(size_hint_y=None, height=dp(40), spacing=dp(8))
        self._status = label(tr("capture.starting", lang), 20, size_hint_x=3)
        self._counter = label("", 20)
        row.add_widget(self._status)
        row.add_widget(self._counter)
        self.root_box.add_widget(row)
        self._lang, self._said = lang, ()
        self._shown, self._texture = -1, None  # a new step starts from its own first frame, never an old one
        self.image = Widget(pos_hint={"x": 0, "y": 0})
        self.image.bind(pos=self._draw, size=self._draw)
        area = FloatLayout()
        area.add_widget(self.image)
        if view.prompt:  # over the bottom of the picture, on a dark band (the picture keeps its size at 800x480)
            band = label(view.prompt, 26, color=PROMPT, size_hint=(1, None), height=dp(60), pos_hint={"x": 0, "y": 0})
            with band.canvas.before:
                Color(0, 0, 0, 0.65)
                shade = Rectangle(pos=band.pos, size=band.size)
            band.bind(pos=lambda w, _p: setattr(shade, "pos", w.pos), size=lambda w, _s: setattr(shade, "size", w.size))
            area.add_widget(band)
        self.root_box.add_widget(area)

    def on_leave(self, *args) -> None:
        # The last frame (a face, an ID card) is not kept in graphics memory: overwritten, then dropped.
        if self._texture is not None:
            w, h = self._texture.size
            self._texture.blit_buffer(bytes(w * h * 3), colorfmt="bgr", bufferfmt="ubyte")
        self.image.canvas.clear()
        self._texture, self._status, self._counter, self._shown = None, None, None, -1
        super().on_leave(*args)

    def refresh(self) -> None:
        """Called by the app clock: upload the newest frame, if any; update the guidance; redraw."""
        guidance = self.guidance.now() if self.guidance else None
        changed = self._update_words(guidance)
        latest = self.preview.latest() if self.preview else None
        if latest is not None and latest[0] != self._shown and (self._texture or latest[1].max() > 16):
            # (a camera's first frames are often black while it adjusts: the screen waits for a real one)
            index, image = latest
            h, w = image.shape[:2]
            if self._texture is None or self._texture.size != (w, h):
                self._texture = Texture.create(size=(w, h), colorfmt="bgr")
                self._texture.flip_vertical()
                if self.mirrored:
                    self._texture.flip_horizontal()
            self._texture.blit_buffer(image.reshape(-1), colorfmt="bgr", bufferfmt="ubyte")
            self._shown = index
            self.frames_shown += 1
            changed = True
        if changed:
            self._draw()

    def _update_words(self, g) -> bool:
        if g is None or self._status is None:
            return False
        seconds = max(0, math.ceil(g.deadline - time.monotonic())) if g.deadline else None
        said = (g.status, g.step, seconds, g.side, self._texture is not None)
        if said == self._said:
            return False
        self._said, lang = said, self._lang
        if self._texture is None:
            self._status.text = tr("capture.starting", lang)
        elif g.status == "ok":
            self._status.text = "✔ " + tr("capture.good", lang)
        elif g.status:
            self._status.text = "! " + tr(f"hint.{g.status}", lang)
        parts = [tr("capture.step", lang, n=g.step, of=g.of)] if g.step else []
        if seconds is not None:
            parts.append(tr("capture.seconds", lang, seconds=seconds))
        if self.guide == "card":
            parts.append(tr(f"capture.{g.side}", lang))
        self._counter.text = "  ".join(parts)
        return True

    def _draw(self, *_):
        widget = self.image
        widget.canvas.clear()
        g = self.guidance.now() if self.guidance else None
        good = g is not None and g.status == "ok"
        with widget.canvas:
            if self._texture is not None:
                w, h = self._texture.size
                scale = min(widget.width / w, widget.height / h)
                size = (w * scale, h * scale)
                pos = (widget.center_x - size[0] / 2, widget.center_y - size[1] / 2)
                Color(1, 1, 1, 1)
                Rectangle(texture=self._texture, pos=pos, size=size)
            Color(*(GOOD_GUIDE if good else WAIT_GUIDE if g is None or g.status is None else WARN))
            cx, cy = widget.center
            if self.guide == "card":
                gw, gh = widget.height * 0.8 * 1.586, widget.height * 0.8
                Line(rectangle=(cx - gw / 2, cy - gh / 2, gw, gh), width=dp(3))
            else:
                gw, gh = widget.height * 0.55, widget.height * 0.8
                Line(ellipse=(cx - gw / 2, cy - gh / 2, gw, gh), width=dp(3))
            if good:  # a tick at the guide's top right
                x, y, t = cx + gw / 2 - dp(36), cy + gh / 2 - dp(36), dp(12)
                Line(points=[x, y, x + t, y - t, x + 2.5 * t, y + t], width=dp(5))
            if self.guide == "card" and g is not None:
                self._draw_card_side(widget.x + dp(8), widget.top - dp(58), g.side)

    @staticmethod
    def _draw_card_side(x: float, y: float, side: str) -> None:
        """A small picture of the side to show: the photo side (portrait right, text lines left) or the back
        (the national emblem top left, two lines)."""
        w, h = dp(80), dp(50)
        Color(0.85, 0.9, 0.95, 1)
        Rectangle(pos=(x, y), size=(w, h))
        Color(0.3, 0.35, 0.45, 1)
        if side == "front":
            Rectangle(pos=(x + w * 0.66, y + h * 0.2), size=(w * 0.26, h * 0.6))
            for i in range(4):
                Rectangle(pos=(x + w * 0.08, y + h * (0.2 + 0.17 * i)), size=(w * 0.5, h * 0.07))
        else:
            Line(circle=(x + w * 0.2, y + h * 0.68, h * 0.18), width=dp(2))
            for i in range(2):
                Rectangle(pos=(x + w * 0.1, y + h * (0.12 + 0.16 * i)), size=(w * 0.8, h * 0.07))


class IdCaptureScreen(CameraScreen):
    state = "id_capture"
    guide = "card"


class LiveCaptureScreen(CameraScreen):
    state = "live_capture"
    guide = "face"
    mirrored = True


class Spinner(Widget):
    """A turning arc: a wait that visibly moves (a still picture reads as a frozen machine). It turns only while
    it is on the window."""

    STEP_DEG, PERIOD_S = 12, 1 / 20

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.angle = 0
        self._clock = Clock.schedule_interval(self._turn, self.PERIOD_S)
        self.bind(pos=self._draw, size=self._draw)

    def _turn(self, _dt) -> bool:
        if self.parent is None:
            return False  # removed with its screen's content: stop the clock
        if self.get_root_window() is not None:
            self.angle = (self.angle + self.STEP_DEG) % 360
            self._draw()
        return True

    def _draw(self, *_):
        self.canvas.clear()
        with self.canvas:
            Color(*ACCENT)
            r = min(self.width, self.height) * 0.3
            Line(circle=(self.center_x, self.center_y, r, self.angle, self.angle + 270), width=dp(6))


class WorkingScreen(KioskScreen):
    """Never a blank wait: what is happening, and a moving indicator."""

    def content(self, view, lang):
        self.root_box.add_widget(Spinner())
        text = tr(view.message, lang, **view.params) if view.message else ""
        text = text if text and text != view.message else tr("screen.working", lang)
        self.root_box.add_widget(label(text, 22, size_hint_y=None, height=dp(60)))


class MatchScreen(WorkingScreen):
    state = "match"


class ScoringScreen(WorkingScreen):
    state = "scoring"


class ConfirmIdentityScreen(KioskScreen):
    """The identity read from the card, for the customer to recognise: name and masked number, nothing to edit."""

    state = "confirm_identity"

    def content(self, view, lang):
        self.root_box.add_widget(label(tr("screen.confirm_identity_body", lang), 22, size_hint_y=None, height=dp(48)))
        who = f"{view.params.get('name', '')}\n{view.params.get('number', '')}"
        self.root_box.add_widget(label(who, 34, color=(1, 0.85, 0.2, 1)))
        row = BoxLayout(size_hint_y=None, height=MIN_TOUCH, spacing=dp(16))
        row.add_widget(big_button("✔ " + tr("screen.this_is_me", lang), "identity_yes",
                                  lambda: self.post(ev.IdentityConfirmed(agreed=True)), GOOD))
        row.add_widget(big_button("✖ " + tr("screen.not_me", lang), "identity_no",
                                  lambda: self.post(ev.IdentityConfirmed(agreed=False)), WARN))
        self.root_box.add_widget(row)


class DetailsScreen(KioskScreen):
    """Two amounts and a term, typed on a big on-screen keypad (no system keyboard on a kiosk). The identity is
    not asked for: it is the card's, read and confirmed before this screen. A key press changes only its field's
    text (rebuilding the screen per press lost taps), and tells the journey the customer is still there."""

    state = "details"
    fields = ("income", "amount")
    MAX_DIGITS = 7

    def __init__(self, post, ask, **kw) -> None:
        super().__init__(post, ask, **kw)
        self.values = {f: "" for f in self.fields}
        self.term = 12
        self.active = self.fields[0]
        self.lang = "zh"
        self._fields: dict[str, Button] = {}
        self._terms: dict[int, Button] = {}

    def reset(self) -> None:
        self.values = {f: "" for f in self.fields}
        self.term, self.active = 12, self.fields[0]

    def on_leave(self, *args) -> None:
        self._fields, self._terms = {}, {}
        super().on_leave(*args)

    def content(self, view, lang):
        self.lang = lang
        problem = view.message if (view.message or "").startswith("details.") else None
        if problem:
            self.root_box.add_widget(label(tr(problem, lang), 20, color=(1, 0.6, 0.4, 1), size_hint_y=None,
                                           height=dp(40)))
        body = BoxLayout(spacing=dp(8))
        left = BoxLayout(orientation="vertical", spacing=dp(6))
        self._fields = {f: big_button(self._field_text(f), f"field_{f}", lambda f=f: self._select(f)) for f in self.fields}
        for button in self._fields.values():
            left.add_widget(button)
        terms = BoxLayout(size_hint_y=None, height=MIN_TOUCH, spacing=dp(6))
        self._terms = {t: big_button(tr("screen.term_months", lang, term=t), f"term_{t}", lambda t=t: self._term(t))
                       for t in (3, 6, 12, 24)}
        for button in self._terms.values():
            terms.add_widget(button)
        left.add_widget(terms)
        left.add_widget(big_button(tr("next", lang) + " ▶", "submit_details", self._submit, GOOD))
        body.add_widget(left)
        pad = GridLayout(cols=3, spacing=dp(4), size_hint_x=0.45)
        for key in "1234567890" + BACKSPACE:
            pad.add_widget(big_button(key, f"key_{key}", lambda k=key: self._key(k), (0.2, 0.22, 0.28, 1)))
        body.add_widget(pad)
        self.root_box.add_widget(body)
        self._paint()

    def _field_text(self, field: str) -> str:
        return f"{tr('screen.' + field, self.lang)}: {self.values[field]}"

    def _paint(self) -> None:
        for f, button in self._fields.items():
            button.text = self._field_text(f)
            button.background_color = ACCENT if f == self.active else (0.25, 0.25, 0.3, 1)
        for t, button in self._terms.items():
            button.background_color = GOOD if t == self.term else (0.25, 0.25, 0.3, 1)

    def _touched(self) -> None:
        self.post(ev.Touched())  # typing is activity: the idle clock must not end the session meanwhile

    def _select(self, field):
        self.active = field
        self._paint()
        self._touched()

    def _term(self, term):
        self.term = term
        self._paint()
        self._touched()

    def _key(self, key):
        value = self.values[self.active]
        self.values[self.active] = value[:-1] if key == BACKSPACE else (value + key)[: self.MAX_DIGITS]
        self._paint()
        self._touched()

    def _submit(self):
        from kiosk.journey.session import ApplicantDetails

        v = self.values
        missing = next((f for f in self.fields if not v[f] or int(v[f]) == 0), None)
        if missing:  # said and shown at once, with which field it is; the field is selected for typing
            self.active = missing
            self.post(ev.DetailsInvalid(problem=f"{missing}_missing"))
            return
        details = ApplicantDetails(float(v["income"]), float(v["amount"]), self.term)
        self.reset()
        self.post(ev.DetailsSubmitted(details=details))


class OffersScreen(KioskScreen):
    state = "offers"

    def title(self, view):
        return tr("screen.offers" if view.offers else "screen.result", view.language)

    def content(self, view, lang):
        if view.limit:  # a declined customer is not shown "your limit: ¥0.00"
            self.root_box.add_widget(label(tr("screen.limit", lang, limit=money(view.limit, lang)), 24,
                                           size_hint_y=None, height=dp(40)))
        lower = view.limit is not None and view.requested is not None and view.limit < view.requested
        if view.reason_codes and (lower or not view.offers):
            why = "; ".join(tr(f"reason.{c}", lang) for c in view.reason_codes)
            self.root_box.add_widget(label(tr("screen.why_lower", lang, reasons=why), 16,
                                           size_hint_y=None, height=dp(56)))
        if not view.offers:  # declined: what it means, what they can do, and a way out that is not "Cancel"
            self.root_box.add_widget(label(tr("screen.no_offers", lang), 24, size_hint_y=None, height=dp(48)))
            self.root_box.add_widget(label(tr("screen.declined_next", lang), 18))
            self.root_box.add_widget(big_button("✔ " + tr("done", lang), "declined_done",
                                                lambda: self.post(ev.Finish()), GOOD))
            return
        cards = BoxLayout(spacing=dp(8))
        for i, o in enumerate(view.offers[:3]):
            card = BoxLayout(orientation="vertical", spacing=dp(2))
            card.add_widget(label(o.lender_name(lang), 16))
            card.add_widget(label(money(o.amount, lang) + "  ·  " + tr("screen.term_months", lang, term=o.term_months), 18))
            card.add_widget(label(tr("screen.monthly", lang, monthly=money(o.monthly_payment, lang)), 20))
            # The total and the APR as large as the monthly payment's neighbours: they are the honest costs.
            card.add_widget(label(tr("screen.total", lang, total=money(o.total_repayable, lang)), 19))
            card.add_widget(label(tr("screen.apr", lang, apr=percent(o.apr)), 19))
            card.add_widget(big_button(tr("screen.choose", lang), f"offer_{i}",
                                       lambda o=o: self.post(ev.OfferChosen(offer_id=o.offer_id)), GOOD))
            cards.add_widget(card)
        self.root_box.add_widget(cards)


class ReviewScreen(KioskScreen):
    """Every cost of the chosen loan, then a check (which amount is paid each month?), then "I agree to borrow",
    which only the right pick unlocks. Nothing is sent to the lender from here."""

    state = "review"

    def content(self, view, lang):
        offer = next((o for o in view.offers if o.offer_id == view.params.get("offer_id")), None)
        if offer is None:
            self.root_box.add_widget(Widget())
            return
        figures = review_values(offer, lang, say=False)
        facts = GridLayout(cols=2, spacing=dp(4))
        for key in ("review_lender", "review_amount", "review_monthly", "review_total", "review_apr", "review_late"):
            big = key in ("review_monthly", "review_total", "review_apr")  # what the customer pays: brightest
            facts.add_widget(label(tr(f"screen.{key}", lang, **figures), 20 if big else 17,
                                   color=(1, 0.85, 0.2, 1) if big else (1, 1, 1, 1)))
        self.root_box.add_widget(facts)
        message = tr(view.message, lang, **figures) if view.message else tr("screen.review_check", lang)
        self.root_box.add_widget(label(message, 18, size_hint_y=None, height=dp(34)))
        understood = bool(view.params.get("understood"))
        choices = BoxLayout(size_hint_y=None, height=MIN_TOUCH, spacing=dp(8))
        for i, amount in enumerate(view.params.get("choices", [])):
            right = understood and abs(amount - offer.monthly_payment) < 0.005
            choices.add_widget(big_button(money(amount, lang), f"pick_{i}",
                                          lambda a=amount: self.post(ev.PaymentPicked(monthly=a)),
                                          GOOD if right else (0.2, 0.22, 0.28, 1)))
        self.root_box.add_widget(choices)
        row = BoxLayout(size_hint_y=None, height=MIN_TOUCH, spacing=dp(8))
        row.add_widget(big_button("◀ " + tr("back", lang), "review_back", lambda: self.post(ev.Back()),
                                  (0.25, 0.25, 0.3, 1), size_hint_x=0.3))
        agree = tr("screen.review_agree", lang, name=view.params.get("name", ""), amount=figures["amount"])
        row.add_widget(big_button("✔ " + agree, "agree", lambda: self.post(ev.BorrowAgreed()),
                                  GOOD if understood else (0.2, 0.22, 0.28, 1), disabled=not understood))
        self.root_box.add_widget(row)


class ConfirmationScreen(KioskScreen):
    state = "confirmation"

    def content(self, view, lang):
        if view.reference is None:
            self.root_box.add_widget(label(tr("screen.working", lang), 24))
            return
        if view.message == "confirmation.already_sent":
            text = tr(view.message, lang, reference=view.reference)
        else:
            text = tr("screen.queued" if view.queued else "screen.sent", lang, reference=view.reference)
        self.root_box.add_widget(label(text, 24))
        self.root_box.add_widget(label(tr("screen.next_steps", lang), 18, color=(0.8, 0.9, 1, 1)))
        row = BoxLayout(size_hint_y=None, height=MIN_TOUCH, spacing=dp(8))
        if view.queued:  # the lender does not have it yet: it can still be taken back
            row.add_widget(big_button("↶ " + tr("screen.withdraw", lang), "withdraw", lambda: self.post(ev.Withdraw()),
                                      WARN))
        row.add_widget(big_button("✔ " + tr("done", lang), "finish", lambda: self.post(ev.Finish()), GOOD))
        self.root_box.add_widget(row)


class EndScreen(KioskScreen):
    state = "end"
    customer_bar = False

    def content(self, view, lang):
        ending = tr(view.message, lang) if view.message else None
        if ending and ending != view.message:  # how it ended, where that has words
            self.root_box.add_widget(label(ending, 26, color=(1, 0.85, 0.2, 1)))
        self.root_box.add_widget(label(tr("screen.end", lang), 28))
        self.root_box.add_widget(big_button(tr("back_to_start", lang), "restart", lambda: self.post(ev.Finish())))


class HandoffScreen(KioskScreen):
    state = "handoff"
    customer_bar = False

    def content(self, view, lang):
        why = tr(view.message, lang) if view.message else ""
        if why and why != view.message:  # every reason that has words says them; the rest: "ask the shopkeeper"
            self.root_box.add_widget(label(why, 24, size_hint_y=None, height=dp(72)))
        self.root_box.add_widget(label(tr("screen.handoff_code", lang, code=view.handoff_code or "------"), 40,
                                       color=(1, 0.85, 0.2, 1)))
        self.root_box.add_widget(big_button("✔ " + tr("done", lang), "handoff_done",
                                            lambda: self.post(ev.HandoffResolved()), WARN))


class ErrorScreen(KioskScreen):
    state = "error"

    def content(self, view, lang):
        code = view.error_code or ""
        key = f"error.{code}" if tr(f"error.{code}", lang) != f"error.{code}" else (
            "error.network" if code.startswith("scoring") else "error.default")
        self.root_box.add_widget(label(tr(key, lang), 24))
        self.root_box.add_widget(big_button("↻ " + tr("retry", lang), "retry", lambda: self.post(ev.Retry()), GOOD))


SCREENS = (AttractScreen, LanguageScreen, ConsentScreen, IdCaptureScreen, LiveCaptureScreen, MatchScreen,
           ConfirmIdentityScreen, DetailsScreen, ScoringScreen, OffersScreen, ReviewScreen, ConfirmationScreen, EndScreen,
           HandoffScreen, ErrorScreen)
