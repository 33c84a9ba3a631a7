"""Every read query the CLI and the dashboard share (datasette-style: one data layer).

Functions take an open :class:`~sqlalchemy.orm.Session` and return plain dataclasses or
numpy arrays; none of them imports torch.
"""

from __future__ import annotations

from collections import Counter
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import and_, case, func, null, select
from sqlalchemy.orm import Session, aliased

from tfnas_db.db.integrity import naming_damaged_values
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
from tfnas_db.scoring.spaces import get_space

METRIC_LABELS = {
    "val": "validation",
    "test": "test",
    "valtest": "validation+test (ori-test)",
    "train": "training-set",
    "train_trainval": "train+validation-set (the CIFAR-10 run trained on both)",
    "test_trainsplit": "test (the CIFAR-10 run trained on the train split only)",
    "naslib_val": "NAS-Bench-Suite-Zero val_accuracy",
}

# Imported runs are labelled ``<scorer>@<tag>`` so that NASLib's naswot and our own naswot
# are two columns of one table instead of one hiding the other.
IMPORT_TAGS = {"naslib-zc": "naslib"}


def run_label(scorer: str, origin: str, data_source: str) -> str:
    """How queries, tables and the CLI name a run: the scorer for computed and bundled runs,
    ``scorer@tag`` for a run imported from another tool's file (e.g. ``naswot@naslib``)."""
    if origin != "imported":
        return scorer
    return f"{scorer}@{IMPORT_TAGS.get(data_source, data_source)}"


def label_scorer(label: str) -> str:
    """The scorer part of a run label (``naswot@naslib`` -> ``naswot``)."""
    return label.partition("@")[0]


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
    """The column ``--metric/--epochs`` name; by default the longest schedule held (200
    epochs on nats-tss, 90 on nats-sss).

    A combination the store does not hold is an error that lists the held columns.
    """
    held = accuracy_columns(session, space, dataset)
    if not held:
        raise TfnasError(
            f"the store holds no {space} accuracies for {dataset}; bring them in with: "
            f"{get_space(space).accuracy_hint}"
        )
    wanted_epochs = max(c.epochs for c in held) if epochs is None else epochs
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


def optional_accuracy_column(
    session: Session, space: str, dataset: str, metric: str | None, epochs: int | None
) -> AccuracyColumn | None:
    """As :func:`resolve_accuracy_column`, but ``None`` (score-only results) when the store
    holds no accuracy at all for the space and dataset and none was asked for."""
    if metric is None and epochs is None and not accuracy_columns(session, space, dataset):
        return None
    return resolve_accuracy_column(session, space, dataset, metric, epochs)


def missing_accuracy_note(space: str, dataset: str) -> str:
    """What score-only results say: why there is no accuracy, and how to add it."""
    return (
        f"no {space} accuracies are stored for {dataset}, so results are score-only "
        f"(picks, size, Pareto front); bring them in with: {get_space(space).accuracy_hint}"
    )


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
    origin: str = "computed"  # computed | bundled | imported (see ScoreRun.origin)
    provenance: dict[str, Any] | None = None
    scorer_version: int | None = None

    @property
    def n_scores(self) -> int:
        return self.n_ok + self.n_nan + self.n_error

    @property
    def label(self) -> str:
        return run_label(self.scorer, self.origin, self.data_source)


def list_runs(
    session: Session,
    space: str | None = None,
    dataset: str | None = None,
    scorer: str | None = None,
) -> list[RunInfo]:
    """Score runs with their per-status counts (one grouped query); ``scorer`` is a run
    label, so ``naswot`` lists our naswot runs and ``naswot@naslib`` the imported ones."""
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
        query = query.where(ScoreRun.scorer == label_scorer(scorer))
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
                origin=run.origin,
                provenance=run.provenance,
                scorer_version=run.scorer_version,
            )
        )
    if scorer:
        out = [run for run in out if run.label == scorer]
    return out


def pick_run(
    session: Session, space: str, dataset: str, scorer: str, run_id: int | None = None
) -> RunInfo:
    """The run a query reads: ``run_id`` if given, else the one with most finite scores
    among the runs of the scorer's current version (older versions only if none)."""
    runs = list_runs(session, space, dataset, scorer)
    if run_id is not None:
        for run in runs:
            if run.id == run_id:
                return run
        raise TfnasError(f"no score run {run_id} for {scorer} on {dataset} ({space})")
    usable = [run for run in runs if run.n_ok > 0]
    if not usable:
        fix = (
            "import them: tfnas-db import naslib-zc FILE.json"
            if "@" in scorer
            else f"run: tfnas-db populate --scorers {scorer} --dataset {dataset}"
        )
        raise TfnasError(f"no stored {scorer} scores on {dataset} ({space}); {fix}")
    current = _current_versions()
    # a run of the scorer's current definition beats a larger run of an older one (e.g.
    # loss_slope v1, the cross-entropy variant, left in a store from before v2)
    return max(
        usable,
        key=lambda run: (current.get(run.scorer) == run.scorer_version, run.n_ok, run.id),
    )


def _current_versions() -> dict[str, int]:
    from tfnas_db.scoring.registry import REGISTRY  # numpy only: no torch is imported

    return {spec.name: spec.version for spec in REGISTRY.specs()}


