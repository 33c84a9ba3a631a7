"""Scores of one scorer under several seeds: the runs that differ only in their seed.

A run's configuration is (space, dataset, scorer, version, data source, batch size, seed);
runs equal in all but the seed are repeated measurements of the same score, which is what
``tfnas-db variance`` summarises and what the dashboard's Explorer shows as a spread.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from tfnas_db.db.models import Architecture, Score, ScoreStatus
from tfnas_db.db.queries import RunInfo, list_runs


@dataclass(frozen=True)
class SeedValue:
    seed: int
    data_source: str
    batch_size: int
    value: float


def scores_by_run(
    session: Session, run_ids: Iterable[int], arch_indices: Iterable[int] | None = None
) -> pd.DataFrame:
    """arch_index x run_id table of finite scores (NaN where a run has none)."""
    ids = list(run_ids)
    query = (
        select(Architecture.arch_index, Score.run_id, Score.value)
        .join(Architecture, Architecture.id == Score.architecture_id)
        .where(Score.run_id.in_(ids), Score.status == ScoreStatus.OK)
    )
    if arch_indices is not None:
        query = query.where(Architecture.arch_index.in_(list(arch_indices)))
    rows = session.execute(query).all()
    long = pd.DataFrame(rows, columns=["arch_index", "run_id", "value"])
    wide = long.pivot(index="arch_index", columns="run_id", values="value")
    return wide.reindex(columns=ids)


def seed_values(
    session: Session, space: str, dataset: str, scorer: str, arch_index: int
) -> list[SeedValue]:
    """Every stored value of ``scorer`` for one architecture, one per run (hence per seed,
    data source and batch size), so a viewer can show how far reseeding moves it."""
    runs: dict[int, RunInfo] = {r.id: r for r in list_runs(session, space, dataset, scorer)}
    if not runs:
        return []
    table = scores_by_run(session, runs, [arch_index])
    if arch_index not in table.index:
        return []
    row = table.loc[arch_index]
    return [
        SeedValue(runs[run_id].seed, runs[run_id].data_source, runs[run_id].batch_size, value)
        for run_id, value in row.dropna().items()
    ]
