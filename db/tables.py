"""Wide, one-row-per-architecture tables (pandas) for export, correlate and the dashboard.

Three indexed queries (architectures with size, benchmark results, scores of the chosen
runs) pivoted into columns with pandas-friendly names: ``arch_index``, ``arch_str``, the
space's other spelling where it has one (its ``alt_key_name``), ``iso_class``,
``params_m``, ``flops_m``, ``relu_units``, accuracy columns such as ``val_acc_200ep`` /
``test_acc_12ep``, ``train_seconds_200ep``, ``recorded_params_m_200ep``, then per run
label ``<name>`` (NaN unless status ok) and ``<name>_seconds``; an imported run's label
is ``<scorer>@<tag>`` (``naswot@naslib``).
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
from tfnas_db.scoring.spaces import get_space

ALT_KEY = "alt_key"


def frame(session: Session, query: Select[Any], columns: list[str]) -> pd.DataFrame:
    """Run a column query at the Core level and build the frame column-wise: pandas'
    row-by-row construction from SQLAlchemy rows costs seconds on 100k-row results."""
    rows = session.connection().execute(query).fetchall()
    values = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
    return pd.DataFrame(dict(zip(columns, values, strict=True)), columns=columns)


def benchmark_column_name(metric: str, epochs: int) -> str:
    """Accuracies read ``<split>_acc_<epochs>ep``; every other figure ``<metric>_<epochs>ep``
    (``train_seconds_200ep``, ``val_loss_12ep``, ``recorded_params_m_200ep``): the training
    budget is in every name, so two schedules never share a column."""
    if metric in ACCURACY_METRICS:
        return AccuracyColumn(metric, epochs).key
    return f"{metric}_{epochs}ep"


def chosen_runs(
    session: Session, space: str, dataset: str, scorers: list[str] | None = None
) -> dict[str, RunInfo]:
    """The run each query reads per run label (the fullest one), for the requested labels;
    by default every label with a finite score: ``naswot`` and, once imported,
    ``naswot@naslib`` (a run whose every score is NaN has nothing to show)."""
    held = list_runs(session, space, dataset)
    names = scorers or sorted({run.label for run in held if run.n_ok > 0})
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
    # Only this space's columns: another space's accuracies are not this one's (all NaN).
    in_space = select(Architecture.id).where(Architecture.space_id == space_id)
    pairs = session.execute(
        select(BenchmarkResult.metric, BenchmarkResult.epochs)
        .where(
            BenchmarkResult.dataset_id == dataset_id,
            BenchmarkResult.architecture_id.in_(in_space),
        )
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
        .where(
            BenchmarkResult.dataset_id == dataset_id,
            BenchmarkResult.architecture_id.in_(in_space),
        )
        .group_by(BenchmarkResult.architecture_id)
        .subquery()
    )
    score_aliases = {name: aliased(Score) for name in runs}
    query = (
        select(
            Architecture.arch_index,
            Architecture.arch_str,
            Architecture.alt_key,
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
        ALT_KEY,
        "iso_class",
        "params_m",
        "flops_m",
        "relu_units",
        *[name for name, _, _ in benchmark_columns],
        *[c for name in runs for c in (name, f"{name}_seconds", f"{name}_stored")],
    ]
    table = frame(session, query, columns)
    alt_key_name = get_space(space).alt_key_name
    if alt_key_name is None:
        table = table.drop(columns=[ALT_KEY])
    else:
        table = table.rename(columns={ALT_KEY: alt_key_name})
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
