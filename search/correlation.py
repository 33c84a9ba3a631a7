"""Rank correlations of scores against accuracies (Kendall tau, Spearman rho)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tfnas_db.search.rank_stats import kendall_tau_b, spearman_rho


@dataclass(frozen=True)
class Correlation:
    scorer: str
    accuracy: str
    n: int
    kendall_tau: float
    spearman_rho: float
    top10_kendall_tau: float  # within the top 10 % of those architectures by accuracy
    top10_n: int


def _tau(x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 2 or np.all(x == x[0]) or np.all(y == y[0]):
        return float("nan")
    return kendall_tau_b(x, y)


def correlate(
    scorer: str, scores: np.ndarray, accuracy_name: str, accuracy: np.ndarray
) -> Correlation:
    """Correlation over the architectures where both the score and the accuracy are finite."""
    ok = np.isfinite(scores) & np.isfinite(accuracy)
    x, y = np.asarray(scores)[ok], np.asarray(accuracy)[ok]
    rho = float("nan")
    if len(x) >= 2 and not (np.all(x == x[0]) or np.all(y == y[0])):
        rho = spearman_rho(x, y)
    top = np.zeros(len(y), dtype=bool)
    if len(y):
        cutoff = np.quantile(y, 0.9)
        top = y >= cutoff
    return Correlation(
        scorer=scorer,
        accuracy=accuracy_name,
        n=len(x),
        kendall_tau=_tau(x, y),
        spearman_rho=rho,
        top10_kendall_tau=_tau(x[top], y[top]),
        top10_n=int(top.sum()),
    )
