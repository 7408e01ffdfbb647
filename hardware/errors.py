"""Typed device errors. The runner turns each into a ``DeviceFailed`` journey event (a clear screen)."""

from __future__ import annotations


class DeviceError(Exception):
    """Base class: ``device`` is "camera" | "microphone" | "speaker" | "printer"; ``code`` is stable."""

    code = "error"

    def __init__(self, device: str, message: str) -> None:
        super().__init__(f"{device}: {message}")
        self.device = device
        self.message = message


class DeviceMissing(DeviceError):
    """The device is not there at all (not plugged in, no driver, no such file)."""

    code = "missing"


class DeviceDisconnected(DeviceError):
    """The device worked and then stopped delivering (unplugged mid-stream)."""

    code = "disconnected"


class DeviceDataError(DeviceError):
    """The device (or replay file) delivered something unusable: a corrupt image or WAV."""

    code = "bad_data"


class EndOfReplay(DeviceError):
    """A non-looping replay source has nothing more to give."""

    code = "end_of_replay"


class StreamStopped(EndOfReplay):
    """The kiosk stopped reading on purpose (the customer cancelled, the shopkeeper was called): the stream ends
    like a finished replay, so every capture loop stops at its next frame."""

    code = "stopped"
