"""What every page needs: the store, the chosen space and dataset, or a clear next step.

The sidebar widgets live in the entry script (``app.py``) so their values persist while
the user moves between pages; pages read them through :func:`page_context`.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from tfnas_db.dashboard import data
from tfnas_db.db.coverage import StoreOverview
from tfnas_db.db.store import resolve_url, show_url
from tfnas_db.errors import TfnasError
from tfnas_db.scoring.spaces import DEFAULT_SPACE

DATASET_KEY = "dataset"
SPACE_KEY = "space"


@dataclass(frozen=True)
class PageContext:
    url: str
    space: str
    dataset: str
    overview: StoreOverview

    @property
    def db_option(self) -> str:
        """``--db`` for commands shown to the user (password hidden)."""
        return _db_option(self.url)


def _load_overview(url: str) -> StoreOverview | str:
    try:
        return data.overview(url)
    except TfnasError as exc:
        return str(exc)


def _db_option(url: str) -> str:
    return f"--db '{show_url(resolve_url(url))}'"


def sidebar() -> None:
    """Store line, space and dataset pickers, reload button (rendered on every page)."""
    url = data.store_url()
    st.sidebar.caption(f"store: `{show_url(resolve_url(url))}`")
    loaded = _load_overview(url)
    if isinstance(loaded, str):
        return
    spaces = sorted(loaded.spaces) or [DEFAULT_SPACE]
    space = st.sidebar.selectbox("Search space", spaces, key=SPACE_KEY)
    choices = loaded.scored_datasets(space) or loaded.datasets or ["cifar10"]
    if st.session_state.get(DATASET_KEY) not in choices:
        st.session_state[DATASET_KEY] = "cifar10" if "cifar10" in choices else choices[0]
    st.sidebar.selectbox(
        "Dataset", choices, key=DATASET_KEY, help="Datasets with stored scores (NATS-Bench names)."
    )
    if st.sidebar.button(
        "Reload data", key="reload", help="Read the store again (e.g. during a populate)."
    ):
        data.clear_caches()
        st.rerun()


def page_context(*, need_scores: bool = True) -> PageContext:
    """The page's context; when the store is missing, out of date or (with ``need_scores``)
    holds no scores, say what to run and stop the page instead of raising."""
    url = data.store_url()
    loaded = _load_overview(url)
    if isinstance(loaded, str):
        st.error(loaded)
        st.markdown("Create and fill a store, then start the dashboard on it:")
        db = _db_option(url)
        steps = f"tfnas-db db upgrade {db}\ntfnas-db populate --limit 200 {db}"
        st.code(f"{steps}\ntfnas-db dashboard {db}", language="bash")
        st.stop()
    space = st.session_state.get(SPACE_KEY) or next(iter(sorted(loaded.spaces)), DEFAULT_SPACE)
    dataset = st.session_state.get(DATASET_KEY) or "cifar10"
    context = PageContext(url=url, space=space, dataset=dataset, overview=loaded)
    if need_scores and dataset not in loaded.scored_datasets(space):
        st.info(f"The store holds no scores on {dataset} yet. Fill it with:")
        where = "" if space == DEFAULT_SPACE else f" --space {space}"
        st.code(f"tfnas-db populate{where} --dataset {dataset} {_db_option(url)}", language="bash")
        st.stop()
    return context
