"""populate: idempotent, resumable after Ctrl-C or kill -9, failures stored, provenance."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from helpers import HANG_GUARD_SECONDS
from sqlalchemy import func, select

from tfnas_db.db.models import Architecture, Score, ScoreRun, ScoreStatus
from tfnas_db.db.store import open_store
from tfnas_db.jobs.populate import PopulateConfig, populate
from tfnas_db.scoring import engine as engine_module
from tfnas_db.scoring.context import ScoringContext

DATA_FREE = "relu_count,params,flops"


def _pairs(url: str, run_ids: list[int]) -> Counter[tuple[int, int]]:
    store = open_store(url)
    with store.session() as session:
        rows = session.execute(
            select(Score.run_id, Score.architecture_id).where(Score.run_id.in_(run_ids))
        ).all()
    store.close()
    return Counter((r, a) for r, a in rows)


def test_populate_is_idempotent_and_stores_provenance(seeded_url: str) -> None:
    store = open_store(seeded_url)
    config = PopulateConfig(scorers="naswot," + DATA_FREE, limit=4, batch_size=8, seed=11)
    first = populate(store, config, show_progress=False)
    assert first.scored == 4 and first.already_stored == 0
    again = populate(store, config, show_progress=False)
    assert again.scored == 0 and again.already_stored == 4
    pairs = _pairs(seeded_url, list(first.run_ids.values()))
    assert len(pairs) == 16 and set(pairs.values()) == {1}
    with store.session() as session:
        run = session.get(ScoreRun, first.run_ids["naswot"])
        assert run is not None
        assert (run.data_source, run.batch_size, run.seed, run.device) == (
            "natural",  # naswot's measured default (docs/SCORERS.md)
            8,
            11,
            "cpu",
        )
        assert run.torch_version and run.package_version and run.finished_at is not None
        free = session.get(ScoreRun, first.run_ids["params"])
        assert free is not None and free.data_source == "none" and free.torch_version is None
    store.close()


def test_interrupted_run_resumes_and_stores_each_arch_once(
    seeded_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(seeded_url)
    config = PopulateConfig(scorers="naswot,params", limit=6, batch_size=8, seed=12)
    real_score = engine_module.ScoringEngine.score
    calls = {"n": 0}

    def flaky(self, arch, specs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real_score(self, arch, specs)

    monkeypatch.setattr(engine_module.ScoringEngine, "score", flaky)
    monkeypatch.setattr("tfnas_db.jobs.executors.COMMIT_EVERY_SECONDS", 0.0)
    summary = populate(store, config, show_progress=False)
    assert summary.interrupted
    runs = list(summary.run_ids.values())
    partial = _pairs(seeded_url, runs)
    per_arch = Counter(arch for _, arch in partial)
    assert set(per_arch.values()) == {2}  # no architecture has only some of its scores
    assert len(per_arch) == 3
    monkeypatch.setattr(engine_module.ScoringEngine, "score", real_score)
    resumed = populate(store, config, show_progress=False)
    assert resumed.already_stored == 3 and resumed.scored == 3
    pairs = _pairs(seeded_url, runs)
    assert len(pairs) == 12 and set(pairs.values()) == {1}
    store.close()


def test_failures_and_nan_are_stored_with_status_and_the_run_goes_on(
    sqlite_store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = "|nor_conv_1x1~0|+|none~0|none~1|+|none~0|none~1|nor_conv_1x1~2|"
    real_cost = ScoringContext.cost

    def cost(self):  # type: ignore[no-untyped-def]
        if self.arch_str == broken:
            raise RuntimeError("simulated failure")
        return real_cost.fget(self)  # type: ignore[attr-defined]

    monkeypatch.setattr(ScoringContext, "cost", property(cost))
    degenerate = "|none~0|+|none~0|none~1|+|none~0|nor_conv_3x3~1|avg_pool_3x3~2|"
    store = open_store(sqlite_store_url)
    config = PopulateConfig(
        scorers="naswot,params", archs=["0", broken, degenerate, "1", "0"], batch_size=8
    )
    summary = populate(store, config, show_progress=False)
    assert summary.scored == 4
    with store.session() as session:
        rows = session.execute(
            select(Architecture.arch_str, ScoreRun.scorer, Score.status, Score.value, Score.error)
            .join(Score, Score.architecture_id == Architecture.id)
            .join(ScoreRun, ScoreRun.id == Score.run_id)
        ).all()
    by_key = {(a, s): (st, v, e) for a, s, st, v, e in rows}
    assert by_key[(broken, "params")][0] == ScoreStatus.ERROR
    assert "simulated failure" in by_key[(broken, "params")][2]
    assert by_key[(degenerate, "naswot")][:2] == (ScoreStatus.NAN, None)
    assert sum(1 for st, _, _ in by_key.values() if st == ScoreStatus.OK) == 6
    store.close()


def test_kill_9_leaves_no_partial_rows_and_the_same_command_resumes(
    sqlite_store_url: str,
) -> None:
    LIMIT = 60  # far more than the 4 architectures it is killed after, yet a quick resume
    args = [
        sys.executable,
        "-c",
        "from tfnas_db.cli.app import main; main()",
        "populate",
        "--db",
        sqlite_store_url,
        "--scorers",
        "naswot,params",
        "--limit",
        str(LIMIT),
        "--batch-size",
        "8",
        "--seed",
        "5",
        "--quiet",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    store = open_store(sqlite_store_url)
    stored = 0
    while proc.poll() is None:  # no clock: the store says when 8 rows are in
        with store.session() as session:
            stored = session.scalar(select(func.count(Score.id))) or 0
        if stored >= 8:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGSTOP)  # frozen where it stands, then killed
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with store.session() as session:
        per_arch = Counter(session.scalars(select(Score.architecture_id)))
    # the kill landed mid-run (the store says so, not a clock): a committed prefix of
    # whole architectures, both scorers each
    assert 0 < len(per_arch) < LIMIT
    assert set(per_arch.values()) == {2}
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=HANG_GUARD_SECONDS)
    assert done.returncode == 0, done.stderr
    with store.session() as session:
        per_run_arch = Counter(session.execute(select(Score.run_id, Score.architecture_id)).all())
    assert len(per_run_arch) == 2 * LIMIT and set(per_run_arch.values()) == {1}
    store.close()


def test_all_15625_architectures_with_data_free_scorers(sqlite_store_url: str) -> None:
    store = open_store(sqlite_store_url)
    summary = populate(store, PopulateConfig(scorers=DATA_FREE), show_progress=False)
    assert summary.scored == 15625
    assert summary.as_dict()["runs"]["relu_count"]["ok"] == 15625
    with store.session() as session:
        values = set(
            session.scalars(
                select(Score.value).where(Score.run_id == summary.run_ids["relu_count"])
            )
        )
    assert len(values) == 7
    store.close()
