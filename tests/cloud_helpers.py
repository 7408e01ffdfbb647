"""A real scoring service on loopback for the cloud tests, and a registered kiosk identity."""

from __future__ import annotations

from pathlib import Path

from cloud.credit.model import CreditModel
from cloud.local import LocalService
from cloud.schemas import Applicant, EstimateRequest, VerificationEvidence
from cloud.settings import ServiceSettings
from kiosk.cloud_client.client import CloudClient
from kiosk.cloud_client.identity import DeviceIdentity
from kiosk.config import load_config
from kiosk.cloud_client.registration import register_device

TOKEN = "test-provisioning-token"


def service_settings(db_path: Path, scorecard: Path) -> ServiceSettings:
    return ServiceSettings(database_url=f"sqlite:///{db_path}", provisioning_tokens=[TOKEN], scorecard=scorecard)


def start_service(tmp: Path, model: CreditModel, port: int | None = None) -> LocalService:
    return LocalService(service_settings(tmp / "service.sqlite3", tmp / "scorecard.json"), port, model).start()


def register(service: LocalService, data_dir: Path, device_id: str = "kiosk-test-0001") -> DeviceIdentity:
    config = load_config().model_copy(update={"data_dir": data_dir})
    identity, _ = register_device(config, service.url, TOKEN, "Test shop", device_id)
    return identity


def client_for(url: str, identity: DeviceIdentity | None, retries: int = 1) -> CloudClient:
    return CloudClient(url, identity, connect_timeout_s=1.0, read_timeout_s=2.0, max_retries=retries,
                       backoff_s=0.05)


def estimate_request(id_number: str, matched: bool = True, live: bool = True, income: float = 6000,
                     amount: float = 5000) -> EstimateRequest:
    return EstimateRequest(
        applicant=Applicant(id_number=id_number, monthly_income=income, requested_amount=amount, term_months=12),
        verification=VerificationEvidence(face_matched=matched, match_score=0.8 if matched else 0.1,
                                          match_threshold=0.45, live=live, liveness_score=0.97 if live else 0.1),
    )
