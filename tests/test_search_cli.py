"""search strategies, --save/runs and reproduce through the CLI, on a small real store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import tfnas


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('search') / 's.db'}"
    assert tfnas("db", "upgrade", "--db", url).returncode == 0
    out = tfnas(
        "populate",
        "--db",
        url,
        "--limit",
        "32",
        "--batch-size",
        "16",
        "--quiet",
        "--scorers",
        "naswot,logsynflow,loss_slope,degree,params",
    )
    assert out.returncode == 0, out.stderr
    return url


def _search(url: str, *args: str) -> dict:  # type: ignore[type-arg]
    out = tfnas("search", "--db", url, "--format", "json", *args)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("strategy", "extra"),
    [("random", ["--n", "20"]), ("rea", ["--cycles", "30"]), ("etnas", []), ("pareto", [])],
)
def test_every_strategy_runs_and_gdf_picks_smaller(
    store: str, strategy: str, extra: list[str]
) -> None:
    scorer = [] if strategy == "etnas" else ["--scorer", "naswot"]
    base = ["--strategy", strategy, "--runs", "30", "--seed", "4", *scorer, *extra]
    plain = _search(store, *base)
    small = _search(store, *base, "--penalty", "gdf", "--mu", "0.1", "--sigma", "0.1")
    assert plain["strategy"] == strategy and len(plain["picks"]) == (
        1 if strategy == "pareto" else 30
    )
    assert small["params_mean"] < plain["params_mean"]
    assert 0 < plain["accuracy_mean"] < 100


def test_pareto_under_a_size_budget(store: str) -> None:
    data = _search(store, "--strategy", "pareto", "--scorer", "naswot", "--max-params", "0.4")
    assert data["top_picks"][0]["params_m"] <= 0.4
    sizes = [row["params_m"] for row in data["front"]]
    assert sizes == sorted(sizes)
    scores = [row["score"] for row in data["front"]]
    assert scores == sorted(scores)  # along the front, more params buy a higher score


def test_training_baselines(store: str) -> None:
    for strategy in ("train-random", "train-rea"):
        data = _search(store, "--strategy", strategy, "--runs", "20", "--budget-seconds", "3000")
        simulated_cost = data["search_seconds_mean"]
        assert data["scorers"] == [] and simulated_cost <= 3000


def test_save_and_list_runs(store: str) -> None:
    saved = _search(store, "--scorer", "naswot", "--n", "10", "--runs", "5", "--save")
    listed = json.loads(tfnas("runs", "--db", store, "--format", "json").stdout)
    mine = [r for r in listed if r["id"] == saved["saved_as"]]
    assert mine and mine[0]["picks"] == saved["picks"] and mine[0]["strategy"] == "random"
    scores = json.loads(tfnas("runs", "--db", store, "--scores", "--format", "json").stdout)
    assert {r["scorer"] for r in scores} >= {"naswot", "logsynflow", "params"}


def test_reproduce_marks_columns_and_missing_scores(store: str) -> None:
    out = tfnas("reproduce", "naswot-table1", "--db", store, "--runs", "50", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    status = {(c["dataset"], c["split"]): c["status"] for c in data["columns"]}
    assert status[("cifar10", "validation")] == "exact"
    assert status[("cifar10", "test")] == "not held"
    assert status[("cifar100", "test")] == "approx"
    rows = {r["method"]: r for r in data["rows"]}
    optimal = rows["Optimal (N=100)"]["cells"][0]
    assert optimal["paper"] == [91.05, 0.28] and abs(optimal["ours"][0] - 91.05) < 0.3
    assert rows["Ours (N=10)"]["cells"][0]["ours"] is not None
    assert rows["Ours (N=100)"]["cells"][0]["missing"]  # only 32 architectures scored
    assert any("--dataset cifar100" in m for m in data["missing"])
    table = tfnas("reproduce", "etnas-table5", "--db", store, "--runs", "3")
    assert table.returncode == 0, table.stderr
    bad = tfnas("reproduce", "nope", "--db", store)
    assert bad.returncode == 2 and "valid tables" in bad.stderr


def test_etnas_scores_loss_slope_only_where_its_fronts_need_it(tmp_path: Path) -> None:
    """ET-NAS computes LossSlope only on its Pareto fronts: on a store without it the
    search and the table name what is missing, and --score-missing scores exactly that."""
    url = f"sqlite:///{tmp_path / 'e.db'}"
    assert tfnas("db", "upgrade", "--db", url).returncode == 0
    scorers = "naswot,logsynflow,degree"
    populated = tfnas("populate", "--db", url, "--limit", "32", "--batch-size", "16",
                      "--quiet", "--scorers", scorers)  # fmt: skip
    assert populated.returncode == 0, populated.stderr
    search = ["search", "--db", url, "--strategy", "etnas", "--runs", "3", "--format", "json"]
    refused = tfnas(*search)
    assert refused.returncode == 2 and "rerun with --score-missing" in refused.stderr
    table = tfnas("reproduce", "etnas-table5", "--db", url, "--runs", "3", "--format", "json")
    assert table.returncode == 0, table.stderr
    cell = next(r for r in json.loads(table.stdout)["rows"] if r["kind"] == "etnas")["cells"][0]
    assert cell["ours"] is None and "--score-missing" in cell["missing"]
    fronts = cell["needed_archs"]
    assert 0 < len(fronts) < 32

    found = tfnas(*search, "--score-missing")
    assert found.returncode == 0, found.stderr
    result = json.loads(found.stdout)
    assert set(result["picks"]) <= set(fronts)
    by_naswot = _search(url, "--scorer", "naswot", "--n", "5", "--runs", "1")
    assert result["candidates"] == by_naswot["candidates"]  # loss_slope does not narrow it
    runs = json.loads(tfnas("runs", "--db", url, "--scores", "--format", "json").stdout)
    loss_slope = [r for r in runs if r["scorer"] == "loss_slope"]
    assert len(loss_slope) == 1 and loss_slope[0]["ok"] == len(fronts)  # those, no more
    again = tfnas("reproduce", "etnas-table5", "--db", url, "--runs", "3", "--format", "json")
    cell = next(r for r in json.loads(again.stdout)["rows"] if r["kind"] == "etnas")["cells"][0]
    assert cell["missing"] is None and 0 < cell["ours"][0] < 100


QUERY_COMMANDS = [
    ["search", "--scorer", "naswot", "--n", "10", "--runs", "5"],
    ["correlate"],
    ["export"],
    ["runs"],
    ["reproduce", "thesis-table7", "--runs", "2"],
]


@pytest.mark.parametrize("command", QUERY_COMMANDS, ids=lambda c: c[0])
def test_query_commands_never_import_torch(store: str, command: list[str]) -> None:
    code = (
        "import sys\nfrom tfnas_db.cli.app import main\n"
        f"try:\n    main({[*command, '--db', store]!r})\nexcept SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH', file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stderr.strip().endswith("NO-TORCH"), out.stderr


def test_penalty_on_a_training_baseline_is_an_error(store: str) -> None:
    out = tfnas("search", "--db", store, "--strategy", "train-rea", "--penalty", "gdf")
    assert out.returncode == 2
    assert "--penalty applies to strategies that rank by a score" in out.stderr
