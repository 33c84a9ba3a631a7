"""Every read query the CLI and the dashboard share (datasette-style: one data layer).

Functions take an open :class:`~sqlalchemy.orm.Session` and return plain dataclasses or
numpy arrays; none of them imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from tfnas_db.db.models import (
    ArchCost,
    Architecture,
    BenchmarkResult,
    Dataset,
    Score,
    ScoreRun,
    ScoreStatus,
    SearchSpace,
)
from tfnas_db.db.scores import space_and_dataset_ids
from tfnas_db.db.seed import ACCURACY_METRICS
from tfnas_db.errors import TfnasError

METRIC_LABELS = {"val": "validation", "test": "test", "valtest": "validation+test (ori-test)"}


@dataclass(frozen=True, order=True)
class AccuracyColumn:
    """An accuracy column of one dataset: split and training schedule."""

    metric: str
    epochs: int

    @property
    def key(self) -> str:
        return f"{self.metric}_acc_{self.epochs}ep"

    @property
    def label(self) -> str:
        return f"{METRIC_LABELS.get(self.metric, self.metric)} accuracy after {self.epochs} epochs"

    @property
    def option(self) -> str:
        return f"--metric {self.metric} --epochs {self.epochs}"


def accuracy_columns(session: Session, space: str, dataset: str) -> list[AccuracyColumn]:
    space_id, dataset_id = space_and_dataset_ids(session, space, dataset)
    rows = session.execute(
        select(BenchmarkResult.metric, BenchmarkResult.epochs)
        .join(Architecture, Architecture.id == BenchmarkResult.architecture_id)
        .where(
            Architecture.space_id == space_id,
            BenchmarkResult.dataset_id == dataset_id,
            BenchmarkResult.metric.in_(ACCURACY_METRICS),
        )
        .distinct()
    )
    return sorted(AccuracyColumn(metric, epochs) for metric, epochs in rows)


def resolve_accuracy_column(
    session: Session, space: str, dataset: str, metric: str | None, epochs: int | None
) -> AccuracyColumn:
    """The column ``--metric/--epochs`` name; by default the 200-epoch column held.

    A combination the store does not hold is an error that lists the held columns.
    """
    held = accuracy_columns(session, space, dataset)
    if not held:
        raise TfnasError(f"the store holds no accuracies for {dataset}; run: tfnas-db db seed")
    wanted_epochs = 200 if epochs is None else epochs
    candidates = [
        c for c in held if c.epochs == wanted_epochs and (metric is None or c.metric == metric)
    ]
    if metric is None and candidates:
        order = {"val": 0, "valtest": 1, "test": 2}
        return min(candidates, key=lambda c: order.get(c.metric, 9))
    if len(candidates) == 1:
        return candidates[0]
    listing = "; ".join(f"{c.option} ({c.label})" for c in held)
    asked = f"--metric {metric or 'any'} --epochs {wanted_epochs}"
    raise TfnasError(f"{dataset} has no accuracy column for {asked}; it holds: {listing}")


@dataclass(frozen=True)
class RunInfo:
    id: int
    scorer: str
    dataset: str
    space: str
    data_source: str
    batch_size: int
    seed: int
    device: str
    started_at: datetime
    finished_at: datetime | None
    n_ok: int
    n_nan: int
    n_error: int

    @property
    def n_scores(self) -> int:
        return self.n_ok + self.n_nan + self.n_error


def list_runs(
    session: Session,
    space: str | None = None,
    dataset: str | None = None,
    scorer: str | None = None,
) -> list[RunInfo]:
    """Score runs with their per-status counts (one grouped query)."""
    counts = (
        select(
            Score.run_id,
            func.sum(case((Score.status == ScoreStatus.OK, 1), else_=0)).label("n_ok"),
            func.sum(case((Score.status == ScoreStatus.NAN, 1), else_=0)).label("n_nan"),
            func.sum(case((Score.status == ScoreStatus.ERROR, 1), else_=0)).label("n_error"),
        )
        .group_by(Score.run_id)
        .subquery()
    )
    query = (
        select(
            ScoreRun,
            SearchSpace.name,
            Dataset.name,
            counts.c.n_ok,
            counts.c.n_nan,
            counts.c.n_error,
        )
        .join(SearchSpace, SearchSpace.id == ScoreRun.space_id)
        .join(Dataset, Dataset.id == ScoreRun.dataset_id)
        .outerjoin(counts, counts.c.run_id == ScoreRun.id)
        .order_by(ScoreRun.id)
    )
    if space:
        query = query.where(SearchSpace.name == space)
    if dataset:
        query = query.where(Dataset.name == dataset)
    if scorer:
        query = query.where(ScoreRun.scorer == scorer)
    out = []
    for run, space_name, dataset_name, n_ok, n_nan, n_error in session.execute(query):
        out.append(
            RunInfo(
                id=run.id,
                scorer=run.scorer,
                dataset=dataset_name,
                space=space_name,
                data_source=run.data_source,
                batch_size=run.batch_size,
                seed=run.seed,
                device=run.device,
                started_at=run.started_at,
                finished_at=run.finished_at,
                n_ok=int(n_ok or 0),
                n_nan=int(n_nan or 0),
                n_error=int(n_error or 0),
            )
        )
    return out


def pick_run(
    session: Session, space: str, dataset: str, scorer: str, run_id: int | None = None
) -> RunInfo:
    """The run a query reads: ``run_id`` if given, else the one with most finite scores."""
    runs = list_runs(session, space, dataset, scorer)
    if run_id is not None:
        for run in runs:
            if run.id == run_id:
                return run
        raise TfnasError(f"no score run {run_id} for {scorer} on {dataset} ({space})")
    usable = [run for run in runs if run.n_ok > 0]
    if not usable:
        raise TfnasError(
            f"no stored {scorer} scores on {dataset} ({space}); run: tfnas-db populate "
            f"--scorers {scorer} --dataset {dataset}"
        )
    return max(usable, key=lambda run: (run.n_ok, run.id))


@dataclass(frozen=True)
class ScoreTable:
    """One scorer's finite scores on one dataset, with size and one accuracy column.

    Arrays are aligned row by row and sorted by architecture index; ``accuracy`` is NaN
    where the benchmark has no figure.
    """

    run: RunInfo
    column: AccuracyColumn
    arch_index: np.ndarray
    arch_str: np.ndarray
    score: np.ndarray
    seconds: np.ndarray
    params_m: np.ndarray
    flops_m: np.ndarray
    accuracy: np.ndarray

    def __len__(self) -> int:
        return len(self.arch_index)


def load_score_table(
    session: Session,
    space: str,
    dataset: str,
    scorer: str,
    column: AccuracyColumn,
    run_id: int | None = None,
) -> ScoreTable:
    """All finite scores of one run with size and accuracy: one indexed query."""
    run = pick_run(session, space, dataset, scorer, run_id)
    _, dataset_id = space_and_dataset_ids(session, space, dataset)
    query = (
        select(
            Architecture.arch_index,
            Architecture.arch_str,
            Score.value,
            Score.seconds,
            ArchCost.params_m,
            ArchCost.flops_m,
            BenchmarkResult.value,
        )
        .join(Architecture, Architecture.id == Score.architecture_id)
        .join(
            ArchCost,
            and_(ArchCost.architecture_id == Architecture.id, ArchCost.dataset_id == dataset_id),
        )
        .outerjoin(
            BenchmarkResult,
            and_(
                BenchmarkResult.architecture_id == Architecture.id,
                BenchmarkResult.dataset_id == dataset_id,
                BenchmarkResult.metric == column.metric,
                BenchmarkResult.epochs == column.epochs,
            ),
        )
        .where(Score.run_id == run.id, Score.status == ScoreStatus.OK)
        .order_by(Architecture.arch_index)
    )
    rows = session.execute(query).all()
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in range(7)]
    return ScoreTable(
        run=run,
        column=column,
        arch_index=np.asarray(columns[0], dtype=np.int64),
        arch_str=np.asarray(columns[1], dtype=object),
        score=np.asarray(columns[2], dtype=np.float64),
        seconds=np.asarray(columns[3], dtype=np.float64),
        params_m=np.asarray(columns[4], dtype=np.float64),
        flops_m=np.asarray(columns[5], dtype=np.float64),
        accuracy=np.asarray([np.nan if v is None else v for v in columns[6]], dtype=np.float64),
    )


def best_accuracy(session: Session, space: str, dataset: str, column: AccuracyColumn) -> float:
    """The best value of an accuracy column over the whole space (for regret)."""
    space_id, dataset_id = space_and_dataset_ids(session, space, dataset)
    value = session.scalar(
        select(func.max(BenchmarkResult.value))
        .join(Architecture, Architecture.id == BenchmarkResult.architecture_id)
        .where(
            Architecture.space_id == space_id,
            BenchmarkResult.dataset_id == dataset_id,
            BenchmarkResult.metric == column.metric,
            BenchmarkResult.epochs == column.epochs,
        )
    )
    return float("nan") if value is None else float(value)
