"""The store on SQLite and on the real PostgreSQL server: schema, gate, seed."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, func, select, text

from tfnas_db.db.bootstrap import ensure_seeded
from tfnas_db.db.models import ArchCost, Architecture, Base, BenchmarkResult
from tfnas_db.db.store import (
    SCHEMA_HEAD,
    check_schema,
    head_revision,
    make_engine,
    open_store,
    resolve_url,
    upgrade_schema,
)
from tfnas_db.errors import TfnasError


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    return request.getfixturevalue("pg_empty_url")


def test_upgrade_creates_the_schema_the_models_describe(empty_url: str) -> None:
    engine = make_engine(resolve_url(empty_url))
    with pytest.raises(TfnasError, match="tfnas-db db upgrade"):
        check_schema(engine)
    before, after = upgrade_schema(engine)
    assert before is None and after == head_revision(engine)
    check_schema(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    assert upgrade_schema(engine) == (after, after)  # idempotent
    engine.dispose()


def test_a_store_from_a_newer_tfnas_db_is_refused(empty_url: str) -> None:
    engine = make_engine(resolve_url(empty_url))
    upgrade_schema(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(TfnasError, match="does not know: a newer tfnas-db made it") as refused:
        check_schema(engine)
    with pytest.raises(TfnasError) as not_upgraded:  # not alembic's "Can't locate revision"
        upgrade_schema(engine)
    assert str(not_upgraded.value) == str(refused.value)
    engine.dispose()


def test_a_non_tfnas_database_is_refused(empty_url: str) -> None:
    engine = make_engine(resolve_url(empty_url))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE other (id INTEGER)"))
    with pytest.raises(TfnasError, match="has no tfnas-db schema; run: tfnas-db db upgrade"):
        check_schema(engine)
    engine.dispose()


def test_seed_loads_every_architecture_size_and_benchmark_column(seeded_url: str) -> None:
    store = open_store(seeded_url)
    with store.session() as session:
        assert session.scalar(select(func.count(Architecture.id))) == 15625
        assert session.scalar(select(func.count(ArchCost.id))) == 15625 * 3
        assert session.scalar(select(func.count(BenchmarkResult.id))) == 15625 * 15
        best = session.execute(
            select(Architecture.arch_index, BenchmarkResult.value)
            .join(BenchmarkResult, BenchmarkResult.architecture_id == Architecture.id)
            .where(BenchmarkResult.metric == "val", BenchmarkResult.epochs == 200)
            .order_by(BenchmarkResult.value.desc())
            .limit(1)
        ).one()
        assert best[0] == 6111 and best[1] == pytest.approx(91.6067, abs=1e-3)
        n_iso = session.scalar(select(func.count(func.distinct(Architecture.iso_class))))
        assert n_iso == 6466
    assert ensure_seeded(store, "nats-tss") is False  # already there
    store.close()


def test_urls_resolve(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TFNAS_DB_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    assert resolve_url(None).database == str(tmp_path / "tfnas.db")
    monkeypatch.setenv("TFNAS_DB_URL", "postgresql://u@h/d")
    assert resolve_url(None).drivername == "postgresql+psycopg"
    assert resolve_url("x.db").database == str(tmp_path / "x.db")
    with pytest.raises(TfnasError, match="cannot parse database URL"):
        resolve_url("postgresql://u@h:notaport/d")
    with pytest.raises(TfnasError, match="unsupported database URL"):
        make_engine(resolve_url("nosuchdb://x"))
    with pytest.raises(TfnasError, match="does not exist"):
        make_engine(resolve_url(str(tmp_path / "missing" / "x.db")))


def test_unreachable_server_is_one_clear_error() -> None:
    engine = make_engine(resolve_url("postgresql://nobody@127.0.0.1:1/nothing"))
    with pytest.raises(TfnasError, match="cannot connect to the store"):
        check_schema(engine)


# One space, dataset and architecture: what the upgrade tests' older stores hold first.
_ONE_ARCH = (
    "INSERT INTO search_space (id, name, n_archs, description) VALUES (1, 'nats-tss', 15625, 'x')",
    "INSERT INTO dataset (id, name, n_classes, image_size) VALUES (1, 'c', 10, 32)",
    "INSERT INTO architecture (id, space_id, arch_index, arch_str) VALUES (1, 1, 0, 'a')",
)


def _old_store(url: str, revision: str, *rows: str) -> Engine:
    """A store left at an earlier schema revision, holding ``_ONE_ARCH`` and ``rows``."""
    engine = make_engine(resolve_url(url))
    upgrade_schema(engine, revision)
    with engine.begin() as conn:
        for sql in (*_ONE_ARCH, *rows):
            conn.execute(text(sql))
    return engine


def test_upgrading_a_0001_store_with_data_keeps_it_and_adds_saved_searches(
    empty_url: str,
) -> None:
    engine = _old_store(empty_url, "0001")
    with pytest.raises(TfnasError, match="is at schema revision 0001 but this tfnas-db needs"):
        check_schema(engine)
    before, after = upgrade_schema(engine)
    assert (before, after) == ("0001", head_revision(engine))
    check_schema(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT arch_str FROM architecture")).scalar() == "a"
        assert conn.execute(text("SELECT count(*) FROM search_run")).scalar() == 0
    engine.dispose()


def test_seeding_refreshes_postgresql_planner_statistics(pg_empty_url: str) -> None:
    """With autovacuum off (as on the CI server) stale statistics turn the wide query into
    nested loops; seeding and populate run ANALYZE so the planner sees the real sizes."""
    upgrade_schema(make_engine(resolve_url(pg_empty_url)))
    store = open_store(pg_empty_url, bootstrap=False)
    assert ensure_seeded(store, "nats-tss")
    with store.engine.connect() as conn:
        estimate = conn.execute(
            text("SELECT reltuples FROM pg_class WHERE relname = 'benchmark_result'")
        ).scalar_one()
    assert estimate > 100_000


def test_schema_head_constant_matches_the_migration_scripts(tmp_path: Path) -> None:
    """Query commands check the schema against SCHEMA_HEAD without importing alembic."""
    engine = make_engine(resolve_url(f"sqlite:///{tmp_path / 'head.db'}"))
    assert head_revision(engine) == SCHEMA_HEAD


def test_upgrading_a_populated_0002_store_marks_its_runs_computed(empty_url: str) -> None:
    """0003 adds provenance columns; existing runs read as computed, old scores keep values."""
    engine = _old_store(
        empty_url,
        "0002",
        "INSERT INTO score_run (id, space_id, dataset_id, scorer, scorer_version, "
        "data_source, batch_size, seed, device, package_version, started_at) "
        "VALUES (1, 1, 1, 'naswot', 1, 'synthetic', 128, 0, 'cpu', '0.1.0', "
        "'2026-11-01 00:00:00')",
        "INSERT INTO score (run_id, architecture_id, value, seconds, status) "
        "VALUES (1, 1, 1.5, 0.25, 'ok')",
    )
    assert upgrade_schema(engine) == ("0002", head_revision(engine))
    check_schema(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT origin FROM score_run")).scalar() == "computed"
        row = conn.execute(text("SELECT value, host, device FROM score")).one()
    assert tuple(row) == (1.5, None, None)
    engine.dispose()


def test_upgrading_a_populated_0003_store_adds_empty_work_claims(empty_url: str) -> None:
    """0004 adds the work-claim table; stored runs and scores (with host/device) are kept."""
    engine = _old_store(
        empty_url,
        "0003",
        "INSERT INTO score_run (id, space_id, dataset_id, scorer, scorer_version, "
        "data_source, batch_size, seed, device, package_version, started_at, origin) "
        "VALUES (1, 1, 1, 'naswot', 1, 'synthetic', 128, 0, 'cpu', '0.1.0', "
        "'2026-11-01 00:00:00', 'computed')",
        "INSERT INTO score (run_id, architecture_id, value, seconds, status, host, device) "
        "VALUES (1, 1, 1.5, 0.25, 'ok', 'node7', 'cuda:1')",
    )
    assert upgrade_schema(engine) == ("0003", head_revision(engine))
    check_schema(engine)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT value, host, device FROM score")).one()
        assert conn.execute(text("SELECT count(*) FROM work_claim")).scalar() == 0
    assert tuple(row) == (1.5, "node7", "cuda:1")
    engine.dispose()
