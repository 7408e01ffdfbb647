"""How intelligible the kiosk's own voice is: every fixed text it speaks, synthesised, then transcribed by the
offline recogniser; the character (zh) or word (en) error rate of what comes back. A machine listener is stricter
than a person in some ways and kinder in others, but it is one figure that moves when the voice gets better."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from voice.asr import SpeechRecognizer
from voice.evaluation.voice_eval import error_rate
from voice.normalize import digits_zh, normalize_zh


def numbers(text: str, language: str) -> list[str]:
    """The numbers in a text as digits (五千二百九十七点二八元 -> 5297.28; 5,297.28 yuan -> 5297.28): an amount is
    read back right when the numbers heard are the numbers said, however the recogniser writes the unit."""
    text = re.sub(r"(?<=\d),(?=\d)", "", text)
    if language == "zh":
        text = digits_zh(normalize_zh(text))
        # The recogniser also writes 1万2368.35 (= 12368.35).
        text = re.sub(r"(\d+)万(\d{4}(?:\.\d+)?)?",
                      lambda m: str(int(m.group(1)) * 10000 + Decimal(m.group(2) or 0)), text)
    return re.findall(r"\d+(?:\.\d+)?", text)


@dataclass(frozen=True)
class RoundTrip:
    key: str
    text: str
    heard: str
    error: float
    language: str

    @property
    def numbers_exact(self) -> bool:
        return numbers(self.text, self.language) == numbers(self.heard, self.language)


def sentences(texts: dict[str, str]) -> dict[str, str]:
    """Long texts one sentence at a time (as they are spoken, with a pause after each), so the recogniser's
    limit on a short question's length does not count as the voice's error."""
    out = {}
    for key, text in texts.items():
        # After 。！？ always; after . ! ? only before a space (not inside 10.8).
        parts = [p for p in re.split(r"(?<=[。！？])\s*|(?<=[.!?])\s+", text) if p and p.strip()]
        out |= {key: text} if len(parts) == 1 else {f"{key}#{i}": p for i, p in enumerate(parts, 1)}
    return out


def round_trips(tts, engine: SpeechRecognizer, texts: dict[str, str], language: str) -> list[RoundTrip]:
    rows = []
    for key, text in sentences(texts).items():
        # The recogniser writes numbers as digits (5000元); normalisation compares them as said (五千元).
        heard = engine.transcribe(tts.synthesize(text, language).resampled(16000), language).text
        rows.append(RoundTrip(key, text, heard, error_rate([text], [heard], language), language))
    return rows


def overall(rows: list[RoundTrip], language: str) -> float:
    """Over all the texts at once (longer texts weigh more), as for a corpus."""
    return error_rate([r.text for r in rows], [r.heard for r in rows], language) if rows else 0.0
