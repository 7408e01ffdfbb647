"""The documented commands: `kiosk-cloud serve` as its own process, and the kiosk CLI against it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
import requests

from cloud.local import free_port
from tests import cloud_helpers

TOKEN = "cli-test-token-1"


@pytest.fixture
def served(tmp_path):
    port = free_port()
    env = {**os.environ, "CLOUD_SCORECARD": str(tmp_path / "card.json")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cloud.cli", "serve", "--port", str(port), "--db",
         f"sqlite:///{tmp_path / 'svc.sqlite3'}", "--token-file", token_file(tmp_path, TOKEN)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(url + "/v1/health", timeout=1).ok:
                break
        except requests.ConnectionError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, "service did not start"
        time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def token_file(where, token):
    path = where / f"token-{abs(hash(token))}"
    path.write_text(token + "\n")
    return path


def kiosk(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "kiosk.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=120, input=stdin, check=False)


def test_register_estimate_offers_apply(served, tmp_path):
    from cloud.credit.model import DEFAULT_CSV, CreditModel

    model = CreditModel.load(DEFAULT_CSV, tmp_path / "card.json")
    applicant = next(r.id_number for r in model.records() if model.score(r)[0] < 0.12)
    out = kiosk("cloud", "--cloud", served, "register", "--token-file", token_file(tmp_path, TOKEN), "--shop", "Test shop")
    assert out.returncode == 0 and "registered" in out.stdout, out.stderr
    out = kiosk("cloud", "--cloud", served, "register", "--token-file", "-", "--shop", "Test shop", stdin=TOKEN + "\n")
    assert "already registered" in out.stdout
    evidence = tmp_path / "evidence.json"
    evidence.write_text(cloud_helpers.evidence(applicant).model_dump_json())
    out = kiosk("cloud", "--cloud", served, "estimate", "--evidence", evidence, "--income", "6000", "--amount", "3000")
    estimate = json.loads(out.stdout)
    assert out.returncode == 0 and estimate["decision"] == "approved" and estimate["limit"] == 3000
    offers = json.loads(kiosk("cloud", "--cloud", served, "offers").stdout)
    assert len(offers["products"]) >= 2
    offer = estimate["offers"][0]  # the lender's, priced: applied for as offered
    assert float(offer["amount"]) == 3000 and float(offer["apr"]) >= float(offer["nominal_rate"])
    args = ["cloud", "--cloud", served, "apply", "--estimate-id", estimate["estimate_id"], "--offer-id",
            offer["offer_id"], "--amount", offer["amount"], "--term", offer["term_months"],
            "--idempotency-key", "cli-app-0001"]
    first, second = json.loads(kiosk(*args).stdout), json.loads(kiosk(*args).stdout)
    assert first["status"] == "sent" and first == second
    assert first["result"]["reference"] == first["reference"]
    out = kiosk("cloud", "--cloud", served, "outbox")
    assert out.returncode == 0 and json.loads(out.stdout) == {"sent": 1}


def test_wrong_token_and_unreachable_cloud_are_clear(served, tmp_path):
    out = kiosk("cloud", "--cloud", served, "register", "--token-file", token_file(tmp_path, "not-the-token"),
                "--shop", "S")
    assert out.returncode == 1 and "bad_token" in out.stderr and "Traceback" not in out.stderr
    out = kiosk("cloud", "--cloud", f"http://127.0.0.1:{free_port()}", "register", "--token-file",
                token_file(tmp_path, TOKEN), "--shop", "S")
    assert out.returncode == 1 and "no answer" in out.stderr and "Traceback" not in out.stderr


def test_estimate_needs_a_real_evidence_file(served, tmp_path):
    kiosk("cloud", "--cloud", served, "register", "--token-file", token_file(tmp_path, TOKEN), "--shop", "Test shop")
    bad = tmp_path / "typed.json"
    bad.write_text('{"id_number": "11010219840406970X"}')  # a typed number is not evidence of anything
    out = kiosk("cloud", "--cloud", served, "estimate", "--evidence", bad, "--income", "6000", "--amount", "3000")
    assert out.returncode == 2 and "not an identity evidence file" in out.stderr and "Traceback" not in out.stderr


def test_estimate_before_registration_says_what_to_do():
    out = kiosk("cloud", "offers")
    assert out.returncode == 2 and "not registered" in out.stderr
