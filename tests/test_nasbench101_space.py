"""NAS-Bench-101 end to end on a real store: seed, data-free populate, search, import.

One SQLite store seeded with all 423 624 cells is shared by the module (seeding takes
seconds); the import tests write small ``.tfrecord`` files in the benchmark's real
format holding fabricated metrics for real hashes of the space.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from tests.helpers import tfnas
from tfnas_db.db.models import Architecture, BenchmarkResult, Score
from tfnas_db.db.store import make_engine, open_store, resolve_url, upgrade_schema
from tfnas_db.errors import TfnasError
from tfnas_db.interop.nasbench101_records import (
    EvaluationFigures,
    encode_model_metrics,
    format_record,
    write_tfrecord,
)
from tfnas_db.jobs.populate import PopulateConfig, populate
from tfnas_db.scoring.datasets import get_dataset
from tfnas_db.scoring.engine import ScoringEngine
from tfnas_db.scoring.registry import REGISTRY
from tfnas_db.scoring.spaces import get_space
from tfnas_db.scoring.spaces import nasbench101_cells as cells

SPACE = get_space("nasbench101")


@pytest.fixture(scope="module")
def seeded_nb101(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("nb101")
    path = folder / "template.db"
    upgrade_schema(make_engine(resolve_url(f"sqlite:///{path}")))
    out = tfnas("db", "seed", "--space", "nasbench101", "--db", f"sqlite:///{path}")
    assert out.returncode == 0, out.stderr
    assert "423624 architectures" in out.stdout
    return path


@pytest.fixture()
def store_url(seeded_nb101: Path, tmp_path: Path) -> str:
    path = tmp_path / "nb.db"
    shutil.copy(seeded_nb101, path)
    return f"sqlite:///{path}"


def test_the_space_knows_its_size_datasets_and_spellings() -> None:
    assert SPACE.size == 423_624 and SPACE.datasets == ("cifar10",)
    index = 123_456
    module_hash = SPACE.arch_of_index(index)
    matrix, ops = cells.cell_of_index(index)
    spellings = [
        str(index),
        module_hash,
        module_hash.upper(),
        cells.cell_spelling(index),
        json.dumps({"matrix": matrix, "ops": ops}),
        json.dumps([matrix, ops]),
    ]
    for token in spellings:
        assert SPACE.resolve_arch(token) == (index, module_hash), token
    with pytest.raises(TfnasError, match="not a NAS-Bench-101 cell"):
        SPACE.resolve_arch("0" * 32)
    assert "digraph" in SPACE.draw(module_hash) and ops[1] in SPACE.draw(module_hash)
    assert not SPACE.supports("cell_degree") and "NAS-Bench-201" in SPACE.why_not("cell_degree")


def test_vectorised_sizes_equal_the_per_cell_cost() -> None:
    rng = np.random.default_rng(0)
    indices = rng.choice(SPACE.n_archs, size=50, replace=False)
    many = SPACE.cost_arrays(indices, 10, 32)
    for row, index in enumerate(indices):
        one = SPACE.cost(SPACE.arch_of_index(int(index)), 10, 32)
        assert one.params_m == many.params_m[row] and one.relu_units == many.relu_units[row]
    assert many.params_m.min() > 0.2 and many.params_m.max() < 50.0


def test_mutation_neighbours_are_cells_one_move_away() -> None:
    codes = SPACE.codes(np.arange(0, SPACE.n_archs, 4_001))
    neighbours = SPACE.neighbour_codes(codes)
    found = cells.indices_of_codes(neighbours[neighbours >= 0])
    assert np.all(found >= 0)  # every neighbour is a cell of the space, canonical


def test_data_free_populate_equals_the_per_architecture_scorers(store_url: str) -> None:
    store = open_store(store_url)
    summary = populate(
        store,
        PopulateConfig(space="nasbench101", scorers="relu_count,params,flops", limit=3000),
        show_progress=False,
    )
    assert summary.scored == 3000 and summary.already_stored == 0
    again = populate(
        store,
        PopulateConfig(space="nasbench101", scorers="relu_count,params,flops", limit=3000),
        show_progress=False,
    )
    assert again.scored == 0 and again.already_stored == 3000
    engine = ScoringEngine(SPACE, get_dataset("cifar10"), 128, 0, "cpu", None)
    specs = [REGISTRY.get(name) for name in ("relu_count", "params", "flops")]
    with store.session() as session:
        for index in (0, 1234, 2999):
            arch = SPACE.arch_of_index(index)
            expected = engine.score(arch, specs)
            for spec in specs:
                stored = session.scalar(
                    select(Score.value)
                    .join(Architecture, Architecture.id == Score.architecture_id)
                    .where(
                        Score.run_id == summary.run_ids[spec.name],
                        Architecture.arch_index == index,
                    )
                )
                assert stored == expected[spec.name].value, (spec.name, index)


def test_search_and_rea_run_score_only_and_name_the_import(store_url: str) -> None:
    db = ["--db", store_url]
    out = tfnas("populate", "--space", "nasbench101", "--scorers", "relu_count,params",
                "--limit", "5000", "--quiet", *db)  # fmt: skip
    assert out.returncode == 0, out.stderr
    for strategy in ("random", "rea"):
        found = tfnas("search", "--space", "nasbench101", "--dataset", "cifar10",
                      "--scorer", "relu_count", "--strategy", strategy, "--runs", "20",
                      "--penalty", "gdf", "--format", "json", *db)  # fmt: skip
        assert found.returncode == 0, found.stderr
        result = json.loads(found.stdout)
        assert result["candidates"] == 5000
        assert "tfnas-db import nasbench101" in found.stderr + found.stdout
    degree = tfnas("search", "--space", "nasbench101", "--strategy", "etnas", *db)
    assert degree.returncode != 0 and "NAS-Bench-201" in degree.stderr


def _result(final: float) -> EvaluationFigures:
    return EvaluationFigures(
        epoch=108.0,
        training_time=1000.0 + final,
        train_accuracy=1.0,
        validation_accuracy=final,
        test_accuracy=final - 0.01,
    )


def _write(path: Path, indices: list[int], *, params_off: int = -1, stray: str = "") -> Path:
    """A real-format file: three repeats per cell, our parameter count (except for
    ``params_off``), validation accuracy 0.9 + index / 1e7 on average; ``stray`` replaces
    the first cell's hash."""
    costs = SPACE.cost_arrays(np.asarray(indices), 10, 32)
    records = []
    for row, index in enumerate(indices):
        matrix, ops = cells.cell_of_index(index)
        params = round(costs.params_m[row] * 1e6) + (7 if index == params_off else 0)
        module_hash = (stray if row == 0 else "") or SPACE.arch_of_index(index)
        for repeat in range(3):
            final = 0.9 + index / 1e7 + (repeat - 1) * 0.001
            halfway = _result(final - 0.05)
            metrics = encode_model_metrics([_result(0.1), halfway, _result(final)], params, 3000.0)
            records.append(format_record(module_hash, 108, matrix, ops, metrics))
    write_tfrecord(path, records)
    return path


