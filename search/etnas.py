"""ET-NAS (Mereu et al. 2023, Algorithm 1) over stored scores.

Evolution by logsynflow with the Degree filter, then Pareto fronts on (naswot,
logsynflow) among the children, then the candidate closest to the utopian point (1, 1, 1)
of max-normalised naswot, logsynflow and loss_slope. Choices the paper leaves open:
the degree filter keeps a child whose Degree is >= its parent's (the paper's text; its
pseudo-code says >); the tournament samples S = 5 members (not stated); a child must be
new to the history; "Pareto fronts" is the first non-dominated front; measures are
divided by their maximum over the front (a non-positive maximum leaves a measure as is);
if no child was accepted the final population stands in for the children.

loss_slope is read only for the architectures on a run's front (ET-NAS computes it for
those alone); where it is NaN there, every run still finishes and :class:`ScoresNeeded`
then names all such rows at once, so a caller can score them and search again: the
evolution and the fronts depend on logsynflow, degree and naswot only, so the second
search visits the same fronts.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from tfnas_db.errors import ScoresNeeded
from tfnas_db.search.mutation import MutationTable
from tfnas_db.search.pareto import pareto_front
from tfnas_db.search.random_search import SearchResult


@dataclass(frozen=True)
class EtnasScores:
    logsynflow: np.ndarray
    naswot: np.ndarray
    loss_slope: np.ndarray
    degree: np.ndarray
    seconds_logsynflow: np.ndarray
    seconds_naswot: np.ndarray
    seconds_loss_slope: np.ndarray


def _max_normalised(values: np.ndarray) -> np.ndarray:
    top = np.max(values)
    return values / top if top > 0 else values


def utopian_distance(
    naswot: np.ndarray,
    logsynflow: np.ndarray,
    loss_slope: np.ndarray,
    weight: np.ndarray | None = None,
) -> np.ndarray:
    """Euclidean distance of (naswot, logsynflow, loss_slope), each divided by its maximum
    over the given architectures (times ``weight``, a size penalty), to the utopian point
    (1, 1, 1): ET-NAS's final pick and its "Utopian" measure (smaller is better)."""
    measures = np.column_stack(
        [_max_normalised(naswot), _max_normalised(logsynflow), _max_normalised(loss_slope)]
    )
    if weight is not None:
        measures = measures * np.asarray(weight, dtype=np.float64)[:, None]
    return np.linalg.norm(measures - 1.0, axis=1)


def etnas(
    scores: EtnasScores,
    mutation: MutationTable,
    *,
    runs: int,
    seed: int,
    population: int = 20,
    cycles: int = 60,
    sample: int = 5,
    weight: np.ndarray | None = None,
    eligible: np.ndarray | None = None,
) -> SearchResult:
    """``weight`` (a size penalty w(size), 1 = none) multiplies the max-normalised
    logsynflow used to pick parents and the three measures at the utopian step."""
    rng = np.random.default_rng(seed)
    rows = np.arange(len(scores.naswot)) if eligible is None else np.flatnonzero(eligible)
    w = np.ones(len(scores.naswot)) if weight is None else np.asarray(weight, dtype=np.float64)
    fitness = _max_normalised(scores.logsynflow) * w
    picks = np.empty(runs, dtype=np.int64)
    evaluated = np.full((runs, cycles), -1, dtype=np.int64)
    seconds = np.zeros(runs)
    needed: set[int] = set()
    for run in range(runs):
        start = rng.choice(rows, size=min(population, len(rows)), replace=False)
        members = deque(int(r) for r in start)
        history = list(members)
        seen = set(history)
        children: list[int] = []
        attempts = 0
        while len(history) < cycles and attempts < 10 * cycles:
            attempts += 1
            tournament = rng.choice(len(members), size=min(sample, len(members)), replace=False)
            parent = max((members[i] for i in tournament), key=lambda r: fitness[r])
            child = int(mutation.mutate(np.array([parent]), rng)[0])
            if scores.degree[child] >= scores.degree[parent] and child not in seen:
                members.popleft()
                members.append(child)
                children.append(child)
                history.append(child)
                seen.add(child)
        pool = np.array(children or list(members), dtype=np.int64)
        front = pool[pareto_front(np.column_stack([scores.naswot[pool], scores.logsynflow[pool]]))]
        lacking = front[np.isnan(scores.loss_slope[front])]
        if len(lacking):
            needed.update(int(r) for r in lacking)
            continue
        distance = utopian_distance(
            scores.naswot[front], scores.logsynflow[front], scores.loss_slope[front], w[front]
        )
        picks[run] = front[int(np.argmin(distance))]
        evaluated[run, : len(history)] = history[:cycles]
        seconds[run] = (
            scores.seconds_logsynflow[history].sum()
            + scores.seconds_naswot[pool].sum()
            + scores.seconds_loss_slope[front].sum()
        )
    if needed:
        raise ScoresNeeded("loss_slope", sorted(needed))
    return SearchResult(picks=picks, samples=evaluated, search_seconds=seconds)
