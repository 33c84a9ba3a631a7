"""naswot and the data-free scorers: hand-computed values, invariances, the registry."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from tfnas_db.db.models import ScoreStatus
from tfnas_db.errors import TfnasError
from tfnas_db.scoring.context import ScoringContext
from tfnas_db.scoring.datasets import get_dataset
from tfnas_db.scoring.engine import ScoringEngine
from tfnas_db.scoring.minibatch import Minibatch, synthetic_minibatch
from tfnas_db.scoring.passes import code_products, forward_with_codes
from tfnas_db.scoring.registry import REGISTRY, Need, ScorerRegistry, scorer
from tfnas_db.scoring.scorers.naswot import hamming_kernel, naswot_from_gram
from tfnas_db.scoring.spaces import get_space

ARCH = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
    "skip_connect~2|"
)


def _two_layer_net() -> nn.Module:
    net = nn.Sequential(nn.Linear(2, 3, bias=False), nn.ReLU(), nn.Linear(3, 1))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
    return net


def test_naswot_on_a_two_layer_relu_net_equals_the_hand_computed_logdet() -> None:
    # pre-activations [1,-1,0], [-1,2,1], [2,1,3] -> codes 100, 011, 111;
    # K_H[i,j] = number of agreeing units = [[3,0,1],[0,3,2],[1,2,3]], det = 12
    x = torch.tensor([[1.0, -1.0], [-1.0, 2.0], [2.0, 1.0]])
    forward = forward_with_codes(_two_layer_net(), x, input_grad=False)
    kernel = hamming_kernel(forward.code_gram, forward.code_units)
    assert np.array_equal(kernel, np.array([[3, 0, 1], [0, 3, 2], [1, 2, 3]], dtype=float))
    assert naswot_from_gram(forward.code_gram, forward.code_units) == pytest.approx(math.log(12))


def test_naswot_kernel_equals_the_explicit_binary_code_definition() -> None:
    mb = synthetic_minibatch(get_dataset("cifar10"), 16, 3)
    net = get_space("nats-tss").build_network(ARCH, 10)
    codes = []
    hooks = [
        m.register_forward_hook(lambda mod, args, out: codes.append((args[0] > 0).reshape(16, -1)))
        for m in net.modules()
        if isinstance(m, nn.ReLU)
    ]
    x = torch.from_numpy(mb.images)
    with torch.no_grad():
        net(x)
    for h in hooks:
        h.remove()
    c = torch.cat(codes, dim=1).double()
    explicit = (c @ c.T + (1 - c) @ (1 - c).T).numpy()
    forward = forward_with_codes(net, x, input_grad=False)
    assert np.array_equal(hamming_kernel(forward.code_gram, forward.code_units), explicit)


def _engine(minibatch: Minibatch | None, seed: int = 0) -> ScoringEngine:
    return ScoringEngine(get_space("nats-tss"), get_dataset("cifar10"), 16, seed, "cpu", minibatch)


def test_naswot_with_duplicated_inputs_is_stored_as_nan_not_a_number() -> None:
    mb = synthetic_minibatch(get_dataset("cifar10"), 16, 0)
    images = mb.images.copy()
    images[1] = images[0]
    dup = Minibatch(images, mb.labels, mb.dataset, mb.source, mb.seed)
    outcome = _engine(dup).score(ARCH, REGISTRY.resolve("naswot"))["naswot"]
    assert outcome.status == ScoreStatus.NAN and outcome.value is None


def test_scores_are_deterministic_for_a_seed_and_differ_across_seeds() -> None:
    mb = synthetic_minibatch(get_dataset("cifar10"), 16, 0)
    specs = REGISTRY.resolve("naswot")
    a = _engine(mb, 0).score(ARCH, specs)["naswot"].value
    b = _engine(mb, 0).score(ARCH, specs)["naswot"].value
    c = _engine(mb, 1).score(ARCH, specs)["naswot"].value
    assert a == b and a != c


def test_data_free_scorers_need_no_minibatch_and_ignore_data() -> None:
    specs = REGISTRY.resolve("relu_count,params,flops")
    without = _engine(None).score(ARCH, specs)
    with_data = _engine(synthetic_minibatch(get_dataset("cifar10"), 16, 5)).score(ARCH, specs)
    assert {k: v.value for k, v in without.items()} == {k: v.value for k, v in with_data.items()}
    assert without["relu_count"].value == (40960 + 143360 * 3) * 16
    assert without["params"].value == pytest.approx(0.802426)


def test_a_failing_scorer_becomes_an_error_outcome() -> None:
    registry = ScorerRegistry()

    @scorer("boom", needs=Need.DATA_FREE, citation="test", registry=registry)
    def boom(ctx):  # type: ignore[no-untyped-def]
        raise ValueError("exploded")

    outcome = _engine(None).score(ARCH, registry.resolve("boom"))["boom"]
    assert outcome.status == ScoreStatus.ERROR and "exploded" in (outcome.error or "")


def test_registry_rejects_duplicates_and_lists_valid_names() -> None:
    registry = ScorerRegistry()
    scorer("a", needs=Need.DATA_FREE, citation="x", registry=registry)(lambda ctx: 1.0)
    with pytest.raises(KeyError, match="duplicated"):
        scorer("a", needs=Need.DATA_FREE, citation="x", registry=registry)(lambda ctx: 1.0)
    with pytest.raises(TfnasError, match="valid scorers: naswot"):
        REGISTRY.get("nope")
    assert REGISTRY.get("nwot").name == "naswot"
    assert [s.name for s in REGISTRY.resolve("all")] == REGISTRY.names()


def test_scorer_seconds_are_own_work_plus_every_shared_artefact_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Accounting with a fake clock: a shared artefact costs 5, scorer a works 1, b 2."""
    clock = [0.0]
    monkeypatch.setattr("tfnas_db.scoring.context.time.perf_counter", lambda: clock[0])

    def advance(by: float) -> float:
        clock[0] += by
        return by

    def a(ctx):  # type: ignore[no-untyped-def]
        ctx._artefact("shared", lambda: advance(5))
        advance(1)
        return 1.0

    def b(ctx):  # type: ignore[no-untyped-def]
        ctx._artefact("shared", lambda: advance(5))  # cached: costs nothing now
        advance(2)
        return 2.0

    ctx = ScoringContext(get_space("nats-tss"), ARCH, get_dataset("cifar10"), 8, 0, "cpu", None)
    assert ctx.run_scorer(a) == (1.0, 6.0)
    assert ctx.run_scorer(b) == (2.0, 7.0)
    assert clock[0] == 8.0


def test_integer_and_float_code_products_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    codes = torch.randn(20, 1000) > 0
    fast = code_products(codes)
    monkeypatch.setattr("tfnas_db.scoring.passes._INT_MM_WORKS", {"cpu": False})
    slow = code_products(codes)
    exact = codes.double() @ codes.double().t()
    assert torch.equal(fast, slow) and torch.equal(fast.double(), exact)
