"""The NATS-Bench SSS network (NATS-Bench's "infer.shape.tiny" model), written to
reproduce its parameter counts.

Layers after the stem: cell(c1 -> c1), reduction(c1 -> c2), cell(c2 -> c3),
reduction(c3 -> c4), cell(c4 -> c5); then BN + ReLU, global average pool and a linear
classifier on c5. The cell is the fixed TSS cell of :data:`nats_sss.CELL`; its edges
from node 0 map c_in -> c_out, all others work at c_out. A skip edge between different
widths is a 1x1 convolution + BN. (NATS-Bench's module for it also owns a ReLU that
its stride-1 forward never calls; leaving it out changes no parameter, FLOP or any
ReLU a forward hook sees.)
"""

from __future__ import annotations

import torch
from torch import nn

from tfnas_db.scoring.spaces.nats_sss import CELL, layer_widths, parse_arch
from tfnas_db.scoring.spaces.nats_tss import EDGES
from tfnas_db.scoring.spaces.nats_tss import parse_arch as parse_cell
from tfnas_db.scoring.spaces.nats_tss_net import CellDag, ReLUConvBN, ResNetReduction


class WidthProjection(nn.Sequential):
    """The skip edge between two widths: 1x1 conv (no bias) + BN, no activation."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__(
            nn.Conv2d(c_in, c_out, 1, stride=1, padding=0, bias=False),
            nn.BatchNorm2d(c_out, affine=True, track_running_stats=True),
        )


def make_edge(op: str, c_in: int, c_out: int) -> nn.Module:
    if op == "nor_conv_3x3":
        return ReLUConvBN(c_in, c_out, 3, 1)
    if op == "nor_conv_1x1":
        return ReLUConvBN(c_in, c_out, 1, 1)
    if op == "skip_connect":
        return nn.Identity() if c_in == c_out else WidthProjection(c_in, c_out)
    raise ValueError(f"op {op!r} does not occur in the nats-sss cell")


class WidthCell(CellDag):
    """The fixed TSS cell at searched widths: edges from node 0 map c_in -> c_out."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        ops = parse_cell(CELL)
        self.edges = nn.ModuleList(
            make_edge(op, c_in if source == 0 else c_out, c_out)
            for op, (_target, source) in zip(ops, EDGES, strict=True)
        )


class NatsSssNetwork(nn.Module):
    def __init__(self, arch_str: str, n_classes: int) -> None:
        super().__init__()
        config = parse_arch(arch_str)
        self.arch_str = arch_str
        c1 = config[0]
        self.stem = nn.Sequential(nn.Conv2d(3, c1, 3, padding=1, bias=False), nn.BatchNorm2d(c1))
        self.cells = nn.Sequential(
            *(
                ResNetReduction(c_in, c_out) if reduces else WidthCell(c_in, c_out)
                for c_in, c_out, reduces in layer_widths(config)
            )
        )
        width = config[-1]
        self.lastact = nn.Sequential(nn.BatchNorm2d(width), nn.ReLU(inplace=False))
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(width, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.lastact(self.cells(self.stem(x)))
        return self.classifier(torch.flatten(self.global_pool(features), 1))


def build_network(arch_str: str, n_classes: int) -> NatsSssNetwork:
    """A freshly initialised network in train mode (PyTorch default init; seed outside)."""
    net = NatsSssNetwork(arch_str, n_classes)
    net.train()
    return net
