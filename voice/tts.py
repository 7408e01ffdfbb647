"""Speech output with espeak-ng (subprocess). The answer text is always shown on screen as well."""

from __future__ import annotations

import io
import shutil
import subprocess
import time
import wave

import numpy as np

from hardware.audio import AudioClip

# Debian 12's "cmn"/"zh" voices read many characters as spelled-out pinyin; cmn-latn-pinyin reads them well.
VOICES = {"en": "en-us", "zh": "cmn-latn-pinyin"}


class TtsError(Exception):
    pass


class EspeakTts:
    def __init__(self, rate_wpm: int = 150, timeout_s: float = 20.0) -> None:
        self.binary = shutil.which("espeak-ng")
        if self.binary is None:
            raise TtsError("espeak-ng is not installed (Debian package espeak-ng)")
        self.rate_wpm = rate_wpm  # slower than the default 175: easier for first-time listeners
        self.timeout_s = timeout_s
        self.last_seconds = 0.0

    def synthesize(self, text: str, language: str) -> AudioClip:
        if language not in VOICES:
            raise TtsError(f"no voice for language {language!r}")
        t0 = time.perf_counter()
        try:
            result = subprocess.run(
                [self.binary, "-v", VOICES[language], "-s", str(self.rate_wpm), "--stdout", text],
                capture_output=True, timeout=self.timeout_s, check=False,
            )
        except subprocess.TimeoutExpired:
            raise TtsError("espeak-ng timed out") from None
        if result.returncode != 0 or not result.stdout:
            raise TtsError(f"espeak-ng failed: {result.stderr.decode(errors='replace').strip()[:200]}")
        with wave.open(io.BytesIO(result.stdout)) as w:
            samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").copy()
            rate = w.getframerate()
        self.last_seconds = time.perf_counter() - t0
        return AudioClip(samples, rate)
