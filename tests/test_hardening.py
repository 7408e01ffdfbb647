"""Fault and attack findings of issue 13, each reproduced against a real service on loopback (or a misbehaving
HTTP server), each failing on the code before the fix."""

from __future__ import annotations

import io
import json
import socket
import sqlite3
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import create_engine

from contract.reference import make_reference, parse_reference
from contract.signing import HEADER_IDEMPOTENCY, sign_request
from kiosk.cloud_client.drainer import OutboxDrainer
from kiosk.cloud_client.errors import CloudRejected, CloudUnavailable, InsecureCloudUrl
from kiosk.cloud_client.outbox import Outbox
from kiosk.cloud_client.stages import CloudApplications
from kiosk.journey import events as ev
from kiosk.journey.session import CreditEstimate, OfferSummary, SessionData
from tests.cloud_helpers import SUPPORT, TOKEN, application, client_for, estimate_request, register, start_service
from tests.helpers.gateway import Gateway, start_gateway


@pytest.fixture(scope="module")
def good_applicants(model):
    """People who get an offer: each kiosk of this module scores its own (the same person at a second kiosk
    within a day is held for review)."""
    return [r.id_number for r in model.records() if model.score(r)[0] < 0.12][:20]


@pytest.fixture(scope="module")
def good_applicant(good_applicants):
    return good_applicants[0]


def session_for(estimate, amount: float = 1000.0) -> SessionData:
    data = SessionData(session_id="s", started_at=0)
    data.estimate = CreditEstimate(estimate.limit, "CNY", estimate.grade, estimate.estimate_id)
    data.offers = (OfferSummary("rural-bank-flex:12", amount, 12, 0.108, 88.0, 1056.0),)
    return data


def new_kiosk(service, where, name: str):
    """A kiosk of its own (one outbox per device, as in the field): its identity and its outbox."""
    identity = register(service, where / name, f"kiosk-{name}")
    return identity, Outbox.for_data_dir(where / name)


@pytest.fixture
def gateway():
    httpd, url = start_gateway()
    yield url
    Gateway.drip_s = 0.0
    httpd.shutdown()


# ---- 1. the outbox delivers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", [
    (429, b"Too Many Requests"), (408, b"Request Timeout"), (404, b"<html>Not Found</html>"),
    (401, b'{"message": "Unauthorized"}'), (502, b"Bad Gateway"),
])
def test_a_gateways_answer_leaves_the_application_pending(gateway, service, good_applicants, tmp_path, answer):
    """Finding 1: any 4xx marked the row rejected for good. Only the service's own final refusal may."""
    identity, outbox = new_kiosk(service, tmp_path, f"gateway-{answer[0]}")
    applicant = good_applicants[1 + [429, 408, 404, 401, 502].index(answer[0])]
    estimate = client_for(service.url, identity).estimate(estimate_request(applicant, amount=1000))
    Gateway.answer = answer
    recorded = CloudApplications(client_for(gateway, identity), outbox).submit(session_for(estimate), "rural-bank-flex:12",
                                                                               f"gateway-{answer[0]}")
    assert isinstance(recorded, ev.ApplicationRecorded) and recorded.queued
    assert outbox.counts() == {"pending": 1}
    report = outbox.drain(CloudApplications(client_for(service.url, identity), outbox).send)
    assert (report.sent, report.rejected, report.remaining) == (1, 0, 0), outbox._db.execute(
        "SELECT last_error FROM outbox").fetchall()


def test_a_kiosk_clock_400_s_ahead_resyncs_and_delivers(service, good_applicants, tmp_path):
    """Finding 1: a stale-timestamp answer lost 3/3 applications; the client now learns the service's clock."""
    identity, outbox = new_kiosk(service, tmp_path, "clock-ahead")
    client = client_for(service.url, identity)
    estimates = [client.estimate(estimate_request(good_applicants[10], amount=1000)) for _ in range(3)]
    for i, estimate in enumerate(estimates):
        outbox.enqueue("application", f"clock-ahead-{i}", {"estimate_id": estimate.estimate_id, "offer_id": "rural-bank-flex:12",
                                                     "amount": 1000.0, "term_months": 12})
    ahead = client_for(service.url, identity)
    ahead.clock_offset = 400.0  # what a clock 400 s fast signs
    report = outbox.drain(CloudApplications(ahead, outbox).send)
    assert (report.sent, report.rejected, report.remaining) == (3, 0, 0), outbox._db.execute(
        "SELECT last_error FROM outbox").fetchall()
    assert abs(ahead.clock_offset) < 5


