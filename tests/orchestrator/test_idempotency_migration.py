"""Revision 0007 scopes idempotency keys to the order's customer: a 0006 store upgrades with
every row intact (SQLite rebuilds the table without cascading deletes), two customers may then
use one key, and downgrading restores the store-wide key (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from orchestrator.errors import Conflict
from orchestrator.intake.catalog import create_customer
from orchestrator.intake.orders import register_order
from tests.orchestrator.test_migrations import DAY, _fill_0001, _migrate, _snapshot, empty_engine

__all__ = ["empty_engine"]  # the fixture, re-used from the 0001/0002 tests

PER_CUSTOMER = "uq_orders_customer_idempotency_key"
GLOBAL = "uq_orders_idempotency_key"


def _uniques(engine: Engine) -> dict[str, list[str]]:
    return {
        str(c["name"]): [str(x) for x in c["column_names"]]
        for c in sa.inspect(engine).get_unique_constraints("orders")
    }


def _order(ids: dict[str, int], customer: int, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "customer_id": customer,
        "depot_id": ids["depot"],
        "service_day": DAY.isoformat(),
        "items": [{"description": "shoes", "weight_g": 1200, "volume_ml": 9000}],
    }
    return {**data, **changes}


def test_0007_scopes_keys_to_the_customer_and_downgrades(empty_engine: Engine) -> None:
    _migrate(empty_engine, "0001")
    ids = _fill_0001(empty_engine)
    _migrate(empty_engine, "0006")
    old = sa.MetaData()
    old.reflect(empty_engine)
    tables = [t for t in old.sorted_tables if t.name != "alembic_version"]
    before = _snapshot(empty_engine, tables)
    assert _uniques(empty_engine)[GLOBAL] == ["idempotency_key"]

    _migrate(empty_engine, "0007")

    # Every row kept: the SQLite rebuild of orders deleted none of its lines, stops, events.
    assert _snapshot(empty_engine, tables) == before
    assert sum(len(rows) for rows in before.values()) >= 12
    uniques = _uniques(empty_engine)
    assert uniques[PER_CUSTOMER] == ["customer_id", "idempotency_key"] and GLOBAL not in uniques
    with empty_engine.connect() as conn:
        if empty_engine.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        items = sa.Table("order_items", sa.MetaData(), autoload_with=conn)
        with pytest.raises(sa.exc.IntegrityError):  # references are still enforced
            conn.execute(items.insert().values(order_id=999_999, description="x", quantity=1,
                                               weight_g=1, volume_ml=1, parcels=1))  # fmt: skip

    _migrate(empty_engine, "head")  # the tables as the models know them today (0010: retailers)
    with Session(empty_engine) as session:
        # The 0001 order's key, sent again for its customer, still finds it.
        with pytest.raises(Conflict):
            register_order(session, _order(ids, ids["customer"]), "k1")
        bertil = create_customer(session, {"name": "Bertil Lindqvist"}).id
        theirs = register_order(session, _order(ids, bertil or 0), "k1")
        assert theirs.id != ids["order"] and theirs.idempotency_key == "k1"
        again = register_order(session, _order(ids, bertil or 0), "k1")
        assert again.id == theirs.id
    _migrate(empty_engine, "0007", down=True)

    # Two customers share "k1" now: the store-wide key cannot come back, and nothing changes.
    with pytest.raises(sa.exc.IntegrityError):
        _migrate(empty_engine, "0006", down=True)
    assert PER_CUSTOMER in _uniques(empty_engine)
    with empty_engine.begin() as conn:
        for table in ("order_events", "order_items"):
            conn.execute(sa.text(f"DELETE FROM {table} WHERE order_id = :o"), {"o": theirs.id})
        conn.execute(sa.text("DELETE FROM orders WHERE id = :o"), {"o": theirs.id})
        conn.execute(sa.text("DELETE FROM customers WHERE id = :c"), {"c": bertil})
    _migrate(empty_engine, "0006", down=True)
    uniques = _uniques(empty_engine)
    assert uniques[GLOBAL] == ["idempotency_key"] and PER_CUSTOMER not in uniques
    assert _snapshot(empty_engine, tables) == before
