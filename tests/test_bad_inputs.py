"""A new user's mistakes, run through the CLI as a matrix: each must exit non-zero with
exactly one line on stderr that names the problem (never "unexpected", which is kept for
real bugs), and write nothing: no row in the store, no file created or modified.

Most cases fail before torch is imported, so the matrix takes seconds per case at most.
"""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import tfnas

from tfnas_db.cli.app import main
from tfnas_db.db import store as store_module
from tfnas_db.db.store import SCHEMA_HEAD, make_engine, open_store, resolve_url, upgrade_schema
from tfnas_db.jobs.populate import PopulateConfig, populate

COUNTED_TABLES = ("score_run", "score", "search_run", "architecture", "benchmark_result")


@dataclass(frozen=True)
class Case:
    name: str
    args: tuple[str, ...]  # {db}, {dir}, ... are filled from the module's files
    says: tuple[str, ...]  # fragments the one error line must contain


UNKNOWN_REVISION = "is at schema revision deadbeef, which this tfnas-db"

CASES = [
    # populate: options checked before any row is written
    Case("device tpu", ("populate", "--db", "{db}", "--device", "tpu", "--limit", "2"),
         ("--device 'tpu' is not a device", "use cpu")),
    Case("device tpu, data-free", ("populate", "--db", "{db}", "--device", "tpu", "--scorers",
         "params"), ("--device 'tpu' is not a device",)),
    Case("device meta", ("populate", "--db", "{db}", "--device", "meta", "--limit", "2"),
         ("--device 'meta' is not a device",)),
    Case("device cuda:x", ("populate", "--db", "{db}", "--device", "cuda:x", "--limit", "2"),
         ("--device 'cuda:x' is not a device",)),
    Case("absurd batch", ("populate", "--db", "{db}", "--batch-size", "100000", "--limit", "2"),
         ("--batch-size 100000 is larger than cifar10's 50000 training images",)),
    Case("batch 1", ("populate", "--db", "{db}", "--batch-size", "1"), ("at least 2",)),
    Case("sample without limit", ("populate", "--db", "{db}", "--sample", "--scorers", "params"),
         ("--sample", "give --limit")),
    Case("negative seed", ("populate", "--db", "{db}", "--seed", "-1", "--limit", "2"),
         ("--seed must be between 0 and",)),
    Case("limit 0", ("populate", "--db", "{db}", "--limit", "0"), ("--limit must be at least 1",)),
    Case("limit too big", ("populate", "--db", "{db}", "--limit", "99999", "--scorers", "params"),
         ("larger than the 15625",)),
    Case("limit not a number", ("populate", "--db", "{db}", "--limit", "abc"),
         ("Invalid value for '--limit'",)),
    Case("archs binary", ("populate", "--db", "{db}", "--archs", "{binary}"),
         ("is not a text file", "binary.dat")),
    Case("archs missing", ("populate", "--db", "{db}", "--archs", "{dir}/none.txt"),
         ("none.txt does not exist",)),
    Case("archs folder", ("populate", "--db", "{db}", "--archs", "{dir}"), ("is a folder",)),
    Case("archs bad token", ("populate", "--db", "{db}", "--archs", "{bad_archs}"),
         ("bad_archs.txt, line 2", "out of range")),
    Case("unknown scorer", ("populate", "--db", "{db}", "--scorers", "naswot,nope"),
         ("unknown scorer 'nope'",)),
    Case("unknown dataset", ("populate", "--db", "{db}", "--dataset", "mnist"),
         ("unknown dataset 'mnist'",)),
    Case("real data without dir", ("populate", "--db", "{db}", "--data", "real"),
         ("--data real needs --data-dir",)),
    Case("missing data dir", ("populate", "--db", "{db}", "--data-dir", "{dir}/nodata"),
         ("does not exist", "--data synthetic")),
    Case("populate unmigrated", ("populate", "--db", "{empty}", "--limit", "1"),
         ("is empty", "tfnas-db db upgrade")),
    # read commands
    Case("search format xml", ("search", "--db", "{db}", "--scorer", "params", "--format", "xml"),
         ("Invalid value for '--format'", "xml")),
    Case("export format xml", ("export", "--db", "{db}", "--format", "xml"),
         ("Invalid value for '--format'", "xml")),
    Case("export into missing folder", ("export", "--db", "{db}", "--out", "{dir}/no/x.csv"),
         ("folder", "does not exist")),
    Case("export onto a folder", ("export", "--db", "{db}", "--out", "{dir}"), ("is a folder",)),
    Case("parquet to stdout", ("export", "--db", "{db}", "--format", "parquet"),
         ("give --out FILE",)),
    Case("search unknown scorer", ("search", "--db", "{db}", "--scorer", "nope"),
         ("unknown scorer 'nope'",)),
    Case("search n 0", ("search", "--db", "{db}", "--scorer", "params", "--n", "0"),
         ("--n must be at least 1",)),
    Case("search unknown option", ("search", "--db", "{db}", "--bogus"), ("No such option",)),
    Case("search unknown penalty", ("search", "--db", "{db}", "--scorer", "params", "--penalty",
         "big"), ("unknown penalty",)),
    Case("correlate unknown dataset", ("correlate", "--db", "{db}", "--dataset", "mnist"),
         ("unknown dataset",)),
    Case("export unscored dataset", ("export", "--db", "{db}", "--dataset", "cifar100"),
         ("populate",)),
    # stores
    Case("mysql search", ("search", "--db", "mysql://u@h/x", "--scorer", "params"),
         ("unsupported database URL", "not mysql")),
    Case("mysql status", ("db", "status", "--db", "mysql+pymysql://u@h/x"),
         ("unsupported database URL",)),
    Case("mysql upgrade", ("db", "upgrade", "--db", "mysql://u@h/x"),
         ("unsupported database URL",)),
    Case("unknown scheme", ("runs", "--db", "nosuch://x"), ("unsupported database URL",)),
    Case("bad port in URL", ("search", "--db", "postgresql://u@h:port/x", "--scorer", "params"),
         ("cannot parse database URL",)),
    Case("status missing file", ("db", "status", "--db", "{dir}/nothere.db"),
         ("no store at", "nothere.db", "db upgrade")),
    Case("status empty file", ("db", "status", "--db", "{empty}"), ("is empty",)),
    Case("status behind", ("db", "status", "--db", "{behind}"),
         (f"at schema revision 0002 but this tfnas-db needs {SCHEMA_HEAD}", "db upgrade")),
    Case("status unknown revision", ("db", "status", "--db", "{deadbeef}"), (UNKNOWN_REVISION,)),
    Case("upgrade unknown revision", ("db", "upgrade", "--db", "{deadbeef}"),
         (UNKNOWN_REVISION,)),
    Case("search unknown revision", ("search", "--db", "{deadbeef}", "--scorer", "params"),
         (UNKNOWN_REVISION,)),
    Case("damaged value search", ("search", "--db", "{damaged}", "--scorer", "params", "--n",
         "5", "--runs", "2"), ("non-numeric value 'abc' in score.value", "architecture 3")),
    Case("damaged value correlate", ("correlate", "--db", "{damaged}"),
         ("non-numeric value 'abc'", "score run")),
    Case("damaged value export", ("export", "--db", "{damaged}"), ("non-numeric value 'abc'",)),
    Case("store is a text file", ("search", "--db", "{binary}", "--scorer", "params"),
         ("is not a SQLite database",)),
    Case("upgrade a text file", ("db", "upgrade", "--db", "{binary}"),
         ("is not a SQLite database",)),
    Case("store is a folder", ("db", "upgrade", "--db", "{dir}"), ("is a folder",)),
    Case("runs unknown dataset", ("runs", "--db", "{db}", "--scores", "--dataset", "mnist"),
         ("unknown dataset 'mnist'",)),
    # dashboard: refused before Streamlit starts
    Case("dashboard negative port", ("dashboard", "--db", "{db}", "--port", "-5"),
         ("Invalid value for '--port'",)),
    Case("dashboard huge port", ("dashboard", "--db", "{db}", "--port", "70000"),
         ("Invalid value for '--port'",)),
    Case("dashboard mysql", ("dashboard", "--db", "mysql://u@h/x"),
         ("unsupported database URL",)),
]  # fmt: skip


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, seeded_sqlite_template: Path) -> dict[str, str]:
    """The stores and files the cases name: a small scored store, and damaged variants."""
    folder = tmp_path_factory.mktemp("bad_inputs")
    db = folder / "store.db"
    shutil.copy(seeded_sqlite_template, db)
    store = open_store(str(db))
    populate(store, PopulateConfig(scorers="params", limit=12), show_progress=False)
    store.close()
    damaged = folder / "damaged.db"
    shutil.copy(db, damaged)
    deadbeef = folder / "deadbeef.db"
    shutil.copy(db, deadbeef)
    with sqlite3.connect(damaged) as conn:
        conn.execute(
            "UPDATE score SET value = 'abc' WHERE architecture_id = "
            "(SELECT id FROM architecture WHERE arch_index = 3)"
        )
    with sqlite3.connect(deadbeef) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'deadbeef'")
    behind = folder / "behind.db"
    engine = make_engine(resolve_url(str(behind)))
    upgrade_schema(engine, "0002")
    engine.dispose()
    empty = folder / "empty.db"
    sqlite3.connect(empty).close()
    (folder / "binary.dat").write_bytes(bytes(range(256)) * 4)
    (folder / "bad_archs.txt").write_text("0\n99999\n")
    return {
        "dir": str(folder),
        "db": str(db),
        "damaged": str(damaged),
        "deadbeef": str(deadbeef),
        "behind": str(behind),
        "empty": str(empty),
        "binary": str(folder / "binary.dat"),
        "bad_archs": str(folder / "bad_archs.txt"),
    }


