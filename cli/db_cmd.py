"""``tfnas-db db ...``: create/upgrade the schema and seed the bundled benchmark data."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer

from tfnas_db.cli.output import DbOption, console, print_table
from tfnas_db.db.merge import DEFAULT_RTOL, merge_into
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
from tfnas_db.errors import TfnasError

app = typer.Typer(help="Create, upgrade and seed the store.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(db: DbOption = None) -> None:
    """Create the schema or apply pending migrations (alembic, shipped in the package)."""
    engine = make_engine(resolve_url(db))
    before, after = upgrade_schema(engine)
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
        ["run", "scorer", "dataset", "data", "ok", "nan", "error", "coverage"],
        [
            [
                c.run.id,
                c.run.scorer,
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
def seed(db: DbOption = None) -> None:
    """Load the bundled NATS-Bench TSS table (identity, size, accuracies) if not yet loaded."""
    from tfnas_db.scoring.populate import ensure_seeded

    store = open_store(db)
    added = ensure_seeded(store, "nats-tss")
    console.print(
        "seeded nats-tss: 15625 architectures, sizes and benchmark accuracies"
        if added
        else "nats-tss already seeded"
    )


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
) -> None:
    """Merge stores filled separately (populate --shard I/N): runs matched by identity."""
    from tfnas_db.scoring.populate import ensure_seeded

    url = resolve_url(into)
    if str(url) in {str(resolve_url(s)) for s in sources}:
        raise TfnasError("--into names one of the sources; merge into another store")
    stores = [open_store(source) for source in sources]  # each must exist and be current
    engine = make_engine(url)
    file = url.database if url.get_backend_name() == "sqlite" else None
    if (file and not Path(file).exists()) or current_revision(engine) is None:
        upgrade_schema(engine)
    dest = open_store(into)
    ensure_seeded(dest, "nats-tss")
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
