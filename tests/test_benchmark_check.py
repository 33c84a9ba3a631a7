"""``db check-costs`` against a fabricated NATS-Bench SSS fast-mode directory written with
``nats_bench``'s own classes: our index order and parameter counts against the files'."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import tfnas
from nats_bench.api_utils import ArchResults, ResultsCount, pickle_save

from tfnas_db.scoring.datasets import DATASETS
from tfnas_db.scoring.spaces import nats_sss


def _fast_mode_dir(
    folder: Path, params: dict[int, float | None], flops: dict[int, float] | None = None
) -> Path:
    """``meta.pickle.pbz2`` with NATS-Bench's 32 768 configuration strings, and one file
    per index in ``params`` whose 90-epoch cost info records that parameter count (None:
    the true one) and FLOPs (by default the true ones, conv and linear only)."""
    folder.mkdir()
    meta_archs = [nats_sss.arch_of_index(i) for i in range(nats_sss.N_ARCHS)]
    pickle_save(
        {"meta_archs": meta_archs, "total_archs": len(meta_archs), "arch2infos": None,
         "evaluated_indexes": set()},
        str(folder / "meta.pickle"),
    )  # fmt: skip
    for index, recorded in params.items():
        arch = meta_archs[index]
        results = ArchResults(index, arch)
        for name, spec in DATASETS.items():
            cost = nats_sss.arch_cost(arch, spec.n_classes, spec.image_size)
            value = cost.params_m if recorded is None else recorded
            flop = (flops or {}).get(index, cost.benchmark_flops_m)
            trial = ResultsCount(name, None, {0: 10.0}, {0: 2.3}, value, flop, {}, 777, 1, None)
            results.update(name, 777, trial)
        pickle_save({"90": results.state_dict()}, str(folder / f"{index:06d}.pickle"))
    return folder


def test_matching_files_pass(tmp_path: Path) -> None:
    folder = _fast_mode_dir(
        tmp_path / "NATS-sss-v1_0-test-simple", {0: None, 671: None, 32767: None}
    )
    out = tfnas("db", "check-costs", "--path", str(folder), "--space", "nats-sss")
    assert out.returncode == 0, out.stderr
    assert "3 architectures x 3 datasets" in out.stdout
    text = " ".join(out.stdout.split())
    assert "0 with another arch string at their index, 0 parameter counts and 0 FLOP" in text


def test_a_wrong_parameter_count_is_reported(tmp_path: Path) -> None:
    folder = _fast_mode_dir(tmp_path / "bad-simple", {5: None, 6: 0.5})
    out = tfnas("db", "check-costs", "--path", str(folder), "--space", "nats-sss")
    assert out.returncode == 1
    text = " ".join(out.stdout.split())
    assert "3 parameter counts and 0 FLOP counts" in text and "mismatches (first 20)" in text


def test_a_wrong_flop_count_is_reported(tmp_path: Path) -> None:
    folder = _fast_mode_dir(tmp_path / "flops-simple", {9: None}, flops={9: 4.694106})
    out = tfnas("db", "check-costs", "--path", str(folder), "--space", "nats-sss")
    assert out.returncode == 1
    assert "0 parameter counts and 3 FLOP counts that differ" in " ".join(out.stdout.split())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--space", "nats-tss"), "lists 32768 architectures but nats-tss has 15625"),
        (("--space", "nats-sss", "--path", "/no/such/dir"), "does not exist"),
    ],
)
def test_wrong_space_or_path_is_one_clear_line(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    folder = _fast_mode_dir(tmp_path / "sss-simple", {0: None})
    out = tfnas("db", "check-costs", "--path", str(folder), *args)
    assert out.returncode == 2
    assert message in out.stderr and out.stderr.count("\n") == 1
