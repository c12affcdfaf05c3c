"""Revision 0003 adds the concierge's tables to a 0002 store without touching its rows, and
downgrading removes them again (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine
from sqlmodel import Session

from orchestrator.models import CustomerProfile, HoldStatus, OptionHold
from orchestrator.store.engine import alembic_config
from tests.orchestrator.test_migrations import DAY, _fill_0001, _snapshot, empty_engine

__all__ = ["empty_engine"]  # the fixture, re-used from the 0001/0002 tests


def _migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    with engine.begin() as conn:
        (command.downgrade if down else command.upgrade)(alembic_config(conn), revision)


def test_0003_adds_profiles_and_holds_and_downgrades(empty_engine: Engine) -> None:
    _migrate(empty_engine, "0001")
    ids = _fill_0001(empty_engine)
    _migrate(empty_engine, "0002")
    old = sa.MetaData()
    old.reflect(empty_engine)
    tables = [t for t in old.sorted_tables if t.name != "alembic_version"]
    before = _snapshot(empty_engine, tables)

    _migrate(empty_engine, "0003")

    assert _snapshot(empty_engine, tables) == before
    now = datetime(2025, 3, 2, 12, tzinfo=UTC)
    with Session(empty_engine) as session:
        session.add(
            CustomerProfile(
                customer_id=ids["customer"],
                default_place_id=ids["place"],
                schedule=[
                    {
                        "place_id": ids["place"],
                        "weekdays": ["sat"],
                        "start": "09:00",
                        "end": "12:00",
                    }
                ],
            )
        )
        session.add(
            OptionHold(
                order_id=ids["order"],
                customer_id=ids["customer"],
                depot_id=ids["depot"],
                service_day=DAY,
                place_id=ids["place"],
                window_start=now,
                window_end=now,
                service_level="standard",
                vehicle_type="van",
                vehicle_id="van-1",
                route_id=ids["route"],
                eta_start=now,
                eta_end=now,
                price_eur=4.9,
                marginal_cost_eur=1.2,
                co2_g=300.0,
                expires_at=now + timedelta(minutes=15),
            )
        )
        session.commit()
        profile = session.get(CustomerProfile, ids["customer"])
        assert profile is not None and profile.schedule[0]["weekdays"] == ["sat"]
        hold = session.exec(sa.select(OptionHold)).scalars().one()  # type: ignore[call-overload]
        assert hold.status is HoldStatus.HELD and hold.expires_at == now + timedelta(minutes=15)

    _migrate(empty_engine, "0002", down=True)

    names = set(sa.inspect(empty_engine).get_table_names())
    assert not names & {"customer_profiles", "option_holds"}
    assert _snapshot(empty_engine, tables) == before
