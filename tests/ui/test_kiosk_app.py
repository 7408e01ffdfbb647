"""The real Kivy app, headless (SDL offscreen): the whole journey by touch, in both languages, with
screenshots of every screen saved under test-artifacts/screens/."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time

import pytest

from edge_models.verify import ModelError
from hardware.camera import ReplayCamera
from kiosk.admin_pin import PinStore
from kiosk.config import load_config
from kiosk.i18n import keys, money, tr
from kiosk.journey import events as ev
from kiosk.journey.machine import Journey
from kiosk.journey.session import OfferSummary
from kiosk.journey.states import State
from kiosk.stages import Stages
from kiosk_app.demo import demo_world
from tests.ui import harness as h  # sets the headless Kivy environment before kivy is imported
from ui.app import KioskApp
from ui.screens import BACKSPACE, SCREENS
from ui.view import ViewState


@pytest.fixture
def world(tmp_path, installed_models):
    config = load_config().model_copy(update={"data_dir": tmp_path, "extra_models_dir": installed_models})
    with demo_world(config) as w:
        yield w


def make_app(world, tmp_path) -> KioskApp:
    pins = PinStore(tmp_path / "pin.json")
    pins.set_pin("246810")
    app = KioskApp(world.runner, pins, "zh", selftest=list)
    h.start(app)
    app.shown = [app.manager.current]
    app.manager.bind(current=lambda _m, name: app.shown.append(name))
    return app


def begin(app, lang: str) -> None:
    """Start, choose the language, agree: the ID card, the challenges and the match run on the way."""
    h.tap(app, "start")
    h.tap(app, f"lang_{lang}")
    h.tap(app, "agree")


def text_on_screen() -> str:
    from kivy.core.window import Window

    out, stack = [], list(Window.children)
    while stack:
        w = stack.pop()
        if hasattr(w, "text") and w.get_root_window() is not None:
            out.append(w.text)
        stack.extend(w.children)
    return "\n".join(out)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_whole_journey_by_touch(world, tmp_path, lang):
    app = make_app(world, tmp_path)
    try:
        assert app.manager.current == "attract"
        h.screenshot(f"{lang}_01_attract")
        h.tap(app, "start")
        assert app.manager.current == "language"
        h.tap(app, f"lang_{lang}")
        assert app.manager.current == "consent" and tr("consent.agree", lang) in text_on_screen()
        h.screenshot(f"{lang}_02_consent")
        h.tap(app, "agree")  # ID card, challenges (the actor follows the prompts) and the match run now
        assert app.manager.current == "confirm_identity", app.shown
        assert {"id_capture", "live_capture", "match"} <= set(app.shown)
        # The identity read from the card, masked: nothing here (or later) lets the customer type a number.
        masked = world.applicant[:6] + "*" * 8 + world.applicant[-4:]
        assert masked in text_on_screen() and world.applicant not in text_on_screen()
        h.screenshot(f"{lang}_03_confirm_identity")
        h.tap(app, "identity_yes")
        assert app.manager.current == "details"
        h.screenshot(f"{lang}_03_details")
        with pytest.raises(LookupError):
            h.find("field_id_number")
        h.tap(app, "field_income")
        h.type_digits(app, "6000")
        h.tap(app, "field_amount")
        h.type_digits(app, "5000")
        h.tap(app, "term_12")
        h.screenshot(f"{lang}_04_details_filled")
        h.tap(app, "ask")  # press-to-talk: the demo microphone asks in the session language
        assert app.view.answer and app.manager.current == "details"
        h.screenshot(f"{lang}_05_answer")
        h.tap(app, "submit_details")
        assert app.manager.current == "offers" and "scoring" in app.shown
        assert tr("screen.choose", lang) in text_on_screen() and "%" in text_on_screen()
        h.screenshot(f"{lang}_06_offers")
        h.tap(app, "offer_0")  # choosing is not applying: the review, with every cost
        assert app.manager.current == "review" and app.view.reference is None
        offer = world.journey.data.chosen_offer
        assert money(offer.monthly_payment, lang) in text_on_screen() and offer.lender_name(lang) in text_on_screen()
        assert h.find("agree").disabled  # "I agree to borrow" waits for the check
        h.screenshot(f"{lang}_07_review")
        choices = app.view.params["choices"]
        wrong = next(i for i, c in enumerate(choices) if abs(c - offer.monthly_payment) > 0.005)
        h.tap(app, f"pick_{wrong}")
        assert app.view.message == "review.check_wrong" and h.find("agree").disabled
        h.tap(app, f"pick_{choices.index(offer.monthly_payment)}")
        assert app.view.message == "review.understood" and not h.find("agree").disabled
        h.screenshot(f"{lang}_07_review_understood")
        h.tap(app, "agree")
        assert app.manager.current == "confirmation" and app.view.reference
        h.screenshot(f"{lang}_08_confirmation")
        h.tap(app, "finish")
        assert app.manager.current == "end" and world.journey.data.biometrics.is_empty
        h.screenshot(f"{lang}_09_end")
        # Screens not shown hold nothing: no name or amount on a hidden screen, no camera frame in graphics memory.
        hidden = [s for s in app.manager.screens if s is not app.manager.current_screen]
        assert not [s.name for s in hidden if s.root_box.children]
        assert not [s.name for s in hidden if getattr(s, "_texture", None) is not None]
    finally:
        app.on_stop()


def test_idle_timeout_wipes_and_returns_to_attract(world, tmp_path):
    world.runner.journey.limits = world.runner.journey.limits.__class__(
        **{**world.runner.journey.limits.__dict__, "timeouts_s": {**world.runner.journey.limits.timeouts_s,
                                                                  **{k: 1.0 for k in world.runner.journey.limits.timeouts_s}}})
    app = make_app(world, tmp_path)
    try:
        h.tap(app, "start")
        h.tap(app, "lang_en")
        assert "consent" in app.shown  # (with 1 s timeouts it may already have ended)
        deadline = time.monotonic() + 15
        while app.manager.current != "attract" and time.monotonic() < deadline:
            h.pump(5)
            time.sleep(0.05)
        assert "end" in app.shown and app.manager.current == "attract"
        assert world.journey.ended_sessions[-1]["end_reason"] == "idle_timeout"
    finally:
        app.on_stop()


def test_idle_warning_counts_down_and_a_touch_keeps_the_session(world, tmp_path):
    """Issue 16 item 5: the session ended with no "are you still there?"."""
    limits = world.runner.journey.limits
    world.runner.journey.limits = dataclasses.replace(limits, timeouts_s={**limits.timeouts_s, State.CONSENT: 8.0})
    app = make_app(world, tmp_path)
    try:
        h.tap(app, "start")
        h.tap(app, "lang_en")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            h.pump(5)
            try:
                still = h.find("still_here")
                break
            except LookupError:
                time.sleep(0.05)
        first = still.text
        assert app.manager.current == "consent" and tr("idle.still_here", "en") in first
        assert tr("idle.warning", "en", seconds=4).split("{")[0][:20] in text_on_screen()
        time.sleep(1.2)
        h.pump(10)
        assert still.text != first  # the countdown moves
        h.screenshot("en_idle_warning")
        h.tap(app, "still_here")
        assert app.manager.current == "consent" and world.journey.warning_until is None
        with pytest.raises(LookupError):
            h.find("still_here")
        h.find("ask")  # the bar is back
    finally:
        app.on_stop()


def test_camera_steps_guide_count_down_and_preview_at_the_cameras_rate(world, tmp_path):
    """Issue 16 item 8: no green guide, no counter or countdown, preview at the pipeline's 5-9 frames/s."""
    actor = world.runner.prompt_listeners.pop(0)  # the actor shows its card, then ignores the challenges
    world.runner.prompt_listeners.insert(0, lambda c, t: actor(c, t) if c == "show_back" else None)
    app = make_app(world, tmp_path)
    try:
        h.tap(app, "start")
        h.tap(app, "lang_en")
        h.tap(app, "agree", wait=False)
        seen_card, deadline = set(), time.monotonic() + 60
        while app.manager.current != "live_capture" and time.monotonic() < deadline:
            h.pump(1)
            if app.manager.current == "id_capture":
                seen_card.add(app.manager.current_screen._counter.text)
        assert {tr("capture.front", "en"), tr("capture.back", "en")} <= seen_card  # the side to show, as it changes
        screen = app.manager.current_screen
        time.sleep(0.3)
        h.pump(5)
        analysed: list[str] = []  # the frames the face pipeline judged in the same window
        world.runner.status_listeners.append(analysed.append)
        shown0, t0, counters, statuses = screen.frames_shown, time.monotonic(), set(), set()
        while time.monotonic() - t0 < 3.0:
            h.pump(1)
            counters.add(screen._counter.text)
            statuses.add(screen._status.text)
        elapsed = time.monotonic() - t0
        rate, pipeline = (screen.frames_shown - shown0) / elapsed, len(analysed) / elapsed
        # The preview runs at the camera's rate, not the pipeline's (it was tied to it: 5-9 frames/s; the pipeline
        # judges 11 frames/s now, the preview shows 24). The 20 frames/s target is measured by scripts/bench_ui.py:
        # asserted here, it failed once on a busy CI machine (19.6).
        assert rate >= 15 and rate >= 1.5 * pipeline, f"preview {rate:.1f} new frames/s, pipeline {pipeline:.1f}/s"
        step = tr("capture.step", "en", n=1, of=2)
        assert any(c.startswith(step) for c in counters) and len(counters) >= 3  # "Step 1 of 2  5 s left", 4 s...
        assert "✔ " + tr("capture.good", "en") in statuses  # the actor faces the camera: the guide is green
        assert screen._texture is not None and screen.mirrored
        h.screenshot("en_04_live_capture_guided")
        h.tap(app, "cancel")
        assert app.manager.current in ("end", "attract")
    finally:
        app.on_stop()


