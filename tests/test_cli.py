"""The CLI as a user runs it: populate then search, and one-line errors for bad input."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import HANG_GUARD_SECONDS, tfnas

REPORTED_TIMES = ("query_seconds", "search_seconds")  # reported, never asserted on


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("cli")
    url = f"sqlite:///{folder / 'cli.db'}"
    assert tfnas("db", "upgrade", "--db", url).returncode == 0
    out = tfnas("populate", "--db", url, "--limit", "60", "--batch-size", "16", "--quiet")
    assert out.returncode == 0, out.stderr
    assert "60 architectures scored" in out.stdout
    return url


def test_search_json_reports_accuracy_time_and_picks(populated: str) -> None:
    out = tfnas(
        "search",
        "--db",
        populated,
        "--scorer",
        "naswot",
        "--penalty",
        "gdf",
        "--n",
        "20",
        "--runs",
        "50",
        "--format",
        "json",
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["runs"] == 50 and data["n"] == 20 and len(data["picks"]) == 50
    assert data["accuracy_column"] == "val_acc_200ep"
    assert 0 < data["accuracy_mean"] < 100 and data["accuracy_std"] >= 0
    simulated_cost = data["search_seconds_mean"]
    assert simulated_cost > 0
    assert all(key in data for key in REPORTED_TIMES)
    assert data["regret_mean"] == pytest.approx(data["best_accuracy"] - data["accuracy_mean"])
    plain = json.loads(
        tfnas(
            "search",
            "--db",
            populated,
            "--scorer",
            "naswot",
            "--n",
            "20",
            "--runs",
            "50",
            "--format",
            "json",
        ).stdout
    )
    assert data["params_mean"] <= plain["params_mean"]


def test_search_table_and_csv(populated: str) -> None:
    table = tfnas("search", "--db", populated, "--scorer", "naswot", "--n", "10", "--runs", "20")
    assert table.returncode == 0 and "+-" in table.stdout and "query wall time" in table.stdout
    out = tfnas(
        "search",
        "--db",
        populated,
        "--scorer",
        "params",
        "--n",
        "10",
        "--runs",
        "20",
        "--metric",
        "test",
        "--epochs",
        "12",
        "--format",
        "csv",
    )
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert len(rows) == 20 and "test_acc_12ep" in rows[0]


def test_a_piped_wide_table_keeps_one_row_per_line(populated: str) -> None:
    # captured stdout is not a terminal: the 16-column runs table must not be folded into
    # 80 columns (one letter per line), so `| less`, a CI log or grep can read it
    out = tfnas("runs", "--scores", "--db", populated)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    header = [line for line in lines if "scorer" in line]
    assert len(header) == 1 and "dataset" in header[0] and "finished" in header[0]
    naswot = [line for line in lines if "│ naswot" in line]
    assert len(naswot) == 1 and "cifar10" in naswot[0] and "natural" in naswot[0]


def test_n_larger_than_the_scored_architectures_says_so(populated: str) -> None:
    out = tfnas("search", "--db", populated, "--scorer", "naswot", "--n", "100")
    assert out.returncode == 2
    assert "larger than the" in out.stderr and "populate" in out.stderr


def _one_line_error(out: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def test_bad_input_gives_one_clear_line(populated: str, tmp_path: Path) -> None:
    _one_line_error(
        tfnas("search", "--db", populated, "--scorer", "nope"), "unknown scorer 'nope'", "naswot"
    )
    _one_line_error(
        tfnas("populate", "--db", populated, "--scorers", "naswot,nope"), "unknown scorer 'nope'"
    )
    _one_line_error(
        tfnas("search", "--db", populated, "--scorer", "naswot", "--n", "0"),
        "--n must be at least 1",
    )
    _one_line_error(
        tfnas("populate", "--db", populated, "--data-dir", str(tmp_path / "none")),
        "does not exist",
        "--data synthetic",
    )
    _one_line_error(
        tfnas("search", "--db", "postgresql://u@h:port/x", "--scorer", "naswot"),
        "cannot parse database URL",
    )
    _one_line_error(
        tfnas("search", "--db", "nosuch://x", "--scorer", "naswot"), "unsupported database URL"
    )
    _one_line_error(
        tfnas(
            "search", "--db", populated, "--scorer", "naswot", "--metric", "test", "--epochs", "200"
        ),
        "it holds:",
    )
    _one_line_error(
        tfnas("search", "--db", populated, "--scorer", "naswot", "--penalty", "big"),
        "unknown penalty",
    )
    _one_line_error(
        tfnas("search", "--db", populated, "--scorer", "naswot", "--bogus"), "No such option"
    )
    _one_line_error(
        tfnas("populate", "--db", populated, "--dataset", "mnist"), "unknown dataset 'mnist'"
    )


def test_commands_on_an_unmigrated_store_say_what_to_run(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    _one_line_error(tfnas("populate", "--db", url, "--limit", "1"), "tfnas-db db upgrade")
    _one_line_error(tfnas("search", "--db", url, "--scorer", "naswot"), "tfnas-db db upgrade")


def test_search_before_populate_names_the_populate_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    assert tfnas("db", "upgrade", "--db", url).returncode == 0
    assert tfnas("db", "seed", "--db", url).returncode == 0
    _one_line_error(
        tfnas("search", "--db", url, "--scorer", "naswot"),
        "tfnas-db populate --scorers naswot --dataset cifar10",
    )


def test_scorers_lists_the_registry() -> None:
    out = tfnas("scorers", "--format", "json")
    names = {row["name"] for row in json.loads(out.stdout)}
    assert {"naswot", "relu_count", "params", "flops"} <= names


def test_db_status_shows_coverage_and_the_commands_that_fill_gaps(populated: str) -> None:
    out = tfnas("db", "status", "--db", populated)
    assert out.returncode == 0, out.stderr
    assert "up to date" in out.stdout and "naswot" in out.stdout
    assert "tfnas-db populate --dataset cifar100 --scorers naswot,relu_count,params,flops" in (
        out.stdout
    )


@pytest.mark.parametrize("stdin", ["/dev/stdin", "-"])
def test_archs_read_from_a_pipe(sqlite_store_url: str, stdin: str) -> None:
    """``--archs -`` or ``/dev/stdin`` (or a shell's ``<(...)``) is read, not a missing file."""
    out = subprocess.run(
        [sys.executable, "-c", "from tfnas_db.cli.app import main; main()", "populate",
         "--db", sqlite_store_url, "--scorers", "params", "--archs", stdin,
         "--quiet", "--format", "json"],
        input="3\n|nor_conv_3x3~0|+|skip_connect~0|none~1|+|none~0|none~1|avg_pool_3x3~2|\n",
        capture_output=True, text=True, timeout=HANG_GUARD_SECONDS,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["scored"] == 2
