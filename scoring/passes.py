"""The shared forward/backward passes behind the scorers (imports torch)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from tfnas_db.scoring.context import ForwardPass


def relu_modules(net: nn.Module) -> list[nn.ReLU]:
    """Every ``nn.ReLU`` once (by type, not by name, so wrappers are not counted twice)."""
    return [m for m in net.modules() if isinstance(m, nn.ReLU)]


def forward_with_codes(net: nn.Module, inputs: torch.Tensor, input_grad: bool) -> ForwardPass:
    """Train-mode forward that accumulates NASWOT's code Gram matrix on the fly.

    For codes c in {0,1}: c c^T + (1-c)(1-c)^T = (s s^T + D) / 2 with s = 2c - 1 and D the
    code length, so one GEMM per ReLU suffices. Entries are integers below 2^24, hence
    exact in float32; the sum is converted to float64 before the log-determinant.
    """
    n = inputs.shape[0]
    gram = torch.zeros(n, n, dtype=torch.float32, device=inputs.device)
    units = [0]

    def hook(_module: nn.Module, args: tuple[torch.Tensor, ...], _out: torch.Tensor) -> None:
        with torch.no_grad():
            x = args[0].detach().reshape(n, -1)
            signs = torch.where(x > 0, 1.0, -1.0)
            gram.addmm_(signs, signs.t())
            units[0] += x.shape[1]

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
        if input_grad:
            for p in net.parameters():
                p.requires_grad_(True)
    return ForwardPass(
        logits=logits,
        inputs=x,
        code_gram=gram.double().cpu().numpy(),
        code_units=units[0],
        relu_modules=len(modules),
    )


def input_jacobian(forward: ForwardPass) -> np.ndarray:
    if not forward.inputs.requires_grad:
        raise RuntimeError("the shared forward ran without input gradients")
    (grad,) = torch.autograd.grad(forward.logits.sum(), forward.inputs)
    return grad.reshape(grad.shape[0], -1).double().cpu().numpy()
