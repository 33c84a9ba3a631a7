"""The torch network builder against the reference table and the closed-form sizes."""

from __future__ import annotations

import os
import random
from concurrent.futures import ProcessPoolExecutor

import pytest
import torch
from torch import nn

from tfnas_db.scoring.datasets import DATASETS
from tfnas_db.scoring.passes import relu_modules
from tfnas_db.scoring.spaces import nats_tss
from tfnas_db.scoring.spaces.nats_tss_net import build_network

COLUMNS = {
    "cifar10": "params_m_cifar10",
    "cifar100": "params_m_cifar100",
    "ImageNet16-120": "params_m_imagenet16",
}


def _numel(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _param_mismatches(rows: list[tuple[str, dict[str, float]]]) -> list[str]:
    """Build each network once (cifar10 head) and count; other heads by swapping the
    classifier, which is all the builder changes per dataset (checked separately)."""
    torch.set_num_threads(1)
    bad = []
    for arch, expected in rows:
        net = build_network(arch, 10)
        body = _numel(net) - _numel(net.classifier)
        for dataset, spec in DATASETS.items():
            head = 64 * spec.n_classes + spec.n_classes
            if abs((body + head) / 1e6 - expected[dataset]) > 1e-6:
                bad.append(f"{arch} {dataset}")
    return bad


EXHAUSTIVE = os.environ.get("TFNAS_EXHAUSTIVE") == "1"


@pytest.mark.slow
def test_built_networks_have_the_reference_parameter_count() -> None:
    """Built networks against NATS-Bench's parameter counts. The closed form is checked
    against the table for all 15 625 in test_nats_tss_space; building all 15 625 takes
    minutes of CPU, so the default suite builds 1 000 (every op on every edge among them)
    and TFNAS_EXHAUSTIVE=1 builds all."""
    rows = [
        (r["arch_str"], {d: float(r[c]) for d, c in COLUMNS.items()})
        for r in nats_tss.reference_rows()
    ]
    assert len(rows) == 15625
    if not EXHAUSTIVE:
        rows = random.Random(5).sample(rows, 1000)
        edge_ops = {(edge, op) for arch, _ in rows for edge, op in enumerate(_edge_ops(arch))}
        assert len(edge_ops) == 6 * 5  # the sample covers every op on every edge
    chunks = [rows[i : i + 250] for i in range(0, len(rows), 250)]
    with ProcessPoolExecutor(max_workers=2) as pool:
        bad = [item for part in pool.map(_param_mismatches, chunks) for item in part]
    assert bad == []


def _edge_ops(arch: str) -> list[str]:
    """The six operations of an arch string, in NATS-Bench's edge order."""
    return [edge.split("~")[0] for node in arch.split("+") for edge in node.strip("|").split("|")]


def test_only_the_classifier_depends_on_the_dataset() -> None:
    for arch in random.Random(1).sample(nats_tss.index_table(), 30):
        nets = {d: build_network(arch, s.n_classes) for d, s in DATASETS.items()}
        bodies = {d: _numel(n) - _numel(n.classifier) for d, n in nets.items()}
        assert len(set(bodies.values())) == 1
        for dataset, net in nets.items():
            assert net.classifier.out_features == DATASETS[dataset].n_classes


def _hook_counts(arch: str, n_classes: int, size: int) -> tuple[float, int]:
    """FLOPs and ReLU input elements of one forward, counted by module hooks."""
    net = build_network(arch, n_classes).eval()
    flops = [0.0]
    relu = [0]

    def hook(module: nn.Module, args: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        x = args[0]
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            flops[0] += out.numel() * module.in_channels * k
        elif isinstance(module, nn.Linear):
            flops[0] += module.in_features * module.out_features + module.out_features
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
    return flops[0] / 1e6, relu[0]


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_closed_form_flops_and_relu_units_equal_a_hooked_forward(dataset: str) -> None:
    spec = DATASETS[dataset]
    for arch in random.Random(2).sample(nats_tss.index_table(), 25):
        flops, relu = _hook_counts(arch, spec.n_classes, spec.image_size)
        cost = nats_tss.arch_cost(arch, spec.n_classes, spec.image_size)
        assert cost.relu_units == relu
        assert cost.flops_m == pytest.approx(flops, abs=1e-9)
        assert cost.params_m * 1e6 == _numel(build_network(arch, spec.n_classes))


def test_every_relu_reaches_the_output_so_naswot_needs_no_marking_pass() -> None:
    """The reference marks ReLUs with a backward pass first; in nats-tss all are reached
    (``none`` multiplies by zero and stays in the graph), even in degenerate cells."""
    archs = [
        "|none~0|+|none~0|none~1|+|none~0|nor_conv_3x3~1|avg_pool_3x3~2|",
        "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|",
        *random.Random(3).sample(nats_tss.index_table(), 5),
    ]
    for arch in archs:
        net = build_network(arch, 10)
        visited: set[int] = set()
        modules = relu_modules(net)

        def mark(mod: nn.Module, _gi: object, _go: object, seen: set[int] = visited) -> None:
            seen.add(id(mod))

        for m in modules:
            m.register_full_backward_hook(mark)
        x = torch.randn(4, 3, 32, 32, requires_grad=True)
        net(x).sum().backward()
        assert visited == {id(m) for m in modules}, arch


def test_network_layout_matches_the_spec() -> None:
    net = build_network(nats_tss.arch_of_index(1), 10)
    assert len(net.cells) == 17  # 5 cells, reduction, 5 cells, reduction, 5 cells
    assert all(m.training for m in net.modules())
    out = net(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 10)
