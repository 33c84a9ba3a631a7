"""Careless and hostile input that could lose data or run code (issue 4/6, first part).

Each case checks the exit code, one error line without "unexpected", and that the store
and the target file are unchanged.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from helpers import tfnas

from tfnas_db.errors import TfnasError
from tfnas_db.scoring.datasets import get_dataset
from tfnas_db.scoring.minibatch import load_minibatch


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _one_line_error(out: object) -> str:
    assert out.returncode != 0  # type: ignore[attr-defined]
    message = out.stderr.strip()  # type: ignore[attr-defined]
    assert len(message.splitlines()) == 1 and "unexpected" not in message, message
    return str(message)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "s.db"
    for args in (
        ("db", "upgrade", "--db", str(path)),
        ("populate", "--db", str(path), "--scorers", "params", "--limit", "5", "--quiet"),
    ):
        out = tfnas(*args)
        assert out.returncode == 0, out.stderr
    return path


def test_export_never_replaces_the_store_or_another_database(store: Path, tmp_path: Path) -> None:
    before = _sha(store)
    assert "the store being exported" in _one_line_error(
        tfnas("export", "--db", str(store), "--out", str(store))
    )
    link = tmp_path / "link.db"
    link.symlink_to(store)
    assert "the store being exported" in _one_line_error(
        tfnas("export", "--db", str(store), "--out", str(link))
    )
    assert _sha(store) == before and link.is_symlink()
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("create table notes (x text)").connection.commit()
    kept = _sha(other)
    assert "--force" in _one_line_error(tfnas("export", "--db", str(store), "--out", str(other)))
    assert _sha(other) == kept
    forced = tfnas("export", "--db", str(store), "--out", str(other), "--force")
    assert forced.returncode == 0 and other.read_text().startswith("arch_index,")


def test_export_writes_through_special_files_and_symlinks(store: Path, tmp_path: Path) -> None:
    full = tfnas("export", "--db", str(store), "--out", "/dev/full")
    assert "No space left on device" in _one_line_error(full)
    assert Path("/dev/full").is_char_device()
    real = tmp_path / "real.csv"
    real.write_text("old\n")
    link = tmp_path / "scores.csv"
    link.symlink_to(real)
    out = tfnas("export", "--db", str(store), "--out", str(link))
    assert out.returncode == 0, out.stderr
    assert link.is_symlink() and real.read_text().startswith("arch_index,")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader, so the writer can open
    try:
        out = tfnas("export", "--db", str(store), "--out", str(fifo))
        assert out.returncode == 0, out.stderr
        assert os.read(reader, 1 << 16).startswith(b"arch_index,")
    finally:
        os.close(reader)
    assert fifo.is_fifo()


class _RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("payload", ["code", "list", "int"])
def test_a_crafted_dataset_pickle_runs_nothing_and_is_one_clear_error(
    tmp_path: Path, payload: str
) -> None:
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    marker = tmp_path / "pwned"
    content: object = {
        "code": {b"data": _RunsCode(marker), b"labels": [0]},
        "list": [1, 2, 3],
        "int": 7,
    }[payload]
    for i in range(1, 6):
        (folder / f"data_batch_{i}").write_bytes(pickle.dumps(content))
    with pytest.raises(TfnasError, match="is not a cifar10 python pickle"):
        load_minibatch(get_dataset("cifar10"), 8, 0, tmp_path)
    assert not marker.exists()


def test_real_dataset_pickles_still_load(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(1, 6):
        batch = {
            b"labels": rng.integers(0, 10, 10).tolist(),
            b"data": rng.integers(0, 256, (10, 3072), dtype=np.uint8),
        }
        (folder / f"data_batch_{i}").write_bytes(pickle.dumps(batch, protocol=2))
    assert load_minibatch(get_dataset("cifar10"), 8, 0, tmp_path).images.shape == (8, 3, 32, 32)


def test_upgrade_and_merge_refuse_another_applications_database(
    store: Path, tmp_path: Path
) -> None:
    foreign = tmp_path / "app.db"
    sqlite3.connect(foreign).execute("create table notes (x text)").connection.commit()
    kept = _sha(foreign)
    assert "another application's tables (notes)" in _one_line_error(
        tfnas("db", "upgrade", "--db", str(foreign))
    )
    assert "--force" in _one_line_error(tfnas("db", "merge", str(store), "--into", str(foreign)))
    assert _sha(foreign) == kept
    forced = tfnas("db", "upgrade", "--db", str(foreign), "--force")
    assert forced.returncode == 0, forced.stderr
    tables = {r[0] for r in sqlite3.connect(foreign).execute("select name from sqlite_master")}
    assert {"notes", "score_run", "alembic_version"} <= tables


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("populate", "--seed", str(2**63), "--limit", "1"), "--seed must be between 0 and"),
        (("populate", "--seed", str(2**64), "--limit", "1"), "--seed must be between 0 and"),
        (("search", "--scorer", "params", "--seed", "-1"), "--seed must be between 0 and"),
        (("search", "--scorer", "params", "--mu", "nan"), "--mu must be a finite number"),
        (("populate", "--lease-seconds", "nan", "--limit", "1"), "--lease-seconds must be"),
        (("populate", "--scorers", "all,naswot", "--limit", "1"), "'all' already means"),
        (("variance", "--top-k", "0", "--limit", "5"), "--top-k must be at least 1"),
    ],
)
def test_out_of_range_options_are_one_clear_line(
    store: Path, args: tuple[str, ...], expected: str
) -> None:
    before = _sha(store)
    assert expected in _one_line_error(tfnas(*args, "--db", str(store)))
    assert _sha(store) == before


def test_merge_checks_its_options_before_creating_the_store(store: Path, tmp_path: Path) -> None:
    into = tmp_path / "merged.db"
    assert "--rtol must" in _one_line_error(
        tfnas("db", "merge", str(store), "--into", str(into), "--rtol", "-1")
    )
    assert not into.exists()


def test_correlate_against_an_unknown_column_lists_the_columns_held(store: Path) -> None:
    message = _one_line_error(tfnas("correlate", "--db", str(store), "--against", "nosuchcol"))
    assert "nosuchcol" in message and "val_acc_200ep" in message and "params" in message


def test_reproduce_with_an_unknown_scorer_is_one_line(store: Path) -> None:
    out = tfnas("reproduce", "naswot-table1", "--scorer", "nosuch", "--db", str(store))
    assert "unknown scorer 'nosuch'" in _one_line_error(out)
    seed = tfnas("reproduce", "naswot-table1", "--seed", "-3", "--db", str(store))
    assert "--seed must be between 0 and" in _one_line_error(seed)
