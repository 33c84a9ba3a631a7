"""Small NAS-Bench-101 ``.tfrecord`` files in the real format, with fabricated metrics.

NAS-Bench-101 (Ying et al., ICML 2019) stores one record per training repeat: a JSON row
``[module_hash, epochs, adjacency, operations, base64(ModelMetrics)]`` whose metrics hold
three evaluations (initialisation, halfway, final) with accuracies as fractions in 0..1.
The figures here are simple functions of (cell number, epochs, repeat) so a test can say
by hand what a reader must return; repeats sit -0.003, 0 and +0.003 around their mean, so
the mean of three repeats is the repeat-1 value.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tfnas_db.interop.nasbench101_records import (
    EvaluationFigures,
    encode_model_metrics,
    format_record,
    write_tfrecord,
)

CONV3X3 = "conv3x3-bn-relu"
CONV1X1 = "conv1x1-bn-relu"
MAXPOOL3X3 = "maxpool3x3"
INNER_OPS = (CONV3X3, CONV1X1, MAXPOOL3X3)
FULL_EPOCHS = (4, 12, 36, 108)
REPEATS = 3
REPEAT_OFFSET = (-0.003, 0.0, 0.003)


@dataclass(frozen=True)
class Cell:
    module_hash: str
    matrix: tuple[tuple[int, ...], ...]
    ops: tuple[str, ...]


def make_cells(count: int, vertices: int = 7) -> list[Cell]:
    """``count`` distinct cells: a chain input -> ... -> output plus edges from the bits of
    the cell number, inner operations from its base-3 digits. Not real benchmark hashes."""
    cells = []
    for number in range(count):
        matrix = [[0] * vertices for _ in range(vertices)]
        for v in range(vertices - 1):
            matrix[v][v + 1] = 1
        bit = 0
        for i in range(vertices):
            for j in range(i + 2, vertices):
                matrix[i][j] = (number >> bit) & 1
                bit += 1
        digits = number
        inner = []
        for _ in range(vertices - 2):
            inner.append(INNER_OPS[digits % 3])
            digits //= 3
        ops = ("input", *inner, "output")
        module_hash = hashlib.md5(f"cell-{vertices}-{number}".encode()).hexdigest()
        cells.append(Cell(module_hash, tuple(tuple(row) for row in matrix), ops))
    return cells


def trainable_parameters(number: int) -> int:
    return 1_000_000 + 7_919 * number


def final_figures(number: int, epochs: int, repeat: int) -> EvaluationFigures:
    base = 0.80 + 0.0001 * (number % 1000) + 0.01 * FULL_EPOCHS.index(epochs)
    return EvaluationFigures(
        epoch=float(epochs),
        training_time=10.0 * epochs + number + repeat,
        train_accuracy=min(1.0, base + 0.1 + REPEAT_OFFSET[repeat]),
        validation_accuracy=base + REPEAT_OFFSET[repeat],
        test_accuracy=base - 0.005 + REPEAT_OFFSET[repeat],
    )


def halfway_figures(number: int, epochs: int, repeat: int) -> EvaluationFigures:
    final = final_figures(number, epochs, repeat)
    return EvaluationFigures(
        epoch=epochs / 2,
        training_time=final.training_time / 2,
        train_accuracy=final.train_accuracy - 0.1,
        validation_accuracy=final.validation_accuracy - 0.1,
        test_accuracy=final.test_accuracy - 0.1,
    )


def initial_figures() -> EvaluationFigures:
    return EvaluationFigures(0.0, 0.0, 0.1, 0.1, 0.1)


def total_time(number: int, epochs: int, repeat: int) -> float:
    return final_figures(number, epochs, repeat).training_time + 100.0


def record(cell: Cell, number: int, epochs: int, repeat: int) -> bytes:
    """One record's data (the JSON row) for repeat ``repeat`` of cell ``number``."""
    metrics = encode_model_metrics(
        [
            initial_figures(),
            halfway_figures(number, epochs, repeat),
            final_figures(number, epochs, repeat),
        ],
        trainable_parameters(number),
        total_time(number, epochs, repeat),
    )
    return format_record(cell.module_hash, epochs, cell.matrix, cell.ops, metrics)


def records(
    cells: Sequence[Cell], epochs: Sequence[int] = (108,), interleave: bool = False
) -> Iterator[bytes]:
    """Every repeat of every cell at every budget. Grouped by cell (then budget) by
    default; ``interleave`` puts repeat r of every cell before repeat r + 1 of any."""
    if interleave:
        for repeat in range(REPEATS):
            for e in epochs:
                for number, cell in enumerate(cells):
                    yield record(cell, number, e, repeat)
    else:
        for number, cell in enumerate(cells):
            for e in epochs:
                for repeat in range(REPEATS):
                    yield record(cell, number, e, repeat)


def write_benchmark(
    path: Path,
    cells: Sequence[Cell],
    epochs: Sequence[int] = (108,),
    interleave: bool = False,
) -> Path:
    """Writes a ``.tfrecord`` of ``cells`` (3 repeats each): ``epochs=(108,)`` mimics
    ``nasbench_only108.tfrecord``, ``FULL_EPOCHS`` mimics ``nasbench_full.tfrecord``."""
    write_tfrecord(path, records(cells, epochs, interleave))
    return path
