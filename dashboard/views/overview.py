"""Overview: what the store holds, how much of each space it covers, what is missing."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from tfnas_db.dashboard import charts, data
from tfnas_db.dashboard.context import page_context

st.title("tfnas-db")
st.caption(
    "A precomputed database of training-free NAS scores: populate once, then search and "
    "analyse with cheap queries."
)
context = page_context(need_scores=False)
overview = context.overview
searches = data.saved_searches(context.url)

cols = st.columns(4)
cols[0].metric("Architectures", sum(overview.spaces.values()), help=", ".join(overview.spaces))
cols[1].metric("Datasets with scores", len({c.run.dataset for c in overview.coverage}))
cols[2].metric("Score runs", len(overview.coverage))
cols[3].metric("Saved searches", len(searches))

if overview.empty:
    st.info("The store holds no scores yet. Score the first architectures with:")
    st.code(f"tfnas-db populate --limit 200 {context.db_option}", language="bash")
else:
    coverage = pd.DataFrame(
        [
            {
                "run": c.run.id,
                "scorer": c.run.scorer,
                "space": c.run.space,
                "dataset": c.run.dataset,
                "origin": c.run.origin,
                "data": c.run.data_source,
                "batch": c.run.batch_size,
                "seed": c.run.seed,
                "ok": c.run.n_ok,
                "nan": c.run.n_nan,
                "error": c.run.n_error,
                "coverage": c.fraction,
                "label": f"{c.run.scorer} #{c.run.id} ({c.run.dataset})",
                "finished": c.run.finished_at,
            }
            for c in overview.coverage
        ]
    )
    bundled = [c.run for c in overview.coverage if c.run.origin == "bundled"]
    if bundled:
        st.caption(
            f"{len(bundled)} score runs come from the release bundled with tfnas-db (origin "
            "'bundled'): computed by tfnas-db populate with the default options; "
            "`tfnas-db runs --scores --format json` shows each one's provenance."
        )
    st.subheader("Coverage per score run")
    st.altair_chart(charts.coverage_chart(coverage), width="stretch")
    st.dataframe(
        coverage.drop(columns=["label"]),
        hide_index=True,
        column_config={
            "coverage": st.column_config.ProgressColumn(
                "coverage", format="percent", min_value=0.0, max_value=1.0
            ),
        },
    )

st.subheader("Missing pieces")
if not overview.gaps:
    st.success("Every seeded dataset has complete runs of the default scorers.")
for gap in overview.gaps:
    st.markdown(f"**{gap.space} / {gap.dataset}**: {gap.reason}")
    st.code(f"{gap.command} {context.db_option}", language="bash")
