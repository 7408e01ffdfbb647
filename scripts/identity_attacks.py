"""What a tampering kiosk can still get out of the scoring service: each attack from the identity-binding issue,
sent signed with a registered device key to a real service on loopback. Prints one line per attack and the
count that got a credit decision for an identity nobody verified.

    .venv/bin/python scripts/identity_attacks.py

(The attacks that typed another person's number at the kiosk need no script: the journey has no ID-number
input any more; the number scored is the one read off the card whose portrait the face matched.)
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cloud.credit.model import CreditModel
from cloud.local import LocalService
from cloud.settings import ServiceSettings
from contract.signing import sign_request
from kiosk.cloud_client.registration import register_device
from kiosk.config import load_config
from tests.cloud_helpers import estimate_request

TOKEN = "attack-provisioning-token"


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="identity-attacks-"))
    model = CreditModel.load(artifact=tmp / "card.json")
    good = next(r.id_number for r in model.records() if model.score(r)[0] < 0.12)
    settings = ServiceSettings(database_url=f"sqlite:///{tmp}/service.db", provisioning_tokens=[TOKEN],
                               id_hash_key_file=tmp / "id.key")
    with LocalService(settings, model=model) as service:
        config = load_config().model_copy(update={"data_dir": tmp / "kiosk"})
        identity, _ = register_device(config, service.url, TOKEN, "Attack shop", "kiosk-attack-0001")

        def send(data: dict) -> str:
            body = json.dumps(data).encode()
            headers = sign_request(identity.key, identity.device_id, "POST", "/v1/credit-estimates", body)
            r = requests.post(service.url + "/v1/credit-estimates", data=body, timeout=10,
                              headers={"Content-Type": "application/json", **headers})
            if r.status_code != 200:
                error = r.json().get("error") or {"code": "request_validation"}  # FastAPI's own 422 body
                return f"refused {r.status_code} {error['code']}"
            e = r.json()
            return f"{e['decision']} limit {e['limit']:.0f} ({', '.join(e['reason_codes']) or '-'})"

        def request(number: str, **face_or_liveness) -> dict:
            data = json.loads(estimate_request(number).model_dump_json())
            for dotted, value in face_or_liveness.items():
                part, key = dotted.split("__")
                data["identity"][part][key] = value
            return data

        attacks = [
            ("000000000000000000", request("000000000000000000")),
            ("12345678901234567X", request("12345678901234567X")),
            ("match_score -9 (kiosk's own threshold -10 sent along)",
             request(good, face__score=-9.0, face__match_threshold=-10.0)),
            ("match_score -9, liveness 0", request(good, face__score=-9.0, liveness__passive_score=0.0)),
            ("a challenge failed, 'live' claimed", request(good, liveness__challenges_passed=1)),
            ("models the lender does not trust", request(good, face__models={"yunet_2023mar": "0" * 64})),
        ]
        won = 0
        for name, data in attacks:
            outcome = send(data)
            won += outcome.startswith(("approved", "starter"))
            print(f"  {name:<58} -> {outcome}")
    print(f"attacks that got a credit decision for an identity nobody verified: {won}/{len(attacks)}")
    return 0 if won == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
