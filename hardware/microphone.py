"""Microphones: a sounddevice (PortAudio) driver and a replay driver that plays audio files in turn."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from hardware.audio import AudioClip, read_audio_file
from hardware.errors import DeviceDisconnected, DeviceMissing, EndOfReplay

AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".aiff", ".aif"})


CHUNK_S = 0.1  # streamed audio comes in chunks this long: end of speech is noticed within one chunk


def clip_then_silence(clip: AudioClip, chunk_s: float = CHUNK_S) -> Iterator[AudioClip]:
    """A recorded question as a live microphone delivers it: in chunks, then silence for as long as it is read."""
    n = int(chunk_s * clip.sample_rate)
    for i in range(0, len(clip.samples), n):
        yield AudioClip(clip.samples[i : i + n], clip.sample_rate)
    while True:
        yield AudioClip(np.zeros(n, np.int16), clip.sample_rate)


class Microphone(Protocol):
    def open(self) -> None: ...
    def record(self, max_seconds: float) -> AudioClip: ...
    def stream(self, chunk_s: float = CHUNK_S) -> Iterator[AudioClip]: ...  # until the caller stops reading
    def close(self) -> None: ...


class SoundDeviceMicrophone:
    """The default input device through PortAudio. Missing library or device -> ``DeviceMissing``."""

    def __init__(self, sample_rate: int = 16000) -> None:
        self.sample_rate = sample_rate
        self._sd = None

    def open(self) -> None:
        try:
            import sounddevice as sd  # PortAudio is loaded at import; absent on some boxes
        except OSError as exc:
            raise DeviceMissing("microphone", f"audio input library unavailable ({exc})") from None
        try:
            sd.check_input_settings(samplerate=self.sample_rate, channels=1, dtype="int16")
        except Exception as exc:  # noqa: BLE001 (PortAudioError or ValueError: both mean "no usable input device")
            raise DeviceMissing("microphone", f"no usable input device ({exc})") from None
        self._sd = sd

    def record(self, max_seconds: float) -> AudioClip:
        if self._sd is None:
            raise DeviceMissing("microphone", "microphone is not open")
        try:
            data = self._sd.rec(int(max_seconds * self.sample_rate), samplerate=self.sample_rate,
                                channels=1, dtype="int16", blocking=True)
        except Exception as exc:  # noqa: BLE001 (whatever PortAudio raises mid-recording: the device is gone)
            raise DeviceDisconnected("microphone", f"recording failed ({exc})") from None
        return AudioClip(np.asarray(data, dtype=np.int16).reshape(-1), self.sample_rate)

    def stream(self, chunk_s: float = CHUNK_S) -> Iterator[AudioClip]:
        if self._sd is None:
            raise DeviceMissing("microphone", "microphone is not open")
        frames = int(chunk_s * self.sample_rate)
        try:
            with self._sd.InputStream(samplerate=self.sample_rate, channels=1, dtype="int16", blocksize=frames) as s:
                while True:
                    data, _overflowed = s.read(frames)
                    yield AudioClip(np.asarray(data, dtype=np.int16).reshape(-1).copy(), self.sample_rate)
        except Exception as exc:  # noqa: BLE001 (whatever PortAudio raises mid-stream: the device is gone)
            raise DeviceDisconnected("microphone", f"recording failed ({exc})") from None

    def close(self) -> None:
        self._sd = None


class ReplayMicrophone:
    """Each ``record`` call returns the next audio file (truncated to ``max_seconds``)."""

    def __init__(self, sources: Path | Sequence[Path], sample_rate: int = 16000, loop: bool = False) -> None:
        self._paths = [sources] if isinstance(sources, Path) else list(sources)
        self.sample_rate = sample_rate
        self.loop = loop
        self._queue: list[Path] | None = None

    def open(self) -> None:
        files: list[Path] = []
        for p in map(Path, self._paths):
            if p.is_dir():
                files.extend(sorted(f for f in p.iterdir() if f.suffix.lower() in AUDIO_SUFFIXES))
            elif p.exists():
                files.append(p)
            else:
                raise DeviceMissing("microphone", f"replay audio not found: {p}")
        if not files:
            raise DeviceMissing("microphone", "no replay audio files")
        self._files = files
        self._queue = list(files)

    def record(self, max_seconds: float) -> AudioClip:
        clip = self._next()
        limit = int(max_seconds * self.sample_rate)
        return AudioClip(clip.samples[:limit], clip.sample_rate)

    def stream(self, chunk_s: float = CHUNK_S) -> Iterator[AudioClip]:
        """The next file in chunks, then silence for as long as the caller listens (the customer stopped)."""
        return clip_then_silence(self._next(), chunk_s)

    def _next(self) -> AudioClip:
        if self._queue is None:
            raise DeviceMissing("microphone", "replay microphone is not open")
        if not self._queue:
            if not self.loop:
                raise EndOfReplay("microphone", "replay finished")
            self._queue = list(self._files)
        return read_audio_file(self._queue.pop(0), self.sample_rate)

    def close(self) -> None:
        self._queue = None
