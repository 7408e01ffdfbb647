"""How intelligible the kiosk's own voice is: every fixed text it speaks, synthesised, then transcribed by the
offline recogniser; the character (zh) or word (en) error rate of what comes back. A machine listener is stricter
than a person in some ways and kinder in others, but it is one figure that moves when the voice gets better."""

from __future__ import annotations

import re
from dataclasses import dataclass

from voice.asr import SpeechRecognizer
from voice.evaluation.voice_eval import error_rate


@dataclass(frozen=True)
class RoundTrip:
    key: str
    text: str
    heard: str
    error: float

    @property
    def exact(self) -> bool:
        return self.error == 0.0


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
        rows.append(RoundTrip(key, text, heard, error_rate([text], [heard], language)))
    return rows


def overall(rows: list[RoundTrip], language: str) -> float:
    """Over all the texts at once (longer texts weigh more), as for a corpus."""
    return error_rate([r.text for r in rows], [r.heard for r in rows], language) if rows else 0.0
