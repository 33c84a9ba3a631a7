"""nats-sss: index order, parsing, the built network, and the closed-form sizes.

Parameters are checked for all 32 768 configurations without building 32 768 networks:
a network's parameters are exactly those of its top-level parts (stem, five layers,
last BN, classifier; checked on a sample of full builds), and each part depends only on
its own widths. So the parts are built once per width (pair) with the network's own
classes, tabulated, and summed per configuration with numpy; the sum must equal
``arch_cost`` exactly, for every configuration and every dataset's head. A slow test
also builds every network on the meta device.
"""

from __future__ import annotations

import itertools
import os
import random
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
import torch
from torch import nn

from tfnas_db.errors import TfnasError
from tfnas_db.scoring.datasets import DATASETS
from tfnas_db.scoring.passes import relu_modules
from tfnas_db.scoring.spaces import get_space, nats_sss, nats_tss
from tfnas_db.scoring.spaces.nats_sss_net import (
    NatsSssNetwork,
    WidthCell,
    WidthProjection,
    build_network,
)
from tfnas_db.scoring.spaces.nats_tss_net import ResNetReduction
from tfnas_db.scoring.spaces.nats_tss_net import build_network as build_tss_network
from tfnas_db.search.mutation import MutationTable

WIDTHS = nats_sss.WIDTHS


def _numel(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_index_order_is_the_nested_loop_enumeration_of_nats_bench() -> None:
    # NATS-Bench's meta_archs: loops over the candidate widths, first layer outermost.
    expected = [":".join(map(str, c)) for c in itertools.product(WIDTHS, repeat=5)]
    assert [nats_sss.arch_of_index(i) for i in range(nats_sss.N_ARCHS)] == expected
    assert nats_sss.arch_of_index(0) == "8:8:8:8:8"
    assert nats_sss.arch_of_index(1) == "8:8:8:8:16"
    assert nats_sss.arch_of_index(8) == "8:8:8:16:8"
    assert nats_sss.arch_of_index(32767) == "64:64:64:64:64"


def test_index_and_string_round_trip_for_all() -> None:
    space = get_space("nats-sss")
    for index in range(space.n_archs):
        arch = space.arch_of_index(index)
        assert nats_sss.index_of_arch(arch) == index
        assert space.resolve_arch(arch) == (index, arch)
        assert space.resolve_arch(str(index)) == (index, arch)
        assert nats_sss.format_arch(nats_sss.parse_arch(arch)) == arch


@pytest.mark.parametrize(
    ("bad", "part"),
    [
        ("8:16:24:32", "expected 5 widths"),
        ("8:16:24:32:65", "width 5 ('65')"),
        ("8:x:24:32:64", "width 2 ('x')"),
        ("|nor_conv_3x3~0|+|", "expected 5 widths"),
    ],
)
def test_malformed_configurations_name_the_bad_part(bad: str, part: str) -> None:
    with pytest.raises(TfnasError, match="malformed nats-sss architecture") as err:
        nats_sss.resolve_arch(bad)
    assert part in str(err.value)


def test_out_of_range_index_is_an_error() -> None:
    with pytest.raises(TfnasError, match=r"out of range 0\.\.32767"):
        nats_sss.resolve_arch("32768")


def test_layer_widths_follow_spec_2_2() -> None:
    assert nats_sss.layer_widths((8, 16, 24, 32, 64)) == [
        (8, 8, False),
        (8, 16, True),
        (16, 24, False),
        (24, 32, True),
        (32, 64, False),
    ]


def test_network_layout_and_projection_on_a_width_change() -> None:
    net = build_network("8:16:24:32:64", 10)
    assert [name for name, _ in net.named_children()] == [
        "stem",
        "cells",
        "lastact",
        "global_pool",
        "classifier",
    ]
    kinds = [type(m) for m in net.cells]
    assert kinds == [WidthCell, ResNetReduction, WidthCell, ResNetReduction, WidthCell]
    first, second = net.cells[0], net.cells[2]
    assert not any(isinstance(m, WidthProjection) for m in first.modules())  # 8 -> 8
    skip = second.edges[3]  # edge (3, 0) is the cell's skip_connect
    assert isinstance(skip, WidthProjection)
    assert (skip[0].in_channels, skip[0].out_channels) == (16, 24)
    assert second.edges[0][1].in_channels == 16 and second.edges[2][1].in_channels == 24
    assert all(m.training for m in net.modules())
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    assert build_network("64:8:8:8:8", 120)(torch.randn(2, 3, 16, 16)).shape == (2, 120)


def _part_tables() -> tuple[dict[int, int], np.ndarray, np.ndarray, dict[int, int]]:
    """numel of the stem per c1, of a cell and a reduction per (c_in, c_out), and of the
    body of the head (last BN) per c5, each built with the network's own classes."""
    stem, head_bn = {}, {}
    for width in WIDTHS:
        net = NatsSssNetwork(f"{width}:8:8:8:{width}", 10)
        stem[width] = _numel(net.stem)
        head_bn[width] = _numel(net.lastact)
    cell = np.zeros((65, 65), dtype=np.int64)
    reduction = np.zeros((65, 65), dtype=np.int64)
    for c_in, c_out in itertools.product(WIDTHS, repeat=2):
        cell[c_in, c_out] = _numel(WidthCell(c_in, c_out))
        reduction[c_in, c_out] = _numel(ResNetReduction(c_in, c_out))
    return stem, cell, reduction, head_bn


def test_a_network_is_exactly_its_tabulated_parts_on_a_sample() -> None:
    stem, cell, reduction, head_bn = _part_tables()
    for index in random.Random(4).sample(range(nats_sss.N_ARCHS), 40):
        arch = nats_sss.arch_of_index(index)
        net = build_network(arch, 100)
        parts = [stem[net.stem[0].out_channels], head_bn[net.classifier.in_features]]
        for (c_in, c_out, reduces), layer in zip(
            nats_sss.layer_widths(nats_sss.parse_arch(arch)), net.cells, strict=True
        ):
            table = reduction if reduces else cell
            assert _numel(layer) == table[c_in, c_out]
            parts.append(int(table[c_in, c_out]))
        assert _numel(net) == sum(parts) + _numel(net.classifier)


def test_closed_form_params_equal_the_built_parts_for_all_configurations() -> None:
    stem, cell, reduction, head_bn = _part_tables()
    configs = np.asarray(
        [nats_sss.parse_arch(nats_sss.arch_of_index(i)) for i in range(nats_sss.N_ARCHS)]
    )
    c1, c2, c3, c4, c5 = configs.T
    body = (
        np.vectorize(stem.get)(c1)
        + cell[c1, c1]
        + reduction[c1, c2]
        + cell[c2, c3]
        + reduction[c3, c4]
        + cell[c4, c5]
        + np.vectorize(head_bn.get)(c5)
    )
    for spec in DATASETS.values():
        built = body + c5 * spec.n_classes + spec.n_classes  # Linear(c5, classes)
        closed = np.asarray(
            [
                round(
                    nats_sss.arch_cost(nats_sss.arch_of_index(i), spec.n_classes, 32).params_m * 1e6
                )
                for i in range(nats_sss.N_ARCHS)
            ]
        )
        assert np.array_equal(built, closed), spec.name


def _meta_param_mismatches(indices: list[int]) -> list[int]:
    torch.set_num_threads(1)
    bad = []
    with torch.device("meta"):
        for index in indices:
            arch = nats_sss.arch_of_index(index)
            if _numel(build_network(arch, 10)) != round(
                nats_sss.arch_cost(arch, 10, 32).params_m * 1e6
            ):
                bad.append(index)
    return bad


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("TFNAS_EXHAUSTIVE") != "1",
    reason="builds all 32 768 networks (minutes of CPU); TFNAS_EXHAUSTIVE=1 runs it. The "
    "default suite checks all 32 768 by the built parts and a sample of whole builds",
)
def test_every_network_built_on_the_meta_device_has_the_closed_form_params() -> None:
    indices = list(range(nats_sss.N_ARCHS))
    chunks = [indices[i : i + 2048] for i in range(0, len(indices), 2048)]
    with ProcessPoolExecutor(max_workers=2) as pool:
        bad = [i for part in pool.map(_meta_param_mismatches, chunks) for i in part]
    assert bad == []


