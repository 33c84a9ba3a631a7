"""The dashboard on a NAS-Bench-101 store: every page renders score-only results naming
the import, the explorer filters on op counts and depth and draws the DAG cell."""

from __future__ import annotations

import pytest
from helpers import open_page, tfnas
from streamlit.testing.v1 import AppTest

from tfnas_db.dashboard.pages import PAGES
from tfnas_db.scoring.spaces import nasbench101_cells as cells

IMPORT_HINT = "tfnas-db import nasbench101"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('dash_nb101') / 'nb.db'}"
    for args in (
        ("db", "upgrade", "--db", url),
        ("populate", "--space", "nasbench101", "--scorers", "relu_count,params,flops",
         "--limit", "40", "--quiet", "--db", url),
    ):  # fmt: skip
        out = tfnas(*args)
        assert out.returncode == 0, out.stderr
    return url


def open_nb101_page(url: str, monkeypatch: pytest.MonkeyPatch, file: str) -> AppTest:
    app = open_page(url, monkeypatch)
    app.selectbox(key="space").select("nasbench101").run()
    if file != PAGES[0].file:
        app.switch_page(f"views/{file}")
        app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_every_page_renders_on_nasbench101(store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for page in PAGES:
        app = open_nb101_page(store, monkeypatch, page.file)
        assert not app.error, (page.file, [e.value for e in app.error])


def test_explorer_filters_by_op_and_depth_and_draws_the_dag(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = open_nb101_page(store, monkeypatch, "explorer.py")
    assert list(app.multiselect(key="require_ops").options) == list(cells.OPS)
    assert {"depth", "vertices", "edges"} <= {s.label for s in app.select_slider}
    assert len(app.dataframe[0].value) == 40
    app.multiselect(key="exclude_ops").set_value(["maxpool3x3"]).run()
    shown = app.dataframe[0].value["arch_index"].tolist()
    assert 0 < len(shown) < 40
    assert all(cells.op_counts([i])["maxpool3x3"][0] == 0 for i in shown)
    spelling = cells.cell_spelling(7)
    app.text_input(key="arch_token").input(spelling).run()
    assert any("#7" in m.value for m in app.markdown)
    dot = app.get("graphviz_chart")[0].proto.spec
    assert "digraph cell" in dot and "->" in dot
