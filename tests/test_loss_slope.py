"""loss_slope (ET-NAS on GenNAS's regression task): signals, heads, loss and slope by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from tfnas_db.scoring.datasets import get_dataset
from tfnas_db.scoring.engine import ScoringEngine
from tfnas_db.scoring.minibatch import synthetic_minibatch
from tfnas_db.scoring.registry import REGISTRY
from tfnas_db.scoring.regression_proxy import (
    RegressionSettings,
    StagedNetwork,
    fitted_slope,
    regression_losses,
    seeded_heads,
)
from tfnas_db.scoring.spaces import get_space
from tfnas_db.scoring.spaces.nats_tss_net import build_network
from tfnas_db.scoring.synthetic_signals import (
    GENNAS_NB201,
    Dots,
    Wave,
    dots,
    resized_input,
    sin1d,
    sin2d,
    stage_targets,
)
from tfnas_db.search.correlation import correlation_rows, utopian_correlations, utopian_score
from tfnas_db.search.etnas import utopian_distance

# ---- the slope --------------------------------------------------------------------------


def test_fitted_slope_by_hand() -> None:
    # t = 0, 1, 2; mean t 1, mean y 2: sum (t - 1)(y - 2) = -1, sum (t - 1)^2 = 2
    assert fitted_slope(np.array([3.0, 1.0, 2.0])) == pytest.approx(-0.5)
    assert fitted_slope(5.0 - 2.0 * np.arange(10)) == pytest.approx(-2.0)
    assert fitted_slope(np.full(4, 7.0)) == 0.0


# ---- the synthetic signals -----------------------------------------------------------------


def test_shared_waves_are_the_same_for_every_sample_and_are_sinusoids() -> None:
    rng = np.random.default_rng(0)
    wave = sin1d(Wave(1.0, 0.25, 0.25, per_sample=False), 3, 5, rng)
    assert wave.shape == (3, 5, 8, 8)
    assert np.array_equal(wave[0], wave[2])
    for channel in wave[0]:
        # frequency 1/4 along one axis: constant along the other, period 4 along it
        line = channel[0] if np.ptp(channel[:, 0]) == 0 else channel[:, 0]
        assert np.allclose(line[:4], line[4:])
        assert np.allclose(line[:2], -line[2:4])  # half a period later: the opposite value
    local = sin2d(Wave(1.0, 0.1, 0.4, per_sample=True), 3, 5, rng)
    assert not np.allclose(local[0], local[1])
    assert np.abs(local).max() <= 1.0


def test_dots_set_exactly_the_fraction_of_positions_to_plus_or_minus_one() -> None:
    rng = np.random.default_rng(1)
    plain = dots(Dots(1.0, 0.25, per_sample=True, gaussian=False), 4, 6, rng)
    assert set(np.unique(plain)) <= {-1.0, 0.0, 1.0}
    assert np.all((plain != 0).sum(axis=(2, 3)) == 16)  # 0.25 of 64
    blurred = dots(Dots(1.0, 0.25, per_sample=False, gaussian=True), 4, 6, rng)
    assert np.allclose(np.abs(blurred).max(axis=(2, 3)), 1.0)
    assert np.array_equal(blurred[0], blurred[3])


def test_resized_input_is_nearest_and_scaled_to_minus_one_one() -> None:
    images = np.arange(2 * 1 * 4 * 4, dtype=np.float32).reshape(2, 1, 4, 4)
    out = resized_input(images, 2, np.random.default_rng(0), size=2)
    # nearest 4 -> 2 keeps rows/cols 0 and 2: values 0, 2, 8, 10 and 16, 18, 24, 26
    assert np.allclose(out[0, 0], np.array([[0, 2], [8, 10]]) / 26 * 2 - 1)
    assert np.allclose(out[1, 1], np.array([[16, 18], [24, 26]]) / 26 * 2 - 1)


def test_stage_targets_follow_gennas_channels_and_depend_only_on_the_seed() -> None:
    images = np.random.default_rng(3).standard_normal((4, 3, 32, 32)).astype(np.float32)
    first = stage_targets(images, GENNAS_NB201, np.random.default_rng(7))
    again = stage_targets(images, GENNAS_NB201, np.random.default_rng(7))
    assert [t.shape for t in first] == [(4, 64, 8, 8), (4, 48, 8, 8), (4, 16, 8, 8)]
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert all(t.dtype == np.float32 for t in first)


# ---- the regression loss on a tiny network -------------------------------------------------


class TwoStages(nn.Module):
    """Stage 1: the input scaled by a learnable factor; stage 2: its 2x2 average pool."""

    stage_channels = (1, 1)

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))

    def stage_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        y = x * self.scale
        return [y, nn.functional.avg_pool2d(y, 2)]


X = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]], [[[-1.0, -2.0], [-3.0, -4.0]]]])
TARGETS = [torch.ones(2, 1, 2, 2), torch.zeros(2, 1, 2, 2)]


def test_first_loss_is_the_weighted_mse_of_bn_and_1x1_heads_by_hand() -> None:
    settings = RegressionSettings(steps=3, stage_weights=(0.5, 1.0), input_noise=0.0)
    net = TwoStages()
    assert isinstance(net, StagedNetwork)
    curve = regression_losses(net, X, TARGETS, seed=4, settings=settings)
    heads = seeded_heads(net.stage_channels, TARGETS, 4)  # the same initial heads
    w = [float(h[1].weight.detach().reshape(())) for h in heads.heads]
    b = [float(h[1].bias.detach().reshape(())) for h in heads.heads]
    # BN in train mode: stage 1 has mean 0, biased variance (1+4+9+16)/4 = 7.5
    x1 = X.numpy() / math.sqrt(7.5 + 1e-5)
    # stage 2 pools to +-2.5 (variance 6.25), then nearest-upsamples 1x1 -> 2x2
    x2 = np.array([2.5, -2.5]).reshape(2, 1, 1, 1) / math.sqrt(6.25 + 1e-5) * np.ones((1, 1, 2, 2))
    mse1 = np.mean((w[0] * x1 + b[0] - 1.0) ** 2)
    mse2 = np.mean((w[1] * x2 + b[1]) ** 2)
    assert curve.stage_losses[0] == pytest.approx([mse1, mse2], rel=1e-5)
    assert curve.losses[0] == pytest.approx(0.5 * mse1 + mse2, rel=1e-5)
    assert curve.losses[-1] < curve.losses[0]  # SGD lowers the loss
    assert float(net.scale.detach()) == 1.0  # a copy was trained


def test_regression_losses_refuses_a_network_without_stages() -> None:
    with pytest.raises(TypeError, match="stage_outputs"):
        regression_losses(nn.Conv2d(1, 1, 1), X, TARGETS, seed=0)


def test_nats_tss_stage_outputs_are_the_three_cell_stacks() -> None:
    torch.manual_seed(0)
    net = build_network(get_space("nats-tss").arch_of_index(6111), 10).eval()
    x = torch.randn(2, 3, 32, 32)
    stages = net.stage_outputs(x)
    assert [tuple(s.shape[1:]) for s in stages] == [(16, 32, 32), (32, 16, 16), (64, 8, 8)]
    assert net.stage_channels == (16, 32, 64)
    pooled = net.global_pool(net.lastact(stages[-1])).flatten(1)
    assert torch.allclose(net(x), net.classifier(pooled), atol=1e-6)


# ---- the scorer on nats-tss --------------------------------------------------------------

ALL_CONV = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|"
    "+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
)
ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
SKIPS = "|skip_connect~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|"


def test_loss_slope_ranks_a_conv_cell_above_cells_that_cannot_learn_the_signals() -> None:
    space, dataset = get_space("nats-tss"), get_dataset("cifar10")
    batch = synthetic_minibatch(dataset, 16, 0)
    engine = ScoringEngine(space, dataset, 16, 0, "cpu", batch)
    spec = REGISTRY.resolve("loss_slope")
    score = {a: engine.score(a, spec)["loss_slope"] for a in (ALL_CONV, ALL_NONE, SKIPS)}
    assert all(o.status.value == "ok" for o in score.values()), score
    # all-none cells give zero features: only the heads' biases learn
    assert score[ALL_CONV].value > score[SKIPS].value > score[ALL_NONE].value
    again = ScoringEngine(space, dataset, 16, 0, "cpu", batch).score(ALL_CONV, spec)
    assert again["loss_slope"].value == score[ALL_CONV].value  # seeded, deterministic


def test_loss_slope_is_version_2_and_the_cross_entropy_variant_stays() -> None:
    assert REGISTRY.get("loss_slope").version == 2
    assert REGISTRY.get("loss_slope_ce").version == 1


# ---- the utopian point ---------------------------------------------------------------------


def test_utopian_distance_and_score_by_hand() -> None:
    # max-normalised: naswot (0.5, 1), logsynflow (1, 1), loss_slope (1, 0.5)
    distance = utopian_distance(np.array([1.0, 2.0]), np.array([2.0, 2.0]), np.array([4.0, 2.0]))
    assert distance == pytest.approx([0.5, 0.5])
    score = utopian_score(
        np.array([1.0, 2.0, np.nan]), np.array([1.0, 2.0, 5.0]), np.array([2.0, 1.0, 1.0])
    )
    assert score[:2] == pytest.approx([-math.sqrt(0.5), -0.5])
    assert math.isnan(score[2])  # the maxima ignore architectures missing a score


def test_utopian_correlations_need_all_three_measures() -> None:
    quality = np.arange(6, dtype=float)
    scores = {"naswot": quality + 10, "logsynflow": quality + 5, "loss_slope": quality + 1}
    rows = utopian_correlations(scores, {"val_acc_200ep": quality * 2})
    assert [(r.scorer, r.accuracy, r.n) for r in rows] == [("utopian", "val_acc_200ep", 6)]
    assert rows[0].kendall_tau == pytest.approx(1.0)  # every measure rises with quality
    del scores["loss_slope"]
    assert utopian_correlations(scores, {"val_acc_200ep": quality}) == []


def test_correlation_rows_add_the_utopian_row_against_accuracies_only() -> None:
    quality = np.arange(6, dtype=float)
    table = pd.DataFrame(
        {
            "naswot": quality + 10,
            "logsynflow": quality + 5,
            "loss_slope": -quality,  # falls with quality: the combined row ranks below 1
            "val_acc_200ep": quality,
        }
    )
    measures = ["naswot", "logsynflow", "loss_slope"]
    rows = correlation_rows(table, measures)
    assert [r.scorer for r in rows] == [*measures, "utopian"]
    assert rows[-1].accuracy == "val_acc_200ep" and rows[-1].kendall_tau < 1.0
    # scorers ranked against each other: no accuracy, no combined row
    assert "utopian" not in {r.scorer for r in correlation_rows(table, measures, ["naswot"])}
    # only two of the three measures asked for: no combined row
    assert [r.scorer for r in correlation_rows(table, measures[:2])] == measures[:2]
