"""One-move mutations over the candidates a search may visit.

A space maps each architecture to an int64 code and each code to the codes one move
away (``SearchSpaceInfo.neighbour_codes``: another op on an edge, a width one step up,
an edge flipped in a DAG then pruned and made canonical...). ``MutationTable`` keeps the
candidates' codes sorted, so a neighbour's row is one ``searchsorted``, vectorised over
runs, whatever the size of the space (no table of every possible code); a child
without a stored score (or outside the size limits) is simply not a candidate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

NeighbourCodes = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class MutationTable:
    codes: np.ndarray  # (M,) int64 code of each candidate row
    neighbour_codes: NeighbourCodes  # (R,) codes -> (R, K) codes one move away, -1: none
    sorted_codes: np.ndarray  # codes of the eligible rows, ascending
    sorted_rows: np.ndarray  # the row of each entry of sorted_codes

    @classmethod
    def build(
        cls,
        codes: np.ndarray,
        neighbour_codes: NeighbourCodes,
        eligible: np.ndarray | None = None,
    ) -> MutationTable:
        codes = np.asarray(codes, dtype=np.int64)
        rows = np.arange(len(codes)) if eligible is None else np.flatnonzero(eligible)
        order = np.argsort(codes[rows], kind="stable")
        return cls(codes, neighbour_codes, codes[rows][order], rows[order])

    def rows_of_codes(self, codes: np.ndarray) -> np.ndarray:
        """Candidate row of each code (any shape), -1 where no eligible candidate has it."""
        codes = np.asarray(codes, dtype=np.int64)
        if len(self.sorted_codes) == 0:
            return np.full(codes.shape, -1, dtype=np.int64)
        at = np.searchsorted(self.sorted_codes, codes)
        at = np.minimum(at, len(self.sorted_codes) - 1)
        found = (self.sorted_codes[at] == codes) & (codes >= 0)
        return np.where(found, self.sorted_rows[at], -1)

    def neighbours(self, rows: np.ndarray) -> np.ndarray:
        """(R, K) candidate rows one move away, -1 where absent."""
        rows = np.asarray(rows, dtype=np.int64)
        return self.rows_of_codes(self.neighbour_codes(self.codes[rows]))

    def mutate(self, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """For each row, a uniformly drawn candidate one move away (a random move among
        those that land on a candidate); a row with no candidate neighbour is returned
        unchanged."""
        rows = np.asarray(rows, dtype=np.int64)
        neighbours = self.neighbours(rows)
        valid = neighbours >= 0
        keys = np.where(valid, rng.random(neighbours.shape), -1.0)
        choice = np.argmax(keys, axis=1)
        picked = neighbours[np.arange(len(rows)), choice]
        return np.where(valid.any(axis=1), picked, rows)
