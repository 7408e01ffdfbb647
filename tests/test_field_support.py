"""Field agents and support staff: provisioning, self-test, diagnostics bundle, remote pull, audit, PIN."""

from __future__ import annotations

import io
import json
import re
import shutil
import sqlite3
import subprocess
import sys
import zipfile

import pytest
import requests

from cloud.local import free_port
from edge_models.manifest import load_manifest
from kiosk.admin_pin import MAX_FAILURES, PinStore
from kiosk.audit import AuditLog
from kiosk.cloud_client.errors import CloudRejected, CloudUnavailable
from kiosk.cloud_client.identity import KEY_FILE, identity_dir
from kiosk.config import load_config
from kiosk.diagnostics import SECTIONS, build_bundle
from kiosk.logging_setup import LOG_FILE_NAME
from kiosk.provision import CONFIG_FILE, ProvisionError, provision
from kiosk.support import check_in
from tests.cloud_helpers import SUPPORT, TOKEN, start_service

PII = {"id": "11010519491231002X", "phone": "13812345678", "email": "li.na@example.com"}


@pytest.fixture
def service(tmp_path, model):
    svc = start_service(tmp_path, model)
    yield svc
    svc.stop()


@pytest.fixture
def kiosk_config(tmp_path, faces_dir, audio_dir, monkeypatch, swtpm):
    """A box with replay devices (a face in front of the camera), a (software) TPM, fresh data dir, models in the
    shared dir. Provisioning writes the box's own config file, so the test-wide KIOSK_* overrides are lifted."""
    monkeypatch.delenv("KIOSK_DATA_DIR")
    monkeypatch.delenv("KIOSK_EXTRA_MODELS_DIR")
    hw = {
        "camera": {"driver": "replay", "replay_path": str(faces_dir / "Abel_Pacheco" / "Abel_Pacheco_0001.jpg")},
        "microphone": {"driver": "replay", "replay_path": str(audio_dir / "en" / "ps_goforward.wav")},
        "speaker": {"driver": "file", "out_dir": str(tmp_path / "spk")},
        "printer": {"driver": "escpos", "device": str(tmp_path / "lp0")},
        "tpm": swtpm.tcti,
    }
    return load_config(hardware=hw).model_copy(update={"data_dir": tmp_path / "box",
                                                       "extra_models_dir": tmp_path / "box" / "models"})


def test_fresh_provisioning_then_rerun_is_a_no_op(kiosk_config, service, models_dir):
    report = provision(kiosk_config, service.url, TOKEN, "Li's store", "kiosk-shop-0042", models_from=models_dir)
    assert dict(report.steps) == {"models": "done", "register": "done", "config": "done"}
    failed = {r.name: r.detail for r in report.selftest if not r.ok}
    assert failed == {}
    names = {r.name for r in report.selftest}
    assert {"camera", "microphone", "speaker", "printer", "disk", "models", "face_detection", "device_key", "cloud",
            "clock"} <= names
    written = load_config(report.config_path)
    assert written.device_id == "kiosk-shop-0042" and written.shop_name == "Li's store"
    assert str(written.cloud.base_url).rstrip("/") == service.url
    key = identity_dir(kiosk_config.data_dir) / KEY_FILE
    assert oct(key.stat().st_mode & 0o777) == "0o600" and b"ENCRYPTED" in key.read_bytes()

    again = provision(kiosk_config, service.url, TOKEN, "Li's store", "kiosk-shop-0042", models_from=models_dir)
    assert dict(again.steps) == {"models": "already done", "register": "already done", "config": "already done"}


def test_wrong_token_unreachable_cloud_and_resume(kiosk_config, service, models_dir):
    with pytest.raises(CloudRejected, match="bad_token"):
        provision(kiosk_config, service.url, "wrong-token-xyz", "Shop", "kiosk-shop-0043", run_checks=False)
    assert not (kiosk_config.data_dir / CONFIG_FILE).exists()
    with pytest.raises(CloudUnavailable):
        provision(kiosk_config, f"http://127.0.0.1:{free_port()}", TOKEN, "Shop", "kiosk-shop-0043", run_checks=False)
    key_before = (identity_dir(kiosk_config.data_dir) / KEY_FILE).read_bytes()
    # Resume: the key made during the interrupted attempts is reused, registration and config complete.
    report = provision(kiosk_config, service.url, TOKEN, "Shop", "kiosk-shop-0043", run_checks=False)
    assert dict(report.steps)["register"] == "done"
    assert (identity_dir(kiosk_config.data_dir) / KEY_FILE).read_bytes() == key_before


def test_interrupted_after_registration_resumes_at_the_config(kiosk_config, service, monkeypatch):
    import kiosk.provision as prov

    def power_cut(*_a, **_k):
        raise OSError("power cut")

    monkeypatch.setattr(prov, "_write_config", power_cut)
    with pytest.raises(OSError):
        provision(kiosk_config, service.url, TOKEN, "Shop", "kiosk-shop-0044", run_checks=False)
    monkeypatch.undo()
    report = provision(kiosk_config, service.url, TOKEN, "Shop", "kiosk-shop-0044", run_checks=False)
    assert dict(report.steps) == {"models": "already done", "register": "already done", "config": "done"}


