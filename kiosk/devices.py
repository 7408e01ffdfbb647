"""Build the configured hardware drivers: the config names one driver per device."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hardware.camera import Camera, OpenCVCamera, ReplayCamera
from hardware.errors import DeviceMissing
from hardware.id_card import DocumentReader, ReplayChipReader, SerialChipReader, build_photo_decoder
from hardware.microphone import Microphone, ReplayMicrophone, SoundDeviceMicrophone
from hardware.printer import EscPosFilePrinter, NoPrinter, Printer
from hardware.speaker import AplaySpeaker, FileSpeaker, Speaker
from kiosk.config import HardwareSettings


@dataclass
class Devices:
    camera: Camera
    microphone: Microphone
    speaker: Speaker
    printer: Printer
    id_reader: DocumentReader | None = None  # the card's chip; None: the camera alone reads the card


def build_devices(settings: HardwareSettings, data_dir: Path) -> Devices:
    cam = settings.camera
    if cam.driver == "replay":
        if cam.replay_path is None:
            raise DeviceMissing("camera", "hardware.camera.replay_path is not set for the replay driver")
        camera: Camera = ReplayCamera(cam.replay_path, loop=cam.replay_loop)
    else:
        camera = OpenCVCamera(cam.index, cam.width, cam.height, (cam.id_width, cam.id_height))

    mic = settings.microphone
    if mic.driver == "replay":
        if mic.replay_path is None:
            raise DeviceMissing("microphone", "hardware.microphone.replay_path is not set for the replay driver")
        microphone: Microphone = ReplayMicrophone(mic.replay_path, mic.sample_rate)
    else:
        microphone = SoundDeviceMicrophone(mic.sample_rate)

    spk = settings.speaker
    speaker: Speaker = (
        FileSpeaker(spk.out_dir or data_dir / "speaker") if spk.driver == "file" else AplaySpeaker()
    )

    prn = settings.printer
    if prn.driver == "escpos":
        if prn.device is None:
            raise DeviceMissing("printer", "hardware.printer.device is not set for the escpos driver")
        printer: Printer = EscPosFilePrinter(prn.device)
    else:
        printer = NoPrinter()
    return Devices(camera, microphone, speaker, printer, build_id_reader(settings))


def build_id_reader(settings: HardwareSettings) -> DocumentReader | None:
    rd = settings.id_reader
    if rd.driver == "none":
        return None
    decoder = build_photo_decoder(rd.photo_decoder)
    if rd.driver == "replay":
        if rd.replay_path is None:
            raise DeviceMissing("id_reader", "hardware.id_reader.replay_path is not set for the replay driver")
        return ReplayChipReader(rd.replay_path, decoder)
    return SerialChipReader(rd.port, decoder)
