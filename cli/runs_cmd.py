"""``tfnas-db runs``: saved searches, and (with --scores) the score runs behind them."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

import typer

from tfnas_db.cli.output import (
    DbOption,
    FormatOption,
    OutputFormat,
    clean_floats,
    open_cli_store,
    print_csv,
    print_json,
    print_table,
)
from tfnas_db.db.queries import list_runs, run_workers
from tfnas_db.db.searches import list_searches


def _mix(counts: Counter[str]) -> str:
    """``node1 x30, node2 x12``: which workers filled a run, most productive first."""
    return ", ".join(f"{name} x{n}" for name, n in counts.most_common())


def runs_command(
    scores: Annotated[
        bool, typer.Option("--scores", help="List score runs (provenance) instead.")
    ] = False,
    dataset: Annotated[str | None, typer.Option(help="Only this dataset.")] = None,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """List saved searches (search --save), or score runs with --scores."""
    if dataset is not None:
        from tfnas_db.scoring.datasets import get_dataset

        dataset = get_dataset(dataset).name  # a typo is an error, not an empty list
    store = open_cli_store(db)
    with store.session() as session:
        if scores:
            runs = list_runs(session, dataset=dataset)
            workers = run_workers(session)
            header = [
                "id",
                "scorer",
                "space",
                "dataset",
                "data",
                "batch",
                "seed",
                "device",
                "origin",
                "hosts",
                "devices",
                "ok",
                "nan",
                "error",
                "started",
                "finished",
            ]
            rows = [
                [
                    r.id,
                    r.label,
                    r.space,
                    r.dataset,
                    r.data_source,
                    r.batch_size,
                    r.seed,
                    r.device,
                    r.origin,
                    _mix(workers.get(r.id, (Counter(), Counter()))[0]),
                    _mix(workers.get(r.id, (Counter(), Counter()))[1]),
                    r.n_ok,
                    r.n_nan,
                    r.n_error,
                    r.started_at,
                    r.finished_at,
                ]
                for r in runs
            ]
        else:
            searches = list_searches(session, dataset)
            header = [
                "id",
                "created",
                "strategy",
                "scorers",
                "dataset",
                "accuracy",
                "runs",
                "accuracy_mean",
                "accuracy_std",
                "params_mean",
                "penalty",
            ]
            rows = [
                [
                    s.id,
                    s.created_at,
                    s.strategy,
                    s.scorers,
                    s.dataset,
                    s.accuracy_column,
                    s.summary.get("runs"),
                    s.summary.get("accuracy_mean"),
                    s.summary.get("accuracy_std"),
                    s.summary.get("params_mean"),
                    s.options.get("penalty"),
                ]
                for s in searches
            ]
            if fmt == OutputFormat.json:
                print_json(clean_floats([s.__dict__ for s in searches]))
                return
    if fmt == OutputFormat.json and scores:
        print_json(
            clean_floats(
                [
                    {**dict(zip(header, row, strict=True)), "provenance": run.provenance}
                    for row, run in zip(rows, runs, strict=True)
                ]
            )
        )
    elif fmt == OutputFormat.json:
        print_json(clean_floats([dict(zip(header, row, strict=True)) for row in rows]))
    elif fmt == OutputFormat.csv:
        print_csv(header, rows)
    else:
        print_table(header, rows, title="score runs" if scores else "saved searches")
