"""Shared fixtures: stores on SQLite and on the real PostgreSQL server.

PostgreSQL tests use ``$TFNAS_TEST_PG_URL`` (default: the local server's ``test``
database) and create a throw-away database per test session. Without a server they skip
with a message, unless ``TFNAS_REQUIRE_PG=1`` (set by .ci/run), which makes them fail.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tfnas_db.db.bootstrap import ensure_seeded
from tfnas_db.db.store import Store, make_engine, resolve_url, upgrade_schema

# Stores made by tests hold only what each test puts there: the bundled score release is
# loaded only by the tests of the release itself (they point this at data/release).
os.environ["TFNAS_RELEASE_DIR"] = str(Path(__file__).resolve().parent / "fixtures" / "no-release")

PG_URL = os.environ.get("TFNAS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("TFNAS_REQUIRE_PG") == "1"


def _pg_unavailable(reason: str) -> None:
    message = f"PostgreSQL tests need a server at {PG_URL} ({reason})"
    if REQUIRE_PG:
        pytest.fail(message + "; TFNAS_REQUIRE_PG=1 makes them mandatory", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """URL of a fresh database on the PostgreSQL server, dropped after the session."""
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # no server, no driver, refused...
        admin.dispose()
        _pg_unavailable(str(exc).splitlines()[0])
    name = f"tfnas_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def seeded_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated and seeded SQLite file, made once and copied by tests that need one."""
    path = tmp_path_factory.mktemp("template") / "seeded.db"
    engine = make_engine(resolve_url(str(path)))
    upgrade_schema(engine)
    ensure_seeded(Store(engine), "nats-tss")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def seeded_pg_url(pg_server_url: str) -> str:
    engine = make_engine(resolve_url(pg_server_url))
    upgrade_schema(engine)
    ensure_seeded(Store(engine), "nats-tss")
    engine.dispose()
    return pg_server_url


@pytest.fixture(params=["sqlite", "postgresql"])
def seeded_url(request: pytest.FixtureRequest, tmp_path: Path, seeded_sqlite_template: Path) -> str:
    """A seeded store on each backend. SQLite: a private copy; PostgreSQL: shared."""
    if request.param == "sqlite":
        path = tmp_path / "store.db"
        shutil.copy(seeded_sqlite_template, path)
        return f"sqlite:///{path}"
    return request.getfixturevalue("seeded_pg_url")


@pytest.fixture()
def sqlite_store_url(tmp_path: Path, seeded_sqlite_template: Path) -> str:
    path = tmp_path / "store.db"
    shutil.copy(seeded_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture()
def pg_empty_url(pg_server_url: str) -> Iterator[str]:
    """A brand-new, empty PostgreSQL database for schema tests."""
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"tfnas_empty_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
