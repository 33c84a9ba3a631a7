"""The exception every layer raises for bad input or environment.

The CLI turns it into one line on stderr and exit code 2, so messages must be complete
sentences that say what was wrong and, where possible, what to run instead.
"""

from __future__ import annotations

from collections.abc import Sequence


class TfnasError(Exception):
    """A user-facing error: bad input, a missing data folder, an out-of-date store..."""


class ScoresNeeded(TfnasError):
    """A strategy needs a score the store lacks for a few of the candidates it visited.

    ET-NAS computes its costliest measure (loss_slope) only for the architectures on its
    Pareto fronts, so a store may hold it for those alone. A strategy raises this with
    ``rows`` (positions in its candidate arrays); the caller that knows the architectures
    raises it again with their ``arch_index``, and can score exactly those and run the
    same search again.
    """

    def __init__(self, scorer: str, rows: list[int], arch_index: list[int] | None = None) -> None:
        self.scorer = scorer
        self.rows = rows
        self.arch_index = arch_index
        super().__init__(
            f"the search needs {scorer} for {len(rows)} architectures it visited that the "
            f"store lacks; rerun with --score-missing to score those {len(rows)} now"
        )

    def located(self, arch_index: Sequence[int]) -> ScoresNeeded:
        """The same need, with the architectures its rows stand for (``arch_index[row]``)."""
        return ScoresNeeded(self.scorer, self.rows, [int(arch_index[row]) for row in self.rows])


MAX_SEED = 2**31 - 1  # seeds are stored in an INTEGER column (32-bit on PostgreSQL)


def check_seed(seed: int, option: str = "--seed") -> int:
    """A seed every layer accepts: numpy, torch and the store's 32-bit column."""
    if not 0 <= seed <= MAX_SEED:
        raise TfnasError(f"{option} must be between 0 and {MAX_SEED}, got {seed}")
    return seed


def check_finite(value: float, option: str) -> float:
    """Float options are numbers: nan and inf are refused (a comparison with nan is
    always false, so a range check alone lets it through)."""
    if value != value or value in (float("inf"), float("-inf")):
        raise TfnasError(f"{option} must be a finite number, got {value}")
    return value
