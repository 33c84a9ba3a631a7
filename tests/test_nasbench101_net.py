"""The NAS-Bench-101 network (Ying et al., ICML 2019) and its size by arithmetic.

What is checked, and why it is enough to trust the counts:

* parameters against ``trainable_parameters`` that the benchmark's dataset publishes for
  four cells (two of them isomorphic forms of one cell) and against the dataset's
  maximum, 49 979 274 (the all-3x3 chain, found by the closed form over every 7-vertex
  matrix; the figure appears as ``MAX_TP`` in public analysis code of the dataset);
  these exercise the channel split with remainders, truncation, and input projections;
* a tiny cell by hand;
* for random pruned cells, the closed form (``nasbench101_cost``) against forward hooks
  on the torch network: parameters, FLOPs under the project's rule, the benchmark-style
  conv+linear FLOPs and ReLU units, including an odd input side (TF "same" pooling);
* the vectorised form against itself one cell at a time.

TF and PyTorch could only disagree on shapes (they do not for these layers) or on which
variables count: TF's trainable variables are conv kernels, BN gamma/beta and the dense
kernel and bias, as ``parameters()`` here; BN moving statistics are buffers in both.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch
from torch import nn

from tfnas_db.scoring.passes import relu_modules
from tfnas_db.scoring.regression_proxy import RegressionSettings, StagedNetwork, regression_losses
from tfnas_db.scoring.spaces.nasbench101_cost import (
    OP_CODES,
    cell_costs,
    encode_cell,
    single_cell_cost,
    vertex_channels,
)
from tfnas_db.scoring.spaces.nasbench101_net import (
    BN_MOMENTUM,
    build_network,
    compute_vertex_channels,
)
from tfnas_db.scoring.synthetic_signals import GENNAS_NB201, stage_targets

IN, OUT = "input", "output"
C3, C1, MP = "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"
INTERIOR = (C3, C1, MP)

Cell = tuple[list[list[int]], list[str]]

# (matrix, ops, trainable_parameters) as NAS-Bench-101's dataset records them for CIFAR-10
PUBLISHED: list[tuple[list[list[int]], list[str], int]] = [
    (  # the README's Inception-like cell, queried in the benchmark's Colab notebook
        [
            [0, 1, 1, 1, 0, 1, 0],
            [0, 0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 1, 0, 0],
            [0, 0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0, 0, 0],
        ],
        [IN, C1, C3, C3, C3, MP, OUT],
        2694282,
    ),
    (  # the same cell in the isomorphic form the dataset stores (printed by the notebook)
        [
            [0, 1, 1, 1, 1, 0, 0],
            [0, 0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0, 1, 0],
            [0, 0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0, 0, 0],
        ],
        [IN, C3, C1, MP, C3, C3, OUT],
        2694282,
    ),
    (  # the dataset's first record (many public extraction scripts print it)
        [
            [0, 1, 0, 0, 1, 1, 0],
            [0, 0, 1, 0, 0, 0, 0],
            [0, 0, 0, 1, 0, 0, 1],
            [0, 0, 0, 0, 0, 1, 0],
            [0, 0, 0, 0, 0, 1, 0],
            [0, 0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0, 0, 0],
        ],
        [IN, C3, MP, C3, C3, C1, OUT],
        8555530,
    ),
    (  # hash 00019e2c..., printed with NASLib's nb101 API
        [
            [0, 1, 0, 1, 0, 0, 0],
            [0, 0, 1, 0, 1, 1, 0],
            [0, 0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 1, 0, 0],
            [0, 0, 0, 0, 0, 1, 0],
            [0, 0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0, 0, 0],
        ],
        [IN, MP, C3, MP, C1, MP, OUT],
        3468426,
    ),
    (  # the largest network of the dataset: input into a chain of five 3x3 convs
        [
            [0, 1, 1, 1, 1, 0, 0],
            [0, 0, 1, 0, 0, 0, 0],
            [0, 0, 0, 1, 0, 0, 0],
            [0, 0, 0, 0, 1, 0, 0],
            [0, 0, 0, 0, 0, 1, 0],
            [0, 0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0, 0, 0],
        ],
        [IN, C3, C3, C3, C3, C3, OUT],
        49979274,
    ),
]


# ---------------------------------------------------------------- random valid cells


def _prune(matrix: np.ndarray, ops: list[str]) -> Cell | None:
    """Drop vertices off every input-output path (NAS-Bench-101's ModelSpec pruning);
    None when the output is unreachable or more than 9 edges remain."""
    v = len(ops)
    from_input = np.zeros(v, bool)
    from_input[0] = True
    for t in range(1, v):
        from_input[t] = (from_input[:t] & matrix[:t, t]).any()
    to_output = np.zeros(v, bool)
    to_output[-1] = True
    for t in range(v - 2, -1, -1):
        to_output[t] = (matrix[t, t + 1 :] & to_output[t + 1 :]).any()
    if not to_output[0]:
        return None
    keep = np.flatnonzero(from_input & to_output)
    small = matrix[np.ix_(keep, keep)]
    if small.sum() > 9:
        return None
    return small.astype(int).tolist(), [ops[i] for i in keep]


def random_cells(count: int, seed: int) -> list[Cell]:
    """``count`` random valid cells (pruned, <= 9 edges), mostly of 7 vertices as in the
    dataset, some of 2 to 6: a random 7x7 upper-triangular matrix over the first V
    vertices gets one edge into and one out of each interior vertex, then random extra
    edges; each is pruned and kept while it has at most 9 edges."""
    rng = np.random.default_rng(seed)
    cells: list[Cell] = []
    while len(cells) < count:
        v = int(rng.choice([2, 3, 4, 5, 6, 7], p=[0.02, 0.04, 0.08, 0.12, 0.2, 0.54]))
        matrix = np.zeros((7, 7), bool)
        for t in range(1, v - 1):
            matrix[rng.integers(0, t), t] = True
            matrix[t, rng.integers(t + 1, v)] = True
        if v == 2:
            matrix[0, 1] = True
        extra = np.triu(rng.random((v, v)) < rng.uniform(0.0, 0.2), 1)
        matrix[:v, :v] |= extra
        ops = [IN, *(INTERIOR[i] for i in rng.integers(0, 3, v - 2)), OUT]
        cell = _prune(matrix[:v, :v], ops)
        if cell is not None:
            cells.append(cell)
    return cells


def batch_of(cells: list[Cell]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    parts = [encode_cell(m, o) for m, o in cells]
    return tuple(np.concatenate(p) for p in zip(*parts, strict=True))  # type: ignore[return-value]


# ---------------------------------------------------------------- counting by hooks


def hooked_counts(net: nn.Module, image_size: int) -> dict[str, int]:
    """params, flops (project rule), benchmark_flops and relu_units of one forward."""
    counts = dict.fromkeys(("flops", "benchmark_flops", "relu_units"), 0)

    def hook(module: nn.Module, args: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        x = args[0]
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            macs = out.numel() * module.in_channels * k
            counts["flops"] += macs
            counts["benchmark_flops"] += macs
        elif isinstance(module, nn.Linear):
            macs = module.in_features * module.out_features + module.out_features
            counts["flops"] += macs
            counts["benchmark_flops"] += macs
        elif isinstance(module, nn.MaxPool2d):
            counts["flops"] += out.numel() * module.kernel_size**2  # type: ignore[operator]
        elif isinstance(module, nn.AdaptiveAvgPool2d):
            counts["flops"] += x.numel()
        elif isinstance(module, nn.BatchNorm2d):
            counts["flops"] += 2 * x.numel()
        elif isinstance(module, nn.ReLU):
            counts["flops"] += x.numel()
            counts["relu_units"] += x.numel()

    handles = [m.register_forward_hook(hook) for m in net.modules() if not list(m.children())]
    with torch.no_grad():
        net(torch.zeros(1, 3, image_size, image_size))
    for h in handles:
        h.remove()
    counts["params"] = sum(p.numel() for p in net.parameters())
    return counts


# ---------------------------------------------------------------- tests


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    """Tiny forwards on a shared 2-core machine: a second OpenMP thread only spins."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_tiny_cell_by_hand() -> None:
    """input -> conv3x3 -> output, CIFAR-10 (32x32, 10 classes), 128 stem channels.

    Each cell: a 1x1 projection c_in -> c (the input always goes through one) and the
    3x3 conv c -> c, each conv followed by BN (2c parameters) and ReLU."""
    matrix, ops = [[0, 1, 0], [0, 0, 1], [0, 0, 0]], [IN, C3, OUT]
    params = (
        (3 * 128 * 9 + 2 * 128)  # stem
        + 3 * ((128 * 128 + 2 * 128) + (9 * 128 * 128 + 2 * 128))  # stack 0, 3 cells
        + (128 * 256 + 2 * 256)
        + (9 * 256 * 256 + 2 * 256)  # stack 1, first cell
        + 2 * ((256 * 256 + 2 * 256) + (9 * 256 * 256 + 2 * 256))  # stack 1, 2 more
        + (256 * 512 + 2 * 512)
        + (9 * 512 * 512 + 2 * 512)  # stack 2, first cell
        + 2 * ((512 * 512 + 2 * 512) + (9 * 512 * 512 + 2 * 512))  # stack 2, 2 more
        + (512 * 10 + 10)  # classifier
    )
    assert params == 10_177_674
    macs = (
        3 * 128 * 9 * 32 * 32  # stem at 32x32
        + 3 * (128 * 128 + 9 * 128 * 128) * 32 * 32  # stack 0
        + (128 * 256 + 9 * 256 * 256 + 2 * (256 * 256 + 9 * 256 * 256)) * 16 * 16
        + (256 * 512 + 9 * 512 * 512 + 2 * (512 * 512 + 9 * 512 * 512)) * 8 * 8
    )
    benchmark_flops = macs + 512 * 10 + 10
    # ReLU inputs (== BN outputs): stem, then per cell the projection and the conv (2c)
    relu = 128 * 32 * 32 + 3 * 2 * 128 * 32 * 32 + 3 * 2 * 256 * 16 * 16 + 3 * 2 * 512 * 8 * 8
    pooling = (
        4 * 128 * 16 * 16  # 2x2 max-pool before stack 1 (kernel^2 per output element)
        + 4 * 256 * 8 * 8  # before stack 2
        + 512 * 8 * 8  # global average pool
    )
    flops = benchmark_flops + 2 * relu + relu + pooling  # BN 2 per element, ReLU 1
    expected = {
        "params": params,
        "flops": flops,
        "benchmark_flops": benchmark_flops,
        "relu_units": relu,
    }
    assert single_cell_cost(matrix, ops, 10, 32) == expected
    assert hooked_counts(build_network(matrix, ops, 10).eval(), 32) == expected


@pytest.mark.parametrize(("matrix", "ops", "published"), PUBLISHED)
def test_published_trainable_parameters(
    matrix: list[list[int]], ops: list[str], published: int
) -> None:
    assert single_cell_cost(matrix, ops, 10, 32)["params"] == published
    with torch.device("meta"):  # counts shapes without allocating 50M weights
        net = build_network(matrix, ops, 10)
    assert sum(p.numel() for p in net.parameters()) == published


def test_vertex_channels_follow_the_benchmark_rule() -> None:
    """(c_in, c_out, matrix) -> channels per vertex, worked by the paper's rule: the
    output's inputs split c_out (remainder to the lowest-numbered), others take the max
    of their successors (values as in the benchmark's own unit tests)."""
    chain = [[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]]
    fork = [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]]
    three = [[0, 1, 1, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0] * 5]
    inner = [[0, 1, 0, 0, 0], [0, 0, 1, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0] * 5]
    skip = [[0, 1, 0, 1, 0], [0, 0, 1, 0, 1], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [0] * 5]
    cases = [
        (8, 16, chain, [8, 16, 16, 16]),
        (16, 8, chain, [16, 8, 8, 8]),
        (5, 1, [[0, 1], [0, 0]], [5, 1]),
        (8, 15, fork, [8, 8, 7, 15]),
        (8, 8, three, [8, 3, 3, 2, 8]),
        (8, 15, three, [8, 5, 5, 5, 15]),
        (8, 9, inner, [8, 5, 5, 4, 9]),
        (8, 15, skip, [8, 8, 7, 7, 15]),
    ]
    for c_in, c_out, matrix, expected in cases:
        assert compute_vertex_channels(c_in, c_out, np.array(matrix, bool)) == expected
        v = len(matrix)
        m, o, nv = encode_cell(matrix, [IN, *[C3] * (v - 2), OUT])
        interior = vertex_channels(m, o, nv, c_out)[0, 1 : v - 1].tolist()
        assert interior == expected[1:-1]


