"""Simple pictures of each step, drawn with Kivy's canvas (no image files): for a customer who reads little, the
card, the face, the keypad, the money and the shopkeeper say what a step is about before any word does."""

from __future__ import annotations

from kivy.graphics import Color, Ellipse, Line, Rectangle
from kivy.metrics import dp
from kivy.uix.widget import Widget

INK = (0.85, 0.9, 0.95, 1)
DARK = (0.07, 0.09, 0.12, 1)
GOLD = (0.95, 0.75, 0.2, 1)


def _card(x: float, y: float, w: float, h: float) -> None:
    Color(*INK)
    Rectangle(pos=(x, y + h * 0.2), size=(w, h * 0.6))
    Color(*DARK)
    Rectangle(pos=(x + w * 0.64, y + h * 0.3), size=(w * 0.26, h * 0.4))  # the portrait
    for i in range(3):
        Rectangle(pos=(x + w * 0.08, y + h * (0.32 + 0.13 * i)), size=(w * 0.48, h * 0.05))


def _face(x: float, y: float, w: float, h: float) -> None:
    Color(*INK)
    Line(ellipse=(x + w * 0.2, y + h * 0.08, w * 0.6, h * 0.84), width=dp(2))
    for ex in (0.37, 0.63):
        Ellipse(pos=(x + w * ex - w * 0.05, y + h * 0.55), size=(w * 0.1, h * 0.1))
    Line(points=[x + w * 0.38, y + h * 0.3, x + w * 0.5, y + h * 0.25, x + w * 0.62, y + h * 0.3], width=dp(2))


def _keypad(x: float, y: float, w: float, h: float) -> None:
    Color(*INK)
    side = min(w, h) * 0.26
    left, bottom = x + (w - 3.4 * side) / 2, y + (h - 3.4 * side) / 2
    for row in range(3):
        for col in range(3):
            Rectangle(pos=(left + col * 1.2 * side, bottom + row * 1.2 * side), size=(side, side))


def _money(x: float, y: float, w: float, h: float) -> None:
    Color(*GOLD)
    r = min(w, h) * 0.42
    cx, cy = x + w / 2, y + h / 2
    Ellipse(pos=(cx - r, cy - r), size=(2 * r, 2 * r))
    Color(*DARK)  # a yuan sign: the two arms, the stem, the two bars
    Line(points=[cx - r * 0.45, cy + r * 0.55, cx, cy, cx + r * 0.45, cy + r * 0.55], width=dp(2))
    Line(points=[cx, cy, cx, cy - r * 0.6], width=dp(2))
    for dy in (0.0, -0.28):
        Line(points=[cx - r * 0.35, cy + r * dy, cx + r * 0.35, cy + r * dy], width=dp(1.5))


def _shopkeeper(x: float, y: float, w: float, h: float) -> None:
    Color(*INK)
    r = min(w, h) * 0.18
    cx = x + w / 2
    Ellipse(pos=(cx - r, y + h * 0.62 - r), size=(2 * r, 2 * r))  # the head
    Line(ellipse=(cx - w * 0.32, y - h * 0.25, w * 0.64, h * 0.7, -90, 90), width=dp(3))  # the shoulders


DRAW = {"card": _card, "face": _face, "keypad": _keypad, "money": _money, "shopkeeper": _shopkeeper}

# The picture for each step (states not listed keep their glyph).
STEP_PICTURES = {"id_capture": "card", "confirm_identity": "card", "live_capture": "face", "match": "face",
                 "details": "keypad", "scoring": "money", "offers": "money", "review": "money",
                 "handoff": "shopkeeper"}


class Picture(Widget):
    def __init__(self, kind: str, **kw) -> None:
        super().__init__(**kw)
        self.kind = kind
        self.bind(pos=self._draw, size=self._draw)

    def _draw(self, *_) -> None:
        self.canvas.clear()
        pad = dp(6)
        with self.canvas:
            DRAW[self.kind](self.x + pad, self.y + pad, self.width - 2 * pad, self.height - 2 * pad)
