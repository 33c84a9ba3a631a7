"""``tfnas-db runs``: saved searches, and (with --scores) the score runs behind them."""

from __future__ import annotations

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
from tfnas_db.db.queries import list_runs
from tfnas_db.db.searches import list_searches


def runs_command(
    scores: Annotated[
        bool, typer.Option("--scores", help="List score runs (provenance) instead.")
    ] = False,
    dataset: Annotated[str | None, typer.Option(help="Only this dataset.")] = None,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """List saved searches (search --save), or score runs with --scores."""
    store = open_cli_store(db)
    with store.session() as session:
        if scores:
            runs = list_runs(session, dataset=dataset)
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
                "ok",
                "nan",
                "error",
                "started",
                "finished",
            ]
            rows = [
                [
                    r.id,
                    r.scorer,
                    r.space,
                    r.dataset,
                    r.data_source,
                    r.batch_size,
                    r.seed,
                    r.device,
                    r.origin,
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
