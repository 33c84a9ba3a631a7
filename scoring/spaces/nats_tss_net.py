"""The NATS-Bench TSS network (C=16, N=5), written to reproduce its parameter counts.

Layout (SPEC 2.1): stem Conv3x3+BN; 5 cells at C; ResNet reduction to 2C; 5 cells at 2C;
reduction to 4C; 5 cells at 4C; BN+ReLU; global average pool; Linear. ``none`` multiplies
by zero (so it stays in the autograd graph, as in NATS-Bench), ``nor_conv_kxk`` is
ReLU-Conv-BN, ``avg_pool_3x3`` excludes padding from the average.
"""

from __future__ import annotations

import torch
from torch import nn

from tfnas_db.scoring.spaces.nats_tss import EDGES, parse_arch
from tfnas_db.scoring.spaces.staged import stage_outputs

STEM_CHANNELS = 16
CELLS_PER_STAGE = 5


class Zero(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


class ReLUConvBN(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out, affine=True, track_running_stats=True),
        )


def make_op(op: str, channels: int) -> nn.Module:
    if op == "none":
        return Zero()
    if op == "skip_connect":
        return nn.Identity()
    if op == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1, 1)
    if op == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3, 1)
    if op == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(f"unknown nats-tss op {op!r}")


class CellDag(nn.Module):
    """4-node DAG: node i = sum over j < i of op_(i,j)(node j); output = node 3.

    Subclasses build ``edges``, one module per edge in :data:`EDGES` order; the SSS cell is
    this DAG with fixed ops and searched widths."""

    edges: nn.ModuleList

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for node in (1, 2, 3):
            total: torch.Tensor | None = None
            for edge, (target, source) in zip(self.edges, EDGES, strict=True):
                if target == node:
                    out = edge(nodes[source])
                    total = out if total is None else total + out
            assert total is not None
            nodes.append(total)
        return nodes[3]


class Cell(CellDag):
    def __init__(self, cell: tuple[str, ...], channels: int) -> None:
        super().__init__()
        self.edges = nn.ModuleList(make_op(op, channels) for op in cell)


class ResNetReduction(nn.Module):
    """ResNet basic block with stride 2: a, b are ReLU-Conv3x3-BN; shortcut AvgPool+Conv1x1."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1)
        self.shortcut = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(c_in, c_out, kernel_size=1, stride=1, padding=0, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.conv_b(self.conv_a(x))


class NatsTssNetwork(nn.Module):
    def __init__(self, arch_str: str, n_classes: int) -> None:
        super().__init__()
        cell = parse_arch(arch_str)
        self.arch_str = arch_str
        c = STEM_CHANNELS
        self.stem = nn.Sequential(nn.Conv2d(3, c, 3, padding=1, bias=False), nn.BatchNorm2d(c))
        layers: list[nn.Module] = []
        stage_ends: list[int] = []
        for stage, width in enumerate((c, 2 * c, 4 * c)):
            if stage > 0:
                layers.append(ResNetReduction(width // 2, width))
            layers.extend(Cell(cell, width) for _ in range(CELLS_PER_STAGE))
            stage_ends.append(len(layers))
        self.cells = nn.Sequential(*layers)
        self.stage_ends = tuple(stage_ends)  # index in ``cells`` just after each cell stack
        self.stage_channels = (c, 2 * c, 4 * c)
        self.lastact = nn.Sequential(nn.BatchNorm2d(4 * c), nn.ReLU(inplace=False))
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(4 * c, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.lastact(self.cells(self.stem(x)))
        return self.classifier(torch.flatten(self.global_pool(features), 1))

    def stage_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The feature maps after each of the three cell stacks (before the reductions, and
        before the final BN-ReLU): the classifier-free network GenNAS's regression proxy
        task, and ET-NAS's LossSlope, attach their heads to."""
        return stage_outputs(self.stem, self.cells, self.stage_ends, x)


def build_network(arch_str: str, n_classes: int) -> NatsTssNetwork:
    """A freshly initialised network in train mode (PyTorch default init; seed outside)."""
    net = NatsTssNetwork(arch_str, n_classes)
    net.train()
    return net
