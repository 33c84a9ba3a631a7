"""Copying a release set to another dataset: only where the dataset changes nothing.

loss_slope on the synthetic minibatch computes the same bits on cifar100 as on cifar10
(same inputs, same cell weights, classifier dropped), so the release copies that set
instead of spending ~9 CPU-hours on it; these tests hold the claim and the copy to
account.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import HANG_GUARD_SECONDS

from tfnas_db.db.release import ReleaseManifest, file_sha256, read_release_table
from tfnas_db.errors import TfnasError
from tfnas_db.jobs.release_build import copy_release_file
from tfnas_db.jobs.release_check import ReleaseRescorer, dataset_differences
from tfnas_db.scoring.registry import REGISTRY

REPO = Path(__file__).resolve().parents[1]
RELEASE = REPO / "data" / "release"


def _manifest(scorer: str, data_source: str) -> ReleaseManifest:
    return ReleaseManifest(
        space="nats-tss",
        dataset="cifar10",
        scorer=scorer,
        scorer_version=REGISTRY.get(scorer).version,
        data_source=data_source,
        batch_size=128,
        seed=0,
        device="cpu",
        cpu_model=None,
        gpu_model=None,
        torch_version=None,
        tfnas_db_version="0.1.0",
        host=None,
        started_at="2026-12-05T00:00:00",
        finished_at=None,
        row_count=15625,
        status_counts={"ok": 15625},
        sha256="",
        file=f"{scorer}.parquet",
        command=f"tfnas-db populate --space nats-tss --dataset cifar10 --scorers {scorer} "
        "--batch-size 128 --seed 0 --threads 1",
        threads=1,
    )


def test_loss_slope_on_the_synthetic_minibatch_is_the_same_on_cifar10_and_cifar100() -> None:
    rescorer = ReleaseRescorer()
    assert (
        dataset_differences(rescorer, _manifest("loss_slope", "synthetic"), "cifar100", [0, 9930])
        == []
    )


def test_a_scorer_that_reads_the_classifier_differs_between_datasets() -> None:
    """synflow multiplies through the 10- or 100-way classifier: never a copy candidate."""
    differences = dataset_differences(
        ReleaseRescorer(), _manifest("synflow", "none"), "cifar100", [0, 9930]
    )
    assert len(differences) == 2
    assert differences[0].startswith("synflow of arch 0: ")


def _source_release(tmp_path: Path) -> tuple[Path, ReleaseManifest]:
    folder = tmp_path / "release" / "nats-tss" / "cifar10"
    folder.mkdir(parents=True)
    for suffix in (".json", ".parquet"):
        shutil.copy(RELEASE / "nats-tss" / "cifar10" / f"degree{suffix}", folder)
    path = folder / "degree.json"
    return path, ReleaseManifest.read(path)


def test_a_copied_file_matches_its_manifest_and_says_where_it_came_from(tmp_path: Path) -> None:
    source_path, source = _source_release(tmp_path)
    copied = copy_release_file(source_path, source, "cifar100", tmp_path / "release", "checked")
    path = tmp_path / "release" / "nats-tss" / "cifar100" / "degree.json"
    assert ReleaseManifest.read(path) == copied
    assert copied.dataset == "cifar100" and copied.scorer == "degree"
    assert " --dataset cifar100 " in copied.command and "cifar10 " not in copied.command
    assert copied.sha256 == file_sha256(path.with_suffix(".parquet"))
    assert source.sha256 in copied.notes[-1] and copied.notes[-1].endswith("checked")
    before, after = read_release_table(source_path, source), read_release_table(path, copied)
    for column in ("arch_index", "value", "seconds", "status"):
        assert np.array_equal(before[column].astype(str), after[column].astype(str)), column


def test_a_copy_never_replaces_a_file_that_is_there(tmp_path: Path) -> None:
    source_path, source = _source_release(tmp_path)
    copy_release_file(source_path, source, "cifar100", tmp_path / "release", "checked")
    with pytest.raises(TfnasError, match="never replaces a computed one"):
        copy_release_file(source_path, source, "cifar100", tmp_path / "release", "checked")


def test_the_build_script_refuses_to_copy_a_set_the_dataset_changes(tmp_path: Path) -> None:
    folder = tmp_path / "nats-tss" / "cifar10"
    folder.mkdir(parents=True)
    for suffix in (".json", ".parquet"):
        shutil.copy(RELEASE / "nats-tss" / "cifar10" / f"synflow{suffix}", folder)
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "build_release.py"),
            "--out",
            str(tmp_path),
            "--copy-dataset",
            "cifar10:cifar100",
            "--scorers",
            "synflow",
            "--check",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
    )
    assert result.returncode != 0
    assert "not copied: 2 of 2 differ, e.g. synflow of arch" in result.stderr
    assert not (tmp_path / "nats-tss" / "cifar100").exists()
    assert json.loads((folder / "synflow.json").read_text())["dataset"] == "cifar10"
