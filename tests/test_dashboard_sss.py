"""The dashboard on a store holding both spaces: the space picker switches every page to
nats-sss, whose pages show score-only results and say which import brings accuracies."""

from __future__ import annotations

import pytest
from helpers import open_page, tfnas
from streamlit.testing.v1 import AppTest

from tfnas_db.dashboard.pages import PAGES

IMPORT_HINT = "tfnas-db import nats-bench --path PATH --space sss"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('dash_sss') / 'both.db'}"
    common = ("--db", url, "--batch-size", "16", "--quiet", "--scorers")
    for args in (
        ("db", "upgrade", "--db", url),
        ("populate", *common, "naswot,params", "--limit", "10"),
        ("populate", "--space", "nats-sss", *common, "naswot,params,flops", "--limit", "24"),
    ):
        out = tfnas(*args)
        assert out.returncode == 0, out.stderr
    return url


def open_sss_page(url: str, monkeypatch: pytest.MonkeyPatch, file: str) -> AppTest:
    app = open_page(url, monkeypatch)
    assert app.selectbox(key="space").options == ["nats-sss", "nats-tss"]
    app.selectbox(key="space").select("nats-sss").run()
    if file != PAGES[0].file:
        app.switch_page(f"views/{file}")
        app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_every_page_renders_on_nats_sss(store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for page in PAGES:
        app = open_sss_page(store, monkeypatch, page.file)
        assert not app.error, (page.file, [e.value for e in app.error])


def test_explorer_filters_by_width_and_draws_the_layers(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = open_sss_page(store, monkeypatch, "explorer.py")
    assert not app.multiselect  # no ops to filter on in a width space
    assert [s.label for s in app.select_slider] == ["c1", "c2", "c3", "c4", "c5"]
    assert len(app.dataframe[0].value) == 24
    app.select_slider(key="feature_c5").set_value((16, 24)).run()
    shown = app.dataframe[0].value["arch_str"]
    assert len(shown) == 6 and all(a.split(":")[4] in ("16", "24") for a in shown)
    app.text_input(key="arch_token").input("8:8:8:16:24").run()
    assert any("#10" in m.value for m in app.markdown)
    dot = app.get("graphviz_chart")[0].proto.spec
    assert "cell\\n16 -> 24" in dot
    app.text_input(key="arch_token").input("8:8:8:8:9").run()
    assert "malformed nats-sss architecture" in app.error[0].value


def test_search_is_score_only_and_etnas_is_refused(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = open_sss_page(store, monkeypatch, "search.py")
    assert IMPORT_HINT in app.info[0].value
    labels = [m.label for m in app.metric]
    assert "Params of picks (M)" in labels and not any("Accuracy" in m for m in labels)
    app.selectbox(key="A_strategy").select("etnas").run()
    assert any("not defined on nats-sss" in e.value for e in app.error)


def test_correlations_compare_scorers_without_accuracy(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = open_sss_page(store, monkeypatch, "correlations.py")
    assert IMPORT_HINT in app.info[0].value
    assert app.selectbox(key="corr_acc").value == "flops_m"
    table = app.dataframe[0].value
    assert set(table["scorer"]) == {"naswot", "params", "flops"}
    params = table.loc[table["scorer"] == "params", "kendall_tau"].iloc[0]
    assert params > 0.5  # params and FLOPs rank the widths alike
    # a scorer against itself: a hint, and the others against it; never a traceback
    app.selectbox(key="corr_scorer").select("params").run()
    app.selectbox(key="corr_acc").select("params").run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("params against itself" in i.value for i in app.info)
    assert set(app.dataframe[0].value["scorer"]) == {"naswot", "flops"}
