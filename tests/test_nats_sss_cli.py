"""nats-sss end to end through the CLI: seed, populate (data-free and naswot), search
with every strategy, correlate and export, first score-only (no accuracy stored), then
with accuracies in the store as an import of NATS-Bench SSS files would leave them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from helpers import tfnas
from sqlalchemy import insert, select

from tfnas_db.db.models import Architecture, BenchmarkResult, Dataset, SearchSpace
from tfnas_db.db.store import open_store
from tfnas_db.scoring.registry import REGISTRY, defined_on
from tfnas_db.scoring.spaces import get_space

IMPORT_HINT = "tfnas-db import nats-bench --path PATH --space sss"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('sss') / 'sss.db'}"
    assert tfnas("db", "upgrade", "--db", url).returncode == 0
    seeded = tfnas("db", "seed", "--space", "nats-sss", "--db", url)
    assert seeded.returncode == 0, seeded.stderr
    assert "seeded nats-sss: 32768 architectures" in seeded.stdout
    out = tfnas(
        "populate", "--db", url, "--space", "nats-sss", "--quiet", "--format", "json",
        "--scorers", "relu_count,params,flops", "--limit", "400",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["scored"] == 400
    assert all(run["ok"] == 400 for run in summary["runs"].values())
    out = tfnas(
        "populate", "--db", url, "--space", "nats-sss", "--quiet", "--format", "json",
        "--limit", "12", "--batch-size", "16",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    runs = json.loads(out.stdout)["runs"]
    assert runs["naswot"]["ok"] == 12
    return url


def _json(*args: str) -> dict:  # type: ignore[type-arg]
    out = tfnas(*args, "--format", "json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def test_populate_resumes_and_stores_the_closed_form_sizes(store: str) -> None:
    again = _json("populate", "--db", store, "--space", "nats-sss", "--quiet",
                  "--scorers", "params", "--limit", "400")  # fmt: skip
    assert again["scored"] == 0 and again["already_stored"] == 400
    rows = list(csv.DictReader(io.StringIO(tfnas(
        "export", "--db", store, "--space", "nats-sss", "--scorers", "params,relu_count"
    ).stdout)))  # fmt: skip
    assert len(rows) == 400
    first = rows[0]
    assert first["arch_str"] == "8:8:8:8:8" and "naslib_tuple" not in first
    assert float(first["params"]) == pytest.approx(0.011714) == float(first["params_m"])
    assert float(first["relu_count"]) == 128 * int(first["relu_units"])


def test_degree_and_etnas_say_they_are_nats_tss_notions(store: str) -> None:
    out = tfnas("populate", "--db", store, "--space", "nats-sss", "--scorers", "degree")
    assert out.returncode == 2
    assert "scorer 'degree' is not defined on nats-sss" in out.stderr
    assert "nats-tss notion" in out.stderr
    out = tfnas("search", "--db", store, "--space", "nats-sss", "--strategy", "etnas")
    assert out.returncode == 2
    assert "strategy 'etnas' is not defined on nats-sss" in out.stderr
    names = [s.name for s in defined_on(REGISTRY.specs(), get_space("nats-sss"))]
    assert "degree" not in names and "naswot" in names and len(names) == len(REGISTRY.names()) - 1


def test_score_only_searches_say_what_to_import(store: str) -> None:
    base = ("search", "--db", store, "--space", "nats-sss", "--runs", "20")
    random = _json(*base, "--scorer", "naswot", "--n", "5", "--penalty", "gdf")
    assert random["accuracy_column"] is None and random["accuracy_mean"] is None
    assert IMPORT_HINT in random["accuracy_note"]
    assert random["candidates"] == 12 and len(random["picks"]) == 20
    rea = _json(*base, "--scorer", "params", "--strategy", "rea", "--cycles", "30")
    assert rea["candidates"] == 400 and len(rea["picks"]) == 20
    pareto = _json(*base, "--scorer", "flops", "--strategy", "pareto", "--max-params", "0.05")
    assert pareto["top_picks"][0]["params_m"] <= 0.05 and len(pareto["front"]) >= 2
    table = tfnas(*base, "--scorer", "naswot", "--n", "5")
    assert table.returncode == 0 and IMPORT_HINT in table.stdout
    asked = tfnas(*base, "--scorer", "naswot", "--metric", "val")
    assert asked.returncode == 2 and IMPORT_HINT in asked.stderr
    baseline = tfnas(*base, "--strategy", "train-rea")
    assert baseline.returncode == 2 and IMPORT_HINT in baseline.stderr
    assert "12-epoch validation accuracy" in baseline.stderr


def test_the_python_api_answers_score_only_as_the_cli(store: str) -> None:
    """Without accuracies the API returns the CLI's score-only search, not an error."""
    import tfnas_db

    args = ("--space", "nats-sss", "--scorer", "naswot", "--n", "5", "--runs", "20")
    cli = _json("search", "--db", store, *args, "--penalty", "gdf")
    outcome = tfnas_db.open(store).search(
        scorer="naswot", n=5, runs=20, penalty="gdf", space="nats-sss"
    )
    assert outcome.with_accuracy == 0 and cli["candidates_with_accuracy"] == 0
    assert outcome.summary.params_mean == pytest.approx(cli["params_mean"])
    assert [p.arch_index for p in outcome.summary.top_picks] == [
        p["arch_index"] for p in cli["top_picks"]
    ]


def test_correlate_without_accuracy_compares_scorers(store: str) -> None:
    out = tfnas("correlate", "--db", store, "--space", "nats-sss", "--format", "json")
    assert out.returncode == 0, out.stderr
    assert IMPORT_HINT in out.stderr.replace("\n", " ")
    rows = json.loads(out.stdout)
    pairs = {(r["scorer"], r["accuracy"]) for r in rows}
    assert ("params", "flops") in pairs and ("naswot", "params") in pairs
    assert all(r["scorer"] != r["accuracy"] for r in rows)
    params_flops = next(r for r in rows if (r["scorer"], r["accuracy"]) == ("params", "flops"))
    assert params_flops["n"] == 400 and params_flops["kendall_tau"] > 0.5


