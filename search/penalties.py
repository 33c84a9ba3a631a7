"""Size penalties (Fernandes 2022, section 4.2), in the normalised form SPEC 7 decides.

A weight w(size) in [0, 1] multiplies the score *after* the score is min-max normalised
to [0, 1] over the candidates: a raw score can be negative, and a weight would then
reward size. ``size`` is the parameter count in millions (NATS-Bench "MB"); defaults
mu = 0.2, sigma = 0.4 (the thesis' 200 kB target). w = 1 for size <= mu; beyond mu:

- gdf:  exp(-((size - mu) / sigma)^2 / 2)
- hsdf: sech(pi/2 * (size - mu) / sigma)
- rdf:  the Rayleigh density shifted so its mode sits at mu, scaled so w(mu) = 1:
        t * exp(-(t^2 - 1) / 2) with t = (size - mu) / sigma + 1

The thesis prints unnormalised densities (1/(sigma sqrt(2 pi)) ..., 1/2 sech ...,
x/sigma^2 ...) that do not equal 1 where its text says they do; these normalised forms
are what tfnas-db implements.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tfnas_db.errors import TfnasError

DEFAULT_MU = 0.2
DEFAULT_SIGMA = 0.4

Weight = Callable[[np.ndarray, float, float], np.ndarray]


def _excess(size: np.ndarray, mu: float, sigma: float) -> np.ndarray:
    return np.maximum(np.asarray(size, dtype=np.float64) - mu, 0.0) / sigma


def gdf(size: np.ndarray, mu: float, sigma: float) -> np.ndarray:
    z = _excess(size, mu, sigma)
    return np.exp(-0.5 * z * z)


def hsdf(size: np.ndarray, mu: float, sigma: float) -> np.ndarray:
    z = _excess(size, mu, sigma)
    return 1.0 / np.cosh(np.pi / 2.0 * z)


def rdf(size: np.ndarray, mu: float, sigma: float) -> np.ndarray:
    t = _excess(size, mu, sigma) + 1.0
    return t * np.exp(-(t * t - 1.0) / 2.0)


def no_penalty(size: np.ndarray, mu: float, sigma: float) -> np.ndarray:
    return np.ones_like(np.asarray(size, dtype=np.float64))


PENALTIES: dict[str, Weight] = {"none": no_penalty, "gdf": gdf, "hsdf": hsdf, "rdf": rdf}


def get_penalty(name: str) -> Weight:
    if name not in PENALTIES:
        raise TfnasError(f"unknown penalty {name!r}; valid penalties: {', '.join(PENALTIES)}")
    return PENALTIES[name]


def check_mu_sigma(mu: float, sigma: float) -> None:
    if not np.isfinite(mu) or mu < 0:
        raise TfnasError(f"--mu must be a size >= 0 (params in millions), got {mu}")
    if not np.isfinite(sigma) or sigma <= 0:
        raise TfnasError(f"--sigma must be > 0, got {sigma}")


def normalise(scores: np.ndarray, axis: int = -1) -> np.ndarray:
    """Min-max normalise to [0, 1] along ``axis``; a constant row maps to 1."""
    low = np.min(scores, axis=axis, keepdims=True)
    high = np.max(scores, axis=axis, keepdims=True)
    span = high - low
    safe = np.where(span > 0, span, 1.0)
    return np.where(span > 0, (scores - low) / safe, 1.0)


def penalised(
    scores: np.ndarray, sizes: np.ndarray, penalty: str, mu: float, sigma: float, axis: int = -1
) -> np.ndarray:
    """Scores to rank by: raw scores for ``none``, else normalised score x w(size)."""
    if penalty == "none":
        return np.asarray(scores, dtype=np.float64)
    weight = get_penalty(penalty)
    check_mu_sigma(mu, sigma)
    return normalise(np.asarray(scores, dtype=np.float64), axis=axis) * weight(sizes, mu, sigma)
