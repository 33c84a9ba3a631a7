"""``tfnas-db reproduce``: a paper's protocol run over the store, beside the paper's numbers.

The paper figures are bundled (``tfnas_db/data/papers.json``, with their source). Each
column says whether the bundled accuracies can reproduce it: ``exact`` (the same split and
schedule), ``approx`` (CIFAR-100 / ImageNet16-120 validation or test: the table holds the
two sets together, NATS-Bench ``ori-test``) or ``not held`` (200-epoch CIFAR-10 test: ours
then shows the validation column instead). Cells whose scores are not stored say which
``populate`` to run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

from tfnas_db.errors import ScoresNeeded, TfnasError
from tfnas_db.search.random_search import SearchResult, random_search
from tfnas_db.search.strategies import SearchInputs, SearchOptions, get_strategy

TABLES = ("naswot-table1", "epe-nas-table1", "thesis-table7", "etnas-table5")


@lru_cache(maxsize=1)
def paper_tables() -> dict[str, Any]:
    text = resources.files("tfnas_db.data").joinpath("papers.json").read_text()
    return json.loads(text)  # type: ignore[no-any-return]


def get_table(name: str) -> dict[str, Any]:
    tables = paper_tables()
    if name not in tables:
        raise TfnasError(f"unknown table {name!r}; valid tables: {', '.join(tables)}")
    return tables[name]  # type: ignore[no-any-return]


@dataclass(frozen=True)
class ColumnPlan:
    dataset: str
    split: str  # the paper's: validation / test
    metric: str  # the store's column used
    epochs: int
    status: str  # exact / approx / not held
    detail: str

    @property
    def label(self) -> str:
        return f"{self.dataset} {self.split}"


def plan_column(dataset: str, split: str, held: list[tuple[str, int]]) -> ColumnPlan:
    """Which stored 200-epoch column stands for the paper's (dataset, split)."""
    wanted = "val" if split == "validation" else "test"
    if (wanted, 200) in held:
        return ColumnPlan(dataset, split, wanted, 200, "exact", f"{wanted}_acc_200ep")
    if ("valtest", 200) in held:
        return ColumnPlan(
            dataset,
            split,
            "valtest",
            200,
            "approx",
            "the table holds validation+test together (NATS-Bench ori-test): valtest_acc_200ep",
        )
    if ("val", 200) in held:
        return ColumnPlan(
            dataset,
            split,
            "val",
            200,
            "not held",
            f"no 200-epoch {dataset} {split} accuracy in the bundled table; ours shows "
            "val_acc_200ep",
        )
    raise TfnasError(f"the store holds no 200-epoch accuracy for {dataset}")


@dataclass
class Cell:
    paper: list[float] | None
    ours: list[float] | None = None  # mean, std over runs
    seconds: float | None = None  # mean simulated search seconds per run
    params_m: float | None = None
    missing: str | None = None  # the populate command that would fill it
    needed: ScoresNeeded | None = None  # scores the search visited and the store lacks


@dataclass
class Row:
    method: str
    kind: str
    cells: list[Cell] = field(default_factory=list)
    paper_seconds: float | None = None


@dataclass(frozen=True)
class Candidates:
    """What a row needs from the store for one column (see ScoreTable)."""

    accuracy: np.ndarray
    params_m: np.ndarray
    inputs: SearchInputs
    arch_index: np.ndarray


# (dataset, scorers, metric, epochs, on-demand scorers) -> candidates
Loader = Callable[[str, list[str], str, int, tuple[str, ...]], Candidates]


def _stats(values: np.ndarray) -> list[float]:
    return [float(np.nanmean(values)), float(np.nanstd(values))]


def _row_budget(spec: dict[str, Any], column_index: int) -> float:
    budget = spec.get("budget", 12000)
    return float(budget[column_index] if isinstance(budget, list) else budget)


