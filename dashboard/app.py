"""Streamlit entry point (``tfnas-db dashboard``): the page registry and the sidebar.

One file shows the whole app: each page is a thin script in ``views/`` that reads the
store through :mod:`tfnas_db.dashboard.data` (the CLI's query layer, cached). The store
URL comes from ``$TFNAS_DB_URL``, which ``tfnas-db dashboard --db`` sets.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from tfnas_db.dashboard.context import sidebar

VIEWS = Path(__file__).resolve().parent / "views"
PAGES = [
    st.Page(VIEWS / "overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page(VIEWS / "explorer.py", title="Explorer", icon=":material/travel_explore:"),
    st.Page(VIEWS / "correlations.py", title="Correlations", icon=":material/scatter_plot:"),
    st.Page(VIEWS / "search.py", title="Search", icon=":material/manage_search:"),
    st.Page(VIEWS / "penalties.py", title="Penalties", icon=":material/tune:"),
]

st.set_page_config(page_title="tfnas-db", page_icon=":material/neurology:", layout="wide")
page = st.navigation(PAGES)
sidebar()
page.run()
