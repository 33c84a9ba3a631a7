"""``tfnas-db correlate`` and ``tfnas-db export``: read-only views of the store."""

from __future__ import annotations

import enum
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from tfnas_db.cli.output import (
    DatasetOption,
    DbOption,
    FormatOption,
    OutputFormat,
    ScorersFilterOption,
    SpaceOption,
    clean_floats,
    console,
    err_console,
    open_cli_store,
    print_csv,
    print_json,
    print_table,
)
from tfnas_db.errors import TfnasError
from tfnas_db.scoring.datasets import get_dataset


def _scorer_list(scorers: str | None) -> list[str] | None:
    if not scorers:
        return None
    from tfnas_db.scoring.registry import REGISTRY

    return [spec.name for spec in REGISTRY.resolve(scorers)]


def correlate_command(
    dataset: DatasetOption = "cifar10",
    space: SpaceOption = "nats-tss",
    scorers: ScorersFilterOption = None,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Kendall tau and Spearman rho of every stored scorer against every accuracy column,
    plus tau within the top 10 % by accuracy. With no accuracy stored (e.g. nats-sss
    before an import): every scorer against every other, and a note on what to import."""
    from tfnas_db.db.queries import missing_accuracy_note
    from tfnas_db.db.tables import wide_table
    from tfnas_db.search.correlation import correlate

    data = get_dataset(dataset)
    store = open_cli_store(db)
    with store.session() as session:
        table, runs = wide_table(session, space, data.name, _scorer_list(scorers))
    if not runs:
        raise TfnasError(
            f"no stored scores on {data.name} ({space}); run: tfnas-db populate --dataset "
            f"{data.name}"
        )
    accuracy_columns = [c for c in table.columns if "_acc_" in c]
    if not accuracy_columns:
        err_console.print(
            missing_accuracy_note(space, data.name).replace(
                "(picks, size, Pareto front)", "(each scorer against the others)"
            ),
            soft_wrap=True,
        )
    targets = accuracy_columns or list(runs)
    rows = [
        correlate(name, table[name].to_numpy(float), column, table[column].to_numpy(float))
        for name in runs
        for column in targets
        if column != name
    ]
    if fmt == OutputFormat.json:
        print_json(clean_floats([{**asdict(r), "score_run": runs[r.scorer].id} for r in rows]))
        return
    against = "accuracy" if accuracy_columns else "against_scorer"
    header = ["scorer", against, "n", "kendall_tau", "spearman_rho", "top10_kendall_tau"]
    values = [
        [r.scorer, r.accuracy, r.n, r.kendall_tau, r.spearman_rho, r.top10_kendall_tau]
        for r in rows
    ]
    if fmt == OutputFormat.csv:
        print_csv(header, values)
        return
    print_table(header, values, title=f"rank correlations on {space}/{data.name}")
    console.print("runs read: " + ", ".join(f"{name} #{run.id}" for name, run in runs.items()))


class ExportFormat(enum.StrEnum):
    csv = "csv"
    json = "json"
    parquet = "parquet"


def export_command(
    dataset: DatasetOption = "cifar10",
    space: SpaceOption = "nats-tss",
    scorers: ScorersFilterOption = None,
    fmt: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="csv, json (records) or parquet.")
    ] = ExportFormat.csv,
    out: Annotated[
        Path | None, typer.Option(help="Output file (default: stdout; parquet needs --out).")
    ] = None,
    all_archs: Annotated[
        bool, typer.Option("--all-archs", help="Include architectures without any score.")
    ] = False,
    db: DbOption = None,
) -> None:
    """One row per architecture: index, arch string, scores, size and every accuracy column."""
    from tfnas_db.db.tables import wide_table

    data = get_dataset(dataset)
    store = open_cli_store(db)
    with store.session() as session:
        table, _ = wide_table(
            session, space, data.name, _scorer_list(scorers), only_scored=not all_archs
        )
    if fmt == ExportFormat.parquet:
        if out is None:
            raise TfnasError("--format parquet writes a binary file: give --out FILE")
        table.to_parquet(out, index=False)
    elif fmt == ExportFormat.json:
        text = table.to_json(orient="records", indent=1)
        _write_text(text + "\n", out)
    else:
        _write_text(table.to_csv(index=False), out)
    if out is not None:
        console.print(f"wrote {len(table)} architectures x {len(table.columns)} columns to {out}")


def _write_text(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text)
