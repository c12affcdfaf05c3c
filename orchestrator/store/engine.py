"""The store: engine creation, sessions and the schema's migrations.

SQLite (the default, a file under ``./var``) runs in WAL mode with foreign keys enforced, so
readers do not block the planner's writes and a route stop can never point at a missing
order. Any other SQLAlchemy URL works too; PostgreSQL is tested.

The schema is owned by Alembic (:mod:`orchestrator.migrations`): :func:`ensure_schema`
creates an empty database or upgrades an old one to the head revision, so a user's data
survives upgrades of lastmile. It configures Alembic programmatically, so it works from an
installed package without an ``alembic.ini``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from sqlmodel import Session

from orchestrator.settings import Settings

__all__ = [
    "BUSY_TIMEOUT_S",
    "MIGRATIONS_DIR",
    "alembic_config",
    "begin_write",
    "create_engine",
    "ensure_schema",
    "is_busy",
    "make_engine",
    "session_scope",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
"""The Alembic script directory shipped inside the package."""

BUSY_TIMEOUT_S = 5
"""Seconds a SQLite write waits for another writer (``busy_timeout``) before it fails with
"database is locked", which :func:`is_busy` recognises (the API answers 503 with
``Retry-After``). Writers hold the lock briefly — a CSV import commits in short
transactions — so a wait this long means the store is overloaded, not merely busy."""

_BUSY_SQLSTATES = frozenset({"55P03", "57014", "40001", "40P01"})
"""PostgreSQL: lock not available, statement cancelled (a timeout), serialisation failure,
deadlock — each worth trying again."""
_schema_lock = threading.Lock()


def create_engine(url: str | None = None, *, echo: bool = False) -> Engine:
    """An engine for the store.

    Parameters
    ----------
    url
        SQLAlchemy URL; ``None`` reads :class:`~orchestrator.settings.Settings`
        (``LASTMILE_DATABASE_URL``, default ``./var/lastmile.db``). For a SQLite file the
        folder is created when missing. A bare ``postgresql://`` URL uses psycopg 3.
    echo
        Log every SQL statement (debugging).

    Returns
    -------
    sqlalchemy.engine.Engine
        Not yet connected; call :func:`ensure_schema` before the first session.
    """
    parsed = sa.make_url(url or Settings().database_url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() != "sqlite":
        # A server may drop idle connections; a SQLite file cannot, and a ping per checkout
        # is a query per request.
        kwargs["pool_pre_ping"] = True
    else:
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        # Sessions may be used from the API's worker threads; SQLite serialises writes.
        kwargs["connect_args"] = {"check_same_thread": False}
    engine = sa.create_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


make_engine = create_engine
"""Alias of :func:`create_engine`, for callers that import SQLAlchemy's name too."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
        cursor.execute("PRAGMA journal_mode=WAL")
    finally:
        cursor.close()


def begin_write(session: Session) -> None:
    """Take the store's write lock now, for a check-then-write that must not interleave with
    another (the last unit of a day's capacity): on SQLite ``BEGIN IMMEDIATE``, waiting up
    to :data:`BUSY_TIMEOUT_S` for another writer, so that everything read afterwards is the
    latest and nobody writes before this transaction ends. A transaction that has written
    already holds the lock. Other databases lock rows instead (``SELECT ... FOR UPDATE``):
    a no-op there.

    Raises
    ------
    sqlalchemy.exc.OperationalError
        "database is locked" after the wait (:func:`is_busy` says so).
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    if not connection.connection.driver_connection.in_transaction:  # type: ignore[union-attr]  # a pysqlite connection here
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def is_busy(exc: BaseException) -> bool:
    """Whether ``exc`` means the store was too busy to answer in time, so the same request may
    succeed a moment later: SQLite's "database is locked", a PostgreSQL lock or statement
    timeout, serialisation failure or deadlock, or no free connection in the pool."""
    if isinstance(exc, sa.exc.TimeoutError):
        return True
    if not isinstance(exc, sa.exc.OperationalError):
        return False
    if getattr(exc.orig, "sqlstate", None) in _BUSY_SQLSTATES:
        return True
    text = str(exc.orig).lower()
    return "database is locked" in text or "database table is locked" in text


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An Alembic configuration pointing at the packaged migrations.

    Parameters
    ----------
    connection
        Connection the migrations run on (handed to ``env.py``); ``None`` makes
        ``env.py`` connect to ``LASTMILE_DATABASE_URL``.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def ensure_schema(engine: Engine) -> str | None:
    """Create the schema of an empty database, or migrate an old one to the head revision.

    Cheap when the database is already at head (one query), so callers may call it on
    every start-up.

    Returns
    -------
    str or None
        The revision the database is at afterwards.
    """
    config = alembic_config()
    head = ScriptDirectory.from_config(config).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current == head:
        return current
    with _schema_lock, engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")
    return head


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that rolls back on error and is closed afterwards.

    Services commit their own work; this only guarantees that nothing half-done survives an
    exception and that the connection goes back to the pool.
    """
    session = Session(engine)
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
