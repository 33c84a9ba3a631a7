"""Work claims: how concurrent populate workers split a job without scoring anything twice.

A populate job (its score runs and its target architectures, hashed into ``job_key``) is
cut into chunks of architectures, one ``work_claim`` row each. A worker claims a pending
chunk (or one whose lease expired) with ``SELECT ... FOR UPDATE SKIP LOCKED``, renews
its lease while it scores, and writes the scores and ``state = 'done'`` in one
transaction; a worker killed with kill -9 only stops renewing, so its chunk is taken
over once ``lease_expires_at`` has passed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "work_claim",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("job_key", sa.String(64), nullable=False),
        sa.Column("chunk_index", sa.Integer(), nullable=False),
        sa.Column("architecture_ids", sa.JSON(), nullable=False),
        sa.Column("run_ids", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("token", sa.String(64), nullable=True),
        sa.Column("owner_host", sa.String(255), nullable=True),
        sa.Column("owner_pid", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("job_key", "chunk_index", name="uq_work_claim_chunk"),
    )
    op.create_index("ix_work_claim_job_state", "work_claim", ["job_key", "state"])


def downgrade() -> None:
    op.drop_index("ix_work_claim_job_state", table_name="work_claim")
    op.drop_table("work_claim")
