"""One ID-capture attempt: the card's front (fields + portrait), its back (validity), and the chip if there is a
reader; then every check. The identity the kiosk goes on to verify and score is decided here, once.

Without a chip reader the front and the back are both needed: the number and the printed birth date and sex
are on the front, the validity period is on the back. With a chip reader, its fields win (they are what the
issuing authority wrote), the printed number must agree with the chip's, and the back is not needed.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from contract.id_number import PrintedFields, check_document
from hardware.id_card import DocumentRead, DocumentReader, IdCardFields
from vision.id_card import CardReader, CardSide
from vision.id_portrait import IdPortrait

# Prompt names (texts in the kiosk's catalogues, kiosk/i18n/*.toml [prompt.card]).
PROMPT_SHOW_BACK = "show_back"
# The reasons a whole capture attempt can end with, besides the portrait's (vision.id_portrait.REASONS) and the
# document checks' (contract.id_number).
REASONS = ("number_unreadable", "fields_unreadable", PROMPT_SHOW_BACK, "chip_print_mismatch")


@dataclass(eq=False)
class IdCaptureOutcome:
    ok: bool
    reasons: tuple[str, ...]  # reason codes when not ok, most useful first
    fields: IdCardFields | None = None
    source: str = "ocr"
    checks: tuple[str, ...] = ()
    portrait: IdPortrait | None = None  # the printed portrait (biometric data)
    chip: DocumentRead | None = None
    seconds: float = 0.0


FRONT_FIELDS = ("name", "sex", "ethnicity", "birth_date", "address")


def fill_in(first: IdCardFields, later: IdCardFields) -> IdCardFields:
    """``first`` with the front fields it lacks taken from a later frame of the same card (same number): glare
    that hides the birth date in one frame rarely hides it in the next."""
    if later.id_number != first.id_number:
        return first
    return replace(first, **{f: getattr(later, f) for f in FRONT_FIELDS if getattr(first, f) is None})


def front_complete(fields: IdCardFields) -> bool:
    """The front fields the checks need: the number, and the printed birth date and sex it must agree with."""
    return fields.id_number is not None and fields.birth_date is not None and fields.sex is not None


def merge_sides(front: IdCardFields, back: IdCardFields | None) -> IdCardFields:
    if back is None:
        return front
    return replace(front, authority=back.authority, valid_from=back.valid_from, valid_until=back.valid_until,
                   permanent=back.permanent)


def _printed(fields: IdCardFields) -> PrintedFields:
    return PrintedFields(fields.birth_date, fields.sex, fields.valid_until, fields.permanent)


class IdCardCapture:
    def __init__(self, reader: CardReader, chip: DocumentReader | None = None, max_frames: int = 40,
                 today: Callable[[], date] = date.today) -> None:
        self.reader = reader
        self.chip = chip
        self.max_frames = max_frames
        self.today = today

    def run(self, frames: Iterable[np.ndarray], on_prompt: Callable[[str], None],
            on_status: Callable[[str], None] | None = None) -> IdCaptureOutcome:
        """``on_status`` hears each frame's verdict as it is made ("ok" or the frame's problem, a hint code)."""
        t0 = time.perf_counter()
        chip = self._read_chip()
        front, back, seen = self._read_card(frames, on_prompt, on_status or (lambda _code: None),
                                            need_back=chip is None)
        outcome = self._decide(front, back, chip, seen)
        outcome.seconds = time.perf_counter() - t0
        return outcome

    def _read_chip(self) -> DocumentRead | None:
        if self.chip is None:
            return None
        self.chip.open()
        try:
            return self.chip.read_document()
        finally:
            self.chip.close()

    def _read_card(self, frames: Iterable[np.ndarray], on_prompt: Callable[[str], None],
                   on_status: Callable[[str], None], need_back: bool
                   ) -> tuple[CardSide | None, CardSide | None, Counter[str]]:
        front: CardSide | None = None  # the first front with a number and a usable portrait
        done_front = False
        seen: Counter[str] = Counter()
        for count, image in enumerate(frames):
            if count >= self.max_frames:
                break
            side = self.reader.read(image)
            before, front_was_read = seen.copy(), done_front
            if not done_front:
                if side.side == "front" and side.fields.id_number is None:
                    seen[side.number_problem or "number_unreadable"] += 1
                elif side.side == "front" and front is not None:
                    front.fields = fill_in(front.fields, side.fields)
                elif side.side == "front" and not (side.portrait and side.portrait.quality.ok):
                    seen.update(side.portrait.quality.reasons if side.portrait else ("card_not_found",))
                elif side.side == "front":
                    front = side
                else:
                    seen["show_front" if side.side == "back" else "card_not_found"] += 1
                if front is not None and not front_complete(front.fields):
                    seen["fields_unreadable"] += 1
                elif front is not None:
                    done_front = True
                    if not need_back:
                        return front, None, seen
                    on_prompt(PROMPT_SHOW_BACK)
            elif side.side == "back" and side.fields.back_read:
                return front, side, seen
            elif side.side == "back":
                seen["validity_unreadable"] += 1
            waiting_for_back = front_was_read and side.side != "back"  # the frame that read the front is "ok"
            on_status(next(iter(seen - before), "show_back" if waiting_for_back else "ok"))
        if done_front and need_back:
            seen["show_back"] += 1000  # the front was read: what is missing is the back, whatever else was seen
        return front, None, seen

    def _decide(self, front: CardSide | None, back: CardSide | None, chip: DocumentRead | None,
                seen: Counter[str]) -> IdCaptureOutcome:
        # The most frequent problem is the most useful hint ("tilt the card" beats a one-off "blurry").
        if front is None or (chip is None and back is None):
            reasons = tuple(r for r, _ in seen.most_common(2)) or ("card_not_found",)
            return IdCaptureOutcome(False, reasons, chip=chip)
        printed = merge_sides(front.fields, back.fields if back else None)
        source, fields, checks = "ocr", printed, ()
        if chip is not None:
            # Numbers only: the printed number is check-digit-verified, so a difference is a different card, while
            # a name can simply be misread.
            if chip.fields.id_number != printed.id_number:
                return IdCaptureOutcome(False, ("chip_print_mismatch",), chip=chip)
            source, fields, checks = "chip", chip.fields, ("chip_print_match",)
        result = check_document(fields.id_number or "", _printed(fields), self.today())
        if not result.complete:
            reasons = result.problems or ("fields_unreadable",)
            return IdCaptureOutcome(False, reasons, fields, source, result.passed, chip=chip)
        return IdCaptureOutcome(True, (), fields, source, result.passed + checks, front.portrait, chip)
