"""NATS-Bench size search space (SSS): 32 768 channel configurations, without torch.

An architecture is five widths ``c1:c2:c3:c4:c5``, each in {8, 16, ..., 64}, of the
network NATS-Bench trains for its size space (SPEC 2.2): stem to c1, a cell at c1, a
ResNet reduction to c2, a cell from c2 to c3, a reduction to c4, a cell from c4 to c5,
then BN + ReLU, global pooling and the classifier. Every cell is the fixed best TSS cell
:data:`CELL`; a cell whose input and output widths differ widens or narrows on its edges
from node 0 (the 3x3 convolutions take c_in -> c_out, the skip edge becomes a 1x1
convolution + BN), as NATS-Bench's cell does. The network is built in
:mod:`tfnas_db.scoring.spaces.nats_sss_net`.

Index: NATS-Bench enumerates the configurations as nested loops over the candidate
widths, the first stage outermost (``8:8:8:8:8`` is 0, ``8:8:8:8:16`` is 1,
``64:64:64:64:64`` is 32 767), i.e. the index is the configuration read as a base-8
number, c1 most significant. Its archive's ``meta_archs`` list is that enumeration.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from tfnas_db.errors import TfnasError
from tfnas_db.scoring.spaces.base import (
    ArchCost,
    ArchIdentity,
    BenchmarkInfo,
    CategoricalCodes,
    SearchSpaceInfo,
)

SPACE_NAME = "nats-sss"
WIDTHS: tuple[int, ...] = (8, 16, 24, 32, 40, 48, 56, 64)
N_STAGES = 5
N_ARCHS = len(WIDTHS) ** N_STAGES  # 32 768
CELL = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
    "nor_conv_3x3~2|"
)
# Which of the five layers reduce the resolution (ResNet basic blocks with stride 2).
REDUCTION_LAYERS = frozenset({1, 3})

Config = tuple[int, int, int, int, int]

_WIDTH_INDEX = {w: i for i, w in enumerate(WIDTHS)}
_WEIGHTS = tuple(len(WIDTHS) ** (N_STAGES - 1 - i) for i in range(N_STAGES))


def parse_arch(arch_str: str) -> Config:
    """``"8:16:24:32:64"`` -> ``(8, 16, 24, 32, 64)``, naming the bad part on error."""
    parts = arch_str.strip().split(":")
    if len(parts) != N_STAGES:
        raise TfnasError(
            f"malformed nats-sss architecture {arch_str!r}: expected {N_STAGES} widths "
            f"separated by ':' (e.g. 8:16:24:32:64), found {len(parts)}"
        )
    widths = []
    for stage, part in enumerate(parts, start=1):
        text = part.strip()
        if not text.isdigit() or int(text) not in _WIDTH_INDEX:
            raise TfnasError(
                f"malformed nats-sss architecture {arch_str!r}: width {stage} ({part!r}) "
                f"must be one of {', '.join(map(str, WIDTHS))}"
            )
        widths.append(int(text))
    return (widths[0], widths[1], widths[2], widths[3], widths[4])


def format_arch(config: Sequence[int]) -> str:
    if len(config) != N_STAGES or any(w not in _WIDTH_INDEX for w in config):
        raise TfnasError(
            f"a nats-sss configuration is {N_STAGES} widths from "
            f"{', '.join(map(str, WIDTHS))}; got {tuple(config)!r}"
        )
    return ":".join(str(w) for w in config)


@lru_cache(maxsize=65536)
def width_choices(arch_str: str) -> tuple[int, ...]:
    """Positions of the five widths in :data:`WIDTHS`: a mutation moves one by one step."""
    return tuple(_WIDTH_INDEX[w] for w in parse_arch(arch_str))


def arch_of_index(index: int) -> str:
    if not 0 <= index < N_ARCHS:
        raise TfnasError(f"nats-sss index {index} is out of range 0..{N_ARCHS - 1}")
    digits = [(index // weight) % len(WIDTHS) for weight in _WEIGHTS]
    return format_arch([WIDTHS[d] for d in digits])


def index_of_arch(arch_str: str) -> int:
    return sum(c * w for c, w in zip(width_choices(arch_str), _WEIGHTS, strict=True))


def resolve_arch(token: str) -> tuple[int, str]:
    """An architecture given as an index or as a configuration -> ``(index, arch_str)``."""
    text = token.strip()
    if text.lstrip("-").isdigit():
        index = int(text)
        return index, arch_of_index(index)
    index = index_of_arch(text)
    return index, arch_of_index(index)


def identities() -> list[ArchIdentity]:
    """Every configuration in NATS-Bench order (no NASLib key: NASLib has no SSS encoding;
    no isomorphism class: distinct widths are distinct networks)."""
    return [ArchIdentity(index=i, arch_str=arch_of_index(i)) for i in range(N_ARCHS)]


def layer_widths(config: Sequence[int]) -> list[tuple[int, int, bool]]:
    """(input width, output width, reduces) of the five layers after the stem."""
    layers = []
    previous = config[0]
    for layer, width in enumerate(config):
        layers.append((previous, width, layer in REDUCTION_LAYERS))
        previous = width
    return layers


def arch_cost(arch_str: str, n_classes: int, image_size: int) -> ArchCost:
    """Closed-form size of the network :mod:`nats_sss_net` builds (tested against it).

    Counting rule as :class:`~tfnas_db.scoring.spaces.base.ArchCost` (the nats-tss one).
    Per cell from c_in to c_out at side s: two 3x3 ReLU-conv-BN edges from node 0
    (c_in -> c_out), three 3x3 edges inside (c_out), and a skip edge that is the identity
    when c_in = c_out, else a 1x1 conv + BN. Per reduction: ReLU-conv3x3(stride 2)-BN,
    ReLU-conv3x3-BN, and a 2x2 average pool + 1x1 conv shortcut.
    """
    config = parse_arch(arch_str)
    side = image_size
    c1 = config[0]
    params = 27 * c1 + 2 * c1
    macs = 27 * c1 * side**2  # conv and linear multiply-adds (NATS-Bench's FLOPs)
    other = 2 * c1 * side**2  # BN, ReLU and pooling (SPEC 4 adds them)
    relu = 0
    for c_in, c_out, reduces in layer_widths(config):
        if reduces:
            side_in, side = side, side // 2
            e_in, e_out = c_in * side_in**2, c_out * side**2
            params += 9 * c_in * c_out + 2 * c_out + 9 * c_out * c_out + 2 * c_out
            params += c_in * c_out  # shortcut 1x1 conv
            macs += 9 * c_in * e_out + 9 * c_out * e_out + c_in * e_out  # conv_a, conv_b, 1x1
            other += e_in + 2 * e_out + e_out + 2 * e_out  # ReLU, BN of conv_a and conv_b
            other += 4 * c_in * side**2  # 2x2 average pool of the shortcut
            relu += e_in + e_out
        else:
            e_in, e_out = c_in * side**2, c_out * side**2
            params += 2 * (9 * c_in * c_out + 2 * c_out) + 3 * (9 * c_out * c_out + 2 * c_out)
            macs += 2 * 9 * c_in * e_out + 3 * 9 * c_out * e_out
            other += 2 * (e_in + 2 * e_out) + 3 * (e_out + 2 * e_out)
            relu += 2 * e_in + 3 * e_out
            if c_in != c_out:  # the skip edge projects: 1x1 conv + BN, no ReLU
                params += c_in * c_out + 2 * c_out
                macs += c_in * e_out
                other += 2 * e_out
    width = config[-1]
    params += 2 * width + width * n_classes + n_classes  # last BN, classifier
    other += 3 * width * side**2  # last BN + ReLU
    other += width * side**2  # global average pool: kernel side^2 per output
    macs += width * n_classes + n_classes
    relu += width * side**2
    return ArchCost(
        params_m=params / 1e6,
        flops_m=(macs + other) / 1e6,
        relu_units=relu,
        benchmark_flops_m=macs / 1e6,
    )


def width_columns(arch_strs: Sequence[str]) -> dict[str, list[int]]:
    """``c1`` ... ``c5``: the width of each layer (explorer filters)."""
    configs = [parse_arch(a) for a in arch_strs]
    return {f"c{i + 1}": [config[i] for config in configs] for i in range(N_STAGES)}


def network_dot(arch_str: str) -> str:
    """The five layers as a Graphviz chain, widths on the nodes (dashboard drawing)."""
    config = parse_arch(arch_str)
    lines = [
        "digraph network {",
        "  rankdir=LR;",
        '  node [shape=box, style="rounded,filled", fillcolor="#f4f4f4", fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
        f'  stem [label="stem\\n3x3 conv, {config[0]}"];',
    ]
    previous = "stem"
    for layer, (c_in, c_out, reduces) in enumerate(layer_widths(config), start=1):
        if reduces:
            label, colour = f"reduction\\n{c_in} -> {c_out}, stride 2", "#1f77b4"
        else:
            label, colour = f"cell\\n{c_in} -> {c_out}", "#d62728"
        lines.append(f'  l{layer} [label="{label}", color="{colour}", penwidth=2];')
        lines.append(f"  {previous} -> l{layer};")
        previous = f"l{layer}"
    lines.append(f'  head [label="BN, ReLU, pool\\nlinear {config[-1]} -> classes"];')
    lines.append(f"  {previous} -> head;")
    lines.append("}")
    return "\n".join(lines)


# one layer's width up or down by one step (8 -> 16, not 8 -> 64); the code of a
# configuration is its NATS-Bench index (the widths read as a base-8 number, c1 first)
CODES = CategoricalCodes(n_options=len(WIDTHS), length=N_STAGES, steps=(-1, 1), cyclic=False)


def codes_of_indices(indices: np.ndarray) -> np.ndarray:
    """Mutation codes of NATS-Bench indices: the index itself (see :data:`CODES`)."""
    return np.asarray(indices, dtype=np.int64)


SPACE = SearchSpaceInfo(
    name=SPACE_NAME,
    size=N_ARCHS,
    datasets=("cifar10", "cifar100", "ImageNet16-120"),
    description="NATS-Bench size search space: widths c1:c2:c3:c4:c5 in {8..64} on the "
    "fixed best TSS cell",
    arch_of_index=arch_of_index,
    resolve_arch=resolve_arch,
    cost=arch_cost,
    codes=codes_of_indices,
    neighbour_codes=CODES.neighbours,
    identities=identities,
    network_builder="tfnas_db.scoring.spaces.nats_sss_net:build_network",
    drawing="tfnas_db.scoring.spaces.nats_sss:network_dot",
    benchmark=BenchmarkInfo(
        accuracy_hint="tfnas-db import nats-bench --path PATH --space sss (your own "
        "NATS-Bench size-space files, e.g. NATS-sss-v1_0-50262-simple/)",
        full_schedule_epochs=90,
    ),
    feature_columns=width_columns,
    lacks={
        "cell_degree": "ET-NAS Degree counts the convolution and skip edges of a searched "
        "cell, a nats-tss notion; nats-sss searches the widths of one fixed cell, so every "
        "architecture has the same degree"
    },
)