def test_the_running_kiosk_drains_the_outbox_when_the_network_returns(tmp_path, model, good_applicant):
    """Finding 1: nothing but the CLI drained the outbox; "it will be sent automatically" was not true."""
    (tmp_path / "svc").mkdir()
    service = start_service(tmp_path / "svc", model)
    identity = register(service, tmp_path / "kiosk")
    estimate = client_for(service.url, identity).estimate(estimate_request(good_applicant, amount=1000))
    port = service.port
    service.stop()
    outbox = Outbox.for_data_dir(tmp_path / "kiosk")
    stage = CloudApplications(client_for(service.url, identity), outbox)
    drainer = OutboxDrainer(outbox, stage.send, min_pause_s=0.2, max_pause_s=0.4)
    recorded = stage.submit(session_for(estimate), "rural-bank-flex:12", "drain-0001")
    assert recorded.queued and outbox.counts() == {"pending": 1}
    drainer.start()
    restarted = start_service(tmp_path / "svc", model, port)
    try:
        deadline = time.monotonic() + 10
        while outbox.counts() != {"sent": 1} and time.monotonic() < deadline:
            time.sleep(0.1)
        assert outbox.counts() == {"sent": 1}
        with create_engine(restarted.settings.database_url).connect() as conn:
            assert conn.exec_driver_sql("SELECT reference FROM applications").scalars().all() == [recorded.reference]
    finally:
        drainer.stop()
        restarted.stop()


def test_references_are_unique_across_the_fleet_and_catch_a_misheard_character(service, tmp_path):
    """Finding 1: the printed reference (Q000001) was a local row number every kiosk reused."""
    first, second = register(service, tmp_path / "a", "kiosk-ref-0001"), register(service, tmp_path / "b", "kiosk-ref-0002")
    assert first.device_number != second.device_number
    assert make_reference(first.device_number, 1) != make_reference(second.device_number, 1)
    reference = make_reference(first.device_number, 1234)
    assert parse_reference(reference) == (first.device_number, 1234)
    assert parse_reference(reference.lower()) == (first.device_number, 1234)
    wrong = reference[:-2] + ("1" if reference[-2] != "1" else "2") + reference[-1]
    assert parse_reference(wrong) is None


def test_an_application_the_disk_cannot_hold_is_not_promised(service, good_applicants, tmp_path):
    """Finding 9: a raw sqlite3 error escaped the submit stage."""
    identity, outbox = new_kiosk(service, tmp_path, "disk-full")
    estimate = client_for(service.url, identity).estimate(estimate_request(good_applicants[11], amount=1000))

    def full(*_args):
        raise sqlite3.OperationalError("database or disk is full")

    outbox.enqueue = full
    result = CloudApplications(client_for(service.url, identity), outbox).submit(session_for(estimate),
                                                                                 "rural-bank-flex:12", "disk-full-1")
    assert result == ev.ApplicationFailed(code="not_stored")


# ---- 2. deadlines -------------------------------------------------------------------------------------------


def test_a_server_dripping_its_status_line_cannot_hold_the_kiosk(gateway, identity):
    """Finding 2: one byte every 2 s kept the stage blocked past 150 s (the read timeout resets per byte)."""
    Gateway.drip_s = 0.3
    client = client_for(gateway, identity)
    client.deadline_s = 1.5
    t0 = time.monotonic()
    with pytest.raises(CloudUnavailable, match="no answer"):
        client.offers()
    assert time.monotonic() - t0 < 2.5


def test_a_cloud_call_gives_up_at_once_when_the_customer_cancels(gateway, identity):
    """Finding 2: the journey's worker waited out the network while cancel, timeouts and the wipe could not act."""
    Gateway.drip_s = 0.3
    stop = threading.Event()
    client = client_for(gateway, identity)
    client.stop, client.deadline_s = stop, 30.0
    threading.Timer(0.3, stop.set).start()
    t0 = time.monotonic()
    with pytest.raises(CloudUnavailable, match="stopped"):
        client.offers()
    assert time.monotonic() - t0 < 0.8


