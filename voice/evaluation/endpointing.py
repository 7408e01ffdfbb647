"""End of speech as a live kiosk meets it: each real recording streamed in 0.1 s chunks, with 2 s of the customer
saying nothing after it, in noise that does not stop when they do: steady pink noise (fans, traffic, a fridge)
and babble made of the OTHER recordings (people talking nearby), at a signal-to-noise ratio measured over the
speech itself. Per detector: how often the question's end was found, and how long after the speech ended. No real
shop recording is available here: these are stand-ins, reported as such."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hardware.audio import AudioClip, read_audio_file
from voice.evaluation.voice_eval import Clip
from voice.listen import listen
from voice.vad import RATE, Endpointer, speech_power

CHUNK = RATE // 10


@dataclass(frozen=True)
class EndpointRow:
    detector: str
    condition: str
    clips: int
    ended: int
    waits: tuple[float, ...]  # end of speech -> decision, for the clips that ended

    def line(self) -> str:
        median = f"{np.median(self.waits):.2f}" if self.waits else "-"
        p95 = f"{np.percentile(self.waits, 95):.2f}" if self.waits else "-"
        return (f"  {self.detector:<8} {self.condition:<20} ended {self.ended}/{self.clips}   never {self.clips - self.ended}"
                f"   wait after speech: median {median} s, p95 {p95} s")


def babble(others: list[AudioClip], length: int, seed: int) -> np.ndarray:
    """Three other voices at once, looped to ``length`` samples."""
    rng = np.random.default_rng(seed)
    mix = np.zeros(length)
    for clip in rng.choice(len(others), size=min(3, len(others)), replace=False):
        voice = others[clip].samples.astype(np.float64)
        mix += np.resize(np.roll(voice, int(rng.integers(len(voice)))), length)
    return mix


def pink(length: int, seed: int) -> np.ndarray:
    """1/f noise (by shaping white noise's spectrum)."""
    spectrum = np.fft.rfft(np.random.default_rng(seed).normal(size=length))
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
    return np.fft.irfft(spectrum, length)


def scene(speech: AudioClip, others: list[AudioClip], noise_kind: str | None, snr_db: float, reference: Endpointer,
          seed: int) -> AudioClip:
    """0.5 s before, the question, 2 s of the customer silent; noise throughout."""
    samples = np.concatenate([np.zeros(RATE // 2), speech.samples.astype(np.float64), np.zeros(2 * RATE)])
    if noise_kind is not None:
        noise = babble(others, len(samples), seed) if noise_kind == "babble" else pink(len(samples), seed)
        gain = np.sqrt(speech_power(speech, reference) / 10 ** (snr_db / 10) / max(np.mean(noise**2), 1e-9))
        samples = samples + gain * noise
    return AudioClip(np.clip(samples, -32768, 32767).astype(np.int16), RATE)


CONDITIONS = ((None, 0.0), ("pink", 10.0), ("pink", 5.0), ("babble", 20.0), ("babble", 10.0))


def evaluate(detectors: dict[str, Endpointer], clips: list[Clip], conditions=CONDITIONS) -> list[EndpointRow]:
    audio = [read_audio_file(c.path, RATE) for c in clips]
    reference = detectors.get("silero") or next(iter(detectors.values()))
    rows = []
    for kind, snr in conditions:
        condition = "quiet" if kind is None else f"{kind} {snr:g} dB SNR"
        scenes = [scene(a, audio[:i] + audio[i + 1 :], kind, snr, reference, i) for i, a in enumerate(audio)]
        for name, endpointer in detectors.items():
            waits, ended = [], 0
            for speech, s in zip(audio, scenes, strict=True):
                chunks = (AudioClip(s.samples[i : i + CHUNK], RATE) for i in range(0, len(s.samples), CHUNK))
                heard = listen(chunks, endpointer, max_s=30.0, no_speech_s=30.0)
                if heard.ended == "end_of_speech":
                    ended += 1
                    # Against where the question really ended (0.5 s lead + its length), not the detector's own
                    # idea of it, which noise can stretch.
                    waits.append(heard.listened_s - (0.5 + speech.duration_s))
            rows.append(EndpointRow(name, condition, len(scenes), ended, tuple(waits)))
    return rows
