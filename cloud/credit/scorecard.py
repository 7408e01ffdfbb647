"""A WOE-binned logistic-regression scorecard: transparent, monotone per bin, with per-feature reason codes.

Each feature is cut into quantile bins (small-cardinality features keep their values); each bin gets its
weight of evidence WOE = ln(share of goods / share of bads); a logistic regression on the WOE values gives
the probability of default. A feature's contribution for an applicant is coef * (WOE_applicant - WOE_best):
the biggest negative contributions are the reasons for a lower limit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.stats import mannwhitneyu


@dataclass
class FeatureBins:
    name: str
    edges: list[float]  # upper edges (inclusive) of all bins but the last
    woe: list[float]

    def bin_of(self, value: float) -> int:
        return int(np.searchsorted(self.edges, value, side="left"))

    def transform(self, values: np.ndarray) -> np.ndarray:
        return np.asarray(self.woe)[np.searchsorted(self.edges, values, side="left")]


def fit_bins(name: str, x: np.ndarray, y: np.ndarray, max_bins: int = 8) -> FeatureBins:
    unique = np.unique(x)
    if len(unique) <= max_bins:
        edges = list(unique[:-1].astype(float))
    else:
        edges = sorted(set(np.quantile(x, np.linspace(0, 1, max_bins + 1)[1:-1]).astype(float)))
    idx = np.searchsorted(edges, x, side="left")
    goods, bads = (y == 0).sum(), (y == 1).sum()
    woe = []
    for b in range(len(edges) + 1):
        g = ((idx == b) & (y == 0)).sum() + 0.5  # +0.5: no infinite WOE for a pure bin
        d = ((idx == b) & (y == 1)).sum() + 0.5
        woe.append(float(np.log((g / goods) / (d / bads))))
    return FeatureBins(name, edges, woe)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3, iterations: int = 50) -> tuple[np.ndarray, float]:
    """Newton-Raphson (IRLS) with a little L2 on the coefficients."""
    n, k = x.shape
    design = np.hstack([np.ones((n, 1)), x])
    beta = np.zeros(k + 1)
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-design @ beta))
        gradient = design.T @ (p - y) + l2 * np.r_[0, beta[1:]]
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + l2 * np.diag(np.r_[0, np.ones(k)])
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta[1:], float(beta[0])


@dataclass
class Scorecard:
    bins: list[FeatureBins]
    coef: list[float]
    intercept: float
    metrics: dict

    @property
    def names(self) -> list[str]:
        return [b.name for b in self.bins]

    def woe_matrix(self, rows: list[dict[str, float]]) -> np.ndarray:
        return np.column_stack([b.transform(np.array([r[b.name] for r in rows])) for b in self.bins])

    def pd(self, rows: list[dict[str, float]]) -> np.ndarray:
        # WOE is high for good risk; the regression predicts default, so its coefficients are negative.
        return 1 / (1 + np.exp(-(self.woe_matrix(rows) @ np.asarray(self.coef) + self.intercept)))

    def reasons(self, row: dict[str, float], top: int = 3) -> list[tuple[str, float]]:
        """The features that raise this applicant's risk most, with their score cost (largest first)."""
        costs = []
        for b, c in zip(self.bins, self.coef, strict=True):
            woe = b.woe[b.bin_of(row[b.name])]
            best = max(b.woe) if c < 0 else min(b.woe)
            costs.append((b.name, float(c * (woe - best))))
        return sorted((x for x in costs if x[1] > 1e-6), key=lambda x: -x[1])[:top]

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"bins": [b.__dict__ for b in self.bins], "coef": self.coef, "intercept": self.intercept,
                "metrics": self.metrics}
        path.write_text(json.dumps(data, indent=1), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: Path) -> Scorecard:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls([FeatureBins(**b) for b in data["bins"]], data["coef"], data["intercept"], data["metrics"])


def ks_statistic(pd: np.ndarray, y: np.ndarray) -> float:
    order = np.argsort(-pd)
    bads = np.cumsum(y[order] == 1) / max((y == 1).sum(), 1)
    goods = np.cumsum(y[order] == 0) / max((y == 0).sum(), 1)
    return float(np.max(np.abs(bads - goods)))


def calibration_table(pd: np.ndarray, y: np.ndarray, groups: int = 10) -> list[dict]:
    order = np.argsort(pd)
    return [
        {"mean_pd": float(pd[chunk].mean()), "observed": float(y[chunk].mean()), "n": len(chunk)}
        for chunk in np.array_split(order, groups)
    ]


def roc_auc(pd: np.ndarray, y: np.ndarray) -> float:
    """P(a defaulter gets a higher PD than a payer), ties half: the Mann-Whitney U statistic over n1 * n0. (The
    service keeps its own: it shares nothing with the kiosk's vision code but the contract package.)"""
    u = mannwhitneyu(pd[y == 1], pd[y == 0], alternative="two-sided").statistic
    return float(u / ((y == 1).sum() * (y == 0).sum()))


def train(rows: list[dict[str, float]], y: np.ndarray, names: list[str], seed: int = 7, test_share: float = 0.3):
    """Stratified hold-out split; bins and coefficients are fitted on the training part only."""
    rng = np.random.default_rng(seed)
    test = np.zeros(len(y), bool)
    for label in (0, 1):
        idx = np.flatnonzero(y == label)
        test[rng.choice(idx, round(test_share * len(idx)), replace=False)] = True
    train_rows = [r for r, t in zip(rows, test, strict=True) if not t]
    test_rows = [r for r, t in zip(rows, test, strict=True) if t]
    bins = [fit_bins(n, np.array([r[n] for r in train_rows]), y[~test]) for n in names]
    card = Scorecard(bins, [], 0.0, {})
    coef, intercept = fit_logistic(card.woe_matrix(train_rows), y[~test].astype(float))
    card.coef, card.intercept = [float(c) for c in coef], intercept
    pd_test = card.pd(test_rows)
    pd_train = card.pd(train_rows)
    card.metrics = {
        "train_rows": int((~test).sum()),
        "test_rows": int(test.sum()),
        "test_default_rate": float(y[test].mean()),
        "auc_test": roc_auc(pd_test, y[test]),
        "ks_test": ks_statistic(pd_test, y[test]),
        "auc_train": roc_auc(pd_train, y[~test]),
        "brier_test": float(np.mean((pd_test - y[test]) ** 2)),
        "calibration_test": calibration_table(pd_test, y[test]),
        "seed": seed,
    }
    return card