def test_plain_http_is_refused_outside_this_machine():
    """Finding 5: plain http:// cloud URLs were accepted outside loopback."""
    from kiosk.config import CloudSettings

    with pytest.raises(InsecureCloudUrl):
        client_for("http://10.1.2.3:8080", None)
    with pytest.raises(ValueError, match="https"):
        CloudSettings(base_url="http://score.example.com")
    assert client_for("https://score.example.com", None).base_url == "https://score.example.com"


# ---- 3. the service under hostile input ----------------------------------------------------------------------


def _chunked_post(url: str, path: str, total: int) -> int:
    """A body without Content-Length, sent in chunks: the status the service answers with."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n".encode())
        chunk = b"x" * 65536
        try:
            for _ in range(total // len(chunk)):
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sock.sendall(b"0\r\n\r\n")
        except OSError:  # the service hung up once the limit was passed
            pass
        answer = sock.recv(4096)
    return int(answer.split(b" ", 2)[1])


def test_a_chunked_body_is_cut_off_at_the_limit_before_authentication(service):
    """Finding 3: chunked bodies bypassed the size limit (4 x 256 MB held 2.2 GB)."""
    t0 = time.monotonic()
    assert _chunked_post(service.url, "/v1/devices/register", 8_000_000) == 413
    assert time.monotonic() - t0 < 10


@pytest.mark.parametrize("body", [
    b'{"token": NaN, "device_id": "kiosk-x-1", "public_key": "AAAA", "shop": "S"}',
    b'{"token": 1e999, "device_id": "kiosk-x-1", "public_key": "AAAA", "shop": "S"}',
    b'{"token": "\\ud800\\ud800\\ud800\\ud800", "device_id": "kiosk-x-1", "public_key": "AAAA", "shop": "S"}',
    '{"token": "令牌令牌令牌令牌", "device_id": "kiosk-x-1", "public_key": "AAAA", "shop": "S"}'.encode(),
    b'{"token": "12345678", "device_id": "kiosk-x-1", "public_key": "AAAA", "shop": "S", "n": 1' + b"0" * 5000 + b"}",
    b"\xff\xfe not utf-8",
])
def test_hostile_json_gets_the_documented_error_body_never_a_500(service, body):
    response = requests.post(service.url + "/v1/devices/register", data=body,
                             headers={"Content-Type": "application/json"}, timeout=5)
    assert response.status_code in (403, 413, 422), response.text
    error = response.json()["error"]
    assert set(error) >= {"code", "message"} and "Traceback" not in response.text


def test_every_error_the_service_raises_is_in_the_contract_and_the_openapi():
    """Every ApiError code in the service is in the contract's catalogue (which gives its status: an unknown code
    would fail at the moment of refusing), and every route's OpenAPI lists the common ones."""
    import re
    from pathlib import Path

    from contract.errors import ERRORS

    cloud = Path(__file__).resolve().parents[1] / "cloud"
    raised = {code for f in cloud.rglob("*.py") for code in re.findall(r'ApiError\("([a-z_]+)"', f.read_text())}
    assert len(raised) > 20 and raised <= set(ERRORS), raised - set(ERRORS)
    openapi = json.loads((Path(__file__).resolve().parents[1] / "cloud" / "openapi.json").read_text())
    for path, methods in openapi["paths"].items():
        for method in methods.values():
            assert {"413", "422", "500"} <= set(method["responses"]), path


# ---- 4. tokens -----------------------------------------------------------------------------------------------


def test_wrong_tokens_lock_the_source_out(tmp_path, model):
    """Finding 4: 6,000 wrong guesses, no 429."""
    svc = start_service(tmp_path, model, max_token_failures=5)
    try:
        body = {"device_id": "kiosk-lock-1", "public_key": "A" * 44, "shop": "S"}
        codes = [requests.post(svc.url + "/v1/devices/register", json={**body, "token": f"guess-{i:04d}"},
                               timeout=5).status_code for i in range(6)]
        assert codes == [403] * 5 + [429]
        right = requests.post(svc.url + "/v1/devices/register", json={**body, "token": TOKEN}, timeout=5)
        assert right.status_code == 429 and right.json()["error"]["code"] == "locked_out"
    finally:
        svc.stop()


