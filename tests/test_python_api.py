"""The Python API: the README's notebook example runs, the answers equal the CLI's, and
neither ``import tfnas_db`` nor any query imports torch."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from helpers import HANG_GUARD_SECONDS, tfnas

import tfnas_db
from tfnas_db.errors import TfnasError
from tfnas_db.scoring.spaces import nats_tss

README = Path(__file__).resolve().parent.parent / "README.md"
MARKER = "<!-- notebook-example"
N_ARCHS = 24


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder whose ./tfnas.db holds naswot and params for the first 24 architectures."""
    where = tmp_path_factory.mktemp("notebook")
    url = str(where / "tfnas.db")
    assert tfnas("db", "upgrade", "--db", url).returncode == 0
    out = tfnas(
        "populate", "--db", url, "--limit", str(N_ARCHS), "--scorers", "naswot,params",
        "--batch-size", "16", "--quiet",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return where


def python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TFNAS_DB_URL"}
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=HANG_GUARD_SECONDS,
    )


def readme_example() -> str:
    text = README.read_text()
    start = text.index("```python", text.index(MARKER)) + len("```python")
    return text[start : text.index("```", start)].strip()


def test_the_readme_notebook_example_runs_without_torch(folder: Path) -> None:
    example = readme_example()
    assert len([line for line in example.splitlines() if line.strip()]) == 5
    out = python(example + "\nimport sys\nassert 'torch' not in sys.modules, 'torch'\n", folder)
    assert out.returncode == 0, out.stderr
    assert "naswot" in out.stdout and "kendall_tau" in out.stdout
    accuracy = float(out.stdout.strip().splitlines()[-1])
    assert 0 < accuracy < 100


def test_import_tfnas_db_is_light_and_queries_never_import_torch(folder: Path) -> None:
    heavy = ("torch", "sqlalchemy", "pandas", "numpy", "streamlit")
    code = (
        "import sys, tfnas_db\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r}))\n"
        "s = tfnas_db.open()\n"
        "s.table('cifar10'); s.arch(3); s.correlate('cifar10'); s.runs()\n"
        "s.search(scorer='naswot', n=5, runs=10); s.search(strategy='pareto', scorer='naswot')\n"
        "print('torch' in sys.modules)\n"
    )
    out = python(code, folder)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["[]", "False"]


def test_the_api_answers_as_the_cli(folder: Path) -> None:
    url = str(folder / "tfnas.db")
    store = tfnas_db.open(url)
    table = store.table("cifar10")
    exported = pd.read_csv(io.StringIO(tfnas("export", "--db", url).stdout))
    assert list(table.columns) == list(exported.columns)
    assert len(table) == N_ARCHS
    pd.testing.assert_frame_equal(
        table.drop(columns=["arch_str", "naslib_tuple"]),
        exported.drop(columns=["arch_str", "naslib_tuple"]),
        check_dtype=False,
    )

    ours = store.correlate("cifar10")
    cli = pd.DataFrame(json.loads(tfnas("correlate", "--db", url, "--format", "json").stdout))
    pd.testing.assert_frame_equal(ours, cli, check_dtype=False)

    args = ("--scorer", "naswot", "--penalty", "gdf", "--n", "10", "--runs", "50", "--seed", "3")
    cli_search = json.loads(tfnas("search", "--db", url, *args, "--format", "json").stdout)
    outcome = store.search(scorer="naswot", penalty="gdf", n=10, runs=50, seed=3)
    assert outcome.summary.accuracy_mean == pytest.approx(cli_search["accuracy_mean"])
    assert outcome.summary.regret_mean == pytest.approx(cli_search["regret_mean"])

    arch = nats_tss.arch_of_index(7)
    detail = store.arch(7)
    assert store.arch(arch) == detail == store.arch(nats_tss.to_naslib_tuple(arch))
    assert detail.arch_str == arch and detail.alt_key == str(nats_tss.to_naslib_tuple(arch))
    row = table.set_index("arch_index").loc[7]
    c10 = detail.figures["cifar10"]
    for column in ("naswot", "params", "params_m", "val_acc_200ep", "val_acc_12ep"):
        assert c10[column] == pytest.approx(row[column])
    assert set(detail.frame().index) == {"cifar10", "cifar100", "ImageNet16-120"}


def test_api_errors_are_the_cli_messages(folder: Path, tmp_path: Path) -> None:
    store = tfnas_db.open(str(folder / "tfnas.db"))
    with pytest.raises(TfnasError, match="unknown dataset 'mnist'"):
        store.table("mnist")
    with pytest.raises(TfnasError, match="malformed arch string"):
        store.arch("|conv~0|")
    with pytest.raises(TfnasError, match="--n 100 is larger than the"):
        store.search(scorer="naswot", n=100)
    with pytest.raises(TfnasError, match="no store at"):
        tfnas_db.open(str(tmp_path / "absent.db"))