def test_the_attract_screen_shows_at_once_and_start_waits_for_the_models(world, tmp_path):
    """Issue 16 item 10: a blank window while the models loaded. Now the attract screen first, "getting ready"
    and no Start until the stages are in; a failure says out of service."""
    import threading

    stages, release = world.runner.stages, threading.Event()
    world.runner.stages = Stages()

    def slow_build():
        release.wait(20)
        return stages

    app = KioskApp(world.runner, PinStore(tmp_path / "pin.json"), "zh", selftest=list, prepare=slow_build)
    h.start(app)
    try:
        h.pump(5)
        assert app.manager.current == "attract" and tr("screen.getting_ready", "en") in text_on_screen()
        with pytest.raises(LookupError):
            h.find("start")
        app.controller.post(ev.StartPressed()).result(timeout=5)  # a key press meanwhile does nothing
        h.settle(app)
        assert app.manager.current == "attract"
        release.set()
        deadline = time.monotonic() + 10
        while not app.controller.ready and time.monotonic() < deadline:
            h.pump(2)
        h.settle(app)
        assert world.runner.stages is stages and tr("screen.getting_ready", "en") not in text_on_screen()
        h.tap(app, "start")
        assert app.manager.current == "language"
    finally:
        app.on_stop()

    def broken():
        raise ModelError("model face_detector: file missing")

    world.runner.stages = Stages()
    world.runner.journey = Journey(world.runner.journey.limits, now=time.monotonic())  # the next power-on
    app = KioskApp(world.runner, PinStore(tmp_path / "pin.json"), "zh", selftest=list, prepare=broken)
    h.start(app)
    try:
        deadline = time.monotonic() + 10
        while app.controller.not_ready is None and time.monotonic() < deadline:
            h.pump(2)
        h.pump(5)
        assert tr("screen.out_of_service", "zh") in text_on_screen() and "face_detector" in app.controller.not_ready
        with pytest.raises(LookupError):
            h.find("start")
    finally:
        app.on_stop()
        world.runner.stages = stages


