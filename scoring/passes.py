"""The shared forward/backward passes behind the scorers (imports torch)."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tfnas_db.scoring.context import ForwardPass
from tfnas_db.scoring.recompute import activations_kept, recomputing


def relu_modules(net: nn.Module) -> list[nn.ReLU]:
    """Every ``nn.ReLU`` once (by type, not by name, so wrappers are not counted twice)."""
    return [m for m in net.modules() if isinstance(m, nn.ReLU)]


_INT_MM_WORKS: dict[str, bool] = {}


def code_products(codes: torch.Tensor) -> torch.Tensor:
    """C C^T for 0/1 codes (n, d) as int64, exact.

    ``torch._int_mm`` (int8 x int8 -> int32) is several times faster than a float GEMM on
    CPUs with VNNI/AMX; where it is unavailable the float32 GEMM is used, which is exact
    too (integer sums below 2^24).
    """
    key = str(codes.device)
    if _INT_MM_WORKS.get(key, True):
        try:
            out = torch._int_mm(codes.view(torch.int8), codes.view(torch.int8).t())
            _INT_MM_WORKS[key] = True
            return out.to(torch.int64)
        except (RuntimeError, AttributeError, TypeError):
            _INT_MM_WORKS[key] = False
    as_float = codes.to(torch.float32)
    return (as_float @ as_float.t()).to(torch.int64)


def forward_with_codes(net: nn.Module, inputs: torch.Tensor, input_grad: bool) -> ForwardPass:
    """Train-mode forward that accumulates NASWOT's code statistics on the fly.

    Per ReLU, with binary codes C = (input > 0): C C^T + (1-C)(1-C)^T has entries
    D - r_i - r_j + 2 (C C^T)_ij, where D is the code length and r_i = (C C^T)_ii the
    number of active units of sample i. So one integer GEMM per ReLU is all NASWOT
    needs; its sum over ReLUs is kept exactly (int64). ReLUs applied to the very same
    tensor (the conv edges leaving one cell node) share their codes: the product is
    computed once and added once per ReLU.
    """
    n = inputs.shape[0]
    gram = torch.zeros(n, n, dtype=torch.int64, device=inputs.device)
    units = [0]
    recent: list[tuple[torch.Tensor, torch.Tensor]] = []  # (ReLU input, its C C^T)

    def hook(_module: nn.Module, args: tuple[torch.Tensor, ...], _out: torch.Tensor) -> None:
        if recomputing():  # a checkpointed segment run again for the backward pass
            return
        x = args[0]
        with torch.no_grad():
            term = next((t for seen, t in recent if seen is x), None)
            if term is None:
                codes = x.detach() > 0
                if codes.dim() == 4:  # NHWC in memory: flatten as stored (C C^T ignores order)
                    codes = codes.permute(0, 2, 3, 1)
                codes = codes.reshape(n, -1).contiguous()
                term = code_products(codes)
                recent.append((x, term))
                del recent[:-4]
            gram.add_(term)
            units[0] += x[0].numel()

    modules = relu_modules(net)
    handles = [m.register_forward_hook(hook) for m in modules]
    try:
        if input_grad:
            for p in net.parameters():
                p.requires_grad_(False)
            x = inputs.detach().clone().requires_grad_(True)
            logits = net(x)
        else:
            x = inputs
            with torch.no_grad():
                logits = net(x)
    finally:
        for handle in handles:
            handle.remove()
        recent.clear()
        if input_grad:
            for p in net.parameters():
                p.requires_grad_(True)
    return ForwardPass(
        logits=logits,
        inputs=x,
        code_gram=gram.cpu().numpy().astype(np.float64),
        code_units=units[0],
        relu_modules=len(modules),
    )


def input_jacobian(forward: ForwardPass) -> np.ndarray:
    if not forward.inputs.requires_grad:
        raise RuntimeError("the shared forward ran without input gradients")
    (grad,) = torch.autograd.grad(forward.logits.sum(), forward.inputs)
    return grad.reshape(grad.shape[0], -1).double().cpu().numpy()


def weight_layers(net: nn.Module) -> list[nn.Module]:
    """Conv2d and Linear layers in module order: where the pruning-at-init scores live."""
    return [m for m in net.modules() if isinstance(m, nn.Conv2d | nn.Linear)]


@dataclass
class LossGradients:
    """One cross-entropy forward/backward on the minibatch, for snip, grad_norm, fisher.

    ``grads[i]`` is dL/dW of ``weight_layers(net)[i]``; ``fisher[i]`` is, per output channel,
    0.5 * mean over samples of (sum over positions of activation * dL/dactivation)^2.
    """

    weights: list[torch.Tensor]
    grads: list[torch.Tensor]
    fisher: list[torch.Tensor]
    loss: float


def loss_gradients(net: nn.Module, inputs: torch.Tensor, labels: torch.Tensor) -> LossGradients:
    layers = weight_layers(net)
    outputs: dict[int, torch.Tensor] = {}

    def keep(module: nn.Module, _args: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        if recomputing():  # keep the forward's tensor: it is the one the gradient reaches
            return
        out.retain_grad()
        outputs[id(module)] = out

    handles = [layer.register_forward_hook(keep) for layer in layers]
    try:
        with activations_kept():  # fisher keeps them: recomputing would add a copy
            net.zero_grad(set_to_none=True)
            loss = F.cross_entropy(net(inputs), labels)
            loss.backward()
    finally:
        for handle in handles:
            handle.remove()
    weights, grads, fisher = [], [], []
    for layer in layers:
        weight = layer.weight
        weights.append(weight.detach())
        grads.append(
            weight.grad.detach().clone() if weight.grad is not None else torch.zeros_like(weight)
        )
        act = outputs[id(layer)]
        act_grad = act.grad if act.grad is not None else torch.zeros_like(act)
        g_nk = act.detach() * act_grad
        if g_nk.dim() > 2:
            g_nk = g_nk.sum(dim=tuple(range(2, g_nk.dim())))
        fisher.append(0.5 * g_nk.pow(2).mean(0))
    net.zero_grad(set_to_none=True)
    return LossGradients(weights, grads, fisher, float(loss.detach()))


def hessian_gradient_product(
    net: nn.Module, inputs: torch.Tensor, labels: torch.Tensor, grad_w: list[torch.Tensor]
) -> list[torch.Tensor]:
    """H g for the cross-entropy loss, g = ``grad_w`` (GraSP's second pass)."""
    weights = [layer.weight for layer in weight_layers(net)]
    loss = F.cross_entropy(net(inputs), labels)
    grad_f = torch.autograd.grad(loss, weights, create_graph=True, allow_unused=True)
    z = sum((g_w * g_f).sum() for g_w, g_f in zip(grad_w, grad_f, strict=True) if g_f is not None)
    if not isinstance(z, torch.Tensor):
        return [torch.zeros_like(w) for w in weights]
    hg = torch.autograd.grad(z, weights, allow_unused=True)
    return [
        h.detach() if h is not None else torch.zeros_like(w)
        for h, w in zip(hg, weights, strict=True)
    ]


def strip_batchnorm(net: nn.Module) -> nn.Module:
    for name, child in list(net.named_children()):
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(net, name, nn.Identity())
        else:
            strip_batchnorm(child)
    return net


@dataclass
class SynflowPass:
    """|W| and dR/d|W| of every Conv2d/Linear weight, R = sum of the logits of an all-ones
    input through a BN-free float64 copy of the network with absolute weights."""

    weights: list[torch.Tensor]
    grads: list[torch.Tensor]


def synflow_pass(net: nn.Module, input_shape: tuple[int, ...]) -> SynflowPass:
    linear = strip_batchnorm(copy.deepcopy(net)).double()
    with torch.no_grad():
        for p in linear.parameters():
            p.abs_()
    weights = [layer.weight for layer in weight_layers(linear)]
    for p in linear.parameters():
        p.requires_grad_(True)
    device = next(linear.parameters()).device
    ones = torch.ones((1, *input_shape), dtype=torch.float64, device=device)
    total = linear(ones).sum()
    grads = torch.autograd.grad(total, weights, allow_unused=True)
    return SynflowPass(
        weights=[w.detach() for w in weights],
        grads=[
            g.detach() if g is not None else torch.zeros_like(w)
            for g, w in zip(grads, weights, strict=True)
        ],
    )


def sgd_losses(
    net: nn.Module, inputs: torch.Tensor, labels: torch.Tensor, steps: int, lr: float
) -> list[float]:
    """Cross-entropy before each of ``steps`` SGD steps on one batch (a copy is trained)."""
    model = copy.deepcopy(net).train()
    for p in model.parameters():
        p.requires_grad_(True)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4, nesterov=True
    )
    losses = []
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(inputs), labels)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    return losses
