"""``tfnas-db db ...``: create/upgrade the schema and seed the bundled benchmark data."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any

import typer

from tfnas_db.cli.output import (
    DbOption,
    FormatOption,
    OutputFormat,
    ScorersFilterOption,
    SpaceOption,
    clean_floats,
    console,
    err_console,
    print_csv,
    print_json,
    print_table,
)
from tfnas_db.db.store import (
    check_store_file,
    current_revision,
    make_engine,
    open_store,
    resolve_url,
    schema_state,
    show_url,
    upgrade_schema,
)
from tfnas_db.errors import TfnasError, check_finite
from tfnas_db.jobs.merge import DEFAULT_RTOL, merge_into
from tfnas_db.scoring.spaces import DEFAULT_SPACE

app = typer.Typer(help="Create, upgrade and seed the store.", no_args_is_help=True)


ForceOption = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Add tfnas-db's tables to a database that holds another application's tables.",
    ),
]


@app.command("upgrade")
def upgrade(db: DbOption = None, force: ForceOption = False) -> None:
    """Create the schema or apply pending migrations (alembic, shipped in the package)."""
    engine = make_engine(resolve_url(db))
    before, after = upgrade_schema(engine, force=force)
    where = show_url(engine.url)
    if before == after:
        console.print(f"{where}: schema already at revision {after}")
    else:
        console.print(f"{where}: schema upgraded {before or '(empty)'} -> {after}")


@app.command("status")
def status(db: DbOption = None) -> None:
    """Show the store's schema revision and what it holds; exits 2 with the reason (and
    what to run) when the store is not usable as is: missing, behind, or unknown."""
    url = resolve_url(db)
    check_store_file(url)  # never create an empty file by looking
    engine = make_engine(url)
    state = schema_state(engine)
    if state.problem is not None:
        raise TfnasError(state.problem)
    console.print(
        f"{show_url(engine.url)}: revision {state.current}, head {state.head} (up to date)"
    )
    from tfnas_db.db.coverage import store_overview
    from tfnas_db.scoring.registry import DEFAULT_SCORERS

    with open_store(db).session() as session:
        overview = store_overview(session, DEFAULT_SCORERS)
    print_table(
        ["run", "scorer", "space", "dataset", "data", "ok", "nan", "error", "coverage"],
        [
            [
                c.run.id,
                c.run.label,
                c.run.space,
                c.run.dataset,
                c.run.data_source,
                c.run.n_ok,
                c.run.n_nan,
                c.run.n_error,
                f"{c.fraction:.1%}",
            ]
            for c in overview.coverage
        ],
        title="score runs",
    )
    for gap in overview.gaps:
        console.print(
            f"missing on {gap.space}/{gap.dataset}: {gap.reason}\n  {gap.command}", soft_wrap=True
        )


@app.command("seed")
def seed(space: SpaceOption = DEFAULT_SPACE, db: DbOption = None) -> None:
    """Load a space's architectures and sizes (nats-tss: with the bundled NATS-Bench TSS
    table and the bundled score release), where missing."""
    from tfnas_db.db.bootstrap import bootstrap_store
    from tfnas_db.scoring.spaces import DEFAULT_SPACE, get_space

    info = get_space(space)
    store = open_store(db, bootstrap=False)
    notes = bootstrap_store(store, info.name)
    for note in notes:
        console.print(note)
    if not notes:
        release = "; the bundled release is already loaded" if space == DEFAULT_SPACE else ""
        console.print(f"{info.name} already seeded{release}")


def _archived_indices(path: Path, api: Any) -> list[int]:
    """Indices the files hold: an archive lists them; a fast-mode directory has one
    ``NNNNNN.pickle.pbz2`` file per architecture."""
    if api.evaluated_indexes:
        return sorted(api.evaluated_indexes)
    names = (f.name.split(".", 1)[0] for f in path.glob("*.pickle.pbz2"))
    return sorted(int(name) for name in names if name.isdigit())


@app.command("check-costs")
def check_costs(
    path: Annotated[Path, typer.Option(help="Your NATS-Bench archive file or fast-mode dir.")],
    space: SpaceOption = DEFAULT_SPACE,
    limit: Annotated[
        int | None, typer.Option(help="Check only the first N architectures held.")
    ] = None,
) -> None:
    """Compare the space's index order, parameter and FLOP counts with your NATS-Bench
    files (cost info of the full schedule: 200 epochs on TSS, 90 on SSS; FLOPs as
    NATS-Bench counts them, conv and linear only); exit 1 on a mismatch."""
    from rich.progress import track

    from tfnas_db.errors import TfnasError
    from tfnas_db.scoring.spaces import get_space
    from tfnas_db.scoring.spaces.benchmark_check import (
        FULL_SCHEDULE,
        NATS_BENCH_NAMES,
        compare_costs,
    )

    info = get_space(space)
    if space not in NATS_BENCH_NAMES:
        raise TfnasError(f"{space} is not a NATS-Bench space; check-costs reads NATS-Bench files")
    if not path.exists():
        raise TfnasError(f"--path {path} does not exist; give a NATS-Bench file or directory")
    import nats_bench

    bench = NATS_BENCH_NAMES[space]
    try:
        api = nats_bench.create(str(path), bench, fast_mode=path.is_dir(), verbose=False)
    except Exception as exc:  # the API raises bare ValueError/AssertionError/pickle errors
        raise TfnasError(f"cannot read {path} as NATS-Bench {bench} files: {exc}") from None
    if len(api.meta_archs) != info.n_archs:
        raise TfnasError(
            f"{path} lists {len(api.meta_archs)} architectures but {space} has {info.n_archs}: "
            "is it the other search space's file?"
        )
    indices = _archived_indices(path, api)[:limit]
    rows = []
    for index in track(indices, description="comparing", console=err_console):
        rows.extend(compare_costs(api, info, [index], FULL_SCHEDULE[bench]))
    bad_arch = sorted({r.index for r in rows if not r.same_arch})
    bad_params = [r for r in rows if r.same_arch and not r.same_params]
    bad_flops = [r for r in rows if r.same_arch and not r.same_flops]
    console.print(
        f"{len(indices)} architectures x 3 datasets of {path} against {space}: "
        f"{len(bad_arch)} with another arch string at their index, "
        f"{len(bad_params)} parameter counts and {len(bad_flops)} FLOP counts that differ"
    )
    if bad_arch or bad_params or bad_flops:
        print_table(
            ["index", "dataset", "benchmark arch", "ours", "benchmark params (M)", "ours (M)",
             "benchmark FLOPs (M)", "ours (M)"],
            [
                [r.index, r.dataset, r.benchmark_arch, r.ours_arch, r.benchmark_params_m,
                 r.ours_params_m, r.benchmark_flops_m, r.ours_flops_m]
                for r in rows
                if not (r.same_arch and r.same_params and r.same_flops)
            ][:20],
            title="mismatches (first 20)",
        )  # fmt: skip
        raise typer.Exit(1)


@app.command("merge")
def merge(
    sources: Annotated[list[str], typer.Argument(help="Stores to read (paths or URLs).")],
    into: Annotated[
        str,
        typer.Option(help="Store to merge into (a new SQLite file is created and seeded)."),
    ],
    rtol: Annotated[
        float,
        typer.Option(help="Relative tolerance when a score is in two stores."),
    ] = DEFAULT_RTOL,
    force: ForceOption = False,
) -> None:
    """Merge stores filled separately (populate --shard I/N): runs matched by identity."""
    from tfnas_db.db.bootstrap import ensure_seeded

    check_finite(rtol, "--rtol")
    if rtol < 0:  # checked before the destination store is created
        raise TfnasError(f"--rtol must not be negative, got {rtol}")
    url = resolve_url(into)
    if str(url) in {str(resolve_url(s)) for s in sources}:
        raise TfnasError("--into names one of the sources; merge into another store")
    stores = [open_store(source) for source in sources]  # each must exist and be current
    engine = make_engine(url)
    file = url.database if url.get_backend_name() == "sqlite" else None
    if (file and not Path(file).exists()) or current_revision(engine) is None:
        upgrade_schema(engine, force=force)
    dest = open_store(into)
    from sqlalchemy import select

    from tfnas_db.db.models import SearchSpace

    spaces: set[str] = set()
    for store in stores:  # every space a source holds (a shard of nats-sss needs nats-sss)
        with store.session() as session:
            spaces.update(session.scalars(select(SearchSpace.name)))
    for space in sorted(spaces or {DEFAULT_SPACE}):
        ensure_seeded(dest, space)
    with ExitStack() as stack, dest.session() as session:
        opened = [(store.url, stack.enter_context(store.session())) for store in stores]
        summary = merge_into(session, opened, rtol)
    dest.refresh_statistics()
    console.print(
        f"merged {len(sources)} stores into {dest.url}: {summary.runs_created} score runs "
        f"created, {summary.runs_matched} matched; {summary.scores_inserted} scores inserted, "
        f"{summary.scores_identical} already there, {summary.errors_replaced} stored errors "
        "replaced by values"
    )


@app.command("verify-release")
def verify_release(
    dataset: Annotated[
        str | None, typer.Option(help="Only this dataset (default: every bundled one).")
    ] = None,
    scorers: ScorersFilterOption = None,
    space: Annotated[
        str | None, typer.Option(help="Only this space (default: every bundled one).")
    ] = None,
    per_file: Annotated[
        int | None,
        typer.Option(
            help="Architectures per bundled file (default: 2 for a scorer that builds a "
            "network, 5 for a count).",
            min=1,
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(help="Seed of the sample (default: a fresh one, printed to repeat it)."),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Re-score a random sample of the bundled release with this code on this CPU, with
    each file's options (data source, batch size, seed, threads), and compare with the
    bundled values; exit 1 if any differs beyond its bound (equal on the machine type
    that scored it; off it, the float drift measured between thread counts)."""
    import secrets

    from rich.progress import track

    from tfnas_db.jobs.release_check import (
        ReleaseRescorer,
        release_files,
        sample_release,
    )

    chosen = release_files(space, dataset, scorers)
    seed = secrets.randbelow(2**31) if seed is None else seed
    picks = sample_release(chosen, seed, per_file)
    err_console.print(
        f"re-scoring {len(picks)} bundled values from {len(chosen)} files "
        f"(sample seed {seed}; repeat with --seed {seed})",
        soft_wrap=True,
    )
    rescorer = ReleaseRescorer()
    checks = [
        rescorer.check(pick) for pick in track(picks, description="re-scoring", console=err_console)
    ]
    header = ["space", "dataset", "scorer", "arch", "bundled", "re-scored", "rel diff", "bound",
              "ok"]  # fmt: skip
    rows = [
        [c.pick.manifest.space, c.pick.manifest.dataset, c.pick.manifest.scorer,
         c.pick.arch_index, c.bundled, c.rescored, c.rel_diff, c.bound, c.ok]
        for c in checks
    ]  # fmt: skip
    if fmt is OutputFormat.json:
        print_json(clean_floats([dict(zip(header, row, strict=True)) for row in rows]))
    elif fmt is OutputFormat.csv:
        print_csv(header, rows)
    else:
        print_table(header, rows, title=f"bundled release, re-scored (sample seed {seed})")
    failed = [c for c in checks if not c.ok]
    if failed:
        err_console.print(
            f"{len(failed)} of {len(checks)} re-scored values differ from the bundled release "
            f"beyond their bound; first: {failed[0].describe()}",
            soft_wrap=True,
        )
        raise typer.Exit(1)
    err_console.print(f"all {len(checks)} re-scored values match the bundled release")
