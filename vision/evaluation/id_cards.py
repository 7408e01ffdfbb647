"""Field-level reading accuracy on SYNTHETIC specimen cards (`kiosk eval id --synthetic N`).

Each card (fields drawn at random, an LFW face as its portrait) is photographed front and back under clean
and degraded conditions and read by the product's own path (find, rectify, OCR, parse, validate). A field
counts only when it equals the truth exactly, from one photograph of each side. "Wrong number accepted"
counts a number that differs from the card's and still passed every check: the failure the checks exist to
prevent, whose target is zero.

The capture figures run the whole attempt as the kiosk does (``IdCardCapture``): a customer who holds up the
front, each frame photographed afresh (new noise, new glare), until the kiosk asks for the back, within the
attempt's frame budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from contract.id_number import PrintedFields, check_document
from vision.evaluation.metrics import percentile_ms
from vision.evaluation.specimen import CLEAN, DEGRADED, Conditions, photograph, specimen_card
from vision.id_capture import IdCardCapture
from vision.id_card import CardReader
from vision.image_io import load_image

CAPTURE_FRAMES = 10  # the frame budget of one evaluated attempt (the kiosk's default is 40)

CONDITIONS: dict[str, Conditions] = {"clean": CLEAN, "degraded": DEGRADED, "upside_down": Conditions(upside_down=True)}


@dataclass
class Tally:
    cards: int = 0
    found: int = 0  # both sides recognised and the front's portrait found
    number: int = 0
    name: int = 0
    birth_date: int = 0
    validity: int = 0
    wrong_number_accepted: int = 0
    number_refused: int = 0  # read, but a check failed or a field was missing: the frame is not enough
    captured: int = 0  # whole attempts that ended with a checked identity
    captured_wrong: int = 0  # ... with a number that is not the card's (target 0)
    capture_frames: int = 0  # frames those attempts used, in total

    def rate(self, name: str) -> float:
        return getattr(self, name) / self.cards if self.cards else float("nan")


def faces_for(root: Path, n: int) -> list[Path]:
    people = sorted(p for p in root.iterdir() if p.is_dir())
    return [next(iter(sorted(person.glob("*.jpg")))) for person in people[:n]]


def customer_frames(card, conditions: Conditions, rng: np.random.Generator, count: list[int]):
    """Frames of a customer who shows the front until asked for the back; ``count`` counts them."""
    side = {"shown": card.front}

    def frames():
        while True:
            count[0] += 1
            yield photograph(side["shown"], rng, conditions)

    return frames(), lambda _prompt: side.update(shown=card.back)


def evaluate_cards(reader: CardReader, faces_root: Path, n: int, today: date | None = None) -> dict:
    today = today or date.today()
    tallies = {name: Tally() for name in CONDITIONS}
    sides: list[float] = []
    cards: list[float] = []
    for i, face_path in enumerate(faces_for(faces_root, n)):
        card = specimen_card(load_image(face_path), seed=1000 + i, today=today)
        truth = card.fields
        for name, conditions in CONDITIONS.items():
            rng = np.random.default_rng(i)
            front = reader.read(photograph(card.front, rng, conditions))
            back = reader.read(photograph(card.back, rng, conditions))
            sides += [front.seconds, back.seconds]
            cards.append(front.seconds + back.seconds)
            t = tallies[name]
            t.cards += 1
            f, b = front.fields, back.fields
            t.found += front.side == "front" and back.side == "back" and front.portrait is not None \
                and front.portrait.face is not None
            t.number += f.id_number == truth.id_number
            t.name += f.name == truth.name
            t.birth_date += f.birth_date == truth.birth_date
            t.validity += (b.valid_until, b.permanent) == (truth.valid_until, truth.permanent)
            if f.id_number is not None:
                printed = PrintedFields(f.birth_date, f.sex, b.valid_until, b.permanent)
                passed = check_document(f.id_number, printed, today).complete
                t.wrong_number_accepted += passed and f.id_number != truth.id_number
                t.number_refused += not passed
            used = [0]
            frames, on_prompt = customer_frames(card, conditions, np.random.default_rng(10_000 + i), used)
            outcome = IdCardCapture(reader, max_frames=CAPTURE_FRAMES, today=lambda: today).run(frames, on_prompt)
            if outcome.ok:
                t.captured += 1
                t.captured_wrong += outcome.fields.id_number != truth.id_number
                t.capture_frames += used[0]
    (side_median, side_p95), (card_median, card_p95) = percentile_ms(sides), percentile_ms(cards)
    return {"cards": n, "conditions": {k: vars(v) for k, v in tallies.items()},
            "per_side_ms": {"median": side_median, "p95": side_p95},
            "per_card_ms": {"median": card_median, "p95": card_p95}}


def format_cards(report: dict) -> str:
    fields = ("found", "number", "name", "birth_date", "validity", "wrong_number_accepted", "number_refused")
    lines = [f"SYNTHETIC specimen cards: {report['cards']} per condition (front and back each photographed)",
             f"{'condition':<12}" + "".join(f"{f:>23}" for f in fields)]
    for name, t in report["conditions"].items():
        cells = "".join(f"{t[f]:>10}/{t['cards']:<4} {100 * t[f] / t['cards']:6.1f}%" for f in fields)
        lines.append(f"{name:<12}{cells}")
    lines.append(f"whole capture attempts (front until asked, then back; at most {CAPTURE_FRAMES} frames):")
    for name, t in report["conditions"].items():
        frames = t["capture_frames"] / t["captured"] if t["captured"] else float("nan")
        lines.append(f"  {name:<12} checked identity {t['captured']}/{t['cards']} ({100 * t['captured'] / t['cards']:.1f}%),"
                     f" wrong number {t['captured_wrong']}, frames per success {frames:.1f}")
    side, card = report["per_side_ms"], report["per_card_ms"]
    lines.append(f"time per side (one photograph read, median / p95): {side['median']:.0f} / {side['p95']:.0f} ms; "
                 f"per card (front + back): {card['median']:.0f} / {card['p95']:.0f} ms")
    return "\n".join(lines)
