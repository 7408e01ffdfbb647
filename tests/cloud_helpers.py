"""A real scoring service on loopback for the cloud tests, and a registered kiosk identity."""

from __future__ import annotations

import itertools
from pathlib import Path

from cloud.acceptance import AcceptancePolicy
from cloud.credit.model import CreditModel
from cloud.local import LocalService
from cloud.settings import ServiceSettings
from contract.id_number import REQUIRED_CHECKS
from contract.reference import make_reference
from contract.schemas import (
    Applicant,
    ApplicationRequest,
    DocumentEvidence,
    EstimateRequest,
    FaceEvidence,
    IdentityEvidence,
    LivenessEvidence,
)
from kiosk.cloud_client.client import CloudClient
from kiosk.cloud_client.identity import DeviceIdentity
from kiosk.cloud_client.registration import register_device
from kiosk.config import load_config

TOKEN = "test-provisioning-token"
SUPPORT = "test-support-token-0001"


def service_settings(db_path: Path, scorecard: Path) -> ServiceSettings:
    """Everything the service writes stays beside ``db_path`` (database, ID-hash secret)."""
    return ServiceSettings(database_url=f"sqlite:///{db_path}", provisioning_tokens=[TOKEN], scorecard=scorecard,
                           support_tokens=[SUPPORT], id_hash_key_file=db_path.with_name("id_hash.key"))


def start_service(tmp: Path, model: CreditModel, port: int | None = None, **overrides) -> LocalService:
    settings = service_settings(tmp / "service.sqlite3", tmp / "scorecard.json").model_copy(update=overrides)
    return LocalService(settings, port, model).start()


def register(service: LocalService, data_dir: Path, device_id: str = "kiosk-test-0001") -> DeviceIdentity:
    config = load_config().model_copy(update={"data_dir": data_dir})
    identity, _ = register_device(config, service.url, TOKEN, "Test shop", device_id)
    return identity


def client_for(url: str, identity: DeviceIdentity | None, retries: int = 1) -> CloudClient:
    return CloudClient(url, identity, connect_timeout_s=1.0, read_timeout_s=2.0, max_retries=retries,
                       backoff_s=0.05)


# A number no bureau row carries (a thin file), valid under every GB 11643 check.
THIN_FILE = "11010219840406970X"


def evidence(id_number: str, matched: bool = True, live: bool = True) -> IdentityEvidence:
    """What a kiosk running the trusted default models would send after reading the card and the face."""
    policy = AcceptancePolicy.load()
    face = policy.faces["mobilefacenet_flip_east_asian"]
    return IdentityEvidence(
        document=DocumentEvidence(source="ocr", id_number=id_number, checks=list(REQUIRED_CHECKS), chip_photo="no_chip"),
        face=FaceEvidence(calibration="mobilefacenet_flip_east_asian", models=face.models,
                          score=0.8 if matched else 0.1),
        liveness=LivenessEvidence(models=policy.liveness_models, passive_score=0.97 if live else 0.1,
                                  challenges=2, challenges_passed=2),
    )


_SEQUENCE = itertools.count(90_001)  # references made by tests, apart from the kiosk outbox's own row ids


def application(identity: DeviceIdentity, estimate_id: str, amount: float = 5000, term_months: int = 12,
                offer_id: str = "rural-bank-flex:12") -> ApplicationRequest:
    """An application as ``identity``'s kiosk would send it, with a fresh reference of that device."""
    return ApplicationRequest(reference=make_reference(identity.device_number, next(_SEQUENCE)), estimate_id=estimate_id,
                              offer_id=offer_id, amount=amount, term_months=term_months)


def estimate_request(id_number: str, matched: bool = True, live: bool = True, income: float = 6000,
                     amount: float = 5000) -> EstimateRequest:
    return EstimateRequest(
        applicant=Applicant(monthly_income=income, requested_amount=amount, term_months=12),
        identity=evidence(id_number, matched, live),
    )
