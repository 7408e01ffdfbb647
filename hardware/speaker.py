"""Speakers: ``aplay`` (ALSA) for the real box, a file driver that keeps what would have been played."""

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
    def play(self, clip: AudioClip) -> None: ...
    def close(self) -> None: ...


class AplaySpeaker:
    def __init__(self, device: str | None = None, timeout_s: float = 60.0) -> None:
        self.device = device
        self.timeout_s = timeout_s
        self._aplay: str | None = None

    def open(self) -> None:
        self._aplay = shutil.which("aplay")
        if self._aplay is None:
            raise DeviceMissing("speaker", "aplay not installed (Debian package alsa-utils)")

    def play(self, clip: AudioClip) -> None:
        if self._aplay is None:
            raise DeviceMissing("speaker", "speaker is not open")
        cmd = [self._aplay, "-q"] + (["-D", self.device] if self.device else [])
        with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
            clip.write_wav(Path(tmp.name))
            try:
                result = subprocess.run([*cmd, tmp.name], capture_output=True, timeout=self.timeout_s, check=False)
            except subprocess.TimeoutExpired:
                raise DeviceDisconnected("speaker", "playback hung") from None
        if result.returncode != 0:
            detail = result.stderr.decode(errors="replace").strip()[:200]
            raise DeviceDisconnected("speaker", f"playback failed: {detail}")

    def close(self) -> None:
        self._aplay = None


class FileSpeaker:
    """Writes each played clip as a numbered WAV (demo recordings, tests)."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = Path(out_dir)
        self.played: list[Path] = []

    def open(self) -> None:
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DeviceMissing("speaker", f"cannot write to {self.out_dir} ({exc.strerror})") from None

    def play(self, clip: AudioClip) -> None:
        path = self.out_dir / f"played_{len(self.played) + 1:04d}.wav"
        try:
            clip.write_wav(path)
        except OSError as exc:
            raise DeviceDisconnected("speaker", f"cannot write {path.name} ({exc.strerror})") from None
        self.played.append(path)

    def close(self) -> None:
        pass
