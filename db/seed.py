"""Seeding a search space into a store (``db seed``, and ``populate`` on first use).

Generic over spaces: identity rows and per-dataset sizes come from the space plug-in
(:mod:`tfnas_db.scoring.spaces.base`) without torch, and the benchmark figures the
package bundles for a space (the NATS-Bench TSS reference table) are stored with their
meaning: split, training schedule and source.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tfnas_db.db.bulk import bulk_insert, bulk_insert_dicts
from tfnas_db.db.models import (
    ArchCost,
    Architecture,
    BenchmarkResult,
    Dataset,
    SearchSpace,
)
from tfnas_db.errors import TfnasError
from tfnas_db.scoring.datasets import DATASETS
from tfnas_db.scoring.spaces import DEFAULT_SPACE, ArchIdentity, SearchSpaceInfo

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


SEED_CHUNK = 50_000  # identities per insert: bounded memory on spaces of 10^5-10^6 rows


def seed_space(session: Session, info: SearchSpaceInfo) -> bool:
    """Insert a space, its architectures, their sizes per dataset of the space and any
    bundled benchmark figures.

    Returns False if the space was already complete. Identities are streamed in chunks
    and sizes come from the space's vectorised arithmetic, so a space of 423 624 cells
    seeds in seconds. Runs inside the caller's transaction, so an interrupted seed leaves
    nothing behind.
    """
    if is_seeded(session, info.name):
        return False
    if info.identities is None:
        raise TfnasError(
            f"{info.name} has no built-in list of architectures: its members come from "
            f"your benchmark files ({info.accuracy_hint})"
        )
    dataset_ids = ensure_datasets(session)
    space = SearchSpace(name=info.name, n_archs=0, description=info.description)
    session.add(space)
    session.flush()

    n_archs = 0
    chunk: list[ArchIdentity] = []
    for ident in info.identities():
        chunk.append(ident)
        if len(chunk) >= SEED_CHUNK:
            n_archs += _seed_chunk(session, info, space.id, dataset_ids, chunk)
            chunk = []
    n_archs += _seed_chunk(session, info, space.id, dataset_ids, chunk)
    space.n_archs = n_archs
    session.flush()

    arch_ids = _arch_ids(session, space.id)
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


def _arch_ids(session: Session, space_id: int, indices: list[int] | None = None) -> dict[int, int]:
    query = select(Architecture.arch_index, Architecture.id).where(
        Architecture.space_id == space_id
    )
    if indices is not None:
        query = query.where(Architecture.arch_index.between(min(indices), max(indices)))
    return {index: arch_id for index, arch_id in session.execute(query)}


def _seed_chunk(
    session: Session,
    info: SearchSpaceInfo,
    space_id: int,
    dataset_ids: dict[str, int],
    chunk: list[ArchIdentity],
) -> int:
    """Architecture rows of one chunk of identities, then their sizes per dataset."""
    if not chunk:
        return 0
    bulk_insert(
        session,
        Architecture.__table__,
        ["space_id", "arch_index", "arch_str", "alt_key", "iso_key", "iso_class"],
        ((space_id, i.index, i.arch_str, i.alt_key, i.iso_key, i.iso_class) for i in chunk),
    )
    indices = [ident.index for ident in chunk]
    arch_ids = _arch_ids(session, space_id, indices)
    ids = [arch_ids[index] for index in indices]
    index_array = np.asarray(indices, dtype=np.int64)
    for name in info.datasets:
        spec = DATASETS[name]
        costs = info.cost_arrays(index_array, spec.n_classes, spec.image_size)
        bulk_insert(
            session,
            ArchCost.__table__,
            ["architecture_id", "dataset_id", "params_m", "flops_m", "relu_units"],
            zip(
                ids,
                [dataset_ids[name]] * len(ids),
                costs.params_m.tolist(),
                costs.flops_m.tolist(),
                costs.relu_units.tolist(),
                strict=True,
            ),
        )
    return len(chunk)
