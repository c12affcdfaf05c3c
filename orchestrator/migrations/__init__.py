"""Alembic migrations of the store; run them with :func:`orchestrator.store.ensure_schema`."""
