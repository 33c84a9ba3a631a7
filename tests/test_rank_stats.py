"""The numpy Kendall tau-b and Spearman rho equal scipy's, ties and all."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import kendalltau, spearmanr

from tfnas_db.search.rank_stats import average_ranks, count_inversions, kendall_tau_b, spearman_rho


def test_inversions_by_hand() -> None:
    assert count_inversions(np.array([0, 1, 2, 3])) == 0
    assert count_inversions(np.array([3, 2, 1, 0])) == 6
    assert count_inversions(np.array([1, 0, 1, 0, 2])) == 3  # positions (0,1), (0,3), (2,3)
    assert count_inversions(np.array([2, 2, 0])) == 2  # ties are not inversions
    assert list(average_ranks(np.array([10.0, 20.0, 10.0, 5.0]))) == [2.5, 4.0, 2.5, 1.0]


@pytest.mark.parametrize(("n", "levels"), [(2, 3), (5, 2), (17, 4), (200, 1000), (3001, 6)])
def test_matches_scipy_with_and_without_ties(n: int, levels: int) -> None:
    rng = np.random.default_rng(n)
    for _ in range(5):
        x = rng.integers(0, levels, n).astype(float)
        y = x * rng.uniform(-1, 1) + rng.integers(0, levels, n)
        expected_tau = kendalltau(x, y).statistic
        expected_rho = spearmanr(x, y).statistic
        if np.isnan(expected_tau):
            assert np.isnan(kendall_tau_b(x, y))
        else:
            assert kendall_tau_b(x, y) == pytest.approx(expected_tau, abs=1e-12)
            assert spearman_rho(x, y) == pytest.approx(expected_rho, abs=1e-12)


def test_constant_or_tiny_inputs_are_nan() -> None:
    assert np.isnan(kendall_tau_b(np.ones(5), np.arange(5.0)))
    assert np.isnan(spearman_rho(np.arange(5.0), np.ones(5)))
    assert np.isnan(kendall_tau_b(np.array([1.0]), np.array([2.0])))
