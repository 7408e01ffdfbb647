"""What every route works with, built once per app: the settings, the database, the credit model, the product
catalogue, the acceptance policy and the ID-hash key. Routes get it as a dependency (``service``)."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Engine

from cloud import db
from cloud.acceptance import AcceptancePolicy
from cloud.credit.model import CreditModel
from cloud.guards import Lockout
from cloud.id_hash import load_key
from cloud.settings import ServiceSettings
from contract.schemas import OffersResponse, Product


def load_catalog(settings: ServiceSettings) -> OffersResponse:
    raw = settings.offers_file.read_bytes()
    products = [Product(**p) for p in tomllib.loads(raw.decode())["product"]]
    return OffersResponse(version=hashlib.sha256(raw).hexdigest()[:12], products=products)


@dataclass
class Service:
    settings: ServiceSettings
    engine: Engine
    credit: CreditModel
    catalog: OffersResponse
    acceptance: AcceptancePolicy
    hash_key: bytes
    lockout: Lockout
    housekeeping: dict[str, float] = field(default_factory=lambda: {"nonces_pruned": 0.0})

    @classmethod
    def start(cls, settings: ServiceSettings, model: CreditModel | None = None) -> Service:
        engine = db.connect(settings.database_url)
        return cls(settings, engine, model or CreditModel.load(settings.bureau_csv, settings.scorecard),
                   load_catalog(settings), AcceptancePolicy.load(settings.acceptance_file),
                   load_key(settings.id_hash_key_file),
                   Lockout(engine, settings.max_token_failures, settings.token_lockout_s))


def service(request: Request) -> Service:
    return request.app.state.service


ServiceDep = Annotated[Service, Depends(service)]  # a route's parameter: ``svc: ServiceDep``