def test_corrupt_model_bundle_is_rejected_and_the_previous_state_kept(kiosk_config, service, models_dir, tmp_path):
    provision(kiosk_config, service.url, TOKEN, "Shop", "kiosk-shop-0045", models_from=models_dir, run_checks=False)
    config_before = (kiosk_config.data_dir / CONFIG_FILE).read_bytes()
    bundle = tmp_path / "usb"
    shutil.copytree(models_dir, bundle)
    spec = load_manifest().get("minifasnet_v2")
    (bundle / spec.file).chmod(0o644)
    (bundle / spec.file).write_bytes(b"\0" * spec.size)
    installed = kiosk_config.installed_models_dir / spec.file
    installed.write_bytes(b"damaged")  # the installed copy is damaged too: a reinstall is attempted
    with pytest.raises(ProvisionError, match=f"minifasnet_v2.*{spec.sha256}"):
        provision(kiosk_config, service.url, TOKEN, "Other shop", "kiosk-shop-0045", models_from=bundle)
    assert (kiosk_config.data_dir / CONFIG_FILE).read_bytes() == config_before
    assert installed.read_bytes() == b"damaged"  # never overwritten with the bad bytes


def _scan_for_pii(blob: bytes) -> list[str]:
    text = blob.decode("utf-8", errors="replace")
    found = [k for k, v in PII.items() if v in text]
    if re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", text):
        found.append("phone-shaped")
    if re.search(r"[A-Za-z0-9+/]{200,}", text):
        found.append("base64 blob")
    return found


def test_diagnostics_bundle_shape_and_no_pii(kiosk_config, service):
    report = provision(kiosk_config, service.url, TOKEN, "Shop", "kiosk-shop-0046", run_checks=False)
    kiosk_config = load_config(report.config_path)
    log_dir = kiosk_config.log_dir
    log_dir.mkdir(parents=True, exist_ok=True)
    # A raw line as an old build or a careless handler might have left it: the bundle must still be clean.
    raw = {"ts": "2026-11-22 04:00:00,000", "level": "INFO", "message": f"applicant {PII['id']} phone {PII['phone']}",
           "email": PII["email"], "frame": "A" * 400, "customer_name": "Li Na"}
    (log_dir / LOG_FILE_NAME).write_text(json.dumps(raw) + "\nnot json " + PII["phone"] + "\n")
    audit = AuditLog.for_data_dir(kiosk_config.data_dir)
    audit.append("system", "session_end", {"session": "abcd1234", "end_reason": "completed", "phone": PII["phone"]})
    audit.close()
    data = build_bundle(kiosk_config, selftest=[])
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert sorted(zf.namelist()) == sorted(SECTIONS)
        contents = {name: zf.read(name) for name in zf.namelist()}
    for name, blob in contents.items():
        assert _scan_for_pii(blob) == [], name
    assert b"Li Na" not in b"".join(contents.values())
    manifest = json.loads(contents["manifest.json"])
    assert manifest["format"] == 1 and manifest["device_id"] == "kiosk-shop-0046"
    assert set(json.loads(contents["config.json"])) >= {"device_id", "cloud", "vision", "journey"}
    models = json.loads(contents["models.json"])
    assert {m["model"] for m in models} == set(load_manifest().names()) and all("sha256" in m for m in models)
    assert json.loads(contents["audit.json"])["ok"] is True
    sessions = json.loads(contents["sessions.json"])
    assert sessions[0]["action"] == "session_end" and sessions[0]["detail"]["phone"] == "**REDACTED**"
    assert b"[phone]" in contents["logs.jsonl"] and b"**REDACTED**" in contents["logs.jsonl"]


def test_remote_pull_round_trip(kiosk_config, service):
    provision(kiosk_config, service.url, TOKEN, "Shop", "kiosk-shop-0047", run_checks=False)
    config = load_config(kiosk_config.data_dir / CONFIG_FILE)
    auth = {"Authorization": f"Bearer {SUPPORT}"}
    assert requests.post(service.url + "/v1/support/bundle-requests", json={"device_id": "kiosk-shop-0047"},
                         timeout=5).status_code == 403
    made = requests.post(service.url + "/v1/support/bundle-requests", json={"device_id": "kiosk-shop-0047"},
                         headers=auth, timeout=5)
    assert made.status_code == 201
    request_id = made.json()["request_id"]
    pending = requests.get(f"{service.url}/v1/support/bundles/{request_id}", headers=auth, timeout=5)
    assert pending.status_code == 409
    done = check_in(config)
    assert done.uploaded == [request_id] and done.audit.startswith("anchored at record")
    assert check_in(config).uploaded == []  # nothing pending any more
    download = requests.get(f"{service.url}/v1/support/bundles/{request_id}", headers=auth, timeout=5)
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.content)) as zf:
        assert sorted(zf.namelist()) == sorted(SECTIONS)
    # The upload is signed like every device request: an unsigned upload is refused.
    unsigned = requests.put(f"{service.url}/v1/devices/bundles/{request_id}", data=b"PK...", timeout=5)
    assert unsigned.status_code == 401