def _store_accuracies(url: str, path: Path, first: int = 400, training: bool = False) -> None:
    """val/test accuracies after 90 epochs (the NATS-Bench SSS schedule) for the first
    ``first`` configurations, as the import leaves them: a made-up but deterministic value;
    with ``training``, also the 12-epoch validation accuracy and 900 s of 90-epoch training
    that the training baselines read."""
    store = open_store(url)
    with store.session() as session:
        space_id = session.scalar(select(SearchSpace.id).where(SearchSpace.name == "nats-sss"))
        dataset_id = session.scalar(select(Dataset.id).where(Dataset.name == "cifar10"))
        archs = session.execute(
            select(Architecture.id, Architecture.arch_index).where(
                Architecture.space_id == space_id, Architecture.arch_index < first
            )
        ).all()
        session.execute(
            insert(BenchmarkResult),
            [
                {
                    "architecture_id": arch_id,
                    "dataset_id": dataset_id,
                    "metric": metric,
                    "epochs": 90,
                    "value": 50.0 + (index % 97) * 0.4 + offset,
                    "n_seeds": 1,
                    "source": f"fabricated for a test ({path.name})",
                }
                for arch_id, index in archs
                for metric, offset in (("val", 0.0), ("test", 0.5))
            ]
            + [
                {
                    "architecture_id": arch_id,
                    "dataset_id": dataset_id,
                    "metric": metric,
                    "epochs": epochs,
                    "value": value,
                    "n_seeds": 1,
                    "source": f"fabricated for a test ({path.name})",
                }
                for arch_id, index in (archs if training else [])
                for metric, epochs, value in (
                    ("val", 12, 30.0 + (index % 89) * 0.3),
                    ("train_seconds", 90, 900.0),
                )
            ],
        )
    store.engine.dispose()


def _with_accuracies(store: str, copy: Path, first: int, training: bool = False) -> str:
    """A copy of the module's store with accuracies for its first ``first`` configurations."""
    copy.write_bytes(Path(store.removeprefix("sqlite:///")).read_bytes())
    url = f"sqlite:///{copy}"
    _store_accuracies(url, copy, first=first, training=training)
    return url


def test_training_baselines_cost_twelve_of_the_ninety_recorded_epochs(
    store: str, tmp_path: Path
) -> None:
    """SSS records training seconds for its 90-epoch schedule: a 12-epoch evaluation costs
    12/90 of 900 s = 120 s, so a 1 200 s budget buys exactly 10 (12/200 would buy 22)."""
    url = _with_accuracies(store, tmp_path / "train.db", first=400, training=True)
    base = ("search", "--db", url, "--space", "nats-sss", "--runs", "20")
    found = _json(*base, "--strategy", "train-random", "--budget-seconds", "1200")
    assert found["accuracy_column"] == "val_acc_90ep" and found["candidates_with_accuracy"] == 400
    assert found["n"] == 10 and found["search_seconds_mean"] == pytest.approx(1200.0)
    assert 50 <= found["accuracy_mean"] <= 90
    rea = _json(*base, "--strategy", "train-rea", "--budget-seconds", "1200")
    # simulated budget accounting (recorded training seconds), not a measured time
    assert rea["n"] == 10 and rea["search_seconds_mean"] == pytest.approx(1200.0)


def test_with_accuracies_stored_searches_and_correlate_report_them(
    store: str, tmp_path: Path
) -> None:
    url = _with_accuracies(store, tmp_path / "with_acc.db", first=400)
    base = ("search", "--db", url, "--space", "nats-sss", "--runs", "20")
    found = _json(*base, "--scorer", "naswot", "--n", "5")
    assert found["accuracy_column"] == "val_acc_90ep" and found["accuracy_note"] is None
    assert 50 <= found["accuracy_mean"] <= 90 and found["regret_mean"] >= 0
    test = _json(*base, "--scorer", "params", "--strategy", "rea", "--metric", "test")
    assert test["accuracy_column"] == "test_acc_90ep" and test["accuracy_mean"] > 50
    rows = _json("correlate", "--db", url, "--space", "nats-sss")
    assert {r["accuracy"] for r in rows} == {"val_acc_90ep", "test_acc_90ep"}
    assert next(r for r in rows if r["scorer"] == "params")["n"] == 400


def test_an_import_covering_few_candidates_searches_those_and_says_so(
    store: str, tmp_path: Path
) -> None:
    url = _with_accuracies(store, tmp_path / "few_acc.db", first=6)  # 6 of the 12 scored
    found = _json("search", "--db", url, "--space", "nats-sss", "--runs", "20",
                  "--scorer", "naswot", "--n", "3")  # fmt: skip
    assert found["candidates"] == 12 and found["candidates_with_accuracy"] == 6
    assert "stored for 6 of the 12 candidates" in found["candidates_note"]
    assert 50 <= found["accuracy_mean"] <= 90  # a mean over picks that all hold one
    assert all(index < 6 for index in found["picks"])
    text = tfnas("search", "--db", url, "--space", "nats-sss", "--runs", "20",
                 "--scorer", "naswot", "--n", "3")  # fmt: skip
    assert text.returncode == 0 and "the search ran over those 6" in text.stdout
    too_many = tfnas("search", "--db", url, "--space", "nats-sss", "--scorer", "naswot",
                     "--n", "8")  # fmt: skip
    assert too_many.returncode != 0 and len(too_many.stderr.strip().splitlines()) == 1
