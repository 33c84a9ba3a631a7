"""Correlations: any scorer against any accuracy column, and the tau/rho table."""

from __future__ import annotations

import streamlit as st

from tfnas_db.dashboard import charts, data
from tfnas_db.dashboard.context import page_context
from tfnas_db.db.queries import missing_accuracy_note
from tfnas_db.search.correlation import UTOPIAN, UTOPIAN_NOTE, correlation_rows

st.title("Correlations")
context = page_context()
table, scorers = data.architectures(context.url, context.space, context.dataset)
accuracy_cols = [c for c in table.columns if "_acc_" in c]
score_only = not accuracy_cols
if score_only:  # no accuracy stored (nats-sss before an import): scorers against each other
    st.info(
        missing_accuracy_note(context.space, context.dataset).replace(
            "(picks, size, Pareto front)",
            "(each scorer against another, or against FLOPs; colour shows params)",
        )
    )
    accuracy_cols = [*scorers, "flops_m"]

left, right = st.columns(2)
scorer = left.selectbox(
    "Scorer",
    scorers,
    index=scorers.index("naswot") if "naswot" in scorers else 0,
    key="corr_scorer",
)
default_col = accuracy_cols.index("val_acc_200ep") if "val_acc_200ep" in accuracy_cols else 0
if score_only:
    default_col = accuracy_cols.index("flops_m")
accuracy = right.selectbox(
    "Score or size column" if score_only else "Accuracy column",
    accuracy_cols,
    index=default_col,
    key="corr_acc",
)

if not score_only:
    labels = {
        c.key: c.label for c in data.columns_held(context.url, context.space, context.dataset)
    }
    st.caption(f"`{accuracy}`: {labels.get(accuracy, accuracy)} on {context.dataset}")

result = data.correlations(context.url, context.space, context.dataset, accuracy)
if scorer == accuracy:
    st.info(f"{scorer} against itself: pick another column.")
else:
    chosen = result[result["scorer"] == scorer].iloc[0]
    cols = st.columns(4)
    cols[0].metric("Architectures", int(chosen["n"]))
    cols[1].metric("Kendall tau", f"{chosen['kendall_tau']:.3f}")
    cols[2].metric("Spearman rho", f"{chosen['spearman_rho']:.3f}")
    cols[3].metric("tau in top 10 %", f"{chosen['top10_kendall_tau']:.3f}")
    st.altair_chart(charts.score_scatter(table, scorer, accuracy), width="stretch")

if len(result):
    st.subheader(f"Every scorer against {accuracy}")
    st.dataframe(
        result.drop(columns=["accuracy"]),
        hide_index=True,
        column_config={
            "kendall_tau": st.column_config.NumberColumn(format="%.3f"),
            "spearman_rho": st.column_config.NumberColumn(format="%.3f"),
            "top10_kendall_tau": st.column_config.NumberColumn("tau in top 10 %", format="%.3f"),
        },
    )
    caption = (
        "Over architectures with both a finite score and an accuracy; the top 10 % are by "
        "accuracy. The same numbers as `tfnas-db correlate`."
    )
    if UTOPIAN in set(result["scorer"]):
        caption += f" {UTOPIAN_NOTE}."
    st.caption(caption)

# Imported runs (``naswot@naslib``) beside ours of the same scorer: how alike they rank.
pairs = [
    (label, label.partition("@")[0])
    for label in scorers
    if "@" in label and label.partition("@")[0] in scorers
]
if pairs:
    st.subheader("Imported scores against ours")
    imported, ours = st.selectbox(
        "Imported run", pairs, format_func=lambda pair: f"{pair[0]} vs {pair[1]}", key="corr_pair"
    )
    agreement = correlation_rows(table, [imported], [ours])[0]
    cols = st.columns(3)
    cols[0].metric("Architectures in both", agreement.n)
    cols[1].metric(f"Kendall tau ({imported} vs {ours})", f"{agreement.kendall_tau:.3f}")
    cols[2].metric("Spearman rho", f"{agreement.spearman_rho:.3f}")
    st.altair_chart(charts.score_scatter(table, imported, ours), width="stretch")
    st.caption(
        "The same numbers as `tfnas-db correlate --scorers "
        f"{imported} --against {ours}`; imported values are kept as their file published them."
    )
