"""Seeding a search space into a store (``db seed``, and ``populate`` on first use).

Generic over spaces: identity rows and per-dataset sizes come from the space plug-in
(:mod:`tfnas_db.scoring.spaces.base`) without torch, and the benchmark figures the
package bundles for a space (the NATS-Bench TSS reference table) are stored with their
meaning: split, training schedule and source.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tfnas_db.db.bulk import bulk_insert_dicts
from tfnas_db.db.models import (
    ArchCost,
    Architecture,
    BenchmarkResult,
    Dataset,
    SearchSpace,
)
from tfnas_db.scoring.datasets import DATASETS
from tfnas_db.scoring.spaces import DEFAULT_SPACE, SearchSpaceInfo, get_space
from tfnas_db.scoring.spaces.nats_tss_reference import (  # noqa: F401 - re-exported
    NATS_TSS_COLUMNS,
    BenchmarkColumn,
)

# Benchmark metrics that are accuracies (percent): their columns read ``<metric>_acc_<N>ep``.
# The first three come with the bundled table; the rest with ``tfnas-db import``.
ACCURACY_METRICS = (
    "val",
    "test",
    "valtest",
    "train",
    "train_trainval",
    "test_trainsplit",
    "naslib_val",
)


def is_seeded(session: Session, space: str = DEFAULT_SPACE) -> bool:
    space_row = session.scalar(select(SearchSpace).where(SearchSpace.name == space))
    if space_row is None:
        return False
    n = session.scalar(
        select(func.count(Architecture.id)).where(Architecture.space_id == space_row.id)
    )
    return n == space_row.n_archs


def ensure_datasets(session: Session) -> dict[str, int]:
    existing = {row.name: row.id for row in session.scalars(select(Dataset))}
    for spec in DATASETS.values():
        if spec.name not in existing:
            row = Dataset(name=spec.name, n_classes=spec.n_classes, image_size=spec.image_size)
            session.add(row)
            session.flush()
            existing[spec.name] = row.id
    return existing


def seed_space(session: Session, info: SearchSpaceInfo) -> bool:
    """Insert a space, its architectures, their sizes per dataset and any bundled
    benchmark figures.

    Returns False if the space was already complete. Runs inside the caller's
    transaction, so an interrupted seed leaves nothing behind.
    """
    if is_seeded(session, info.name):
        return False
    dataset_ids = ensure_datasets(session)
    space = SearchSpace(name=info.name, n_archs=info.n_archs, description=info.description)
    session.add(space)
    session.flush()

    identities = list(info.identities())
    bulk_insert_dicts(
        session,
        Architecture.__table__,
        [
            {
                "space_id": space.id,
                "arch_index": ident.index,
                "arch_str": ident.arch_str,
                "naslib_key": ident.naslib_key,
                "iso_key": ident.iso_key,
                "iso_class": ident.iso_class,
            }
            for ident in identities
        ],
    )
    arch_ids: dict[int, int] = {
        index: arch_id
        for index, arch_id in session.execute(
            select(Architecture.arch_index, Architecture.id).where(
                Architecture.space_id == space.id
            )
        )
    }

    cost_rows = []
    for ident in identities:
        arch_id = arch_ids[ident.index]
        for spec in DATASETS.values():
            cost = info.cost(ident.arch_str, spec.n_classes, spec.image_size)
            cost_rows.append(
                {
                    "architecture_id": arch_id,
                    "dataset_id": dataset_ids[spec.name],
                    "params_m": cost.params_m,
                    "flops_m": cost.flops_m,
                    "relu_units": cost.relu_units,
                }
            )
    bulk_insert_dicts(session, ArchCost.__table__, cost_rows)

    result_rows = [
        {
            "architecture_id": arch_ids[result.index],
            "dataset_id": dataset_ids[result.dataset],
            "metric": result.metric,
            "epochs": result.epochs,
            "value": result.value,
            "n_seeds": result.n_seeds,
            "source": result.source,
        }
        for result in info.bundled()
    ]
    if result_rows:
        bulk_insert_dicts(session, BenchmarkResult.__table__, result_rows)
    return True


def seed_nats_tss(session: Session) -> bool:
    """The default space with the bundled NATS-Bench TSS table (see :func:`seed_space`)."""
    return seed_space(session, get_space(DEFAULT_SPACE))
