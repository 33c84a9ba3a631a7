"""Writing scores: score runs (provenance) and idempotent score inserts."""

from __future__ import annotations

import platform
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import MetaData, Table, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tfnas_db.db.bulk import bulk_insert, conflict_insert
from tfnas_db.db.models import (
    Architecture,
    Dataset,
    Score,
    ScoreRun,
    ScoreStatus,
    SearchSpace,
)
from tfnas_db.errors import TfnasError
from tfnas_db.scoring.spaces import SPACES
from tfnas_db.version import __version__


def now() -> datetime:
    return datetime.now(UTC)


def space_and_dataset_ids(session: Session, space: str, dataset: str) -> tuple[int, int]:
    if space in SPACES:
        SPACES[space].check_dataset(dataset)
    space_id = session.scalar(select(SearchSpace.id).where(SearchSpace.name == space))
    dataset_id = session.scalar(select(Dataset.id).where(Dataset.name == dataset))
    if space_id is None or dataset_id is None:
        raise TfnasError(
            f"the store holds no {space} architectures yet; run: tfnas-db db seed --space "
            f"{space} (or tfnas-db populate --space {space}, which seeds on first use)"
        )
    return space_id, dataset_id


def get_or_create_run(
    session: Session,
    *,
    space_id: int,
    dataset_id: int,
    scorer: str,
    scorer_version: int,
    data_source: str,
    data_dir: str | None,
    batch_size: int,
    seed: int,
    device: str,
    torch_version: str | None,
    provenance: dict[str, Any] | None = None,
) -> ScoreRun:
    """The run with this configuration, created if new (safe against a concurrent worker).

    ``provenance`` (e.g. what the natural minibatch was cut from) is written on creation.
    """
    key = {
        "space_id": space_id,
        "dataset_id": dataset_id,
        "scorer": scorer,
        "scorer_version": scorer_version,
        "data_source": data_source,
        "batch_size": batch_size,
        "seed": seed,
    }

    def find() -> ScoreRun | None:
        query = select(ScoreRun).filter_by(**key)
        return session.scalar(query)

    run = find()
    if run is not None:
        return run
    run = ScoreRun(
        **key,
        data_dir=data_dir,
        device=device,
        torch_version=torch_version,
        package_version=__version__,
        host=platform.node() or None,
        started_at=now(),
        provenance=provenance,
    )
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:  # another worker created it between our select and insert
        existing = find()
        assert existing is not None
        return existing
    return run


def stored_arch_ids(session: Session, run_id: int) -> set[int]:
    return set(session.scalars(select(Score.architecture_id).where(Score.run_id == run_id)))


def stored_arch_states(
    session: Session, run_id: int, among: Sequence[int] | None = None
) -> tuple[frozenset[int], frozenset[int]]:
    """(architectures with a final ok/nan row, architectures with an error row) of a run
    (``among``: only these architectures, e.g. the chunk a worker just claimed)."""
    final: set[int] = set()
    errors: set[int] = set()
    query = select(Score.architecture_id, Score.status).where(Score.run_id == run_id)
    if among is not None:
        query = query.where(Score.architecture_id.in_(list(among)))
    rows = session.execute(query)
    for arch_id, status in rows:
        (errors if status == ScoreStatus.ERROR else final).add(arch_id)
    return frozenset(final), frozenset(errors)


# What a later outcome replaces in a stored error row (the row keeps its id).
_REPLACED_COLUMNS = ("value", "seconds", "status", "error", "host", "device")


def insert_scores(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert score rows; a (run, architecture) already stored keeps its row unless that
    row is an ``error``, which the new outcome replaces (a retry), host and device
    included so the row says what scored it. One statement per batch, so concurrent
    workers never duplicate a pair and never overwrite an ok or nan result."""
    if not rows:
        return
    insert = conflict_insert(session, Score)
    stmt = insert.on_conflict_do_update(
        index_elements=["run_id", "architecture_id"],
        set_={name: insert.excluded[name] for name in _REPLACED_COLUMNS},
        where=Score.status == ScoreStatus.ERROR,
    )
    session.execute(stmt, list(rows))


SCORE_COLUMNS = (
    "run_id", "architecture_id", "value", "seconds", "status", "error", "host", "device"
)  # fmt: skip


def bulk_insert_scores(session: Session, rows: Sequence[tuple[Any, ...]]) -> None:
    """:func:`insert_scores` for many rows given as tuples in :data:`SCORE_COLUMNS` order,
    with the same conflict rule, at driver speed: one executemany on SQLite, COPY into a
    temporary table then one INSERT ... SELECT on PostgreSQL (a million rows in seconds)."""
    if not rows:
        return
    connection = session.connection()
    names = ", ".join(SCORE_COLUMNS)
    replace = ", ".join(f"{c} = excluded.{c}" for c in _REPLACED_COLUMNS)
    conflict = (
        f"ON CONFLICT (run_id, architecture_id) DO UPDATE SET {replace} "
        f"WHERE score.status = '{ScoreStatus.ERROR.value}'"
    )
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("DROP TABLE IF EXISTS score_incoming")
        connection.exec_driver_sql(
            f"CREATE TEMPORARY TABLE score_incoming AS SELECT {names} FROM score WITH NO DATA"
        )
        bulk_insert(session, Table("score_incoming", MetaData()), SCORE_COLUMNS, rows)
        connection.exec_driver_sql(
            f"INSERT INTO score ({names}) SELECT {names} FROM score_incoming {conflict}"
        )
        connection.exec_driver_sql("DROP TABLE score_incoming")
        return
    marks = ", ".join("?" for _ in SCORE_COLUMNS)
    connection.exec_driver_sql(
        f"INSERT INTO score ({names}) VALUES ({marks}) {conflict}", list(rows)
    )


def mark_finished(session: Session, run_ids: Iterable[int], *, scored_any: bool = True) -> None:
    """Stamp the runs' completion. A populate that scored nothing (every architecture
    already stored) only stamps runs never finished before: a bundled or earlier run keeps
    the time its scores were actually computed."""
    ids = list(run_ids)
    if not ids:
        return
    stmt = update(ScoreRun).where(ScoreRun.id.in_(ids))
    if not scored_any:
        stmt = stmt.where(ScoreRun.finished_at.is_(None))
    session.execute(stmt.values(finished_at=now()))


def architectures_of(session: Session, space_id: int) -> list[tuple[int, int, str]]:
    """(id, index, arch_str) of every architecture of a space, in index order."""
    rows = session.execute(
        select(Architecture.id, Architecture.arch_index, Architecture.arch_str)
        .where(Architecture.space_id == space_id)
        .order_by(Architecture.arch_index)
    )
    return [(row[0], row[1], row[2]) for row in rows]
