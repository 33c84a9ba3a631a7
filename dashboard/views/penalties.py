"""Penalties: the w(size) curves and how a penalty re-ranks the stored scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from tfnas_db.dashboard import charts, data
from tfnas_db.dashboard.context import page_context
from tfnas_db.dashboard.widgets import mu_sigma_sliders
from tfnas_db.db.queries import missing_accuracy_note
from tfnas_db.search.penalties import PENALTIES, normalise, penalised

TOP = 10

st.title("Size penalties")
st.caption(
    "The score is min-max normalised over the candidates, then multiplied by w(params in M): "
    "w = 1 up to mu, then each density scaled so that w(mu) = 1 (SPEC 7; the thesis' printed "
    "densities are not normalised)."
)
context = page_context()
table, scorers = data.architectures(context.url, context.space, context.dataset)

mu, sigma = mu_sigma_sliders("pen", columns=tuple(st.columns(2)))
max_size = float(np.nanmax(table["params_m"].to_numpy(float)))
st.altair_chart(charts.penalty_curves(mu, sigma, max_size), width="stretch")

st.subheader("Re-ranking")
left, middle, right = st.columns(3)
scorer = left.selectbox(
    "Scorer",
    scorers,
    index=scorers.index("naswot") if "naswot" in scorers else 0,
    key="pen_scorer",
)
penalty = middle.selectbox("Penalty", [p for p in PENALTIES if p != "none"], key="pen_penalty")
accuracy_cols = [c for c in table.columns if "_acc_" in c]
if not accuracy_cols:  # score-only: colour by FLOPs, say how to bring accuracies in
    st.info(missing_accuracy_note(context.space, context.dataset))
accuracy = right.selectbox(
    "Colour by",
    accuracy_cols or ["flops_m"],
    index=accuracy_cols.index("val_acc_200ep") if "val_acc_200ep" in accuracy_cols else 0,
    key="pen_accuracy",
)
scored = table[np.isfinite(table[scorer].to_numpy(float))].reset_index(drop=True)
if len(scored) < 2:
    st.info(f"Re-ranking needs at least two stored {scorer} scores.")
    st.stop()
score = scored[scorer].to_numpy(float)
params = scored["params_m"].to_numpy(float)
before = normalise(score)
after = penalised(score, params, penalty, mu, sigma)
points = pd.concat(
    [
        scored[["arch_index", "arch_str", "params_m", accuracy]].assign(
            ranking_score=values, stage=stage
        )
        for stage, values in (("before", before), ("after", after))
    ]
)
st.altair_chart(charts.rerank_scatter(points, accuracy))

top_before = np.argsort(-before, kind="stable")[:TOP]
top_after = np.argsort(-after, kind="stable")[:TOP]
cols = st.columns(4)
cols[0].metric(f"Params of top {TOP}, before (M)", f"{params[top_before].mean():.3f}")
cols[1].metric(
    f"after {penalty}",
    f"{params[top_after].mean():.3f}",
    delta=f"{params[top_after].mean() - params[top_before].mean():+.3f}",
    delta_color="inverse",
)
acc = scored[accuracy].to_numpy(float)
cols[2].metric(f"{accuracy} of top {TOP}, before", f"{np.nanmean(acc[top_before]):.2f}")
cols[3].metric(
    f"after {penalty}",
    f"{np.nanmean(acc[top_after]):.2f}",
    delta=f"{np.nanmean(acc[top_after]) - np.nanmean(acc[top_before]):+.2f}",
)
left, right = st.columns(2)
for col, title, rows in ((left, "before", top_before), (right, f"after {penalty}", top_after)):
    col.markdown(f"**Top {TOP} {title}**")
    col.dataframe(
        scored.iloc[rows][["arch_index", "arch_str", scorer, "params_m", accuracy]],
        hide_index=True,
    )
