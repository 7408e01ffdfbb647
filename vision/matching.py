"""1:1 matching: similarity of embeddings -> decision at a threshold calibrated for a target false-match rate.

Thresholds are never literals in code: they come from a calibration file that records which model(s),
alignment, TTA and data produced them (``kiosk eval faces --write-calibration``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from vision.types import MatchDecision

CALIBRATION_DIR = Path(__file__).with_name("calibration")


class CalibrationError(Exception):
    pass


@dataclass(frozen=True)
class Calibration:
    name: str  # e.g. "mobilefacenet_flip", "fusion_flip"
    recognizers: tuple[str, ...]
    flip_tta: bool
    detector: str
    # Score = sum_i weight_i * (cosine_i - mean_i) / std_i for fusion; a single model uses its raw cosine.
    normalisation: dict[str, tuple[float, float]]
    weights: dict[str, float]
    thresholds: dict[str, float]  # FMR ("1e-03") -> threshold on the score
    data: dict[str, object]  # what the thresholds were measured on
    # Whose impostor pairs the thresholds were fitted on ("east_asian", "lfw_all"): a false-match rate holds
    # only for the population it was measured on, so a file that does not say is refused.
    population: str
    # What the reference side of a pair is: "photo" (the printed portrait, a photo of normal size) or
    # "chip_photo" (the 102x126 photo stored in the card's chip). Small, compressed photos score lower for the
    # same person and differently for impostors, so they get thresholds of their own.
    reference: str = "photo"

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: Path) -> Calibration:
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
            if not raw.get("population"):
                raise CalibrationError(f"calibration file {path} names no population (whose faces its thresholds "
                                       "were measured on); refusing it")
            raw["recognizers"] = tuple(raw["recognizers"])
            raw["normalisation"] = {k: tuple(v) for k, v in raw["normalisation"].items()}
            return cls(**raw)
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise CalibrationError(f"calibration file {path} is unusable: {exc}") from None

    @classmethod
    def all(cls) -> list[Calibration]:
        """Every calibration this build ships."""
        return [cls.load(p) for p in sorted(CALIBRATION_DIR.glob("*.json"))]

    @classmethod
    def named(cls, name: str) -> Calibration:
        path = CALIBRATION_DIR / f"{name}.json"
        if not path.is_file():
            available = sorted(p.stem for p in CALIBRATION_DIR.glob("*.json"))
            raise CalibrationError(f"no calibration named {name!r}; available: {', '.join(available) or 'none'}")
        return cls.load(path)

    @classmethod
    def chip_of(cls, name: str) -> Calibration | None:
        """The chip-photo calibration that goes with calibration ``name`` (``<name>_chip``), if one is shipped."""
        path = CALIBRATION_DIR / f"{name}_chip.json"
        if not path.is_file():
            return None
        chip = cls.load(path)
        if chip.reference != "chip_photo":
            raise CalibrationError(f"calibration {chip.name} is not a chip-photo calibration")
        return chip

    def score(self, a: Mapping[str, np.ndarray], b: Mapping[str, np.ndarray]) -> float:
        if len(self.recognizers) == 1:
            name = self.recognizers[0]
            return float(a[name] @ b[name])
        total = 0.0
        for name in self.recognizers:
            mean, std = self.normalisation[name]
            total += self.weights[name] * (float(a[name] @ b[name]) - mean) / std
        return total

    def threshold(self, fmr: float) -> float:
        key = f"{fmr:.0e}"
        if key not in self.thresholds:
            raise CalibrationError(
                f"calibration {self.name} has no threshold for FMR {key}; calibrated: {', '.join(sorted(self.thresholds))}"
            )
        return self.thresholds[key]


class Matcher:
    def __init__(self, calibration: Calibration, fmr_target: float) -> None:
        self.calibration = calibration
        self.fmr_target = fmr_target
        self.threshold = calibration.threshold(fmr_target)

    def decide(self, reference: Mapping[str, np.ndarray], probes: Sequence[Mapping[str, np.ndarray]]) -> MatchDecision:
        """Compare the ID embedding with the live frames' embeddings.

        The decision uses the mean score over the probe frames (the best-quality ones, chosen by the caller):
        averaging lowers variance, so the false-match rate at the calibrated threshold does not rise, whereas
        taking the best of several frames would give an impostor several tries.
        """
        if not probes:
            raise ValueError("no live frames to compare")
        score = float(np.mean([self.calibration.score(reference, p) for p in probes]))
        return MatchDecision(
            matched=score >= self.threshold,
            score=score,
            threshold=self.threshold,
            fmr_target=self.fmr_target,
            recognizer=self.calibration.name,
            calibration=f"{self.calibration.name}: {self.calibration.data.get('description', '')}",
        )
