"""Shared output options and renderers: every read command takes ``--format``."""

from __future__ import annotations

import csv
import enum
import json
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from tfnas_db.db.store import Store, open_store


class OutputFormat(enum.StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


FormatOption = Annotated[
    OutputFormat,
    typer.Option("--format", "-f", help="table (for people), json or csv (for scripts)."),
]

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="TFNAS_DB_URL",
        help="Store URL (sqlite:///FILE, postgresql://USER@HOST/DB) or a SQLite file path; "
        "default ./tfnas.db.",
        show_default=False,
    ),
]

DatasetOption = Annotated[
    str, typer.Option(help="cifar10, cifar100 or ImageNet16-120 (NATS-Bench names).")
]
SpaceOption = Annotated[str, typer.Option(help="Search space (tfnas-db spaces lists them).")]
ScorersFilterOption = Annotated[
    str | None,
    typer.Option("--scorers", help="Comma-separated scorers (default: every stored one)."),
]

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=_json_default, allow_nan=False) + "\n")


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def clean_floats(data: Any) -> Any:
    """NaN/inf -> None so JSON output stays valid."""
    if isinstance(data, float):
        return data if data == data and abs(data) != float("inf") else None
    if isinstance(data, dict):
        return {k: clean_floats(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [clean_floats(v) for v in data]
    return data


def print_csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)


def print_table(
    header: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None
) -> None:
    table = Table(title=title, title_justify="left")
    for name in header:
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*(fmt_cell(v) for v in row))
    if console.is_terminal:
        console.print(table)
        return
    # Piped or captured (a file, `less`, a notebook, a CI log), rich would fold a wide table
    # into 80 columns, one letter per line; print it at its natural width instead.
    natural = Measurement.get(console, console.options.update(width=100_000), table).maximum
    Console(highlight=False, width=max(natural, console.width)).print(table)


def fmt_cell(value: Any) -> str:
    if isinstance(value, float):
        if value != value:
            return "-"
        return f"{value:.4g}" if abs(value) < 1e6 else f"{value:.4e}"
    return "-" if value is None else str(value)


def open_cli_store(db: str | None) -> Store:
    """The store, with what opening it did for the user (created, seeded...) on stderr."""
    store = open_store(db)
    for note in store.notes:
        err_console.print(note)
    return store