def test_camera_unplugged_shows_the_camera_error(world, tmp_path, faces_dir):
    world.runner.devices.camera = ReplayCamera(faces_dir / "Abel_Pacheco", disconnect_after=0)
    app = make_app(world, tmp_path)
    try:
        begin(app, "en")
        assert app.manager.current == "error" and app.view.error_code == "camera_disconnected"
        assert tr("error.camera_disconnected", "en") in text_on_screen()
        h.screenshot("en_error_camera")
        h.tap(app, "retry")
        assert app.manager.current == "error"  # still unplugged: the same clear screen, no crash
    finally:
        app.on_stop()


def test_network_down_goes_to_the_shopkeeper_with_a_code(world, tmp_path):
    app = make_app(world, tmp_path)
    try:
        begin(app, "zh")
        h.tap(app, "identity_yes")
        assert app.manager.current == "details"
        world.service.stop()
        for field, digits in (("income", "6000"), ("amount", "5000")):
            h.tap(app, f"field_{field}")
            h.type_digits(app, digits)
        h.tap(app, "submit_details")
        h.settle(app, 120)
        assert app.manager.current == "handoff" and app.view.handoff_code
        assert world.journey.data.handoff.reason == "scoring_network_down"
        assert app.view.handoff_code in text_on_screen()
        h.screenshot("zh_handoff_network")
    finally:
        app.on_stop()


