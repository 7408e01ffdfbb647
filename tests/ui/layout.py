"""Layout checks on the live widget tree: nothing off the window, no two widgets on top of each other, no text
cut off. What a customer at an 800x480 screen would see as a broken screen, found without looking."""

from __future__ import annotations

from dataclasses import dataclass

from kivy.core.window import Window
from kivy.uix.label import Label

TOLERANCE_PX = 1.0


@dataclass(frozen=True)
class Problem:
    kind: str  # "off_screen" | "overlap" | "text_cut" | "font_size"
    what: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.what}"


def _name(widget) -> str:
    text = getattr(widget, "text", "")
    return f"{type(widget).__name__}({getattr(widget, 'kiosk_id', '') or text[:24]!r})"


def _box(widget) -> tuple[float, float, float, float]:
    x, y = widget.to_window(widget.x, widget.y)
    return x, y, x + widget.width, y + widget.height


def visible_leaves(root=None) -> list:
    """The widgets that show something (labels, buttons), on screen now."""
    out, stack = [], [root or Window]
    while stack:
        widget = stack.pop()
        children = list(widget.children)
        if isinstance(widget, Label) and widget.get_root_window() is not None and widget.opacity > 0:
            out.append(widget)
        stack.extend(children)
    return out


def problems() -> list[Problem]:
    found = []
    leaves = [w for w in visible_leaves() if w.text.strip()]
    for w in leaves:
        w.texture_update()
        x0, y0, x1, y1 = _box(w)
        if x0 < -TOLERANCE_PX or y0 < -TOLERANCE_PX or x1 > Window.width + TOLERANCE_PX or \
                y1 > Window.height + TOLERANCE_PX:
            found.append(Problem("off_screen", f"{_name(w)} at {x0:.0f},{y0:.0f}-{x1:.0f},{y1:.0f}"))
        if w.font_size != round(w.font_size):  # the renderer opens and keeps a font per distinct size
            found.append(Problem("font_size", f"{_name(w)} at {w.font_size} px (not whole pixels)"))
        tw, th = w.texture_size
        if tw > w.width + TOLERANCE_PX or th > w.height + TOLERANCE_PX:
            found.append(Problem("text_cut", f"{_name(w)} needs {tw:.0f}x{th:.0f}, has {w.width:.0f}x{w.height:.0f}"))
    for i, a in enumerate(leaves):
        ax0, ay0, ax1, ay1 = _box(a)
        for b in leaves[i + 1:]:
            bx0, by0, bx1, by1 = _box(b)
            overlap_w, overlap_h = min(ax1, bx1) - max(ax0, bx0), min(ay1, by1) - max(ay0, by0)
            if overlap_w > TOLERANCE_PX and overlap_h > TOLERANCE_PX:
                found.append(Problem("overlap", f"{_name(a)} and {_name(b)} by {overlap_w:.0f}x{overlap_h:.0f}"))
    return found
