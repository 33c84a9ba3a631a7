"""``tfnas-db search``: run a search strategy as a query over stored scores."""

from __future__ import annotations

import time
from typing import Annotated

import numpy as np
import typer

from tfnas_db.cli.output import (
    DbOption,
    FormatOption,
    OutputFormat,
    clean_floats,
    console,
    print_csv,
    print_json,
    print_table,
)
from tfnas_db.db.queries import best_accuracy, load_score_table, resolve_accuracy_column
from tfnas_db.db.store import open_store
from tfnas_db.errors import TfnasError
from tfnas_db.scoring.datasets import get_dataset
from tfnas_db.scoring.registry import REGISTRY
from tfnas_db.search.penalties import DEFAULT_MU, DEFAULT_SIGMA, check_mu_sigma, get_penalty
from tfnas_db.search.random_search import random_search
from tfnas_db.search.summary import summarise

STRATEGIES = ("random",)

PENALTY_HELP = (
    "Size penalty: none, gdf, hsdf or rdf. The score is min-max normalised over each run's "
    "candidates, then multiplied by w(params in M): w=1 up to --mu, then gdf "
    "exp(-z^2/2), hsdf sech(pi z/2), rdf Rayleigh density with its mode moved to --mu, "
    "z=(size-mu)/sigma; all scaled so w(mu)=1 (the thesis' printed densities are not)."
)


def search_command(
    scorer: Annotated[str, typer.Option(help="Scorer whose stored scores rank candidates.")],
    dataset: Annotated[str, typer.Option(help="cifar10, cifar100 or ImageNet16-120.")] = "cifar10",
    space: Annotated[str, typer.Option(help="Search space.")] = "nats-tss",
    strategy: Annotated[str, typer.Option(help="Search strategy: random.")] = "random",
    n: Annotated[int, typer.Option("--n", help="Architectures sampled per run (N).")] = 100,
    runs: Annotated[int, typer.Option(help="Independent runs (R).")] = 500,
    seed: Annotated[int, typer.Option(help="Seed of the search.")] = 0,
    penalty: Annotated[str, typer.Option(help=PENALTY_HELP)] = "none",
    mu: Annotated[
        float, typer.Option(help="Penalty: size (M params) up to which w=1.")
    ] = DEFAULT_MU,
    sigma: Annotated[
        float, typer.Option(help="Penalty: width of the decay (M params).")
    ] = DEFAULT_SIGMA,
    metric: Annotated[
        str | None,
        typer.Option(
            help="Accuracy split: val, test or valtest (default: the dataset's 200-epoch column)."
        ),
    ] = None,
    epochs: Annotated[
        int | None, typer.Option(help="Training epochs of the accuracy: 200 or 12.")
    ] = None,
    max_params: Annotated[float | None, typer.Option(help="Hard limit on params (M).")] = None,
    max_flops: Annotated[float | None, typer.Option(help="Hard limit on FLOPs (M).")] = None,
    run_id: Annotated[
        int | None, typer.Option(help="Score run to read (default: the fullest).")
    ] = None,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Search by a stored score: accuracy of the picks (mean +- std), regret, search time."""
    started = time.perf_counter()
    if strategy not in STRATEGIES:
        raise TfnasError(
            f"unknown strategy {strategy!r}; valid strategies: {', '.join(STRATEGIES)}"
        )
    if n < 1:
        raise TfnasError(f"--n must be at least 1, got {n}")
    if runs < 1:
        raise TfnasError(f"--runs must be at least 1, got {runs}")
    get_penalty(penalty)
    check_mu_sigma(mu, sigma)
    spec = REGISTRY.get(scorer)
    data = get_dataset(dataset)
    store = open_store(db)
    with store.session() as session:
        column = resolve_accuracy_column(session, space, data.name, metric, epochs)
        table = load_score_table(session, space, data.name, spec.name, column, run_id)
        best = best_accuracy(session, space, data.name, column)
    loaded = time.perf_counter()

    eligible = np.ones(len(table), dtype=bool)
    if max_params is not None:
        eligible &= table.params_m <= max_params
    if max_flops is not None:
        eligible &= table.flops_m <= max_flops
    available = int(eligible.sum())
    if n > available:
        limits = " within the size limits" if available < len(table) else ""
        raise TfnasError(
            f"--n {n} is larger than the {available} architectures with a stored {spec.name} "
            f"score on {data.name}{limits}; lower --n or run: tfnas-db populate --scorers "
            f"{spec.name} --dataset {data.name}"
        )
    result = random_search(
        table.score,
        table.params_m,
        n=n,
        runs=runs,
        seed=seed,
        penalty=penalty,
        mu=mu,
        sigma=sigma,
        eligible=None if available == len(table) else eligible,
    )
    summary = summarise(
        result,
        arch_index=table.arch_index,
        arch_str=table.arch_str,
        score=table.score,
        params_m=table.params_m,
        accuracy=table.accuracy,
        seconds=table.seconds,
        best_accuracy=best,
    )
    finished = time.perf_counter()
    header = {
        "scorer": spec.name,
        "space": space,
        "dataset": data.name,
        "strategy": strategy,
        "penalty": penalty,
        "mu": mu if penalty != "none" else None,
        "sigma": sigma if penalty != "none" else None,
        "accuracy_column": column.key,
        "accuracy_meaning": column.label,
        "score_run": table.run.id,
        "candidates": available,
        "seed": seed,
        "query_seconds": round(finished - started, 4),
        "search_seconds": round(finished - loaded, 4),
    }
    if fmt == OutputFormat.json:
        payload = {**header, **summary.as_dict(), "picks": table.arch_index[result.picks].tolist()}
        print_json(clean_floats(payload))
        return
    if fmt == OutputFormat.csv:
        rows = [
            [
                r,
                int(table.arch_index[row]),
                table.arch_str[row],
                table.score[row],
                table.params_m[row],
                table.accuracy[row],
                float(table.seconds[result.samples[r]].sum()),
            ]
            for r, row in enumerate(result.picks)
        ]
        print_csv(
            ["run", "arch_index", "arch_str", "score", "params_m", column.key, "search_seconds"],
            rows,
        )
        return
    pen = f", penalty {penalty} (mu={mu}, sigma={sigma})" if penalty != "none" else ""
    console.print(
        f"[bold]{strategy} search by {spec.name}[/bold] on {space}/{data.name}: N={n}, "
        f"{runs} runs, seed {seed}{pen}; {available} candidates (score run {table.run.id})"
    )
    console.print(
        f"accuracy ({column.label}): [bold]{summary.accuracy_mean:.2f} +- "
        f"{summary.accuracy_std:.2f}[/bold]   regret vs best in space ({best:.2f}): "
        f"{summary.regret_mean:.2f}   mean params of picks: {summary.params_mean:.3f} M"
    )
    console.print(
        f"simulated search time: {summary.search_seconds_mean:.2f} s per run (stored scoring "
        f"seconds of the sampled architectures)   query wall time: {finished - started:.3f} s"
    )
    print_table(
        ["picked", "index", "arch_str", "score", "params (M)", column.key],
        [
            [p.times_picked, p.arch_index, p.arch_str, p.score, p.params_m, p.accuracy]
            for p in summary.top_picks
        ],
        title="most frequent picks",
    )
