"""One architecture across the store: identity, size, benchmark figures and scores.

A handful of indexed lookups instead of the wide table, so a notebook asking about one
architecture does not pay for the whole space.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from tfnas_db.db.models import (
    ArchCost,
    Architecture,
    BenchmarkResult,
    Dataset,
    Score,
    ScoreStatus,
    SearchSpace,
)
from tfnas_db.db.tables import benchmark_column_name, chosen_runs
from tfnas_db.errors import TfnasError

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class ArchDetail:
    """``figures[dataset]`` maps the wide table's column names (``params_m``,
    ``val_acc_200ep``, ``naswot``, ``naswot_seconds``...) to values on that dataset."""

    space: str
    arch_index: int
    arch_str: str
    alt_key: str | None  # the space's other spelling (NASLib tuple, matrix + ops)
    iso_class: int | None
    figures: dict[str, dict[str, float]] = field(default_factory=dict)

    def frame(self) -> pd.DataFrame:
        """One row per dataset, one column per figure (NaN where a dataset lacks it)."""
        import pandas as pd

        return pd.DataFrame.from_dict(self.figures, orient="index").rename_axis("dataset")


def arch_detail(session: Session, space: str, arch_index: int) -> ArchDetail:
    found = session.execute(
        select(Architecture)
        .join(SearchSpace, SearchSpace.id == Architecture.space_id)
        .where(SearchSpace.name == space, Architecture.arch_index == arch_index)
    ).scalar_one_or_none()
    if found is None:
        raise TfnasError(
            f"the store holds no {space} architecture {arch_index}; run: tfnas-db db seed"
        )
    figures: dict[str, dict[str, float]] = {}
    for dataset, params_m, flops_m, relu_units in session.execute(
        select(Dataset.name, ArchCost.params_m, ArchCost.flops_m, ArchCost.relu_units)
        .join(Dataset, Dataset.id == ArchCost.dataset_id)
        .where(ArchCost.architecture_id == found.id)
        .order_by(Dataset.id)
    ):
        figures[dataset] = {
            "params_m": params_m,
            "flops_m": flops_m,
            "relu_units": float(relu_units),
        }
    rows = session.execute(
        select(Dataset.name, BenchmarkResult.metric, BenchmarkResult.epochs, BenchmarkResult.value)
        .join(Dataset, Dataset.id == BenchmarkResult.dataset_id)
        .where(BenchmarkResult.architecture_id == found.id)
        .order_by(BenchmarkResult.metric, BenchmarkResult.epochs)
    )
    for dataset, metric, epochs, value in rows:
        figures.setdefault(dataset, {})[benchmark_column_name(metric, epochs)] = value
    for dataset in list(figures):
        runs = chosen_runs(session, space, dataset)
        label_of = {run.id: label for label, run in runs.items()}
        if not label_of:
            continue
        scores = session.execute(
            select(Score.run_id, Score.value, Score.seconds, Score.status).where(
                Score.architecture_id == found.id, Score.run_id.in_(list(label_of))
            )
        )
        for run_id, value, seconds, status in scores:
            label = label_of[run_id]
            ok = status == ScoreStatus.OK and value is not None
            figures[dataset][label] = float(value) if ok else float("nan")
            figures[dataset][f"{label}_seconds"] = seconds
    return ArchDetail(
        space=space,
        arch_index=found.arch_index,
        arch_str=found.arch_str,
        alt_key=found.alt_key,
        iso_class=found.iso_class,
        figures=figures,
    )
