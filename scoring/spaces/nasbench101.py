"""NAS-Bench-101 (Ying et al. 2019, "NAS-Bench-101: Towards Reproducible Neural
Architecture Search", ICML): the search space plug-in, without torch.

The space is the 423 624 unique cells of up to 7 vertices and 9 edges with interior
ops conv3x3-bn-relu, conv1x1-bn-relu and maxpool3x3, computed by this project
(:mod:`nasbench101_cells`, bundled with a sha256 manifest). An architecture's
``arch_str`` is the benchmark's own module hash (the key of its ``.tfrecord`` files and
of NASLib's tables), its ``arch_index`` the rank of that hash in sorted order, and its
``alt_key`` the compact matrix + ops spelling (``011.001.000|in,c3,out``). A cell may be
named by any of the three, or by an adjacency matrix + op list in nasbench's or NASLib's
JSON spellings; an unpruned or permuted spelling resolves to its canonical cell.

Sizes come from arithmetic over the whole space at once (:mod:`nasbench101_cost`,
tested equal to the built network and to the benchmark's trainable parameters); the
network is built by :mod:`nasbench101_net` at the benchmark's 128 stem channels. The
benchmark trains on CIFAR-10 only; its accuracies come from the user's files through
``tfnas-db import nasbench101``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from tfnas_db.scoring.spaces import nasbench101_cells as cells
from tfnas_db.scoring.spaces.base import (
    ArchCost,
    ArchIdentity,
    BenchmarkInfo,
    CostArrays,
    SearchSpaceInfo,
)
from tfnas_db.scoring.spaces.nasbench101_cost import cell_costs

if TYPE_CHECKING:
    from torch import nn

SPACE_NAME = "nasbench101"
STEM_CHANNELS = 128  # the benchmark's
IDENTITY_CHUNK = 20_000


def arch_of_index(index: int) -> str:
    """The benchmark hash of a cell index."""
    return cells.hash_of_index(index)


def resolve_arch(token: str) -> tuple[int, str]:
    """An index, a hash, the compact spelling or a matrix + ops -> ``(index, hash)``."""
    index = cells.resolve_cell(token)
    return index, cells.hash_of_index(index)


def codes_of_indices(indices: np.ndarray) -> np.ndarray:
    return cells.codes_of_indices(indices)


def cost_arrays(indices: np.ndarray, n_classes: int, image_size: int) -> CostArrays:
    """Sizes of many cells at once (423 624 in about a second)."""
    matrix, ops, n_vertices = cells.decode_codes(cells.codes_of_indices(indices))
    out = cell_costs(matrix, ops, n_vertices, n_classes, image_size, STEM_CHANNELS)
    return CostArrays(
        params_m=out["params"] / 1e6,
        flops_m=out["flops"] / 1e6,
        relu_units=out["relu_units"].astype(np.int64),
        benchmark_flops_m=out["benchmark_flops"] / 1e6,
    )


def arch_cost(arch_str: str, n_classes: int, image_size: int) -> ArchCost:
    index, _ = resolve_arch(arch_str)
    costs = cost_arrays(np.asarray([index]), n_classes, image_size)
    assert costs.benchmark_flops_m is not None
    return ArchCost(
        params_m=float(costs.params_m[0]),
        flops_m=float(costs.flops_m[0]),
        relu_units=int(costs.relu_units[0]),
        benchmark_flops_m=float(costs.benchmark_flops_m[0]),
    )


def identities() -> Iterator[ArchIdentity]:
    """Every cell, streamed in index order: hash, compact spelling (decoded a chunk at a
    time, so the whole space streams in seconds)."""
    table = cells.load_cells()
    for start in range(0, table.n_cells, IDENTITY_CHUNK):
        indices = np.arange(start, min(start + IDENTITY_CHUNK, table.n_cells))
        hashes = table.hashes_hex(indices)
        spellings = _spellings(table.codes_of_indices(indices))
        for index, module_hash, spelling in zip(indices.tolist(), hashes, spellings, strict=True):
            yield ArchIdentity(index=index, arch_str=module_hash, alt_key=spelling)


_SHORT_OF_ID = {
    cells.INPUT_ID: cells.SHORT_NAMES[cells.INPUT],
    cells.OUTPUT_ID: cells.SHORT_NAMES[cells.OUTPUT],
    **{i: cells.SHORT_NAMES[op] for i, op in enumerate(cells.OPS)},
}


def _spellings(codes: np.ndarray) -> list[str]:
    """:func:`nasbench101_cells.cell_spelling` of many cells (the same strings)."""
    matrix, ops, n_vertices = cells.decode_codes(codes)
    bits = matrix.astype(np.uint8) + ord("0")
    out = []
    for m, o, v in zip(bits, ops.tolist(), n_vertices.tolist(), strict=True):
        rows = ".".join(m[r, :v].tobytes().decode() for r in range(v))
        out.append(rows + "|" + ",".join(_SHORT_OF_ID[x] for x in o[:v]))
    return out


def feature_columns(arch_strs: Sequence[str]) -> dict[str, list[int]]:
    """Explorer filters: ``n_<op>`` (vertices carrying each op), ``vertices``,
    ``edges`` and ``depth`` (edges on the longest input -> output path)."""
    indices = np.asarray([cells.index_of_hash(a) for a in arch_strs], dtype=np.int64)
    columns = {f"n_{op}": values.tolist() for op, values in cells.op_counts(indices).items()}
    columns["vertices"] = cells.vertex_counts(indices).tolist()
    columns["edges"] = cells.edge_counts(indices).tolist()
    columns["depth"] = cells.depth(indices).tolist()
    return columns


def build_network(arch_str: str, n_classes: int) -> nn.Module:
    """The network the benchmark trained around the cell (imports torch)."""
    from tfnas_db.scoring.spaces.nasbench101_net import build_network as build

    matrix, ops = cells.cell_of_index(resolve_arch(arch_str)[0])
    return build(matrix, ops, n_classes, stem_channels=STEM_CHANNELS)


OP_COLOURS = {
    "conv3x3-bn-relu": "#d62728",
    "conv1x1-bn-relu": "#ff7f0e",
    "maxpool3x3": "#1f77b4",
    "input": "#f4f4f4",
    "output": "#f4f4f4",
}


def cell_dot(arch_str: str) -> str:
    """The cell as a Graphviz DAG: vertices coloured by op, input left, output right."""
    matrix, ops = cells.cell_of_index(resolve_arch(arch_str)[0])
    lines = [
        "digraph cell {",
        "  rankdir=LR;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica"];',
    ]
    for vertex, op in enumerate(ops):
        font = "black" if op in ("input", "output") else "white"
        lines.append(
            f'  v{vertex} [label="{op}", fillcolor="{OP_COLOURS[op]}", fontcolor="{font}"];'
        )
    for source, row in enumerate(matrix):
        for target, edge in enumerate(row):
            if edge:
                lines.append(f"  v{source} -> v{target};")
    lines.append("}")
    return "\n".join(lines)


SPACE = SearchSpaceInfo(
    name=SPACE_NAME,
    size=cells.N_CELLS,
    datasets=("cifar10",),
    description="NAS-Bench-101: 423 624 cells (<= 7 vertices, <= 9 edges), 3 stacks of "
    "3 cells, 128 stem channels",
    arch_of_index=arch_of_index,
    resolve_arch=resolve_arch,
    cost=arch_cost,
    costs=cost_arrays,
    codes=codes_of_indices,
    # flip an edge or change an op, keep the cell valid, move to its canonical form
    neighbour_codes=cells.neighbour_codes,
    identities=identities,
    network_builder="tfnas_db.scoring.spaces.nasbench101:build_network",
    drawing="tfnas_db.scoring.spaces.nasbench101:cell_dot",
    benchmark=BenchmarkInfo(
        accuracy_hint="tfnas-db import nasbench101 --path nasbench_only108.tfrecord (or "
        "nasbench_full.tfrecord: epochs 4, 12, 36 and 108)",
        full_schedule_epochs=108,
    ),
    feature_columns=feature_columns,
    filter_ops=cells.OPS,
    alt_key_name="cell",
    lacks={
        "cell_degree": "ET-NAS Degree counts the convolution and skip edges of a "
        "NAS-Bench-201 cell, whose edges carry ops; NAS-Bench-101 cells carry ops on "
        "vertices and have no skip op, so the notion is not defined here",
    },
)
