"""Malformed or unexpected answers from a (misbehaving) HTTP server become typed errors, then a clear screen."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.cloud_client.errors import CloudBadResponse, CloudRejected, CloudUnavailable
from kiosk.cloud_client.identity import DeviceIdentity
from kiosk.cloud_client.stages import CloudScoring, VerificationSetup
from kiosk.journey import events as ev
from kiosk.journey.states import State
from tests.cloud_helpers import THIN_FILE, client_for, estimate_request
from tests.journey_helpers import details, new_journey, walk_to

GOOD = {"estimate_id": "0123456789abcdef", "decision": "approved", "grade": "B", "pd": 0.1, "limit": 5000.0,
        "currency": "CNY", "reason_codes": [], "offers": []}


class Misbehaving(BaseHTTPRequestHandler):
    mode = "good"
    calls = 0

    def log_message(self, *args):  # keep test output clean
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).calls += 1
        mode = type(self).mode
        if mode == "flaky" and type(self).calls == 1 or mode == "down":
            return self._send(503, b'{"error": {"code": "maintenance", "message": "try later"}}')
        bodies = {
            "good": json.dumps(GOOD).encode(),
            "flaky": json.dumps(GOOD).encode(),
            "not_json": b"<html>proxy error</html>",
            "missing": json.dumps({"decision": "approved"}).encode(),
            "wrong_type": json.dumps({**GOOD, "limit": "a lot"}).encode(),
            "extra_decision": json.dumps({**GOOD, "decision": "maybe"}).encode(),
            "huge": json.dumps({**GOOD, "reason_codes": ["x" * 1000] * 1000}).encode(),
            "rejected": b'{"error": {"code": "bad_signature", "message": "nope"}}',
        }
        if mode == "drip":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "10000")
            self.end_headers()
            for _ in range(40):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.15)
            return None
        return self._send(401 if mode == "rejected" else 200, bodies[mode])

    def _send(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Misbehaving)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture
def client(server):
    Misbehaving.calls = 0
    return client_for(server, DeviceIdentity("kiosk-x", Ed25519PrivateKey.generate()), retries=1)


def ask(client, mode):
    Misbehaving.mode = mode
    return client.estimate(estimate_request(THIN_FILE))


def test_good_answer_parses(client):
    assert ask(client, "good").limit == 5000


@pytest.mark.parametrize(
    ("mode", "error", "message"),
    [
        ("not_json", CloudBadResponse, "not JSON"),
        ("missing", CloudBadResponse, "response field"),
        ("wrong_type", CloudBadResponse, "response field limit"),
        ("extra_decision", CloudBadResponse, "response field decision"),
        ("huge", CloudBadResponse, "larger than"),
        ("rejected", CloudRejected, "bad_signature"),
        ("down", CloudUnavailable, "no answer after 2 attempts"),
        ("drip", CloudUnavailable, "no answer"),
    ],
)
def test_malformed_answers_are_typed_errors(client, mode, error, message):
    with pytest.raises(error, match=message):
        ask(client, mode)


def test_one_5xx_is_retried(client):
    assert ask(client, "flaky").limit == 5000 and Misbehaving.calls == 2


def test_a_bad_answer_becomes_a_retry_then_the_shopkeeper(client):
    Misbehaving.mode = "not_json"
    journey = walk_to(State.SCORING, new_journey())
    stage = CloudScoring(client, VerificationSetup("mobilefacenet_flip", {}, {}))
    journey.data.details = details().details
    for _ in range(3):
        result = stage.estimate(journey.data, 1)
        assert result == ev.ScoringFailed(code="bad_response")
        journey.handle(result)
    assert journey.state is State.HANDOFF and journey.data.handoff.reason == "scoring_bad_response"
