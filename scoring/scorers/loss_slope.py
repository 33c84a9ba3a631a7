"""ET-NAS LossSlope: how fast a network learns GenNAS's synthetic signals (near training-free).

``loss_slope`` (version 2) is the paper's definition, built on GenNAS's regression proxy
task; ``loss_slope_ce`` keeps version 1 (the same slope over a cross-entropy loss on the
classifier), which does not track accuracy on the synthetic minibatch (docs/SCORERS.md).
"""

from __future__ import annotations

import numpy as np

from tfnas_db.errors import TfnasError
from tfnas_db.scoring.context import ScoringContext
from tfnas_db.scoring.registry import Need, scorer

STEPS = 10
BATCH = 16
LR = 0.1
INPUT_SIZE = 32  # GenNAS resizes ImageNet16 inputs to 32x32 before the regression task
CITATION = "Mereu et al., ET-NAS: Efficient near-Training-free NAS, 2023"


@scorer(
    "loss_slope",
    needs=Need.NETWORK | Need.TRAINING,
    citation=CITATION + "; GenNAS (Li et al., NeurIPS 2021) regression proxy task",
    version=2,
)
def loss_slope(ctx: ScoringContext) -> float:
    """-slope of a line fitted to 10 steps of GenNAS's synthetic-signal regression loss.

    The classifier is dropped; the feature maps after each of the three cell stacks are
    nearest-resized to 8x8 and mapped by BN + 1x1 conv heads to 64, 48 and 16 channels;
    the targets mix Sin1D, Sin2D, GDot and the resized input as GenNAS's NAS-Bench-201
    configuration does (``synthetic_signals.GENNAS_NB201``); the loss is the MSE per
    stage weighted 0.25, 0.5, 1 (GenNAS's training weights; ET-NAS's formula leaves them
    out); SGD lr 0.1, momentum 0.9, weight decay 4e-5 on conv weights only, 10 steps on
    the first 16 samples of the run's minibatch plus fresh uniform noise of +-0.1 per
    step (GenNAS); the loss of each step's forward is recorded, LossSlope = -slope of
    their least-squares line. Inputs smaller than 32x32 (ImageNet16) are first resized
    to 32x32, as GenNAS. Targets, head initialisation and noise are drawn from the run's
    seed; BN in train mode; a copy of the network is trained.
    """
    import torch
    import torch.nn.functional as F

    from tfnas_db.scoring.regression_proxy import (
        StagedNetwork,
        fitted_slope,
        regression_losses,
    )
    from tfnas_db.scoring.synthetic_signals import GENNAS_NB201, stage_targets

    net = ctx.network()
    if not isinstance(net, StagedNetwork):
        raise TfnasError(
            f"loss_slope needs a network with stage outputs; {ctx.space.name} has none"
        )
    inputs = ctx.inputs()[:BATCH]
    if inputs.shape[-1] < INPUT_SIZE:
        inputs = F.interpolate(inputs, size=(INPUT_SIZE, INPUT_SIZE))
    rng = np.random.default_rng(ctx.seed)
    targets = [
        torch.from_numpy(t).to(inputs.device)
        for t in stage_targets(inputs.cpu().numpy(), GENNAS_NB201, rng)
    ]
    curve = regression_losses(net, inputs, targets, seed=ctx.seed)
    return -fitted_slope(curve.losses)


@scorer("loss_slope_ce", needs=Need.WEIGHT_GRAD | Need.LABELS, citation=CITATION)
def loss_slope_ce(ctx: ScoringContext) -> float:
    """-slope of a least-squares line through the cross-entropy of 10 SGD steps on 16 samples.

    loss_slope's version 1, kept for comparison: the classifier is trained on the first
    16 samples of the run's minibatch with their labels; SGD with NATS-Bench's
    hyper-parameters (lr 0.1, momentum 0.9, Nesterov, weight decay 5e-4); BN in train
    mode; a copy of the network is trained, the shared one is untouched.
    """
    from tfnas_db.scoring.passes import sgd_losses
    from tfnas_db.scoring.regression_proxy import fitted_slope

    inputs, labels = ctx.inputs()[:BATCH], ctx.labels()[:BATCH]
    losses = sgd_losses(ctx.network(), inputs, labels, STEPS, LR)
    return -fitted_slope(np.asarray(losses))