@pytest.mark.parametrize("tamper", ["edit", "delete", "reorder"])
def test_audit_log_detects_tampering(tmp_path, tamper):
    audit = AuditLog(tmp_path / "audit.sqlite3")
    for i in range(5):
        audit.append("staff", "selftest", {"passed": i})
    assert audit.verify().ok
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        audit._db.execute("UPDATE audit SET action = 'x' WHERE seq = 2")
    audit.close()
    db = sqlite3.connect(tmp_path / "audit.sqlite3")  # an attacker with the file drops the guards
    db.execute("DROP TRIGGER audit_no_update")
    db.execute("DROP TRIGGER audit_no_delete")
    if tamper == "edit":
        db.execute("""UPDATE audit SET detail = '{"passed": 99}' WHERE seq = 3""")
        expected = "record 3 was altered"
    elif tamper == "delete":
        db.execute("DELETE FROM audit WHERE seq = 3")
        expected = "record 3 is missing"
    else:
        rows = db.execute("SELECT ts, actor, action, detail, prev_hash, hash FROM audit WHERE seq IN (2, 3) ORDER BY seq").fetchall()
        db.execute("UPDATE audit SET ts=?, actor=?, action=?, detail=?, prev_hash=?, hash=? WHERE seq=2", rows[1])
        db.execute("UPDATE audit SET ts=?, actor=?, action=?, detail=?, prev_hash=?, hash=? WHERE seq=3", rows[0])
        expected = "record 2 does not follow record 1"
    db.commit()
    db.close()
    result = AuditLog(tmp_path / "audit.sqlite3").verify()
    assert not result.ok and expected in result.problem


def test_audit_verify_cli(tmp_path):
    env_dir = tmp_path / "box"
    AuditLog.for_data_dir(env_dir).append("staff", "pin_set")
    run = lambda: subprocess.run([sys.executable, "-m", "kiosk.cli", "audit", "verify"], capture_output=True,
                                 text=True, env={**__import__("os").environ, "KIOSK_DATA_DIR": str(env_dir)}, timeout=60,
                                 check=False)
    out = run()
    assert out.returncode == 0 and "1 records, chain intact" in out.stdout
    db = sqlite3.connect(env_dir / "audit.sqlite3")
    db.execute("DROP TRIGGER audit_no_update")
    db.execute("UPDATE audit SET actor = 'customer'")
    db.commit()
    db.close()
    out = run()
    assert out.returncode == 1 and "TAMPERED: record 1 was altered" in out.stdout


def test_pin_lockout_and_audit(tmp_path):
    now = [1000.0]
    audit = AuditLog(tmp_path / "audit.sqlite3")
    pins = PinStore(tmp_path / "pin.json", clock=lambda: now[0], audit=audit)
    with pytest.raises(ValueError):
        pins.set_pin("1234")
    pins.set_pin("246810")
    with pytest.raises(PermissionError):  # a new PIN needs the current one
        pins.set_pin("135790")
    assert oct((tmp_path / "pin.json").stat().st_mode & 0o777) == "0o600"
    assert "246810" not in (tmp_path / "pin.json").read_text()
    for i in range(MAX_FAILURES - 1):
        assert pins.check("000000").tries_left == MAX_FAILURES - 1 - i
    locked = pins.check("000000")
    assert not locked.ok and locked.locked_for_s > 0
    assert not pins.check("246810").ok  # right PIN, still locked
    now[0] += 301
    assert pins.check("246810").ok
    actions = [r.action for r in audit.records()]
    assert actions[0] == "pin_set" and actions.count("pin_failed") == MAX_FAILURES - 1
    assert "pin_locked" in actions and "pin_refused_locked" in actions and actions[-1] == "pin_accepted"
    assert audit.verify().ok


def test_logs_export_cli(tmp_path):
    import os

    out = tmp_path / "bundle.zip"
    result = subprocess.run([sys.executable, "-m", "kiosk.cli", "logs", "export", "--out", str(out), "--no-selftest",
                             "--since-hours", "24"], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "KIOSK_DATA_DIR": str(tmp_path / "box")}, check=False)
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == sorted(SECTIONS)
    assert [r.action for r in AuditLog.for_data_dir(tmp_path / "box").records()] == ["logs_export"]


def test_a_key_from_before_encryption_still_loads(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kiosk.cloud_client.identity import load_key

    key = Ed25519PrivateKey.generate()
    (tmp_path / KEY_FILE).write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()))
    assert load_key(tmp_path).public_key().public_bytes_raw() == key.public_key().public_bytes_raw()
