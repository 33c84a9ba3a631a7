"""correlate and export read only the store; --archs targets exactly the listed archs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from helpers import tfnas

from tfnas_db.scoring.spaces import nats_tss


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[int]]:
    folder = tmp_path_factory.mktemp("analysis")
    url = f"sqlite:///{folder / 'a.db'}"
    indices = [5, 17, 300, 1200, 4000, 6111, 9000, 12000, 15000, 15624, 77, 8888]
    archs = folder / "archs.txt"
    # indices and arch strings mixed, with a comment and a duplicate
    lines = [str(i) for i in indices[:6]] + [nats_tss.arch_of_index(i) for i in indices[6:]]
    archs.write_text("# study sample\n" + "\n".join(lines) + "\n5\n")
    assert tfnas("db", "upgrade", "--db", url).returncode == 0
    out = tfnas(
        "populate",
        "--db",
        url,
        "--archs",
        str(archs),
        "--scorers",
        "naswot,synflow,params",
        "--batch-size",
        "16",
        "--quiet",
    )
    assert out.returncode == 0, out.stderr
    assert "12 architectures scored" in out.stdout
    return url, indices


def test_export_has_one_row_per_scored_arch_with_scores_size_and_accuracies(
    store: tuple[str, list[int]], tmp_path: Path
) -> None:
    url, indices = store
    out = tfnas("export", "--db", url, "--format", "csv")
    assert out.returncode == 0, out.stderr
    frame = pd.read_csv(pd.io.common.StringIO(out.stdout))
    assert sorted(frame.arch_index) == sorted(indices)
    for column in [
        "arch_str",
        "naslib_tuple",
        "params_m",
        "flops_m",
        "relu_units",
        "val_acc_200ep",
        "val_acc_12ep",
        "test_acc_12ep",
        "naswot",
        "synflow",
        "params",
        "naswot_seconds",
    ]:
        assert column in frame.columns, column
    assert (frame.params == frame.params_m).all()
    best = frame.set_index("arch_index").loc[6111]
    assert best.val_acc_200ep == pytest.approx(91.6067, abs=1e-3)
    parquet = tmp_path / "x.parquet"
    assert (
        tfnas("export", "--db", url, "--format", "parquet", "--out", str(parquet)).returncode == 0
    )
    assert len(pd.read_parquet(parquet)) == len(indices)
    records = json.loads(
        tfnas("export", "--db", url, "--format", "json", "--scorers", "naswot").stdout
    )
    assert len(records) == len(indices) and "synflow" not in records[0]
    # no cifar100 scores stored: --all-archs still exports the benchmark data
    everything = tfnas("export", "--db", url, "--all-archs", "--dataset", "cifar100")
    frame = pd.read_csv(pd.io.common.StringIO(everything.stdout))
    assert len(frame) == 15625 and "valtest_acc_200ep" in frame.columns


def test_correlate_reports_tau_rho_and_top10_per_scorer_and_column(
    store: tuple[str, list[int]],
) -> None:
    url, indices = store
    out = tfnas("correlate", "--db", url, "--format", "json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    keys = {(r["scorer"], r["accuracy"]) for r in rows}
    assert ("naswot", "val_acc_200ep") in keys and ("params", "test_acc_12ep") in keys
    for row in rows:
        assert row["n"] <= len(indices)
        assert -1 <= row["kendall_tau"] <= 1 and -1 <= row["spearman_rho"] <= 1
    table = tfnas("correlate", "--db", url)
    assert "kendall_tau" in table.stdout


def test_unknown_scorer_in_archs_file_and_bad_lines(
    tmp_path: Path, store: tuple[str, list[int]]
) -> None:
    url, _ = store
    bad = tmp_path / "bad.txt"
    bad.write_text("12\n|nor_conv_3x3~0|+|bogus~0|\n")
    out = tfnas("populate", "--db", url, "--archs", str(bad), "--scorers", "params")
    assert out.returncode == 2 and "malformed arch string" in out.stderr
