"""The outbox: nothing lost or sent twice, through network outages and kill -9."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from contract.reference import make_reference
from kiosk.cloud_client.errors import NotRegistered
from kiosk.cloud_client.outbox import Outbox
from kiosk.cloud_client.stages import CloudApplications
from kiosk.journey import events as ev
from kiosk.journey.session import CreditEstimate, OfferSummary, SessionData
from tests.cloud_helpers import client_for, estimate_request, register, start_service

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def world(tmp_path, model):
    """A running service, a registered kiosk data dir, and an estimate to apply against."""
    (tmp_path / "svc").mkdir()
    service = start_service(tmp_path / "svc", model, max_estimates_per_device_hour=1000)
    data_dir = tmp_path / "kiosk"
    identity = register(service, data_dir)
    applicant = next(r.id_number for r in model.records() if model.score(r)[0] < 0.12)
    estimate = client_for(service.url, identity).estimate(estimate_request(applicant))
    yield service, data_dir, identity, estimate
    service.stop()


def applications(service) -> list[tuple]:
    with create_engine(service.settings.database_url).connect() as conn:
        return conn.exec_driver_sql("SELECT idempotency_key, application_id FROM applications").fetchall()


def session_with(estimate) -> SessionData:
    data = SessionData(session_id="s1", started_at=0)
    data.estimate = CreditEstimate(estimate.limit, "CNY", estimate.grade, estimate.estimate_id)
    data.offers = (OfferSummary("rural-bank-flex:12", 5000.0, 12, 0.108, 441.44, 5297.28),)
    return data


def test_service_down_then_up_queues_then_sends_exactly_one(world, model):
    service, data_dir, identity, estimate = world
    port = service.port
    service.stop()
    outbox = Outbox.for_data_dir(data_dir)
    stage = CloudApplications(client_for(service.url, identity, retries=1), outbox)
    recorded = stage.submit(session_with(estimate), "rural-bank-flex:12", "s1:rural-bank-flex:12")
    assert isinstance(recorded, ev.ApplicationRecorded) and recorded.queued
    assert recorded.reference == make_reference(identity.device_number, 1)  # this device's, readable aloud
    assert outbox.counts() == {"pending": 1}
    # The customer taps again while still offline: still one item.
    stage.submit(session_with(estimate), "rural-bank-flex:12", "s1:rural-bank-flex:12")
    assert outbox.counts() == {"pending": 1}
    restarted = start_service(data_dir.parent / "svc", model, port)  # same database, same port
    try:
        report = outbox.drain(stage.send)
        assert (report.sent, report.remaining) == (1, 0)
        assert outbox.drain(stage.send).sent == 0
        assert [k for k, _ in applications(restarted)] == ["s1:rural-bank-flex:12"]
        with create_engine(restarted.settings.database_url).connect() as conn:  # the lender files it under it
            assert conn.exec_driver_sql("SELECT reference FROM applications").scalar() == recorded.reference
    finally:
        restarted.stop()


def test_payloads_are_encrypted_at_rest_and_minimal(tmp_path):
    with pytest.raises(NotRegistered):  # no device number yet: no reference can be given, nothing is stored
        Outbox.for_data_dir(tmp_path).enqueue("application", "k-0", {})
    outbox = Outbox(tmp_path / "outbox.sqlite3", tmp_path / "device" / "outbox.key", device_number=7)
    outbox.enqueue("application", "k-1", {"estimate_id": "abcdef0123456789", "offer_id": "x", "amount": 1.0, "term_months": 3})
    raw = (tmp_path / "outbox.sqlite3").read_bytes()
    assert b"abcdef0123456789" not in raw
    assert oct((tmp_path / "device" / "outbox.key").stat().st_mode & 0o777) == "0o600"
    assert outbox.items()[0].payload["estimate_id"] == "abcdef0123456789"


def _run_and_kill(args, after_lines: int, key: str) -> list[str]:
    proc = subprocess.Popen([sys.executable, "-m", "tests.helpers.outbox_writer", *args], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    for line in proc.stdout:
        seen.append(json.loads(line)[key])
        if len(seen) >= after_lines:
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL, (seen, proc.stderr.read()[-2000:])
    return seen


def test_kill_9_of_the_writer_loses_nothing_and_sends_nothing_twice(world, model):
    service, data_dir, identity, _estimate = world
    client = client_for(service.url, identity)
    applicant = estimate_request(next(r.id_number for r in model.records() if model.score(r)[0] < 0.12), amount=1000)
    estimates = [client.estimate(applicant).estimate_id for _ in range(150)]
    committed = _run_and_kill(["write", str(data_dir), ",".join(estimates)], 40, "committed")
    conn = sqlite3.connect(data_dir / "outbox.sqlite3")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    outbox = Outbox.for_data_dir(data_dir)
    keys = [i.idempotency_key for i in outbox.items()]
    # Every enqueue the writer saw return is on disk (one more may have committed before the kill landed).
    assert keys[: len(committed)] == [f"kill-test-{i:04d}" for i in committed]
    assert len(keys) in (len(committed), len(committed) + 1)

    # Now kill a drainer mid-way, then drain again: every item reaches the service exactly once.
    sent_before_kill = _run_and_kill(["drain", str(data_dir), service.url], 5, "sent")
    assert len(sent_before_kill) == 5
    report = Outbox.for_data_dir(data_dir).drain(CloudApplications(client_for(service.url, identity), outbox).send)
    assert report.remaining == 0
    apps = applications(service)
    assert sorted(k for k, _ in apps) == sorted(keys)
    assert len({a for _, a in apps}) == len(keys)


def test_rejected_application_is_not_retried_and_goes_to_the_shopkeeper(world):
    service, data_dir, identity, estimate = world
    outbox = Outbox.for_data_dir(data_dir)
    stage = CloudApplications(client_for(service.url, identity), outbox)
    session = session_with(estimate)
    session.offers = (OfferSummary("rural-bank-flex:12", 999999.0, 12, 0.108, 1.0, 1.0),)  # above the limit
    result = stage.submit(session, "rural-bank-flex:12", "s2:too-much")
    assert isinstance(result, ev.ApplicationFailed)
    assert outbox.counts().get("rejected") == 1 and outbox.drain(stage.send).sent == 0


def test_a_row_and_its_reference_are_stored_together_or_not_at_all(tmp_path, monkeypatch):
    """The outbox connection autocommits each statement: without one explicit transaction a failure after the
    insert (a full disk) left a row without a reference, which the drainer could never send."""
    outbox = Outbox(tmp_path / "outbox.sqlite3", tmp_path / "outbox.key", device_number=3)

    def disk_full(*_args):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr("kiosk.cloud_client.outbox.make_reference", disk_full)
    with pytest.raises(sqlite3.OperationalError):
        outbox.enqueue("application", "half-0001", {"estimate_id": "e" * 16})
    assert outbox.items() == []
    monkeypatch.undo()
    assert outbox.enqueue("application", "half-0001", {"estimate_id": "e" * 16}).reference == make_reference(3, 1)


def test_the_fault_suite_loses_and_duplicates_nothing():
    """The short form of scripts/fault_suite.py (every case, one try): real service, real kiosk processes."""
    proc = subprocess.run([sys.executable, "scripts/fault_suite.py", "--tries", "1", "--json"], cwd=REPO,
                          capture_output=True, text=True, timeout=300, check=False)
    rows = json.loads(proc.stdout)
    assert len(rows) >= 12
    for row in rows:
        assert row["lost"] == 0 and row["duplicated"] == 0 and row["survived"] == row["tries"], row
    assert proc.returncode == 0


def test_a_withdrawn_application_is_never_sent_and_a_row_being_sent_cannot_be_withdrawn(tmp_path):
    outbox = Outbox(tmp_path / "outbox.sqlite3", tmp_path / "device" / "outbox.key", device_number=7)
    payload = {"estimate_id": "e", "offer_id": "x", "amount": 1.0, "term_months": 3}
    outbox.enqueue("application", "k-1", payload)
    outbox.enqueue("application", "k-2", payload)
    assert outbox.withdraw("k-1") is True and outbox.withdraw("k-1") is False  # once
    sent, tried = [], {}

    def send(item):
        tried[item.idempotency_key] = outbox.withdraw(item.idempotency_key)  # the customer taps during the send
        sent.append(item.idempotency_key)
        return {"application_id": "a"}

    report = outbox.drain(send)
    assert sent == ["k-2"] and tried == {"k-2": False} and report.sent == 1
    assert outbox.counts() == {"withdrawn": 1, "sent": 1}
    assert outbox.withdraw("k-2") is False  # the lender has it


def test_a_send_cut_short_by_a_crash_is_pending_again_on_restart(tmp_path):
    db, key = tmp_path / "outbox.sqlite3", tmp_path / "device" / "outbox.key"
    outbox = Outbox(db, key, device_number=7)
    outbox.enqueue("application", "k-1", {"estimate_id": "e", "offer_id": "x", "amount": 1.0, "term_months": 3})
    with sqlite3.connect(db) as conn:  # what a power cut in the middle of a send leaves
        conn.execute("UPDATE outbox SET status = 'sending'")
    outbox.close()
    assert Outbox(db, key, device_number=7).counts() == {"pending": 1}


def test_the_withdraw_stage_tells_withdrawn_from_already_sent(tmp_path):
    outbox = Outbox(tmp_path / "outbox.sqlite3", tmp_path / "device" / "outbox.key", device_number=7)
    outbox.enqueue("application", "k-1", {"estimate_id": "e", "offer_id": "x", "amount": 1.0, "term_months": 3})
    stage = CloudApplications(client=None, outbox=outbox)
    assert stage.withdraw("k-1") == ev.ApplicationWithdrawn(outcome="withdrawn")
    assert stage.withdraw("k-1") == ev.ApplicationWithdrawn(outcome="already_sent")
    outbox.close()
    assert stage.withdraw("k-1") == ev.ApplicationWithdrawn(outcome="failed")  # the database is gone: a person
