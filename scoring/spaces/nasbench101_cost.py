"""Size of NAS-Bench-101 networks by arithmetic, vectorised over many cells (numpy only).

The network is the one NAS-Bench-101 trained (Ying et al., "NAS-Bench-101: Towards
Reproducible Neural Architecture Search", ICML 2019, section 2.1 and its public model
builder): a 3x3 conv-BN-ReLU stem with ``stem_channels`` outputs; ``n_stacks`` stacks of
``cells_per_stack`` cells; before every stack but the first a 2x2 max-pool of stride 2
("same" padding, i.e. the output side is ceil(side / 2)) and the first cell of that stack
doubles the channels; global average pooling; a dense classifier with bias. Every
convolution has no bias and is followed by BatchNorm (scale and offset trainable) and ReLU.

Inside a cell with output channels C (vertex 0 = input, V-1 = output):

* the interior vertices feeding the output split C: C // k each, the remainder C % k
  going one channel each to the lowest-numbered ones; every other interior vertex takes
  the max of its interior successors' channels (the benchmark's ``compute_vertex_channels``);
* an edge from the input to a vertex is a 1x1 conv-BN-ReLU projection to that vertex's
  channels (also when input and vertex widths agree); an edge between interior vertices
  is the source truncated to the destination's channels; a vertex sums its inputs and
  applies its op (3x3 or 1x1 conv-BN-ReLU, or a 3x3 max-pool of stride 1);
* the output concatenates the interior vertices that feed it, plus a 1x1 projection of
  the input to C added when the input feeds the output; with no interior vertex feeding
  it the output is that projection alone.

So a cell's size depends only on its matrix, ops, input/output channels and spatial side.
Counts (one sample):

``params``: every parameter, BN scale and offset and the classifier bias included; BN
running statistics are not parameters. This is NAS-Bench-101's ``trainable_parameters``
(TensorFlow's trainable variables: conv kernels, BN gamma/beta, dense kernel and bias).
``flops``: this project's rule (``ArchCost`` in :mod:`tfnas_db.scoring.spaces.base`):
conv and linear multiply-adds plus bias, kernel^2 per output element of every pooling
(the stride-1 3x3 max-pools in cells, the 2x2 max-pools between stacks, and the global
average pool as kernel = whole map), 2 per BatchNorm element, 1 per ReLU element; sums,
truncations and concatenations cost nothing.
``benchmark_flops``: conv and linear multiply-adds plus bias only (NAS-Bench-101 itself
records no FLOPs; this is the convention NATS-Bench's counter uses).
``relu_units``: elements entering every ReLU (stem, projections, conv ops).

Why counts could differ from TensorFlow: only where PyTorch and TF disagree on shapes,
which they do not for these layers (even sides pool exactly; odd sides follow TF's
"same" rule, ceil). The parameter counts were checked against the published
``trainable_parameters`` of three cells (one also in its isomorphic stored form) and
against the dataset's maximum, 49 979 274, which this closed form reproduces as the
largest over every 7-vertex matrix (tests/test_nasbench101_net.py); FLOPs and ReLU
units against forward hooks on the torch network of
:mod:`tfnas_db.scoring.spaces.nasbench101_net`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MAX_VERTICES = 7
OP_CONV3X3 = 0
OP_CONV1X1 = 1
OP_MAXPOOL3X3 = 2
OP_INPUT = -1
OP_OUTPUT = -2
OP_PAD = -3
OP_CODES: dict[str, int] = {
    "input": OP_INPUT,
    "output": OP_OUTPUT,
    "conv3x3-bn-relu": OP_CONV3X3,
    "conv1x1-bn-relu": OP_CONV1X1,
    "maxpool3x3": OP_MAXPOOL3X3,
}
OP_NAMES: dict[int, str] = {code: name for name, code in OP_CODES.items()}
COST_KEYS = ("params", "flops", "benchmark_flops", "relu_units")


def _as_batch(
    matrix: np.ndarray, ops: np.ndarray, n_vertices: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate the batch layout cheaply (whole-array checks) and return typed arrays."""
    m = np.asarray(matrix).astype(bool, copy=False)
    o = np.asarray(ops).astype(np.int64)
    nv = np.asarray(n_vertices).astype(np.int64)
    n = m.shape[0]
    if m.shape != (n, MAX_VERTICES, MAX_VERTICES) or o.shape != (n, MAX_VERTICES):
        raise ValueError(f"expected (N,7,7) matrix and (N,7) ops, got {m.shape} and {o.shape}")
    if nv.shape != (n,) or (n and (nv.min() < 2 or nv.max() > MAX_VERTICES)):
        raise ValueError("n_vertices must be (N,) with values in 2..7")
    if np.tril(m).any(axis=(1, 2)).any():
        raise ValueError("matrices must be strictly upper triangular")
    idx = np.arange(MAX_VERTICES)
    live = idx[None, :] < nv[:, None]
    if (m & ~(live[:, :, None] & live[:, None, :])).any():
        raise ValueError("rows and columns >= n_vertices must be zero")
    interior = live & (idx[None, :] >= 1) & (idx[None, :] < nv[:, None] - 1)
    rows = np.arange(n)
    bad = (
        (~live & (o != OP_PAD)).any(1)
        | (o[:, 0] != OP_INPUT)
        | (o[rows, nv - 1] != OP_OUTPUT)
        | (interior & ((o < OP_CONV3X3) | (o > OP_MAXPOOL3X3))).any(1)
    )
    if bad.any():
        raise ValueError(f"bad op codes in cell {int(np.flatnonzero(bad)[0])}")
    return m, o, nv


