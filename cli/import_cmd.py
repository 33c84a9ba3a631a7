"""``tfnas-db import ...``: other tools' files into the store (NATS-Bench, NASLib)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tfnas_db.cli.output import (
    DbOption,
    FormatOption,
    OutputFormat,
    console,
    open_cli_store,
    print_json,
)

app = typer.Typer(
    help="Import a user's NATS-Bench or NAS-Bench-101 files, or a NAS-Bench-Suite-Zero score file.",
    no_args_is_help=True,
)


@app.command("nats-bench")
def nats_bench_command(
    path: Annotated[
        Path,
        typer.Option(
            help="The fast-mode folder (NATS-tss-v1_0-3ffb9-simple/) or the single archive "
            "(NATS-tss-v1_0-3ffb9.pickle.pbz2).",
            show_default=False,
        ),
    ],
    space: Annotated[
        str | None,
        typer.Option(help="tss or sss; default: what the archive holds (checked if given)."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Accuracies, losses, sizes, latency and timings of every architecture, dataset and
    training budget in a NATS-Bench archive, as benchmark columns (mean over seeds)."""
    from tfnas_db.interop.nats_import import import_nats_bench

    store = open_cli_store(db)
    summary = import_nats_bench(
        store, path.expanduser(), space, show_progress=not quiet and fmt == OutputFormat.table
    )
    if fmt != OutputFormat.table:
        print_json(summary.as_dict())
        return
    console.print(
        f"imported {summary.archs} {summary.space} architectures from {path} "
        f"({summary.rows} figures, epochs {', '.join(map(str, sorted(summary.epochs)))}) "
        f"in {summary.seconds:.1f} s"
    )
    for dataset, columns in sorted(summary.columns.items()):
        console.print(f"  {dataset}: {', '.join(sorted(columns))}")


@app.command("naslib-zc")
def naslib_zc_command(
    file: Annotated[Path, typer.Argument(help="A NAS-Bench-Suite-Zero zc_nasbench201.json.")],
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """NASLib's zero-cost proxy scores as imported score runs, labelled <scorer>@naslib
    (nwot -> naswot@naslib), beside tfnas-db's own runs; values kept as published."""
    from tfnas_db.interop.naslib_zc import import_zc_file

    summary = import_zc_file(open_cli_store(db), file.expanduser())
    if fmt != OutputFormat.table:
        print_json(
            {
                "file": summary.file,
                "datasets": summary.datasets,
                "runs": summary.runs,
                "ignored_fields": summary.ignored,
            }
        )
        return
    for dataset, runs in summary.runs.items():
        labels = ", ".join(f"{label} #{run_id}" for label, run_id in sorted(runs.items()))
        console.print(
            f"imported {dataset}: {summary.datasets[dataset]} architectures; runs {labels}"
        )
        if dataset in summary.ignored:
            console.print(f"  not proxies, not imported: {', '.join(summary.ignored[dataset])}")


@app.command("nasbench101")
def nasbench101_command(
    path: Annotated[
        Path,
        typer.Option(
            help="nasbench_only108.tfrecord (108 epochs) or nasbench_full.tfrecord (4, 12, "
            "36 and 108 epochs), as Google publishes them.",
            show_default=False,
        ),
    ],
    no_crc: Annotated[
        bool,
        typer.Option("--no-crc", help="Skip the TFRecord checksums (faster; no damage check)."),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """NAS-Bench-101 accuracies (validation, test, train; mean of the training repeats),
    training time and trainable parameters of every cell in the file, read without
    TensorFlow, checked against this project's own cells and sizes."""
    from tfnas_db.interop.nasbench101_import import import_nasbench101

    summary = import_nasbench101(
        open_cli_store(db),
        path.expanduser(),
        check_crc=not no_crc,
        show_progress=not quiet and fmt == OutputFormat.table,
    )
    if fmt != OutputFormat.table:
        print_json(summary.as_dict())
        return
    repeats = ", ".join(f"{n} repeats x{count}" for n, count in sorted(summary.repeats.items()))
    console.print(
        f"imported {summary.cells} nasbench101 cells from {path} ({summary.rows} figures, "
        f"epochs {', '.join(map(str, sorted(summary.epochs)))}; {repeats}) "
        f"in {summary.seconds:.1f} s"
    )
    if summary.params_differ:
        console.print(
            f"  trainable parameters differ from tfnas-db's arithmetic for "
            f"{summary.params_differ} of {summary.params_checked} cells "
            f"(first: {summary.first_difference})"
        )
    else:
        console.print(
            f"  trainable parameters equal tfnas-db's arithmetic for all "
            f"{summary.params_checked} cells"
        )
