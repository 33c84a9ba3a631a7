"""How much a score moves when only the seed (minibatch and initialisation) changes.

The NASWOT paper reports its score's spread over minibatches; a user choosing a scorer
needs the same for every scorer, in terms that bear on a search: does the ranking
survive a reseed (Kendall tau between seeds), does the top of it (top-k overlap), and
how large is the per-architecture spread against the spread between architectures.
Pure numpy over a (architectures x seeds) matrix, so it is tested on hand-made cases.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from tfnas_db.search.rank_stats import kendall_tau_b


@dataclass(frozen=True)
class SeedVariance:
    n_archs: int  # architectures with a finite score under every seed
    n_seeds: int
    mean_std: float  # mean over architectures of the std across seeds (ddof=1)
    between_std: float  # std across architectures of the seed-mean score (ddof=1)
    tau_mean: float  # Kendall tau-b between two seeds' rankings, mean over seed pairs
    tau_min: float
    top_k: int
    top_k_overlap: float  # |top-k of seed a ∩ top-k of seed b| / k, mean over seed pairs

    @property
    def noise_ratio(self) -> float:
        """Within-architecture std over between-architecture std: 0 is seed-proof."""
        return self.mean_std / self.between_std if self.between_std > 0 else float("nan")

    def as_dict(self) -> dict[str, float | int]:
        return {
            "n_archs": self.n_archs,
            "n_seeds": self.n_seeds,
            "mean_std": self.mean_std,
            "between_std": self.between_std,
            "noise_ratio": self.noise_ratio,
            "tau_mean": self.tau_mean,
            "tau_min": self.tau_min,
            "top_k": self.top_k,
            "top_k_overlap": self.top_k_overlap,
        }


def top_k_indices(values: np.ndarray, k: int) -> set[int]:
    """Rows of the k highest values (ties broken by row, so the result is stable)."""
    order = np.lexsort((np.arange(len(values)), -values))
    return {int(i) for i in order[:k]}


def seed_variance(scores: np.ndarray, top_k: int = 10) -> SeedVariance:
    """Statistics of ``scores`` (architectures x seeds); rows with a non-finite value are
    dropped, so every statistic compares the same architectures."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2 or scores.shape[1] < 2:
        raise ValueError("seed_variance needs an (architectures x seeds) matrix, seeds >= 2")
    finite = scores[np.isfinite(scores).all(axis=1)]
    n_archs, n_seeds = finite.shape
    k = min(top_k, n_archs)
    taus, overlaps = [], []
    for a, b in itertools.combinations(range(n_seeds), 2):
        taus.append(kendall_tau_b(finite[:, a], finite[:, b]))
        if k:
            shared = top_k_indices(finite[:, a], k) & top_k_indices(finite[:, b], k)
            overlaps.append(len(shared) / k)
    nan = float("nan")
    return SeedVariance(
        n_archs=n_archs,
        n_seeds=n_seeds,
        # std is shift-invariant: measured from each row's first value, an architecture
        # whose seeds agree exactly (params, flops) gives exactly 0, not a rounding residue
        mean_std=float((finite - finite[:, :1]).std(axis=1, ddof=1).mean()) if n_archs else nan,
        between_std=float(finite.mean(axis=1).std(ddof=1)) if n_archs > 1 else nan,
        tau_mean=float(np.mean(taus)) if n_archs > 1 else nan,
        tau_min=float(np.min(taus)) if n_archs > 1 else nan,
        top_k=k,
        top_k_overlap=float(np.mean(overlaps)) if overlaps else nan,
    )
