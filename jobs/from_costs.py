"""Populate's one-pass path for scorers that are a function of an architecture's size.

``relu_count``, ``params`` and ``flops`` need no network and no data: their values follow
from the sizes seeding stored in ``arch_cost`` (the space's arithmetic, tested equal to
the built networks). Scoring them one architecture at a time costs about a millisecond
each in bookkeeping, minutes on a space of 423 624 cells; here the missing architectures'
sizes are read in one query, every value is computed with numpy (the scorer's
``from_costs``, which its tests hold equal to the per-architecture function) and the rows
are written in batches inside one transaction, so an interrupted run writes nothing.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select

from tfnas_db.db.models import ArchCost, Architecture
from tfnas_db.db.scores import bulk_insert_scores
from tfnas_db.db.store import Store
from tfnas_db.errors import TfnasError
from tfnas_db.jobs.work import JobSpec, WorkItem, missing_items
from tfnas_db.scoring.registry import ScorerSpec
from tfnas_db.scoring.spaces.base import CostArrays
from tfnas_db.scoring.status import ScoreStatus

WRITE_BATCH = 20_000


def applies(specs: list[ScorerSpec], executor: str) -> bool:
    """Every requested scorer has a vectorised form, and the work is done here."""
    return executor == "local" and all(spec.from_costs is not None for spec in specs)


@dataclass
class CostScoring:
    """What the pass did, in the terms populate's summary reports."""

    pending: int = 0
    scored: int = 0
    statuses: dict[str, Counter[str]] = field(default_factory=dict)
    scorer_seconds: dict[str, float] = field(default_factory=dict)


def _sizes(store: Store, space_id: int, dataset_id: int, arch_ids: np.ndarray) -> CostArrays:
    """The stored sizes of ``arch_ids`` (in that order), read in one query."""
    with store.session() as session:
        rows = session.execute(
            select(
                ArchCost.architecture_id, ArchCost.params_m, ArchCost.flops_m, ArchCost.relu_units
            )
            .join(Architecture, Architecture.id == ArchCost.architecture_id)
            .where(ArchCost.dataset_id == dataset_id, Architecture.space_id == space_id)
            .order_by(ArchCost.architecture_id)
        ).all()
    stored_ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    at = np.searchsorted(stored_ids, arch_ids)
    if (
        len(rows) == 0
        or np.any(at >= len(rows))
        or np.any(stored_ids[np.minimum(at, len(rows) - 1)] != arch_ids)
    ):
        raise TfnasError(
            "the store holds no size on this dataset for some architectures of the job (a "
            "store seeded before the space defined the dataset?); score them one by one with "
            "a scorer that needs the network, or seed the space into a new store"
        )
    return CostArrays(
        params_m=np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows))[at],
        flops_m=np.fromiter((r[2] for r in rows), dtype=np.float64, count=len(rows))[at],
        relu_units=np.fromiter((r[3] for r in rows), dtype=np.int64, count=len(rows))[at],
    )


def _subset(costs: CostArrays, rows: np.ndarray) -> CostArrays:
    return CostArrays(costs.params_m[rows], costs.flops_m[rows], costs.relu_units[rows])


def score_from_costs(
    store: Store,
    job: JobSpec,
    *,
    space_id: int,
    dataset_id: int,
    batch_size: int,
    host: str | None,
    on_pending: Callable[[int], None],
    advance: Callable[[int], None],
) -> CostScoring:
    """Score every missing (run, architecture) of ``job`` from the stored sizes."""
    items: list[WorkItem] = missing_items(store, job)
    outcome = CostScoring(pending=len(items))
    on_pending(len(items))
    if not items:
        return outcome
    arch_ids = np.asarray([item.architecture_id for item in items], dtype=np.int64)
    costs = _sizes(store, space_id, dataset_id, arch_ids)
    with store.session() as session:
        for spec in job.specs:
            assert spec.from_costs is not None
            rows = np.flatnonzero([spec.name in item.scorers for item in items])
            spec_started = time.perf_counter()
            values = np.asarray(spec.from_costs(_subset(costs, rows), batch_size), dtype=float)
            finite = np.isfinite(values)
            per_arch = (time.perf_counter() - spec_started) / max(1, len(rows))
            run_id = job.runs[spec.name]
            ok_status, nan_status = ScoreStatus.OK.value, ScoreStatus.NAN.value
            for start in range(0, len(rows), WRITE_BATCH):
                part = slice(start, start + WRITE_BATCH)
                bulk_insert_scores(
                    session,
                    [
                        (run_id, arch_id, value if ok else None, per_arch,
                         ok_status if ok else nan_status, None, host, "none")
                        for arch_id, value, ok in zip(
                            arch_ids[rows[part]].tolist(),
                            values[part].tolist(),
                            finite[part].tolist(),
                            strict=True,
                        )
                    ],
                )  # fmt: skip
            counts = Counter({ScoreStatus.OK.value: int(finite.sum())})
            if (~finite).any():
                counts[ScoreStatus.NAN.value] = int((~finite).sum())
            outcome.statuses[spec.name] = counts
            outcome.scorer_seconds[spec.name] = per_arch * len(rows)
    advance(len(items))
    outcome.scored = len(items)
    return outcome
