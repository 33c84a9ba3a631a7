"""Opening a store: URL resolution, engines, and the schema-version gate.

Every command except ``db upgrade`` opens the store through :func:`open_store`, which
refuses an un-migrated or out-of-date schema with a message naming the command to run
(as optuna's RDB storage does).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from tfnas_db.errors import TfnasError

if TYPE_CHECKING:
    from alembic.config import Config

ENV_VAR = "TFNAS_DB_URL"
DEFAULT_FILE = "tfnas.db"
# The newest migration in alembic/versions. Query commands compare the store against it
# without importing alembic (a fifth of a query's start-up); a test keeps it equal to
# alembic's head.
SCHEMA_HEAD = "0005"
# The backends tfnas-db ships drivers and migrations for.
SUPPORTED_BACKENDS = ("sqlite", "postgresql")
# How long a SQLite command waits for another writer's lock before saying it is locked.
SQLITE_BUSY_SECONDS = 30.0


def resolve_url(db: str | None = None) -> URL:
    """``--db`` or ``$TFNAS_DB_URL`` or ``./tfnas.db``; a bare path means a SQLite file.

    ``postgresql://`` is read as ``postgresql+psycopg://`` (the driver tfnas-db installs).
    """
    text = db or os.environ.get(ENV_VAR) or DEFAULT_FILE
    if "://" not in text:
        return URL.create("sqlite", database=str(Path(text).expanduser().resolve()))
    try:
        url = make_url(text)
    except (ArgumentError, ValueError) as exc:
        raise TfnasError(f"cannot parse database URL {text!r}: {exc}") from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def show_url(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def check_backend(url: URL) -> None:
    """Refuse a URL of a database tfnas-db cannot store into (MySQL, Oracle, a typo) by
    its scheme, before SQLAlchemy looks for a driver that is not installed."""
    backend = url.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise TfnasError(
            f"unsupported database URL {show_url(url)!r}: tfnas-db stores live in SQLite "
            "(sqlite:///FILE or a file path) or PostgreSQL (postgresql://USER@HOST:PORT/DB), "
            f"not {backend}"
        )


def locked_message(url: URL) -> str:
    return (
        f"the SQLite store {url.database} is locked by another writer (a populate, or a "
        f"tool holding a transaction open) and stayed locked for {SQLITE_BUSY_SECONDS:g} s: "
        "wait for it to finish or stop it, then run the command again"
    )


def operational_message(exc: OperationalError, url: URL | None = None) -> str:
    """One line for a database error: a locked SQLite file says so and what to do."""
    first = _first_line(exc)
    if "database is locked" in first or "database table is locked" in first:
        if url is not None:
            return locked_message(url)
        return (
            "the SQLite store is locked by another writer (a populate, or a tool holding a "
            "transaction open): wait for it to finish or stop it, then run the command again"
        )
    where = f" {show_url(url)}" if url is not None else ""
    return f"cannot connect to the store{where}: {first}"


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_SECONDS * 1000)}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: URL) -> Engine:
    check_backend(url)
    try:
        if url.get_backend_name() == "sqlite":
            database = url.database
            if database and database != ":memory:":
                if Path(database).is_dir():
                    raise TfnasError(
                        f"--db {database} is a folder: give the store's file, e.g. "
                        f"{Path(database) / DEFAULT_FILE}"
                    )
                parent = Path(database).parent
                if not parent.is_dir():
                    raise TfnasError(
                        f"cannot open SQLite store {database}: folder {parent} does not exist"
                    )
            engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS})
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return create_engine(url, pool_pre_ping=True)
    except NoSuchModuleError:
        raise TfnasError(
            f"unsupported database URL {show_url(url)!r}: use sqlite:///FILE or "
            "postgresql://USER@HOST:PORT/DB"
        ) from None
    except ModuleNotFoundError as exc:
        raise TfnasError(
            f"cannot use database URL {show_url(url)!r}: its driver {exc.name} is not "
            "installed; plain postgresql:// uses psycopg, which tfnas-db installs"
        ) from None
    except ArgumentError as exc:
        raise TfnasError(f"cannot use database URL {show_url(url)!r}: {exc}") from None


def migrations_folder() -> str:
    """The alembic scripts: ``tfnas_db/alembic`` beside ``tfnas_db/db`` once installed.

    The repository's top-level ``alembic/`` has no ``__init__.py`` (it would shadow the
    alembic library whenever the repository root is on ``sys.path``), so it is found by
    location rather than imported: in a wheel it sits beside this package, in an
    editable install it is the repository folder beside ``db/``.
    """
    folder = Path(__file__).resolve().parent.parent / "alembic"
    if not (folder / "env.py").is_file():
        raise RuntimeError(f"tfnas-db is installed without its migrations ({folder})")
    return str(folder)


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", migrations_folder())
    config.set_main_option(
        "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
    )
    return config


def head_revision(engine: Engine) -> str:
    """The newest migration, as alembic reads it from the scripts."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert head is not None
    return head


def _first_line(exc: BaseException) -> str:
    text_ = str(getattr(exc, "orig", None) or exc).strip()
    return text_.splitlines()[0] if text_ else type(exc).__name__


def current_revision(engine: Engine) -> str | None:
    """The store's revision, read from alembic's version table (None: no schema)."""
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except OperationalError as exc:
        raise TfnasError(operational_message(exc, engine.url)) from None
    except DatabaseError as exc:
        if "file is not a database" in _first_line(exc):
            raise TfnasError(
                f"{engine.url.database} is not a SQLite database (nor a tfnas-db store): give "
                "--db a store's file, or a new path and run tfnas-db db upgrade on it"
            ) from None
        raise


