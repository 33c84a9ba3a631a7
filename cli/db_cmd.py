"""``tfnas-db db ...``: create/upgrade the schema and seed the bundled benchmark data."""

from __future__ import annotations

import typer

from tfnas_db.cli.output import DbOption, SpaceOption, console, print_table
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
    if current != head:
        return
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
def seed(space: SpaceOption = "nats-tss", db: DbOption = None) -> None:
    """Load a space's architectures and sizes (nats-tss: with the bundled NATS-Bench TSS
    accuracies) if not yet loaded."""
    from tfnas_db.scoring.populate import ensure_seeded
    from tfnas_db.scoring.spaces import get_space

    info = get_space(space)
    store = open_store(db)
    added = ensure_seeded(store, info.name)
    extra = "and benchmark accuracies" if info.bundled_results else "(no bundled accuracies)"
    console.print(
        f"seeded {info.name}: {info.n_archs} architectures, sizes {extra}"
        if added
        else f"{info.name} already seeded"
    )