def test_staff_pin_with_lockout(world, tmp_path):
    from kivy.core.window import Window

    app = make_app(world, tmp_path)
    try:
        for _ in range(5):
            h.tap_at(10, Window.height - 10)
        for _ in range(5):  # five wrong PINs lock the pad
            for k in "111111":
                h.tap(app, f"pin_{k}", wait=False)
            h.tap(app, "pin_✔", wait=False)
        from kiosk.admin_pin import LOCKOUT_S

        # The lockout said as long as it is (5 minutes was shown as 6).
        assert tr("admin.locked", "zh", minutes=LOCKOUT_S // 60) in text_on_screen()
        for k in "246810":  # even the right PIN is refused while locked
            h.tap(app, f"pin_{k}", wait=False)
        h.tap(app, "pin_✔", wait=False)
        assert not app.admin_open
    finally:
        app.on_stop()


def test_with_no_pin_set_the_pad_says_so(world, tmp_path):
    from kivy.core.window import Window

    app = KioskApp(world.runner, PinStore(tmp_path / "no-pin.json"), "zh", selftest=list)
    h.start(app)
    try:
        for _ in range(5):
            h.tap_at(10, Window.height - 10)
        h.tap(app, "pin_1", wait=False)
        assert tr("admin.no_pin", "zh") in text_on_screen()
        assert tr("admin.wrong_pin", "zh", left=0) not in text_on_screen()
    finally:
        app.on_stop()


def test_every_screen_renders_in_both_languages(world, tmp_path):
    app = make_app(world, tmp_path)
    offer = OfferSummary("rural-bank-flex:12", 5000, 12, 0.108, 441.44, 5297.28, "County Rural Commercial Bank", 0,
                         "县农村商业银行", 0.0005)
    try:
        for lang in ("zh", "en"):
            for cls in SCREENS:
                view = ViewState(state=cls.state, language=lang, limit=5000.0, offers=(offer,), reference="b0e3",
                                 handoff_code="123456", error_code="camera_missing", message="id.retry",
                                 params={"reasons": ["tilt_card", "too_dark"], "offer_id": offer.offer_id,
                                         "name": "张伟", "choices": [416.67, 441.44, 5297.28]}, prompt=None)
                app.show(view)
                h.pump(3)
                assert app.manager.current == cls.state
                h.screenshot(f"gallery_{lang}_{cls.state}")
    finally:
        app.on_stop()


def test_not_me_goes_to_the_shopkeeper_and_says_why(world, tmp_path):
    app = make_app(world, tmp_path)
    try:
        begin(app, "en")
        h.tap(app, "identity_no")
        assert app.manager.current == "handoff" and world.journey.data.handoff.reason == "identity_not_confirmed"
        assert tr("handoff.identity_not_confirmed", "en") in text_on_screen()
        h.screenshot("en_handoff_not_me")
    finally:
        app.on_stop()


def test_translations_cover_the_same_keys():
    assert keys("zh") == keys("en")


def test_escape_on_a_usb_keyboard_does_not_quit_the_kiosk(world, tmp_path):
    """Issue 13 finding 8: Kivy's default quits the app on Escape."""
    from kivy.base import EventLoop
    from kivy.core.window import Window

    app = make_app(world, tmp_path)
    try:
        assert Window.dispatch("on_keyboard", 27, 0, 27, None, []) is True  # handled: Kivy's quit never runs
        h.pump(3)
        assert EventLoop.status not in ("stopped", "closed") and app.manager.current == "attract"
    finally:
        app.on_stop()


def test_a_hundred_fast_taps_under_cpu_load_all_land_and_count_as_activity(world, tmp_path):
    app = make_app(world, tmp_path)
    load = []
    try:
        begin(app, "en")
        h.tap(app, "identity_yes")
        assert app.manager.current == "details"
        h.tap(app, "submit_details")  # nothing typed yet: told at once what to type, and nothing is lost
        assert app.view.message == "details.income_missing" and app.manager.current == "details"
        assert tr("details.income_missing", "en") in text_on_screen()
        key_widget = h.find("key_1")
        started = world.journey.last_activity
        # One of the two cores kept busy by another program (its own process: a fork of a GL app misbehaves).
        load.append(subprocess.Popen([sys.executable, "-c", "while True: pass"]))
        h.tap(app, "field_amount", wait=False)
        expected = ""
        for i in range(100):  # type up to the field's 7 digits, erase them, again: every tap changes the text
            key = BACKSPACE if (i // 7) % 2 else str(i % 10)
            expected = expected[:-1] if key == BACKSPACE else (expected + key)[:7]
            h.tap(app, f"key_{key}", wait=False)
        h.settle(app)
        screen = app.manager.get_screen("details")
        assert screen.values["amount"] == expected and screen.values["income"] == ""
        assert h.find("key_1") is key_widget  # the keypad was never rebuilt
        assert world.journey.last_activity > started  # typing kept the session alive
    finally:
        for p in load:
            p.kill()
            p.wait()
        app.on_stop()
