"""Verification metrics over scored pairs (higher score = more likely the same person)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Probability a random genuine pair outscores a random impostor pair (ties count half)."""
    genuine, impostor = scores[labels == 1], scores[labels == 0]
    order = np.argsort(np.concatenate([genuine, impostor]), kind="mergesort")
    ranks = np.empty(len(order))
    ranks[order] = np.arange(1, len(order) + 1)
    all_scores = np.concatenate([genuine, impostor])
    for value in np.unique(all_scores):  # average ranks over ties
        tie = all_scores == value
        if tie.sum() > 1:
            ranks[tie] = ranks[tie].mean()
    return float((ranks[: len(genuine)].sum() - len(genuine) * (len(genuine) + 1) / 2) / (len(genuine) * len(impostor)))


def threshold_at_fmr(impostor_scores: np.ndarray, fmr: float) -> float:
    """Smallest threshold whose false-match rate (impostor score >= threshold) does not exceed ``fmr``."""
    ordered = np.sort(impostor_scores)[::-1]
    allowed = int(np.floor(fmr * len(ordered)))
    if allowed >= len(ordered):
        return float(ordered[-1])
    # Just above the (allowed+1)-th highest impostor score: at most `allowed` impostors reach it.
    return float(np.nextafter(ordered[allowed], np.inf))


def tar_at_far(scores: np.ndarray, labels: np.ndarray, far: float, impostors: np.ndarray | None = None) -> tuple[float, float]:
    """(TAR, threshold) at the threshold giving FAR <= ``far`` on ``impostors`` (default: the impostor pairs)."""
    imp = scores[labels == 0] if impostors is None else impostors
    threshold = threshold_at_fmr(imp, far)
    return float(np.mean(scores[labels == 1] >= threshold)), threshold


def best_accuracy_threshold(scores: np.ndarray, labels: np.ndarray) -> float:
    candidates = np.unique(scores)
    mids = np.concatenate([[candidates[0] - 1e-6], (candidates[:-1] + candidates[1:]) / 2, [candidates[-1] + 1e-6]])
    accuracies = [np.mean((scores >= t) == (labels == 1)) for t in mids]
    return float(mids[int(np.argmax(accuracies))])


def fold_accuracy(scores: np.ndarray, labels: np.ndarray, folds: np.ndarray) -> list[float]:
    """Per-fold accuracy, each fold's threshold chosen on the other folds (LFW unrestricted protocol)."""
    result = []
    for fold in np.unique(folds):
        train, test = folds != fold, folds == fold
        threshold = best_accuracy_threshold(scores[train], labels[train])
        result.append(float(np.mean((scores[test] >= threshold) == (labels[test] == 1))))
    return result


def percentile_ms(samples: Sequence[float]) -> tuple[float, float]:
    if not samples:
        return float("nan"), float("nan")
    arr = np.asarray(samples) * 1000
    return float(np.median(arr)), float(np.percentile(arr, 95))
