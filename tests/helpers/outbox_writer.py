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
    if mode == "write":
        estimate_id, count = sys.argv[3], int(sys.argv[4])
        for i in range(count):
            payload = {"estimate_id": estimate_id, "offer_id": "rural-bank-flex", "amount": 1000.0, "term_months": 12}
            outbox.enqueue("application", f"kill-test-{i:04d}", payload)
            print(json.dumps({"committed": i}), flush=True)  # printed only after the commit returned
            time.sleep(0.005)
    else:  # drain, slowly, so the parent can kill it mid-way
        from tests.cloud_helpers import client_for
        from kiosk.cloud_client.stages import CloudApplications

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
