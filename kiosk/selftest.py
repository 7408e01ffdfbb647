"""Hardware and installation self-test: each check returns pass/fail with a reason a field agent can act on."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from edge_models.manifest import load_manifest
from edge_models.verify import verify_all
from hardware.audio import AudioClip
from hardware.errors import DeviceError
from kiosk.config import KioskConfig
from kiosk.devices import Devices, build_devices

MIN_FREE_BYTES = 1_000_000_000
MAX_CLOCK_SKEW_S = 60  # the service refuses requests beyond its own limit (300 s); warn well before
# Mean grey level outside this band means a covered lens, a dead sensor or a blinding light source.
EXPOSURE_RANGE = (25.0, 230.0)


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


def _camera(devices: Devices, frames_out: list) -> CheckResult:
    cam = devices.camera
    cam.open()
    try:
        frames = [cam.read() for _ in range(3)]
    finally:
        cam.close()
    frames_out.extend(frames)
    mean = float(np.mean(frames[-1].image))
    w, h = frames[-1].size
    ok = EXPOSURE_RANGE[0] <= mean <= EXPOSURE_RANGE[1]
    verdict = "exposure ok" if ok else "too dark" if mean < EXPOSURE_RANGE[0] else "too bright"
    return CheckResult("camera", ok, f"{len(frames)} frames {w}x{h}, mean level {mean:.0f}: {verdict}")


def _microphone(devices: Devices) -> CheckResult:
    mic = devices.microphone
    mic.open()
    try:
        clip = mic.record(0.5)
    finally:
        mic.close()
    rms = float(np.sqrt(np.mean(clip.samples.astype(np.float64) ** 2))) if clip.samples.size else 0.0
    dbfs = 20 * np.log10(max(rms, 1e-9) / 32768.0)
    return CheckResult("microphone", clip.samples.size > 0, f"{clip.duration_s:.2f}s recorded, level {dbfs:.0f} dBFS")


def _speaker(devices: Devices) -> CheckResult:
    rate = 16000
    t = np.arange(int(0.3 * rate)) / rate
    tone = (0.3 * 32767 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    spk = devices.speaker
    spk.open()
    try:
        spk.play(AudioClip(tone, rate), wait=True)
    finally:
        spk.close()
    return CheckResult("speaker", True, "played a 440 Hz tone")


def _printer(devices: Devices) -> CheckResult:
    devices.printer.open()
    return CheckResult("printer", True, f"{type(devices.printer).__name__} ready")


def _face(config: KioskConfig, frames: list) -> CheckResult:
    """With a face in front of the camera (the field agent's own), the detector must find it."""
    from vision.detectors import build_detector

    if not frames:
        return CheckResult("face_detection", False, "no camera frames to check")
    detector = build_detector(config.vision.detector, config.model_dirs,
                              config.license_policy == "allow_noncommercial")
    found = sum(bool(detector.detect(f.image)) for f in frames)
    return CheckResult("face_detection", found > 0, f"a face found in {found}/{len(frames)} frames")


def _device_key(config: KioskConfig) -> CheckResult:
    """Whether the device key opens, and how it is protected: a key only bound to the machine id opens from a
    copy of the whole disk (a field agent should fit a TPM)."""
    from kiosk.cloud_client.identity import identity_dir, key_protection, load_key

    directory = identity_dir(config.data_dir)
    try:
        load_key(directory)
    except (DeviceError, ValueError, TypeError) as exc:
        return CheckResult("device_key", False, f"the device key does not open: {exc}")
    protection = key_protection(directory)
    if protection == "tpm":
        return CheckResult("device_key", True, "opens; its passphrase is sealed by this box's TPM")
    return CheckResult("device_key", False, f"opens, but is protected by the machine id only ({protection}): "
                                            "a copy of the disk opens it; fit a TPM 2.0 and re-provision")


def _cloud(config: KioskConfig) -> list[CheckResult]:
    from kiosk.cloud_client.errors import CloudError
    from kiosk.cloud_client.identity import load_identity
    from kiosk.cloud_client.registration import cloud_client

    try:
        identity = load_identity(config.data_dir)
    except DeviceError as exc:  # the TPM cannot unseal the key (another box's disk, no TPM any more)
        return [CheckResult("device_key", False, f"the device key does not open: {exc}"),
                CheckResult("cloud", False, "cannot sign without the device key")]
    if identity is None:
        return [CheckResult("cloud", False, "not registered: run `kiosk provision`")]
    results = [_device_key(config)]
    client = cloud_client(config, identity)
    try:
        t0 = time.time()
        health = client.health()
        skew = health.server_time - (t0 + time.time()) / 2
        client.offers()  # a signed request: proves the key and the registration, end to end
    except CloudError as exc:
        return [*results, CheckResult("cloud", False, f"{exc.code}: {exc}")]
    return [
        *results,
        CheckResult("cloud", True, f"{config.cloud.base_url} reachable; signed request accepted"),
        CheckResult("clock", abs(skew) < MAX_CLOCK_SKEW_S, f"clock differs from the cloud by {skew:+.1f} s"),
    ]


def run_selftest(config: KioskConfig, devices: Devices | None = None, cloud: bool = True) -> list[CheckResult]:
    results: list[CheckResult] = []
    frames: list = []
    try:
        devices = devices or build_devices(config.hardware, config.data_dir)
    except DeviceError as exc:
        results.append(CheckResult(exc.device, False, f"{exc.code}: {exc.message}"))
        devices = None
    checks: list[tuple[str, Callable[[Devices], CheckResult]]] = [
        ("camera", lambda d: _camera(d, frames)),
        ("microphone", _microphone),
        ("speaker", _speaker),
        ("printer", _printer),
    ]
    if devices is not None:
        for name, check in checks:
            try:
                results.append(check(devices))
            except DeviceError as exc:
                results.append(CheckResult(name, False, f"{exc.code}: {exc.message}"))
    config.data_dir.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(config.data_dir).free
    results.append(CheckResult("disk", free >= MIN_FREE_BYTES, f"{free / 1e9:.1f} GB free in {config.data_dir}"))
    model_results = verify_all(load_manifest(), config.model_dirs)
    bad = [r for r in model_results if not r.ok]
    detail = f"{len(model_results) - len(bad)}/{len(model_results)} verified"
    results.append(CheckResult("models", not bad, detail + "".join(f"; {r.message}" for r in bad)))
    if not bad:
        results.append(_face(config, frames))
    if cloud:
        results.extend(_cloud(config))
    return results


def format_table(results: list[CheckResult]) -> str:
    width = max(len(r.name) for r in results)
    lines = [f"{r.name:<{width}}  {'PASS' if r.ok else 'FAIL'}  {r.detail}" for r in results]
    passed = sum(r.ok for r in results)
    lines.append(f"{passed}/{len(results)} checks passed")
    return "\n".join(lines)


def as_dicts(results: list[CheckResult]) -> list[dict]:
    return [asdict(r) for r in results]
