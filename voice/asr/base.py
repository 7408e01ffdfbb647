"""The ASR interface: a clip in, a transcript out; the model stays loaded between utterances."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from hardware.audio import AudioClip


class AsrError(Exception):
    """The audio could not be transcribed (wrong language for the engine, empty audio, engine failure)."""


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str  # the language used (given, or detected)
    engine: str
    seconds: float  # processing time


class SpeechRecognizer(Protocol):
    name: str
    languages: tuple[str, ...]

    def transcribe(self, clip: AudioClip, language: str | None = None) -> Transcript: ...
