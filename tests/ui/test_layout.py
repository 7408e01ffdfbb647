"""Every screen, in both languages, at the kiosk's screen sizes (800x480, 1024x600), plain and with what can
crowd it (a voice answer, a capture prompt while listening, its longest message): nothing off screen, nothing on
top of something else, no text cut off. And each screen still looks as it was meant to (golden thumbnails,
compared with a tolerance: a screen that changes without intent fails here; regenerate on purpose with
UPDATE_GOLDEN_SCREENS=1)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kiosk.i18n import tr
from kiosk.journey.session import OfferSummary
from tests.ui import harness as h  # sets the headless Kivy environment before kivy is imported
from tests.ui.layout import problems
from ui.app import register_cjk_font
from ui.screens import SCREENS, CameraScreen
from ui.view import ViewState

SIZES = [(800, 480), (1024, 600)]
GOLDEN = Path(__file__).with_name("golden")
THUMB = (200, 120)
# Mean absolute difference of the grey thumbnails, 0..255: font antialiasing differs by a little between
# machines, a moved or missing widget by much more.
GOLDEN_TOLERANCE = 6.0

OFFERS = (
    OfferSummary("rural-bank-flex:12", 5000, 12, 0.108, 441.44, 5297.28, "County Rural Commercial Bank", 50,
                 "县农村商业银行", 0.0005),
    OfferSummary("coop-seasonal:12", 5000, 12, 0.152, 451.30, 5415.60, "Village Credit Cooperative", 50,
                 "村信用合作社", 0.0005),
    OfferSummary("microfinance-starter:6", 2000, 6, 0.2516, 351.20, 2107.20, "Inclusive Microfinance Co.", 40,
                 "普惠小额贷款公司", 0.0006),
)
ANSWER = {"zh": "注意：这是诈骗。正规贷款机构绝不会在放款前要求您交任何手续费、保证金或保险费。不要付钱，请告诉店主。",
          "en": "Warning: that is a scam. A real lender never asks for a fee, deposit or insurance before paying out a "
                "loan. Do not pay anything; tell the shopkeeper."}
# The longest message each screen can show besides its own text.
MESSAGES = {"details": "details.amount_missing", "review": "review.check_wrong", "scoring": "scoring.retrying",
            "live_capture": "face.face_mismatch", "id_capture": "id.retry", "confirmation": "confirmation.already_sent",
            "end": "end.consent_declined", "handoff": "handoff.withdraw_failed", "error": "error.camera_missing"}
VARIANTS = ("plain", "answer", "prompt", "message")


def view_for(state: str, lang: str, variant: str) -> ViewState:
    return ViewState(
        state=state, language=lang, limit=5000.0, offers=OFFERS, reference="01-0005P", handoff_code="123456",
        error_code="camera_missing", message=MESSAGES.get(state) if variant == "message" else None,
        params={"offer_id": OFFERS[0].offer_id, "name": "欧阳建国", "choices": [416.67, 441.44, 5297.28],
                "understood": False, "reasons": ["tilt_card", "too_dark"], "attempt": 2, "of": 3},
        answer=ANSWER[lang] if variant == "answer" else None,
        # Capture prompts come only from the camera steps; listening can happen anywhere.
        prompt=("请慢慢向左转头" if lang == "zh" else "Slowly turn your head to the left")
        if variant == "prompt" and state in ("id_capture", "live_capture") else None,
        listening=variant == "prompt", queued=True,
        idle_deadline=time.monotonic() + 25 if variant == "message" else None)  # with the idle warning's band


@pytest.fixture(scope="module")
def manager():
    from kivy.base import EventLoop
    from kivy.uix.screenmanager import NoTransition, ScreenManager

    EventLoop.ensure_window()
    register_cjk_font()
    for child in list(h.Window.children):
        h.Window.remove_widget(child)
    mgr = ScreenManager(transition=NoTransition())
    for cls in SCREENS:
        extra = {"preview": None} if issubclass(cls, CameraScreen) else {}
        mgr.add_widget(cls(lambda _e: None, lambda: None, **extra))
    h.Window.add_widget(mgr)
    yield mgr
    h.Window.remove_widget(mgr)
    h.Window.size = SIZES[0]  # the other UI tests run at the smallest size


def show(manager, state: str, lang: str, variant: str, size: tuple[int, int]) -> None:
    h.Window.size = size
    h.pump(2)
    manager.get_screen(state).render(view_for(state, lang, variant))
    manager.current = state
    h.pump(3)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_screen_fits_without_overlap_or_cut_text(manager, size, lang):
    found = []
    for cls in SCREENS:
        for variant in VARIANTS:
            show(manager, cls.state, lang, variant, size)
            found += [f"{cls.state}/{variant}: {p}" for p in problems()]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_declined_customer_sees_a_next_step_and_no_zero_limit(manager, lang):
    """Issue 16 item 9: "Estimated limit ¥0.00" and no next step."""
    from tests.ui.test_kiosk_app import text_on_screen

    found = []
    for size in SIZES:
        h.Window.size = size
        h.pump(2)
        manager.get_screen("offers").render(ViewState(state="offers", language=lang, limit=0.0, decision="declined"))
        manager.current = "offers"
        h.pump(3)
        found += [f"{size}: {p}" for p in problems()]
        shown = text_on_screen()
        assert "0.00" not in shown and tr("screen.declined_next", lang) in shown
        h.find("declined_done")
        if size == SIZES[0]:
            h.screenshot(f"{lang}_06_declined")
    assert not found, "\n".join(found)


def test_the_checker_finds_a_broken_screen(manager):
    """The checks can fail: a label too small for its text, and a button pushed off the window."""
    from kivy.uix.button import Button
    from kivy.uix.label import Label

    show(manager, "end", "en", "plain", SIZES[0])
    screen = manager.get_screen("end")
    cramped = Label(text="a sentence far too long for the little box it was given", size_hint=(None, None),
                    size=(60, 20), pos=(10, 10))
    off = Button(text="off", size_hint=(None, None), size=(80, 64), pos=(h.Window.width - 20, 100))
    for w in (cramped, off):
        screen.add_widget(w)
    h.pump(2)
    kinds = {p.kind for p in problems()}
    for w in (cramped, off):
        screen.remove_widget(w)
    assert {"text_cut", "off_screen"} <= kinds


def _thumbnail(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("L").resize(THUMB, Image.Resampling.BILINEAR), dtype=np.float32)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_screen_looks_as_it_was_meant_to(manager, tmp_path, lang):
    update = os.environ.get("UPDATE_GOLDEN_SCREENS") == "1"
    changed = []
    for cls in SCREENS:
        if issubclass(cls, CameraScreen):
            continue  # a live picture: covered by the layout checks, not by pixels
        show(manager, cls.state, lang, "plain", SIZES[0])
        shot = Path(h.Window.screenshot(name=str(tmp_path / f"{lang}_{cls.state}.png")))
        golden = GOLDEN / f"{lang}_{cls.state}.png"
        if update:
            GOLDEN.mkdir(exist_ok=True)
            Image.fromarray(_thumbnail(shot).astype(np.uint8)).save(golden)
            continue
        assert golden.is_file(), f"no golden picture for {golden.name}: UPDATE_GOLDEN_SCREENS=1 makes it"
        diff = float(np.abs(_thumbnail(shot) - _thumbnail(golden)).mean())
        if diff > GOLDEN_TOLERANCE:
            changed.append(f"{cls.state}: {diff:.1f}")
    assert not changed, f"screens changed ({lang}): {', '.join(changed)}"
