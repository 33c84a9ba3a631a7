"""One-position mutations over the candidates a search may visit.

Architectures are fixed-length vectors of categorical choices (nats-tss: six edges, five
ops each; nats-sss: five widths, eight each). A mutation adds one of the space's
``steps`` to one position: modulo the options when ``cyclic`` (nats-tss: any other op
on one edge), else only while it stays in range (nats-sss: one width one step up or
down). ``MutationTable`` maps each vector to its row in the loaded arrays, so a
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
    steps: tuple[int, ...] = ()  # () = every other option of a position (cyclic)
    cyclic: bool = True

    @classmethod
    def build(
        cls,
        choices: np.ndarray,
        n_options: int,
        eligible: np.ndarray | None = None,
        steps: tuple[int, ...] | None = None,
        cyclic: bool = True,
    ) -> MutationTable:
        choices = np.asarray(choices, dtype=np.int64)
        weights = n_options ** np.arange(choices.shape[1], dtype=np.int64)
        codes = choices @ weights
        table = np.full(n_options ** choices.shape[1], -1, dtype=np.int64)
        rows = np.arange(len(choices)) if eligible is None else np.flatnonzero(eligible)
        table[codes[rows]] = rows
        moves = tuple(range(1, n_options)) if steps is None else tuple(steps)
        return cls(choices, n_options, table, moves, cyclic)

    @property
    def weights(self) -> np.ndarray:
        return self.n_options ** np.arange(self.choices.shape[1], dtype=np.int64)

    def neighbours(self, rows: np.ndarray) -> np.ndarray:
        """(R, L * len(steps)) candidate rows one move away, -1 where absent."""
        rows = np.asarray(rows, dtype=np.int64)
        current = self.choices[rows]  # (R, L)
        length = self.choices.shape[1]
        weights = self.weights
        steps = np.asarray(self.steps or range(1, self.n_options), dtype=np.int64)
        position = np.repeat(np.arange(length), len(steps))  # (K,)
        shift = np.tile(steps, length)  # (K,)
        old = current[:, position]  # (R, K)
        moved = old + shift
        inside = (moved >= 0) & (moved < self.n_options)
        new = moved % self.n_options
        codes = (current @ weights)[:, None] + (new - old) * weights[position]
        found = self.row_of_code[codes]
        return found if self.cyclic else np.where(inside, found, -1)

    def mutate(self, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """For each row, a uniformly drawn candidate one move away (a random position given
        a random allowed step, restricted to candidates); a row with no candidate
        neighbour is returned unchanged."""
        rows = np.asarray(rows, dtype=np.int64)
        neighbours = self.neighbours(rows)
        valid = neighbours >= 0
        keys = np.where(valid, rng.random(neighbours.shape), -1.0)
        choice = np.argmax(keys, axis=1)
        picked = neighbours[np.arange(len(rows)), choice]
        return np.where(valid.any(axis=1), picked, rows)
