"""The bundled score release: files match manifests, load into both backends, reproduce.

The rest of the suite runs with an empty release (conftest points $TFNAS_RELEASE_DIR at
one); these tests point it back at the package's own ``data/release``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import open_page, tfnas
from sqlalchemy import delete

import tfnas_db
from tfnas_db.db.models import ScoreRun
from tfnas_db.db.release import (
    RELEASE_DIR_ENV,
    ReleaseManifest,
    bundled_manifests,
    ensure_release_loaded,
    file_sha256,
    read_release_table,
)
from tfnas_db.db.store import open_store
from tfnas_db.errors import TfnasError
from tfnas_db.jobs.release_check import ReleaseRescorer, sample_release
from tfnas_db.scoring.registry import REGISTRY
from tfnas_db.scoring.spaces import get_space

REPO_RELEASE = Path(__file__).resolve().parents[1] / "data" / "release"
MANIFESTS = bundled_manifests(REPO_RELEASE)
TSS_MANIFESTS = [(p, m) for p, m in MANIFESTS if m.space == "nats-tss"]


@pytest.fixture()
def real_release(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(RELEASE_DIR_ENV, str(REPO_RELEASE))
    return REPO_RELEASE


def test_the_release_is_not_empty() -> None:
    assert len(MANIFESTS) >= 12, "data/release must hold at least the data-free scorers"
    held = {(m.space, m.dataset, m.scorer) for _, m in MANIFESTS}
    for dataset in ("cifar10", "cifar100", "ImageNet16-120"):
        for scorer in ("relu_count", "params", "flops", "degree", "synflow", "logsynflow"):
            assert ("nats-tss", dataset, scorer) in held
        for scorer in ("relu_count", "params", "flops"):
            assert ("nats-sss", dataset, scorer) in held
    for scorer in ("relu_count", "params", "flops"):
        assert ("nasbench101", "cifar10", scorer) in held
    # one shared forward, one shared loss pass, GenNAS's regression (cifar100's loss_slope
    # is a checked copy of cifar10's)
    data_scorers = ("naswot", "jacov", "epe_nas", "snip", "grad_norm", "fisher", "loss_slope")
    for dataset in ("cifar10", "cifar100", "ImageNet16-120"):
        for scorer in data_scorers:
            assert ("nats-tss", dataset, scorer) in held


@pytest.mark.parametrize(
    "path", [p for p, _ in MANIFESTS], ids=lambda p: f"{p.parent.name}/{p.stem}"
)
def test_every_manifest_matches_its_file(path: Path) -> None:
    manifest = ReleaseManifest.read(path)
    assert manifest.file == path.with_suffix(".parquet").name
    assert file_sha256(path.with_name(manifest.file)) == manifest.sha256
    columns = read_release_table(path, manifest)
    space = get_space(manifest.space)
    assert manifest.row_count == space.n_archs
    assert sorted(columns["arch_index"].tolist()) == list(range(space.n_archs))
    counts: dict[str, int] = {}
    for status in columns["status"].tolist():
        counts[str(status)] = counts.get(str(status), 0) + 1
    assert counts == manifest.status_counts
    ok = np.array([str(s) == "ok" for s in columns["status"].tolist()])
    assert np.isfinite(columns["value"][ok].astype(float)).all()
    assert (manifest.batch_size, manifest.seed) == (128, 0), "the release uses the defaults"


@pytest.mark.parametrize(
    "path", [p for p, _ in MANIFESTS], ids=lambda p: f"{p.parent.name}/{p.stem}"
)
def test_no_bundled_file_is_stale(path: Path) -> None:
    """A scorer whose definition changed (new version) must have its set recomputed."""
    manifest = ReleaseManifest.read(path)
    code = REGISTRY.get(manifest.scorer).version
    assert manifest.scorer_version == code, (
        f"data/release/{manifest.space}/{manifest.dataset}/{manifest.file} was computed by "
        f"{manifest.scorer} version {manifest.scorer_version}, the code is at {code}: "
        f"recompute with: {manifest.command}, then scripts/build_release.py"
    )


def test_rescoring_a_sample_reproduces_the_bundled_values() -> None:
    """A fixed sample (the CLI's ``db verify-release`` draws a fresh one); the bounds and
    why they hold are in :mod:`tfnas_db.jobs.release_check`."""
    threads_before = torch.get_num_threads()
    rescorer = ReleaseRescorer()
    checks = [rescorer.check(pick) for pick in sample_release(MANIFESTS, seed=20261125)]
    assert len(checks) == sum(5 if REGISTRY.get(m.scorer).data_free else 2 for _, m in MANIFESTS)
    assert [c.describe() for c in checks if not c.ok] == []
    assert torch.get_num_threads() == threads_before


@pytest.fixture()
def release_store_url(seeded_url: str) -> Iterator[str]:
    """A seeded store on each backend; the bundled runs loaded by the test are removed
    afterwards (the PostgreSQL store is shared by the session's tests)."""
    yield seeded_url
    with open_store(seeded_url, bootstrap=False).session() as session:
        session.execute(delete(ScoreRun).where(ScoreRun.origin == "bundled"))


def test_loading_the_release_on_each_backend(
    release_store_url: str, real_release: Path, tmp_path: Path
) -> None:
    seeded_url = release_store_url
    store = open_store(seeded_url)
    first = ensure_release_loaded(store)
    again = ensure_release_loaded(store)
    # a store seeded with nats-tss only loads that space's files
    assert len(first.loaded) == len(TSS_MANIFESTS)
    assert first.rows == sum(m.row_count for _, m in TSS_MANIFESTS)
    assert not again.loaded and len(again.already_held) == len(TSS_MANIFESTS)

    out = tfnas("runs", "--scores", "--db", seeded_url, "--format", "json")
    assert out.returncode == 0, out.stderr
    bundled = [r for r in json.loads(out.stdout) if r["origin"] == "bundled"]
    assert len(bundled) == len(TSS_MANIFESTS)
    for run in bundled:
        release = run["provenance"]["release"]
        assert (
            release["scorer"] == run["scorer"]
            and release["row_count"] == run["ok"] + run["nan"] + run["error"]
        )
        assert release["sha256"] and release["cpu_model"] is not None
    finished = {r["id"]: r["finished"] for r in bundled}

    # populate with the defaults finds the bundled runs already stored: nothing recomputed
    archs = tmp_path / "two_archs.txt"
    archs.write_text("0\n15624\n")
    out = tfnas(
        "populate",
        *("--db", seeded_url, "--scorers", "relu_count,params", "--archs", str(archs)),
        *("--format", "json", "--quiet"),
    )
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["scored"] == 0 and summary["already_stored"] == 2
    # and the bundled runs still say when their scores were computed, not when looked at
    out = tfnas("runs", "--scores", "--db", seeded_url, "--format", "json")
    after = {r["id"]: r["finished"] for r in json.loads(out.stdout) if r["id"] in finished}
    assert after == finished


def test_first_use_of_the_default_store_creates_and_loads_it(
    tmp_path: Path, real_release: Path
) -> None:
    out = tfnas(
        "search", "--scorer", "relu_count", "--penalty", "gdf", "--runs", "20", cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert "created the default store" in out.stderr
    assert "loaded bundled scores" in out.stderr
    assert "15625 candidates" in out.stdout
    again = tfnas("search", "--scorer", "relu_count", "--runs", "20", cwd=tmp_path)
    assert again.returncode == 0 and "created" not in again.stderr


def test_an_explicit_store_url_is_not_created(tmp_path: Path, real_release: Path) -> None:
    out = tfnas("search", "--scorer", "relu_count", "--db", str(tmp_path / "typo.db"))
    assert out.returncode == 2
    assert "db upgrade" in out.stderr
    assert not (tmp_path / "typo.db").exists()


def _copy_release(tmp_path: Path, scorer: str = "degree") -> tuple[Path, Path]:
    folder = tmp_path / "release" / "nats-tss" / "cifar10"
    folder.mkdir(parents=True, exist_ok=True)
    for suffix in (".parquet", ".json"):
        shutil.copy(REPO_RELEASE / "nats-tss" / "cifar10" / f"{scorer}{suffix}", folder)
    return tmp_path / "release", folder / f"{scorer}.json"


def test_a_stale_bundled_file_is_skipped_and_named(
    sqlite_store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, manifest_path = _copy_release(tmp_path)
    raw = json.loads(manifest_path.read_text())
    raw["scorer_version"] = 99
    manifest_path.write_text(json.dumps(raw))
    monkeypatch.setenv(RELEASE_DIR_ENV, str(root))
    out = tfnas("db", "seed", "--db", sqlite_store_url)
    assert out.returncode == 0, out.stderr
    assert "skipped the bundled degree on cifar10: computed by version 99" in out.stdout
    runs = tfnas("runs", "--scores", "--db", sqlite_store_url, "--format", "json")
    assert json.loads(runs.stdout) == []


def test_a_corrupted_bundled_file_is_one_clear_error(
    sqlite_store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, manifest_path = _copy_release(tmp_path)
    parquet = manifest_path.with_suffix(".parquet")
    parquet.write_bytes(parquet.read_bytes()[:-100] + b"x" * 100)
    monkeypatch.setenv(RELEASE_DIR_ENV, str(root))
    out = tfnas("db", "seed", "--db", sqlite_store_url)
    assert out.returncode == 2
    assert out.stderr.startswith("error: bundled release file") and "corrupted" in out.stderr
    runs = tfnas("runs", "--scores", "--db", sqlite_store_url, "--format", "json")
    assert json.loads(runs.stdout) == []  # nothing half-loaded


def test_reading_a_manifest_that_is_not_json_names_it(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("{nope")
    with pytest.raises(TfnasError, match=r"x\.json is unreadable"):
        ReleaseManifest.read(path)


def test_seeding_another_space_loads_its_bundled_files(
    sqlite_store_url: str, real_release: Path
) -> None:
    out = tfnas("db", "seed", "--space", "nats-sss", "--db", sqlite_store_url)
    assert out.returncode == 0, out.stderr
    assert "loaded bundled scores on nats-sss/cifar10: flops, params, relu_count" in out.stdout
    runs = json.loads(
        tfnas("runs", "--scores", "--db", sqlite_store_url, "--format", "json").stdout
    )
    sss = [r for r in runs if r["space"] == "nats-sss"]
    assert len(sss) == 9 and all(r["origin"] == "bundled" and r["ok"] == 32768 for r in sss)


def test_verify_release_rescores_a_fresh_sample(real_release: Path) -> None:
    out = tfnas(
        "db", "verify-release", "--dataset", "cifar100", "--scorers", "relu_count,synflow",
        "--space", "nats-tss", "--seed", "3", "--format", "json",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert sorted(r["scorer"] for r in rows) == ["relu_count"] * 5 + ["synflow"] * 2
    assert all(r["ok"] and r["dataset"] == "cifar100" for r in rows)
    assert {r["bound"] for r in rows if r["scorer"] == "relu_count"} == {"equal"}
    assert "repeat with --seed 3" in out.stderr and "all 7 re-scored values match" in out.stderr
    again = tfnas(
        "db", "verify-release", "--dataset", "cifar100", "--scorers", "relu_count,synflow",
        "--space", "nats-tss", "--seed", "3", "--format", "json",
    )  # fmt: skip
    assert json.loads(again.stdout) == rows  # the seed names the sample


def test_verify_release_exits_1_on_a_value_that_does_not_reproduce(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    root, manifest_path = _copy_release(tmp_path, "degree")
    table_path = manifest_path.with_suffix(".parquet")
    table = pq.read_table(table_path)
    shifted = pa.array([v + 1.0 for v in table.column("value").to_pylist()], pa.float64())
    pq.write_table(table.set_column(table.column_names.index("value"), "value", shifted),
                   table_path)  # fmt: skip
    raw = json.loads(manifest_path.read_text())
    raw["sha256"] = file_sha256(table_path)  # a consistent file: only the values are wrong
    manifest_path.write_text(json.dumps(raw))
    monkeypatch.setenv(RELEASE_DIR_ENV, str(root))
    out = tfnas("db", "verify-release", "--per-file", "3", "--seed", "1")
    assert out.returncode == 1
    assert "3 of 3 re-scored values differ from the bundled release beyond" in out.stderr
    assert "degree of arch" in out.stderr and "bound: equal" in out.stderr


def test_verify_release_names_what_it_holds_when_the_filter_matches_nothing(
    real_release: Path,
) -> None:
    out = tfnas("db", "verify-release", "--dataset", "cifar1000")
    assert out.returncode == 2
    assert out.stderr.startswith("error: the release in") and "nats-tss/cifar100" in out.stderr
    out = tfnas("db", "verify-release", "--dataset", "cifar10", "--scorers", "naswot,nope")
    assert out.returncode == 2 and "no bundled file for scorer(s) nope" in out.stderr


def test_the_bounds_are_exact_on_the_scoring_machine_and_measured_off_it() -> None:
    from dataclasses import replace

    from tfnas_db.jobs.release_build import machine_cpu
    from tfnas_db.jobs.release_check import (
        OFF_MACHINE_RTOL,
        SAME_MACHINE_RTOL,
        ReleasePick,
        RescoreCheck,
        tolerance,
    )

    naswot = next(m for _, m in TSS_MANIFESTS if m.scorer == "naswot")
    here = replace(naswot, cpu_model=machine_cpu(), threads=1)
    elsewhere = replace(naswot, cpu_model="another CPU", threads=1)
    assert tolerance(here) == (None, False)
    assert tolerance(elsewhere) == (OFF_MACHINE_RTOL["naswot"], True)
    assert tolerance(replace(here, threads=None)) == (OFF_MACHINE_RTOL["naswot"], True)
    assert tolerance(replace(here, scorer="synflow")) == (SAME_MACHINE_RTOL, False)
    assert tolerance(replace(elsewhere, scorer="params")) == (None, False)  # a count

    pick = ReleasePick(Path("x"), here, 0)
    assert RescoreCheck(pick, None, None, None, False).ok  # nan stays nan
    assert not RescoreCheck(pick, None, 1.0, None, False).ok
    assert not RescoreCheck(pick, 2.0, 2.0 + 1e-12, None, False).ok  # equal means equal
    loose = RescoreCheck(pick, 100.0, 100.5, 1e-2, True)
    assert loose.ok and loose.rel_diff == pytest.approx(0.5 / 100.5)
    assert loose.bound == "rel 0.01 (off the scoring machine)"


def test_the_utopian_row_is_the_same_in_the_cli_the_api_and_the_dashboard(
    sqlite_store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ET-NAS's three measures loaded (the bundled cifar10 files), `correlate`, the
    Python API and the Correlations page print one table, the combined `utopian` row
    included; over the whole space it ranks above each of the three it combines."""
    for scorer in ("naswot", "logsynflow", "loss_slope"):
        root, _ = _copy_release(tmp_path, scorer)
    monkeypatch.setenv(RELEASE_DIR_ENV, str(root))
    assert tfnas("db", "seed", "--db", sqlite_store_url).returncode == 0

    out = tfnas("correlate", "--db", sqlite_store_url, "--format", "json")
    assert out.returncode == 0, out.stderr
    cli = {(r["scorer"], r["accuracy"]): r for r in json.loads(out.stdout)}
    runs = {r["scorer"]: r["score_run"] for r in cli.values() if r["scorer"] != "utopian"}
    utopian = cli[("utopian", "val_acc_200ep")]
    assert utopian["score_run"] == [runs["naswot"], runs["logsynflow"], runs["loss_slope"]]
    for scorer in ("naswot", "logsynflow", "loss_slope"):
        assert utopian["kendall_tau"] > cli[(scorer, "val_acc_200ep")]["kendall_tau"]

    api = tfnas_db.open(sqlite_store_url).correlate("cifar10")
    assert {(r.scorer, r.accuracy) for r in api.itertuples()} == set(cli)
    api_utopian = api[(api["scorer"] == "utopian") & (api["accuracy"] == "val_acc_200ep")]
    assert api_utopian.iloc[0]["kendall_tau"] == pytest.approx(utopian["kendall_tau"])
    assert api_utopian.iloc[0]["score_run"] == utopian["score_run"]

    app = open_page(sqlite_store_url, monkeypatch, "correlations.py")
    page = app.dataframe[0].value.set_index("scorer")
    assert set(page.index) == {"naswot", "logsynflow", "loss_slope", "utopian"}
    for scorer, row in page.iterrows():
        assert row["kendall_tau"] == pytest.approx(cli[(scorer, "val_acc_200ep")]["kendall_tau"])
    assert any("utopian: ET-NAS's combined measure" in c.value for c in app.caption)