def test_a_support_token_needs_the_bearer_scheme(service):
    """Finding 4: a support token without "Bearer " was accepted."""
    url = service.url + "/v1/support/flags"
    assert requests.get(url, headers={"Authorization": SUPPORT}, timeout=5).status_code == 403
    assert requests.get(url, headers={"Authorization": f"Basic {SUPPORT}"}, timeout=5).status_code == 403
    assert requests.get(url, headers={"Authorization": f"Bearer {SUPPORT}"}, timeout=5).status_code == 200


# ---- 5. duplicates -------------------------------------------------------------------------------------------


def test_the_idempotency_key_is_covered_by_the_signature(service, identity, good_applicant):
    """Finding 5: a captured, re-signed retry with a new key created a second application."""
    estimate = client_for(service.url, identity).estimate(estimate_request(good_applicant, amount=1000))
    body = application(identity, estimate.estimate_id, 1000).model_dump_json().encode()
    headers = sign_request(identity.key, identity.device_id, "POST", "/v1/applications", body,
                           idempotency_key="key-one-0001")
    headers.update({"Content-Type": "application/json", HEADER_IDEMPOTENCY: "key-two-0002"})
    response = requests.post(service.url + "/v1/applications", data=body, headers=headers, timeout=5)
    assert response.status_code == 401 and response.json()["error"]["code"] == "bad_signature"


def test_one_estimate_takes_one_application_however_many_are_sent_at_once(service, identity, good_applicant):
    """Finding 5: one estimate accepted 11 applications of 1,000 against a 5,000 limit."""
    client = client_for(service.url, identity)
    estimate = client.estimate(estimate_request(good_applicant, amount=1000))

    def apply(i: int) -> str:
        try:
            client.submit_application(application(identity, estimate.estimate_id, 1000), f"many-{i:04d}")
            return "created"
        except CloudRejected as exc:
            assert exc.final
            return exc.error_code

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(apply, range(16)))
    assert outcomes.count("created") == 1 and set(outcomes) == {"created", "estimate_used"}
    with create_engine(service.settings.database_url).connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM applications WHERE estimate_id = ?",
                                    (estimate.estimate_id,)).scalar() == 1


# ---- 10. bundle uploads --------------------------------------------------------------------------------------


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(("entries", "why"), [
    ({"../../etc/cron.d/x": b"boom"}, "leaves the bundle"),
    ({"/abs/path.txt": b"boom"}, "leaves the bundle"),
    ({"logs.jsonl": b"\0" * 20_000_000}, "inflates"),
])
def test_unsafe_bundles_are_refused(service, identity, entries, why):
    """Finding 10: zip-slip names and a 195 KB zip that inflates to 200 MB were accepted."""
    created = requests.post(service.url + "/v1/support/bundle-requests", json={"device_id": identity.device_id},
                            headers={"Authorization": f"Bearer {SUPPORT}"}, timeout=5).json()
    with pytest.raises(CloudRejected, match="bad_bundle") as info:
        client_for(service.url, identity).upload_bundle(created["request_id"], _zip(entries))
    assert why in str(info.value)


# ---- 7. the audit log -----------------------------------------------------------------------------------------


@pytest.fixture
def anchored_box(service, tmp_path):
    """A registered kiosk whose audit log of 5 records is anchored in the cloud: (config, audit path)."""
    from kiosk.audit import AuditLog
    from kiosk.config import load_config
    from kiosk.support import check_in

    identity = register(service, tmp_path / "box", f"kiosk-audit-{tmp_path.name[-12:]}")
    base = load_config()
    config = base.model_copy(update={"data_dir": tmp_path / "box",
                                     "cloud": base.cloud.model_copy(update={"base_url": service.url})})
    audit = AuditLog.for_data_dir(config.data_dir)
    for i in range(5):
        audit.append("staff", "selftest", {"passed": i})
    audit.close()
    assert check_in(config).audit == "anchored at record 5"
    assert identity.device_id
    return config, config.data_dir / "audit.sqlite3"


def _tamper(path, *statements, params=()):
    db = sqlite3.connect(path)  # an attacker with the file drops the guards
    db.execute("DROP TRIGGER IF EXISTS audit_no_update")
    db.execute("DROP TRIGGER IF EXISTS audit_no_delete")
    for statement in statements:
        db.execute(statement, params)
    db.commit()
    db.close()


