"""SQLAlchemy 2 typed models of the store (SPEC 5).

Every schema change goes through an alembic migration in ``alembic/versions``; these
models are what the migrations must produce (a test compares them).

Non-finite scores are NULL plus ``status`` (never a sentinel number), and floats are
``Float(precision=53)`` so PostgreSQL stores doubles as SQLite does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from tfnas_db.scoring.status import ScoreStatus

Double = Float(precision=53)


class Base(DeclarativeBase):
    pass


class SearchSpace(Base):
    __tablename__ = "search_space"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    n_archs: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")


class Dataset(Base):
    __tablename__ = "dataset"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    n_classes: Mapped[int] = mapped_column(Integer)
    image_size: Mapped[int] = mapped_column(Integer)


class Architecture(Base):
    """One architecture of a space; identity columns need no network to compute."""

    __tablename__ = "architecture"
    __table_args__ = (
        UniqueConstraint("space_id", "arch_str", name="uq_architecture_space_arch"),
        UniqueConstraint("space_id", "arch_index", name="uq_architecture_space_index"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("search_space.id", ondelete="CASCADE"))
    arch_index: Mapped[int] = mapped_column(Integer)
    arch_str: Mapped[str] = mapped_column(String(255))
    alt_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    iso_key: Mapped[str | None] = mapped_column(Text, nullable=True)
    iso_class: Mapped[int | None] = mapped_column(Integer, nullable=True)

    space: Mapped[SearchSpace] = relationship()


class ArchCost(Base):
    """Size of an architecture's network on one dataset (the classifier and input differ)."""

    __tablename__ = "arch_cost"
    __table_args__ = (UniqueConstraint("architecture_id", "dataset_id", name="uq_arch_cost"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    architecture_id: Mapped[int] = mapped_column(ForeignKey("architecture.id", ondelete="CASCADE"))
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    params_m: Mapped[float] = mapped_column(Double)
    flops_m: Mapped[float] = mapped_column(Double)
    relu_units: Mapped[int] = mapped_column(Integer)


class BenchmarkResult(Base):
    """A benchmark figure for an architecture: accuracy, training time, recorded size...

    ``metric`` is one of ``val``, ``test``, ``valtest`` (accuracies in percent),
    ``train_seconds`` or ``recorded_params_m``; ``epochs`` is the training schedule (12 or
    200) the figure belongs to; ``source`` says which benchmark split it was read from.
    """

    __tablename__ = "benchmark_result"
    __table_args__ = (
        UniqueConstraint(
            "architecture_id", "dataset_id", "metric", "epochs", name="uq_benchmark_result"
        ),
        Index("ix_benchmark_result_lookup", "dataset_id", "metric", "epochs"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    architecture_id: Mapped[int] = mapped_column(ForeignKey("architecture.id", ondelete="CASCADE"))
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(32))
    epochs: Mapped[int] = mapped_column(Integer)
    value: Mapped[float] = mapped_column(Double)
    n_seeds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source: Mapped[str] = mapped_column(String(255))


class ScoreRun(Base):
    """Provenance of a set of scores: which scorer, data, batch, seed, code and device.

    The configuration columns are unique together so that re-running ``populate`` with
    the same options resumes the same run instead of starting a second one.
    """

    __tablename__ = "score_run"
    __table_args__ = (
        UniqueConstraint(
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

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("search_space.id", ondelete="CASCADE"))
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    scorer: Mapped[str] = mapped_column(String(64))
    scorer_version: Mapped[int] = mapped_column(Integer)
    data_source: Mapped[str] = mapped_column(String(32))
    data_dir: Mapped[str | None] = mapped_column(Text, nullable=True)
    batch_size: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer)
    device: Mapped[str] = mapped_column(String(64))
    torch_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    package_version: Mapped[str] = mapped_column(String(64))
    host: Mapped[str | None] = mapped_column(String(255), nullable=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # computed (by populate) | bundled (the package's release) | imported (another tool's file)
    origin: Mapped[str] = mapped_column(String(16), default="computed", server_default="computed")
    # What the origin adds: a release manifest, an imported file's name and format...
    provenance: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    space: Mapped[SearchSpace] = relationship()
    dataset: Mapped[Dataset] = relationship()


class Score(Base):
    __tablename__ = "score"
    __table_args__ = (
        UniqueConstraint("run_id", "architecture_id", name="uq_score_run_arch"),
        Index("ix_score_run_status", "run_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("score_run.id", ondelete="CASCADE"))
    architecture_id: Mapped[int] = mapped_column(ForeignKey("architecture.id", ondelete="CASCADE"))
    value: Mapped[float | None] = mapped_column(Double, nullable=True)
    seconds: Mapped[float] = mapped_column(Double)
    status: Mapped[ScoreStatus] = mapped_column(
        Enum(
            ScoreStatus,
            name="score_status",
            values_callable=lambda e: [m.value for m in e],
            native_enum=False,
            length=16,
        )
    )
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Which worker produced this row (a run may be filled by several hosts and devices).
    host: Mapped[str | None] = mapped_column(String(255), nullable=True)
    device: Mapped[str | None] = mapped_column(String(64), nullable=True)


class WorkClaim(Base):
    """One chunk of a populate job's architectures, claimed by one worker at a time.

    ``job_key`` hashes the job's score runs and target architectures, so workers started
    with the same options share the same chunks. ``state`` is ``pending``, ``claimed``
    (by ``token``, until ``lease_expires_at``) or ``done``.
    """

    __tablename__ = "work_claim"
    __table_args__ = (
        UniqueConstraint("job_key", "chunk_index", name="uq_work_claim_chunk"),
        Index("ix_work_claim_job_state", "job_key", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_key: Mapped[str] = mapped_column(String(64))
    chunk_index: Mapped[int] = mapped_column(Integer)
    architecture_ids: Mapped[list[int]] = mapped_column(JSON)
    run_ids: Mapped[list[int]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    token: Mapped[str | None] = mapped_column(String(64), nullable=True)
    owner_host: Mapped[str | None] = mapped_column(String(255), nullable=True)
    owner_pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    lease_expires_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class SearchRun(Base):
    """A saved search (``search --save``): what was asked, what it found, which runs it read."""

    __tablename__ = "search_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    strategy: Mapped[str] = mapped_column(String(32))
    space: Mapped[str] = mapped_column(String(64))
    dataset: Mapped[str] = mapped_column(String(64))
    scorers: Mapped[str] = mapped_column(String(255))
    accuracy_column: Mapped[str] = mapped_column(String(64))
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    picks: Mapped[list[int]] = mapped_column(JSON)
