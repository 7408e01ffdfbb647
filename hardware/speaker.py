"""Speakers: ``aplay`` (ALSA) for the real box, a file driver that keeps what would have been played.

Playback does not hold up the journey: ``play`` starts the sound and returns (``wait=True`` blocks until it ends),
a new sound replaces the one playing, and ``stop`` silences it at once (the customer tapped: barge-in)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Protocol

from hardware.audio import AudioClip
from hardware.errors import DeviceDisconnected, DeviceMissing


class Speaker(Protocol):
    def open(self) -> None: ...
    def play(self, clip: AudioClip, wait: bool = False) -> None: ...
    def stop(self) -> None: ...
    def close(self) -> None: ...


class AplaySpeaker:
    def __init__(self, device: str | None = None, timeout_s: float = 60.0) -> None:
        self.device = device
        self.timeout_s = timeout_s
        self._aplay: str | None = None
        self._playing: subprocess.Popen | None = None
        self._dir = tempfile.TemporaryDirectory(prefix="kiosk-speaker-")

    def open(self) -> None:
        self._aplay = shutil.which("aplay")
        if self._aplay is None:
            raise DeviceMissing("speaker", "aplay not installed (Debian package alsa-utils)")

    def play(self, clip: AudioClip, wait: bool = False) -> None:
        if self._aplay is None:
            raise DeviceMissing("speaker", "speaker is not open")
        self.stop()
        path = Path(self._dir.name) / "playing.wav"
        clip.write_wav(path)  # aplay has opened the previous file or been stopped: rewriting it is safe
        cmd = [self._aplay, "-q", *(["-D", self.device] if self.device else []), str(path)]
        self._playing = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if wait:
            try:
                code = self._playing.wait(timeout=self.timeout_s)
            except subprocess.TimeoutExpired:
                self.stop()
                raise DeviceDisconnected("speaker", "playback hung") from None
            if code not in (0, -15):  # -15: stopped by a tap
                detail = self._playing.stderr.read().decode(errors="replace").strip()[:200]
                raise DeviceDisconnected("speaker", f"playback failed: {detail}")

    def stop(self) -> None:
        if self._playing is not None and self._playing.poll() is None:
            self._playing.terminate()
            self._playing.wait(timeout=5)
        self._playing = None

    def close(self) -> None:
        self.stop()
        self._aplay = None


class FileSpeaker:
    """Writes each played clip as a numbered WAV (demo recordings, tests)."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = Path(out_dir)
        self.played: list[Path] = []
        self.stopped = 0  # how often playback was cut short (barge-in)

    def open(self) -> None:
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DeviceMissing("speaker", f"cannot write to {self.out_dir} ({exc.strerror})") from None

    def play(self, clip: AudioClip, wait: bool = False) -> None:
        path = self.out_dir / f"played_{len(self.played) + 1:04d}.wav"
        try:
            clip.write_wav(path)
        except OSError as exc:
            raise DeviceDisconnected("speaker", f"cannot write {path.name} ({exc.strerror})") from None
        self.played.append(path)

    def stop(self) -> None:
        self.stopped += 1

    def close(self) -> None:
        pass
