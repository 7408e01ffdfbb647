"""The demo's scoring service in a process of its own, on loopback.

A real kiosk talks to its service over the network; in one process the demo's kiosk would also hold the service's
web stack, credit model and bureau table (about 150 MB, and its threads competing with the touchscreen for the
interpreter), so what the demo shows of the kiosk's memory and speed would not be the kiosk's.

The child picks the demo applicant (a bureau record with a good history, printed on the specimen card), starts
the service, and announces both on its first line of output; the parent reads that line, and stops the child
when the demo ends. Provisioning tokens go through the environment, never the command line.
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:  # the service's stack is imported in the child only
    from cloud.credit.model import CreditModel

START_TIMEOUT_S = 60.0


class DemoServiceError(Exception):
    pass


class DemoService:
    def __init__(self, database: Path, port: int, tokens: list[str], log_file: Path) -> None:
        self.database, self.port, self.tokens, self.log_file = database, port, tokens, log_file
        self.applicant = ""
        self._proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        env = {**os.environ, "CLOUD_PROVISIONING_TOKENS": json.dumps(self.tokens)}
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:  # the child keeps its own copy of the descriptor
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "kiosk_app.demo_service", "--port", str(self.port),
                 "--db", f"sqlite:///{self.database}"],
                # Unbuffered: reading a line must not pull the next into a buffer the wait for it cannot see.
                env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, bufsize=0)
        try:
            self.applicant = self._announcement()["applicant"]
        except BaseException:
            self.stop()
            raise
        return self

    def _announcement(self) -> dict:
        with selectors.DefaultSelector() as sel:
            sel.register(self._proc.stdout, selectors.EVENT_READ)
            deadline = time.monotonic() + START_TIMEOUT_S
            while (left := deadline - time.monotonic()) > 0:
                if sel.select(left):
                    line = self._proc.stdout.readline()
                    if not line:
                        break  # the child closed its output: it ended
                    try:  # anything a library printed before the announcement is passed over
                        said = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(said, dict) and said.get("ready"):
                        return said
        self._proc.poll()
        ended = "ended" if self._proc.returncode is not None else f"did not start within {START_TIMEOUT_S:.0f} s"
        raise DemoServiceError(f"the demo scoring service {ended}: {self._log_tail()}")

    def _log_tail(self) -> str:
        try:
            lines = self.log_file.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return lines[-1] if lines else "(no output)"

    def stop(self) -> None:
        if self._proc is None:
            return
        proc, self._proc = self._proc, None
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        proc.stdout.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _end_with_the_parent() -> None:
    """A demo killed outright (kill -9, a crash) must not leave its service running and holding the port."""
    import ctypes

    pr_set_pdeathsig = 1
    parent = os.getppid()
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() != parent:  # the parent ended before the request took effect
        sys.exit(1)


def demo_applicant(model: CreditModel) -> str:
    """A bureau record (synthetic ID number) with a good repayment history, so the demo shows offers."""
    for record in model.records():
        pd, _ = model.score(record)
        if pd < 0.12:
            return record.id_number
    raise DemoServiceError("no suitable demo applicant in the bureau table")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kiosk_app.demo_service")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", required=True, help="database URL")
    args = parser.parse_args(argv)
    _end_with_the_parent()
    # Blocked before the server's threads start, so a stop request waits for the wait below.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})

    from cloud.credit.model import CreditModel
    from cloud.local import LocalService
    from cloud.settings import ServiceSettings

    model = CreditModel.load()
    applicant = demo_applicant(model)
    with LocalService(ServiceSettings(database_url=args.db), args.port, model):
        print(json.dumps({"ready": True, "applicant": applicant}), flush=True)
        signal.sigwait({signal.SIGTERM, signal.SIGINT})
    return 0


if __name__ == "__main__":
    sys.exit(main())
