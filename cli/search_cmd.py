"""``tfnas-db search``: run a search strategy as a query over stored scores."""

from __future__ import annotations

import time
from typing import Annotated, Any

import numpy as np
import typer

from tfnas_db.cli.output import (
    DatasetOption,
    DbOption,
    FormatOption,
    OutputFormat,
    SpaceOption,
    clean_floats,
    console,
    open_cli_store,
    print_csv,
    print_json,
    print_table,
)
from tfnas_db.cli.score_missing import score_needed
from tfnas_db.db.queries import ScoreTable, missing_accuracy_note
from tfnas_db.errors import ScoresNeeded
from tfnas_db.scoring.datasets import get_dataset
from tfnas_db.scoring.spaces import DEFAULT_SPACE
from tfnas_db.search.penalties import DEFAULT_MU, DEFAULT_SIGMA
from tfnas_db.search.random_search import SearchResult
from tfnas_db.search.runner import search_scorers, stored_search
from tfnas_db.search.strategies import STRATEGIES, SearchOptions
from tfnas_db.search.summary import SearchSummary

PENALTY_HELP = (
    "Size penalty: none, gdf, hsdf or rdf. The score is min-max normalised over the "
    "candidates (random: each run's N; other strategies: all), then multiplied by "
    "w(params in M): w=1 up to --mu, then gdf exp(-z^2/2), hsdf sech(pi z/2), rdf the "
    "Rayleigh density with its mode moved to --mu, z=(size-mu)/sigma; all scaled so w(mu)=1 "
    "(the thesis' printed densities are not)."
)
STRATEGY_HELP = "; ".join(f"{s.name}: {s.summary}" for s in STRATEGIES.values())


