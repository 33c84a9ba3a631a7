"""Widgets more than one page needs, so they read and behave the same everywhere."""

from __future__ import annotations

from typing import Any

import streamlit as st

from tfnas_db.search.penalties import DEFAULT_MU, DEFAULT_SIGMA


def mu_sigma_sliders(
    prefix: str, *, disabled: bool = False, columns: tuple[Any, Any] | None = None
) -> tuple[float, float]:
    """The penalty's mu and sigma (M params), keyed ``<prefix>_mu`` / ``<prefix>_sigma``."""
    left, right = columns or (st, st)
    mu = left.slider(
        "mu (M params with w = 1)",
        0.0,
        1.5,
        DEFAULT_MU,
        0.05,
        key=f"{prefix}_mu",
        disabled=disabled,
    )
    sigma = right.slider(
        "sigma (M params)",
        0.05,
        1.5,
        DEFAULT_SIGMA,
        0.05,
        key=f"{prefix}_sigma",
        disabled=disabled,
    )
    return float(mu), float(sigma)
