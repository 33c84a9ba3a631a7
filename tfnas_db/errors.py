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
