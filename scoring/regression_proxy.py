"""GenNAS's regression proxy task: train a classifier-free network to emit synthetic signals.

The network's classifier is dropped; the feature maps after each of its N = 3 cell stacks
are resized to the target grid and mapped by a head (BatchNorm + 1x1 convolution, as
GenNAS) to the stage's target channels. The training loss is the weighted sum over
stages of the mean squared error to :mod:`tfnas_db.scoring.synthetic_signals` targets.
ET-NAS's LossSlope is the slope of this loss over a few SGD steps.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


@runtime_checkable
class StagedNetwork(Protocol):
    """A network that exposes the feature maps of its stages (nats-tss: NatsTssNetwork)."""

    stage_channels: tuple[int, ...]

    def stage_outputs(self, x: torch.Tensor) -> list[torch.Tensor]: ...


class RegressionHeads(nn.Module):
    """Per stage: nearest-resize to size x size, BatchNorm, 1x1 convolution (with bias)."""

    def __init__(self, in_channels: tuple[int, ...], out_channels: tuple[int, ...], size: int):
        super().__init__()
        self.size = size
        self.heads = nn.ModuleList(
            nn.Sequential(nn.BatchNorm2d(c_in), nn.Conv2d(c_in, c_out, 1))
            for c_in, c_out in zip(in_channels, out_channels, strict=True)
        )

    def forward(self, features: list[torch.Tensor]) -> list[torch.Tensor]:
        outputs = []
        for head, x in zip(self.heads, features, strict=True):
            if x.shape[-2:] != (self.size, self.size):
                x = F.interpolate(x, size=(self.size, self.size))  # nearest, as GenNAS
            outputs.append(head(x))
        return outputs


def seeded_heads(
    stage_channels: tuple[int, ...], targets: list[torch.Tensor], seed: int
) -> RegressionHeads:
    """The heads for these targets, initialised (PyTorch defaults) from ``seed`` alone."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return RegressionHeads(
            tuple(stage_channels),
            tuple(int(t.shape[1]) for t in targets),
            int(targets[0].shape[-1]),
        )


@dataclass(frozen=True)
class RegressionSettings:
    """GenNAS's NAS-Bench-201 training settings (its do_sample.py defaults)."""

    steps: int = 10  # ET-NAS: 10 iterations (GenNAS trains 100)
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 4e-5  # on weights of 2+ dimensions only (GenNAS's grouping)
    stage_weights: tuple[float, ...] = (0.25, 0.5, 1.0)  # GenNAS's train_weights
    input_noise: float = 0.1  # uniform noise in [-0.1, 0.1] added to the input each step


@dataclass(frozen=True)
class RegressionCurve:
    losses: np.ndarray  # (steps,) the weighted training loss before each step
    stage_losses: np.ndarray  # (steps, stages) each stage's mean squared error


def _parameter_groups(modules: list[nn.Module], weight_decay: float) -> list[dict[str, object]]:
    decay, no_decay = [], []
    for module in modules:
        for p in module.parameters():
            (decay if p.dim() > 1 else no_decay).append(p)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def regression_losses(
    net: nn.Module,
    inputs: torch.Tensor,
    targets: list[torch.Tensor],
    *,
    seed: int,
    settings: RegressionSettings | None = None,
) -> RegressionCurve:
    """Train a copy of ``net`` plus fresh heads (initialised from ``seed``) on one batch
    for ``settings.steps`` SGD steps; the loss is recorded on each step's forward."""
    settings = settings or RegressionSettings()
    if not isinstance(net, StagedNetwork):
        raise TypeError(f"{type(net).__name__} does not expose stage_outputs()")
    if len(targets) != len(net.stage_channels):
        raise ValueError(f"{len(targets)} targets for {len(net.stage_channels)} stages")
    model = copy.deepcopy(net).train()
    for p in model.parameters():
        p.requires_grad_(True)
    heads = seeded_heads(net.stage_channels, targets, seed).to(inputs.device).train()
    optimizer = torch.optim.SGD(
        _parameter_groups([model, heads], settings.weight_decay),
        lr=settings.lr,
        momentum=settings.momentum,
    )
    noise = torch.Generator(device="cpu").manual_seed(seed)
    weights = settings.stage_weights
    losses, per_stage = [], []
    for _ in range(settings.steps):
        jitter = torch.rand(inputs.shape, generator=noise) * 2 - 1
        x = inputs + settings.input_noise * jitter.to(inputs.device)
        outputs = heads(model.stage_outputs(x))
        errors = [F.mse_loss(out, target) for out, target in zip(outputs, targets, strict=True)]
        loss = weights[0] * errors[0]
        for w, e in zip(weights[1:], errors[1:], strict=True):
            loss = loss + w * e
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
        per_stage.append([float(e.detach()) for e in errors])
    return RegressionCurve(np.asarray(losses), np.asarray(per_stage))


def fitted_slope(values: np.ndarray) -> float:
    """Slope of the least-squares line through (t, values[t]), t = 0, 1, ..."""
    y = np.asarray(values, dtype=np.float64)
    t = np.arange(len(y), dtype=np.float64)
    t_centred = t - t.mean()
    return float((t_centred * (y - y.mean())).sum() / (t_centred**2).sum())