def search_command(
    scorer: Annotated[
        str | None, typer.Option(help="Scorer whose stored scores rank candidates.")
    ] = None,
    dataset: DatasetOption = "cifar10",
    space: SpaceOption = DEFAULT_SPACE,
    strategy: Annotated[str, typer.Option(help=STRATEGY_HELP)] = "random",
    n: Annotated[int, typer.Option("--n", help="random: architectures sampled per run.")] = 100,
    runs: Annotated[int, typer.Option(help="Independent runs (R).")] = 500,
    seed: Annotated[int, typer.Option(help="Seed of the search.")] = 0,
    penalty: Annotated[str, typer.Option(help=PENALTY_HELP)] = "none",
    mu: Annotated[
        float, typer.Option(help="Penalty: size (M params) up to which w=1.")
    ] = DEFAULT_MU,
    sigma: Annotated[
        float, typer.Option(help="Penalty: width of the decay (M params).")
    ] = DEFAULT_SIGMA,
    population: Annotated[int, typer.Option(help="rea/etnas: population size P.")] = 20,
    sample: Annotated[int, typer.Option(help="rea/etnas: tournament sample size S.")] = 5,
    cycles: Annotated[
        int | None, typer.Option(help="rea: children per run (100); etnas: history length C (60).")
    ] = None,
    budget_seconds: Annotated[
        float, typer.Option(help="train-*: simulated training seconds per run.")
    ] = 12000.0,
    metric: Annotated[
        str | None,
        typer.Option(
            help="Accuracy split reported: val, test or valtest (default: the "
            "dataset's 200-epoch column; none stored: score-only results)."
        ),
    ] = None,
    epochs: Annotated[
        int | None, typer.Option(help="Training epochs of that accuracy: 200 or 12.")
    ] = None,
    max_params: Annotated[
        float | None, typer.Option(help="Hard limit on params (M); pareto: the size budget.")
    ] = None,
    max_flops: Annotated[float | None, typer.Option(help="Hard limit on FLOPs (M).")] = None,
    run_id: Annotated[
        int | None, typer.Option(help="Score run to read (default: the fullest).")
    ] = None,
    save: Annotated[
        bool, typer.Option("--save", help="Store this search (tfnas-db runs).")
    ] = False,
    score_missing: Annotated[
        bool,
        typer.Option(
            "--score-missing",
            help="etnas: score loss_slope for the Pareto-front architectures that lack it "
            "(ET-NAS computes it only there), then search again.",
        ),
    ] = False,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Search by stored scores: accuracy of the picks (mean +- std), regret, search time."""
    started = time.perf_counter()
    options = SearchOptions(
        n=n,
        runs=runs,
        seed=seed,
        penalty=penalty,
        mu=mu,
        sigma=sigma,
        population=population,
        sample=sample,
        cycles=cycles,
        budget_seconds=budget_seconds,
        max_params=max_params,
    )
    scorers = search_scorers(strategy, scorer, space, options)
    data = get_dataset(dataset)
    store = open_cli_store(db)
    while True:
        try:
            with store.session() as session:
                found = stored_search(
                    session,
                    space=space,
                    dataset=data.name,
                    strategy=strategy,
                    scorers=scorers,
                    options=options,
                    metric=metric,
                    epochs=epochs,
                    run_id=run_id,
                    max_flops=max_flops,
                )
            break
        except ScoresNeeded as needed:
            if not score_missing:
                raise
            archs = needed.arch_index or []
            quiet = fmt != OutputFormat.table
            score_needed(store, space, data.name, needed.scorer, archs, quiet=quiet)
            score_missing = False  # the same search visits the same fronts: once is enough
    outcome, table, column, best = found.outcome, found.table, found.column, found.best
    result, summary, score = outcome.result, outcome.summary, outcome.score
    finished = time.perf_counter()
    header: dict[str, Any] = {
        "strategy": strategy,
        "scorers": scorers,
        "space": space,
        "dataset": data.name,
        "penalty": penalty,
        "mu": mu if penalty != "none" else None,
        "sigma": sigma if penalty != "none" else None,
        "options": {k: v for k, v in options.__dict__.items()},
        "accuracy_column": column.key if column else None,
        "accuracy_meaning": column.label if column else None,
        "accuracy_note": None if column else missing_accuracy_note(space, data.name),
        "score_runs": {name: run.id for name, run in table.runs.items()},
        "candidates": len(table),
        "candidates_with_accuracy": outcome.with_accuracy,
        "candidates_note": outcome.note,
        "query_seconds": round(finished - started, 4),
        "search_seconds": round(found.search_seconds, 4),
    }
    picks = table.arch_index[result.picks].tolist()
    if save:
        from tfnas_db.db.searches import save_search

        with store.session() as session:
            header["saved_as"] = save_search(session, header, summary.as_dict(), picks)
    if fmt == OutputFormat.json:
        payload = {**header, **summary.as_dict(), "picks": picks}
        if result.front is not None:
            payload["front"] = _front_rows(table, result, score)
        print_json(clean_floats(payload))
        return
    if fmt == OutputFormat.csv:
        seconds_per_run = result.seconds_per_run(outcome.seconds)
        print_csv(
            [
                "run",
                "arch_index",
                "arch_str",
                "score",
                "params_m",
                column.key if column else "accuracy",
                "search_seconds",
            ],
            [
                [
                    r,
                    int(table.arch_index[row]),
                    table.arch_str[row],
                    score[row],
                    table.params_m[row],
                    table.accuracy[row],
                    float(seconds_per_run[r]),
                ]
                for r, row in enumerate(result.picks)
            ],
        )
        return
    _print_summary(header, summary, table, result, score, best)


def _front_rows(table: ScoreTable, result: SearchResult, score: np.ndarray) -> list[dict[str, Any]]:
    assert result.front is not None
    return [
        {
            "arch_index": int(table.arch_index[r]),
            "arch_str": str(table.arch_str[r]),
            "score": float(score[r]),
            "params_m": float(table.params_m[r]),
            "accuracy": float(table.accuracy[r]),
        }
        for r in result.front
    ]


def _print_summary(
    header: dict[str, Any],
    summary: SearchSummary,
    table: ScoreTable,
    result: SearchResult,
    score: np.ndarray,
    best: float,
) -> None:
    by = ",".join(header["scorers"]) or "12-epoch validation accuracy"
    pen = (
        f", penalty {header['penalty']} (mu={header['mu']}, sigma={header['sigma']})"
        if header["penalty"] != "none"
        else ""
    )
    console.print(
        f"[bold]{header['strategy']} search by {by}[/bold] on {header['space']}/"
        f"{header['dataset']}: {summary.runs} runs, up to {summary.n} evaluations each, seed "
        f"{header['options']['seed']}{pen}; {header['candidates']} candidates"
    )
    if header["candidates_note"]:
        console.print(f"[yellow]{header['candidates_note']}[/yellow]")
    if header["accuracy_note"]:
        console.print(f"[yellow]{header['accuracy_note']}[/yellow]")
        console.print(f"mean params of picks: {summary.params_mean:.3f} M")
    else:
        console.print(
            f"accuracy ({header['accuracy_meaning']}): [bold]{summary.accuracy_mean:.2f} +- "
            f"{summary.accuracy_std:.2f}[/bold]   regret vs best in space ({best:.2f}): "
            f"{summary.regret_mean:.2f}   mean params of picks: {summary.params_mean:.3f} M"
        )
    accuracy_header = header["accuracy_column"] or "accuracy"
    console.print(
        f"simulated search time: {summary.search_seconds_mean:.2f} s per run   query wall "
        f"time: {header['query_seconds']:.3f} s"
        + (f"   saved as search run {header['saved_as']}" if "saved_as" in header else "")
    )
    print_table(
        ["picked", "index", "arch_str", "score", "params (M)", accuracy_header],
        [
            [p.times_picked, p.arch_index, p.arch_str, p.score, p.params_m, p.accuracy]
            for p in summary.top_picks
        ],
        title="most frequent picks",
    )
    if result.front is not None:
        rows = _front_rows(table, result, score)
        print_table(
            ["index", "arch_str", "score", "params (M)", accuracy_header],
            [
                [r["arch_index"], r["arch_str"], r["score"], r["params_m"], r["accuracy"]]
                for r in rows
            ],
            title=f"Pareto front of score vs params ({len(rows)} architectures)",
        )
