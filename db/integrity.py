"""Naming a damaged stored value instead of failing on it with numpy's message.

SQLite does not enforce column types: a store edited by hand or by another tool can hold
text in a float column, and the first query that converts it fails with "could not
convert string to float" and no hint of where. When a conversion fails, the numeric
columns are scanned (SQLite's ``typeof``) for the first such cell, and the error names
its table, run and architecture. PostgreSQL enforces the types, so it has nothing to find.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.orm import Session

from tfnas_db.errors import TfnasError

_NUMERIC = "('real', 'integer', 'null')"
_DAMAGED = "the store was edited or damaged"
_FIX_SCORE = f"{_DAMAGED}: delete that score row (populate scores it again)"
_FIX = f"{_DAMAGED}: restore it from a copy, or rebuild it (db upgrade, then populate)"


def find_non_numeric(session: Session) -> str | None:
    """A sentence naming the first non-numeric value in a numeric column, or None."""
    if session.get_bind().dialect.name != "sqlite":
        return None
    for column in ("value", "seconds"):
        row = session.execute(
            text(
                f"SELECT s.{column}, s.run_id, r.scorer, a.arch_index FROM score s "
                "JOIN score_run r ON r.id = s.run_id "
                "JOIN architecture a ON a.id = s.architecture_id "
                f"WHERE typeof(s.{column}) NOT IN {_NUMERIC} LIMIT 1"
            )
        ).first()
        if row is not None:
            return (
                f"non-numeric value {row[0]!r} in score.{column} of score run {row[1]} "
                f"({row[2]}), architecture {row[3]}; {_FIX_SCORE}"
            )
    for column in ("params_m", "flops_m", "relu_units"):
        row = session.execute(
            text(
                f"SELECT c.{column}, a.arch_index, d.name FROM arch_cost c "
                "JOIN architecture a ON a.id = c.architecture_id "
                "JOIN dataset d ON d.id = c.dataset_id "
                f"WHERE typeof(c.{column}) NOT IN {_NUMERIC} LIMIT 1"
            )
        ).first()
        if row is not None:
            return (
                f"non-numeric value {row[0]!r} in arch_cost.{column} of architecture "
                f"{row[1]} on {row[2]}; {_FIX}"
            )
    row = session.execute(
        text(
            "SELECT b.value, a.arch_index, d.name, b.metric, b.epochs FROM benchmark_result b "
            "JOIN architecture a ON a.id = b.architecture_id "
            "JOIN dataset d ON d.id = b.dataset_id "
            f"WHERE typeof(b.value) NOT IN {_NUMERIC} LIMIT 1"
        )
    ).first()
    if row is not None:
        return (
            f"non-numeric value {row[0]!r} in benchmark_result.value of architecture {row[1]} "
            f"on {row[2]} ({row[3]}, {row[4]} epochs); {_FIX}"
        )
    return None


@contextmanager
def naming_damaged_values(session: Session) -> Iterator[None]:
    """Turn a failed numeric conversion into a one-line error naming the damaged cell."""
    try:
        yield
    except (ValueError, TypeError):
        found = find_non_numeric(session)
        if found is None:
            raise
        raise TfnasError(found) from None