@dataclass(frozen=True)
class ScoreTable:
    """Candidates of a search: architectures with a finite score for every requested scorer,
    with size, one accuracy column and the training-baseline columns, row-aligned and
    sorted by architecture index. ``accuracy`` (and the extras) are NaN where the
    benchmark has no figure.
    """

    runs: dict[str, RunInfo]
    column: AccuracyColumn | None  # None: no accuracy stored (``accuracy`` all NaN)
    arch_index: np.ndarray
    arch_str: np.ndarray
    params_m: np.ndarray
    flops_m: np.ndarray
    accuracy: np.ndarray
    val_acc_12ep: np.ndarray
    train_seconds_full: np.ndarray
    scores: dict[str, np.ndarray]
    seconds: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.arch_index)

    @property
    def run(self) -> RunInfo:
        return next(iter(self.runs.values()))

    @property
    def score(self) -> np.ndarray:
        return next(iter(self.scores.values()))

    @property
    def score_seconds(self) -> np.ndarray:
        return next(iter(self.seconds.values()))


def load_score_table(
    session: Session,
    space: str,
    dataset: str,
    scorers: str | list[str],
    column: AccuracyColumn | None,
    run_id: int | None = None,
    on_demand: tuple[str, ...] = (),
) -> ScoreTable:
    """One indexed query: every architecture with a finite score of each scorer (none: all
    architectures), its size, the chosen accuracy and the baseline columns.

    Scorers named in ``on_demand`` do not restrict the rows: they are NaN wherever no score
    is stored (or no run exists yet), for a strategy that scores only the few candidates it
    needs them for (ET-NAS's loss_slope on its Pareto fronts)."""
    names = [scorers] if isinstance(scorers, str) else list(scorers)
    runs = {
        name: pick_run(session, space, dataset, name, run_id if i == 0 else None)
        for i, name in enumerate(names)
        if name not in on_demand
    }
    for name in on_demand:
        if name in names:
            with suppress(TfnasError):  # nothing stored yet: an all-NaN column
                runs[name] = pick_run(session, space, dataset, name)
    space_id, dataset_id = space_and_dataset_ids(session, space, dataset)

    def result(metric: str, epochs: int):  # type: ignore[no-untyped-def]
        alias = aliased(BenchmarkResult)
        return alias, and_(
            alias.architecture_id == Architecture.id,
            alias.dataset_id == dataset_id,
            alias.metric == metric,
            alias.epochs == epochs,
        )

    # Without a column the join matches nothing (no such metric), leaving accuracy NaN.
    acc, acc_on = result(column.metric, column.epochs) if column else result("(none)", 0)
    val12, val12_on = result("val", 12)
    train, train_on = result("train_seconds", get_space(space).benchmark.full_schedule_epochs)
    score_aliases = [aliased(Score) for _ in names]
    query = (
        select(
            Architecture.arch_index,
            Architecture.arch_str,
            ArchCost.params_m,
            ArchCost.flops_m,
            acc.value,
            val12.value,
            train.value,
            *[
                c
                for name, alias in zip(names, score_aliases, strict=True)
                for c in ((alias.value, alias.seconds) if name in runs else (null(), null()))
            ],
        )
        .join(
            ArchCost,
            and_(ArchCost.architecture_id == Architecture.id, ArchCost.dataset_id == dataset_id),
        )
        .outerjoin(acc, acc_on)
        .outerjoin(val12, val12_on)
        .outerjoin(train, train_on)
        .where(Architecture.space_id == space_id)
        .order_by(Architecture.arch_index)
    )
    for name, alias in zip(names, score_aliases, strict=True):
        if name not in runs:
            continue  # an on-demand scorer with no run yet: NULL columns, no join
        on = and_(
            alias.architecture_id == Architecture.id,
            alias.run_id == runs[name].id,
            alias.status == ScoreStatus.OK,
        )
        query = query.outerjoin(alias, on) if name in on_demand else query.join(alias, on)
    rows = session.connection().execute(query).fetchall()  # Core rows: no ORM overhead
    width = 7 + 2 * len(names)
    cols = list(zip(*rows, strict=True)) if rows else [() for _ in range(width)]

    def floats(values: tuple[object, ...]) -> np.ndarray:
        return np.asarray([np.nan if v is None else v for v in values], dtype=np.float64)

    with naming_damaged_values(session):
        return ScoreTable(
            runs=runs,
            column=column,
            arch_index=np.asarray(cols[0], dtype=np.int64),
            arch_str=np.asarray(cols[1], dtype=object),
            params_m=floats(cols[2]),
            flops_m=floats(cols[3]),
            accuracy=floats(cols[4]),
            val_acc_12ep=floats(cols[5]),
            train_seconds_full=floats(cols[6]),
            scores={name: floats(cols[7 + 2 * i]) for i, name in enumerate(names)},
            seconds={name: floats(cols[8 + 2 * i]) for i, name in enumerate(names)},
        )


def best_accuracy(
    session: Session, space: str, dataset: str, column: AccuracyColumn | None
) -> float:
    """The best value of an accuracy column over the whole space (for regret)."""
    if column is None:
        return float("nan")
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
    with naming_damaged_values(session):
        return float("nan") if value is None else float(value)


def run_workers(session: Session) -> dict[int, tuple[Counter[str], Counter[str]]]:
    """Per score run, how many of its scores each host and each device produced.

    A run filled by several workers (PostgreSQL claims, Ray, merged shards) mixes them;
    rows stored before per-score provenance existed count as "unknown".
    """
    rows = session.execute(
        select(Score.run_id, Score.host, Score.device, func.count()).group_by(
            Score.run_id, Score.host, Score.device
        )
    )
    out: dict[int, tuple[Counter[str], Counter[str]]] = {}
    for run_id, host, device, n in rows:
        hosts, devices = out.setdefault(run_id, (Counter(), Counter()))
        hosts[host or "unknown"] += n
        devices[device or "unknown"] += n
    return out