def test_import_stores_the_mean_of_the_repeats_and_checks_parameters(
    store_url: str, tmp_path: Path
) -> None:
    indices = [5, 77, 400_000]
    path = _write(tmp_path / "nasbench_only108.tfrecord", indices, params_off=77)
    out = tfnas("import", "nasbench101", "--path", str(path), "--format", "json",
                "--db", store_url)  # fmt: skip
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["cells"] == 3 and summary["epochs"] == [108] and summary["repeats"] == {"3": 3}
    assert summary["params_differ"] == 1 and SPACE.arch_of_index(77) in summary["first_difference"]
    table = tfnas("export", "--space", "nasbench101", "--all-archs", "--format", "json",
                  "--db", store_url)  # fmt: skip
    assert table.returncode == 0, table.stderr
    rows = {r["arch_index"]: r for r in json.loads(table.stdout) if r["arch_index"] in indices}
    for index in indices:
        assert rows[index]["val_acc_108ep"] == pytest.approx(100 * (0.9 + index / 1e7))
        assert rows[index]["test_acc_108ep"] == pytest.approx(100 * (0.89 + index / 1e7))
        assert rows[index]["arch_str"] == SPACE.arch_of_index(index)
        assert rows[index]["cell"] == cells.cell_spelling(index)
    again = tfnas("import", "nasbench101", "--path", str(path), "--db", store_url)
    assert again.returncode == 0, again.stderr  # idempotent: the same rows, replaced
    with open_store(store_url).session() as session:
        assert session.scalar(select(func.count(BenchmarkResult.id))) == 3 * 5


@pytest.mark.parametrize("damage", ["truncated", "bad_crc", "outside"])
def test_a_damaged_file_is_one_error_line_and_writes_nothing(
    store_url: str, tmp_path: Path, damage: str
) -> None:
    path = tmp_path / "nasbench_only108.tfrecord"
    _write(path, [1, 2], stray="0" * 32 if damage == "outside" else "")
    blob = bytearray(path.read_bytes())
    if damage == "truncated":
        path.write_bytes(bytes(blob[:-9]))
    elif damage == "bad_crc":
        blob[40] ^= 0xFF
        path.write_bytes(bytes(blob))
    out = tfnas("import", "nasbench101", "--path", str(path), "--quiet", "--db", store_url)
    assert out.returncode != 0
    message = out.stderr.strip()
    assert len(message.splitlines()) == 1 and "unexpected" not in message, message
    assert str(path) in message
    with open_store(store_url).session() as session:
        assert session.scalar(select(func.count(BenchmarkResult.id))) == 0
