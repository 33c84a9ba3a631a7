"""Writing what ``tfnas-db import`` reads from other tools' files, and reading it back out.

Imports are upserts keyed by the tables' unique constraints, so importing the same file
twice leaves the store as one import did, and a newer file replaces the older figures
instead of failing on a duplicate. Callers run them inside one session, so a file that
turns out to be corrupted half-way leaves nothing behind.
"""

from __future__ import annotations

import platform
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from tfnas_db.db.bulk import conflict_insert
from tfnas_db.db.models import Architecture, BenchmarkResult, Score, ScoreRun, ScoreStatus
from tfnas_db.db.scores import now
from tfnas_db.version import __version__

# Imported runs have no batch, seed or device of ours: these fill the run's identity columns.
IMPORTED_VERSION = 0
IMPORTED_BATCH = 0
IMPORTED_SEED = 0
IMPORTED_DEVICE = "unknown"


def _upsert(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], keys: list[str]
) -> None:
    if not rows:
        return
    stmt = conflict_insert(session, table)
    updated = {name: stmt.excluded[name] for name in rows[0] if name not in keys}
    session.execute(stmt.on_conflict_do_update(index_elements=keys, set_=updated), list(rows))


def upsert_benchmark_results(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or replace figures keyed by (architecture, dataset, metric, epochs)."""
    _upsert(
        session,
        BenchmarkResult.__table__,  # type: ignore[arg-type]
        rows,
        ["architecture_id", "dataset_id", "metric", "epochs"],
    )


def upsert_scores(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or replace scores keyed by (run, architecture)."""
    _upsert(session, Score.__table__, rows, ["run_id", "architecture_id"])  # type: ignore[arg-type]


def architecture_ids(session: Session, space_id: int) -> dict[str, int]:
    """arch_str -> architecture id: external files are joined by arch string, never by
    position."""
    rows = session.execute(
        select(Architecture.arch_str, Architecture.id).where(Architecture.space_id == space_id)
    )
    return {arch: arch_id for arch, arch_id in rows}


def imported_run(
    session: Session,
    *,
    space_id: int,
    dataset_id: int,
    scorer: str,
    data_source: str,
    provenance: dict[str, Any],
) -> ScoreRun:
    """The run an imported file's proxy fills, created on first import; a re-import
    refreshes its provenance (the file it last came from) and finish time."""
    key = {
        "space_id": space_id,
        "dataset_id": dataset_id,
        "scorer": scorer,
        "scorer_version": IMPORTED_VERSION,
        "data_source": data_source,
        "batch_size": IMPORTED_BATCH,
        "seed": IMPORTED_SEED,
    }
    run = session.scalar(select(ScoreRun).filter_by(**key))
    stamp = now()
    if run is None:
        run = ScoreRun(
            **key,
            data_dir=None,
            device=IMPORTED_DEVICE,
            torch_version=None,
            package_version=__version__,
            host=platform.node() or None,
            started_at=stamp,
            finished_at=stamp,
            origin="imported",
            provenance=provenance,
        )
        session.add(run)
        session.flush()
        return run
    session.execute(
        update(ScoreRun)
        .where(ScoreRun.id == run.id)
        .values(provenance=provenance, finished_at=stamp, origin="imported")
    )
    return run


@dataclass(frozen=True)
class StoredScore:
    """One stored score of an export: which run and architecture, and what was stored."""

    run_id: int
    arch_index: int
    alt_key: str | None
    value: float | None
    seconds: float
    status: ScoreStatus


def stored_scores(session: Session, run_ids: Sequence[int]) -> list[StoredScore]:
    """Every score of the given runs, by architecture index (for exports)."""
    if not run_ids:
        return []
    rows = session.execute(
        select(
            Score.run_id,
            Architecture.arch_index,
            Architecture.alt_key,
            Score.value,
            Score.seconds,
            Score.status,
        )
        .join(Architecture, Architecture.id == Score.architecture_id)
        .where(Score.run_id.in_(list(run_ids)))
        .order_by(Architecture.arch_index, Score.run_id)
    )
    return [StoredScore(*row) for row in rows]


def benchmark_values(
    session: Session, space_id: int, dataset_id: int, metric: str, epochs: int
) -> dict[int, float]:
    """arch_index -> value of one benchmark column."""
    rows = session.execute(
        select(Architecture.arch_index, BenchmarkResult.value)
        .join(Architecture, Architecture.id == BenchmarkResult.architecture_id)
        .where(
            Architecture.space_id == space_id,
            BenchmarkResult.dataset_id == dataset_id,
            BenchmarkResult.metric == metric,
            BenchmarkResult.epochs == epochs,
        )
    )
    return {index: value for index, value in rows}
