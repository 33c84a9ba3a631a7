"""Search strategies as pure functions over small hand-made arrays (no database)."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from tfnas_db.errors import ScoresNeeded, TfnasError
from tfnas_db.scoring.spaces import CategoricalCodes
from tfnas_db.search.baselines import budgeted_random_search, training_cost
from tfnas_db.search.etnas import EtnasScores, etnas
from tfnas_db.search.evolution import regularized_evolution
from tfnas_db.search.mutation import MutationTable
from tfnas_db.search.pareto import best_under_budget, pareto_front, score_size_front
from tfnas_db.search.random_search import SearchResult
from tfnas_db.search.strategies import STRATEGIES, SearchInputs, SearchOptions

# a toy space: 3 positions x 4 options = 64 candidates, choice vector = base-4 digits
CHOICES = np.array(list(itertools.product(range(4), repeat=3)))[:, ::-1]
SIZE = CHOICES.sum(axis=1) / 9.0  # params grow with the digits: 0 .. 1 M
SCORE = CHOICES.sum(axis=1) + 0.01 * np.arange(64)  # bigger is better ... and bigger
TOY = CategoricalCodes(n_options=4, length=3, steps=(1, 2, 3), cyclic=True)
CODES = TOY.encode(CHOICES)


def _table(eligible: np.ndarray | None = None) -> MutationTable:
    return MutationTable.build(CODES, TOY.neighbours, eligible)


def test_mutation_changes_exactly_one_position_to_a_candidate() -> None:
    table = _table()
    rng = np.random.default_rng(0)
    rows = rng.integers(0, 64, size=500)
    children = table.mutate(rows, rng)
    diff = (CHOICES[children] != CHOICES[rows]).sum(axis=1)
    assert np.all(diff == 1)
    eligible = CHOICES[:, 0] != 3  # children must stay among eligible rows
    limited = _table(eligible)
    kids = limited.mutate(np.flatnonzero(eligible), rng)
    assert np.all(eligible[kids])
    lonely = _table(np.arange(64) == 5)
    assert lonely.mutate(np.array([5]), rng).tolist() == [5]  # no neighbour: itself


def test_rea_finds_the_best_candidate_and_is_seeded() -> None:
    table = _table()
    a = regularized_evolution(SCORE, table, runs=20, seed=1, population=8, sample=3, cycles=80)
    b = regularized_evolution(SCORE, table, runs=20, seed=1, population=8, sample=3, cycles=80)
    assert np.array_equal(a.picks, b.picks)
    assert np.mean(a.picks == 63) > 0.8  # the global optimum (all digits 3)
    assert np.all(a.evaluations == 8 + 80)
    assert np.all(SCORE[a.picks] == np.max(np.where(a.samples >= 0, SCORE[a.samples], -1), axis=1))


def test_budgeted_rea_and_random_stay_within_the_budget() -> None:
    table = _table()
    cost = 10.0 + CHOICES[:, 0]
    rea = regularized_evolution(
        SCORE, table, runs=30, seed=0, population=5, sample=2, cycles=None, cost=cost, budget=300.0
    )
    spent = rea.seconds_per_run(cost)
    assert np.all(spent <= 300.0) and np.all(spent > 300.0 - 14)
    rs = budgeted_random_search(SCORE, cost, budget=300.0, runs=30, seed=0)
    simulated_cost = rs.search_seconds
    assert np.all(simulated_cost <= 300.0)
    best_seen = np.max(np.where(rs.samples >= 0, SCORE[np.maximum(rs.samples, 0)], -1), axis=1)
    assert np.array_equal(SCORE[rs.picks], best_seen)
    with pytest.raises(TfnasError, match="cannot pay"):
        budgeted_random_search(SCORE, cost, budget=5.0, runs=2, seed=0)
    assert training_cost(np.array([2000.0]))[0] == pytest.approx(120.0)


def test_pareto_front_matches_brute_force() -> None:
    rng = np.random.default_rng(4)
    points = np.round(rng.normal(size=(300, 2)), 1)  # rounding creates ties and duplicates
    fast = pareto_front(points)
    brute = np.array(
        [not np.any(np.all(points >= p, axis=1) & np.any(points > p, axis=1)) for p in points]
    )
    assert np.array_equal(fast, brute)
    three = rng.normal(size=(100, 3))
    brute3 = np.array(
        [not np.any(np.all(three >= p, axis=1) & np.any(three > p, axis=1)) for p in three]
    )
    assert np.array_equal(pareto_front(three), brute3)


def test_score_size_front_and_budget_pick() -> None:
    score = np.array([1.0, 5.0, 3.0, 4.0, 2.0])
    size = np.array([0.1, 0.9, 0.2, 0.5, 0.1])
    assert score_size_front(score, size).tolist() == [4, 2, 3, 1]  # by size; row 0 dominated
    assert best_under_budget(score, size, 0.3) == 2
    assert best_under_budget(score, size, None) == 1
    assert best_under_budget(score, size, 0.05) is None


def _etnas_scores(noise: float = 0.0) -> EtnasScores:
    rng = np.random.default_rng(0)
    quality = CHOICES.sum(axis=1).astype(float)
    return EtnasScores(
        logsynflow=quality + 1 + noise * rng.random(64),
        naswot=quality + 1 + noise * rng.random(64),
        loss_slope=quality + 1,
        degree=(CHOICES > 0).sum(axis=1),
        seconds_logsynflow=np.full(64, 0.1),
        seconds_naswot=np.full(64, 1.0),
        seconds_loss_slope=np.full(64, 2.0),
    )


def test_etnas_follows_algorithm_1() -> None:
    table = _table()
    scores = _etnas_scores()
    result = etnas(scores, table, runs=10, seed=3, population=6, cycles=20, sample=3)
    again = etnas(scores, table, runs=10, seed=3, population=6, cycles=20, sample=3)
    assert np.array_equal(result.picks, again.picks)
    # with all three measures increasing together, the pick is the best child found
    assert np.mean(CHOICES[result.picks].sum(axis=1)) > np.mean(CHOICES.sum(axis=1)) + 2
    assert np.all(result.evaluations <= 20)
    history = result.samples[0][result.samples[0] >= 0]
    assert len(set(history.tolist())) == len(history)  # a child must be new to the history
    simulated_cost = result.search_seconds
    assert np.all(simulated_cost > 0)


def test_etnas_reads_loss_slope_only_on_its_fronts() -> None:
    """loss_slope NaN off the fronts changes nothing; NaN on a front names exactly those
    rows (every run finished), and filling them gives the fully scored search's picks."""
    table = _table()
    full = _etnas_scores(noise=0.5)

    def search(loss_slope: np.ndarray) -> SearchResult:
        scores = dataclasses.replace(full, loss_slope=loss_slope)
        return etnas(scores, table, runs=8, seed=1, population=6, cycles=20, sample=3)

    expected = search(full.loss_slope)
    sparse = np.full(64, np.nan)
    with pytest.raises(ScoresNeeded) as needed:
        search(sparse)
    rows = needed.value.rows
    assert needed.value.scorer == "loss_slope" and 0 < len(rows) < 64
    assert set(expected.picks.tolist()) <= set(rows)  # every pick is on some run's front
    sparse[rows] = full.loss_slope[rows]
    filled = search(sparse)
    assert np.array_equal(filled.picks, expected.picks)
    # simulated cost summed from the fixture's stored seconds (no clock is read)
    assert np.allclose(filled.search_seconds, expected.search_seconds)


