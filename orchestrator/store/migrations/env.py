"""Alembic environment: runs the migrations on the connection the store hands over.

:func:`orchestrator.store.engine.ensure_schema` passes a connection in
``config.attributes["connection"]``; without one (plain ``alembic`` on the command line with
``-x`` nothing), the engine comes from ``LASTMILE_DATABASE_URL``. SQLite uses batch mode,
because it cannot alter most things in place.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context
from sqlmodel import SQLModel

import orchestrator.models  # noqa: F401  (registers the tables on the metadata)
from orchestrator.store.engine import create_engine

target_metadata = SQLModel.metadata


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate on the given connection, or on a fresh engine from the settings."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine()
    with engine.begin() as conn:
        _run(conn)


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run them on a database")
run_migrations_online()
