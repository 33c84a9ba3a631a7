"""Failures that heal: systematic failures stop a run, stored errors are retried, nan is kept.

Failures are injected into the size computation the data-free ``params`` scorer reads, so
these tests build no network and run in seconds on both backends.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import select

from tfnas_db.cli.app import main
from tfnas_db.db.models import Architecture, Score, ScoreRun, ScoreStatus
from tfnas_db.db.store import open_store
from tfnas_db.jobs import from_costs
from tfnas_db.jobs.failures import (
    FailureGate,
    SystematicFailure,
    SystematicFailureDetector,
    Verdict,
    error_signature,
)
from tfnas_db.jobs.pending import StoredState, pending_archs
from tfnas_db.jobs.populate import PopulateConfig, populate
from tfnas_db.scoring.context import ScoringContext
from tfnas_db.scoring.registry import REGISTRY
from tfnas_db.scoring.spaces.nats_tss import arch_of_index

NAN = "nan"


class Injector:
    """Makes the cost of chosen architecture indices raise (or be NaN), like a broken env."""

    def __init__(self) -> None:
        self.faults: dict[str, str] = {}  # arch_str -> error message, or NAN
        self.seen: list[str] = []

    def fail(self, indices: list[int], message: str = "simulated failure") -> None:
        for i in indices:
            self.faults[arch_of_index(i)] = message.replace("{i}", str(i))

    def nan(self, indices: list[int]) -> None:
        for i in indices:
            self.faults[arch_of_index(i)] = NAN

    def heal(self) -> None:
        self.faults.clear()


@pytest.fixture()
def injector(monkeypatch: pytest.MonkeyPatch) -> Iterator[Injector]:
    """Faults in the per-architecture path; populate's one-pass path for size scorers
    (jobs/from_costs.py) reads stored sizes and has no per-architecture failure, so the
    tests here turn it off to exercise failure handling with cheap scorers."""
    inject = Injector()
    monkeypatch.setattr(from_costs, "applies", lambda specs, executor: False)
    real_cost = ScoringContext.cost

    def cost(self):  # type: ignore[no-untyped-def]
        inject.seen.append(self.arch_str)
        fault = inject.faults.get(self.arch_str)
        if fault == NAN:
            return types.SimpleNamespace(params_m=float("nan"))
        if fault is not None:
            raise RuntimeError(fault)
        return real_cost.fget(self)  # type: ignore[attr-defined]

    monkeypatch.setattr(ScoringContext, "cost", property(cost))
    yield inject


def _rows(url: str, run_id: int) -> dict[int, tuple[ScoreStatus, str | None, str | None]]:
    """arch index -> (status, error, host) of a run's stored rows."""
    store = open_store(url)
    with store.session() as session:
        rows = session.execute(
            select(Architecture.arch_index, Score.status, Score.error, Score.host)
            .join(Score, Score.architecture_id == Architecture.id)
            .where(Score.run_id == run_id)
        ).all()
    store.close()
    return {index: (status, error, host) for index, status, error, host in rows}


def _cli(args: list[str]) -> int:
    """Run the CLI in this process (so the injected failure applies); its exit code."""
    try:
        main([*args, "--quiet"])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


# ---- the detector and the pending rule, on their own ---------------------------------------


def test_error_signature_masks_sizes_and_addresses() -> None:
    a = "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.1 GiB total)"
    b = "RuntimeError: CUDA out of memory. Tried to allocate 12.50 GiB (GPU 0; 79.1 GiB total)"
    assert error_signature(a) == error_signature(b)
    assert error_signature("KeyError: <obj at 0x7f3a>") == error_signature("KeyError: <obj at 0x1>")
    assert error_signature("ValueError: bad shape") != error_signature("TypeError: bad shape")


