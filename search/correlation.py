"""Rank correlations of scores against accuracies (Kendall tau, Spearman rho)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tfnas_db.search.etnas import utopian_distance
from tfnas_db.search.rank_stats import kendall_tau_b, spearman_rho

UTOPIAN = "utopian"
UTOPIAN_MEASURES = ("naswot", "logsynflow", "loss_slope")


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


def utopian_score(naswot: np.ndarray, logsynflow: np.ndarray, loss_slope: np.ndarray) -> np.ndarray:
    """ET-NAS's utopian-point measure as a "higher is better" score: minus the distance of
    the max-normalised (naswot, logsynflow, loss_slope) to (1, 1, 1). The maxima are taken
    over the architectures that hold all three finite scores; the others get nan."""
    stacked = np.column_stack([naswot, logsynflow, loss_slope]).astype(np.float64)
    ok = np.all(np.isfinite(stacked), axis=1)
    score = np.full(len(stacked), np.nan)
    if ok.any():
        score[ok] = -utopian_distance(stacked[ok, 0], stacked[ok, 1], stacked[ok, 2])
    return score


def utopian_correlations(
    scores: dict[str, np.ndarray], accuracies: dict[str, np.ndarray]
) -> list[Correlation]:
    """The utopian-point measure's correlation with each accuracy column, when ``scores``
    holds all of naswot, logsynflow and loss_slope (else none): ET-NAS Table III's
    "Utopian" column."""
    if not set(UTOPIAN_MEASURES) <= set(scores):
        return []
    combined = utopian_score(*(scores[name] for name in UTOPIAN_MEASURES))
    return [correlate(UTOPIAN, combined, name, values) for name, values in accuracies.items()]
