"""Load test of POST /v1/credit-estimates on loopback: throughput and p50/p95/p99 latency at a paced rate.

    .venv/bin/python scripts/bench_cloud.py [--rate 200] [--count 2000] [--max-seconds 30]

Starts the service (`kiosk-cloud serve`, one uvicorn worker) as a separate process on 127.0.0.1 with a
throw-away SQLite database, registers a bench device, then sends signed requests at a fixed rate from a
thread pool. Bounded in count and time; stops the service at the end.
"""

from __future__ import annotations

import argparse
import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cloud.credit.model import CreditModel
from cloud.local import free_port
from contract.schemas import Applicant, EstimateRequest, VerificationEvidence
from kiosk.cloud_client.client import CloudClient
from kiosk.cloud_client.identity import DeviceIdentity

TOKEN = "bench-token-0001"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--max-seconds", type=float, default=30.0)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-cloud-"))
    port = free_port()
    token_file = tmp / "token"
    token_file.write_text(TOKEN)
    server = subprocess.Popen(
        [sys.executable, "-m", "cloud.cli", "serve", "--port", str(port), "--db", f"sqlite:///{tmp / 'db.sqlite3'}",
         "--token-file", str(token_file)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        key = Ed25519PrivateKey.generate()
        setup = CloudClient(url, None, max_retries=0)
        deadline = time.monotonic() + 30
        while True:
            try:
                setup.health()
                break
            except Exception:  # noqa: BLE001 (the server is still starting: any error means "not yet")
                if time.monotonic() > deadline:
                    raise SystemExit("service did not start") from None
                time.sleep(0.2)
        setup.register(TOKEN, "kiosk-bench-0001", "Bench", key)
        identity = DeviceIdentity("kiosk-bench-0001", key)
        ids = [r.id_number for r in CreditModel.load().records()][:500]
        evidence = VerificationEvidence(face_matched=True, match_score=0.8, match_threshold=0.45, live=True,
                                        liveness_score=0.97)
        jobs: queue.Queue = queue.Queue()
        latencies, errors = [], []
        lock = threading.Lock()

        def worker() -> None:
            client = CloudClient(url, identity, max_retries=0)
            while (job := jobs.get()) is not None:
                due, request = job
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                t0 = time.perf_counter()
                try:
                    client.estimate(request)
                    with lock:
                        latencies.append(time.perf_counter() - t0)
                except Exception as exc:  # noqa: BLE001 (counted and reported, the run goes on)
                    with lock:
                        errors.append(type(exc).__name__)

        threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.threads)]
        for t in threads:
            t.start()
        start = time.monotonic() + 0.5
        count = min(args.count, int(args.rate * args.max_seconds))
        for i in range(count):
            applicant = Applicant(id_number=ids[i % len(ids)], monthly_income=6000, requested_amount=5000, term_months=12)
            jobs.put((start + i / args.rate, EstimateRequest(applicant=applicant, verification=evidence)))
        for _ in threads:
            jobs.put(None)
        for t in threads:
            t.join(timeout=args.max_seconds + 30)
        elapsed = time.monotonic() - start
        ms = np.array(latencies) * 1000
        print(f"POST /v1/credit-estimates, target {args.rate:.0f} req/s, {count} requests, {args.threads} client threads")
        print(f"completed {len(latencies)} ok, {len(errors)} errors in {elapsed:.1f} s -> {len(latencies) / elapsed:.1f} req/s")
        if len(ms):
            print(f"latency ms: p50 {np.percentile(ms, 50):.1f}  p95 {np.percentile(ms, 95):.1f}  "
                  f"p99 {np.percentile(ms, 99):.1f}  max {ms.max():.1f}")
        if errors:
            print("errors:", {e: errors.count(e) for e in set(errors)})
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
