"""NASWOT Algorithm 2: sample N architectures without replacement, keep the best score.

Vectorised over runs: one (runs x candidates) key matrix, argpartition for the samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tfnas_db.errors import TfnasError
from tfnas_db.search.penalties import penalised


@dataclass(frozen=True)
class SearchResult:
    """Per run: the picked candidate (row into the arrays) and the rows it evaluated.

    ``samples`` is (runs, k), padded with -1 where a run evaluated fewer; strategies whose
    cost is not "the scoring seconds of what they evaluated" (ET-NAS, the training-based
    baselines) give ``search_seconds`` per run directly.
    """

    picks: np.ndarray  # (runs,) row indices
    samples: np.ndarray  # (runs, k) row indices evaluated by each run, -1 padded
    search_seconds: np.ndarray | None = None
    front: np.ndarray | None = None  # pareto: rows of the non-dominated set, by size

    def seconds_per_run(self, seconds: np.ndarray) -> np.ndarray:
        if self.search_seconds is not None:
            return self.search_seconds
        valid = self.samples >= 0
        return np.where(valid, seconds[np.maximum(self.samples, 0)], 0.0).sum(axis=1)

    @property
    def evaluations(self) -> np.ndarray:
        return (self.samples >= 0).sum(axis=1)


def sample_without_replacement(
    n_candidates: int, n: int, runs: int, rng: np.random.Generator
) -> np.ndarray:
    """(runs, n) distinct rows per run, uniformly at random."""
    if n < 1:
        raise TfnasError(f"--n must be at least 1, got {n}")
    if runs < 1:
        raise TfnasError(f"--runs must be at least 1, got {runs}")
    if n > n_candidates:
        raise TfnasError(
            f"--n {n} is larger than the {n_candidates} architectures with a stored score"
        )
    if n == n_candidates:
        return np.tile(np.arange(n_candidates), (runs, 1))
    if n * 8 < n_candidates:  # small samples: rejection is cheaper than a full key matrix
        out = np.empty((runs, n), dtype=np.int64)
        for r in range(runs):
            out[r] = rng.choice(n_candidates, size=n, replace=False)
        return out
    keys = rng.random((runs, n_candidates), dtype=np.float32)
    return np.argpartition(keys, n - 1, axis=1)[:, :n].astype(np.int64)


def random_search(
    scores: np.ndarray,
    sizes: np.ndarray,
    *,
    n: int,
    runs: int,
    seed: int,
    penalty: str = "none",
    mu: float = 0.2,
    sigma: float = 0.4,
    eligible: np.ndarray | None = None,
) -> SearchResult:
    """Best (optionally size-penalised) score among N random candidates, ``runs`` times.

    ``eligible`` (a boolean mask, e.g. from --max-params) restricts the candidates.
    Penalties normalise the score over each run's N candidates.
    """
    rows = np.arange(len(scores)) if eligible is None else np.flatnonzero(eligible)
    rng = np.random.default_rng(seed)
    samples = rows[sample_without_replacement(len(rows), n, runs, rng)]
    ranked = penalised(scores[samples], sizes[samples], penalty, mu, sigma, axis=1)
    best = np.argmax(ranked, axis=1)
    picks = samples[np.arange(runs), best]
    return SearchResult(picks=picks, samples=samples)