def test_random_cells_match_a_hooked_forward() -> None:
    """30 random cells at 16 stem channels (CIFAR 32x32 and an odd side, where the
    stride-2 pools round up as TF's "same" padding), two more at the benchmark's 128."""
    cells = [([[0, 1], [0, 0]], [IN, OUT]), *random_cells(29, seed=1)]  # + input->output
    assert {len(ops) for _, ops in cells} == {2, 3, 4, 5, 6, 7}
    assert any(m[0][-1] and len(m) > 2 for m, _ in cells)  # concat plus input projection
    for image_size, n_classes in ((32, 10), (15, 120)):
        m, o, nv = batch_of(cells)
        batch = cell_costs(m, o, nv, n_classes, image_size, stem_channels=16)
        for i, (matrix, ops) in enumerate(cells[: 30 if image_size == 32 else 8]):
            net = build_network(matrix, ops, n_classes, stem_channels=16).eval()
            hooked = hooked_counts(net, image_size)
            assert {k: int(v[i]) for k, v in batch.items()} == hooked, (matrix, ops)
    for matrix, ops in random_cells(2, seed=2):
        net = build_network(matrix, ops, 10).eval()
        assert single_cell_cost(matrix, ops, 10, 32) == hooked_counts(net, 32), (matrix, ops)


