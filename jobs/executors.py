"""The sequential executor and what every executor shares: scoring one item, recording.

The Ray executor (``ray_executor.py``) scores the same :class:`WorkItem` s with the same
:func:`score_item` in its actors and hands the results to the same :class:`Recorder`,
so a score is written by one code path whichever executor computed it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tfnas_db.db.models import ScoreStatus
from tfnas_db.db.scores import insert_scores
from tfnas_db.db.store import Store
from tfnas_db.jobs.failures import FailureGate
from tfnas_db.jobs.work import Chunk, ScoredArch, WorkItem, WorkSource
from tfnas_db.scoring.engine import ScoreOutcome, ScoringEngine, SourcedEngine
from tfnas_db.scoring.registry import ScorerSpec

COMMIT_EVERY_SECONDS = 1.0
POLL_SECONDS = 0.5  # how often an idle worker asks whether a chunk became free


def score_item(
    engine: ScoringEngine | SourcedEngine,
    specs: dict[str, ScorerSpec],
    item: WorkItem,
    *,
    host: str | None,
    device: str,
) -> ScoredArch:
    outcomes = engine.score(item.arch_str, [specs[name] for name in item.scorers])
    return ScoredArch(item.architecture_id, outcomes, host, device)


@dataclass
class Recorder:
    """Turns scored architectures into score rows, writes them, counts what was written.

    Every outcome goes through issue 10's :class:`FailureGate` in the order the
    architectures were scored: rows of a run whose first attempts have all failed alike
    are held back (and dropped if the failure proves systematic, which raises).
    """

    work: WorkSource
    runs: dict[str, int]
    runs_on_network: dict[str, bool]
    gate: FailureGate = field(default_factory=FailureGate)
    scored: int = 0
    statuses: dict[str, Counter[str]] = field(default_factory=dict)
    scorer_seconds: dict[str, float] = field(default_factory=dict)
    retried: Counter[str] = field(default_factory=Counter)
    still_failing: Counter[str] = field(default_factory=Counter)
    _ready: list[dict[str, Any]] = field(default_factory=list)
    _accepted: int = 0  # architectures accepted since the last write

    def _row(self, arch: ScoredArch, name: str, outcome: ScoreOutcome) -> dict[str, Any]:
        return {
            "run_id": self.runs[name],
            "architecture_id": arch.architecture_id,
            "value": outcome.value,
            "seconds": outcome.seconds,
            "status": outcome.status,
            "error": outcome.error,
            "host": arch.host,
            "device": arch.device if self.runs_on_network[name] else "none",
        }

    def accept(self, chunk: Chunk, item: WorkItem, arch: ScoredArch) -> None:
        """Take one scored architecture; raises SystematicFailure (after writing what
        other runs scored, without completing the chunk) when a run fails alike."""
        for name, outcome in arch.outcomes.items():
            failed = outcome.status == ScoreStatus.ERROR
            row = self._row(arch, name, outcome)
            self._ready.extend(self.gate.admit(name, row, failed, outcome.error))
            self.statuses.setdefault(name, Counter())[outcome.status.value] += 1
            self.scorer_seconds[name] = self.scorer_seconds.get(name, 0.0) + outcome.seconds
            if name in item.retries:
                self.retried[name] += 1
                self.still_failing[name] += int(failed)
        self._accepted += 1
        if self.gate.detector.failure() is not None:
            self.write(chunk, final=False)  # what other runs scored is valid
            self.gate.raise_if_systematic()

    def write(self, chunk: Chunk, *, final: bool) -> bool:
        """Store the accepted rows (with the chunk's completion if final); False: the
        chunk was taken over by another worker, whose scores count instead."""
        rows, self._ready = self._ready, []
        accepted, self._accepted = self._accepted, 0
        if not self.work.write(chunk, rows, final=final):
            return False
        self.scored += accepted
        return True

    def finish(self, store: Store) -> None:
        """Runs that attempted fewer than the threshold keep their (isolated) errors."""
        rows = self.gate.release()
        if rows:
            with store.session() as session:
                insert_scores(session, rows)

    def held_architectures(self) -> int:
        return len({row["architecture_id"] for row in self.gate.held_rows()})


def run_sequential(
    work: WorkSource,
    engine: ScoringEngine | SourcedEngine,
    specs: dict[str, ScorerSpec],
    recorder: Recorder,
    *,
    host: str | None,
    device: str,
    advance: Callable[[int], None],
    before_chunk: Callable[[], None],
) -> None:
    """Score chunk after chunk in this process until no work is left for anyone."""
    while True:
        chunk = work.try_claim()
        if chunk is None:
            if work.all_done():
                return
            time.sleep(POLL_SECONDS)  # chunks held by live workers: one may die
            continue
        before_chunk()
        last_write = time.perf_counter()
        lost = False
        for item in chunk.items:
            recorder.accept(chunk, item, score_item(engine, specs, item, host=host, device=device))
            advance(1)
            if time.perf_counter() - last_write >= COMMIT_EVERY_SECONDS:
                if not recorder.write(chunk, final=False):
                    lost = True
                    break
                last_write = time.perf_counter()
        if not lost:
            recorder.write(chunk, final=True)