def _snapshot(folder: Path) -> dict[str, object]:
    """Every file (size, mtime) under the folder, and the row counts of its stores."""
    state: dict[str, object] = {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
    for name in ("store.db", "damaged.db", "deadbeef.db"):
        with sqlite3.connect(folder / name) as conn:
            for table in COUNTED_TABLES:
                state[f"{name}:{table}"] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    return state


def assert_one_clear_line(stderr: str, returncode: int, says: tuple[str, ...]) -> None:
    assert returncode != 0
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), lines[0]
    assert "unexpected" not in lines[0].lower(), lines[0]
    for fragment in says:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_is_one_line_and_writes_nothing(case: Case, files: dict[str, str]) -> None:
    folder = Path(files["dir"])
    before = _snapshot(folder)
    out = tfnas(*(arg.format(**files) for arg in case.args), cwd=folder)
    assert_one_clear_line(out.stderr, out.returncode, case.says)
    assert _snapshot(folder) == before


def test_cuda_without_a_gpu_is_refused_up_front(files: dict[str, str]) -> None:
    if _has_cuda():
        pytest.skip("this machine has CUDA")
    folder = Path(files["dir"])
    before = _snapshot(folder)
    out = tfnas("populate", "--db", files["db"], "--device", "cuda:1", "--limit", "2")
    assert_one_clear_line(out.stderr, out.returncode, ("torch sees no cuda device",))
    assert _snapshot(folder) == before


def test_the_three_schema_commands_give_the_same_line(files: dict[str, str]) -> None:
    lines = {
        tfnas(*args, "--db", files["deadbeef"]).stderr.strip()
        for args in (("db", "status"), ("db", "upgrade"), ("export",))
    }
    assert len(lines) == 1


def test_a_locked_sqlite_store_says_it_is_locked(
    files: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(store_module, "SQLITE_BUSY_SECONDS", 0.2)
    holder = sqlite3.connect(files["db"], isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        for args in (("search", "--scorer", "params"), ("populate", "--scorers", "params")):
            with pytest.raises(SystemExit) as exited:
                main([*args, "--db", files["db"]])
            assert_one_clear_line(
                capsys.readouterr().err, int(exited.value.code or 0), ("locked by another writer",)
            )
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def _has_cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())
