"""Which stored run a query reads when a scorer has several (db.queries.pick_run)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tfnas_db.db.models import Architecture, Dataset, Score, ScoreRun, ScoreStatus, SearchSpace
from tfnas_db.db.queries import pick_run
from tfnas_db.db.store import open_store
from tfnas_db.scoring.registry import REGISTRY


def _add_run(session: Session, version: int, n_archs: int, seed: int) -> int:
    space = session.scalar(select(SearchSpace).where(SearchSpace.name == "nats-tss"))
    dataset = session.scalar(select(Dataset).where(Dataset.name == "cifar10"))
    run = ScoreRun(
        space_id=space.id,
        dataset_id=dataset.id,
        scorer="loss_slope",
        scorer_version=version,
        data_source="synthetic",
        batch_size=128,
        seed=seed,
        device="cpu",
        package_version="test",
        started_at=datetime.now(UTC),
    )
    session.add(run)
    session.flush()
    arch_ids = session.scalars(
        select(Architecture.id).where(Architecture.space_id == space.id).limit(n_archs)
    ).all()
    for k, arch_id in enumerate(arch_ids):
        session.add(
            Score(run_id=run.id, architecture_id=arch_id, value=float(k), seconds=0.1,
                  status=ScoreStatus.OK)
        )  # fmt: skip
    return run.id


def test_the_current_scorer_version_wins_over_a_larger_stale_run(sqlite_store_url: str) -> None:
    current = REGISTRY.get("loss_slope").version
    assert current >= 2
    store = open_store(sqlite_store_url, bootstrap=False)
    with store.session() as session:
        stale = _add_run(session, current - 1, 40, seed=0)
        fresh = _add_run(session, current, 10, seed=0)
    with store.session() as session:
        assert pick_run(session, "nats-tss", "cifar10", "loss_slope").id == fresh
        assert pick_run(session, "nats-tss", "cifar10", "loss_slope", run_id=stale).id == stale


def test_a_stale_run_is_still_read_when_it_is_the_only_one(sqlite_store_url: str) -> None:
    current = REGISTRY.get("loss_slope").version
    store = open_store(sqlite_store_url, bootstrap=False)
    with store.session() as session:
        small = _add_run(session, current - 1, 5, seed=0)
        large = _add_run(session, current - 1, 20, seed=1)
    with store.session() as session:
        picked = pick_run(session, "nats-tss", "cifar10", "loss_slope")
        assert picked.id == large and picked.id != small
        assert picked.scorer_version == current - 1
