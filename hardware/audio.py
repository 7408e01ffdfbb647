"""The audio clip that flows between microphone, ASR, TTS and speaker, and WAV (de)serialisation."""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soxr

from hardware.errors import DeviceDataError


@dataclass(eq=False)
class AudioClip:
    """Mono 16-bit PCM. The customer's voice is personal data: kept in memory only, never logged."""

    samples: np.ndarray  # int16, shape (n,)
    sample_rate: int

    @property
    def duration_s(self) -> float:
        return len(self.samples) / float(self.sample_rate)

    def resampled(self, rate: int) -> AudioClip:
        if rate == self.sample_rate:
            return self
        return AudioClip(soxr.resample(self.samples.astype(np.int16, copy=False), self.sample_rate, rate), rate)

    def to_wav_bytes(self) -> bytes:
        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(self.sample_rate)
            w.writeframes(self.samples.astype("<i2").tobytes())
        return buf.getvalue()

    def write_wav(self, path: Path) -> Path:
        path.write_bytes(self.to_wav_bytes())
        return path


def read_audio_file(path: Path, sample_rate: int = 16000) -> AudioClip:
    """Read WAV/AIFF/FLAC through SpeechRecognition's decoder, resampled to mono 16-bit ``sample_rate``."""
    if not path.is_file():
        raise DeviceDataError("microphone", f"audio file not found: {path}")
    import speech_recognition as sr  # files only (replay, evaluation): 10 MB a kiosk's live microphone never needs

    try:
        with sr.AudioFile(str(path)) as source:
            audio = sr.Recognizer().record(source)
    except (ValueError, EOFError, wave.Error, OSError, AssertionError) as exc:
        raise DeviceDataError("microphone", f"{path.name}: not a readable audio file ({exc})") from None
    raw = audio.get_raw_data(convert_rate=sample_rate, convert_width=2)
    samples = np.frombuffer(raw, dtype="<i2").copy()
    if samples.size == 0:
        raise DeviceDataError("microphone", f"{path.name}: audio file holds no samples")
    return AudioClip(samples, sample_rate)
