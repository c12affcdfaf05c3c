"""What every test process needs before collection: its own PostgreSQL database.

``make test`` runs the suite in two worker processes (pytest-xdist, one per core, whole files
to a worker so a module's fixtures are made once). The PostgreSQL variants of the store's
tests drop and create tables in the database ``LASTMILE_TEST_POSTGRES_URL`` names, so two
workers sharing it would trip over each other: each worker gets its own database, the named
one with the worker's id appended (``lastmile_test_gw0``), created on first use (the CI role
may create databases) and left for the next run. Without xdist nothing changes.
"""

from __future__ import annotations

import os

import pytest

POSTGRES_ENV = "LASTMILE_TEST_POSTGRES_URL"


def pytest_configure(config: pytest.Config) -> None:
    """Point this worker at a database of its own (a no-op without xdist or PostgreSQL)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = os.environ.get(POSTGRES_ENV)
    if not worker or not url:
        return
    import sqlalchemy as sa

    base = sa.make_url(url)
    mine = base.set(database=f"{base.database}_{worker}")
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            exists = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": mine.database},
            ).scalar()
            if not exists:
                connection.execute(sa.text(f'CREATE DATABASE "{mine.database}"'))
    finally:
        engine.dispose()
    os.environ[POSTGRES_ENV] = mine.render_as_string(hide_password=False)