@dataclass(frozen=True)
class _Structure:
    """What the costs need of N cells, independent of widths (int64 0/1 masks, (N, 7))."""

    n_feeders: np.ndarray  # (N,) interior vertices feeding the output
    first_feeder: np.ndarray  # rank among feeders of the lowest feeder v reaches (or is)
    interior: np.ndarray
    projected: np.ndarray  # input -> vertex: a 1x1 conv-BN-ReLU projection
    conv3: np.ndarray
    conv1: np.ndarray
    pool: np.ndarray
    out_projection: np.ndarray  # (N,) input -> output: projection to the cell's width

    def channels(self, out_channels: int) -> np.ndarray:
        """(N, 7) interior channels; feeders hold C // k, plus one for the C % k
        lowest-ranked, so a non-feeder's max over its successors is the channel count of
        the lowest-ranked feeder it reaches (channels never grow along an edge)."""
        k = np.maximum(self.n_feeders, 1)
        base, extra = out_channels // k, out_channels % k
        return self.interior * (base[:, None] + (self.first_feeder < extra[:, None]))


def _structure(m: np.ndarray, o: np.ndarray, nv: np.ndarray) -> _Structure:
    rows = np.arange(m.shape[0])
    idx = np.arange(MAX_VERTICES)[None, :]
    interior = (idx >= 1) & (idx < nv[:, None] - 1)
    feeds = m[rows, :, nv - 1] & interior
    rank = np.cumsum(feeds, 1) - feeds  # feeders with a lower index than v
    first = np.where(feeds, rank, MAX_VERTICES)
    for v in range(MAX_VERTICES - 2, 0, -1):  # successors are final before v is read
        successors = m[:, v, :] & interior
        reached = np.where(successors, first, MAX_VERTICES).min(1)
        first[:, v] = np.where(feeds[:, v], first[:, v], reached)

    def mask(a: np.ndarray) -> np.ndarray:
        return a.astype(np.int64)  # int, as numpy adds bools as logical or

    return _Structure(
        n_feeders=feeds.sum(1),
        first_feeder=first,
        interior=mask(interior),
        projected=mask(m[:, 0, :] & interior),
        conv3=mask(interior & (o == OP_CONV3X3)),
        conv1=mask(interior & (o == OP_CONV1X1)),
        pool=mask(interior & (o == OP_MAXPOOL3X3)),
        out_projection=mask(m[rows, 0, nv - 1]),
    )


def vertex_channels(
    matrix: np.ndarray, ops: np.ndarray, n_vertices: np.ndarray, out_channels: int
) -> np.ndarray:
    """(N, 7) channels of each interior vertex of cells with ``out_channels`` outputs
    (0 at the input, output and padding), by the benchmark's rule (module docstring);
    arguments in the batch layout of :func:`cell_costs`."""
    return _structure(*_as_batch(matrix, ops, n_vertices)).channels(out_channels)


def _stack_terms(s: _Structure, c_out: int) -> dict[str, np.ndarray]:
    """Counts of one cell with ``c_out`` outputs at one spatial position, split so the
    input width can vary: MACs = c_in * ``per_input`` + ``fixed`` (== its conv weights,
    all convs having stride 1); ``bn`` BatchNorm (== ReLU) channels; ``pool9`` channels
    leaving 3x3 max-pools."""
    ch = s.channels(c_out)
    out = s.out_projection * c_out
    return {
        "per_input": (s.projected * ch).sum(1) + out,
        "fixed": ((9 * s.conv3 + s.conv1) * ch * ch).sum(1),
        "bn": ((s.projected + s.conv3 + s.conv1) * ch).sum(1) + out,
        "pool9": (s.pool * ch).sum(1),
    }


