"""Wide, one-row-per-architecture tables (pandas) for export, correlate and the dashboard.

Three indexed queries (architectures with size, benchmark results, scores of the chosen
runs) pivoted into columns with pandas-friendly names: ``arch_index``, ``arch_str``,
``naslib_tuple``, ``iso_class``, ``params_m``, ``flops_m``, ``relu_units``, accuracy
columns such as ``val_acc_200ep`` / ``test_acc_12ep``, ``train_seconds_200ep``,
``recorded_params_m``, then per scorer ``<name>`` (NaN unless status ok) and
``<name>_seconds``.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from tfnas_db.db.models import ArchCost, Architecture, BenchmarkResult, Score, ScoreStatus
from tfnas_db.db.queries import AccuracyColumn, RunInfo, list_runs, pick_run
from tfnas_db.db.scores import space_and_dataset_ids
from tfnas_db.db.seed import ACCURACY_METRICS


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
    archs = pd.DataFrame(
        session.execute(
            select(
                Architecture.id,
                Architecture.arch_index,
                Architecture.arch_str,
                Architecture.naslib_key,
                Architecture.iso_class,
                ArchCost.params_m,
                ArchCost.flops_m,
                ArchCost.relu_units,
            )
            .join(
                ArchCost,
                and_(
                    ArchCost.architecture_id == Architecture.id,
                    ArchCost.dataset_id == dataset_id,
                ),
            )
            .where(Architecture.space_id == space_id)
            .order_by(Architecture.arch_index)
        ).all(),
        columns=[
            "id",
            "arch_index",
            "arch_str",
            "naslib_tuple",
            "iso_class",
            "params_m",
            "flops_m",
            "relu_units",
        ],
    ).set_index("id")
    results = pd.DataFrame(
        session.execute(
            select(
                BenchmarkResult.architecture_id,
                BenchmarkResult.metric,
                BenchmarkResult.epochs,
                BenchmarkResult.value,
            )
            .join(Architecture, Architecture.id == BenchmarkResult.architecture_id)
            .where(Architecture.space_id == space_id, BenchmarkResult.dataset_id == dataset_id)
        ).all(),
        columns=["id", "metric", "epochs", "value"],
    )
    if len(results):
        results["column"] = [
            benchmark_column_name(m, e) for m, e in zip(results.metric, results.epochs, strict=True)
        ]
        pivot = results.pivot(index="id", columns="column", values="value")
        accuracy_first = sorted(pivot.columns, key=lambda c: ("_acc_" not in c, c))
        archs = archs.join(pivot[accuracy_first])
    scored = pd.Series(False, index=archs.index)
    for name, run in runs.items():
        rows = pd.DataFrame(
            session.execute(
                select(Score.architecture_id, Score.value, Score.seconds, Score.status).where(
                    Score.run_id == run.id
                )
            ).all(),
            columns=["id", "value", "seconds", "status"],
        ).set_index("id")
        ok = rows["status"] == ScoreStatus.OK
        archs[name] = rows["value"].where(ok).astype(float)
        archs[f"{name}_seconds"] = rows["seconds"].astype(float)
        scored |= archs.index.isin(rows.index)
    if only_scored and runs:
        archs = archs[scored]
    return archs.reset_index(drop=True), runs
