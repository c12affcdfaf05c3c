"""The store: where rows live and how they are read and written.

* :mod:`~orchestrator.store.engine` — engines (SQLite by default, PostgreSQL by URL), sessions
  and :func:`ensure_schema` (Alembic migrations in :mod:`orchestrator.store.migrations`);
* :mod:`~orchestrator.store.events` — the append-only log of what happened to each order;
* :mod:`~orchestrator.store.queries` — read-only lists and joined look-ups.

The tables themselves are in :mod:`orchestrator.models`.
"""

from orchestrator.store.engine import (
    MIGRATIONS_DIR,
    alembic_config,
    create_engine,
    ensure_schema,
    session_scope,
)

__all__ = ["MIGRATIONS_DIR", "alembic_config", "create_engine", "ensure_schema", "session_scope"]