def cell_costs(
    matrix: np.ndarray,
    ops: np.ndarray,
    n_vertices: np.ndarray,
    n_classes: int,
    image_size: int,
    stem_channels: int = 128,
    *,
    n_stacks: int = 3,
    cells_per_stack: int = 3,
) -> dict[str, np.ndarray]:
    """``params``, ``flops``, ``benchmark_flops`` and ``relu_units`` (int64 arrays of N)
    of the NAS-Bench-101 network around each of N cells, for one square input of side
    ``image_size`` and ``n_classes`` outputs (definitions in the module docstring).

    Batch layout: ``matrix`` (N,7,7) bool, pruned, strictly upper triangular, vertex 0
    input, vertex V-1 output, rows/cols >= V zero; ``ops`` (N,7) int with -1 input, -2
    output, 0 conv3x3-bn-relu, 1 conv1x1-bn-relu, 2 maxpool3x3, -3 padding;
    ``n_vertices`` (N,). Loops run over vertex positions and stacks only, never over
    cells: all 423 624 cells take about a second."""
    m, o, nv = _as_batch(matrix, ops, n_vertices)
    structure = _structure(m, o, nv)
    n = m.shape[0]
    side = int(image_size)
    c = int(stem_channels)
    area = side * side
    params = np.full(n, 27 * c + 2 * c, dtype=np.int64)  # stem 3x3 conv 3->c, BN
    macs = np.full(n, 27 * c * area, dtype=np.int64)
    bn = np.full(n, c * area, dtype=np.int64)  # BN elements == ReLU elements
    pooling = np.zeros(n, dtype=np.int64)  # kernel^2 per pooled output element
    for stack in range(n_stacks):
        c_first = c  # the first cell of a stack reads the previous width
        if stack > 0:
            side = -(-side // 2)  # 2x2 max-pool, stride 2, "same" padding: ceil
            area = side * side
            pooling += 4 * c * area
            c *= 2
        t = _stack_terms(structure, c)
        inputs = c_first + (cells_per_stack - 1) * c  # sum of c_in over the stack's cells
        weights = inputs * t["per_input"] + cells_per_stack * t["fixed"]
        params += weights + 2 * cells_per_stack * t["bn"]
        macs += weights * area
        bn += cells_per_stack * t["bn"] * area
        pooling += cells_per_stack * 9 * t["pool9"] * area
    pooling += c * area  # global average pool: kernel side^2 per output element
    dense = c * n_classes + n_classes
    params += dense
    benchmark = macs + dense
    return {
        "params": params,
        "flops": benchmark + 2 * bn + bn + pooling,  # BN 2 per element, ReLU 1
        "benchmark_flops": benchmark,
        "relu_units": bn.copy(),
    }


def encode_cell(
    matrix: Sequence[Sequence[int | bool]], ops: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One (V x V matrix, V op names incl. "input"/"output") cell in the batch layout
    (N = 1): padded (1,7,7) bool matrix, (1,7) int8 op codes, (1,) vertex count."""
    v = len(ops)
    small = np.asarray(matrix, dtype=bool)
    if small.shape != (v, v) or not 2 <= v <= MAX_VERTICES:
        raise ValueError(f"a {small.shape} matrix for {v} ops")
    try:
        codes = [OP_CODES[name] for name in ops]
    except KeyError as exc:
        raise ValueError(f"unknown NAS-Bench-101 op {exc.args[0]!r}") from None
    m = np.zeros((1, MAX_VERTICES, MAX_VERTICES), dtype=bool)
    m[0, :v, :v] = small
    o = np.full((1, MAX_VERTICES), OP_PAD, dtype=np.int8)
    o[0, :v] = codes
    return m, o, np.array([v], dtype=np.int64)


def single_cell_cost(
    matrix_list: Sequence[Sequence[int | bool]],
    ops_list: Sequence[str],
    n_classes: int,
    image_size: int,
    stem_channels: int = 128,
) -> dict[str, int]:
    """:func:`cell_costs` of one cell given as a V x V 0/1 matrix (pruned) and V op
    names (``"input"``, ``"conv3x3-bn-relu"``, ``"conv1x1-bn-relu"``, ``"maxpool3x3"``,
    ``"output"``), as plain ints."""
    m, o, nv = encode_cell(matrix_list, ops_list)
    costs = cell_costs(m, o, nv, n_classes, image_size, stem_channels)
    return {key: int(value[0]) for key, value in costs.items()}
