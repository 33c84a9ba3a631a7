"""Regularized evolution (Real et al., AAAI 2019), vectorised over independent runs.

Fitness is any per-candidate array: a stored score (optionally size-penalised) for the
training-free search, or the 12-epoch validation accuracy for the simulated
training-based baseline, whose evaluations then cost simulated training seconds under a
time budget (as NAS-Bench-201 simulates REA).
"""

from __future__ import annotations

import numpy as np

from tfnas_db.errors import TfnasError
from tfnas_db.search.mutation import MutationTable
from tfnas_db.search.random_search import SearchResult, sample_without_replacement


def regularized_evolution(
    fitness: np.ndarray,
    mutation: MutationTable,
    *,
    runs: int,
    seed: int,
    population: int = 20,
    sample: int = 5,
    cycles: int | None = 100,
    cost: np.ndarray | None = None,
    budget: float | None = None,
    eligible: np.ndarray | None = None,
) -> SearchResult:
    """Per run: P random candidates, then per cycle the best of S sampled members is
    mutated on one edge, the child joins and the oldest member leaves; the pick is the
    fittest candidate evaluated. With ``budget``, evaluations (random or mutated) stop
    once their summed ``cost`` would exceed it; otherwise ``cycles`` children are made.
    ``samples`` of the result lists every evaluation per run (-1 padded).
    """
    if population < 2 or not 1 <= sample <= population:
        raise TfnasError(
            f"REA needs population >= 2 and 1 <= sample <= population, got {population}, {sample}"
        )
    if budget is None and (cycles is None or cycles < 0):
        raise TfnasError("REA needs --cycles >= 0 or a time budget")
    rng = np.random.default_rng(seed)
    rows = np.arange(len(fitness)) if eligible is None else np.flatnonzero(eligible)
    start = rows[sample_without_replacement(len(rows), population, runs, rng)]
    steps = cycles if budget is None else int(max(1, 20 * population))
    cost = np.zeros(len(fitness)) if cost is None else np.asarray(cost, dtype=np.float64)
    limit = np.inf if budget is None else float(budget)

    evaluated = np.full((runs, population + steps), -1, dtype=np.int64)
    spent = np.zeros(runs)
    active = np.ones(runs, dtype=bool)
    members = np.full((runs, population), -1, dtype=np.int64)
    for k in range(population):  # the random initial population, one evaluation at a time
        child = start[:, k]
        ok = active & (spent + cost[child] <= limit)
        members[ok, k] = child[ok]
        evaluated[ok, k] = child[ok]
        spent[ok] += cost[child[ok]]
        active &= ok
    if budget is not None and not np.any(members[:, 0] >= 0):
        raise TfnasError(f"a time budget of {budget} s cannot pay for a single evaluation")
    filled = (members >= 0).sum(axis=1)
    for step in range(steps):
        if not np.any(active):
            break
        keys = rng.random((runs, population))
        keys[members < 0] = np.inf  # only filled slots can be sampled
        chosen = np.argsort(keys, axis=1)[:, :sample]
        candidates = np.take_along_axis(members, chosen, axis=1)
        scores = np.where(candidates >= 0, fitness[np.maximum(candidates, 0)], -np.inf)
        parent = candidates[np.arange(runs), np.argmax(scores, axis=1)]
        child = mutation.mutate(np.maximum(parent, 0), rng)
        ok = active & (spent + cost[child] <= limit)
        oldest = (step + filled) % population  # ring buffer: the oldest member leaves
        members[ok, oldest[ok]] = child[ok]
        evaluated[ok, population + step] = child[ok]
        spent[ok] += cost[child[ok]]
        active &= ok
    seen = np.where(evaluated >= 0, fitness[np.maximum(evaluated, 0)], -np.inf)
    picks = evaluated[np.arange(runs), np.argmax(seen, axis=1)]
    return SearchResult(picks=picks, samples=evaluated)