def _audit_cli(config):
    import os
    import subprocess
    import sys

    env = {**os.environ, "KIOSK_DATA_DIR": str(config.data_dir), "KIOSK_CLOUD__BASE_URL": str(config.cloud.base_url)}
    return subprocess.run([sys.executable, "-m", "kiosk.cli", "audit", "verify"], capture_output=True, text=True,
                          env=env, timeout=60, check=False)


def test_an_edit_rechained_without_the_key_or_a_forged_record_is_caught(anchored_box):
    """Finding 7: editing a record and re-chaining, or appending a forged one, left "chain intact"."""
    import hashlib

    from kiosk.audit import AuditLog

    config, path = anchored_box
    row = sqlite3.connect(path).execute("SELECT seq, ts, actor, action, detail, prev_hash FROM audit WHERE seq = 5"
                                        ).fetchone()
    forged = json.dumps([row[5], 5, repr(row[1]), "staff", "pin_set", "{}"], ensure_ascii=False)
    _tamper(path, "UPDATE audit SET action = 'pin_set', detail = '{}', hash = ? WHERE seq = 5",
            params=(hashlib.sha256(forged.encode()).hexdigest(),))
    result = AuditLog.for_data_dir(config.data_dir).verify()
    assert not result.ok and "record 5 was altered" in result.problem


@pytest.mark.parametrize(("tamper", "expected", "code"), [
    ("truncate", "truncated", "audit_truncated"),
    ("delete_file", "truncated", "audit_truncated"),
    ("rewrite_with_key", "rewritten", "audit_forked"),
])
def test_a_cut_a_new_file_or_a_rewrite_is_caught_by_the_cloud_anchor(anchored_box, service, tamper, expected, code):
    """Finding 7: truncating, deleting, or editing and re-chaining left `kiosk audit verify` saying "chain intact"."""
    from kiosk.audit import AuditLog, record_hash
    from kiosk.support import check_in

    config, path = anchored_box
    if tamper == "truncate":
        _tamper(path, "DELETE FROM audit WHERE seq >= 4")
    elif tamper == "delete_file":
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
    else:  # root on the box: the key is readable, every record from 3 on is re-chained
        key = (config.data_dir / "device" / "audit.key").read_bytes()
        db = sqlite3.connect(path)
        rows = db.execute("SELECT seq, ts, actor, action, detail, hash FROM audit ORDER BY seq").fetchall()
        db.close()
        prev = rows[1][5]  # record 2 stays as it was
        statements = []
        for seq, ts, actor, action, detail, _ in rows[2:]:
            detail = '{"passed": 99}' if seq == 3 else detail
            digest = record_hash(key, prev, seq, ts, actor, action, detail)
            statements.append((detail, prev, digest, seq))
            prev = digest
        db = sqlite3.connect(path)
        db.execute("DROP TRIGGER audit_no_update")
        db.executemany("UPDATE audit SET detail = ?, prev_hash = ?, hash = ? WHERE seq = ?", statements)
        db.commit()
        db.close()
    assert AuditLog.for_data_dir(config.data_dir).verify().ok  # the file alone looks fine
    out = _audit_cli(config)
    assert out.returncode == 1 and expected in out.stdout and "Traceback" not in out.stderr, out.stdout + out.stderr
    assert check_in(config).audit.startswith(f"REFUSED by the cloud ({code})")
    flags = requests.get(service.url + "/v1/support/flags", headers={"Authorization": f"Bearer {SUPPORT}"},
                         timeout=5).json()["flags"]
    assert any(f["kind"] == code for f in flags)


def test_a_damaged_audit_file_is_reported_not_a_crash(anchored_box):
    """Finding 7: a truncated file made `kiosk audit verify` crash with a traceback."""
    config, path = anchored_box
    _tamper(path, "PRAGMA wal_checkpoint(TRUNCATE)")
    data = path.read_bytes()
    path.write_bytes(b"garbage!" * 16 + data[128:1000])
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    out = _audit_cli(config)
    assert out.returncode == 1 and "damaged" in out.stdout and "Traceback" not in out.stderr, out.stdout + out.stderr


