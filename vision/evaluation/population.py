"""False-match and false-non-match rates per demographic group, the way NIST FRVT reports differentials.

Within each group every pair of images of different people is an impostor pair and every pair of images of
the same person a genuine pair (same-group impostors: the comparison a kiosk in one population really makes).
Rates come with exact (Clopper-Pearson) 95% intervals: a group of 100 people gives thousands of impostor pairs
but few genuine ones, and the interval says how much the figure can be trusted.

Group labels are a data file (``lfw_pool_groups.tsv``, method in its header), read by :func:`load_groups`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.stats import beta

from vision.evaluation.faces import Encoded, identity_of
from vision.matching import Calibration

GROUPS_FILE = Path(__file__).with_name("lfw_pool_groups.tsv")
ALL = "all"


def load_groups(path: Path = GROUPS_FILE) -> dict[str, str]:
    with Path(path).open(encoding="utf-8") as fh:
        rows = csv.DictReader((line for line in fh if not line.startswith("#")), delimiter="\t")
        return {r["identity"]: r["group"] for r in rows}


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    if n == 0:
        return float("nan"), float("nan")
    a = (1 - level) / 2
    low = 0.0 if k == 0 else float(beta.ppf(a, k, n - k + 1))
    high = 1.0 if k == n else float(beta.ppf(1 - a, k + 1, n - k))
    return low, high


@dataclass(frozen=True)
class GroupScores:
    group: str
    people: int
    images: int
    genuine: np.ndarray
    impostor: np.ndarray


def group_scores(enc: Encoded, groups: dict[str, str], calibration: Calibration,
                 references: Encoded | None = None) -> dict[str, GroupScores]:
    """Same-group genuine and impostor scores under ``calibration``'s scoring, per group and for everyone.
    With ``references`` (the same images in another form, e.g. as chip photos): pair (i, j) compares image i's
    reference with image j, over the images both encodings enrolled."""
    names = sorted(set(enc.embeddings) & set(references.embeddings)) if references else sorted(enc.embeddings)
    ids = np.array([identity_of(n) for n in names])
    labels = np.array([groups.get(i, "unlabelled") for i in ids])
    scores = _score_matrix(references or enc, enc, names, calibration)
    upper = np.triu(np.ones_like(scores, dtype=bool), k=1)
    same = ids[:, None] == ids[None, :]
    out = {}
    for group in [ALL, *sorted(set(labels))]:
        member = np.ones(len(names), bool) if group == ALL else labels == group
        both = upper & member[:, None] & member[None, :]
        out[group] = GroupScores(group, len(set(ids[member])), int(member.sum()), scores[both & same],
                                 scores[both & ~same])
    return out


def _score_matrix(first: Encoded, second: Encoded, names: list[str], calibration: Calibration) -> np.ndarray:
    total = np.zeros((len(names), len(names)), np.float32)
    for rec in calibration.recognizers:
        a = np.stack([first.embeddings[n][rec] for n in names]).astype(np.float32)
        b = np.stack([second.embeddings[n][rec] for n in names]).astype(np.float32)
        cos = a @ b.T
        if len(calibration.recognizers) == 1:
            return cos
        mean, std = calibration.normalisation[rec]
        total += calibration.weights[rec] * (cos - mean) / std
    return total


@dataclass(frozen=True)
class Rate:
    errors: int
    trials: int

    @property
    def value(self) -> float:
        return self.errors / self.trials if self.trials else float("nan")

    @property
    def interval(self) -> tuple[float, float]:
        return clopper_pearson(self.errors, self.trials)

    def as_dict(self) -> dict:
        low, high = self.interval
        return {"rate": self.value, "errors": self.errors, "trials": self.trials, "ci95": [low, high]}


def rates_at(scores: GroupScores, threshold: float) -> tuple[Rate, Rate]:
    """(FMR, FNMR) at ``threshold`` (a score >= threshold is a match)."""
    return (Rate(int((scores.impostor >= threshold).sum()), len(scores.impostor)),
            Rate(int((scores.genuine < threshold).sum()), len(scores.genuine)))


def threshold_for(impostor: np.ndarray, fmr: float, bound: bool = False) -> float:
    """The lowest threshold whose FMR on ``impostor`` is at most ``fmr``; with ``bound``, whose upper 95%
    Clopper-Pearson bound is: a threshold fitted on a sample should hold on people it has not seen."""
    ordered = np.sort(impostor)[::-1]
    n = len(ordered)
    allowed = int(np.floor(fmr * n))
    if bound:
        while allowed > 0 and clopper_pearson(allowed, n)[1] > fmr:
            allowed -= 1
    if allowed >= n:
        return float(ordered[-1])
    return float(np.nextafter(ordered[allowed], np.inf))


def population_report(enc: Encoded, groups: dict[str, str], calibrations: list[Calibration],
                      fmrs: tuple[float, ...] = (1e-3, 1e-4), chips: Encoded | None = None) -> dict:
    """For each calibration and each of its shipped FMR settings: FMR and FNMR per group with intervals, and
    the threshold each group would need for that FMR. A chip-photo calibration is measured on ``chips`` (the
    pool's images as chip photos) against the full images, and skipped without them."""
    report: dict = {"groups": {}, "calibrations": {}}
    for calibration in calibrations:
        chip = calibration.reference == "chip_photo"
        if chip and chips is None:
            continue
        per_group = group_scores(enc, groups, calibration, chips if chip else None)
        if not chip:
            for g, s in per_group.items():
                report["groups"][g] = {"people": s.people, "images": s.images, "genuine_pairs": len(s.genuine),
                                       "impostor_pairs": len(s.impostor)}
        rows = {}
        for fmr in fmrs:
            key = f"{fmr:.0e}"
            if key not in calibration.thresholds:
                continue
            threshold = calibration.thresholds[key]
            rows[key] = {"threshold": threshold, "groups": {}}
            for g, s in per_group.items():
                fm, fnm = rates_at(s, threshold)
                needed = threshold_for(s.impostor, fmr) if len(s.impostor) else float("nan")
                rows[key]["groups"][g] = {"fmr": fm.as_dict(), "fnmr": fnm.as_dict(), "threshold_needed": needed,
                                          "fnmr_at_needed": rates_at(s, needed)[1].as_dict()}
        report["calibrations"][calibration.name] = {"population": calibration.population,
                                                    "reference": calibration.reference, "settings": rows}
    return report


def format_population(report: dict) -> str:
    lines = ["groups: " + "; ".join(f"{g} {v['people']} people, {v['images']} images, {v['genuine_pairs']} genuine / "
                                     f"{v['impostor_pairs']} impostor pairs" for g, v in report["groups"].items())]
    lines.append(f"{'calibration (population)':<38} {'FMR set':>8} {'thr':>6}  {'group':<11} {'FMR [95% CI]':>30} "
                 f"{'FNMR [95% CI]':>26} {'thr needed':>10} {'FNMR there':>10}")
    for name, c in report["calibrations"].items():
        for key, row in c["settings"].items():
            for g, r in row["groups"].items():
                fm, fnm = r["fmr"], r["fnmr"]
                lines.append(
                    f"{name + ' (' + c['population'] + ')':<38} {key:>8} {row['threshold']:6.3f}  {g:<11} "
                    f"{fm['rate']:9.2e} [{fm['ci95'][0]:8.1e},{fm['ci95'][1]:8.1e}] {fm['errors']:>4}/{fm['trials']:<8} "
                    f"{100 * fnm['rate']:5.1f}% [{100 * fnm['ci95'][0]:4.1f},{100 * fnm['ci95'][1]:4.1f}] "
                    f"{fnm['errors']:>3}/{fnm['trials']:<4} {r['threshold_needed']:10.3f} "
                    f"{100 * r['fnmr_at_needed']['rate']:9.1f}%")
    return "\n".join(lines)


def build_population_calibrations(enc: Encoded, groups: dict[str, str], population: str, detector: str,
                                  flip_tta: bool, source: str, chips: Encoded | None = None) -> list[Calibration]:
    """One calibration per recognizer with thresholds from ``population``'s same-group impostor pairs, each set so
    that the upper 95% bound of its FMR meets the target (the people the kiosk meets are not these people).
    With ``chips`` (the same images as chip photos): also each one's chip-photo calibration (``<name>_chip``),
    fitted on chip photo vs full image impostor pairs."""
    out = []
    for rec in next(iter(enc.embeddings.values())):
        name = f"{rec}{'_flip' if flip_tta else ''}_{population}"
        single = Calibration(rec, (rec,), flip_tta, detector, {}, {rec: 1.0}, {}, {}, population)
        out.append(_fitted(name, single, group_scores(enc, groups, single)[population], source, population, ""))
        if chips is not None:
            scores = group_scores(enc, groups, single, chips)[population]
            out.append(_fitted(f"{name}_chip", single, scores, source, population,
                               " (chip photos of image i vs image j)", reference="chip_photo"))
    return out


def _fitted(name: str, base: Calibration, scores: GroupScores, source: str, population: str, what: str,
            reference: str = "photo") -> Calibration:
    # An FMR this sample cannot vouch for even with no false match at all (1e-4 needs some 30,000 impostor
    # pairs) gets no threshold: asking for it is an error, never a threshold that merely looks strict.
    n = len(scores.impostor)
    thresholds = {f"{f:.0e}": threshold_for(scores.impostor, f, bound=True)
                  for f in (1e-2, 1e-3, 1e-4) if clopper_pearson(0, n)[1] <= f}
    data = {"description": f"{source}, group {population}: {scores.people} people, {scores.images} images, "
                           f"{n} same-group impostor pairs{what}; thresholds at the upper 95% "
                           "Clopper-Pearson bound of the FMR",
            "pool": source, "people": scores.people, "images": scores.images,
            "impostor_pairs": n, "genuine_pairs": len(scores.genuine), "groups_file": GROUPS_FILE.name}
    return Calibration(name, base.recognizers, base.flip_tta, base.detector, {}, dict(base.weights), thresholds,
                       data, population, reference)
