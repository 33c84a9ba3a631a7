"""ET-NAS LossSlope: how fast the loss falls over a few SGD steps (near training-free)."""

from __future__ import annotations

import numpy as np

from tfnas_db.scoring.context import ScoringContext
from tfnas_db.scoring.registry import Need, scorer

STEPS = 10
BATCH = 16
LR = 0.1


@scorer(
    "loss_slope",
    needs=Need.WEIGHT_GRAD | Need.LABELS,
    citation="Mereu et al., ET-NAS: Efficient near-Training-free NAS, 2023",
)
def loss_slope(ctx: ScoringContext) -> float:
    """-slope of a least-squares line through the losses of 10 SGD steps on one batch of 16.

    Choices the paper leaves open: the batch is the first 16 samples of the run's
    minibatch (all of it if smaller) with its labels; cross-entropy on the classifier
    (the GenNAS synthetic-signal regression target is a later addition); SGD with
    NATS-Bench's hyper-parameters (lr 0.1, momentum 0.9, Nesterov, weight decay 5e-4);
    BN in train mode; a copy of the network is trained, the shared one is untouched.
    """
    from tfnas_db.scoring.passes import sgd_losses

    inputs, labels = ctx.inputs()[:BATCH], ctx.labels()[:BATCH]
    losses = sgd_losses(ctx.network(), inputs, labels, STEPS, LR)
    slope = np.polyfit(np.arange(len(losses), dtype=float), np.asarray(losses), 1)[0]
    return float(-slope)
