"""The store: engines, pragmas, settings, and migrations that match the models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from orchestrator.models import Customer
from orchestrator.settings import Settings
from orchestrator.store.engine import create_engine, ensure_schema


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_empty_sqlite_file_is_migrated_to_head(sqlite_file: str) -> None:
    engine = create_engine(sqlite_file)
    revision = ensure_schema(engine)
    assert revision is not None
    assert ensure_schema(engine) == revision  # second call: nothing to do
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert context.get_current_revision() == revision
        assert compare_metadata(context, SQLModel.metadata) == []
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_default_url_is_a_sqlite_file_under_var(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LASTMILE_DATABASE_URL", raising=False)
    url = sa.make_url(Settings().database_url)
    assert url.get_backend_name() == "sqlite"
    assert Path(url.database or "") == tmp_path / "var" / "lastmile.db"
    engine = create_engine()
    ensure_schema(engine)
    assert (tmp_path / "var" / "lastmile.db").exists()
    engine.dispose()


def test_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, sqlite_file: str) -> None:
    monkeypatch.setenv("LASTMILE_DATABASE_URL", sqlite_file)
    assert Settings().database_url == sqlite_file


def test_timestamps_come_back_aware_in_utc(session: Session) -> None:
    helsinki = timezone(timedelta(hours=2))
    session.add(Customer(name="Aino", created_at=datetime(2025, 3, 1, 9, 0, tzinfo=helsinki)))
    session.commit()
    session.expire_all()
    stored = session.exec(select(Customer)).one()
    assert stored.created_at == datetime(2025, 3, 1, 7, 0, tzinfo=UTC)
    assert stored.created_at.utcoffset() == timedelta(0)


def test_naive_timestamps_are_refused(session: Session) -> None:
    session.add(Customer(name="Aino", created_at=datetime(2025, 3, 1, 9, 0)))
    with pytest.raises(sa.exc.StatementError, match="no UTC offset"):
        session.commit()


def test_foreign_keys_are_enforced(session: Session) -> None:
    from orchestrator.models import Place

    session.add(Place(customer_id=999, name="home", lat=60.0, lon=24.0))
    with pytest.raises(sa.exc.IntegrityError):
        session.commit()
