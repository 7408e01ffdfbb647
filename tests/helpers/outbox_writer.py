"""Subprocess for the kill -9 tests: enqueue (or drain) outbox items, printing each durable step."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from kiosk.cloud_client.identity import load_identity
from kiosk.cloud_client.outbox import Outbox


def main() -> None:
    mode, data_dir = sys.argv[1], Path(sys.argv[2])
    outbox = Outbox.for_data_dir(data_dir)
    if mode == "write":  # one application per estimate (the service takes one per estimate)
        for i, estimate_id in enumerate(sys.argv[3].split(",")):
            payload = {"estimate_id": estimate_id, "offer_id": "rural-bank-flex:12", "amount": 1000.0, "term_months": 12}
            outbox.enqueue("application", f"kill-test-{i:04d}", payload)
            print(json.dumps({"committed": i}), flush=True)  # printed only after the commit returned
            time.sleep(0.005)
    elif mode == "disk-full":  # no file may grow (RLIMIT_FSIZE: writes fail with EFBIG), then space returns
        import resource
        import signal

        from kiosk.cloud_client.stages import CloudApplications
        from kiosk.journey import events as ev
        from kiosk.journey.session import CreditEstimate, OfferSummary, SessionData
        from tests.cloud_helpers import client_for

        stage = CloudApplications(client_for(sys.argv[3], load_identity(data_dir)), outbox)
        estimates = sys.argv[4].split(",")
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        largest = (data_dir / "outbox.sqlite3").stat().st_size  # the journal (WAL) may not grow past it
        for i, estimate_id in enumerate(estimates):
            full = i < len(estimates) // 2
            limit = largest if full else resource.RLIM_INFINITY
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
            session = SessionData(session_id="disk", started_at=0)
            session.estimate = CreditEstimate(5000.0, "CNY", "A", estimate_id)
            session.offers = (OfferSummary("rural-bank-flex:12", 1000.0, 12, 0.108, 88.0, 1056.0),)
            result = stage.submit(session, "rural-bank-flex:12", f"disk-full-{i:04d}")
            recorded = isinstance(result, ev.ApplicationRecorded)
            print(json.dumps({"full": full, "recorded": recorded, "reference": result.reference if recorded else None,
                              "code": None if recorded else result.code}), flush=True)
    else:  # drain, slowly, so the parent can kill it mid-way
        from kiosk.cloud_client.stages import CloudApplications
        from tests.cloud_helpers import client_for

        client = client_for(sys.argv[3], load_identity(data_dir))
        sender = CloudApplications(client, outbox)

        def send(item):
            result = sender.send(item)
            print(json.dumps({"sent": item.idempotency_key}), flush=True)
            time.sleep(0.05)
            return result

        outbox.drain(send)


if __name__ == "__main__":
    main()
