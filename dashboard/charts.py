"""Altair chart builders for the pages: pure functions of DataFrames (tested without a
browser). Interactive charts zoom and pan; every point's tooltip names its architecture."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from tfnas_db.search.penalties import PENALTIES

ARCH_TOOLTIP = [
    alt.Tooltip("arch_index:Q", title="index"),
    alt.Tooltip("arch_str:N", title="arch string"),
    alt.Tooltip("params_m:Q", title="params (M)", format=".3f"),
]


def coverage_chart(coverage: pd.DataFrame) -> alt.Chart:
    """Share of the space each score run holds (one bar per run)."""
    return (
        alt.Chart(coverage)
        .mark_bar()
        .encode(
            x=alt.X(
                "coverage:Q",
                title="share of the space scored",
                scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%"),
            ),
            y=alt.Y("label:N", title=None, sort=None),
            color=alt.Color("dataset:N"),
            tooltip=[
                "scorer",
                "dataset",
                "ok",
                "nan",
                "error",
                alt.Tooltip("coverage:Q", format=".1%"),
            ],
        )
    )


def score_scatter(table: pd.DataFrame, score: str, accuracy: str) -> alt.Chart:
    """Score vs accuracy, coloured by params, for the architectures holding both."""
    data = table.loc[
        np.isfinite(table[score].to_numpy(float)) & np.isfinite(table[accuracy].to_numpy(float)),
        ["arch_index", "arch_str", "params_m", score, accuracy],
    ]
    return (
        alt.Chart(data, height=460)
        .mark_circle(size=20, opacity=0.6)
        .encode(
            x=alt.X(f"{score}:Q", title=score, scale=alt.Scale(zero=False)),
            y=alt.Y(f"{accuracy}:Q", title=accuracy, scale=alt.Scale(zero=False)),
            color=alt.Color("params_m:Q", title="params (M)", scale=alt.Scale(scheme="viridis")),
            tooltip=[
                *ARCH_TOOLTIP,
                alt.Tooltip(f"{score}:Q", format=".4g"),
                alt.Tooltip(f"{accuracy}:Q", format=".2f"),
            ],
        )
        .interactive()
    )


def accuracy_histogram(picks: pd.DataFrame, accuracy_title: str) -> alt.Chart:
    """Distribution of the picked architectures' accuracy, one colour per configuration."""
    return (
        alt.Chart(picks, height=300)
        .mark_bar(opacity=0.6, binSpacing=0)
        .encode(
            x=alt.X("accuracy:Q", bin=alt.Bin(maxbins=40), title=accuracy_title),
            y=alt.Y("count():Q", title="runs", stack=None),
            color=alt.Color("configuration:N"),
            tooltip=["configuration", alt.Tooltip("count():Q", title="runs")],
        )
    )


def penalty_curves(mu: float, sigma: float, max_size: float) -> alt.Chart:
    """w(size) of every penalty for one (mu, sigma)."""
    size = np.linspace(0.0, max(max_size, mu + 3 * sigma), 200)
    frame = pd.concat(
        [
            pd.DataFrame({"params_m": size, "w": weight(size, mu, sigma), "penalty": name})
            for name, weight in PENALTIES.items()
            if name != "none"
        ]
    )
    return (
        alt.Chart(frame, height=300)
        .mark_line()
        .encode(
            x=alt.X("params_m:Q", title="params (M)"),
            y=alt.Y("w:Q", title="w(size)", scale=alt.Scale(domain=[0, 1.05])),
            color=alt.Color("penalty:N"),
            tooltip=[
                "penalty",
                alt.Tooltip("params_m:Q", format=".3f"),
                alt.Tooltip("w:Q", format=".3f"),
            ],
        )
    )


def rerank_scatter(points: pd.DataFrame, accuracy: str) -> alt.Chart:
    """Ranking score vs params before and after the penalty (one panel each)."""
    return (
        alt.Chart(points, height=320, width=420)
        .mark_circle(size=24, opacity=0.6)
        .encode(
            x=alt.X("params_m:Q", title="params (M)"),
            y=alt.Y("ranking_score:Q", title="ranking score (normalised)"),
            color=alt.Color(f"{accuracy}:Q", scale=alt.Scale(scheme="viridis", zero=False)),
            tooltip=[*ARCH_TOOLTIP, alt.Tooltip("ranking_score:Q", format=".3f")],
        )
        .facet(column=alt.Column("stage:N", title=None, sort=["before", "after"]))
    )
