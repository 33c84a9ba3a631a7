"""``tfnas-db correlate`` and ``tfnas-db export``: read-only views of the store."""

from __future__ import annotations

import enum
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from tfnas_db.cli.out_file import check_out_path, written_out
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
from tfnas_db.db.store import resolve_url
from tfnas_db.errors import TfnasError
from tfnas_db.scoring.datasets import get_dataset
from tfnas_db.scoring.spaces import DEFAULT_SPACE


def _scorer_list(scorers: str | None) -> list[str] | None:
    """Run labels: registered scorers (aliases resolved) or imported labels (``x@naslib``)."""
    if not scorers:
        return None
    from tfnas_db.scoring.registry import canonical_labels

    return canonical_labels(scorers)


def correlate_command(
    dataset: DatasetOption = "cifar10",
    space: SpaceOption = DEFAULT_SPACE,
    scorers: ScorersFilterOption = None,
    against: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated columns to rank against instead of every accuracy column: "
            "benchmark columns (val_acc_200ep) or other scorers, e.g. --scorers naswot@naslib "
            "--against naswot compares NASLib's naswot with ours."
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Kendall tau and Spearman rho of every stored scorer against every accuracy column,
    plus tau within the top 10 % by accuracy (or by the --against column). With no
    accuracy stored (e.g. nats-sss before an import): every scorer against every other, and
    a note on what to import."""
    from tfnas_db.db.queries import missing_accuracy_note
    from tfnas_db.db.tables import wide_table
    from tfnas_db.search.correlation import (
        UTOPIAN,
        UTOPIAN_NOTE,
        correlation_rows,
        plan_correlation,
        source_run_ids,
    )

    data = get_dataset(dataset)
    plan = plan_correlation(scorers, against)
    store = open_cli_store(db)
    with store.session() as session:
        table, runs = wide_table(session, space, data.name, plan.load)
    if not runs:
        raise TfnasError(
            f"no stored scores on {data.name} ({space}); run: tfnas-db populate --dataset "
            f"{data.name}"
        )
    accuracy_columns = [c for c in table.columns if "_acc_" in c]
    if not accuracy_columns and plan.targets is None:
        err_console.print(
            missing_accuracy_note(space, data.name).replace(
                "(picks, size, Pareto front)", "(each scorer against the others)"
            ),
            soft_wrap=True,
        )
    labels = plan.labels or list(runs)
    rows = correlation_rows(table, labels, plan.targets or (None if accuracy_columns else labels))
    if fmt == OutputFormat.json:
        print_json(
            clean_floats([{**asdict(r), "score_run": source_run_ids(r.scorer, runs)} for r in rows])
        )
        return
    first = "accuracy" if accuracy_columns else "against_scorer"
    if plan.targets:
        first = "against"
    header = ["scorer", first, "n", "kendall_tau", "spearman_rho", "top10_kendall_tau"]
    values = [
        [r.scorer, r.accuracy, r.n, r.kendall_tau, r.spearman_rho, r.top10_kendall_tau]
        for r in rows
    ]
    if fmt == OutputFormat.csv:
        print_csv(header, values)
        return
    print_table(header, values, title=f"rank correlations on {space}/{data.name}")
    console.print("runs read: " + ", ".join(f"{name} #{run.id}" for name, run in runs.items()))
    if any(r.scorer == UTOPIAN for r in rows):
        console.print(UTOPIAN_NOTE)


class ExportFormat(enum.StrEnum):
    csv = "csv"
    json = "json"
    parquet = "parquet"
    naslib_zc = "naslib-zc"


def export_command(
    dataset: Annotated[
        str | None,
        typer.Option(
            help="cifar10, cifar100 or ImageNet16-120 (default cifar10; naslib-zc: every "
            "dataset with scores)."
        ),
    ] = None,
    space: SpaceOption = DEFAULT_SPACE,
    scorers: ScorersFilterOption = None,
    fmt: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            "-f",
            help="csv, json (records), parquet, or naslib-zc (NAS-Bench-Suite-Zero "
            "zc_<benchmark>.json layout: every stored scorer under NASLib's names).",
        ),
    ] = ExportFormat.csv,
    out: Annotated[
        Path | None, typer.Option(help="Output file (default: stdout; parquet needs --out).")
    ] = None,
    all_archs: Annotated[
        bool, typer.Option("--all-archs", help="Include architectures without any score.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite --out even if it is an SQLite database.")
    ] = False,
    db: DbOption = None,
) -> None:
    """One row per architecture: index, arch string, scores, size and every accuracy column."""
    from tfnas_db.db.tables import wide_table

    if fmt == ExportFormat.parquet and out is None:
        raise TfnasError("--format parquet writes a binary file: give --out FILE")
    if out is not None:
        url = resolve_url(db)
        check_out_path(out, url.database if url.get_backend_name() == "sqlite" else None, force)
    if fmt == ExportFormat.naslib_zc:
        _export_naslib_zc(dataset, space, scorers, out, db)
        return
    data = get_dataset(dataset or "cifar10")
    store = open_cli_store(db)
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
        with written_out(out) as target:
            table.to_parquet(target, index=False)
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
        return
    with written_out(out) as target, target.open("w") as handle:
        handle.write(text)


def _export_naslib_zc(
    dataset: str | None, space: str, scorers: str | None, out: Path | None, db: str | None
) -> None:
    from tfnas_db.interop.naslib_zc import FORMAT, SPACE, write_zc_document, zc_document

    if space != SPACE:
        raise TfnasError(
            f"--format naslib-zc writes NAS-Bench-Suite-Zero's NAS-Bench-201 layout, which "
            f"covers {SPACE} only, not {space}"
        )
    datasets = [get_dataset(dataset).name] if dataset else None
    store = open_cli_store(db)
    with store.session() as session:
        document, notes = zc_document(session, datasets, _scorer_list(scorers))
    if not document:
        raise TfnasError(f"no stored scores on {space} to export; run: tfnas-db populate")
    _write_text(write_zc_document(document), out)
    for note in notes:
        err_console.print(f"note: {note}")
    if out is not None:
        counts = ", ".join(f"{name} {len(records)}" for name, records in document.items())
        console.print(f"wrote {FORMAT} file {out}: {counts} architectures")
