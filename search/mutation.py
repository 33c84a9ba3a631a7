"""One-edge mutations over the candidates a search may visit.

Architectures are fixed-length vectors of categorical choices (nats-tss: six edges, five
ops each). ``MutationTable`` maps each vector to its row in the loaded arrays, so a
mutation is pure integer arithmetic, vectorised over runs, and a child without a stored
score (or outside the size limits) is simply not a candidate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MutationTable:
    choices: np.ndarray  # (M, L) int: the choice on each of L positions, per candidate row
    n_options: int  # options per position
    row_of_code: np.ndarray  # (n_options ** L,) candidate row of each code, -1 if absent

    @classmethod
    def build(
        cls, choices: np.ndarray, n_options: int, eligible: np.ndarray | None = None
    ) -> MutationTable:
        choices = np.asarray(choices, dtype=np.int64)
        weights = n_options ** np.arange(choices.shape[1], dtype=np.int64)
        codes = choices @ weights
        table = np.full(n_options ** choices.shape[1], -1, dtype=np.int64)
        rows = np.arange(len(choices)) if eligible is None else np.flatnonzero(eligible)
        table[codes[rows]] = rows
        return cls(choices, n_options, table)

    @property
    def weights(self) -> np.ndarray:
        return self.n_options ** np.arange(self.choices.shape[1], dtype=np.int64)

    def mutate(self, rows: np.ndarray, rng: np.random.Generator, tries: int = 64) -> np.ndarray:
        """For each row, a candidate that differs in exactly one position (uniformly drawn
        position and new option, redrawn until it is a candidate); if none is found in
        ``tries`` draws the row itself is returned."""
        rows = np.asarray(rows, dtype=np.int64)
        out = rows.copy()
        pending = np.ones(len(rows), dtype=bool)
        length = self.choices.shape[1]
        weights = self.weights
        for _ in range(tries):
            idx = np.flatnonzero(pending)
            if len(idx) == 0:
                break
            current = self.choices[rows[idx]]
            position = rng.integers(0, length, size=len(idx))
            shift = rng.integers(1, self.n_options, size=len(idx))
            old = current[np.arange(len(idx)), position]
            new = (old + shift) % self.n_options
            codes = current @ weights + (new - old) * weights[position]
            child = self.row_of_code[codes]
            found = child >= 0
            out[idx[found]] = child[found]
            pending[idx[found]] = False
        return out
