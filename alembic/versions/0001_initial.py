"""Initial schema: spaces, datasets, architectures, sizes, benchmark results, scores.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Double = sa.Float(precision=53)


def upgrade() -> None:
    op.create_table(
        "search_space",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("n_archs", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
    )
    op.create_table(
        "dataset",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("n_classes", sa.Integer(), nullable=False),
        sa.Column("image_size", sa.Integer(), nullable=False),
    )
    op.create_table(
        "architecture",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "space_id",
            sa.Integer(),
            sa.ForeignKey("search_space.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("arch_index", sa.Integer(), nullable=False),
        sa.Column("arch_str", sa.String(255), nullable=False),
        sa.Column("naslib_key", sa.String(64), nullable=True),
        sa.Column("iso_key", sa.Text(), nullable=True),
        sa.Column("iso_class", sa.Integer(), nullable=True),
        sa.UniqueConstraint("space_id", "arch_str", name="uq_architecture_space_arch"),
        sa.UniqueConstraint("space_id", "arch_index", name="uq_architecture_space_index"),
    )
    op.create_table(
        "arch_cost",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "architecture_id",
            sa.Integer(),
            sa.ForeignKey("architecture.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "dataset_id",
            sa.Integer(),
            sa.ForeignKey("dataset.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("params_m", Double, nullable=False),
        sa.Column("flops_m", Double, nullable=False),
        sa.Column("relu_units", sa.Integer(), nullable=False),
        sa.UniqueConstraint("architecture_id", "dataset_id", name="uq_arch_cost"),
    )
    op.create_table(
        "benchmark_result",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "architecture_id",
            sa.Integer(),
            sa.ForeignKey("architecture.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "dataset_id",
            sa.Integer(),
            sa.ForeignKey("dataset.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("metric", sa.String(32), nullable=False),
        sa.Column("epochs", sa.Integer(), nullable=False),
        sa.Column("value", Double, nullable=False),
        sa.Column("n_seeds", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(255), nullable=False),
        sa.UniqueConstraint(
            "architecture_id", "dataset_id", "metric", "epochs", name="uq_benchmark_result"
        ),
    )
    op.create_index(
        "ix_benchmark_result_lookup", "benchmark_result", ["dataset_id", "metric", "epochs"]
    )
    op.create_table(
        "score_run",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "space_id",
            sa.Integer(),
            sa.ForeignKey("search_space.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "dataset_id",
            sa.Integer(),
            sa.ForeignKey("dataset.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("scorer", sa.String(64), nullable=False),
        sa.Column("scorer_version", sa.Integer(), nullable=False),
        sa.Column("data_source", sa.String(32), nullable=False),
        sa.Column("data_dir", sa.Text(), nullable=True),
        sa.Column("batch_size", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("device", sa.String(64), nullable=False),
        sa.Column("torch_version", sa.String(64), nullable=True),
        sa.Column("package_version", sa.String(64), nullable=False),
        sa.Column("host", sa.String(255), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint(
            "space_id",
            "dataset_id",
            "scorer",
            "scorer_version",
            "data_source",
            "batch_size",
            "seed",
            name="uq_score_run_config",
        ),
    )
    op.create_table(
        "score",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "run_id",
            sa.Integer(),
            sa.ForeignKey("score_run.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "architecture_id",
            sa.Integer(),
            sa.ForeignKey("architecture.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("value", Double, nullable=True),
        sa.Column("seconds", Double, nullable=False),
        sa.Column(
            "status",
            sa.Enum("ok", "nan", "error", name="score_status", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.UniqueConstraint("run_id", "architecture_id", name="uq_score_run_arch"),
    )
    op.create_index("ix_score_run_status", "score", ["run_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_score_run_status", table_name="score")
    op.drop_table("score")
    op.drop_table("score_run")
    op.drop_index("ix_benchmark_result_lookup", table_name="benchmark_result")
    op.drop_table("benchmark_result")
    op.drop_table("arch_cost")
    op.drop_table("architecture")
    op.drop_table("dataset")
    op.drop_table("search_space")
