"""Streamlit entry point (``tfnas-db dashboard``): navigation and the shared sidebar.

Each page is a thin script in ``views/`` (listed once, in :mod:`.pages`) that reads the
store through :mod:`tfnas_db.dashboard.data`, the CLI's query layer with caching. The
store URL comes from ``$TFNAS_DB_URL``, which ``tfnas-db dashboard --db`` sets.
"""

from __future__ import annotations

import streamlit as st

from tfnas_db.dashboard.context import sidebar
from tfnas_db.dashboard.pages import PAGES

st.set_page_config(page_title="tfnas-db", page_icon=":material/neurology:", layout="wide")
page = st.navigation(
    [
        st.Page(spec.path, title=spec.title, icon=spec.icon, default=i == 0)
        for i, spec in enumerate(PAGES)
    ]
)
sidebar()
page.run()
