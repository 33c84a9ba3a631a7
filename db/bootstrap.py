"""Making a store ready to query: the bundled benchmark table and the bundled scores.

Every entry point reaches this through :func:`bootstrap_store`: ``db seed``, ``populate``
and the first use of any command on an empty store, so a new user's first ``search``
answers over the whole space without a scoring job.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tfnas_db.db.models import Architecture
from tfnas_db.db.release import describe_load, ensure_release_loaded
from tfnas_db.db.store import Store
from tfnas_db.scoring.spaces import DEFAULT_SPACE, get_space


def is_empty(store: Store) -> bool:
    """No architecture at all: nothing was seeded (a migrated but fresh store)."""
    with store.session() as session:
        return session.scalar(select(Architecture.id).limit(1)) is None


def seed_benchmark(store: Store, space: str = DEFAULT_SPACE) -> bool:
    """A space's architectures and sizes, with the benchmark figures the package bundles
    for it (the NATS-Bench TSS table); False if it was already there.

    Two processes may bootstrap one PostgreSQL store at the same instant: the loser of
    the insert race finds the table seeded by the winner, which is what it wanted.
    """
    from tfnas_db.db.seed import seed_space

    try:
        with store.session() as session:
            added = seed_space(session, get_space(space))
    except IntegrityError:
        return False
    if added:
        store.refresh_statistics()
    return added


def bootstrap_store(store: Store, space: str = DEFAULT_SPACE) -> list[str]:
    """Seed a space (by default the benchmark table of nats-tss) and load what the bundled
    release adds for the seeded spaces; lines to show."""
    notes = []
    if seed_benchmark(store, space):
        info = get_space(space)
        extra = (
            "and benchmark accuracies"
            if info.benchmark.bundled_results
            else "(no bundled accuracies)"
        )
        notes.append(f"seeded {info.name}: {info.n_archs} architectures, sizes {extra}")
    try:
        loaded = ensure_release_loaded(store)
    except IntegrityError:  # another process loaded the same runs first
        return notes
    notes.extend(describe_load(loaded))
    return notes


def ensure_seeded(store: Store, space: str) -> bool:
    """The space's architectures and sizes (nats-tss: with the benchmark table and the
    bundled scores), loaded if the store lacks them; the lines said go to ``store.notes``."""
    info = get_space(space)
    notes = bootstrap_store(store, info.name)
    store.notes.extend(notes)
    return bool(notes)