def test_detector_trips_only_on_three_identical_first_failures() -> None:
    detector = SystematicFailureDetector()
    for size in (1, 2):
        verdict = detector.observe("naswot", True, f"RuntimeError: out of memory ({size} GiB)")
        assert verdict is Verdict.WATCHING
    assert detector.failure() is None
    assert detector.observe("naswot", True, "RuntimeError: out of memory (3 GiB)") is (
        Verdict.SYSTEMATIC
    )
    failure = detector.failure()
    assert isinstance(failure, SystematicFailure) and failure.attempts == 3
    assert "naswot" in str(failure) and "out of memory (1 GiB)" in str(failure)
    assert len(str(failure).splitlines()) == 1

    # A success or a different error before the third attempt clears the run for good.
    mixed = SystematicFailureDetector()
    mixed.observe("synflow", True, "RuntimeError: a")
    assert mixed.observe("synflow", False) is Verdict.CLEARED
    assert mixed.observe("synflow", True, "RuntimeError: a") is Verdict.CLEARED
    different = SystematicFailureDetector()
    different.observe("synflow", True, "RuntimeError: a")
    assert different.observe("synflow", True, "ValueError: b") is Verdict.CLEARED
    assert different.failure() is None
    # Runs are judged separately.
    assert different.verdict("naswot") is Verdict.WATCHING


def test_the_gate_holds_rows_until_a_run_is_judged() -> None:
    gate = FailureGate()
    assert gate.admit("a", {"arch": 0}, True, "E: x") == []
    assert gate.admit("b", {"arch": 0}, False) == [{"arch": 0}]
    assert gate.admit("a", {"arch": 1}, False) == [{"arch": 0}, {"arch": 1}]  # released
    assert gate.admit("a", {"arch": 2}, True, "E: x") == [{"arch": 2}]  # cleared for good
    for arch in range(3):
        assert gate.admit("c", {"arch": arch}, True, f"E: oom {arch} GiB") == []
    assert gate.held_rows() == [] and gate.release() == []  # c's rows were dropped
    with pytest.raises(SystematicFailure, match="scored with c all failed"):
        gate.raise_if_systematic()
    short = FailureGate()
    short.admit("d", {"arch": 0}, True, "E: x")
    assert short.release() == [{"arch": 0}]  # too few attempts to judge: kept


def test_pending_counts_errors_unless_told_not_to_and_never_nan() -> None:
    params, flops = REGISTRY.get("params"), REGISTRY.get("flops")
    targets = [(10, 0, "a"), (11, 1, "b"), (12, 2, "c")]
    stored = {
        "params": StoredState(final=frozenset({10, 11}), errors=frozenset({12})),
        "flops": StoredState(final=frozenset({10}), errors=frozenset({11})),
    }
    pending = pending_archs(targets, [params, flops], stored)
    assert [(p.arch_id, [s.name for s in p.specs], set(p.retries)) for p in pending] == [
        (11, ["flops"], {"flops"}),
        (12, ["params", "flops"], {"params"}),
    ]
    kept = pending_archs(targets, [params, flops], stored, retry_errors=False)
    assert [(p.arch_id, [s.name for s in p.specs], set(p.retries)) for p in kept] == [
        (12, ["flops"], set())
    ]


# ---- populate, end to end on both backends ------------------------------------------------


def test_a_failure_in_the_first_architectures_stops_the_run_and_stores_nothing(
    seeded_url: str, injector: Injector
) -> None:
    store = open_store(seeded_url)
    config = PopulateConfig(scorers="params,flops", limit=8, seed=201)
    injector.fail(list(range(8)), "CUDA out of memory. Tried to allocate {i}.50 GiB")
    with pytest.raises(SystematicFailure) as stopped:
        populate(store, config, show_progress=False)
    message = str(stopped.value)
    assert "first 3 architectures scored with params" in message and "out of memory" in message
    assert len(set(injector.seen)) == 3  # stopped after the third architecture
    with store.session() as session:
        stored = session.scalars(
            select(Score.status)
            .join(ScoreRun, ScoreRun.id == Score.run_id)
            .where(ScoreRun.seed == 201)
        ).all()
    assert stored == []  # no error rows for the stopped architectures, of either run
    injector.heal()
    healed = populate(store, config, show_progress=False)
    assert healed.scored == 8 and sum(healed.retried.values()) == 0
    assert {s for s, _, _ in _rows(seeded_url, healed.run_ids["params"]).values()} == {
        ScoreStatus.OK
    }
    store.close()


