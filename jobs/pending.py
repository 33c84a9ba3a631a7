"""Which (run, architecture) pairs a populate still has to score.

Shared by every executor (the local loop here, a sharded or distributed one elsewhere):
a pair is pending when it has no stored row, or when its stored row is an ``error`` and
errors are being retried (the default). A stored ``nan`` is a result (the score is not
finite for that architecture, however often it is recomputed) and is never retried.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tfnas_db.scoring.registry import ScorerSpec


@dataclass(frozen=True)
class StoredState:
    """What a run already holds: architectures with a final row, and with an error row."""

    final: frozenset[int]  # status ok or nan
    errors: frozenset[int]  # status error


@dataclass(frozen=True)
class PendingArch:
    """One architecture to score, with the scorers still to run on it."""

    arch_id: int
    arch_index: int
    arch_str: str
    specs: tuple[ScorerSpec, ...]
    retries: frozenset[str]  # names of the scorers whose stored error row this replaces


def pending_archs(
    targets: Sequence[tuple[int, int, str]],
    specs: Sequence[ScorerSpec],
    stored: Mapping[str, StoredState],
    *,
    retry_errors: bool = True,
) -> list[PendingArch]:
    """The targets (id, index, arch_str) with at least one scorer still to run, in order."""
    pending = []
    for arch_id, index, arch in targets:
        todo: list[ScorerSpec] = []
        retries: set[str] = set()
        for spec in specs:
            state = stored[spec.name]
            if arch_id in state.final:
                continue
            if arch_id in state.errors:
                if not retry_errors:
                    continue
                retries.add(spec.name)
            todo.append(spec)
        if todo:
            pending.append(PendingArch(arch_id, index, arch, tuple(todo), frozenset(retries)))
    return pending


def kept_errors(
    targets: Sequence[tuple[int, int, str]], stored: Mapping[str, StoredState]
) -> dict[str, int]:
    """Per scorer, the stored error rows among the targets (what --no-retry-errors keeps)."""
    ids = {arch_id for arch_id, _, _ in targets}
    return {name: len(state.errors & ids) for name, state in stored.items()}
