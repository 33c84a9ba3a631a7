"""The architecture's other spelling is generic: ``naslib_key`` becomes ``alt_key``.

NATS-Bench TSS stored NASLib's tuple there; NAS-Bench-101 stores its adjacency matrix
and op list (up to 77 characters), so the column is renamed and widened to 255.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _sqlite_move(old: str, new: str, length: int) -> None:
    """Add, copy, drop (SQLite >= 3.35): batch mode would copy the table instead, and
    dropping the old table cascades to every score that references it."""
    op.execute(f"ALTER TABLE architecture ADD COLUMN {new} VARCHAR({length})")
    op.execute(f"UPDATE architecture SET {new} = {old}")
    op.execute(f"ALTER TABLE architecture DROP COLUMN {old}")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_move("naslib_key", "alt_key", 255)
        return
    op.alter_column(
        "architecture",
        "naslib_key",
        new_column_name="alt_key",
        existing_type=sa.String(64),
        type_=sa.String(255),
        existing_nullable=True,
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_move("alt_key", "naslib_key", 64)
        return
    op.alter_column(
        "architecture",
        "alt_key",
        new_column_name="naslib_key",
        existing_type=sa.String(255),
        type_=sa.String(64),
        existing_nullable=True,
    )
