"""Listening to a question as it is spoken: audio chunks in (from a live microphone), the question out as soon
as its speaker stops, at the length cap, when the customer taps stop, or when nobody speaks."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from hardware.audio import AudioClip
from voice.vad import RATE, Endpointer


@dataclass(frozen=True)
class Heard:
    clip: AudioClip  # 16 kHz, from the first chunk to the moment listening ended
    ended: str  # "end_of_speech" | "max_length" | "stopped" | "no_speech"
    listened_s: float  # audio seconds taken in
    decided_after_end_s: float | None  # end of speech -> the decision that it ended (the endpointer's wait)


def listen(chunks: Iterable[AudioClip], endpointer: Endpointer, max_s: float, stop: threading.Event | None = None,
           no_speech_s: float = 6.0) -> Heard:
    tracker = endpointer.tracker()
    step = endpointer.detector.frame_samples
    kept: list[np.ndarray] = []
    pending = np.zeros(0, np.int16)
    total = 0
    ended = "stopped"
    for chunk in chunks:
        samples = chunk.resampled(RATE).samples
        kept.append(samples)
        total += len(samples)
        pending = np.concatenate([pending, samples])
        while len(pending) >= step:
            tracker.feed(endpointer.detector.is_speech(pending[:step]))
            pending = pending[step:]
        if tracker.done:
            ended = "end_of_speech"
            break
        if stop is not None and stop.is_set():
            break
        if total >= max_s * RATE:
            ended = "max_length"
            break
        if not tracker.heard_speech and total >= no_speech_s * RATE:
            ended = "no_speech"
            break
    ep = tracker.endpoint()
    waited = None if ep.decided_at_s is None or ep.end_s is None else ep.decided_at_s - ep.end_s
    audio = np.concatenate(kept) if kept else np.zeros(0, np.int16)
    return Heard(AudioClip(audio, RATE), ended, total / RATE, waited)


def paced(chunks: Iterable[AudioClip]) -> Iterable[AudioClip]:
    """Chunks delivered no faster than real time (a replayed recording behaving like a microphone)."""
    t0, sent = time.monotonic(), 0.0
    for chunk in chunks:
        sent += chunk.duration_s
        time.sleep(max(0.0, t0 + sent - time.monotonic()))
        yield chunk
