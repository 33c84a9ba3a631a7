"""``tfnas-db db ...``: create/upgrade the schema and seed the bundled benchmark data."""

from __future__ import annotations

import typer

from tfnas_db.cli.output import DbOption, console
from tfnas_db.db.store import (
    current_revision,
    head_revision,
    make_engine,
    open_store,
    resolve_url,
    show_url,
    upgrade_schema,
)

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
    """Show the store's schema revision and the one this tfnas-db needs."""
    engine = make_engine(resolve_url(db))
    current, head = current_revision(engine), head_revision(engine)
    state = "up to date" if current == head else "needs: tfnas-db db upgrade"
    console.print(f"{show_url(engine.url)}: revision {current or '(none)'}, head {head} ({state})")


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
