"""Non-dominated sets: score vs size (the ``pareto`` strategy) and ET-NAS's fronts."""

from __future__ import annotations

import numpy as np


def pareto_front(objectives: np.ndarray) -> np.ndarray:
    """Mask of the rows no other row dominates; every column is maximised.

    A row is dominated if another is >= on every column and > on at least one.
    O(M^2 / chunk) memory-light pairwise check, fine for the few thousand candidates of
    a front query; two columns use an O(M log M) sweep.
    """
    points = np.asarray(objectives, dtype=np.float64)
    m = len(points)
    if m == 0:
        return np.zeros(0, dtype=bool)
    if points.shape[1] == 2:
        # by first column descending, ties by second descending: a row is on the front iff
        # its second value beats every row before it (or equals the row that set the best)
        order = np.lexsort((-points[:, 1], -points[:, 0]))
        keep = np.zeros(m, dtype=bool)
        best_first, best_second = np.inf, -np.inf
        for row in order:
            first, second = points[row]
            if second > best_second or (second == best_second and first == best_first):
                keep[row] = True
                best_first, best_second = first, second
        return keep
    keep = np.ones(m, dtype=bool)
    for i in range(m):
        ge = np.all(points >= points[i], axis=1)
        gt = np.any(points > points[i], axis=1)
        if np.any(ge & gt):
            keep[i] = False
    return keep


def score_size_front(score: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Rows on the front of (higher score, smaller size), ordered by size."""
    mask = pareto_front(np.column_stack([score, -np.asarray(size, dtype=np.float64)]))
    rows = np.flatnonzero(mask)
    return rows[np.argsort(size[rows], kind="stable")]


def best_under_budget(score: np.ndarray, size: np.ndarray, budget: float | None) -> int | None:
    """The best-scoring row whose size is within the budget (None if none is)."""
    allowed = np.flatnonzero(np.ones(len(score), dtype=bool) if budget is None else size <= budget)
    if len(allowed) == 0:
        return None
    return int(allowed[np.argmax(score[allowed])])
