"""Cached reads for the dashboard: thin wrappers over the query layer the CLI uses.

Every function takes the store URL as its first argument so caches never mix stores.
Entries expire after ``TTL_SECONDS`` so a page shows a populate that is still running;
the sidebar's "Reload data" button clears them at once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import streamlit as st

from tfnas_db.dashboard.filters import feature_columns
from tfnas_db.db.coverage import StoreOverview, store_overview
from tfnas_db.db.queries import (
    AccuracyColumn,
    ScoreTable,
    accuracy_columns,
    best_accuracy,
    load_score_table,
    resolve_accuracy_column,
)
from tfnas_db.db.searches import SavedSearch, list_searches, save_search
from tfnas_db.db.seeds import seed_values
from tfnas_db.db.store import Store, open_store, resolve_url
from tfnas_db.db.tables import wide_table
from tfnas_db.scoring.registry import DEFAULT_SCORERS
from tfnas_db.search.correlation import correlation_rows
from tfnas_db.search.runner import SearchOutcome, run_search
from tfnas_db.search.strategies import SearchOptions, get_strategy

TTL_SECONDS = 120


def store_url() -> str:
    """The store the dashboard was started on (``tfnas-db dashboard --db`` sets the env)."""
    return resolve_url(None).render_as_string(hide_password=False)


@st.cache_resource(show_spinner=False)
def store(url: str) -> Store:
    return open_store(url)


@st.cache_data(show_spinner=False, ttl=TTL_SECONDS)
def overview(url: str) -> StoreOverview:
    with store(url).session() as session:
        return store_overview(session, DEFAULT_SCORERS)


@st.cache_data(show_spinner=False, ttl=TTL_SECONDS)
def columns_held(url: str, space: str, dataset: str) -> list[AccuracyColumn]:
    with store(url).session() as session:
        return accuracy_columns(session, space, dataset)


@st.cache_data(show_spinner="Loading architectures...", ttl=TTL_SECONDS)
def architectures(url: str, space: str, dataset: str) -> tuple[pd.DataFrame, list[str]]:
    """The wide table (every architecture, every stored scorer) plus the space's filter
    columns (nats-tss: ``n_<op>``; nats-sss: widths ``c1``..``c5``) for the explorer;
    returns the table and the scorer names."""
    with store(url).session() as session:
        table, runs = wide_table(session, space, dataset, only_scored=False)
    features = feature_columns(table["arch_str"], space)
    return pd.concat([table, features], axis=1), list(runs)


@st.cache_data(show_spinner="Loading scores...", ttl=TTL_SECONDS)
def score_table(
    url: str,
    space: str,
    dataset: str,
    scorers: tuple[str, ...],
    column: AccuracyColumn | None,
    on_demand: tuple[str, ...] = (),
) -> tuple[ScoreTable, float]:
    """Search candidates (one query) and the best accuracy of the column, for regret."""
    with store(url).session() as session:
        table = load_score_table(
            session, space, dataset, list(scorers), column, on_demand=on_demand
        )
        return table, best_accuracy(session, space, dataset, column)


@st.cache_data(show_spinner=False, ttl=TTL_SECONDS)
def accuracy_column(
    url: str, space: str, dataset: str, metric: str | None, epochs: int | None
) -> AccuracyColumn:
    with store(url).session() as session:
        return resolve_accuracy_column(session, space, dataset, metric, epochs)


@st.cache_data(show_spinner="Computing rank correlations...", ttl=TTL_SECONDS)
def correlations(url: str, space: str, dataset: str, accuracy: str) -> pd.DataFrame:
    """Kendall tau, Spearman rho and top-10 % tau of every stored scorer vs one column (a
    scorer is not ranked against itself), with the ``utopian`` row where ET-NAS's three
    measures are stored: the rows of ``tfnas-db correlate``."""
    table, scorers = architectures(url, space, dataset)
    frame = pd.DataFrame([asdict(row) for row in correlation_rows(table, scorers, [accuracy])])
    if len(frame):
        frame = frame.sort_values("kendall_tau", ascending=False, na_position="last")
    return frame.reset_index(drop=True)


@st.cache_data(show_spinner=False, ttl=TTL_SECONDS)
def seed_spread(
    url: str, space: str, dataset: str, scorers: tuple[str, ...], arch_index: int
) -> pd.DataFrame:
    """Per scorer stored more than once for this architecture (several seeds, sources or
    batch sizes, e.g. by ``tfnas-db variance``): how many values, their mean, std and range,
    and the values by seed, so a user sees how far a reseed moves the score."""
    rows = []
    with store(url).session() as session:
        for name in scorers:
            values = seed_values(session, space, dataset, name, arch_index)
            if len(values) < 2:
                continue
            numbers = np.array([v.value for v in values])
            if numbers.min() == numbers.max():  # seed-free (e.g. params): nothing to show
                continue
            listing = ", ".join(
                f"{v.seed}: {v.value:.4g}"
                for v in sorted(values, key=lambda v: (v.data_source, v.batch_size, v.seed))
            )
            sources = sorted({f"{v.data_source}/{v.batch_size}" for v in values})
            rows.append(
                {
                    "scorer": name,
                    "values": len(values),
                    "mean": float(numbers.mean()),
                    "std": float(numbers.std(ddof=1)),
                    "min": float(numbers.min()),
                    "max": float(numbers.max()),
                    "data/batch": ", ".join(sources),
                    "by seed": listing,
                }
            )
    return pd.DataFrame(rows)


@st.cache_data(show_spinner=False, ttl=TTL_SECONDS)
def saved_searches(url: str, dataset: str | None = None) -> list[SavedSearch]:
    with store(url).session() as session:
        return list_searches(session, dataset)


def clear_caches() -> None:
    st.cache_data.clear()


@dataclass(frozen=True)
class DashboardSearch:
    """A search run from the page, with what the page shows and what saving needs."""

    strategy: str
    scorers: list[str]
    options: SearchOptions
    column: AccuracyColumn | None  # None: score-only (no accuracy stored)
    outcome: SearchOutcome
    picked_accuracy: np.ndarray
    picked_index: list[int]
    score_runs: dict[str, int]


@st.cache_data(show_spinner="Searching...", ttl=TTL_SECONDS, max_entries=64)
def search(
    url: str,
    space: str,
    dataset: str,
    strategy: str,
    scorer: str | None,
    options: tuple[tuple[str, object], ...],
    column: AccuracyColumn | None,
) -> DashboardSearch:
    """Run a strategy over the cached candidates (``options`` as items, to be hashable)."""
    chosen = get_strategy(strategy)
    scorers = list(chosen.scorers(scorer))
    search_options = SearchOptions(**dict(options))  # type: ignore[arg-type]
    table, best = score_table(url, space, dataset, tuple(scorers), column, chosen.on_demand)
    outcome = run_search(table, space, strategy, search_options, best_accuracy=best)
    picks = outcome.result.picks
    return DashboardSearch(
        strategy=strategy,
        scorers=scorers,
        options=search_options,
        column=column,
        outcome=outcome,
        picked_accuracy=table.accuracy[picks],
        picked_index=table.arch_index[picks].tolist(),
        score_runs={name: run.id for name, run in table.runs.items()},
    )


def save(url: str, space: str, dataset: str, found: DashboardSearch) -> int:
    """Store a search as ``search --save`` does, so ``tfnas-db runs`` lists it too."""
    header = {
        "strategy": found.strategy,
        "space": space,
        "dataset": dataset,
        "scorers": found.scorers,
        "accuracy_column": found.column.key if found.column else None,
        "options": dict(found.options.__dict__),
        "score_runs": found.score_runs,
    }
    with store(url).session() as session:
        saved = save_search(session, header, found.outcome.summary.as_dict(), found.picked_index)
    saved_searches.clear()
    return saved
