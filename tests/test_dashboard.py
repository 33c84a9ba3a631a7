"""Every dashboard page under streamlit's AppTest: renders, widgets change results, and an
empty, missing or bad input shows what to do instead of a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import (
    DASHBOARD_SCORERS,
    HANG_GUARD_SECONDS,
    dashboard_app_file,
    open_page,
    populated_store,
    tfnas,
)
from streamlit.testing.v1 import AppTest

from tfnas_db.dashboard.pages import PAGES
from tfnas_db.dashboard.serve import dashboard_answers, served_dashboard
from tfnas_db.db.store import open_store
from tfnas_db.jobs.populate import PopulateConfig, populate

APP = dashboard_app_file()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    return populated_store(tmp_path_factory.mktemp("dashboard"))


def charts(app: AppTest) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(chart.proto.spec) for chart in app.get("vega_lite_chart")]


def metric(app: AppTest, label: str) -> str:
    return next(m.value for m in app.metric if m.label == label)


def test_every_registered_page_has_a_script_and_renders(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    views = {p.name for p in PAGES[0].path.parent.glob("*.py")}
    assert views == {p.file for p in PAGES}
    for page in PAGES:
        app = open_page(store, monkeypatch, page.file)
        assert not app.error, (page.file, [e.value for e in app.error])
        assert app.title, page.file


def test_overview_counts_runs_and_names_missing_pieces(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = open_page(store, monkeypatch)
    assert metric(app, "Architectures") == "15625"
    assert metric(app, "Score runs") == "6"
    coverage = app.dataframe[0].value
    assert set(coverage["scorer"]) == set(DASHBOARD_SCORERS.split(","))
    assert coverage["coverage"].max() == pytest.approx(30 / 15625)
    commands = [c.value for c in app.code]
    assert any(
        "populate --dataset cifar100 --scorers naswot,relu_count,params,flops" in c
        for c in commands
    )
    assert any("--scorers naswot,relu_count" in c and "--dataset cifar10 " in c for c in commands)
    assert charts(app), "coverage chart"


def test_explorer_filters_sort_and_lookup(store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_page(store, monkeypatch, "explorer.py")
    everything = app.dataframe[0].value
    assert len(everything) == 30
    assert list(everything["naswot"].dropna()) == sorted(
        everything["naswot"].dropna(), reverse=True
    )
    app.multiselect(key="require_ops").set_value(["nor_conv_3x3"]).run()
    with_conv = app.dataframe[0].value
    assert 0 < len(with_conv) < 30
    assert all("nor_conv_3x3" in a for a in with_conv["arch_str"])
    app.multiselect(key="require_ops").set_value([]).run()
    app.multiselect(key="exclude_ops").set_value(["none"]).run()
    assert all("none~" not in a for a in app.dataframe[0].value["arch_str"])
    app.toggle(key="descending").set_value(False).run()
    shown = app.dataframe[0].value["naswot"].dropna()
    assert list(shown) == sorted(shown)

    app.text_input(key="arch_token").input("117").run()
    assert any("#117" in m.value for m in app.markdown)
    facts = app.dataframe[1].value["value"]
    assert facts["val_acc_200ep"] > 0 and facts.isna()["naswot"]  # in the table, not scored
    # a NASLib tuple resolves to the same architecture as its index
    app.text_input(key="arch_token").input("(2, 3, 4, 2, 2, 4)").run()
    assert any("#117" in m.value for m in app.markdown)
    app.text_input(key="arch_token").input("|nor_conv_3x3~0|+|bogus~0|").run()
    assert not app.exception
    assert "malformed arch string" in app.error[0].value


def test_explorer_shows_the_cell_and_every_column(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = open_page(store, monkeypatch, "explorer.py")
    app.text_input(key="arch_token").input("3").run()
    dot = app.get("graphviz_chart")[0].proto.spec
    assert "n0 -> n1" in dot and "n2 -> n3" in dot
    facts = app.dataframe[1].value
    assert {"naswot", "params_m", "val_acc_200ep", "val_acc_12ep"} <= set(facts.index)


def test_correlations_scatter_and_table(store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_page(store, monkeypatch, "correlations.py")
    (spec,) = charts(app)
    encoding = spec["encoding"]
    assert encoding["color"]["field"] == "params_m"
    assert {"arch_str", "arch_index"} <= {t["field"] for t in encoding["tooltip"]}
    table = app.dataframe[0].value
    assert set(table["scorer"]) == set(DASHBOARD_SCORERS.split(","))
    naswot_tau = metric(app, "Kendall tau")
    app.selectbox(key="corr_scorer").select("params").run()
    params_tau = metric(app, "Kendall tau")
    expected = table.loc[table["scorer"] == "params", "kendall_tau"].iloc[0]
    assert params_tau == f"{expected:.3f}" and params_tau != naswot_tau
    app.selectbox(key="corr_acc").select("val_acc_12ep").run()
    assert charts(app)[0]["encoding"]["y"]["field"] == "val_acc_12ep"


def test_search_compares_saves_and_reports_missing_scores(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = open_page(store, monkeypatch, "search.py")
    plain = float(metric(app, "Params of picks (M)"))
    app.slider(key="A_n").set_value(10).run()
    app.selectbox(key="A_penalty").select("gdf").run()
    app.slider(key="A_mu").set_value(0.0).run()
    app.slider(key="A_sigma").set_value(0.05).run()
    small = float(app.metric[2].value)
    assert small < plain
    assert len(charts(app)) == 1  # accuracy distribution of both configurations

    app.button(key="A_save").click().run()
    assert "saved as search run" in app.success[0].value
    saved = app.dataframe[-1].value
    assert list(saved["penalty"]) == ["gdf"] and list(saved["N"]) == [10]
    listed = tfnas("runs", "--db", store, "--format", "json")
    assert json.loads(listed.stdout)[0]["strategy"] == "random"

    app.selectbox(key="B_strategy").select("etnas").run()
    assert any("loss_slope" in e.value and "--score-missing" in e.value for e in app.error)
    app.toggle(key="compare").set_value(False).run()
    assert not app.error


def test_penalties_curves_and_reranking(store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_page(store, monkeypatch, "penalties.py")
    curves = charts(app)[0]
    assert curves["encoding"]["color"]["field"] == "penalty"
    loose = float(app.metric[1].value)
    app.slider(key="pen_mu").set_value(0.0).run()
    app.slider(key="pen_sigma").set_value(0.05).run()
    tight = float(app.metric[1].value)
    assert tight <= loose
    assert float(app.metric[1].value) <= float(app.metric[0].value)
    app.selectbox(key="pen_penalty").select("rdf").run()
    assert app.metric[1].label == "after rdf"


def test_empty_store_shows_what_to_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert tfnas("db", "upgrade", "--db", url).returncode == 0
    app = open_page(url, monkeypatch)
    assert metric(app, "Score runs") == "0"
    assert any("tfnas-db populate --limit 200" in c.value for c in app.code)
    for page in PAGES[1:]:
        other = open_page(url, monkeypatch, page.file)
        assert "no scores on cifar10" in other.info[0].value
        assert "tfnas-db populate --dataset cifar10" in other.code[0].value


def test_missing_and_outdated_stores_say_what_to_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nope.db"
    for page in PAGES:
        app = open_page(f"sqlite:///{missing}", monkeypatch, page.file)
        assert "no store at" in app.error[0].value
        assert "tfnas-db db upgrade" in app.code[0].value
    assert not missing.exists()
    blank = tmp_path / "blank.db"
    blank.touch()
    app = open_page(f"sqlite:///{blank}", monkeypatch)
    assert "run: tfnas-db db upgrade" in app.error[0].value


def test_reload_and_the_sidebar_dataset_picker(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "copy.db"
    copy.write_bytes(Path(store.removeprefix("sqlite:///")).read_bytes())
    url = f"sqlite:///{copy}"
    app = open_page(url, monkeypatch)
    assert metric(app, "Datasets with scores") == "1"
    out = tfnas(
        "populate",
        "--db",
        url,
        "--dataset",
        "cifar100",
        "--scorers",
        "degree",
        "--limit",
        "5",
        "--quiet",
    )
    assert out.returncode == 0, out.stderr
    app.run()
    assert metric(app, "Datasets with scores") == "1"  # cached until reloaded
    app.button(key="reload").click().run()
    assert metric(app, "Datasets with scores") == "2"
    app.selectbox(key="dataset").select("cifar100").run()
    app.switch_page("views/correlations.py").run()
    assert not app.exception
    assert set(app.dataframe[0].value["scorer"]) == {"degree"}
    assert "on cifar100" in app.caption[0].value


def test_tfnas_db_dashboard_serves_and_stops_cleanly(store: str) -> None:
    """The command becomes the Streamlit server, so stopping it stops the server: no
    orphan keeps answering on the port (what a script that starts a dashboard relies on)."""
    with served_dashboard(store, timeout=HANG_GUARD_SECONDS) as base:
        assert dashboard_answers(base)
    # served_dashboard has waited for the command's process to exit; its sockets closed
    # with it, so anything still answering is an orphan it left behind
    assert not dashboard_answers(base)


def test_explorer_shows_the_spread_across_stored_seeds(
    sqlite_store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(sqlite_store_url)
    for seed in (0, 1, 2):
        config = PopulateConfig(scorers="naswot,params", limit=2, batch_size=8, seed=seed)
        populate(store, config, show_progress=False)
    app = open_page(sqlite_store_url, monkeypatch, "explorer.py")
    app.text_input(key="arch_token").input("1").run()
    spread = app.dataframe[2].value
    assert list(spread["scorer"]) == ["naswot"]  # params is one value whatever the seed
    row = spread.iloc[0]
    assert row["values"] == 3 and row["std"] > 0 and row["min"] <= row["mean"] <= row["max"]
    assert row["data/batch"] == "natural/8" and row["by seed"].startswith("0: ")
    app.text_input(key="arch_token").input("5").run()  # not scored: no spread table
    assert len(app.dataframe) == 2
