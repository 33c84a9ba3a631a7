"""The thesis's figures that summarise whole spaces (Fernandes 2022, MSc thesis).

Fig. 12 gives Kendall's tau of NASWOT's score and of the ReLU count (the thesis's
metric, N_A x K) against validation accuracy on 1 000 random architectures per space and
dataset. Here every registered space and dataset the store holds is measured the same
way: 1 000 architectures drawn with a seeded generator among those that hold both scores
and a validation accuracy (all of them when fewer hold them, which the row says). The
thesis gives Fig. 12 as a chart only, so no paper values stand beside ours; what is
missing for a space (seeding, scores, an import of its benchmark's accuracies) is named
with the command that fills it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from tfnas_db.db.models import SearchSpace
from tfnas_db.db.queries import AccuracyColumn, accuracy_columns, load_score_table
from tfnas_db.errors import TfnasError
from tfnas_db.scoring.spaces import SPACES
from tfnas_db.search.rank_stats import kendall_tau_b

SCORERS = ("naswot", "relu_count")
SAMPLE = 1000
VALIDATION = ("val", "valtest")


@dataclass(frozen=True)
class Fig12Row:
    space: str
    dataset: str
    column: str | None  # the accuracy column read ("val_acc_200ep"), None if none held
    held: int  # architectures holding both scores and the accuracy
    n: int  # architectures measured
    tau_naswot: float | None
    tau_relu_count: float | None
    missing: str | None  # what to run for this row, if anything


def _tau(x: np.ndarray, y: np.ndarray) -> float | None:
    """Kendall's tau-b; None where either side is constant (tau undefined)."""
    if np.all(x == x[0]) or np.all(y == y[0]):
        return None
    return float(kendall_tau_b(x, y))


def _validation_column(session: Session, space: str, dataset: str) -> AccuracyColumn | None:
    """Validation accuracy at the longest schedule the store holds; where that schedule
    has only the benchmark's val+test figure (NATS-Bench's CIFAR-100 and ImageNet16-120
    at 200 epochs in the bundled table), that one rather than a 12-epoch validation."""
    held = [c for c in accuracy_columns(session, space, dataset) if c.metric in VALIDATION]
    if not held:
        return None
    return max(held, key=lambda c: (c.epochs, c.metric == "val"))


def _row(session: Session, space: str, dataset: str, n: int, seed: int) -> Fig12Row:
    info = SPACES[space]
    populate = (
        f"tfnas-db populate --space {space} --dataset {dataset} --scorers "
        f"{','.join(SCORERS)} --limit {n} --sample"
    )
    column = _validation_column(session, space, dataset)
    if column is None:
        return Fig12Row(space, dataset, None, 0, 0, None, None, info.accuracy_hint)
    try:
        table = load_score_table(session, space, dataset, list(SCORERS), column)
    except TfnasError:
        return Fig12Row(space, dataset, column.key, 0, 0, None, None, populate)
    finite = np.flatnonzero(np.isfinite(table.accuracy))
    if len(finite) < 2:
        return Fig12Row(space, dataset, column.key, len(finite), 0, None, None, populate)
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(finite, size=min(n, len(finite)), replace=False))
    accuracy = table.accuracy[rows]
    taus = [_tau(table.scores[name][rows], accuracy) for name in SCORERS]
    short = populate if len(rows) < n else None
    return Fig12Row(space, dataset, column.key, len(finite), len(rows), *taus, short)


def thesis_fig12(session: Session, n: int = SAMPLE, seed: int = 0) -> list[Fig12Row]:
    """One row per registered space and dataset (see the module docstring)."""
    stored = set(session.scalars(select(SearchSpace.name)))
    out = []
    for space, info in SPACES.items():
        for dataset in info.datasets:
            if space not in stored:
                seed_cmd = f"tfnas-db db seed --space {space}"
                out.append(Fig12Row(space, dataset, None, 0, 0, None, None, seed_cmd))
            else:
                out.append(_row(session, space, dataset, n, seed))
    return out
