"""``tfnas-db correlate`` and ``tfnas-db export``: read-only views of the store."""

from __future__ import annotations

import enum
import sys
from collections.abc import Iterator
from contextlib import contextmanager
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
    print_csv,
    print_json,
    print_table,
)
from tfnas_db.db.store import open_store
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
    plus tau within the top 10 % by accuracy."""
    from tfnas_db.db.tables import wide_table
    from tfnas_db.search.correlation import correlate

    data = get_dataset(dataset)
    store = open_store(db)
    with store.session() as session:
        table, runs = wide_table(session, space, data.name, _scorer_list(scorers))
    if not runs:
        raise TfnasError(
            f"no stored scores on {data.name} ({space}); run: tfnas-db populate --dataset "
            f"{data.name}"
        )
    accuracy_columns = [c for c in table.columns if "_acc_" in c]
    rows = [
        correlate(name, table[name].to_numpy(float), column, table[column].to_numpy(float))
        for name in runs
        for column in accuracy_columns
    ]
    if fmt == OutputFormat.json:
        print_json(clean_floats([{**asdict(r), "score_run": runs[r.scorer].id} for r in rows]))
        return
    header = ["scorer", "accuracy", "n", "kendall_tau", "spearman_rho", "top10_kendall_tau"]
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
    if fmt == ExportFormat.parquet and out is None:
        raise TfnasError("--format parquet writes a binary file: give --out FILE")
    if out is not None:
        check_out_path(out)
    store = open_store(db)
    with store.session() as session:
        table, runs = wide_table(
            session, space, data.name, _scorer_list(scorers), only_scored=not all_archs
        )
    if not runs and not all_archs:
        raise TfnasError(
            f"no stored scores on {data.name} ({space}); run: tfnas-db populate --dataset "
            f"{data.name} (or export --all-archs for the benchmark columns alone)"
        )
    if fmt == ExportFormat.parquet:
        assert out is not None
        with _written_whole(out) as part:
            table.to_parquet(part, index=False)
    elif fmt == ExportFormat.json:
        text = table.to_json(orient="records", indent=1)
        _write_text(text + "\n", out)
    else:
        _write_text(table.to_csv(index=False), out)
    if out is not None:
        console.print(f"wrote {len(table)} architectures x {len(table.columns)} columns to {out}")


def check_out_path(out: Path) -> None:
    """--out must name a file in an existing folder: checked before the store is read."""
    if out.is_dir():
        raise TfnasError(
            f"--out {out} is a folder: give a file name, e.g. --out {out / 'scores.csv'}"
        )
    if not out.parent.is_dir():
        raise TfnasError(f"--out {out}: folder {out.parent} does not exist; create it first")


@contextmanager
def _written_whole(out: Path) -> Iterator[Path]:
    """Write beside ``out`` and rename into place, so a failed export leaves no half file."""
    part = out.with_name(f".{out.name}.part")
    try:
        yield part
        part.replace(out)
    except OSError as exc:
        raise TfnasError(f"cannot write --out {out}: {exc.strerror or exc}") from None
    finally:
        part.unlink(missing_ok=True)


def _write_text(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
        return
    with _written_whole(out) as part:
        part.write_text(text)
