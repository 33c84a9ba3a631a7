"""The scoring engine: one network per (architecture, dataset), every scorer on it.

The engine asks each requested scorer what it needs, builds the minibatch only if some
scorer uses data, and runs the shared forward with input gradients only if some scorer
needs them; per-scorer failures and non-finite values become outcomes, never crashes.
"""

from __future__ import annotations

import math
import traceback
from dataclasses import dataclass

from tfnas_db.scoring.context import ScoringContext
from tfnas_db.scoring.datasets import DatasetSpec
from tfnas_db.scoring.minibatch import Minibatch
from tfnas_db.scoring.registry import Need, ScorerSpec
from tfnas_db.scoring.spaces import SearchSpaceInfo
from tfnas_db.scoring.status import ScoreStatus


@dataclass(frozen=True)
class ScoreOutcome:
    value: float | None
    seconds: float
    status: ScoreStatus
    error: str | None = None


def needs_of(specs: list[ScorerSpec]) -> Need:
    needs = Need.DATA_FREE
    for spec in specs:
        needs |= spec.needs
    return needs


def pick_device(device: str | None) -> str:
    """``cuda`` when available unless told otherwise (checked: see scoring/device.py)."""
    from tfnas_db.scoring.device import resolve_device

    return resolve_device(device)


@dataclass
class ScoringEngine:
    space: SearchSpaceInfo
    dataset: DatasetSpec
    batch_size: int
    seed: int
    device: str
    minibatch: Minibatch | None

    def score(self, arch_str: str, specs: list[ScorerSpec]) -> dict[str, ScoreOutcome]:
        ctx = ScoringContext(
            space=self.space,
            arch_str=arch_str,
            dataset=self.dataset,
            batch_size=self.batch_size,
            seed=self.seed,
            device=self.device,
            minibatch=self.minibatch,
            input_grad=bool(needs_of(specs) & Need.INPUT_GRAD),
        )
        outcomes: dict[str, ScoreOutcome] = {}
        for spec in specs:
            try:
                value, seconds = ctx.run_scorer(spec.fn)
            except Exception as exc:  # a failing architecture must not stop the run
                detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
                outcomes[spec.name] = ScoreOutcome(None, 0.0, ScoreStatus.ERROR, detail)
                continue
            if value is None or not math.isfinite(value):
                outcomes[spec.name] = ScoreOutcome(
                    None, seconds, ScoreStatus.NAN, f"non-finite value {value!r}"
                )
            else:
                outcomes[spec.name] = ScoreOutcome(float(value), seconds, ScoreStatus.OK)
        return outcomes


@dataclass
class SourcedEngine:
    """One engine per data source, each scorer scored on its own source's minibatch.

    A populate whose scorers have different default sources (``tfnas-db scorers``, column
    ``data``) builds one minibatch per source; every executor (sequential, Ray actors)
    scores through this, so which minibatch a scorer sees never depends on the executor.
    """

    engines: dict[str, ScoringEngine]
    source_of: dict[str, str]  # scorer name -> key of ``engines``

    def score(self, arch_str: str, specs: list[ScorerSpec]) -> dict[str, ScoreOutcome]:
        outcomes: dict[str, ScoreOutcome] = {}
        for source, engine in self.engines.items():
            mine = [spec for spec in specs if self.source_of[spec.name] == source]
            if mine:
                outcomes.update(engine.score(arch_str, mine))
        return outcomes
