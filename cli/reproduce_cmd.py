"""``tfnas-db reproduce TABLE``: a paper's table, ours beside the paper's."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

import numpy as np
import typer

from tfnas_db.cli.output import (
    DbOption,
    FormatOption,
    OutputFormat,
    SpaceOption,
    clean_floats,
    console,
    open_cli_store,
    print_json,
    print_table,
)
from tfnas_db.cli.score_missing import score_needed
from tfnas_db.db.queries import AccuracyColumn, accuracy_columns, load_score_table
from tfnas_db.db.store import Store
from tfnas_db.errors import TfnasError, check_seed
from tfnas_db.scoring.registry import canonical_label
from tfnas_db.scoring.spaces import DEFAULT_SPACE
from tfnas_db.search.figures import SAMPLE, thesis_fig12
from tfnas_db.search.reproduce import TABLES, Candidates, Cell, ColumnPlan, Row, reproduce
from tfnas_db.search.runner import search_inputs


def _fmt(pair: list[float] | None) -> str:
    return "-" if pair is None else f"{pair[0]:.2f}+-{pair[1]:.2f}"


def _cell_json(cell: Cell) -> dict[str, Any]:
    fields = {k: v for k, v in cell.__dict__.items() if k != "needed"}
    fields["needed_archs"] = cell.needed.arch_index if cell.needed else None
    return fields


FIGURES = ("thesis-fig12",)


def _print_fig12(store: Store, seed: int, fmt: OutputFormat) -> None:
    """Fernandes 2022, Fig. 12: tau of naswot and relu_count per space and dataset."""
    with store.session() as session:
        rows = thesis_fig12(session, seed=seed)
    if fmt == OutputFormat.json:
        print_json(clean_floats([row.__dict__ for row in rows]))
        return
    console.print(
        "[bold]Fernandes 2022, Fig. 12[/bold]: Kendall tau against validation accuracy, "
        f"{SAMPLE} random architectures per space and dataset (seed {seed})"
    )

    def tau(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    print_table(
        ["space", "dataset", "column", "n (of held)", "tau naswot", "tau relu_count"],
        [
            [r.space, r.dataset, r.column or "-", f"{r.n} ({r.held})", tau(r.tau_naswot),
             tau(r.tau_relu_count)]
            for r in rows
        ],
    )  # fmt: skip
    console.print("the thesis gives Fig. 12 as a chart only: no values to print beside ours")
    for row in rows:
        if row.missing:
            console.print(f"  {row.space} {row.dataset} needs: {row.missing}")


def reproduce_command(
    table: Annotated[str, typer.Argument(help=f"One of: {', '.join((*TABLES, *FIGURES))}.")],
    scorer: Annotated[
        str | None, typer.Option(help="Score for the 'Ours'/NAS-WOT rows (table default).")
    ] = None,
    runs: Annotated[int | None, typer.Option(help="Runs per row (default: the paper's).")] = None,
    seed: Annotated[int, typer.Option(help="Seed.")] = 0,
    score_missing: Annotated[
        bool,
        typer.Option(
            "--score-missing",
            help="ET-NAS rows: score loss_slope for the Pareto-front architectures that lack "
            "it (the paper computes it only there), then run the table again.",
        ),
    ] = False,
    space: SpaceOption = DEFAULT_SPACE,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Run a paper's protocol over the store and print it beside the paper's numbers."""
    if fmt == OutputFormat.csv:
        raise TfnasError("reproduce prints --format table or json")
    if table in FIGURES:
        _print_fig12(open_cli_store(db), seed, fmt)
        return
    if runs is not None and runs < 1:
        raise TfnasError(f"--runs must be at least 1, got {runs}")
    check_seed(seed)
    if scorer is not None:
        canonical_label(scorer)  # an unknown scorer is one line, not rows marked missing
    store = open_cli_store(db)

    def run_table() -> tuple[dict[str, Any], list[ColumnPlan], list[Row]]:
        with store.session() as session:

            @cache
            def held(dataset: str) -> list[tuple[str, int]]:
                return [(c.metric, c.epochs) for c in accuracy_columns(session, space, dataset)]

            @cache
            def load(
                dataset: str,
                scorers: tuple[str, ...],
                metric: str,
                epochs: int,
                on_demand: tuple[str, ...],
            ) -> Candidates:
                data = load_score_table(
                    session,
                    space,
                    dataset,
                    list(scorers),
                    AccuracyColumn(metric, epochs),
                    on_demand=on_demand,
                )
                if len(data) == 0:
                    raise TfnasError(f"no candidates for {scorers} on {dataset}")
                eligible = np.ones(len(data), dtype=bool)
                inputs = search_inputs(data, space, eligible)
                return Candidates(data.accuracy, data.params_m, inputs, data.arch_index)

            return reproduce(
                table,
                lambda d, s, m, e, o: load(d, tuple(s), m, e, o),
                held,
                scorer=scorer,
                runs=runs,
                seed=seed,
            )

    meta, plans, rows = run_table()
    needed: dict[tuple[str, str], set[int]] = {}
    for r in rows:
        for plan, cell in zip(plans, r.cells, strict=True):
            if cell.needed is not None:
                key = (plan.dataset, cell.needed.scorer)
                needed.setdefault(key, set()).update(cell.needed.arch_index or [])
    if score_missing and needed:
        for (dataset, name), archs in needed.items():
            score_needed(store, space, dataset, name, sorted(archs), quiet=fmt == OutputFormat.json)
        meta, plans, rows = run_table()  # the same runs visit the same fronts
    missing = sorted({c.missing for r in rows for c in r.cells if c.missing})
    if fmt == OutputFormat.json:
        payload: dict[str, Any] = {
            **meta,
            "columns": [p.__dict__ for p in plans],
            "rows": [
                {
                    "method": r.method,
                    "kind": r.kind,
                    "paper_seconds": r.paper_seconds,
                    "cells": [_cell_json(c) for c in r.cells],
                }
                for r in rows
            ],
            "missing": missing,
        }
        print_json(clean_floats(payload))
        return
    console.print(f"[bold]{meta['title']}[/bold] ({meta['runs']} runs, score {meta['scorer']})")
    console.print(f"source: {meta['source']}")
    datasets = list(dict.fromkeys(p.dataset for p in plans))
    for dataset in datasets:
        idx = [i for i, p in enumerate(plans) if p.dataset == dataset]
        header = ["method"]
        for i in idx:
            header += [f"{plans[i].split} paper", f"{plans[i].split} ours ({plans[i].status})"]
        header += ["search s paper", "search s ours"]
        body = []
        for r in rows:
            line = [r.method]
            for i in idx:
                c = r.cells[i]
                line += [_fmt(c.paper), "missing" if c.missing else _fmt(c.ours)]
            seconds = next(
                (r.cells[i].seconds for i in idx if r.cells[i].seconds is not None), None
            )
            line += [
                "-" if r.paper_seconds is None else f"{r.paper_seconds:g}",
                "-" if seconds is None else f"{seconds:.1f}",
            ]
            body.append(line)
        print_table(header, body, title=dataset)
    for p in plans:
        console.print(f"  {p.label}: {p.status} ({p.detail})")
    console.print(f"note: {meta['note']}")
    for command in missing:
        console.print(f"missing scores: {command}")
