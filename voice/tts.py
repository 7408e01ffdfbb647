"""Speech output: espeak-ng (subprocess; both languages) and, for Mandarin, a neural voice in its own process
(voice/tts_worker/). What is said is always shown on screen as well."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import threading
import time
import wave
from pathlib import Path

import numpy as np

from hardware.audio import AudioClip
from voice.syllables import PYPINYIN_SETTINGS

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

    def voice(self, language: str) -> str:
        return VOICES[language]

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


WORKER = Path(__file__).with_name("tts_worker") / "baker_worker.py"


class NeuralMandarinTts:
    """Mandarin from the Baker FastSpeech2 + MB-MelGAN voice (a worker process in .venv-tts, started once and kept);
    other languages from espeak-ng. The worker is given the model files the kiosk verified."""

    def __init__(self, python: Path, assets: Path, fallback: EspeakTts, timeout_s: float = 30.0) -> None:
        if not python.is_file():
            raise TtsError(f"the Mandarin voice's Python is missing ({python}): re-run scripts/setup.sh")
        self.fallback, self.timeout_s = fallback, timeout_s
        self.rate_wpm = fallback.rate_wpm
        self.last_seconds = 0.0
        self._lock = threading.Lock()
        # The voice reads polyphones in context with pypinyin's phrase dictionary, which this process leaves out.
        env = {k: v for k, v in os.environ.items() if k not in PYPINYIN_SETTINGS}
        self._proc = subprocess.Popen([str(python), str(WORKER), "--assets", str(assets)], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        ready = self._header()
        if not ready.get("ready"):
            raise TtsError(f"the Mandarin voice did not start: {ready.get('error', 'no answer')}")

    def voice(self, language: str) -> str:
        return "baker-fastspeech2" if language == "zh" else self.fallback.voice(language)

    def _header(self) -> dict:
        line = self._proc.stdout.readline()
        if not line:
            raise TtsError("the Mandarin voice process ended")
        return json.loads(line)

    def synthesize(self, text: str, language: str) -> AudioClip:
        if language != "zh":
            return self.fallback.synthesize(text, language)
        t0 = time.perf_counter()
        with self._lock:
            try:
                self._proc.stdin.write(json.dumps({"text": text}, ensure_ascii=False).encode() + b"\n")
                self._proc.stdin.flush()
                header = self._header()
                data = self._proc.stdout.read(2 * header.get("samples", 0))
            except (OSError, ValueError) as exc:
                raise TtsError(f"the Mandarin voice failed ({exc})") from None
        if not header.get("ok"):
            raise TtsError(f"the Mandarin voice failed: {header.get('error')}")
        self.last_seconds = time.perf_counter() - t0
        return AudioClip(np.frombuffer(data, dtype="<i2").copy(), header["rate"])

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.stdin.close()
            self._proc.wait(timeout=10)