@dataclass(frozen=True)
class SchemaState:
    """Where a store's schema stands against this tfnas-db, with the one line to show.

    ``problem`` is None when the store is usable as is; otherwise it is the message every
    command gives (``db status``, ``db upgrade`` where it cannot help, and the queries).
    """

    where: str
    current: str | None
    head: str
    problem: str | None
    upgradable: bool  # db upgrade can fix the problem (empty, or behind)

    @property
    def usable(self) -> bool:
        return self.problem is None


def schema_state(engine: Engine) -> SchemaState:
    """Compare the store's revision with this tfnas-db's migrations (see SchemaState)."""
    current = current_revision(engine)
    where = show_url(engine.url)
    if current == SCHEMA_HEAD:
        return SchemaState(where, current, SCHEMA_HEAD, None, False)
    from alembic.script import ScriptDirectory

    head = head_revision(engine)
    fix = f"run: tfnas-db db upgrade --db '{where}'"
    if current is None:
        tables = inspect(engine).get_table_names()
        what = "is empty" if not tables else "has no tfnas-db schema"
        return SchemaState(where, None, head, f"the store {where} {what}; {fix}", True)
    script = ScriptDirectory.from_config(alembic_config(engine))
    known = {rev.revision for rev in script.walk_revisions()}
    if current not in known:
        return SchemaState(
            where,
            current,
            head,
            f"the store {where} is at schema revision {current}, which this tfnas-db "
            f"(newest revision {head}) does not know: a newer tfnas-db made it (upgrade "
            "tfnas-db) or its alembic_version table was changed by hand",
            False,
        )
    return SchemaState(
        where,
        current,
        head,
        f"the store {where} is at schema revision {current} but this tfnas-db needs {head}; {fix}",
        True,
    )


def upgrade_schema(
    engine: Engine, revision: str = "head", *, force: bool = False
) -> tuple[str | None, str]:
    """Apply migrations up to ``revision``; returns (revision before, revision after).

    A database that holds tables but no tfnas-db schema is another application's: it is
    refused unless ``force`` (adding our tables beside its own, unasked, is a surprise).

    A store at a revision this tfnas-db does not know is refused with the same line the
    other commands give (alembic would say "Can't locate revision").
    """
    from alembic import command

    state = schema_state(engine)
    if state.problem is not None and not state.upgradable:
        raise TfnasError(state.problem)
    if state.current is None and not force:
        foreign = inspect(engine).get_table_names()
        if foreign:
            shown = ", ".join(sorted(foreign)[:5]) + (", ..." if len(foreign) > 5 else "")
            raise TfnasError(
                f"{state.where} holds another application's tables ({shown}), not a tfnas-db "
                "store: give a new file, or --force to add tfnas-db's tables beside them"
            )
    before = state.current
    config = alembic_config(engine)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    return before, current_revision(engine) or ""


def check_schema(engine: Engine) -> None:
    """Raise a one-line, actionable error unless the store is at the head revision."""
    state = schema_state(engine)
    if state.problem is not None:
        raise TfnasError(state.problem)


def check_store_file(url: URL) -> None:
    """A SQLite store named by a path that does not exist is a one-line error (and no
    empty file is created by connecting to it)."""
    file = url.database if url.get_backend_name() == "sqlite" else None
    if file not in (None, "", ":memory:") and not Path(str(file)).exists():
        raise TfnasError(
            f"no store at {file}; create one: tfnas-db db upgrade --db {file} && "
            f"tfnas-db populate --db {file}"
        )


@dataclass
class Store:
    """An open, schema-checked store: an engine plus a session factory."""

    engine: Engine
    # What opening the store did on the user's behalf (created it, loaded the release...).
    notes: list[str] = field(default_factory=list)

    @cached_property
    def _sessions(self) -> sessionmaker[Session]:
        return sessionmaker(self.engine, expire_on_commit=False)

    @property
    def url(self) -> str:
        return show_url(self.engine.url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on any error."""
        with self._sessions() as session, session.begin():
            yield session

    def refresh_statistics(self) -> None:
        """Let PostgreSQL's planner see the bulk loads of seed and populate.

        With stale statistics (autovacuum off, or not yet run) it estimates a handful of
        rows per table and plans the wide query as nested loops: seconds instead of a
        fraction of one. SQLite plans these queries well without statistics.
        """
        if self.dialect == "postgresql":
            with self.engine.begin() as conn:
                conn.execute(text("ANALYZE"))

    def close(self) -> None:
        self.engine.dispose()


def open_store(db: str | None = None, *, check: bool = True, bootstrap: bool = True) -> Store:
    """The store at ``db``; with ``check``, an out-of-date schema is a one-line error
    naming the command to run.

    The default store (no ``--db``, no ``$TFNAS_DB_URL``) is created, migrated and loaded
    with the bundled data on first use, so a new user's first query just works; a store
    named explicitly must exist (``db upgrade`` stays the deliberate first step, and no
    empty file is left behind by a typo). With ``bootstrap``, a migrated store that holds
    no architecture yet is seeded with the bundled benchmark table and scores.
    """
    url = resolve_url(db)
    check_backend(url)
    file = url.database if url.get_backend_name() == "sqlite" else None
    is_default = db is None and not os.environ.get(ENV_VAR)
    create = False
    if check:
        if is_default and bootstrap and file and not Path(str(file)).exists():
            create = True
        else:
            check_store_file(url)
    engine = make_engine(url)
    store = Store(engine)
    if create:
        upgrade_schema(engine)
        store.notes.append(f"created the default store {file}")
    if check:
        check_schema(engine)
        if bootstrap:
            from tfnas_db.db.bootstrap import bootstrap_store, is_empty

            if is_empty(store):
                store.notes.extend(bootstrap_store(store))
    return store
