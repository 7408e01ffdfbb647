"""The demo's scoring service runs in a process of its own: it announces the demo applicant, serves on loopback,
refuses to start with a clear reason, and never outlives the demo (stopped, or killed outright)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from cloud.local import free_port
from kiosk_app.demo_service import DemoService, DemoServiceError


def test_it_serves_in_a_child_and_stops_with_the_demo(tmp_path):
    service = DemoService(tmp_path / "cloud.sqlite3", free_port(), ["t0ken"], tmp_path / "logs" / "service.log")
    with service:
        assert service.applicant.isdigit() or service.applicant[:-1].isdigit(), service.applicant
        with urllib.request.urlopen(f"{service.url}/v1/health", timeout=5) as reply:
            assert reply.status == 200
        child = service._proc.pid
        assert child != os.getpid()
        assert b"t0ken" not in Path(f"/proc/{child}/cmdline").read_bytes()  # never in argv
    assert not os.path.exists(f"/proc/{child}")  # stopped and reaped


def test_a_service_that_cannot_start_says_why(tmp_path):
    (tmp_path / "cloud.sqlite3").mkdir()  # a directory where the database file should be
    with pytest.raises(DemoServiceError, match="ended"):
        DemoService(tmp_path / "cloud.sqlite3", free_port(), ["t"], tmp_path / "service.log").start()


def test_a_demo_killed_outright_takes_its_service_with_it(tmp_path):
    code = ("import json, time; from pathlib import Path; from kiosk_app.demo_service import DemoService;"
            f"s = DemoService(Path({str(tmp_path / 'db.sqlite3')!r}), {free_port()}, ['t'], Path({str(tmp_path / 'log')!r}))"
            ".start(); print(json.dumps({'child': s._proc.pid}), flush=True); time.sleep(600)")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    child = json.loads(parent.stdout.readline())["child"]
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 15
    while os.path.exists(f"/proc/{child}") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not os.path.exists(f"/proc/{child}")


def test_the_announcement_is_found_after_whatever_a_library_printed_first(tmp_path):
    """Both lines arrive in one write: the second must not be lost in a read-ahead buffer."""
    service = DemoService(tmp_path / "db.sqlite3", free_port(), ["t"], tmp_path / "log")
    code = ("import sys, time; sys.stdout.write('loading 100%\\n{\"ready\": true, \"applicant\": \"42\"}\\n');"
            "sys.stdout.flush(); time.sleep(30)")
    service._proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, bufsize=0)
    t0 = time.monotonic()
    try:
        assert service._announcement()["applicant"] == "42"
        assert time.monotonic() - t0 < 5
    finally:
        service.stop()
