"""Revision 0005 indexes orders by depot, day and status, so a day's open orders are found
without reading its planned ones; no row changes, and it downgrades (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from orchestrator.planning.tentative import _orders_statement
from tests.orchestrator.test_migrations import DAY, _fill_0001, _migrate, _snapshot, empty_engine

__all__ = ["empty_engine"]  # the fixture, re-used from the 0001/0002 tests


def _indexes(engine: Engine) -> dict[str, list[str]]:
    return {
        i["name"]: [str(c) for c in i["column_names"]]
        for i in sa.inspect(engine).get_indexes("orders")
        if i["name"]
    }


def test_0005_indexes_open_orders_and_downgrades(empty_engine: Engine) -> None:
    _migrate(empty_engine, "0001")
    _fill_0001(empty_engine)
    _migrate(empty_engine, "0004")
    old = sa.MetaData()
    old.reflect(empty_engine)
    tables = [t for t in old.sorted_tables if t.name != "alembic_version"]
    before = _snapshot(empty_engine, tables)

    _migrate(empty_engine, "0005")

    assert _snapshot(empty_engine, tables) == before
    indexes = _indexes(empty_engine)
    assert indexes["ix_orders_depot_day_status"] == ["depot_id", "service_day", "status"]
    assert "ix_orders_depot_day" not in indexes
    if empty_engine.dialect.name == "sqlite":
        # The options' read of open orders seeks on all three columns.
        statement = _orders_statement().params(depot=1, days=[DAY], now=datetime.now(UTC))
        compiled = statement.compile(
            dialect=empty_engine.dialect, compile_kwargs={"render_postcompile": True}
        )
        # The plan does not depend on the values: any of the right count will do.
        values = tuple("1" for _ in compiled.positiontup or ())
        with empty_engine.connect() as conn:
            plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", values).all()
        assert any("ix_orders_depot_day_status" in str(row) for row in plan), plan

    _migrate(empty_engine, "0004", down=True)

    indexes = _indexes(empty_engine)
    assert indexes["ix_orders_depot_day"] == ["depot_id", "service_day"]
    assert "ix_orders_depot_day_status" not in indexes
    assert _snapshot(empty_engine, tables) == before
