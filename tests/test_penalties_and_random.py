"""Size penalties (SPEC 7) and random search over hand-made arrays."""

from __future__ import annotations

import numpy as np
import pytest

from tfnas_db.errors import TfnasError
from tfnas_db.search.penalties import PENALTIES, normalise, penalised
from tfnas_db.search.random_search import random_search

SIZES = np.linspace(0.0, 5.0, 501)


@pytest.mark.parametrize("name", ["gdf", "hsdf", "rdf"])
@pytest.mark.parametrize(("mu", "sigma"), [(0.2, 0.4), (0.5, 0.1), (0.0, 1.0)])
def test_weight_is_one_up_to_mu_then_non_increasing_to_zero(
    name: str, mu: float, sigma: float
) -> None:
    w = PENALTIES[name](SIZES, mu, sigma)
    assert PENALTIES[name](np.array([mu]), mu, sigma)[0] == pytest.approx(1.0)
    assert np.all(w[mu >= SIZES] == 1.0)
    assert np.all((w >= 0) & (w <= 1))
    assert np.all(np.diff(w) <= 1e-15)
    assert PENALTIES[name](np.array([mu + 50 * sigma]), mu, sigma)[0] < 1e-6


def test_closed_forms() -> None:
    mu, sigma = 0.2, 0.4
    s = np.array([0.6])  # z = 1
    assert PENALTIES["gdf"](s, mu, sigma)[0] == pytest.approx(np.exp(-0.5))
    assert PENALTIES["hsdf"](s, mu, sigma)[0] == pytest.approx(1 / np.cosh(np.pi / 2))
    assert PENALTIES["rdf"](s, mu, sigma)[0] == pytest.approx(2 * np.exp(-1.5))


@pytest.mark.parametrize("name", ["gdf", "hsdf", "rdf"])
def test_penalised_score_never_rewards_size(name: str) -> None:
    rng = np.random.default_rng(0)
    scores = rng.normal(-500, 100, size=200)  # negative raw scores, as naswot can be
    sizes = rng.uniform(0, 1.5, size=200)
    ranked = penalised(scores, sizes, name, 0.2, 0.4)
    norm = normalise(scores)
    assert np.all(ranked <= norm + 1e-12)
    # same score, larger size -> never a higher penalised score
    twin = penalised(np.array([1.0, 1.0, 0.0]), np.array([0.3, 0.9, 0.1]), name, 0.2, 0.4)
    assert twin[1] <= twin[0]


def test_bad_mu_sigma_and_unknown_penalty() -> None:
    with pytest.raises(TfnasError, match="--sigma"):
        penalised(np.ones(3), np.ones(3), "gdf", 0.2, 0.0)
    with pytest.raises(TfnasError, match="valid penalties"):
        penalised(np.ones(3), np.ones(3), "nope", 0.2, 0.4)


def test_random_search_with_n_equal_to_all_picks_the_best_score() -> None:
    scores = np.array([3.0, 9.0, 1.0, 7.0])
    sizes = np.array([0.1, 2.0, 0.1, 0.1])
    result = random_search(scores, sizes, n=4, runs=3, seed=0)
    assert result.picks.tolist() == [1, 1, 1]
    penal = random_search(scores, sizes, n=4, runs=3, seed=0, penalty="gdf", mu=0.2, sigma=0.4)
    assert penal.picks.tolist() == [3, 3, 3]  # the big best-scorer loses to the small runner-up


def test_random_search_samples_distinct_candidates_reproducibly() -> None:
    scores = np.arange(1000, dtype=float)
    a = random_search(scores, np.zeros(1000), n=50, runs=40, seed=3)
    b = random_search(scores, np.zeros(1000), n=50, runs=40, seed=3)
    assert np.array_equal(a.picks, b.picks)
    assert all(len(set(row)) == 50 for row in a.samples.tolist())
    assert np.array_equal(a.picks, a.samples.max(axis=1))  # score == row: best is the max
    big = random_search(scores, np.zeros(1000), n=900, runs=5, seed=3)
    assert all(len(set(row)) == 900 for row in big.samples.tolist())


def test_random_search_respects_the_eligible_mask_and_bounds() -> None:
    scores = np.arange(10, dtype=float)
    mask = np.arange(10) < 5
    result = random_search(scores, np.zeros(10), n=5, runs=4, seed=0, eligible=mask)
    assert set(result.picks.tolist()) == {4}
    with pytest.raises(TfnasError, match="--n 11"):
        random_search(scores, np.zeros(10), n=11, runs=1, seed=0)
    with pytest.raises(TfnasError, match="--n must be"):
        random_search(scores, np.zeros(10), n=0, runs=1, seed=0)