# ---- 8. kiosk escape -----------------------------------------------------------------------------------------


def test_changing_the_pin_needs_the_current_one_or_a_field_agents_token(service, tmp_path):
    """Finding 8: `kiosk pin --pin X` set a new staff PIN without the old one."""
    import os
    import subprocess
    import sys

    from kiosk.admin_pin import PinStore

    identity = register(service, tmp_path / "box", "kiosk-pin-0001")
    env = {**os.environ, "KIOSK_DATA_DIR": str(tmp_path / "box"), "KIOSK_CLOUD__BASE_URL": service.url}

    def pin(stdin: str, *extra: str):
        return subprocess.run([sys.executable, "-m", "kiosk.cli", "pin", "--stdin", *extra], input=stdin,
                              capture_output=True, text=True, env=env, timeout=60, check=False)

    assert pin("246810\n").returncode == 0  # the first PIN needs nothing
    refused = pin("000000\n135790\n")
    assert refused.returncode == 1 and "needs the current PIN" in refused.stderr
    assert pin("246810\n135790\n").returncode == 0  # the current PIN, then the new one
    token = tmp_path / "agent-token"
    token.write_text("not-the-token\n")
    assert pin("999999\n", "--agent-token-file", str(token)).returncode == 1
    token.write_text(TOKEN + "\n")
    assert pin("999999\n", "--agent-token-file", str(token)).returncode == 0
    assert PinStore(tmp_path / "box" / "device" / "admin_pin.json").check("999999").ok
    assert identity.device_number


def test_an_edited_pin_state_file_locks_the_pad_instead_of_resetting_it(tmp_path):
    """Finding 8: the PIN state file could be edited to reset the lockout."""
    from kiosk.admin_pin import MAX_FAILURES, PinStore

    pins = PinStore(tmp_path / "pin.json")
    pins.set_pin("246810")
    for _ in range(MAX_FAILURES):
        pins.check("000000")
    assert not pins.check("246810").ok  # locked
    raw = json.loads((tmp_path / "pin.json").read_text())
    raw["state"].update(failures=0, locked_until=0)
    (tmp_path / "pin.json").write_text(json.dumps(raw))
    result = pins.check("246810")
    assert not result.ok and result.locked_for_s > 0  # the edit does not unlock it: it locks it for good


def test_escape_and_window_close_do_not_quit_the_fullscreen_kiosk():
    """Finding 8: Escape on a USB keyboard quit the fullscreen app."""
    from ui.app import KioskApp

    assert KioskApp._swallow_escape(None, 27, 0, 27, None, []) is True
    assert KioskApp._swallow_escape(None, 13, 0, 13, None, []) is False
    app = KioskApp.__new__(KioskApp)
    app.fullscreen = True
    assert app._refuse_close() is True


def test_the_systemd_unit_restarts_the_kiosk_and_keeps_its_files_private():
    import configparser
    from pathlib import Path

    unit = configparser.ConfigParser(strict=False)
    unit.optionxform = str
    unit.read(Path(__file__).resolve().parents[1] / "deploy" / "kiosk.service")
    service = unit["Service"]
    assert service["Restart"] == "always" and service["UMask"] == "0077" and " run" in service["ExecStart"]


# ---- 9. a full disk -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "stdin"), [
    (["audit", "verify"], None),
    (["logs", "export", "--out", "{tmp}/bundle.zip", "--no-selftest"], None),
    (["pin", "--stdin"], "246810\n"),
])
def test_commands_on_a_full_disk_say_so_instead_of_a_traceback(tmp_path, args, stdin):
    """Finding 9: `audit verify`, `logs export` and `pin` crashed with tracebacks on a full disk. Here no file
    may grow at all (RLIMIT_FSIZE 0: every write fails as on a disk with no space left)."""
    import os
    import resource
    import signal
    import subprocess
    import sys

    box = tmp_path / "box"

    def no_space():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))

    out = subprocess.run([sys.executable, "-m", "kiosk.cli", *(a.format(tmp=tmp_path) for a in args)], input=stdin,
                         capture_output=True, text=True, env={**os.environ, "KIOSK_DATA_DIR": str(box)}, timeout=120,
                         preexec_fn=no_space, check=False)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    assert "disk is full" in out.stderr or "no space" in out.stdout, out.stdout + out.stderr


