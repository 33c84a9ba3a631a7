"""The NAS-Bench-101 network (Ying et al., ICML 2019), written to reproduce the benchmark's
``trainable_parameters``.

Layout (paper section 2.1 and its public TensorFlow model builder): stem 3x3
conv-BN-ReLU with ``stem_channels`` (128) outputs; ``n_stacks`` (3) stacks of
``cells_per_stack`` (3) cells; before every stack but the first a 2x2 max-pool of stride
2 with TF "same" padding (``ceil_mode=True``: the same output side for odd inputs), after
which the stack's first cell doubles the channels; global average pool; dense classifier
with bias. Convolutions have no bias; BatchNorm has a trainable scale and offset, TF's
``momentum=0.997`` (PyTorch ``momentum=0.003``: PyTorch weighs the new batch by momentum,
TF the running value) and ``eps=1e-5``; ReLUs are plain ``nn.ReLU`` modules, never
in-place, so hooks see every activation once.

A cell (the benchmark's rules; :mod:`tfnas_db.scoring.spaces.nasbench101_cost` states
them) splits its output channels among the interior vertices feeding the output, sizes
every other vertex as the max of its successors, projects the cell input with a 1x1
conv-BN-ReLU into each vertex it feeds, truncates interior inputs to the receiving
vertex's channels, sums them, applies the vertex op, and concatenates the output's
interior inputs, adding a projection of the input when the input feeds the output (or
returning that projection alone when no interior vertex does).

Differences from the TensorFlow original that do not change any count: initialisation is
PyTorch's default (the benchmark used TF's fan-in variance scaling for convolutions and
Glorot-uniform for the dense layer; seed outside, as for the project's other spaces);
data layout is NCHW. Parameter counts equal published ``trainable_parameters`` and the
closed form of ``nasbench101_cost``, and hooks on a forward reproduce its FLOPs and ReLU
units (tests/test_nasbench101_net.py). The PyTorch port NASBench-PyTorch differs: it uses
BN momentum 0.1, and the version read gives every vertex without a projection or op a
scalar placeholder parameter that TF lacks, so its parameter counts run a few high.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from tfnas_db.scoring.recompute import checkpointed
from tfnas_db.scoring.spaces.nasbench101_cost import (
    OP_CODES,
    OP_CONV1X1,
    OP_CONV3X3,
    OP_INPUT,
    OP_MAXPOOL3X3,
    OP_OUTPUT,
    OP_PAD,
)
from tfnas_db.scoring.spaces.staged import stage_outputs

BN_MOMENTUM = 1.0 - 0.997  # TF's decay 0.997 in PyTorch's convention
BN_EPS = 1e-5
# Recompute each stack's activations in backward passes (memory: see NasBench101Network).
RECOMPUTE_STACKS = True


class ConvBnRelu(nn.Sequential):
    """conv (no bias, "same" padding, stride 1) -> BN (affine) -> ReLU: every conv of the
    benchmark, the stem and the 1x1 input projections included."""

    def __init__(self, c_in: int, c_out: int, kernel: int) -> None:
        super().__init__(
            nn.Conv2d(c_in, c_out, kernel, stride=1, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out, eps=BN_EPS, momentum=BN_MOMENTUM),
            nn.ReLU(inplace=False),
        )


def cell_spec(
    matrix: Sequence[Sequence[int | bool]] | np.ndarray, ops: Sequence[str | int] | np.ndarray
) -> tuple[np.ndarray, tuple[int, ...]]:
    """One cell as a (V, V) bool matrix and V op codes, from either accepted form:
    a V x V 0/1 matrix with V op names (``"input"``, ``"conv3x3-bn-relu"``,
    ``"conv1x1-bn-relu"``, ``"maxpool3x3"``, ``"output"``), or one row of the batch
    layout, a (7, 7) matrix with (7,) int codes (-1 input, -2 output, 0/1/2 ops, -3
    padding). Raises ValueError unless the cell is pruned (every vertex on a path from
    the input to the output) and strictly upper triangular."""
    items = list(ops.tolist() if isinstance(ops, np.ndarray) else ops)
    if items and all(isinstance(op, str) for op in items):
        try:
            codes = [OP_CODES[op] for op in items]
        except KeyError as exc:
            raise ValueError(f"unknown NAS-Bench-101 op {exc.args[0]!r}") from None
    else:
        codes = [int(op) for op in items]
        while codes and codes[-1] == OP_PAD:
            codes.pop()
    v = len(codes)
    m = np.asarray(matrix).astype(bool)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] < v or m[v:].any() or m[:, v:].any():
        raise ValueError(f"a {m.shape} matrix does not fit {v} ops")
    m = m[:v, :v]
    if v < 2 or codes[0] != OP_INPUT or codes[-1] != OP_OUTPUT:
        raise ValueError("ops must run from input to output")
    if any(c not in (OP_CONV3X3, OP_CONV1X1, OP_MAXPOOL3X3) for c in codes[1:-1]):
        raise ValueError(f"bad interior ops {codes[1:-1]}")
    if np.tril(m).any():
        raise ValueError("the matrix must be strictly upper triangular")
    from_input = [True] + [False] * (v - 1)
    for t in range(1, v):
        from_input[t] = any(from_input[s] and m[s, t] for s in range(t))
    to_output = [False] * (v - 1) + [True]
    for t in range(v - 2, -1, -1):
        to_output[t] = any(m[t, d] and to_output[d] for d in range(t + 1, v))
    if not all(from_input) or not all(to_output):
        raise ValueError("the cell is not pruned: every vertex must lie on an input-output path")
    return m, tuple(codes)


def compute_vertex_channels(c_in: int, c_out: int, matrix: np.ndarray) -> list[int]:
    """Channels of every vertex of one pruned cell, by NAS-Bench-101's rule: the output's
    interior inputs split ``c_out`` (remainder one each to the lowest-numbered), other
    interior vertices take the max of their interior successors, the input keeps
    ``c_in``. A per-cell loop, kept apart from the vectorised closed form so that tests
    comparing the two check the rule twice."""
    v = matrix.shape[0]
    channels = [0] * v
    channels[0], channels[-1] = c_in, c_out
    feeders = [t for t in range(1, v - 1) if matrix[t, v - 1]]
    if feeders:
        base, extra = divmod(c_out, len(feeders))
        for rank, t in enumerate(feeders):
            channels[t] = base + (1 if rank < extra else 0)
    for t in range(v - 2, 0, -1):
        if not matrix[t, v - 1]:
            channels[t] = max(channels[d] for d in range(t + 1, v - 1) if matrix[t, d])
    return channels


class Cell(nn.Module):
    """One NAS-Bench-101 module (the paper's "cell") mapping c_in to c_out channels."""

    def __init__(self, matrix: np.ndarray, ops: Sequence[int], c_in: int, c_out: int) -> None:
        super().__init__()
        v = matrix.shape[0]
        self.channels = compute_vertex_channels(c_in, c_out, matrix)
        # per interior vertex: the interior vertices it sums (truncated) and whether the
        # projected input joins them
        self.sources = [[s for s in range(1, t) if matrix[s, t]] for t in range(v - 1)]
        self.from_input = [bool(matrix[0, t]) for t in range(v)]
        self.concat = [t for t in range(1, v - 1) if matrix[t, v - 1]]
        self.projections = nn.ModuleDict(
            {str(t): ConvBnRelu(c_in, self.channels[t], 1) for t in range(1, v) if matrix[0, t]}
        )
        self.ops = nn.ModuleDict(
            {str(t): self._make_op(ops[t], self.channels[t]) for t in range(1, v - 1)}
        )

    @staticmethod
    def _make_op(op: int, channels: int) -> nn.Module:
        if op == OP_CONV3X3:
            return ConvBnRelu(channels, channels, 3)
        if op == OP_CONV1X1:
            return ConvBnRelu(channels, channels, 1)
        if op == OP_MAXPOOL3X3:
            return nn.MaxPool2d(3, stride=1, padding=1)  # pads with -inf, as TF "same"
        raise ValueError(f"bad op code {op}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v = len(self.channels)
        tensors: list[torch.Tensor] = [x]
        for t in range(1, v - 1):
            width = self.channels[t]
            terms = [tensors[s][:, :width] for s in self.sources[t]]
            if self.from_input[t]:
                terms.append(self.projections[str(t)](x))
            total = terms[0]
            for term in terms[1:]:
                total = total + term
            tensors.append(self.ops[str(t)](total))
        if not self.concat:  # only the input feeds the output
            return self.projections[str(v - 1)](x)
        parts = [tensors[t] for t in self.concat]
        out = parts[0] if len(parts) == 1 else torch.cat(parts, 1)
        if self.from_input[v - 1]:
            out = out + self.projections[str(v - 1)](x)
        return out


class NasBench101Network(nn.Module):
    """Stem, stacks of cells with max-pool downsampling, global pool, classifier."""

    def __init__(
        self,
        matrix: np.ndarray,
        ops: Sequence[int],
        n_classes: int,
        stem_channels: int = 128,
        n_stacks: int = 3,
        cells_per_stack: int = 3,
    ) -> None:
        super().__init__()
        self.matrix = matrix
        self.op_codes = tuple(ops)
        c = stem_channels
        self.stem = ConvBnRelu(3, c, 3)
        layers: list[nn.Module] = []
        stage_ends: list[int] = []
        stage_channels: list[int] = []
        for stack in range(n_stacks):
            c_in = c
            if stack > 0:
                layers.append(nn.MaxPool2d(2, stride=2, ceil_mode=True))
                c *= 2
            for _ in range(cells_per_stack):
                layers.append(Cell(matrix, ops, c_in, c))
                c_in = c
            stage_ends.append(len(layers))
            stage_channels.append(c)
        self.cells = nn.Sequential(*layers)
        self.stage_ends = tuple(stage_ends)  # index in ``cells`` just after each stack
        self.stage_channels = tuple(stage_channels)
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, n_classes)
        self.recompute_stacks = RECOMPUTE_STACKS

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        start = 0
        for end in self.stage_ends:
            x = self._stack(x, start, end)
            start = end
        return self.classifier(torch.flatten(self.global_pool(x), 1))

    def _stack(self, x: torch.Tensor, start: int, end: int) -> torch.Tensor:
        """One stack (its max-pool and cells); with ``recompute_stacks`` its activations
        are recomputed in a backward pass instead of kept: a scorer that back-propagates
        a batch of 128 then holds one stack's activations, not three (see
        :mod:`tfnas_db.scoring.recompute`; the gradients are the same)."""

        def run(h: torch.Tensor) -> torch.Tensor:
            for layer in self.cells[start:end]:
                h = layer(h)
            return h

        return checkpointed(run, x) if self.recompute_stacks else run(x)

    def stage_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The feature maps after each stack's last cell (before the next max-pool): the
        classifier-free network GenNAS's regression proxy task, and ET-NAS's LossSlope,
        attach their heads to; the benchmark records the same points ("aux
        activations", minus the stem's)."""
        return stage_outputs(self.stem, self.cells, self.stage_ends, x)


def build_network(
    matrix: Sequence[Sequence[int | bool]] | np.ndarray,
    ops: Sequence[str | int] | np.ndarray,
    n_classes: int,
    stem_channels: int = 128,
    n_stacks: int = 3,
    cells_per_stack: int = 3,
) -> NasBench101Network:
    """A freshly initialised network in train mode (PyTorch default init; seed outside)
    around one pruned cell, given either as a V x V 0/1 matrix with V op names or as one
    row of the batch layout ((7, 7) matrix, (7,) int codes); see :func:`cell_spec`."""
    m, codes = cell_spec(matrix, ops)
    net = NasBench101Network(m, codes, n_classes, stem_channels, n_stacks, cells_per_stack)
    net.train()
    return net
