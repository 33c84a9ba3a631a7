"""Variance across seeds: statistics checked by hand, and the command on a fresh store."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from helpers import tfnas
from sqlalchemy import text

from tfnas_db.db.seeds import seed_values
from tfnas_db.db.store import open_store
from tfnas_db.search.seed_variance import seed_variance, top_k_indices


def test_identical_seeds_have_no_spread() -> None:
    stats = seed_variance(np.array([[1.0, 1.0, 1.0], [2.0, 2.0, 2.0], [3.0, 3.0, 3.0]]), 2)
    assert stats.mean_std == 0 and stats.tau_mean == 1 and stats.tau_min == 1
    assert stats.top_k_overlap == 1 and stats.noise_ratio == 0


def test_equal_seeds_of_any_value_have_exactly_no_spread() -> None:
    # numpy's std of five copies of 485.83535883178905 is 6.4e-14, not 0: a score that
    # reads no data (params) must still report 0 (and a noise ratio of 0)
    scores = np.array([[485.83535883178905] * 5, [0.30000000000000004] * 5, [7.0] * 5])
    stats = seed_variance(scores, 1)
    assert stats.mean_std == 0 and stats.noise_ratio == 0


def test_statistics_by_hand() -> None:
    scores = np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 3.0], [4.0, 4.0], [np.nan, 9.0]])
    stats = seed_variance(scores, top_k=3)
    assert (stats.n_archs, stats.n_seeds, stats.top_k) == (4, 2, 3)  # the NaN row is dropped
    # rows' std (ddof 1): sqrt(0.5) twice, 0 twice
    assert math.isclose(stats.mean_std, math.sqrt(0.5) / 2)
    # seed-means 1.5, 1.5, 3, 4: deviations -1, -1, .5, 1.5 -> var 4.5 / 3
    assert math.isclose(stats.between_std, math.sqrt(1.5))
    # 5 concordant pairs, 1 discordant, no ties: tau = 4 / 6
    assert math.isclose(stats.tau_mean, 4 / 6)
    # top-3 rows: {3, 2, 1} under seed 0, {3, 2, 0} under seed 1
    assert math.isclose(stats.top_k_overlap, 2 / 3)


def test_top_k_breaks_ties_by_row() -> None:
    assert top_k_indices(np.array([5.0, 7.0, 7.0, 1.0]), 2) == {1, 2}
    assert top_k_indices(np.array([5.0, 5.0, 5.0]), 1) == {0}


def test_one_seed_is_an_error() -> None:
    with pytest.raises(ValueError, match="seeds >= 2"):
        seed_variance(np.ones((3, 1)))


def test_variance_command_on_a_fresh_store(sqlite_store_url: str) -> None:
    args = ["--scorer", "params,naswot", "--seeds", "3", "--limit", "6", "--batch-size", "8"]
    args += ["--threads", "1"]  # the option populate has: one torch thread per process
    out = tfnas("variance", "--db", sqlite_store_url, *args, "--quiet", "--format", "json")
    assert out.returncode == 0, out.stderr
    by_scorer = {row["scorer"]: row for row in json.loads(out.stdout)}
    params, naswot = by_scorer["params"], by_scorer["naswot"]
    # params reads no data: every seed gives the same value
    assert params["n_archs"] == 6 and params["n_seeds"] == 3
    assert params["mean_std"] == 0 and params["tau_mean"] == 1 and params["top_k_overlap"] == 1
    # naswot changes with the minibatch and the initialisation, but not beyond recognition
    assert naswot["n_archs"] == 6 and naswot["mean_std"] > 0
    assert -1 <= naswot["tau_min"] <= naswot["tau_mean"] <= 1
    assert len(set(naswot["run_ids"])) == 3
    # the seeds are stored: the dashboard reads every stored value of an architecture
    store = open_store(sqlite_store_url)
    with store.session() as session:
        index = int(
            session.execute(
                text(
                    "select a.arch_index from score s join architecture a "
                    "on a.id = s.architecture_id where s.run_id = :r limit 1"
                ),
                {"r": naswot["run_ids"][0]},
            ).scalar_one()
        )
        values = seed_values(session, "nats-tss", "cifar10", "naswot", index)
    assert sorted(v.seed for v in values) == [0, 1, 2]
    assert len({v.value for v in values}) == 3
    # a second call resumes: nothing is scored again, the figures are the same
    again = tfnas("variance", "--db", sqlite_store_url, *args, "--quiet", "--format", "json")
    assert json.loads(again.stdout) == json.loads(out.stdout)


def test_variance_needs_two_seeds(sqlite_store_url: str) -> None:
    out = tfnas("variance", "--db", sqlite_store_url, "--seeds", "1")
    assert out.returncode == 2 and "--seeds must be at least 2" in out.stderr
