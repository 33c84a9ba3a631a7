"""NAS-Bench-Suite-Zero files: import as labelled runs, correlate ours vs NASLib's, export,
and the export -> import -> export round trip."""

from __future__ import annotations

import csv
import json
import math
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import open_page, tfnas
from scipy.stats import kendalltau
from sqlalchemy import delete, func, select
from sqlalchemy.orm import joinedload

import tfnas_db
from tfnas_db.db.models import BenchmarkResult, ScoreRun
from tfnas_db.db.store import open_store
from tfnas_db.interop.naslib_zc import NASLIB_TO_TFNAS, PROXY_ORDER
from tfnas_db.scoring.spaces import nats_tss

SAMPLE = Path(__file__).parent / "fixtures" / "naslib_zc_sample_cifar10.csv"
PROXIES = PROXY_ORDER  # the proxies NASLib's files list, in their order
N_CIFAR10 = 24


def sample_rows(n: int) -> list[dict[str, str]]:
    with SAMPLE.open() as handle:
        return list(csv.DictReader(handle))[:n]


def zc_file(path: Path) -> dict[str, Any]:
    """A zc_nasbench201.json in NASLib's layout: 24 cifar10 architectures from the NASLib
    sample, and 3 cifar100 ones with a non-finite score, a missing proxy and a proxy
    tfnas-db does not define (zen)."""
    document: dict[str, Any] = {"cifar10": {}, "cifar100": {}}
    for naslib_idx, row in enumerate(sample_rows(N_CIFAR10)):
        key = str(nats_tss.to_naslib_tuple(row["arch_str"]))
        record: dict[str, Any] = {"idx": str(9000 + naslib_idx), "arch": key}
        for proxy in PROXIES:
            record[proxy] = {"score": float(row[proxy]), "time": float(row[f"{proxy}_seconds"])}
        record["val_accuracy"] = float(row["val_accuracy_200"])
        document["cifar10"][key] = record
    for naslib_idx, index in enumerate((3, 50, 6111)):
        key = str(nats_tss.to_naslib_tuple(nats_tss.arch_of_index(index)))
        document["cifar100"][key] = {
            "idx": str(naslib_idx),
            "arch": key,
            "nwot": {"score": float("nan") if index == 3 else 700.0 + index, "time": 0.5},
            "zen": {"score": -1.5 * (index + 1), "time": 0.25},
            "test_accuracy": 59.0,  # not in NASLib's layout: reported, not imported
            "val_accuracy": 60.0 + index / 1000,
        }
    document["cifar100"][str(nats_tss.to_naslib_tuple(nats_tss.arch_of_index(50)))].pop("zen")
    path.write_text(json.dumps(document))
    return document


