"""Telling a systematic failure (every architecture fails the same way) from isolated ones.

An out-of-memory batch size, a broken device or missing data fails *every* architecture,
and storing one ``error`` row per architecture turns a mistake the user can fix in
seconds into a "finished" run of 15 625 errors. Isolated failures (one odd architecture)
are still worth storing and the run should go on. The rule: if the first
:data:`SYSTEMATIC_THRESHOLD` architectures a run attempts in one invocation all fail with
the same error signature (exception class plus message with numbers and addresses
masked), the failure is systematic and the run stops without writing them. Any success
(``ok`` or ``nan``) or a differing error before that clears the run for good.

The detector is fed outcomes by whatever loop scores architectures (populate's loop, or
another executor's), one (run, outcome) at a time, so that loop decides what to hold back.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Any

from tfnas_db.errors import TfnasError

SYSTEMATIC_THRESHOLD = 3

_MASKS = (
    (re.compile(r"0x[0-9a-fA-F]+"), "0x_"),  # object addresses
    (re.compile(r"\d+(\.\d+)?"), "#"),  # sizes, shapes, indices, timings
    (re.compile(r"\s+"), " "),
)


def error_signature(error: str | None) -> str:
    """The class and message pattern of an error, equal across architectures that fail
    for the same reason (``Tried to allocate 2.00 GiB`` and ``3.50 GiB`` match)."""
    text = (error or "").strip()
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text[:300]


class Verdict(enum.Enum):
    WATCHING = "watching"  # only identical errors so far, fewer than the threshold
    CLEARED = "cleared"  # a success or a different error: failures are isolated
    SYSTEMATIC = "systematic"  # the threshold reached with identical errors


@dataclass
class _Window:
    attempts: int = 0
    signature: str | None = None
    first_error: str | None = None
    verdict: Verdict = Verdict.WATCHING


class SystematicFailure(TfnasError):
    """Raised (by the scoring loop) when a run's first attempts all failed the same way."""

    def __init__(self, run: str, attempts: int, error: str) -> None:
        self.run = run
        self.attempts = attempts
        self.error = error
        shown = " ".join(error.split())
        shown = shown if len(shown) <= 240 else shown[:237] + "..."
        super().__init__(
            f"stopped: the first {attempts} architectures scored with {run} all failed with "
            f"the same error ({shown}), which points at the setup, not the architectures; "
            "nothing was stored for them: fix the cause (--device, --batch-size, --data-dir, "
            "memory) and run the same command again"
        )


@dataclass
class SystematicFailureDetector:
    """Per-run windows over the first attempts; see the module doc for the rule."""

    threshold: int = SYSTEMATIC_THRESHOLD
    _windows: dict[str, _Window] = field(default_factory=dict)

    def observe(self, run: str, failed: bool, error: str | None = None) -> Verdict:
        """Record one architecture's outcome for ``run`` and return the run's verdict."""
        window = self._windows.setdefault(run, _Window())
        if window.verdict is not Verdict.WATCHING:
            return window.verdict
        if not failed:
            window.verdict = Verdict.CLEARED
            return window.verdict
        signature = error_signature(error)
        if window.signature is None:
            window.signature, window.first_error = signature, error
        elif signature != window.signature:
            window.verdict = Verdict.CLEARED
            return window.verdict
        window.attempts += 1
        if window.attempts >= self.threshold:
            window.verdict = Verdict.SYSTEMATIC
        return window.verdict

    def verdict(self, run: str) -> Verdict:
        window = self._windows.get(run)
        return window.verdict if window is not None else Verdict.WATCHING

    def watching(self, run: str) -> bool:
        return self.verdict(run) is Verdict.WATCHING

    def failure(self) -> SystematicFailure | None:
        """The first run judged systematic, as the exception to raise (None if none)."""
        for run, window in self._windows.items():
            if window.verdict is Verdict.SYSTEMATIC:
                return SystematicFailure(run, window.attempts, window.first_error or "no message")
        return None


@dataclass
class FailureGate:
    """The detector plus the rows it holds back: a run's rows are held while its first
    attempts are all identical failures, released once it is cleared, and dropped if it
    turns out systematic, so a systematic failure writes no row. Any scoring loop (local,
    sharded, distributed) passes each row through :meth:`admit` and writes what comes out.
    """

    detector: SystematicFailureDetector = field(default_factory=SystematicFailureDetector)
    _held: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def admit(
        self, run: str, row: dict[str, Any], failed: bool, error: str | None = None
    ) -> list[dict[str, Any]]:
        """Feed one outcome's row; returns the rows that may be written now."""
        verdict = self.detector.observe(run, failed, error)
        if verdict is Verdict.WATCHING:
            self._held.setdefault(run, []).append(row)
            return []
        if verdict is Verdict.CLEARED:
            return [*self._held.pop(run, []), row]
        self._held.pop(run, None)  # systematic: its error rows are never written
        return []

    def raise_if_systematic(self) -> None:
        failure = self.detector.failure()
        if failure is not None:
            raise failure

    def release(self) -> list[dict[str, Any]]:
        """At the end: runs that attempted fewer than the threshold keep their errors."""
        rows = [row for held in self._held.values() for row in held]
        self._held.clear()
        return rows

    def held_rows(self) -> list[dict[str, Any]]:
        return [row for held in self._held.values() for row in held]
