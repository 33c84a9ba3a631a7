"""Wide, one-row-per-architecture tables (pandas) for export, correlate and the dashboard.

Three indexed queries (architectures with size, benchmark results, scores of the chosen
runs) pivoted into columns with pandas-friendly names: ``arch_index``, ``arch_str``,
``naslib_tuple``, ``iso_class``, ``params_m``, ``flops_m``, ``relu_units``, accuracy
columns such as ``val_acc_200ep`` / ``test_acc_12ep``, ``train_seconds_200ep``,
``recorded_params_m``, then per scorer ``<name>`` (NaN unless status ok) and
``<name>_seconds``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import Session, aliased

from tfnas_db.db.integrity import naming_damaged_values
from tfnas_db.db.models import ArchCost, Architecture, BenchmarkResult, Score, ScoreStatus
from tfnas_db.db.queries import AccuracyColumn, RunInfo, list_runs, pick_run
from tfnas_db.db.scores import space_and_dataset_ids
from tfnas_db.db.seed import ACCURACY_METRICS


def frame(session: Session, query: Select[Any], columns: list[str]) -> pd.DataFrame:
    """Run a column query at the Core level and build the frame column-wise: pandas'
    row-by-row construction from SQLAlchemy rows costs seconds on 100k-row results."""
    rows = session.connection().execute(query).fetchall()
    values = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
    return pd.DataFrame(dict(zip(columns, values, strict=True)), columns=columns)


def benchmark_column_name(metric: str, epochs: int) -> str:
    if metric in ACCURACY_METRICS:
        return AccuracyColumn(metric, epochs).key
    if metric == "train_seconds":
        return f"train_seconds_{epochs}ep"
    return metric


def chosen_runs(
    session: Session, space: str, dataset: str, scorers: list[str] | None = None
) -> dict[str, RunInfo]:
    """The run each query reads per scorer (the fullest one), for the requested scorers."""
    names = scorers or sorted({run.scorer for run in list_runs(session, space, dataset)})
    return {name: pick_run(session, space, dataset, name) for name in names}


def wide_table(
    session: Session,
    space: str,
    dataset: str,
    scorers: list[str] | None = None,
    *,
    only_scored: bool = True,
) -> tuple[pd.DataFrame, dict[str, RunInfo]]:
    """One row per architecture with size, every benchmark column and the chosen scores."""
    space_id, dataset_id = space_and_dataset_ids(session, space, dataset)
    runs = chosen_runs(session, space, dataset, scorers)
    pairs = session.execute(
        select(BenchmarkResult.metric, BenchmarkResult.epochs)
        .where(BenchmarkResult.dataset_id == dataset_id)
        .distinct()
    ).all()
    benchmark_columns = sorted(
        ((benchmark_column_name(m, e), m, e) for m, e in pairs),
        key=lambda c: ("_acc_" not in c[0], c[0]),
    )
    # The benchmark table is long (one row per architecture and metric): pivot it in SQL so
    # Python sees one row per architecture.
    pivot = (
        select(
            BenchmarkResult.architecture_id.label("architecture_id"),
            *[
                func.max(
                    case(
                        (
                            and_(BenchmarkResult.metric == m, BenchmarkResult.epochs == e),
                            BenchmarkResult.value,
                        )
                    )
                ).label(name)
                for name, m, e in benchmark_columns
            ],
        )
        .where(BenchmarkResult.dataset_id == dataset_id)
        .group_by(BenchmarkResult.architecture_id)
        .subquery()
    )
    score_aliases = {name: aliased(Score) for name in runs}
    query = (
        select(
            Architecture.arch_index,
            Architecture.arch_str,
            Architecture.naslib_key,
            Architecture.iso_class,
            ArchCost.params_m,
            ArchCost.flops_m,
            ArchCost.relu_units,
            *[pivot.c[name] for name, _, _ in benchmark_columns],
            *[
                column
                for alias in score_aliases.values()
                for column in (
                    case((alias.status == ScoreStatus.OK, alias.value)),
                    alias.seconds,
                    alias.id.is_not(None),
                )
            ],
        )
        .join(
            ArchCost,
            and_(ArchCost.architecture_id == Architecture.id, ArchCost.dataset_id == dataset_id),
        )
        .outerjoin(pivot, pivot.c.architecture_id == Architecture.id)
        .where(Architecture.space_id == space_id)
        .order_by(Architecture.arch_index)
    )
    for name, alias in score_aliases.items():
        query = query.outerjoin(
            alias, and_(alias.architecture_id == Architecture.id, alias.run_id == runs[name].id)
        )
    columns = [
        "arch_index",
        "arch_str",
        "naslib_tuple",
        "iso_class",
        "params_m",
        "flops_m",
        "relu_units",
        *[name for name, _, _ in benchmark_columns],
        *[c for name in runs for c in (name, f"{name}_seconds", f"{name}_stored")],
    ]
    table = frame(session, query, columns)
    stored = [f"{name}_stored" for name in runs]
    numeric = [
        "params_m",
        "flops_m",
        *[c for c, _, _ in benchmark_columns],
        *runs,
        *[f"{n}_seconds" for n in runs],
    ]
    with naming_damaged_values(session):
        for name in numeric:
            table[name] = table[name].astype(float)
    if only_scored and runs:
        table = table[table[stored].astype(bool).any(axis=1)]
    return table.drop(columns=stored).reset_index(drop=True), runs
