"""Bulk inserts for seeding and the bundled release: COPY on PostgreSQL.

The ORM's executemany sends 10^5 parameter sets as batched INSERTs; on PostgreSQL that is
a minute for the seed where COPY takes seconds. SQLite's driver-level executemany is fast
already. Both run inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tfnas_db.errors import TfnasError


def bulk_insert(
    session: Session, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Insert tuples (in ``columns`` order) into ``table``; returns the row count."""
    connection = session.connection()
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        n = 0
        with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                n += 1
        return n
    batch = [tuple(row) for row in rows]
    marks = ", ".join("?" for _ in columns)
    connection.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", batch)
    return len(batch)


def bulk_insert_dicts(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
    """:func:`bulk_insert` for rows given as dicts (all with the keys of the first)."""
    if not rows:
        return 0
    columns = list(rows[0])
    return bulk_insert(session, table, columns, ([row[c] for c in columns] for row in rows))


def conflict_insert(session: Session, table: Any) -> Any:
    """The backend's INSERT that takes ``ON CONFLICT`` clauses (PostgreSQL and SQLite
    spell it the same, from different dialect modules)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise TfnasError(f"unsupported database backend {dialect!r}")  # pragma: no cover
