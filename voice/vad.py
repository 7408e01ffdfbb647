"""End-of-speech detection (webrtcvad): a question ends when the speaker has been silent for a while."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import webrtcvad

from hardware.audio import AudioClip

FRAME_MS = 30


@dataclass(frozen=True)
class Endpoint:
    start_s: float | None  # first speech frame; None when no speech was found
    end_s: float | None  # last speech frame before the trailing silence
    decided_at_s: float | None  # when a live endpointer would have declared "done"


class Endpointer:
    def __init__(self, aggressiveness: int = 2, hangover_ms: int = 600, min_speech_ms: int = 150) -> None:
        self._vad = webrtcvad.Vad(aggressiveness)
        self.hangover_frames = hangover_ms // FRAME_MS
        self.min_speech_frames = min_speech_ms // FRAME_MS

    def frames(self, clip: AudioClip) -> list[bool]:
        if clip.sample_rate not in (8000, 16000, 32000, 48000):
            raise ValueError(f"VAD needs 8/16/32/48 kHz audio, got {clip.sample_rate}")
        step = clip.sample_rate * FRAME_MS // 1000
        pcm = clip.samples.astype("<i2")
        return [
            self._vad.is_speech(pcm[i : i + step].tobytes(), clip.sample_rate)
            for i in range(0, len(pcm) - step + 1, step)
        ]

    def endpoint(self, clip: AudioClip) -> Endpoint:
        """Where speech starts and ends, as a streaming endpointer would decide frame by frame."""
        flags = self.frames(clip)
        start = end = decided = None
        run = silence = 0
        for i, speech in enumerate(flags):
            if speech:
                run += 1
                silence = 0
                if start is None and run >= self.min_speech_frames:
                    start = i - run + 1
                end = i if start is not None else end
            else:
                run = 0
                if start is not None:
                    silence += 1
                    if silence >= self.hangover_frames and decided is None:
                        decided = i
        to_s = FRAME_MS / 1000
        return Endpoint(
            None if start is None else start * to_s,
            None if end is None else (end + 1) * to_s,
            None if decided is None else (decided + 1) * to_s,
        )

    def trim(self, clip: AudioClip, pad_s: float = 0.2) -> AudioClip | None:
        """The speech part (with a little padding), or None when the clip holds no speech."""
        ep = self.endpoint(clip)
        if ep.start_s is None:
            return None
        a = max(0, int((ep.start_s - pad_s) * clip.sample_rate))
        b = min(len(clip.samples), int((ep.end_s + pad_s) * clip.sample_rate))
        return AudioClip(clip.samples[a:b], clip.sample_rate)


def add_noise(clip: AudioClip, snr_db: float, seed: int = 0) -> AudioClip:
    """White noise at ``snr_db`` relative to the clip's speech power (for robustness tests)."""
    signal = clip.samples.astype(np.float64)
    power = np.mean(signal**2)
    noise = np.random.default_rng(seed).normal(0, np.sqrt(power / 10 ** (snr_db / 10)), len(signal))
    return AudioClip(np.clip(signal + noise, -32768, 32767).astype(np.int16), clip.sample_rate)
