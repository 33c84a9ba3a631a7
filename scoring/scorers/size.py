"""Data-free size scorers: computed from the architecture alone, no network, no data."""

from __future__ import annotations

import numpy as np

from tfnas_db.scoring.context import ScoringContext
from tfnas_db.scoring.registry import Need, scorer
from tfnas_db.scoring.spaces.base import CostArrays


def _relu_count_of(costs: CostArrays, batch_size: int) -> np.ndarray:
    return costs.relu_units.astype(np.float64) * batch_size


def _params_of(costs: CostArrays, batch_size: int) -> np.ndarray:
    return costs.params_m.astype(np.float64)


def _flops_of(costs: CostArrays, batch_size: int) -> np.ndarray:
    return costs.flops_m.astype(np.float64)


@scorer(
    "relu_count",
    needs=Need.DATA_FREE,
    citation="Fernandes 2022, MSc thesis, eq. 13 (trace of NASWOT's K_H)",
    from_costs=_relu_count_of,
)
def relu_count(ctx: ScoringContext) -> float:
    """N_A x K: ReLU input elements per sample times the batch size (trace of K_H).

    N_A comes from the space's shape arithmetic (no forward pass; tested equal to the
    elements a real forward feeds every nn.ReLU). Each nn.ReLU counts once. On nats-tss
    at 32x32, N_A = 40 960 + 143 360 x (conv edges): only 7 distinct values.
    """
    return float(ctx.cost.relu_units * ctx.batch_size)


@scorer(
    "params",
    needs=Need.DATA_FREE,
    citation="parameter count (NATS-Bench 'params', MB)",
    from_costs=_params_of,
)
def params(ctx: ScoringContext) -> float:
    """Parameters in millions: sum of numel of all parameters / 1e6, for this dataset."""
    return ctx.cost.params_m


@scorer(
    "flops",
    needs=Need.DATA_FREE,
    citation="forward FLOPs as NASLib's flops column",
    from_costs=_flops_of,
)
def flops(ctx: ScoringContext) -> float:
    """Forward FLOPs (M), one input: conv/linear MACs, pool k^2, BN 2 and ReLU 1 per element."""
    return ctx.cost.flops_m


@scorer(
    "degree",
    needs=Need.DATA_FREE,
    requires="cell_degree",
    citation="Mereu et al., ET-NAS: Efficient near-Training-free NAS, 2023 (Degree)",
)
def degree(ctx: ScoringContext) -> float:
    """Number of convolutional edges plus skip edges of the cell (a trainability proxy)."""
    return float(ctx.space.feature("cell_degree", ctx.arch_str))
