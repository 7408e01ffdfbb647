"""The scoring service and the kiosk's client, over real HTTP on loopback."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from cloud.app import create_app
from cloud.credit.bureau import synthetic_id_number
from cloud.credit.policy import decide
from contract import reasons
from contract.id_number import number_problems
from contract.signing import HEADER_IDEMPOTENCY, sign_request
from kiosk.cloud_client.errors import CloudRejected
from kiosk.cloud_client.identity import DeviceIdentity
from tests.cloud_helpers import THIN_FILE, TOKEN, application, client_for, estimate_request, service_settings

OPENAPI = Path(__file__).resolve().parents[1] / "cloud" / "openapi.json"


@pytest.fixture(scope="module")
def good_applicant(model):
    return next(r.id_number for r in model.records() if model.score(r)[0] < 0.12)


def test_good_path_estimate_offers_and_one_application(service, identity, good_applicant):
    client = client_for(service.url, identity)
    estimate = client.estimate(estimate_request(good_applicant))
    assert estimate.decision == "approved" and estimate.grade in ("A", "B") and estimate.limit == 5000
    assert estimate.reason_codes and set(estimate.reason_codes) <= set(reasons.ALL)
    # The lender prices the offers itself; the application takes one of them as priced.
    assert [o.offer_id for o in estimate.offers][:1] == ["rural-bank-flex:12"]
    assert estimate.offers[0].amount == 5000 and estimate.offers[0].monthly_payment == Decimal("441.44")
    assert {p.id for p in client.offers().products} >= {"rural-bank-flex"}
    request = application(identity, estimate.estimate_id)
    first = client.submit_application(request, "session-1:rural-bank-flex")
    again = client.submit_application(request, "session-1:rural-bank-flex")
    assert first.application_id == again.application_id
    with service_app_engine(service) as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM applications WHERE idempotency_key='session-1:rural-bank-flex'").scalar() == 1


def service_app_engine(service):
    from sqlalchemy import create_engine

    return create_engine(service.settings.database_url).connect()


def test_same_idempotency_key_with_a_different_request_is_refused(service, identity, good_applicant):
    client = client_for(service.url, identity)
    est = client.estimate(estimate_request(good_applicant))
    client.submit_application(application(identity, est.estimate_id), "k-conflict-1")
    with pytest.raises(CloudRejected) as info:
        client.submit_application(application(identity, est.estimate_id, 4000), "k-conflict-1")
    assert info.value.status == 409 and info.value.error_code == "idempotency_conflict"


def test_amount_above_the_limit_and_ineligible_offer_are_refused(service, identity, good_applicant):
    client = client_for(service.url, identity)
    est = client.estimate(estimate_request(good_applicant, amount=3000))
    with pytest.raises(CloudRejected, match="amount_out_of_range"):
        client.submit_application(application(identity, est.estimate_id, 3500), "k-over-1")
    with pytest.raises(CloudRejected, match="amount_out_of_range"):  # not the figures the customer was shown
        client.submit_application(application(identity, est.estimate_id, 2000), "k-less-1")
    with pytest.raises(CloudRejected, match="amount_out_of_range"):
        client.submit_application(application(identity, est.estimate_id, 3000, 24), "k-term-1")
    with pytest.raises(CloudRejected, match="offer_not_eligible"):
        client.submit_application(application(identity, est.estimate_id, 3000, 7, "rural-bank-flex:7"), "k-other-1")
    assert client.submit_application(application(identity, est.estimate_id, 3000), "k-as-offered").status == "received"


def _signed_post(service, identity, path, body: bytes, now=None, tamper=None):
    headers = sign_request(identity.key, identity.device_id, "POST", path, body, now=now)
    headers["Content-Type"] = "application/json"
    if tamper:
        tamper(headers)
    return requests.post(service.url + path, data=body, headers=headers, timeout=5), headers


def _estimate_body(id_number):
    return estimate_request(id_number).model_dump_json().encode()


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        (lambda h: h.update({"X-Signature": h["X-Signature"][:-4] + "AAA="}), "bad_signature"),
        (lambda h: h.update({"X-Content-SHA256": "0" * 64}), "digest_mismatch"),
        (lambda h: h.pop("X-Nonce"), "unsigned"),
        (lambda h: h.update({"X-Device-Id": "kiosk-never-registered"}), "unknown_device"),
    ],
)
def test_bad_requests_are_rejected(service, identity, good_applicant, tamper, code):
    response, _ = _signed_post(service, identity, "/v1/credit-estimates", _estimate_body(good_applicant), tamper=tamper)
    assert response.status_code == 401 and response.json()["error"]["code"] == code


def test_replayed_request_is_rejected(service, identity, good_applicant):
    body = _estimate_body(good_applicant)
    first, headers = _signed_post(service, identity, "/v1/credit-estimates", body)
    assert first.status_code == 200
    replay = requests.post(service.url + "/v1/credit-estimates", data=body, headers=headers, timeout=5)
    assert replay.status_code == 401 and replay.json()["error"]["code"] == "replayed"


def test_stale_timestamp_is_rejected(service, identity, good_applicant):
    response, _ = _signed_post(service, identity, "/v1/credit-estimates", _estimate_body(good_applicant), now=time.time() - 3600)
    assert response.status_code == 401 and response.json()["error"]["code"] == "stale_timestamp"


def test_a_different_device_key_cannot_sign_for_a_registered_device(service, identity, good_applicant):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    impostor = DeviceIdentity(identity.device_id, Ed25519PrivateKey.generate())
    with pytest.raises(CloudRejected, match="bad_signature"):
        client_for(service.url, impostor).estimate(estimate_request(good_applicant))


def test_images_and_embeddings_are_not_accepted(service, identity, good_applicant):
    data = json.loads(_estimate_body(good_applicant))
    data["identity"]["face"]["embedding"] = [0.1] * 192
    response, _ = _signed_post(service, identity, "/v1/credit-estimates", json.dumps(data).encode())
    assert response.status_code == 422
    data = json.loads(_estimate_body(good_applicant))
    data["applicant"]["portrait"] = "data:image/jpeg;base64," + "A" * 30000
    response, _ = _signed_post(service, identity, "/v1/credit-estimates", json.dumps(data).encode())
    assert response.status_code == 413


def test_registration_token_and_idempotency(service, tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    client = client_for(service.url, None)
    key = Ed25519PrivateKey.generate()
    with pytest.raises(CloudRejected, match="bad_token"):
        client.register("wrong-token-123", "kiosk-reg-1", "Shop", key)
    assert client.register(TOKEN, "kiosk-reg-1", "Shop", key).created is True
    assert client.register(TOKEN, "kiosk-reg-1", "Shop", key).created is False
    with pytest.raises(CloudRejected, match="device_exists"):
        client.register(TOKEN, "kiosk-reg-1", "Shop", Ed25519PrivateKey.generate())


def test_failed_verification_is_never_scored_up(service, identity, good_applicant):
    client = client_for(service.url, identity)
    for matched, live in ((False, True), (True, False)):
        est = client.estimate(estimate_request(good_applicant, matched=matched, live=live))
        assert est.decision == "declined" and est.limit == 0 and est.reason_codes[0] == reasons.VERIFICATION_FAILED
        assert est.reason_codes == ["verification_failed"]


def test_thin_file_gets_the_starter_policy(service, identity):
    est = client_for(service.url, identity).estimate(estimate_request(THIN_FILE))
    assert est.decision == "starter" and est.grade == "S" and est.limit == 1000 and est.pd is None


def test_limit_policy_caps():
    ok = True
    assert decide(0.05, ok, monthly_income=10000, requested=50000).limit == 20000  # grade A band
    capped = decide(0.05, ok, monthly_income=2000, requested=50000)
    assert capped.limit == 6000 and reasons.INCOME_CAP in capped.reasons
    assert decide(0.05, ok, 10000, requested=800).limit == 800
    assert decide(0.6, ok, 10000, 5000).decision == "declined"
    assert decide(0.05, False, 10000, 5000).decision == "declined"


def test_scorecard_on_the_held_out_split(model):
    m = model.card.metrics
    assert m["test_rows"] == 9000 and m["auc_test"] > 0.75 and m["ks_test"] > 0.38
    calibration = m["calibration_test"]
    assert all(abs(c["mean_pd"] - c["observed"]) < 0.05 for c in calibration)


def test_risky_applicants_get_risk_factor_codes_the_contract_names(model):
    risky = max(model.records(), key=lambda r: model.score(r)[0])
    pd, codes = model.score(risky)
    from cloud.credit.bureau import FEATURES

    assert pd > 0.5 and codes and set(codes) <= set(reasons.RISK_FACTORS) and set(FEATURES) == set(reasons.RISK_FACTORS)


def test_synthetic_id_numbers_are_well_formed_and_deterministic():
    number = synthetic_id_number(42, 30)
    assert number == synthetic_id_number(42, 30) and number_problems(number) == [] and number[6:10] == "1975"


def test_openapi_contract_has_not_drifted(tmp_path, model):
    app = create_app(service_settings(tmp_path / "x.sqlite3", tmp_path / "card.json"), model)
    assert app.openapi() == json.loads(OPENAPI.read_text()), "run: kiosk-cloud openapi > cloud/openapi.json"


def test_health(service):
    health = client_for(service.url, None).health()
    assert health.status == "ok" and abs(health.server_time - time.time()) < 5 and health.model["auc_test"] > 0.75


def test_unsigned_call_from_an_unregistered_kiosk_is_refused_locally(service):
    from kiosk.cloud_client.errors import NotRegistered

    with pytest.raises(NotRegistered, match="not registered"):
        client_for(service.url, None).offers()


def test_application_header_is_required(service, identity, good_applicant):
    body = application(identity, "0123456789abcdef", 1, 1, "x").model_dump_json().encode()
    response, _ = _signed_post(service, identity, "/v1/applications", body)
    assert response.status_code == 422 and HEADER_IDEMPOTENCY in response.text