def test_vectorised_costs_equal_one_cell_at_a_time() -> None:
    cells = random_cells(2000, seed=3)
    m, o, nv = batch_of(cells)
    for image_size, n_classes, stem in ((32, 10, 128), (16, 120, 128), (32, 100, 16)):
        batch = cell_costs(m, o, nv, n_classes, image_size, stem_channels=stem)
        assert all(v.dtype == np.int64 and v.shape == (2000,) for v in batch.values())
        for i, (matrix, ops) in enumerate(cells):
            single = single_cell_cost(matrix, ops, n_classes, image_size, stem)
            assert single == {k: int(v[i]) for k, v in batch.items()}, (matrix, ops)


def test_batch_layout_builds_the_same_network() -> None:
    for matrix, ops in random_cells(5, seed=4):
        m, o, _ = encode_cell(matrix, ops)
        a = build_network(matrix, ops, 10, stem_channels=8)
        b = build_network(m[0], o[0], 10, stem_channels=8)
        assert [p.shape for p in a.parameters()] == [p.shape for p in b.parameters()]


def test_layout_bn_and_stage_outputs() -> None:
    net = build_network(*PUBLISHED[2][:2], 10, stem_channels=8)
    assert isinstance(net, StagedNetwork)
    assert net.stage_channels == (8, 16, 32)
    assert len(net.cells) == 11  # 3 cells, max-pool, 3 cells, max-pool, 3 cells
    assert all(m.training for m in net.modules())
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    assert all(bn.momentum == BN_MOMENTUM and bn.eps == 1e-5 and bn.affine for bn in bns)
    assert not any(m.bias is not None for m in net.modules() if isinstance(m, nn.Conv2d))
    x = torch.randn(2, 3, 32, 32)
    assert [tuple(s.shape) for s in net.stage_outputs(x)] == [
        (2, 8, 32, 32),
        (2, 16, 16, 16),
        (2, 32, 8, 8),
    ]
    assert net(x).shape == (2, 10)


