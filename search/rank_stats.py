"""Kendall tau-b and Spearman rho in numpy, so the query commands need not import scipy.

``scipy.stats`` takes about a second to import, longer than the whole correlate query on
a full store. Both statistics follow scipy's definitions (tau-b with tie corrections,
Spearman on average ranks) and the tests check them against scipy on tied and untied data.
Kendall's tau uses Knight's O(n log n) method: sort by (x, y), then count inversions of y
with a bottom-up merge sort done one level at a time in numpy.
"""

from __future__ import annotations

import numpy as np


def dense_ranks(values: np.ndarray) -> np.ndarray:
    """0-based ranks where equal values share a rank."""
    return np.unique(values, return_inverse=True)[1].reshape(-1)


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, ties given the mean of the ranks they span (scipy's rankdata)."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    return (ends - (counts - 1) / 2.0)[inverse.reshape(-1)]


def count_inversions(y: np.ndarray) -> int:
    """Pairs i < j with y[i] > y[j] (strictly), for integer ranks 0 <= y < len(y)."""
    n = len(y)
    y = np.asarray(y, dtype=np.int64)
    position = np.arange(n)
    total = 0
    width = 1
    while width < n:
        pair = position // (2 * width)
        in_left = (position // width) % 2 == 0
        keys = pair * n + y  # y is sorted within each block of ``width``
        left_keys = keys[in_left]  # globally sorted: pairs ascend, blocks are sorted
        right_pair = pair[~in_left]
        left_end = np.searchsorted(left_keys, right_pair * n + n, side="left")
        not_greater = np.searchsorted(left_keys, keys[~in_left], side="right")
        total += int((left_end - not_greater).sum())
        y = np.sort(keys) % n  # merge: every block of 2 * width is now sorted
        width *= 2
    return total


def _tied_pairs(values: np.ndarray) -> int:
    counts = np.unique(values, return_counts=True)[1].astype(np.int64)
    return int((counts * (counts - 1) // 2).sum())


def kendall_tau_b(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall's tau-b; NaN when either side is constant or fewer than two points."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    n = len(x)
    if n < 2:
        return float("nan")
    rx, ry = dense_ranks(x), dense_ranks(y)
    order = np.lexsort((ry, rx))
    swaps = count_inversions(ry[order])
    pairs = n * (n - 1) // 2
    x_ties = _tied_pairs(rx)
    y_ties = _tied_pairs(ry)
    both_ties = _tied_pairs(rx * n + ry)
    denominator = float(pairs - x_ties) * float(pairs - y_ties)
    if denominator <= 0:
        return float("nan")
    concordant_minus_discordant = pairs - x_ties - y_ties + both_ties - 2 * swaps
    return float(concordant_minus_discordant / np.sqrt(denominator))


def spearman_rho(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rho: Pearson correlation of the average ranks."""
    if len(x) < 2:
        return float("nan")
    rx = average_ranks(np.asarray(x, dtype=np.float64))
    ry = average_ranks(np.asarray(y, dtype=np.float64))
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denominator = np.sqrt((rx * rx).sum() * (ry * ry).sum())
    if denominator == 0:
        return float("nan")
    return float((rx * ry).sum() / denominator)