def compute_cell(
    spec: dict[str, Any],
    plan: ColumnPlan,
    column_index: int,
    load: Loader,
    *,
    scorer: str,
    runs: int,
    seed: int,
    mu: float,
    sigma: float,
) -> Cell:
    kind = spec["kind"]
    paper = spec.get("paper")
    cell = Cell(paper=paper[column_index] if paper else None)
    if kind == "paper-only":
        return cell
    needs = {
        "search": [spec.get("scorer", scorer)],
        "etnas": ["logsynflow", "naswot", "loss_slope", "degree"],
    }.get(kind, [])
    on_demand = get_strategy("etnas").on_demand if kind == "etnas" else ()
    try:
        data = load(plan.dataset, needs, plan.metric, plan.epochs, on_demand)
    except TfnasError:
        cell.missing = (
            f"run: tfnas-db populate --scorers {','.join(needs)} --dataset {plan.dataset}"
        )
        return cell
    rng_runs = runs
    result: SearchResult
    if kind == "random":
        rows = np.random.default_rng(seed).integers(0, len(data.accuracy), size=rng_runs)
        cell.ours = _stats(data.accuracy[rows])
        return cell
    if kind == "optimal":
        result = random_search(
            np.nan_to_num(data.accuracy, nan=-np.inf),
            data.params_m,
            n=spec["n"],
            runs=rng_runs,
            seed=seed,
        )
    else:
        strategy = {
            "search": "random",
            "etnas": "etnas",
            "train-rea": "train-rea",
            "train-random": "train-random",
        }[kind]
        options = SearchOptions(
            n=spec.get("n", 100),
            runs=rng_runs,
            seed=seed,
            penalty=spec.get("penalty", "none"),
            mu=mu,
            sigma=sigma,
            budget_seconds=_row_budget(spec, column_index),
        )
        if strategy == "random" and options.n > len(data.accuracy):
            cell.missing = (
                f"run: tfnas-db populate --scorers {','.join(needs)} --dataset {plan.dataset} "
                f"(N={options.n} needs at least {options.n} scored architectures)"
            )
            return cell
        try:
            result = get_strategy(strategy).run(data.inputs, options)
        except ScoresNeeded as needed:
            cell.needed = needed.located(data.arch_index)
            cell.missing = (
                f"{needed.scorer} for the {len(needed.rows)} architectures on the ET-NAS "
                f"fronts on {plan.dataset}: rerun with --score-missing"
            )
            return cell
        primary = needs[0] if needs else None
        seconds = data.inputs.seconds[primary] if primary else np.zeros(len(data.accuracy))
        cell.seconds = float(np.mean(result.seconds_per_run(seconds)))
    cell.ours = _stats(data.accuracy[result.picks])
    cell.params_m = float(np.mean(data.params_m[result.picks]))
    return cell


def reproduce(
    name: str,
    load: Loader,
    held: Callable[[str], list[tuple[str, int]]],
    *,
    scorer: str | None = None,
    runs: int | None = None,
    seed: int = 0,
    mu: float = 0.2,
    sigma: float = 0.4,
) -> tuple[dict[str, Any], list[ColumnPlan], list[Row]]:
    table = get_table(name)
    plans = [plan_column(d, split, held(d)) for d, split in table["columns"]]
    n_runs = runs or int(table["runs"])
    chosen = scorer or table.get("scorer", "naswot")
    rows = []
    for spec in table["rows"]:
        row = Row(spec["method"], spec["kind"], paper_seconds=spec.get("paper_seconds"))
        for i, plan in enumerate(plans):
            row.cells.append(
                compute_cell(
                    spec, plan, i, load, scorer=chosen, runs=n_runs, seed=seed, mu=mu, sigma=sigma
                )
            )
        rows.append(row)
    meta = {k: v for k, v in table.items() if k != "rows"}
    meta["runs"] = n_runs
    meta["scorer"] = chosen
    return meta, plans, rows
