"""The trained scorecard artifact: where it lives, how it is (re)built, how an applicant is scored."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from cloud.credit.bureau import FEATURES, BureauRecord, features, load_bureau
from cloud.credit.scorecard import Scorecard, train

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CSV = ROOT.parent / "shared" / "data" / "credit" / "taiwan_default_of_credit_card_clients.csv"
DEFAULT_ARTIFACT = ROOT / "var" / "cloud" / "credit_scorecard.json"

log = logging.getLogger("cloud.credit")


def train_artifact(csv: Path, out: Path) -> Scorecard:
    records = load_bureau(csv)
    card = train([features(r) for r in records], np.array([r.defaulted for r in records]), list(FEATURES))
    card.save(out)
    return card


class CreditModel:
    def __init__(self, card: Scorecard, bureau: list[BureauRecord]) -> None:
        self.card = card
        self._by_id = {r.id_number: r for r in bureau}

    @classmethod
    def load(cls, csv: Path = DEFAULT_CSV, artifact: Path = DEFAULT_ARTIFACT) -> CreditModel:
        if not artifact.is_file():
            # Reproducible from the public CSV in about a second; never fetched from anywhere.
            log.warning("scorecard artifact missing; training it", extra={"artifact": str(artifact)})
            train_artifact(csv, artifact)
        return cls(Scorecard.load(artifact), load_bureau(csv))

    def lookup(self, id_number: str) -> BureauRecord | None:
        return self._by_id.get(id_number.upper())

    def score(self, record: BureauRecord) -> tuple[float, tuple[str, ...]]:
        row = features(record)
        pd = float(self.card.pd([row])[0])
        return pd, tuple(name for name, _ in self.card.reasons(row))

    def records(self) -> list[BureauRecord]:
        return list(self._by_id.values())
