"""Each scorer against values worked out by hand (or by an independent numpy formula)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from tfnas_db.scoring.datasets import get_dataset
from tfnas_db.scoring.engine import ScoringEngine
from tfnas_db.scoring.minibatch import synthetic_minibatch
from tfnas_db.scoring.passes import (
    hessian_gradient_product,
    loss_gradients,
    sgd_losses,
    synflow_pass,
)
from tfnas_db.scoring.registry import REGISTRY
from tfnas_db.scoring.scorers.jacobian import K, epe_nas_from_jacobian, jacov_from_jacobian
from tfnas_db.scoring.spaces import get_space

# ---- jacov / epe_nas on hand-made Jacobians -----------------------------------------------


def test_jacov_of_three_orthogonal_jacobians() -> None:
    # rows e1, e2, e3: each pair correlates at -1/2, eigenvalues 3/2, 3/2, 0
    value = jacov_from_jacobian(np.eye(3))
    expected = -(2 * (math.log(1.5 + K) + 1 / (1.5 + K)) + math.log(K) + 1 / K)
    assert value == pytest.approx(expected, rel=1e-9)


def test_jacov_is_nan_for_a_constant_jacobian_row() -> None:
    assert math.isnan(jacov_from_jacobian(np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 3.0]])))


def test_epe_nas_per_class_sums_and_the_many_class_branch() -> None:
    jac = np.array(
        [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 2.0, 3.0], [3.0, 2.0, 1.0], [5.0, 1.0, 2.0]]
    )
    labels = np.array([0, 0, 1, 1, 2])  # class 2 has a single sample: contributes 0
    e0 = 2 * math.log(1 + K) + 2 * math.log(0.5 + K)  # corr [[1, -.5], [-.5, 1]]
    e1 = 4 * math.log(1 + K)  # corr [[1, -1], [-1, 1]]
    assert epe_nas_from_jacobian(jac, labels, 10) == pytest.approx(abs(e0) + abs(e1))
    # C > 100: E_c divided by the 4 elements of each 2x2 matrix, pairs i<j over len(E) = 2
    assert epe_nas_from_jacobian(jac, labels, 120) == pytest.approx(abs(e0 / 4 - e1 / 4) / 2)


def test_input_jacobian_is_the_gradient_of_summed_logits() -> None:
    space, dataset = get_space("nats-tss"), get_dataset("cifar10")
    batch = synthetic_minibatch(dataset, 8, 0)
    engine = ScoringEngine(space, dataset, 8, 0, "cpu", batch)
    arch = space.arch_of_index(7)
    ctx_value = engine.score(arch, REGISTRY.resolve("jacov"))["jacov"].value
    torch.manual_seed(0)
    net = space.build_network(arch, 10)
    x = torch.from_numpy(batch.images).clone().requires_grad_(True)
    net(x).sum().backward()
    expected = jacov_from_jacobian(x.grad.reshape(8, -1).double().numpy())
    # the engine runs channels-last, this reference NCHW: equal up to float32 rounding
    assert ctx_value == pytest.approx(expected, rel=1e-6)


# ---- synflow / logsynflow on a two-layer linear net ---------------------------------------


def _linear_net() -> nn.Module:
    net = nn.Sequential(
        nn.Linear(2, 2, bias=False), nn.BatchNorm1d(2), nn.ReLU(), nn.Linear(2, 1, bias=False)
    )
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, -2.0], [3.0, 4.0]]))
        net[3].weight.copy_(torch.tensor([[-1.0, 2.0]]))
    return net


def test_synflow_and_logsynflow_by_hand() -> None:
    # |W1| = [[1,2],[3,4]], |W2| = [[1,2]], BN removed, input ones: h = [3, 7], R = 17.
    # dR/dW2 = h; dR/dW1 = [[1,1],[2,2]]. synflow = sum |W| dR/d|W| = 17 + 17 = 34.
    net = _linear_net()
    flow = synflow_pass(net, (2,))
    synflow = sum(float((w * g).sum()) for w, g in zip(flow.weights, flow.grads, strict=True))
    assert synflow == pytest.approx(34.0)
    log_value = sum(
        float((w * torch.log1p(g.abs())).sum())
        for w, g in zip(flow.weights, flow.grads, strict=True)
    )
    expected = (1 * math.log(2) + 2 * math.log(2) + 3 * math.log(3) + 4 * math.log(3)) + (
        1 * math.log(4) + 2 * math.log(8)
    )
    assert log_value == pytest.approx(expected)
    # the original network is untouched (signs kept, BN still there, float32)
    assert net[0].weight[0, 1].item() == -2.0 and isinstance(net[1], nn.BatchNorm1d)
    assert net[0].weight.dtype == torch.float32


# ---- snip / grad_norm / fisher / grasp on a one-layer softmax classifier ------------------

X = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]])
Y = np.array([0, 1, 1])
W = np.array([[0.2, -0.3], [0.4, 0.1]])


def _softmax_net() -> nn.Module:
    net = nn.Sequential(nn.Linear(2, 2, bias=False))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor(W, dtype=torch.float32))
    return net


def _by_hand() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    z = X @ W.T
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    dz = (p - np.eye(2)[Y]) / len(X)  # dL/dz for the mean cross-entropy
    return z, p, dz


def test_snip_grad_norm_fisher_equal_the_softmax_formulas() -> None:
    z, _, dz = _by_hand()
    grad = dz.T @ X
    out = loss_gradients(_softmax_net(), torch.tensor(X, dtype=torch.float32), torch.tensor(Y))
    assert np.allclose(out.grads[0].numpy(), grad, atol=1e-6)
    snip = float(torch.sum(torch.abs(out.weights[0] * out.grads[0])))
    assert snip == pytest.approx(np.abs(W * grad).sum(), rel=1e-5)
    assert float(torch.linalg.vector_norm(out.grads[0])) == pytest.approx(
        np.linalg.norm(grad), rel=1e-5
    )
    fisher = 0.5 * ((z * dz) ** 2).mean(axis=0)
    assert float(out.fisher[0].sum()) == pytest.approx(fisher.sum(), rel=1e-5)


def test_grasp_equals_minus_w_times_the_hessian_gradient_product() -> None:
    _, p, dz = _by_hand()
    grad = dz.T @ X
    hg = np.zeros_like(W)
    for x_i, p_i in zip(X, p, strict=True):
        hg += (np.diag(p_i) - np.outer(p_i, p_i)) @ grad @ np.outer(x_i, x_i) / len(X)
    net = _softmax_net()
    x, y = torch.tensor(X, dtype=torch.float32), torch.tensor(Y)
    grads = loss_gradients(net, x, y)
    result = hessian_gradient_product(net, x, y, grads.grads)
    assert np.allclose(result[0].numpy(), hg, atol=1e-6)
    score = float(torch.sum(-grads.weights[0] * result[0]))
    assert score == pytest.approx(float((-W * hg).sum()), rel=1e-4)


def test_loss_slope_is_minus_the_fitted_slope_of_sgd_losses() -> None:
    net = _softmax_net()
    x, y = torch.tensor(X, dtype=torch.float32), torch.tensor(Y)
    losses = sgd_losses(net, x, y, steps=10, lr=0.1)
    assert losses[-1] < losses[0]  # a convex problem: the loss goes down
    # the first loss is the loss of the untrained copy; the network itself is untouched
    assert losses[0] == pytest.approx(
        float(-np.log(_by_hand()[1][np.arange(3), Y]).mean()), rel=1e-5
    )
    assert np.allclose(net[0].weight.detach().numpy(), W)


# ---- engine-level invariances --------------------------------------------------------------


def test_no_scorer_changes_the_shared_network_and_all_are_deterministic() -> None:
    space, dataset = get_space("nats-tss"), get_dataset("cifar10")
    batch = synthetic_minibatch(dataset, 16, 1)
    arch = space.arch_of_index(1)
    specs = REGISTRY.resolve("all")
    first = ScoringEngine(space, dataset, 16, 3, "cpu", batch).score(arch, specs)
    assert all(v.status.value == "ok" for v in first.values()), first
    # a second engine, scoring in the opposite order, must give the same values: this
    # checks determinism and that no scorer leaves the shared network changed for the
    # next one (one pass fewer than checking the two separately; the suite's slowest test)
    reordered = ScoringEngine(space, dataset, 16, 3, "cpu", batch).score(arch, specs[::-1])
    assert reordered.keys() == first.keys()
    for name, outcome in first.items():
        assert reordered[name].value == pytest.approx(outcome.value, rel=1e-6), name


def test_data_free_synflow_ignores_the_minibatch() -> None:
    space, dataset = get_space("nats-tss"), get_dataset("cifar10")
    arch = space.arch_of_index(3)
    specs = REGISTRY.resolve("synflow,logsynflow,degree")
    a = ScoringEngine(space, dataset, 16, 0, "cpu", None).score(arch, specs)
    b = ScoringEngine(space, dataset, 16, 0, "cpu", synthetic_minibatch(dataset, 16, 9)).score(
        arch, specs
    )
    assert {k: v.value for k, v in a.items()} == {k: v.value for k, v in b.items()}
