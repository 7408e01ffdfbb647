"""How intelligible the kiosk's own voice is: every fixed text it speaks, synthesised, then transcribed by the
offline recogniser; the character (zh) or word (en) error rate of what comes back. A machine listener is stricter
than a person in some ways and kinder in others, but it is one figure that moves when the voice gets better."""

from __future__ import annotations

from dataclasses import dataclass

import cn2an

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


def as_said(heard: str, language: str) -> str:
    """The recogniser writes numbers as digits (5000元, 10.8%); the kiosk says them in words (五千元, 百分之十点八):
    compare like with like."""
    return cn2an.transform(heard.replace(",", ""), "an2cn") if language == "zh" else heard


def round_trips(tts, engine: SpeechRecognizer, texts: dict[str, str], language: str) -> list[RoundTrip]:
    rows = []
    for key, text in texts.items():
        heard = as_said(engine.transcribe(tts.synthesize(text, language).resampled(16000), language).text, language)
        rows.append(RoundTrip(key, text, heard, error_rate([text], [heard], language)))
    return rows


def overall(rows: list[RoundTrip], language: str) -> float:
    """Over all the texts at once (longer texts weigh more), as for a corpus."""
    return error_rate([r.text for r in rows], [r.heard for r in rows], language) if rows else 0.0
