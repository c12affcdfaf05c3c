"""Alembic migrations of the store; run them with
:func:`orchestrator.store.engine.ensure_schema`."""
