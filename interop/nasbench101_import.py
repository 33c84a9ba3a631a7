"""``tfnas-db import nasbench101``: NAS-Bench-101's training results into the store.

Ying et al. 2019 ("NAS-Bench-101", ICML) publish ``nasbench_only108.tfrecord`` (every
cell trained 108 epochs, three repeats) and ``nasbench_full.tfrecord`` (budgets 4, 12,
36 and 108). The file is read without TensorFlow (:mod:`nasbench101_records`: framing
and checksums checked, streamed), the repeats of each (cell, budget) averaged, and
stored as benchmark columns on CIFAR-10: ``val`` / ``test`` / ``train`` accuracy (percent,
mean of the repeats, ``n_seeds`` = repeats), ``train_seconds`` and the benchmark's
``recorded_params_m``. Every hash must be a cell of the space (the project computes the
space itself), and the record's matrix and ops must hash to it; either mistake is one
error line and, since the whole import is one transaction, nothing is written. The
trainable parameters are compared with this project's arithmetic, as ``db check-costs``
does for NATS-Bench, and the disagreements counted.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from sqlalchemy import select

from tfnas_db.db.bootstrap import ensure_seeded
from tfnas_db.db.imports import upsert_benchmark_results
from tfnas_db.db.models import ArchCost, Architecture, Dataset, SearchSpace
from tfnas_db.db.store import Store
from tfnas_db.errors import TfnasError
from tfnas_db.interop.nasbench101_records import (
    CRC32C_IMPLEMENTATION,
    CellResult,
    iter_training_records,
    summarise,
)
from tfnas_db.scoring.spaces import nasbench101_cells as cells
from tfnas_db.scoring.spaces.nasbench101 import SPACE

DATASET = "cifar10"
ROWS_PER_BATCH = 20_000
PARAMS_TOLERANCE = 0.5  # parameters: the file stores a float of an integer count


@dataclass
class Nb101ImportSummary:
    path: str
    cells: int = 0
    rows: int = 0
    epochs: set[int] = field(default_factory=set)
    repeats: dict[int, int] = field(default_factory=dict)  # n_repeats -> (cell, budget) count
    params_checked: int = 0
    params_differ: int = 0
    first_difference: str | None = None
    crc: str = CRC32C_IMPLEMENTATION
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "space": SPACE.name,
            "dataset": DATASET,
            "cells": self.cells,
            "rows": self.rows,
            "epochs": sorted(self.epochs),
            "repeats": {str(k): v for k, v in sorted(self.repeats.items())},
            "params_checked": self.params_checked,
            "params_differ": self.params_differ,
            "first_difference": self.first_difference,
            "crc32c": self.crc,
            "seconds": round(self.seconds, 3),
        }


def _progress(enabled: bool, console: Console | None) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console or Console(stderr=True),
        disable=not enabled,
    )


def _figures(result: CellResult) -> list[tuple[str, float]]:
    return [
        ("val", result.final_validation_accuracy),
        ("test", result.final_test_accuracy),
        ("train", result.final_train_accuracy),
        ("train_seconds", result.final_training_time),
        ("recorded_params_m", result.trainable_parameters / 1e6),
    ]


def _check_cell(path: Path, result: CellResult) -> int:
    """The index of the result's cell; its spelled matrix and ops must hash to its key."""
    try:
        index = cells.index_of_hash(result.module_hash)
    except TfnasError as exc:
        raise TfnasError(f"{path}: {exc}: the file is not NAS-Bench-101's, or is damaged") from None
    spelled = cells.module_hash([list(row) for row in result.matrix], list(result.ops))
    if spelled != result.module_hash:
        raise TfnasError(
            f"{path}: the record of {result.module_hash} spells a cell whose hash is "
            f"{spelled}: the file is damaged"
        )
    return index


def _named(path: Path, results: Iterator[CellResult]) -> Iterator[CellResult]:
    """The results, with the file named in any error the summary raises."""
    try:
        yield from results
    except TfnasError as exc:
        if str(path) in str(exc):
            raise
        raise TfnasError(f"{path}: {exc}") from None


def import_nasbench101(
    store: Store,
    path: Path,
    *,
    check_crc: bool = True,
    show_progress: bool = True,
    console: Console | None = None,
) -> Nb101ImportSummary:
    """Import every (cell, budget) of a NAS-Bench-101 ``.tfrecord`` in one transaction."""
    started = time.perf_counter()
    if not path.is_file():
        raise TfnasError(
            f"{path} is not a file: give nasbench_only108.tfrecord or nasbench_full.tfrecord"
        )
    ensure_seeded(store, SPACE.name)
    summary = Nb101ImportSummary(path=str(path))
    origin = path.name
    with store.session() as session:
        space_id = session.scalar(select(SearchSpace.id).where(SearchSpace.name == SPACE.name))
        dataset_id = session.scalar(select(Dataset.id).where(Dataset.name == DATASET))
        if space_id is None or dataset_id is None:
            raise TfnasError(f"the store has no {SPACE.name} architectures; run: tfnas-db db seed")
        id_rows = session.execute(
            select(Architecture.arch_index, Architecture.id, ArchCost.params_m)
            .join(
                ArchCost,
                (ArchCost.architecture_id == Architecture.id) & (ArchCost.dataset_id == dataset_id),
            )
            .where(Architecture.space_id == space_id)
            .order_by(Architecture.arch_index)
        ).all()
        arch_id = np.asarray([r[1] for r in id_rows], dtype=np.int64)
        our_params = np.asarray([r[2] for r in id_rows], dtype=np.float64) * 1e6
        if len(id_rows) != cells.N_CELLS:
            raise TfnasError(
                f"the store holds {len(id_rows)} of the {cells.N_CELLS} {SPACE.name} cells; "
                "run: tfnas-db db seed --space nasbench101"
            )
        rows: list[dict[str, Any]] = []
        seen: set[int] = set()
        with _progress(show_progress, console) as progress:
            task = progress.add_task(
                f"import {SPACE.name} from {origin}", total=path.stat().st_size
            )

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            records = iter_training_records(path, check_crc=check_crc, progress=advance)
            for result in _named(path, summarise(records)):
                index = _check_cell(path, result)
                if index not in seen:
                    seen.add(index)
                    summary.params_checked += 1
                    if abs(our_params[index] - result.trainable_parameters) > PARAMS_TOLERANCE:
                        summary.params_differ += 1
                        summary.first_difference = summary.first_difference or (
                            f"{result.module_hash}: file {result.trainable_parameters}, "
                            f"ours {int(our_params[index])}"
                        )
                summary.epochs.add(result.epochs)
                summary.repeats[result.n_repeats] = summary.repeats.get(result.n_repeats, 0) + 1
                source = (
                    f"imported: {origin} (NAS-Bench-101, {result.epochs} epochs, mean of "
                    f"{result.n_repeats} repeats)"
                )
                for metric, value in _figures(result):
                    rows.append(
                        {
                            "architecture_id": int(arch_id[index]),
                            "dataset_id": dataset_id,
                            "metric": metric,
                            "epochs": result.epochs,
                            "value": float(value),
                            "n_seeds": result.n_repeats,
                            "source": source,
                        }
                    )
                if len(rows) >= ROWS_PER_BATCH:
                    upsert_benchmark_results(session, rows)
                    summary.rows += len(rows)
                    rows.clear()
        upsert_benchmark_results(session, rows)
        summary.rows += len(rows)
        summary.cells = len(seen)
        if not seen:
            raise TfnasError(f"{path} holds no training records: nothing imported")
    store.refresh_statistics()
    summary.seconds = time.perf_counter() - started
    return summary
