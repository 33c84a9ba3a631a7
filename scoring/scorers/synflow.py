"""Data-free gradient-flow scores: synflow and logsynflow, from one shared float64 pass."""

from __future__ import annotations

from tfnas_db.scoring.context import ScoringContext
from tfnas_db.scoring.registry import Need, scorer


@scorer(
    "synflow",
    needs=Need.NETWORK,
    citation="Tanaka et al., Pruning neural networks without any data by iteratively "
    "conserving synaptic flow, NeurIPS 2020 (as zero-cost-nas computes it)",
)
def synflow(ctx: ScoringContext) -> float:
    """sum over Conv2d/Linear weights of |W| * dR/d|W|, R = sum of logits of an all-ones input.

    Choices (zero-cost-nas ``synflow`` with bn=False): a copy of the network with every
    BatchNorm removed, all parameters replaced by their absolute values, float64 (values
    reach 1e40, past float32's range), one input of ones. The shared network is untouched.
    The raw sum is stored (NASLib stores its logarithm; ranks are the same).
    """
    import torch  # lazily: registering scorers must not import torch

    flow = ctx.synflow_pass()
    return float(
        sum(torch.sum(w * g).item() for w, g in zip(flow.weights, flow.grads, strict=True))
    )


@scorer(
    "logsynflow",
    needs=Need.NETWORK,
    citation="Cavagnero et al., FreeREA, 2022 (as used by ET-NAS, Mereu et al. 2023)",
)
def logsynflow(ctx: ScoringContext) -> float:
    """sum over Conv2d/Linear weights of |W| * log(|dR/d|W|| + 1), on synflow's pass."""
    import torch  # lazily: registering scorers must not import torch

    flow = ctx.synflow_pass()
    return float(
        sum(
            torch.sum(w * torch.log1p(torch.abs(g))).item()
            for w, g in zip(flow.weights, flow.grads, strict=True)
        )
    )
