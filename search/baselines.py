"""Training-based baselines simulated from the benchmark table (NAS-Bench-201 style).

"Training" an architecture is a lookup of its 12-epoch validation accuracy; its cost is
the simulated training time of that schedule. The store holds the training seconds of the
space's full schedule (NATS-Bench TSS 200 epochs, SSS 90), so a 12-epoch training costs
12/200 (12/90) of them (the per-epoch time is the same schedule-independent cost NATS-Bench
records). Search stops when the next
evaluation would exceed ``budget`` seconds (default 12 000, as NAS-Bench-201).
"""

from __future__ import annotations

import numpy as np

from tfnas_db.errors import TfnasError
from tfnas_db.search.random_search import SearchResult

TRAIN_EPOCHS = 12
DEFAULT_BUDGET = 12000.0


def training_cost(train_seconds: np.ndarray, recorded_epochs: int = 200) -> np.ndarray:
    """Seconds of a 12-epoch training from those of a ``recorded_epochs`` schedule."""
    return np.asarray(train_seconds, dtype=np.float64) * TRAIN_EPOCHS / recorded_epochs


def budgeted_random_search(
    fitness: np.ndarray,
    cost: np.ndarray,
    *,
    budget: float,
    runs: int,
    seed: int,
    eligible: np.ndarray | None = None,
) -> SearchResult:
    """Per run: evaluate random distinct candidates until the budget is spent, keep the best."""
    if budget <= 0:
        raise TfnasError(f"--budget-seconds must be > 0, got {budget}")
    rng = np.random.default_rng(seed)
    rows = np.arange(len(fitness)) if eligible is None else np.flatnonzero(eligible)
    cheapest = float(np.min(cost[rows]))
    length = int(min(len(rows), np.ceil(budget / max(cheapest, 1e-9)) + 1))
    keys = rng.random((runs, len(rows)))
    # The first ``length`` positions of a random permutation: partition, then sort only
    # those keys (the same order a full argsort gives, at a fraction of its cost).
    first = (
        np.argpartition(keys, length - 1, axis=1)[:, :length]
        if length < len(rows)
        else np.tile(np.arange(len(rows)), (runs, 1))
    )
    ranked = np.take_along_axis(first, np.argsort(np.take_along_axis(keys, first, 1), 1), 1)
    order = rows[ranked]
    spent = np.cumsum(cost[order], axis=1)
    within = spent <= budget
    if not np.any(within[:, 0]):
        raise TfnasError(f"a time budget of {budget} s cannot pay for a single evaluation")
    evaluated = np.where(within, order, -1)
    seen = np.where(within, fitness[order], -np.inf)
    picks = order[np.arange(runs), np.argmax(seen, axis=1)]
    seconds = np.where(within, cost[order], 0.0).sum(axis=1)
    return SearchResult(picks=picks, samples=evaluated, search_seconds=seconds)
