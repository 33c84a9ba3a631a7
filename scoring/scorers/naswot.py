"""NASWOT (Mellor et al., ICML 2021): log-determinant of the ReLU-code kernel K_H."""

from __future__ import annotations

import numpy as np

from tfnas_db.scoring.context import ScoringContext
from tfnas_db.scoring.registry import Need, scorer


def hamming_kernel(code_gram: np.ndarray, code_units: int) -> np.ndarray:
    """K_H = sum over ReLUs of C C^T + (1-C)(1-C)^T = D - r_i - r_j + 2 G_ij, from
    G = sum C C^T and D = sum of code lengths (r_i = G_ii): the number of units on which
    samples i and j agree, i.e. N_A minus their Hamming distance."""
    active = np.diag(code_gram)
    return float(code_units) - active[:, None] - active[None, :] + 2.0 * code_gram


def naswot_from_gram(code_gram: np.ndarray, code_units: int) -> float:
    """log|K_H|; NaN when K_H is singular or not positive definite."""
    kernel = hamming_kernel(code_gram, code_units)
    sign, logdet = np.linalg.slogdet(kernel)
    if sign <= 0 or not np.isfinite(logdet):
        return float("nan")
    return float(logdet)


@scorer(
    "naswot",
    needs=Need.FORWARD,
    aliases=("nwot", "hook_logdet"),
    citation="Mellor et al., Neural Architecture Search without Training, ICML 2021",
)
def naswot(ctx: ScoringContext) -> float:
    """log|K_H|, K_H = sum over ReLUs of C C^T + (1-C)(1-C)^T on binary codes C = (x > 0).

    Choices the paper leaves open: BN in train mode (batch statistics; early public code
    used eval mode by mistake); batch size 128 by default; each nn.ReLU counted once, as
    NASLib's ``nwot`` does (the original code matches modules by type name and so counts
    the ReLU inside every ReLU-Conv-BN wrapper twice; rankings barely move). The original
    code only hooks ReLUs that a backward pass reaches: in nats-tss every ReLU reaches
    the output (``none`` multiplies by zero and stays in the autograd graph), so that
    pass is skipped (a test checks the equivalence). K_H is accumulated exactly (integer
    counts, float64 log-determinant); a singular K_H (e.g. duplicated inputs) is stored
    with status nan, not as a number.
    """
    forward = ctx.forward()
    return naswot_from_gram(forward.code_gram, forward.code_units)