def test_isolated_failures_are_stored_and_the_same_command_retries_them(
    seeded_url: str, injector: Injector, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(seeded_url)
    config = PopulateConfig(scorers="params", limit=8, seed=202)
    injector.fail([1, 4, 6])
    injector.nan([5])
    monkeypatch.setattr("tfnas_db.jobs.populate.platform.node", lambda: "host-a")
    first = populate(store, config, show_progress=False)
    run = first.run_ids["params"]
    assert first.scored == 8 and first.statuses["params"] == {"ok": 4, "error": 3, "nan": 1}
    rows = _rows(seeded_url, run)
    assert sorted(i for i, (s, _, _) in rows.items() if s == ScoreStatus.ERROR) == [1, 4, 6]

    # --no-retry-errors keeps them (and scores nothing).
    injector.heal()
    injector.seen.clear()
    kept = populate(store, replace(config, retry_errors=False), show_progress=False)
    assert kept.scored == 0 and kept.already_stored == 8 and kept.kept_errors == {"params": 3}
    assert injector.seen == [] and _rows(seeded_url, run) == rows

    # The environment is half fixed: 4 still fails. nan (5) is a result, never re-scored.
    injector.fail([4], "still broken")
    monkeypatch.setattr("tfnas_db.jobs.populate.platform.node", lambda: "host-b")
    retry = populate(store, config, show_progress=False)
    assert retry.already_stored == 5 and retry.scored == 3
    assert retry.retried["params"] == 3 and retry.still_failing["params"] == 1
    assert arch_of_index(5) not in injector.seen
    rows = _rows(seeded_url, run)
    assert len(rows) == 8  # replaced, not added
    assert rows[1][0] == rows[6][0] == ScoreStatus.OK and rows[1][2] == "host-b"
    assert rows[4][:2] == (ScoreStatus.ERROR, "RuntimeError: still broken")
    assert rows[4][2] == "host-b" and rows[0][2] == "host-a"
    assert rows[5][0] == ScoreStatus.NAN

    injector.heal()
    last = populate(store, config, show_progress=False)
    assert last.retried["params"] == 1 and last.still_failing["params"] == 0
    assert {s for s, _, _ in _rows(seeded_url, run).values()} == {
        ScoreStatus.OK,
        ScoreStatus.NAN,
    }
    store.close()


def test_two_identical_failures_then_a_success_is_not_systematic(
    sqlite_store_url: str, injector: Injector
) -> None:
    store = open_store(sqlite_store_url)
    injector.fail([0, 1])
    config = PopulateConfig(scorers="params", limit=4, seed=203)
    summary = populate(store, config, show_progress=False)
    assert summary.statuses["params"] == {"error": 2, "ok": 2}
    store.close()


def test_the_cli_summary_says_retried_and_still_failing(
    sqlite_store_url: str, injector: Injector, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["populate", "--db", sqlite_store_url, "--scorers", "params", "--limit", "5"]
    injector.fail([1, 3])
    assert _cli(args) == 0
    injector.faults.pop(arch_of_index(3))
    capsys.readouterr()
    assert _cli(args) == 0
    out = capsys.readouterr().out
    assert "stored errors: retried 2, still failing 1" in out
    assert "2 architectures scored, 3 already stored" in out


def test_the_cli_stops_a_systematic_failure_with_one_line(
    sqlite_store_url: str, injector: Injector, capsys: pytest.CaptureFixture[str]
) -> None:
    injector.fail(list(range(6)), "No such file: /data/batch_{i}")
    assert _cli(["populate", "--db", sqlite_store_url, "--scorers", "params", "--limit", "6"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: stopped: the first 3 architectures")
    assert "No such file: /data/batch_0" in err[0] and "unexpected" not in err[0]
    store = open_store(sqlite_store_url)
    with store.session() as session:
        assert session.scalar(select(Score.id).limit(1)) is None
    store.close()