def _inputs(eligible: np.ndarray | None = None) -> SearchInputs:
    scores = _etnas_scores(noise=0.5)
    named = {
        "naswot": scores.naswot,
        "logsynflow": scores.logsynflow,
        "loss_slope": scores.loss_slope,
        "degree": scores.degree.astype(float),
    }
    return SearchInputs(
        scores=named,
        seconds={k: np.full(64, 0.5) for k in named},
        params_m=SIZE,
        val_acc_12ep=SCORE,
        train_seconds_full=np.full(64, 1000.0),
        codes=CODES,
        neighbour_codes=TOY.neighbours,
        eligible=np.ones(64, dtype=bool) if eligible is None else eligible,
    )


@pytest.mark.parametrize("name", ["random", "rea", "etnas", "pareto"])
def test_gdf_penalty_picks_smaller_architectures_on_the_same_seed(name: str) -> None:
    inputs = _inputs()
    if name != "etnas":
        inputs = SearchInputs(**{**inputs.__dict__, "scores": {"naswot": inputs.scores["naswot"]}})
    plain = STRATEGIES[name].run(inputs, SearchOptions(n=20, runs=40, seed=2))
    small = STRATEGIES[name].run(
        inputs, SearchOptions(n=20, runs=40, seed=2, penalty="gdf", mu=0.2, sigma=0.2)
    )
    assert SIZE[small.picks].mean() < SIZE[plain.picks].mean()


def test_training_baselines_use_12_epoch_accuracy_and_the_budget() -> None:
    inputs = _inputs()
    for name in ("train-random", "train-rea"):
        result = STRATEGIES[name].run(inputs, SearchOptions(runs=10, budget_seconds=1200.0))
        simulated_cost = result.search_seconds
        assert np.all(simulated_cost <= 1200.0)
        assert np.all(result.evaluations == 20)  # 1000 s x 12/200 = 60 s per training


def test_hard_limits_restrict_every_strategy() -> None:
    eligible = SIZE <= 0.5
    inputs = _inputs(eligible)
    for name in ("random", "rea", "etnas", "pareto", "train-random", "train-rea"):
        result = STRATEGIES[name].run(inputs, SearchOptions(n=10, runs=5, seed=0))
        assert np.all(eligible[result.picks]), name
