"""``tfnas-db import nats-bench``: tiny archives built with nats_bench's own classes, read
back through the nats_bench API and through the store."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import nats_archive_factory as factory
import nats_bench
import pytest
from helpers import tfnas
from nats_bench.api_utils import pickle_save
from sqlalchemy import delete, func, insert, select

import tfnas_db
from tfnas_db.db.models import Architecture, BenchmarkResult, Dataset, SearchSpace
from tfnas_db.db.store import open_store
from tfnas_db.interop.nats_archive import FolderArchive, open_archive
from tfnas_db.interop.nats_import import import_nats_bench
from tfnas_db.scoring.spaces import SPACES, nats_tss

FOLDER_ARCHS = [0, 1, 6111, 15624]
FILE_ARCHS = [5, 77]


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("nats")
    return {
        "folder": factory.fast_mode_folder(root / "NATS-tss-v1_0-3ffb9-simple", FOLDER_ARCHS),
        "file": factory.single_archive(root / "NATS-tss-v1_0-3ffb9.pickle.pbz2", FILE_ARCHS),
    }


def benchmark_rows(url: str) -> int:
    with open_store(url).session() as session:
        return int(session.scalar(select(func.count(BenchmarkResult.id))) or 0)


def test_fast_mode_folder_is_imported_with_means_seed_counts_and_costs(
    sqlite_store_url: str, archives: dict[str, Path]
) -> None:
    folder = archives["folder"]
    before = benchmark_rows(sqlite_store_url)
    bundled_val_1 = tfnas_db.open(sqlite_store_url).arch(2).figures["cifar10"]["val_acc_200ep"]
    out = tfnas("import", "nats-bench", "--path", str(folder), "--db", sqlite_store_url)
    assert out.returncode == 0, out.stderr
    assert "imported 4 nats-tss architectures" in out.stdout
    assert "ETA" in out.stderr  # the progress bar

    store = tfnas_db.open(sqlite_store_url)
    api = nats_bench.create(str(folder), "tss", fast_mode=True, verbose=False)
    for index in FOLDER_ARCHS:
        got = store.arch(index).figures
        c10, c100, im16 = got["cifar10"], got["cifar100"], got["ImageNet16-120"]
        for hp in ("12", "200"):
            ep = f"{hp}ep"
            mean = factory.mean_accuracy
            # CIFAR-10: validation from the train-split run, test from the train+val run
            assert c10[f"val_acc_{ep}"] == pytest.approx(
                mean(index, "cifar10-valid", "x-valid", hp)
            )
            assert c10[f"test_acc_{ep}"] == pytest.approx(mean(index, "cifar10", "ori-test", hp))
            assert c10[f"train_acc_{ep}"] == pytest.approx(
                mean(index, "cifar10-valid", "train", hp)
            )
            assert c10[f"test_trainsplit_acc_{ep}"] == pytest.approx(
                mean(index, "cifar10-valid", "ori-test", hp)
            )
            assert c10[f"train_trainval_acc_{ep}"] == pytest.approx(
                mean(index, "cifar10", "train", hp)
            )
            assert c10[f"val_loss_{ep}"] == pytest.approx(
                factory.loss(mean(index, "cifar10-valid", "x-valid", hp))
            )
            for figures, name in ((c100, "cifar100"), (im16, "ImageNet16-120")):
                assert figures[f"val_acc_{ep}"] == pytest.approx(mean(index, name, "x-valid", hp))
                assert figures[f"test_acc_{ep}"] == pytest.approx(mean(index, name, "x-test", hp))
                assert figures[f"valtest_acc_{ep}"] == pytest.approx(
                    mean(index, name, "ori-test", hp)
                )
                assert figures[f"train_loss_{ep}"] == pytest.approx(
                    factory.loss(mean(index, name, "train", hp))
                )
                assert figures[f"recorded_params_m_{ep}"] == pytest.approx(
                    factory.params_m(index, name)
                )
            epochs = int(hp)
            assert c10[f"train_seconds_{ep}"] == pytest.approx(factory.TRAIN_EPOCH_SECONDS * epochs)
            assert c10[f"val_eval_seconds_{ep}"] == pytest.approx(
                factory.EVAL_EPOCH_SECONDS * epochs
            )
            assert c10[f"latency_seconds_{ep}"] == pytest.approx(factory.LATENCY)
            assert c10[f"recorded_params_m_{ep}"] == pytest.approx(
                factory.params_m(index, "cifar10-valid")
            )
        # the same figures through the nats_bench API (is_random=False: mean over seeds)
        info = api.get_more_info(index, "cifar10", hp="200", is_random=False)
        assert c10["test_acc_200ep"] == pytest.approx(info["test-accuracy"])
        info = api.get_more_info(index, "cifar100", hp="200", is_random=False)
        assert c100["valtest_acc_200ep"] == pytest.approx(info["valtest-accuracy"])
        assert c100["val_acc_200ep"] == pytest.approx(info["valid-accuracy"])
        cost = api.get_cost_info(index, "ImageNet16-120", hp="12")
        assert im16["recorded_flops_m_12ep"] == pytest.approx(cost["flops"])

    with open_store(sqlite_store_url).session() as session:
        rows = session.execute(
            select(BenchmarkResult.epochs, BenchmarkResult.n_seeds, BenchmarkResult.source).where(
                BenchmarkResult.metric == "test", BenchmarkResult.source.like("imported:%")
            )
        ).all()
    assert {(epochs, n) for epochs, n, _ in rows} == {(12, 1), (200, 2)}
    sources = {source for *_, source in rows}
    assert "imported: NATS-tss-v1_0-3ffb9-simple (cifar10 ori-test, hp=200, mean over seeds)" in (
        sources
    )
    assert all(source.startswith("imported: NATS-tss-v1_0-3ffb9-simple (") for source in sources)
    # architectures the archive does not hold keep the bundled figures
    assert store.arch(2).figures["cifar10"]["val_acc_200ep"] == bundled_val_1

    # idempotent: the same rows, the same values
    added = benchmark_rows(sqlite_store_url) - before
    table = store.table("cifar10", all_archs=True)
    again = tfnas(
        "import", "nats-bench", "--path", str(folder), "--db", sqlite_store_url, "--quiet"
    )
    assert again.returncode == 0, again.stderr
    assert benchmark_rows(sqlite_store_url) - before == added
    assert store.table("cifar10", all_archs=True).equals(table)


def test_after_the_import_search_reads_200_epoch_cifar10_test_accuracy(
    sqlite_store_url: str, archives: dict[str, Path], tmp_path: Path
) -> None:
    refused = tfnas(
        "search", "--db", sqlite_store_url, "--metric", "test", "--epochs", "200", "--strategy",
        "train-random",
    )  # fmt: skip
    assert refused.returncode == 2 and "has no accuracy column" in refused.stderr
    archs = tmp_path / "archs.txt"
    archs.write_text("\n".join(map(str, FOLDER_ARCHS)) + "\n")
    populate = ("populate", "--db", sqlite_store_url, "--archs", str(archs), "--scorers", "params")
    assert tfnas(*populate, "--quiet").returncode == 0
    args = ("--path", str(archives["folder"]), "--db", sqlite_store_url, "--quiet")
    assert tfnas("import", "nats-bench", *args).returncode == 0
    out = tfnas(
        "search", "--db", sqlite_store_url, "--scorer", "params", "--n", "4", "--runs", "3",
        "--metric", "test", "--epochs", "200", "--format", "json",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["accuracy_column"] == "test_acc_200ep"
    best = max(FOLDER_ARCHS, key=factory_params)  # n = all 4: every run picks the largest
    expected = factory.mean_accuracy(best, "cifar10", "ori-test", "200")
    assert result["accuracy_mean"] == pytest.approx(expected)


def factory_params(index: int) -> float:
    return nats_tss.arch_cost(nats_tss.arch_of_index(index), 10, 32).params_m


def test_the_single_archive_file_is_imported_too(
    sqlite_store_url: str, archives: dict[str, Path]
) -> None:
    out = tfnas(
        "import", "nats-bench", "--path", str(archives["file"]), "--space", "tss", "--db",
        sqlite_store_url, "--format", "json",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["architectures"] == 2 and summary["epochs"] == [12, 200]
    store = tfnas_db.open(sqlite_store_url)
    for index in FILE_ARCHS:
        figures = store.arch(index).figures["cifar10"]
        expected = factory.mean_accuracy(index, "cifar10", "ori-test", "200")
        assert figures["test_acc_200ep"] == pytest.approx(expected)


def test_the_folder_is_read_one_architecture_at_a_time(archives: dict[str, Path]) -> None:
    archive = open_archive(archives["folder"])
    assert isinstance(archive, FolderArchive) and archive.space == "tss"
    assert len(archive) == len(FOLDER_ARCHS)
    held = []
    for arch in archive:
        held.append(len(archive._api.arch2infos_dict))
        assert arch.arch_str == nats_tss.arch_of_index(arch.index)
        assert all(
            trial.net_state_dict is None
            for results in arch.results.values()
            for trial in results.all_results.values()
        )
    assert held == [0] * len(FOLDER_ARCHS)  # nothing kept once read


def _corrupt_copy(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    (target / "006111.pickle.pbz2").write_bytes(b"BZh91AY&SY not really bzip2")
    return target


def test_bad_paths_and_corrupted_archives_are_one_line_and_write_nothing(
    sqlite_store_url: str, archives: dict[str, Path], tmp_path: Path
) -> None:
    sss = tmp_path / "NATS-sss-v1_0-50262-simple"
    sss.mkdir()
    pickle_save({"meta_archs": ["8:8:8:8:8", "8:8:8:8:16"]}, str(sss / "meta.pickle"))
    not_bz2 = tmp_path / "broken.pickle.pbz2"
    not_bz2.write_bytes(b"plainly not an archive")
    foreign = tmp_path / "foreign.pickle.pbz2"
    pickle_save({"something": 1}, str(foreign).removesuffix(".pbz2"))
    empty = tmp_path / "empty-folder"
    empty.mkdir()
    cases = [
        (["--path", "/no/such/NATS"], "no NATS-Bench file or folder at /no/such/NATS"),
        (["--path", str(empty)], "not a NATS-Bench fast-mode folder"),
        (["--path", str(not_bz2)], "is corrupted or not a NATS-Bench archive"),
        (["--path", str(foreign)], "is not a NATS-Bench archive: it lacks meta_archs"),
        (
            ["--path", str(_corrupt_copy(archives["folder"], tmp_path / "corrupt"))],
            "006111.pickle.pbz2 is corrupted",
        ),
        (["--path", str(archives["folder"]), "--space", "sss"], "run with --space tss"),
        (["--path", str(sss)], "has meta.pickle.pbz2 but no architecture files"),
    ]
    before = benchmark_rows(sqlite_store_url)
    for args, message in cases:
        out = tfnas("import", "nats-bench", *args, "--db", sqlite_store_url, "--quiet")
        assert out.returncode == 2, (args, out.stdout)
        assert out.stderr.startswith("error: ") and message in out.stderr, out.stderr
        assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    # the corrupted folder failed on its third architecture: the first two were rolled back
    assert benchmark_rows(sqlite_store_url) == before


def test_a_size_space_archive_fills_nats_sss_when_the_store_has_it(
    sqlite_store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SSS path, with a stand-in ``nats-sss`` space (registered like a real one and
    seeded with three channel configurations) until the size space itself exists."""
    configs = ["8:8:8:8:8", "64:64:64:64:64", "16:24:32:40:48"]
    folder = factory.fast_mode_folder(
        tmp_path / "NATS-sss-v1_0-50262-simple", [0, 2], configs, ("01", "12", "90")
    )
    stand_in = replace(SPACES["nats-tss"], name="nats-sss", size=len(configs))
    monkeypatch.setitem(SPACES, "nats-sss", stand_in)
    store = open_store(sqlite_store_url)
    with store.session() as session:
        space = SearchSpace(name="nats-sss", n_archs=len(configs), description="stand-in")
        session.add(space)
        session.flush()
        session.execute(
            insert(Architecture),
            [
                {"space_id": space.id, "arch_index": i, "arch_str": config}
                for i, config in enumerate(configs)
            ],
        )
    summary = import_nats_bench(store, folder, show_progress=False)
    assert (summary.space, summary.archs, summary.epochs) == ("nats-sss", 2, {1, 12, 90})
    with store.session() as session:
        rows = dict(
            session.execute(
                select(Architecture.arch_str, BenchmarkResult.value)
                .join(BenchmarkResult, BenchmarkResult.architecture_id == Architecture.id)
                .join(Dataset, Dataset.id == BenchmarkResult.dataset_id)
                .where(
                    Architecture.space_id == space.id,
                    Dataset.name == "cifar100",
                    BenchmarkResult.metric == "valtest",
                    BenchmarkResult.epochs == 90,
                )
            ).all()
        )
    assert rows == {
        configs[i]: pytest.approx(factory.mean_accuracy(i, "cifar100", "ori-test", "90"))
        for i in (0, 2)
    }


