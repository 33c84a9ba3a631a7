"""Search: run a strategy over the stored scores, compare two configurations, save runs."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from tfnas_db.dashboard import charts, data
from tfnas_db.dashboard.context import PageContext, page_context
from tfnas_db.dashboard.widgets import mu_sigma_sliders
from tfnas_db.db.queries import AccuracyColumn, missing_accuracy_note
from tfnas_db.errors import ScoresNeeded, TfnasError
from tfnas_db.search.penalties import PENALTIES
from tfnas_db.search.runner import check_strategy_space
from tfnas_db.search.strategies import STRATEGIES, SearchOptions

# Configuration B starts penalised so the comparison shows what a size penalty changes.
DEFAULT_PENALTY = {"A": "none", "B": "gdf"}


def configuration(
    slot: str, context: PageContext, scorers: list[str], column: AccuracyColumn | None
) -> data.DashboardSearch | None:
    """One configuration's widgets (keys prefixed by ``slot``) and its search."""
    strategy = st.selectbox(
        "Strategy",
        list(STRATEGIES),
        key=f"{slot}_strategy",
        help="; ".join(f"{s.name}: {s.summary}" for s in STRATEGIES.values()),
    )
    chosen = STRATEGIES[strategy]
    try:
        check_strategy_space(strategy, context.space)
    except TfnasError as exc:
        st.error(str(exc))
        return None
    scorer = None
    if chosen.takes_scorer:
        default = scorers.index("naswot") if "naswot" in scorers else 0
        scorer = st.selectbox("Scorer", scorers, index=default, key=f"{slot}_scorer")
    try:
        candidates = len(
            data.score_table(
                context.url,
                context.space,
                context.dataset,
                tuple(chosen.scorers(scorer)),
                column,
                chosen.on_demand,
            )[0]
        )
    except TfnasError as exc:
        st.error(str(exc))
        return None
    top_n = max(1, min(1000, candidates))
    n = 1
    if top_n > 1:
        n = st.slider(
            "N (architectures sampled per run)",
            1,
            top_n,
            min(100, top_n),
            key=f"{slot}_n",
            disabled=not chosen.uses_n,
        )
    runs = st.slider("Runs", 1, 1000, 100, key=f"{slot}_runs")
    seed = st.number_input("Seed", 0, 2**31 - 1, 0, key=f"{slot}_seed")
    penalty = st.selectbox(
        "Size penalty",
        list(PENALTIES),
        index=list(PENALTIES).index(DEFAULT_PENALTY[slot]),
        key=f"{slot}_penalty",
        disabled=not chosen.penalisable,
    )
    if not chosen.penalisable:
        penalty = "none"
    mu, sigma = mu_sigma_sliders(slot, disabled=penalty == "none")
    max_params = st.number_input(
        "Max params (M; 0 = no limit; pareto: the budget)",
        0.0,
        2.0,
        0.0,
        0.1,
        key=f"{slot}_max_params",
    )
    options = SearchOptions(
        n=n,
        runs=runs,
        seed=int(seed),
        penalty=penalty,
        mu=mu,
        sigma=sigma,
        max_params=max_params or None,
    )
    try:
        return data.search(
            context.url,
            context.space,
            context.dataset,
            strategy,
            scorer,
            tuple(options.__dict__.items()),
            column,
        )
    except ScoresNeeded as exc:
        command = (
            f"tfnas-db search --strategy {strategy} --dataset {context.dataset} "
            f"--runs {options.runs} --seed {options.seed}"
        )
        if penalty != "none":
            command += f" --penalty {penalty} --mu {mu} --sigma {sigma}"
        if options.max_params:
            command += f" --max-params {options.max_params}"
        st.error(
            f"{strategy} needs {exc.scorer} for {len(exc.rows)} architectures it visited that "
            f"the store lacks; score them from a shell, then reload: {command} --score-missing"
        )
        return None
    except TfnasError as exc:
        st.error(str(exc))
        return None


def show_result(found: data.DashboardSearch) -> None:
    summary = found.outcome.summary
    if found.column is None:  # score-only: no accuracy stored for this space and dataset
        st.metric("Params of picks (M)", f"{summary.params_mean:.3f}")
        st.caption(f"simulated search time {summary.search_seconds_mean:.1f} s per run")
        st.dataframe(
            pd.DataFrame([p.__dict__ for p in summary.top_picks]).drop(columns=["accuracy"]),
            hide_index=True,
        )
        return
    if found.outcome.note:
        st.warning(found.outcome.note)
    cols = st.columns(3)
    cols[0].metric(f"Accuracy (± {summary.accuracy_std:.2f})", f"{summary.accuracy_mean:.2f}")
    cols[1].metric("Regret", f"{summary.regret_mean:.2f}")
    cols[2].metric("Params of picks (M)", f"{summary.params_mean:.3f}")
    st.caption(
        f"simulated search time {summary.search_seconds_mean:.1f} s per run; "
        f"best in space {summary.best_accuracy:.2f}"
    )
    st.dataframe(
        pd.DataFrame([p.__dict__ for p in summary.top_picks]),
        hide_index=True,
    )


st.title("Search")
context = page_context()
_, scorers = data.architectures(context.url, context.space, context.dataset)
held = data.columns_held(context.url, context.space, context.dataset)
column: AccuracyColumn | None = None
if not held:
    st.info(missing_accuracy_note(context.space, context.dataset))
else:
    default_column = data.accuracy_column(context.url, context.space, context.dataset, None, None)
    column = st.selectbox(
        "Accuracy reported",
        held,
        index=held.index(default_column),
        format_func=lambda c: c.key,
        key="search_column",
    )
    st.caption(f"`{column.key}`: {column.label} on {context.dataset} (bundled table)")
compare = st.toggle("Compare with a second configuration", True, key="compare")

slots = ["A", "B"] if compare else ["A"]
found: dict[str, data.DashboardSearch] = {}
for slot, col in zip(slots, st.columns(len(slots)), strict=True):
    with col:
        st.subheader(f"Configuration {slot}")
        with st.expander("Settings", expanded=True):
            result = configuration(slot, context, scorers, column)
        if result is not None:
            found[slot] = result
            show_result(result)
            if st.button(f"Save configuration {slot}", key=f"{slot}_save"):
                saved = data.save(context.url, context.space, context.dataset, result)
                st.success(f"saved as search run {saved} (tfnas-db runs)")

if found and column is not None:
    picks = pd.concat(
        [
            pd.DataFrame({"accuracy": r.picked_accuracy, "configuration": slot})
            for slot, r in found.items()
        ]
    )
    st.subheader("Accuracy of the picks")
    st.altair_chart(charts.accuracy_histogram(picks, column.key), width="stretch")

st.subheader("Saved searches")
saved_runs = data.saved_searches(context.url, context.dataset)
if not saved_runs:
    st.caption("None yet: save a configuration above, or run `tfnas-db search --save`.")
else:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "id": s.id,
                    "created": s.created_at,
                    "strategy": s.strategy,
                    "scorers": s.scorers,
                    "accuracy column": s.accuracy_column,
                    "accuracy": s.summary.get("accuracy_mean"),
                    "std": s.summary.get("accuracy_std"),
                    "N": s.options.get("n"),
                    "runs": s.summary.get("runs"),
                    "penalty": s.options.get("penalty"),
                }
                for s in reversed(saved_runs)
            ]
        ),
        hide_index=True,
    )
