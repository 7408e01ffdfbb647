"""Intent understanding from text alone (no audio): accuracy on phrasings the matcher was not built from,
off-topic false accepts, scam recall. The matcher is the first thing to get right: audio only adds ASR errors."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from voice.intents import IntentMatcher, is_scam

FOLDER = Path(__file__).parent
SETS = {"dev": FOLDER / "phrasings_dev.toml", "test": FOLDER / "phrasings_test.toml", "faq": FOLDER / "faq_test.toml"}


@dataclass
class IntentScores:
    language: str
    in_domain: int = 0
    correct: int = 0
    off_topic: int = 0
    false_accepts: int = 0
    scams: int = 0
    scams_caught: int = 0  # answered with a scam warning (any of them)
    misses: list[tuple[str, str, str | None]] = field(default_factory=list)  # (text, expected, got)

    @property
    def accuracy(self) -> float:
        return self.correct / self.in_domain if self.in_domain else 0.0

    @property
    def false_accept_rate(self) -> float:
        return self.false_accepts / self.off_topic if self.off_topic else 0.0

    @property
    def scam_recall(self) -> float:
        return self.scams_caught / self.scams if self.scams else 0.0


def load_questions(path: Path) -> list[tuple[str, str, str]]:
    """(intent or "none", language, text) for every phrasing in the file."""
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    return [(q["intent"], lang, text) for q in data["q"] for lang in ("en", "zh") for text in q.get(lang, [])]


def evaluate(matcher: IntentMatcher, questions: list[tuple[str, str, str]]) -> dict[str, IntentScores]:
    scores = {lang: IntentScores(lang) for lang in ("en", "zh")}
    for expected, lang, text in questions:
        s = scores[lang]
        got = matcher.match(text, lang).intent
        if expected == "none":
            s.off_topic += 1
            s.false_accepts += got is not None
        else:
            s.in_domain += 1
            s.correct += got == expected
            if is_scam(expected):
                s.scams += 1
                s.scams_caught += is_scam(got)
        if got != (None if expected == "none" else expected):
            s.misses.append((text, expected, got))
    return scores


def format_scores(name: str, scores: dict[str, IntentScores], show_misses: bool = False) -> list[str]:
    lines = [f"{name}: intent from text (no audio)"]
    for lang, s in scores.items():
        lines.append(f"  {lang}: accuracy {s.correct}/{s.in_domain} = {100 * s.accuracy:.0f}%   off-topic false accepts "
                     f"{s.false_accepts}/{s.off_topic} = {100 * s.false_accept_rate:.0f}%   scam recall "
                     f"{s.scams_caught}/{s.scams} = {100 * s.scam_recall:.0f}%")
        if show_misses:
            lines += [f"      {text!r}: expected {expected}, got {got}" for text, expected, got in s.misses]
    return lines
