"""Pruning-at-initialisation scores (Abdelfattah et al., Zero-Cost Proxies, ICLR 2021).

snip, grad_norm and fisher read one shared cross-entropy forward/backward on the
minibatch (network in train mode, BN with batch statistics, float32); grasp adds its own
Hessian-gradient pass on top of the same gradients. Each sums its per-weight (or
per-channel) values over every Conv2d and Linear layer, as NASLib's ``ZeroCost`` sums
foresight's per-layer arrays. Labels come from the minibatch: uniform random on the
synthetic source, which snip, grad_norm and grasp default to; fisher defaults to the
natural crops, where its tau against NASLib's real-CIFAR fisher and against accuracy is
higher (docs/SCORERS.md), so a populate of all three builds two minibatches. Unlike
foresight, the batch is never silently split on out-of-memory: a failure is stored as
status=error with the batch size in the run.
"""

from __future__ import annotations

from tfnas_db.scoring.context import ScoringContext
from tfnas_db.scoring.registry import Need, scorer

CITATION = "Abdelfattah et al., Zero-Cost Proxies for Lightweight NAS, ICLR 2021"
LOSS = Need.WEIGHT_GRAD | Need.LABELS


@scorer("snip", needs=LOSS, citation=CITATION + " (SNIP: Lee et al., ICLR 2019)")
def snip(ctx: ScoringContext) -> float:
    """sum |W * dL/dW| over Conv2d/Linear weights (the connection sensitivity |dL/dmask|)."""
    import torch  # lazily: registering scorers must not import torch

    grads = ctx.loss_gradients()
    return float(
        sum(
            torch.sum(torch.abs(w * g)).item()
            for w, g in zip(grads.weights, grads.grads, strict=True)
        )
    )


@scorer("grad_norm", needs=LOSS, citation=CITATION)
def grad_norm(ctx: ScoringContext) -> float:
    """sum over Conv2d/Linear layers of the L2 norm of dL/dW (per layer, then summed)."""
    import torch  # lazily: registering scorers must not import torch

    grads = ctx.loss_gradients()
    return float(sum(torch.linalg.vector_norm(g).item() for g in grads.grads))


@scorer("fisher", needs=LOSS, citation=CITATION + " (Fisher: Turner et al., ICLR 2020)")
def fisher(ctx: ScoringContext) -> float:
    """sum over channels of 0.5 * mean_n (sum_positions a * dL/da)^2, a = Conv/Linear output.

    foresight inserts an identity after each Conv2d/Linear and hooks its gradient; the
    same quantity is read here from the retained gradient of the layer output.
    """
    import torch  # lazily: registering scorers must not import torch

    grads = ctx.loss_gradients()
    return float(sum(torch.sum(f).item() for f in grads.fisher))


@scorer("grasp", needs=LOSS, citation=CITATION + " (GraSP: Wang et al., ICLR 2020)")
def grasp(ctx: ScoringContext) -> float:
    """sum of -W * (H g) over Conv2d/Linear weights, g = dL/dW, H the loss Hessian (T = 1).

    The sign is foresight's/NASLib's (higher is better there, and here). The first
    gradient g is the shared one; only the Hessian-vector product is extra work.
    """
    import torch  # lazily: registering scorers must not import torch

    from tfnas_db.scoring.passes import hessian_gradient_product

    grads = ctx.loss_gradients()
    hg = hessian_gradient_product(ctx.network(), ctx.inputs(), ctx.labels(), grads.grads)
    return float(sum(torch.sum(-w * h).item() for w, h in zip(grads.weights, hg, strict=True)))
