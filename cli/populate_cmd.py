"""``tfnas-db populate``: fill the store with scores (the main job)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tfnas_db.cli.output import (
    DatasetOption,
    DbOption,
    FormatOption,
    OutputFormat,
    SpaceOption,
    console,
    err_console,
    open_cli_store,
    print_json,
)
from tfnas_db.errors import TfnasError
from tfnas_db.jobs.populate import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_LEASE_SECONDS,
    PopulateConfig,
    parse_shard,
    populate,
    validate_config,
)
from tfnas_db.scoring.minibatch import resolve_data
from tfnas_db.scoring.registry import DEFAULT_SCORERS
from tfnas_db.scoring.spaces import DEFAULT_SPACE, get_space


def _read_archs(path: Path, space: str) -> list[str]:
    if str(path) == "-":  # the usual spelling of standard input: echo 123 | ... --archs -
        path = Path("/dev/stdin")
    if path.is_dir():
        raise TfnasError(
            f"--archs {path} is a folder: give a text file with one architecture a line"
        )
    if not path.exists():  # a pipe (--archs <(...)) or /dev/stdin exists and is read
        raise TfnasError(f"--archs file {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise TfnasError(
            f"--archs file {path} is not a text file: list one architecture a line "
            "(an index, an arch string or a NASLib tuple)"
        ) from None
    except OSError as exc:
        raise TfnasError(f"cannot read --archs file {path}: {exc.strerror or exc}") from None
    archs = []
    for number, line in enumerate(text.splitlines(), start=1):
        token = line.split("#", 1)[0].strip()
        if not token:
            continue
        try:
            get_space(space).resolve_arch(token)
        except TfnasError as exc:
            raise TfnasError(f"--archs file {path}, line {number}: {exc}") from None
        archs.append(token)
    if not archs:
        raise TfnasError(f"--archs file {path} lists no architectures")
    return archs


def populate_command(
    scorers: Annotated[
        str, typer.Option(help="Comma-separated scorer names, or 'all' (see: tfnas-db scorers).")
    ] = ",".join(DEFAULT_SCORERS),
    space: SpaceOption = DEFAULT_SPACE,
    dataset: DatasetOption = "cifar10",
    batch_size: Annotated[int, typer.Option(help="Minibatch size K.")] = 128,
    seed: Annotated[
        int, typer.Option(help="Seed of the minibatch and of every network's init.")
    ] = 0,
    data: Annotated[
        str | None,
        typer.Option(
            help="natural (bundled public-domain photographs), synthetic (seeded N(0,1) "
            "images) or real (needs --data-dir); default: each scorer's own (tfnas-db scorers)."
        ),
    ] = None,
    data_dir: Annotated[
        str | None,
        typer.Option(
            help="Folder with cifar-10-batches-py/, cifar-100-python/ or ImageNet16 pickles "
            "(or $TFNAS_DATA_DIR)."
        ),
    ] = None,
    limit: Annotated[
        int | None, typer.Option(help="Score only N architectures (an index prefix).")
    ] = None,
    sample: Annotated[
        bool, typer.Option("--sample", help="With --limit: a seeded random sample, not a prefix.")
    ] = False,
    archs: Annotated[
        Path | None,
        typer.Option(
            help="File listing the architectures to score, one a line (indices or arch "
            "strings); - reads standard input."
        ),
    ] = None,
    device: Annotated[
        str | None,
        typer.Option(help="cpu, cuda, cuda:N or mps, checked up front (default: cuda if present)."),
    ] = None,
    shard: Annotated[
        str | None,
        typer.Option(
            help="I/N: score only the I-th of N disjoint parts of the targets (0-based), e.g. "
            "one SQLite file per SLURM array task; combine them with tfnas-db db merge."
        ),
    ] = None,
    executor: Annotated[
        str, typer.Option(help="local (this process) or ray (actors on a Ray cluster).")
    ] = "local",
    workers: Annotated[int, typer.Option(help="With --executor ray: number of actors.")] = 1,
    ray_address: Annotated[
        str | None,
        typer.Option(help="With --executor ray: auto or HOST:PORT (default: a local Ray)."),
    ] = None,
    gpus_per_worker: Annotated[
        float | None,
        typer.Option(help="With --executor ray: GPUs per actor (default 1 with --device cuda)."),
    ] = None,
    threads: Annotated[
        int | None,
        typer.Option(
            help="torch threads per worker (default: this machine's cores / its workers)."
        ),
    ] = None,
    chunk_size: Annotated[
        int, typer.Option(help="Architectures per work chunk (claimed as one unit).")
    ] = DEFAULT_CHUNK_SIZE,
    lease_seconds: Annotated[
        float,
        typer.Option(
            help="PostgreSQL: a worker's claim on a chunk expires this long after its last "
            "renewal; then another worker takes the chunk over."
        ),
    ] = DEFAULT_LEASE_SECONDS,
    retry_errors: Annotated[
        bool,
        typer.Option(
            "--retry-errors/--no-retry-errors",
            help="Re-score architectures whose stored score is an error (nan is a result, kept).",
        ),
    ] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Score architectures into the store; re-running resumes and skips what is stored."""
    choice = resolve_data(data, data_dir)
    config = PopulateConfig(
        space=space,
        dataset=dataset,
        scorers=scorers,
        batch_size=batch_size,
        seed=seed,
        data_dir=choice.data_dir,
        data_source=choice.source,
        limit=limit,
        sample=sample,
        archs=_read_archs(archs, space) if archs else None,
        device=device,
        shard=parse_shard(shard) if shard is not None else None,
        executor=executor,
        workers=workers,
        ray_address=ray_address,
        gpus_per_worker=gpus_per_worker,
        threads=threads,
        chunk_size=chunk_size,
        lease_seconds=lease_seconds,
        retry_errors=retry_errors,
    )
    if executor != "ray" and (workers != 1 or ray_address or gpus_per_worker is not None):
        raise TfnasError(
            "--workers, --ray-address and --gpus-per-worker need --executor ray; for several "
            "local workers start several populate processes on a PostgreSQL store"
        )
    validate_config(config)  # a bad option is one line before the store is opened or seeded
    store = open_cli_store(db)
    summary = populate(store, config, show_progress=not quiet)
    if fmt == OutputFormat.json:
        print_json(summary.as_dict())
    else:
        others = f", {summary.by_others} by other workers" if summary.by_others else ""
        taken = (
            f", {summary.taken_over} chunks taken over from expired leases"
            if summary.taken_over
            else ""
        )
        console.print(
            f"{summary.scored} architectures scored{others}, {summary.already_stored} already "
            f"stored (of {summary.targeted} targeted){taken} in {summary.seconds:.1f} s; "
            f"store: {store.url}"
        )
        retried, failing = sum(summary.retried.values()), sum(summary.still_failing.values())
        if retried:
            console.print(f"stored errors: retried {retried}, still failing {failing}")
        if summary.kept_errors:
            console.print(
                f"stored errors: kept {sum(summary.kept_errors.values())} (--no-retry-errors)"
            )
        for name, counts in summary.statuses.items():
            per_arch = summary.scorer_seconds[name] / max(1, sum(counts.values()))
            parts = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
            if summary.retried[name]:
                parts += (
                    f" (retried {summary.retried[name]}, "
                    f"still failing {summary.still_failing[name]})"
                )
            console.print(
                f"  {name:<12} run {summary.run_ids[name]}: {parts}; {per_arch:.4f} s/arch"
            )
    if summary.interrupted:
        err_console.print(
            "interrupted: what was committed is kept; run the same command again to resume"
        )
        raise typer.Exit(130)