# ---- 6. the device key at rest --------------------------------------------------------------------------------


def test_a_copy_of_the_disk_does_not_open_a_tpm_sealed_device_key(tmp_path, swtpm):
    """Finding 6: the key's passphrase was derived from /etc/machine-id, on the same disk: the copied files alone
    decrypted it. Sealed by the TPM, the copied files open only with that TPM."""
    import shutil

    from hardware.errors import DeviceDataError
    from kiosk.audit import AuditLog
    from kiosk.cloud_client.identity import SALT_FILE, create_key, key_protection, load_key, save_registration
    from tests.conftest import SoftwareTpm

    box = tmp_path / "box" / "device"
    key = create_key(box, swtpm.tcti)
    assert key_protection(box) == "tpm" and not (box / SALT_FILE).exists()
    sign = key.sign(b"x")
    # The outbox's and the audit chain's keys come from the sealed secret: no key file lies beside them.
    save_registration(tmp_path / "box", "kiosk-tpm-0001", "https://score.example.com", 7)
    Outbox.for_data_dir(tmp_path / "box").enqueue("application", "tpm-key-0001", {"estimate_id": "e" * 16})
    AuditLog.for_data_dir(tmp_path / "box").append("staff", "selftest")
    assert not (box / "outbox.key").exists() and not (box / "audit.key").exists()
    swtpm.stop()
    swtpm.start()  # the same TPM after a reboot (its state kept): the key opens
    assert load_key(box).sign(b"x") == sign
    assert Outbox.for_data_dir(tmp_path / "box").items()[0].payload == {"estimate_id": "e" * 16}
    assert AuditLog.for_data_dir(tmp_path / "box").verify().ok
    copy = tmp_path / "copy" / "device"
    shutil.copytree(box, copy)
    swtpm.stop()
    other = SoftwareTpm(tmp_path / "other-box-tpm")
    other.port, other.ctrl = swtpm.port, swtpm.ctrl  # another box's TPM, at the same address
    other.start()
    try:
        with pytest.raises(DeviceDataError, match="cannot unseal"):
            load_key(copy)
    finally:
        other.stop()


def test_a_leaked_provisioning_token_registers_only_so_many_devices_an_hour(tmp_path, model):
    """Finding 4, per token: rate limiting per source does not stop a leaked token used from many addresses."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from contract.signing import public_key_b64

    svc = start_service(tmp_path, model, max_registrations_per_token_hour=2)
    try:
        def new_device(i):
            return requests.post(svc.url + "/v1/devices/register", timeout=5, json={
                "token": TOKEN, "device_id": f"kiosk-leak-{i:04d}", "public_key": public_key_b64(
                    Ed25519PrivateKey.generate()), "shop": "S"})

        codes = [new_device(i).status_code for i in range(3)]
        assert codes == [200, 200, 429]
    finally:
        svc.stop()


def test_a_database_from_an_older_service_is_refused_at_start_not_per_request(tmp_path, model):
    """A table without this version's columns (device_number, reference, ...) made every registration a 500."""
    import sqlite3 as sql

    from cloud.db import SchemaOutdated

    db = sql.connect(tmp_path / "service.sqlite3")
    db.execute("CREATE TABLE devices (device_id TEXT PRIMARY KEY, public_key TEXT, shop TEXT, registered_at REAL)")
    db.commit()
    db.close()
    with pytest.raises(SchemaOutdated, match="devices lacks columns device_number"):
        start_service(tmp_path, model)


def test_the_allocator_is_bounded_and_a_session_end_gives_memory_back(monkeypatch):
    """Issue 16 item 10: memory grew with every session. On glibc (the kiosk's), both calls take effect, and the
    runner returns freed memory when a session ends."""
    from kiosk import memory
    from kiosk import runner as runner_module
    from kiosk.journey import effects as fx
    from kiosk.runner import Runner

    assert memory.tune_malloc() and memory.return_free_memory()
    trims = []
    monkeypatch.setattr(runner_module, "return_free_memory", lambda: trims.append(1) or True)
    bare = Runner.__new__(Runner)  # only what a session end touches
    bare.audit = None
    bare._session_ended(fx.SessionEnded("cancelled", {"session": "x"}))
    assert trims == [1]
