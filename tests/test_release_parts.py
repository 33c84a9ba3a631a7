"""Release parts: shards scored in separate stores assemble into the file one populate
over the whole space writes (scripts/build_release.py --shard / --assemble)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import HANG_GUARD_SECONDS, tfnas

from tfnas_db.db.release import ReleaseManifest, read_release_table
from tfnas_db.errors import TfnasError
from tfnas_db.jobs.release_build import assemble_release, name_shards

REPO = Path(__file__).resolve().parents[1]
BUNDLED = REPO / "data" / "release" / "nats-tss" / "cifar100"
N_SHARDS = 3
N_ARCHS = 15_625


def build_release(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "scripts" / "build_release.py"), *args],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
    )


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``degree`` on cifar100 in 3 shards, each populated into its own store and written
    as a part (degree is seconds for the whole space)."""
    root = tmp_path_factory.mktemp("parts")
    template = tmp_path_factory.mktemp("template") / "store.db"
    assert tfnas("db", "upgrade", "--db", f"sqlite:///{template}").returncode == 0
    for i in range(N_SHARDS):
        store = root / f"shard-{i}.db"
        shutil.copy(template, store)
        url = f"sqlite:///{store}"
        out = tfnas(
            "populate", "--db", url, "--dataset", "cifar100", "--scorers", "degree",
            "--shard", f"{i}/{N_SHARDS}", "--quiet",
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        written = build_release("--db", url, "--scorers", "degree", "--shard", f"{i}/{N_SHARDS}",
                                "--out", str(root / "parts"))  # fmt: skip
        assert written.returncode == 0, written.stderr
        assert f"degree.shard-{i}-of-{N_SHARDS}.parquet" in written.stdout
    return root / "parts"


def test_each_part_holds_exactly_its_shard(parts: Path) -> None:
    folder = parts / "nats-tss" / "cifar100"
    for i in range(N_SHARDS):
        path = folder / f"degree.shard-{i}-of-{N_SHARDS}.json"
        manifest = ReleaseManifest.read(path)
        assert manifest.shard == f"{i}/{N_SHARDS}"
        assert manifest.command.endswith(f"--shard {i}/{N_SHARDS}")
        columns = read_release_table(path, manifest)
        assert columns["arch_index"].tolist() == list(range(i, N_ARCHS, N_SHARDS))


def test_assembled_parts_equal_the_whole_space_file(parts: Path, tmp_path: Path) -> None:
    copied = shutil.copytree(parts, tmp_path / "parts")  # assembling deletes the parts
    out = build_release("--assemble", "--parts", str(copied), "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "assembled" in out.stdout and "15625 rows" in out.stdout
    assert not list(copied.glob("*/*/degree.shard-*")), "assembled: its parts are deleted"
    path = tmp_path / "nats-tss" / "cifar100" / "degree.json"
    manifest = ReleaseManifest.read(path)
    assert manifest.shard is None and manifest.row_count == N_ARCHS
    assert "--shard" not in manifest.command
    assert manifest.notes and f"{N_SHARDS} shards" in manifest.notes[0]
    ours = read_release_table(path, manifest)
    bundled_manifest = ReleaseManifest.read(BUNDLED / "degree.json")
    bundled = read_release_table(BUNDLED / "degree.json", bundled_manifest)
    assert ours["arch_index"].tolist() == list(range(N_ARCHS))
    np.testing.assert_array_equal(ours["value"], bundled["value"])
    assert ours["status"].tolist() == bundled["status"].tolist()
    assert manifest.identity == bundled_manifest.identity


def test_a_missing_part_is_named_and_nothing_is_written(parts: Path, tmp_path: Path) -> None:
    incomplete = tmp_path / "incomplete"
    shutil.copytree(parts / "nats-tss" / "cifar100", incomplete)
    for suffix in (".json", ".parquet"):
        (incomplete / f"degree.shard-1-of-{N_SHARDS}{suffix}").unlink()
    with pytest.raises(TfnasError, match=r"2 of 3 parts are here, missing shards \[1\]"):
        assemble_release(incomplete, "degree", tmp_path / "out", N_ARCHS)
    assert not (tmp_path / "out").exists()


def test_a_long_list_of_missing_shards_is_capped() -> None:
    assert name_shards([1, 4]) == "[1, 4]"
    assert name_shards(list(range(1, 15625))) == "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, ... 15614 more]"


def test_a_part_from_other_options_is_refused(parts: Path, tmp_path: Path) -> None:
    mixed = tmp_path / "mixed"
    shutil.copytree(parts / "nats-tss" / "cifar100", mixed)
    path = mixed / f"degree.shard-2-of-{N_SHARDS}.json"
    text = path.read_text().replace('"seed": 0', '"seed": 1')
    path.write_text(text)
    with pytest.raises(TfnasError, match="other options"):
        assemble_release(mixed, "degree", tmp_path / "out", N_ARCHS)


def test_a_part_is_never_loaded_as_a_release_file(parts: Path) -> None:
    from tfnas_db.db.release import bundled_manifests

    assert bundled_manifests(parts) == []


def test_the_repository_holds_no_parts() -> None:
    """Parts are work in progress and stay outside the repository (a store folder, or
    $TFNAS_RELEASE_PARTS): only assembled, verified sets are committed, under data/release.
    """
    tracked = [REPO / "data", REPO / "release-parts"]
    parts = [p for root in tracked if root.exists() for p in root.rglob("*.shard-*-of-*.*")]
    assert parts == [], f"shard parts in the repository: {parts[:3]}"
