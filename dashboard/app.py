"""Streamlit entry point (``tfnas-db dashboard``). Issue 1: a placeholder overview page.

Reads the store through the same query layer as the CLI; the URL comes from
``$TFNAS_DB_URL`` (set by the ``dashboard`` command from ``--db``).
"""

from __future__ import annotations

import streamlit as st

from tfnas_db.db.queries import list_runs
from tfnas_db.db.store import open_store
from tfnas_db.errors import TfnasError

st.set_page_config(page_title="tfnas-db", layout="wide")
st.title("tfnas-db")
st.caption("A precomputed database of training-free NAS scores.")
try:
    store = open_store(None)
    with store.session() as session:
        runs = list_runs(session)
except TfnasError as exc:
    st.warning(str(exc))
    st.stop()
if not runs:
    st.info("The store holds no scores yet; run: tfnas-db populate --limit 200")
else:
    st.subheader("Stored score runs")
    st.dataframe(
        [
            {
                "run": r.id,
                "scorer": r.scorer,
                "dataset": r.dataset,
                "space": r.space,
                "data": r.data_source,
                "batch": r.batch_size,
                "seed": r.seed,
                "ok": r.n_ok,
                "nan": r.n_nan,
                "error": r.n_error,
            }
            for r in runs
        ],
        hide_index=True,
    )
