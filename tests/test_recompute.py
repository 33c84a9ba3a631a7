"""Recomputing NAS-Bench-101's stacks in the backward pass changes memory, not scores.

Every scorer that back-propagates is scored twice on the same cells, minibatch and seed:
with the network's stacks checkpointed (the default) and without. The values must be
equal; the hooks that NASWOT and fisher attach must not see the recomputation.
"""

from __future__ import annotations

import math

import pytest
import torch

from tfnas_db.scoring.datasets import get_dataset
from tfnas_db.scoring.engine import ScoringEngine
from tfnas_db.scoring.minibatch import load_minibatch
from tfnas_db.scoring.recompute import recomputing
from tfnas_db.scoring.registry import REGISTRY
from tfnas_db.scoring.spaces import get_space, nasbench101, nasbench101_net

SCORERS = ["naswot", "jacov", "epe_nas", "snip", "grad_norm", "fisher", "grasp", "synflow"]
CELLS = (11, 200_000, 423_000)


def _scores(recompute: bool, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[float]]:
    monkeypatch.setattr(nasbench101, "STEM_CHANNELS", 16)  # small and fast, same code paths
    monkeypatch.setattr(nasbench101_net, "RECOMPUTE_STACKS", recompute)
    torch.set_num_threads(1)
    space, dataset = get_space("nasbench101"), get_dataset("cifar10")
    out: dict[str, list[float]] = {name: [] for name in SCORERS}
    by_source: dict[str, list[str]] = {}
    for name in SCORERS:
        by_source.setdefault(REGISTRY.get(name).default_data, []).append(name)
    for source, names in by_source.items():
        batch = None if source == "none" else load_minibatch(dataset, 12, 0, None, source)
        engine = ScoringEngine(space, dataset, 12, 0, "cpu", batch)
        specs = [REGISTRY.get(name) for name in names]
        for index in CELLS:
            outcomes = engine.score(space.arch_of_index(index), specs)
            for name in names:
                assert outcomes[name].error is None, outcomes[name].error
                out[name].append(outcomes[name].value)
    return out


def test_every_backward_scorer_is_the_same_with_and_without_recomputation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plain = _scores(False, monkeypatch)
    recomputed = _scores(True, monkeypatch)
    for name in SCORERS:
        for a, b in zip(plain[name], recomputed[name], strict=True):
            assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (name, a, b)


def test_the_recomputation_runs_in_backward_and_hooks_can_tell() -> None:
    torch.manual_seed(0)
    matrix, ops = nasbench101.cells.cell_of_index(11)
    net = nasbench101_net.build_network(matrix, ops, 10, stem_channels=8)
    seen: list[bool] = []
    # the first ReLU of the last stack: torch stops recomputing once it has what the
    # backward needs, so a segment's last modules may not run again
    first = net.stage_ends[1]
    relu = next(m for m in net.cells[first:].modules() if isinstance(m, torch.nn.ReLU))
    relu.register_forward_hook(lambda *_: seen.append(recomputing()))
    net(torch.randn(2, 3, 32, 32)).sum().backward()
    assert seen == [False, True]  # the forward, then its recomputation for the backward
    with torch.no_grad():
        net(torch.randn(2, 3, 32, 32))
    assert seen[-1] is False and len(seen) == 3  # no recomputation without autograd