@pytest.fixture()
def zc(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    path = tmp_path / "zc_nasbench201.json"
    return path, zc_file(path)


def imported_runs(url: str) -> list[ScoreRun]:
    with open_store(url).session() as session:
        query = (
            select(ScoreRun)
            .options(joinedload(ScoreRun.dataset))
            .where(ScoreRun.origin == "imported")
        )
        return list(session.scalars(query))


def test_import_stores_each_proxy_as_a_labelled_run_with_values_as_published(
    sqlite_store_url: str, zc: tuple[Path, dict[str, Any]]
) -> None:
    path, document = zc
    out = tfnas("import", "naslib-zc", str(path), "--db", sqlite_store_url)
    assert out.returncode == 0, out.stderr
    assert "naswot@naslib" in out.stdout and "l2_norm@naslib" in out.stdout
    assert "not proxies, not imported: test_accuracy" in out.stdout
    runs = imported_runs(sqlite_store_url)
    by_key = {(run.dataset.name, run.scorer): run for run in runs}
    assert {s for d, s in by_key if d == "cifar10"} == {NASLIB_TO_TFNAS.get(p, p) for p in PROXIES}
    assert {s for d, s in by_key if d == "cifar100"} == {"naswot", "zen"}
    naswot = by_key[("cifar10", "naswot")]
    assert naswot.data_source == "naslib-zc"
    assert naswot.provenance is not None
    assert naswot.provenance["format"] == "NAS-Bench-Suite-Zero"
    assert naswot.provenance["file"] == "zc_nasbench201.json"
    assert naswot.provenance["proxy"] == "nwot"
    assert "as published" in naswot.provenance["direction"]

    store = tfnas_db.open(sqlite_store_url)
    table = store.table("cifar10").set_index("naslib_tuple")
    assert len(table) == N_CIFAR10
    for key, record in document["cifar10"].items():
        row = table.loc[key]
        for proxy in PROXIES:
            label = f"{NASLIB_TO_TFNAS.get(proxy, proxy)}@naslib"
            assert row[label] == record[proxy]["score"]
            assert row[f"{label}_seconds"] == record[proxy]["time"]
        assert row["naslib_val_acc_200ep"] == record["val_accuracy"]
    # cifar100: nan stored as status nan (NaN in tables), the missing proxy as no row
    c100 = store.table("cifar100").set_index("arch_index")
    assert math.isnan(c100.loc[3, "naswot@naslib"]) and c100.loc[50, "naswot@naslib"] == 750.0
    assert math.isnan(c100.loc[50, "zen@naslib"]) and c100.loc[6111, "zen@naslib"] == -9168.0
    nan_runs = store.runs("cifar100").set_index("label")
    assert nan_runs.loc["naswot@naslib", "n_nan"] == 1
    assert nan_runs.loc["zen@naslib", "n_ok"] == 2
    # our own naswot is not replaced: querying "naswot" still says nothing is computed
    with pytest.raises(tfnas_db.errors.TfnasError, match="no stored naswot scores"):
        store.table("cifar10", scorers="naswot")

    again = tfnas("import", "naslib-zc", str(path), "--db", sqlite_store_url)
    assert again.returncode == 0, again.stderr
    assert sorted(r.id for r in imported_runs(sqlite_store_url)) == sorted(r.id for r in runs)
    assert store.table("cifar10").equals(table.reset_index()[store.table("cifar10").columns])


def test_correlate_compares_naslibs_scorer_with_ours_in_one_command(
    sqlite_store_url: str, zc: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    path, _ = zc
    indices = [int(row["index"]) for row in sample_rows(N_CIFAR10)]
    archs = tmp_path / "archs.txt"
    archs.write_text("\n".join(map(str, indices[:10])) + "\n")
    assert tfnas("import", "naslib-zc", str(path), "--db", sqlite_store_url).returncode == 0
    populate = tfnas(
        "populate",
        "--db",
        sqlite_store_url,
        "--archs",
        str(archs),
        "--scorers",
        "naswot,params",
        "--batch-size",
        "16",
        "--quiet",
    )
    assert populate.returncode == 0, populate.stderr
    out = tfnas(
        "correlate",
        "--db",
        sqlite_store_url,
        "--scorers",
        "nwot@naslib,params@naslib",
        "--against",
        "naswot,params",
        "--format",
        "json",
    )
    assert out.returncode == 0, out.stderr
    rows = {(r["scorer"], r["accuracy"]): r for r in json.loads(out.stdout)}
    assert rows[("params@naslib", "params")]["kendall_tau"] == pytest.approx(1.0)
    both = tfnas_db.open(sqlite_store_url).table("cifar10", "naswot,naswot@naslib")
    both = both.dropna(subset=["naswot", "naswot@naslib"])
    expected = kendalltau(both["naswot@naslib"], both["naswot"]).statistic
    assert rows[("naswot@naslib", "naswot")]["n"] == 10
    assert rows[("naswot@naslib", "naswot")]["kendall_tau"] == pytest.approx(expected)
    assert expected > 0.5  # NASLib's naswot and ours rank these 10 alike
    # without --against: both runs against every accuracy column, side by side
    table = tfnas("correlate", "--db", sqlite_store_url, "--format", "json")
    scorers = {r["scorer"] for r in json.loads(table.stdout)}
    assert {"naswot", "naswot@naslib", "l2_norm@naslib", "plain@naslib"} <= scorers


@pytest.fixture()
def store_url(seeded_url: str) -> Iterator[str]:
    """A seeded store on each backend; what the test imports is removed afterwards (the
    PostgreSQL store is shared by the session's tests)."""
    yield seeded_url
    with open_store(seeded_url).session() as session:
        session.execute(delete(ScoreRun).where(ScoreRun.origin == "imported"))
        session.execute(delete(BenchmarkResult).where(BenchmarkResult.metric == "naslib_val"))


def test_export_import_export_is_identical(
    store_url: str, zc: tuple[Path, dict[str, Any]], tmp_path: Path, seeded_sqlite_template: Path
) -> None:
    seeded_url = store_url
    path, document = zc
    assert tfnas("import", "naslib-zc", str(path), "--db", seeded_url).returncode == 0
    first = tmp_path / "first.json"
    # the imported runs by name: the shared PostgreSQL store may also hold runs of ours
    # (other tests' populates), which export would otherwise prefer
    imported = ",".join(f"{NASLIB_TO_TFNAS.get(proxy, proxy)}@naslib" for proxy in PROXIES)
    out = tfnas(
        *("export", "--db", seeded_url, "--format", "naslib-zc", "--out", str(first)),
        *("--scorers", imported),
    )
    assert out.returncode == 0, out.stderr
    exported = json.loads(first.read_text())
    # the layout NASLib reads, our names mapped back, values as imported
    for key, record in document["cifar10"].items():
        written = exported["cifar10"][key]
        assert written["arch"] == key
        assert written["idx"] == str(nats_tss.index_of_arch(nats_tss.from_naslib_tuple(key)))
        assert written["val_accuracy"] == record["val_accuracy"]
        for proxy in PROXIES:
            assert written[proxy] == record[proxy]
    assert math.isnan(exported["cifar100"][str(nats_tss.to_naslib_tuple(
        nats_tss.arch_of_index(3)))]["nwot"]["score"])  # fmt: skip

    fresh = tmp_path / "fresh.db"
    shutil.copy(seeded_sqlite_template, fresh)
    assert tfnas("import", "naslib-zc", str(first), "--db", str(fresh)).returncode == 0
    second = tmp_path / "second.json"
    out = tfnas("export", "--db", str(fresh), "--format", "naslib-zc", "--out", str(second))
    assert out.returncode == 0, out.stderr
    assert second.read_bytes() == first.read_bytes()


def test_export_prefers_our_run_and_says_which_it_left_out(
    sqlite_store_url: str, zc: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    path, document = zc
    assert tfnas("import", "naslib-zc", str(path), "--db", sqlite_store_url).returncode == 0
    archs = tmp_path / "archs.txt"
    archs.write_text("0\n1\n")
    args = ("--archs", str(archs), "--scorers", "params", "--quiet")
    assert tfnas("populate", "--db", sqlite_store_url, *args).returncode == 0
    out = tfnas("export", "--db", sqlite_store_url, "--format", "naslib-zc", "--dataset", "cifar10")
    assert out.returncode == 0, out.stderr
    assert "params written from params, not params@naslib" in out.stderr
    exported = json.loads(out.stdout)
    assert list(exported) == ["cifar10"]
    key0 = str(nats_tss.to_naslib_tuple(nats_tss.arch_of_index(0)))
    assert list(exported["cifar10"][key0]) == ["idx", "arch", "params", "val_accuracy"]
    chosen = tfnas(
        "export", "--db", sqlite_store_url, "-f", "naslib-zc", "--scorers", "params@naslib"
    )
    records = json.loads(chosen.stdout)["cifar10"]
    assert {k: r["params"] for k, r in records.items()} == {
        k: r["params"] for k, r in document["cifar10"].items()
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not a JSON file"),
        ("[1, 2]", "is not a NAS-Bench-Suite-Zero file"),
        ('{"cifar10": {"(0, 1)": {}}}', "is not a NAS-Bench-201 op tuple"),
        ('{"mnist": {}}', "tfnas-db knows cifar10, cifar100, ImageNet16-120"),
        ('{"cifar10": {"(0, 1, 2, 3, 4, 0)": {"nwot": {"time": 3}}}}', "an object without a score"),
        (
            '{"cifar10": {"(0, 1, 2, 3, 4, 0)": {"nwot": {"score": 1, "time": 1}}},'
            ' "cifar100": {"(9, 9, 9, 9, 9, 9)": {}}}',
            "is not a NAS-Bench-201 op tuple",
        ),
    ],
)
def test_a_bad_file_is_one_line_and_writes_nothing(
    sqlite_store_url: str, tmp_path: Path, content: str, message: str
) -> None:
    bad = tmp_path / "zc.json"
    bad.write_text(content)
    out = tfnas("import", "naslib-zc", str(bad), "--db", sqlite_store_url)
    assert out.returncode == 2
    assert out.stderr.startswith("error: ") and message in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert imported_runs(sqlite_store_url) == []
    with open_store(sqlite_store_url).session() as session:
        held = session.scalar(select(func.count()).where(BenchmarkResult.metric == "naslib_val"))
    assert held == 0


def test_a_missing_file_and_a_foreign_space_are_one_line(sqlite_store_url: str) -> None:
    out = tfnas("import", "naslib-zc", "/no/such/zc.json", "--db", sqlite_store_url)
    assert out.returncode == 2 and "no NAS-Bench-Suite-Zero file at /no/such/zc.json" in out.stderr
    out = tfnas("export", "--db", sqlite_store_url, "-f", "naslib-zc", "--space", "nats-sss")
    assert out.returncode == 2 and "covers nats-tss only" in out.stderr


def test_the_dashboard_puts_naslibs_scores_beside_ours(
    sqlite_store_url: str,
    zc: tuple[Path, dict[str, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path, _ = zc
    assert tfnas("import", "naslib-zc", str(path), "--db", sqlite_store_url).returncode == 0
    archs = tmp_path / "archs.txt"
    archs.write_text("\n".join(row["index"] for row in sample_rows(N_CIFAR10)) + "\n")
    args = ("--archs", str(archs), "--scorers", "params", "--quiet")
    assert tfnas("populate", "--db", sqlite_store_url, *args).returncode == 0
    app = open_page(sqlite_store_url, monkeypatch, "correlations.py")
    assert "Imported scores against ours" in [h.value for h in app.subheader]
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Architectures in both"] == str(N_CIFAR10)
    assert metrics["Kendall tau (params@naslib vs params)"] == "1.000"
