"""Explorer: filter and sort the architectures, then look one up in detail."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from tfnas_db.dashboard import data
from tfnas_db.dashboard.context import page_context
from tfnas_db.dashboard.filters import ArchFilter, filter_architectures, finite_range
from tfnas_db.errors import TfnasError
from tfnas_db.scoring.spaces import get_space

SHOWN_ROWS = 1000

st.title("Explorer")
context = page_context()
space = get_space(context.space)
table, scorers = data.architectures(context.url, context.space, context.dataset)
accuracy_cols = [c for c in table.columns if "_acc_" in c]
# The space's numeric filter columns other than op counts (nats-sss: the widths c1..c5).
range_features = [
    name for name in space.feature_columns([space.arch_of_index(0)]) if not name.startswith("n_")
]

with st.expander("Filters", expanded=True):
    require_ops: list[str] = []
    exclude_ops: list[str] = []
    feature_ranges: dict[str, tuple[float, float]] = {}
    if space.filter_ops:
        left, right = st.columns(2)
        require_ops = left.multiselect("Cell contains all of", space.filter_ops, key="require_ops")
        exclude_ops = right.multiselect(
            "Cell contains none of", space.filter_ops, key="exclude_ops"
        )
    if range_features:
        for name, col in zip(range_features, st.columns(len(range_features)), strict=True):
            values = sorted(set(table[name].tolist()))
            if len(values) > 1:
                low, high = col.select_slider(
                    name, values, (values[0], values[-1]), key=f"feature_{name}"
                )
                feature_ranges[name] = (low, high)
    left, right = st.columns(2)
    params_span = finite_range(table["params_m"])
    params_range = None
    if params_span is not None:
        params_range = left.slider(
            "Params (M)", params_span[0], params_span[1], params_span, key="params_range"
        )
    score_name = right.selectbox("Score to filter on", ["(none)", *scorers], key="score_name")
    score_range = None
    if score_name != "(none)":
        span = finite_range(table[score_name])
        if span is not None and span[0] < span[1]:
            score_range = right.slider(
                f"{score_name} range", span[0], span[1], span, key="score_range"
            )
    only_scored = left.checkbox("Only architectures with a stored score", True, key="only_scored")

spec = ArchFilter(
    require_ops=require_ops,
    exclude_ops=exclude_ops,
    feature_ranges=feature_ranges,
    params_range=params_range,
    score_name=None if score_name == "(none)" else score_name,
    score_range=score_range,
    only_scored=only_scored,
)
filtered = filter_architectures(table, spec, scorers)

sort_options = [*scorers, *accuracy_cols, "params_m", "flops_m", "arch_index"]
left, right = st.columns([3, 1])
sort_by = left.selectbox(
    "Sort by",
    sort_options,
    index=sort_options.index("naswot") if "naswot" in sort_options else 0,
    key="sort_by",
)
descending = right.toggle("Descending", True, key="descending")
filtered = filtered.sort_values(sort_by, ascending=not descending, na_position="last")
shown_cols = ["arch_index", "arch_str", *scorers, "params_m", "flops_m", *accuracy_cols]
st.caption(
    f"{len(filtered)} of {len(table)} architectures match"
    + (f"; showing the first {SHOWN_ROWS}" if len(filtered) > SHOWN_ROWS else "")
)
st.dataframe(filtered[shown_cols].head(SHOWN_ROWS), hide_index=True, height=320)

st.subheader("Architecture")
default = str(int(filtered["arch_index"].iloc[0])) if len(filtered) else "0"
alt_name = space.alt_key_name
has_alt = alt_name is not None and alt_name in table and bool(table[alt_name].notna().any())
alt_label = (alt_name or "").replace("_", " ")
token = st.text_input(
    "Index, arch string" + (f" or {alt_label}" if has_alt else "") + " (default: the first "
    "row above)",
    value="",
    placeholder=default,
    key="arch_token",
)
try:
    index, arch_str = space.resolve_arch(token or default)
except TfnasError as exc:
    st.error(str(exc))
    st.stop()
row = table[table["arch_index"] == index]
left, right = st.columns([3, 2])
with left:
    alt = row[alt_name].iloc[0] if len(row) and alt_name and alt_name in row else None
    extra = f"  \n{alt_label}: `{alt}`" if isinstance(alt, str) and alt else ""
    st.markdown(f"**#{index}** `{arch_str}`{extra}")
    st.graphviz_chart(space.draw(arch_str))
with right:
    if row.empty:
        st.warning(f"#{index} has no row for {context.dataset} in this store.")
    else:
        record = row.iloc[0]
        facts = pd.DataFrame(
            {
                "value": [record[c] for c in [*scorers, "params_m", "flops_m", *accuracy_cols]],
            },
            index=[*scorers, "params_m", "flops_m", *accuracy_cols],
        )
        st.dataframe(facts, height=min(38 + 35 * len(facts), 600))

spread = data.seed_spread(context.url, context.space, context.dataset, tuple(scorers), index)
if len(spread):
    st.markdown("**Spread across stored seeds** (the table above shows each scorer's fullest run)")
    st.dataframe(spread, hide_index=True)
