"""``tfnas-db db ...``: create/upgrade the schema and seed the bundled benchmark data."""

from __future__ import annotations

import typer

from tfnas_db.cli.output import DbOption, console, print_table
from tfnas_db.db.store import (
    check_store_file,
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
def seed(db: DbOption = None) -> None:
    """Load the bundled NATS-Bench TSS table and the bundled score release, where missing."""
    from tfnas_db.db.bootstrap import bootstrap_store

    store = open_store(db, bootstrap=False)
    notes = bootstrap_store(store)
    for note in notes:
        console.print(note)
    if not notes:
        console.print("nats-tss already seeded; the bundled release is already loaded")