def _hook_counts(net: nn.Module, size: int) -> tuple[float, int, float]:
    """FLOPs (SPEC 4's rule), ReLU input elements and conv + linear FLOPs (NATS-Bench's
    counter) of one forward, counted by module hooks."""
    net = net.eval()
    flops = [0.0]
    relu = [0]
    macs = [0.0]

    def hook(module: nn.Module, args: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        x = args[0]
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            flops[0] += out.numel() * module.in_channels * k
            macs[0] += out.numel() * module.in_channels * k
        elif isinstance(module, nn.Linear):
            flops[0] += module.in_features * module.out_features + module.out_features
            macs[0] += module.in_features * module.out_features + module.out_features
        elif isinstance(module, nn.AvgPool2d):
            flops[0] += out.numel() * module.kernel_size**2  # type: ignore[operator]
        elif isinstance(module, nn.AdaptiveAvgPool2d):
            flops[0] += x.numel()
        elif isinstance(module, nn.BatchNorm2d):
            flops[0] += 2 * x.numel()
        elif isinstance(module, nn.ReLU):
            flops[0] += x.numel()
            relu[0] += x.numel()

    for m in net.modules():
        if not list(m.children()):
            m.register_forward_hook(hook)
    with torch.no_grad():
        net(torch.zeros(1, 3, size, size))
    return flops[0] / 1e6, relu[0], macs[0] / 1e6


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_closed_form_flops_and_relu_units_equal_a_hooked_forward(dataset: str) -> None:
    spec = DATASETS[dataset]
    sample = [*random.Random(5).sample(range(nats_sss.N_ARCHS), 20), 0, nats_sss.N_ARCHS - 1]
    for index in sample:
        arch = nats_sss.arch_of_index(index)
        flops, relu, macs = _hook_counts(build_network(arch, spec.n_classes), spec.image_size)
        cost = nats_sss.arch_cost(arch, spec.n_classes, spec.image_size)
        assert cost.relu_units == relu, arch
        assert cost.flops_m == pytest.approx(flops, abs=1e-9), arch
        assert cost.benchmark_flops_m == pytest.approx(macs, abs=1e-9), arch


def test_benchmark_flops_follow_nats_bench_s_counter_on_its_published_tss_range() -> None:
    """NATS-Bench counts conv and linear multiply-adds only; its paper gives nats-tss on
    CIFAR-10 as 7.78 to 220.11 MFLOPs and 0.073 to 1.53 MB, which this rule reproduces."""
    costs = [nats_tss.arch_cost(a, 10, 32) for a in nats_tss.index_table()]
    flops = [c.benchmark_flops_m for c in costs if c.benchmark_flops_m is not None]
    assert len(flops) == 15625
    assert (min(flops), max(flops)) == (pytest.approx(7.78305), pytest.approx(220.11969))
    params = [c.params_m for c in costs]
    assert (min(params), max(params)) == (pytest.approx(0.073306), pytest.approx(1.531546))
    for arch in random.Random(7).sample(nats_tss.index_table(), 5):
        _, _, macs = _hook_counts(build_tss_network(arch, 10), 32)
        assert nats_tss.arch_cost(arch, 10, 32).benchmark_flops_m == pytest.approx(macs)


def test_hand_computed_params_of_the_smallest_network() -> None:
    # 8:8:8:8:8, 10 classes: stem 27*8+16; three cells of five 3x3 ReLU-conv-BN edges
    # (576+16 each) and an identity skip; two reductions (576+16)*2 + 64; last BN 16;
    # classifier 8*10+10.
    cells = 3 * 5 * (9 * 8 * 8 + 16)
    reductions = 2 * (2 * (9 * 8 * 8 + 16) + 8 * 8)
    expected = 27 * 8 + 16 + cells + reductions + 16 + 90
    assert nats_sss.arch_cost("8:8:8:8:8", 10, 32).params_m * 1e6 == expected == 11714
    assert _numel(build_network("8:8:8:8:8", 10)) == expected


def test_every_relu_reaches_the_output_so_naswot_needs_no_marking_pass() -> None:
    for index in [0, 671, *random.Random(6).sample(range(nats_sss.N_ARCHS), 4)]:
        net = build_network(nats_sss.arch_of_index(index), 10)
        visited: set[int] = set()
        modules = relu_modules(net)

        def mark(mod: nn.Module, _gi: object, _go: object, seen: set[int] = visited) -> None:
            seen.add(id(mod))

        for m in modules:
            m.register_full_backward_hook(mark)
        x = torch.randn(4, 3, 32, 32, requires_grad=True)
        net(x).sum().backward()
        assert visited == {id(m) for m in modules}


def test_mutation_moves_one_width_by_one_step() -> None:
    space = get_space("nats-sss")
    archs = [space.arch_of_index(i) for i in range(space.n_archs)]
    table = MutationTable.build(space.codes(np.arange(space.n_archs)), space.neighbour_codes)
    corner = table.neighbours(np.array([0]))[0]
    assert sorted(archs[r] for r in corner if r >= 0) == sorted(
        ["16:8:8:8:8", "8:16:8:8:8", "8:8:16:8:8", "8:8:8:16:8", "8:8:8:8:16"]
    )
    middle = nats_sss.index_of_arch("24:32:40:48:56")
    found = sorted(archs[r] for r in table.neighbours(np.array([middle]))[0])
    assert len(found) == 10
    assert "16:32:40:48:56" in found and "24:32:40:48:64" in found
    for other in found:
        diffs = [
            abs(a - b)
            for a, b in zip(nats_sss.parse_arch(other), (24, 32, 40, 48, 56), strict=True)
        ]
        assert sorted(diffs) == [0, 0, 0, 0, 8]
    children = table.mutate(np.full(200, middle), np.random.default_rng(0))
    assert {archs[c] for c in children} == set(found)


def test_degree_is_not_a_notion_of_the_size_space() -> None:
    space = get_space("nats-sss")
    assert not space.supports("cell_degree")
    assert "nats-tss notion" in space.why_not("cell_degree")
    assert get_space("nats-tss").supports("cell_degree")


def test_drawing_shows_the_five_layers_with_their_widths() -> None:
    dot = get_space("nats-sss").draw("8:16:24:32:64")
    assert "stem -> l1" in dot and "l5 -> head" in dot
    assert "reduction\\n8 -> 16, stride 2" in dot and "cell\\n16 -> 24" in dot
