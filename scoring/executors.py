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

from tfnas_db.scoring.engine import ScoringEngine
from tfnas_db.scoring.registry import ScorerSpec
from tfnas_db.scoring.work import Chunk, ScoredArch, WorkItem, WorkSource

COMMIT_EVERY_SECONDS = 1.0
POLL_SECONDS = 0.5  # how often an idle worker asks whether a chunk became free


def score_item(
    engine: ScoringEngine,
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
    """Turns scored architectures into score rows, writes them, counts what was written."""

    work: WorkSource
    runs: dict[str, int]
    runs_on_network: dict[str, bool]
    scored: int = 0
    statuses: dict[str, Counter[str]] = field(default_factory=dict)
    scorer_seconds: dict[str, float] = field(default_factory=dict)

    def rows(self, scored: list[ScoredArch]) -> list[dict[str, Any]]:
        return [
            {
                "run_id": self.runs[name],
                "architecture_id": arch.architecture_id,
                "value": outcome.value,
                "seconds": outcome.seconds,
                "status": outcome.status,
                "error": outcome.error,
                "host": arch.host,
                "device": arch.device if self.runs_on_network[name] else "none",
            }
            for arch in scored
            for name, outcome in arch.outcomes.items()
        ]

    def write(self, chunk: Chunk, scored: list[ScoredArch], *, final: bool) -> bool:
        """Store them (with the chunk's completion if final); False: chunk taken over."""
        if not self.work.write(chunk, self.rows(scored), final=final):
            return False
        for arch in scored:
            for name, outcome in arch.outcomes.items():
                self.statuses.setdefault(name, Counter())[outcome.status.value] += 1
                self.scorer_seconds[name] = self.scorer_seconds.get(name, 0.0) + outcome.seconds
        self.scored += len(scored)
        return True


def run_sequential(
    work: WorkSource,
    engine: ScoringEngine,
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
        buffer: list[ScoredArch] = []
        last_write = time.perf_counter()
        lost = False
        for item in chunk.items:
            buffer.append(score_item(engine, specs, item, host=host, device=device))
            advance(1)
            if time.perf_counter() - last_write >= COMMIT_EVERY_SECONDS:
                if not recorder.write(chunk, buffer, final=False):
                    lost = True
                    break
                buffer = []
                last_write = time.perf_counter()
        if not lost:
            recorder.write(chunk, buffer, final=True)