@pytest.mark.postgres
def test_the_import_on_postgresql_is_idempotent(seeded_pg_url: str, tmp_path: Path) -> None:
    """On the session's shared PostgreSQL store: the architecture's rows are put back after,
    so other tests see the bundled table."""
    index = 15624
    folder = factory.fast_mode_folder(tmp_path / "simple", [index])
    store = open_store(seeded_pg_url)
    with store.session() as session:
        arch_id = session.scalar(select(Architecture.id).where(Architecture.arch_index == index))
        where = BenchmarkResult.architecture_id == arch_id
        saved = [
            {c.name: getattr(row, c.name) for c in BenchmarkResult.__table__.columns}
            for row in session.scalars(select(BenchmarkResult).where(where))
        ]
    try:
        args = ("import", "nats-bench", "--path", str(folder), "--db", seeded_pg_url, "--quiet")
        assert tfnas(*args).returncode == 0
        rows = benchmark_rows(seeded_pg_url)
        assert tfnas(*args).returncode == 0 and benchmark_rows(seeded_pg_url) == rows
        figures = tfnas_db.open(seeded_pg_url).arch(index).figures["cifar10"]
        assert figures["test_acc_200ep"] == pytest.approx(
            factory.mean_accuracy(index, "cifar10", "ori-test", "200")
        )
    finally:
        with store.session() as session:
            session.execute(delete(BenchmarkResult).where(where))
            session.execute(insert(BenchmarkResult), saved)


def test_sizes_fall_back_to_the_seed_mean_where_nats_bench_gives_up() -> None:
    """``get_compute_costs`` breaks a disagreement between seeds with seed 888's value and
    raises when 888 is absent; one such architecture must not stop a whole import."""
    from nats_bench.api_utils import ArchResults

    from tfnas_db.interop.nats_metrics import figures

    results = ArchResults.create_from_state_dict(factory.arch_results(3, ("200",))["200"])
    results.all_results[("cifar100", 777)].params = 9.0
    renamed = results.all_results.pop(("cifar100", 888))
    renamed.seed, renamed.params = 999, 1.0
    results.all_results[("cifar100", 999)] = renamed
    results.dataset_seed["cifar100"] = [777, 999]
    with pytest.raises(ValueError, match="888"):
        results.get_compute_costs("cifar100")
    found = {(f.dataset, f.metric): f.value for f in figures(results, 200)}
    assert found[("cifar100", "recorded_params_m")] == pytest.approx(5.0)
    assert found[("cifar100", "train_seconds")] == pytest.approx(300.0)
    assert found[("cifar100", "valtest")] == pytest.approx(
        factory.mean_accuracy(3, "cifar100", "ori-test", "200")
    )
