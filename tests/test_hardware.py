"""Replay and real drivers: frames and audio arrive, missing or unplugged devices raise typed errors."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest

from hardware.audio import AudioClip, read_audio_file
from hardware.camera import OpenCVCamera, ReplayCamera
from hardware.errors import DeviceDataError, DeviceDisconnected, DeviceMissing, EndOfReplay
from hardware.microphone import ReplayMicrophone, SoundDeviceMicrophone
from hardware.printer import FS_KANJI_ON, EscPosFilePrinter, NoPrinter, Receipt, encode_escpos
from hardware.speaker import AplaySpeaker, FileSpeaker


@pytest.fixture
def face_images(faces_dir):
    return sorted((faces_dir / "Abel_Pacheco").glob("*.jpg"))


def test_replay_camera_plays_images_in_order_and_loops(face_images):
    cam = ReplayCamera(face_images[:2], loop=True, clock=lambda: 1.0)
    cam.open()
    frames = [cam.read() for _ in range(3)]
    assert [f.source for f in frames] == [f"replay:{face_images[0].name}", f"replay:{face_images[1].name}",
                                          f"replay:{face_images[0].name}"]
    assert frames[0].image.shape == (250, 250, 3) and frames[0].image.dtype == np.uint8
    assert [f.index for f in frames] == [1, 2, 3]


def test_replay_camera_without_loop_ends(face_images):
    cam = ReplayCamera(face_images[0], loop=False)
    cam.open()
    cam.read()
    with pytest.raises(EndOfReplay):
        cam.read()


def test_replay_camera_reads_folder_and_video(tmp_path, face_images):
    for p in face_images[:2]:
        shutil.copy(p, tmp_path / p.name)
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for i in range(5):
        writer.write(np.full((48, 64, 3), i * 40, np.uint8))
    writer.release()
    cam = ReplayCamera(tmp_path, loop=False)
    cam.open()
    sources = []
    while True:
        try:
            sources.append(cam.read().source)
        except EndOfReplay:
            break
    assert sources.count("replay:clip.avi") == 5 and len(sources) == 7


def test_replay_camera_simulated_unplug_mid_stream(face_images):
    cam = ReplayCamera(face_images, disconnect_after=2)
    cam.open()
    cam.read(), cam.read()
    with pytest.raises(DeviceDisconnected) as info:
        cam.read()
    assert info.value.device == "camera" and info.value.code == "disconnected"


@pytest.mark.parametrize("content", [b"", b"not an image at all", b"\xff\xd8\xff\xe0" + b"\x00" * 50])
def test_corrupt_replay_image_is_a_data_error(tmp_path, content):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(content)
    cam = ReplayCamera(bad)
    cam.open()
    with pytest.raises(DeviceDataError, match="bad.jpg"):
        cam.read()


def test_missing_replay_source_and_empty_folder(tmp_path):
    with pytest.raises(DeviceMissing, match="not found"):
        ReplayCamera(tmp_path / "nope.jpg").open()
    with pytest.raises(DeviceMissing, match="holds no images"):
        ReplayCamera(tmp_path).open()


def test_opencv_camera_missing_device_is_typed():
    cam = OpenCVCamera(index=57)
    with pytest.raises(DeviceMissing, match="no camera at index 57"):
        cam.open()
    with pytest.raises(DeviceMissing):
        cam.read()


@pytest.mark.parametrize(("source", "target"), [(48000, 16000), (22050, 16000), (16000, 24000)])
def test_resampling_keeps_pitch_and_loudness(source, target):
    t = np.arange(source) / source  # one second of a 440 Hz tone at about -10 dBFS
    tone = AudioClip((10000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16), source)
    out = tone.resampled(target)
    assert out.sample_rate == target and out.samples.dtype == np.int16 and abs(out.samples.size - target) <= 1
    spectrum = np.abs(np.fft.rfft(out.samples.astype(np.float64)))
    assert abs(np.argmax(spectrum) * target / out.samples.size - 440) < 2
    middle = out.samples[target // 10: -target // 10].astype(np.float64)
    assert abs(np.sqrt(np.mean(middle ** 2)) - 10000 / np.sqrt(2)) < 100
    assert tone.resampled(source) is tone


def test_replay_microphone_reads_wav_and_flac_as_16k_mono(audio_dir):
    mic = ReplayMicrophone([audio_dir / "en" / "ps_goforward.wav", audio_dir / "zh" / "sr_chinese.flac"])
    mic.open()
    wav = mic.record(30)
    flac = mic.record(30)
    assert wav.sample_rate == 16000 and 2.5 < wav.duration_s < 3.0
    assert flac.sample_rate == 16000 and 0.9 < flac.duration_s < 1.0  # 48 kHz source resampled
    assert np.abs(wav.samples).max() > 1000  # real speech, not silence
    with pytest.raises(EndOfReplay):
        mic.record(1)


def test_replay_microphone_truncates_to_max_seconds(audio_dir):
    mic = ReplayMicrophone(audio_dir / "en" / "ps_goforward.wav")
    mic.open()
    assert mic.record(1.0).duration_s == pytest.approx(1.0)


def test_corrupt_and_missing_audio_are_clear_errors(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    with pytest.raises(DeviceDataError, match="bad.wav: not a readable audio file"):
        read_audio_file(bad)
    with pytest.raises(DeviceMissing, match="not found"):
        ReplayMicrophone(tmp_path / "absent.wav").open()


def test_sounddevice_microphone_without_a_device_is_missing_not_a_crash():
    # These machines have no capture device (and CI may lack PortAudio): either way, DeviceMissing.
    with pytest.raises(DeviceMissing, match="microphone"):
        SoundDeviceMicrophone().open()


def test_audio_clip_wav_round_trip(tmp_path):
    clip = AudioClip((np.sin(np.arange(8000) / 5) * 8000).astype(np.int16), 16000)
    back = read_audio_file(clip.write_wav(tmp_path / "x.wav"))
    assert np.array_equal(back.samples, clip.samples)


def test_file_speaker_keeps_what_was_played(tmp_path):
    spk = FileSpeaker(tmp_path / "out")
    spk.open()
    spk.play(AudioClip(np.zeros(1600, np.int16), 16000))
    spk.play(AudioClip(np.ones(800, np.int16), 16000))
    assert [p.name for p in spk.played] == ["played_0001.wav", "played_0002.wav"]
    assert read_audio_file(spk.played[1]).duration_s == pytest.approx(0.05)


def test_aplay_speaker_missing_binary_or_device_is_typed(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(DeviceMissing, match="aplay not installed"):
        AplaySpeaker().open()


def test_escpos_printer_writes_init_text_and_cut(tmp_path):
    out = tmp_path / "lp0"
    printer = EscPosFilePrinter(out)
    printer.open()
    assert printer.print_receipt(Receipt(("Reference: APP-1", "Total: 5,500.80"), "en"))
    data = out.read_bytes()
    assert data.startswith(b"\x1b@") and b"Reference: APP-1" in data and data.endswith(b"\x1dV\x42\x00")


def test_escpos_chinese_uses_gb18030_double_byte_mode():
    data = encode_escpos(Receipt(("借款金额 5000 元",), "zh"))
    assert FS_KANJI_ON in data and "借款金额".encode("gb18030") in data


def test_printer_missing_device_is_typed(tmp_path):
    with pytest.raises(DeviceMissing, match="no printer"):
        EscPosFilePrinter(tmp_path / "no" / "such" / "lp0").open()
    assert NoPrinter().print_receipt(Receipt(("x",), "en")) is False


def test_the_card_is_read_at_the_higher_resolution_and_the_face_at_the_usual_one():
    import cv2

    from hardware.camera import OpenCVCamera

    class FakeCapture:
        def __init__(self):
            self.sizes = {}

        def set(self, prop, value):
            self.sizes[prop] = value

    camera = OpenCVCamera(0, 640, 480, (1920, 1080))
    camera._cap = FakeCapture()
    camera.set_purpose("id")
    assert (camera._cap.sizes[cv2.CAP_PROP_FRAME_WIDTH], camera._cap.sizes[cv2.CAP_PROP_FRAME_HEIGHT]) == (1920, 1080)
    camera.set_purpose("live")
    assert (camera._cap.sizes[cv2.CAP_PROP_FRAME_WIDTH], camera._cap.sizes[cv2.CAP_PROP_FRAME_HEIGHT]) == (640, 480)
