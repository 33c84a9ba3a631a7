"""Where a score run and each score came from.

``score_run.origin`` says how a run's scores entered the store: ``computed`` by populate,
``bundled`` (loaded from the release shipped in the package) or ``imported`` (read from
another tool's file); ``score_run.provenance`` holds what that origin adds (a release
manifest, an imported file's name and format). ``score.host`` / ``score.device`` record
which worker produced each row, so a run filled by several machines, or a CPU retry of a
GPU failure, stays visible.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("score_run") as batch:
        batch.add_column(
            sa.Column("origin", sa.String(16), nullable=False, server_default="computed")
        )
        batch.add_column(sa.Column("provenance", sa.JSON(), nullable=True))
    with op.batch_alter_table("score") as batch:
        batch.add_column(sa.Column("host", sa.String(255), nullable=True))
        batch.add_column(sa.Column("device", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("score") as batch:
        batch.drop_column("device")
        batch.drop_column("host")
    with op.batch_alter_table("score_run") as batch:
        batch.drop_column("provenance")
        batch.drop_column("origin")