def test_regression_proxy_trains_on_the_stage_outputs() -> None:
    """What loss_slope needs: the regression proxy runs on the network's stages."""
    torch.manual_seed(0)
    net = build_network(*PUBLISHED[3][:2], 10, stem_channels=8)
    inputs = torch.randn(4, 3, 32, 32)
    rng = np.random.default_rng(0)
    targets = [torch.from_numpy(t) for t in stage_targets(inputs.numpy(), GENNAS_NB201, rng)]
    curve = regression_losses(net, inputs, targets, seed=0, settings=RegressionSettings(steps=2))
    assert curve.losses.shape == (2,) and np.isfinite(curve.losses).all()


def test_every_relu_reaches_the_output() -> None:
    """Truncation drops at most one channel of a vertex, never a whole ReLU, so NASWOT's
    backward marking pass would keep every ReLU (as in nats-tss)."""
    for matrix, ops in random_cells(4, seed=5):
        net = build_network(matrix, ops, 10, stem_channels=8)
        modules = relu_modules(net)
        seen: set[int] = set()

        def mark(mod: nn.Module, _gi: object, _go: object, marks: set[int] = seen) -> None:
            marks.add(id(mod))

        for module in modules:
            module.register_full_backward_hook(mark)
        net(torch.randn(2, 3, 16, 16, requires_grad=True)).sum().backward()
        assert seen == {id(m) for m in modules}, (matrix, ops)


def test_bad_cells_are_refused() -> None:
    dangling = [[0, 1, 1], [0, 0, 0], [0, 0, 0]]  # vertex 1 does not reach the output
    with pytest.raises(ValueError, match="pruned"):
        build_network(dangling, [IN, C3, OUT], 10)
    with pytest.raises(ValueError, match="unknown"):
        build_network([[0, 1, 0], [0, 0, 1], [0, 0, 0]], [IN, "conv5x5", OUT], 10)
    m, o, nv = encode_cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], [IN, MP, OUT])
    o[0, 1] = OP_CODES[IN]
    with pytest.raises(ValueError, match="op codes"):
        cell_costs(m, o, nv, 10, 32)
    m[0, 2, 1] = True
    with pytest.raises(ValueError, match="upper triangular"):
        cell_costs(m, o, nv, 10, 32)
