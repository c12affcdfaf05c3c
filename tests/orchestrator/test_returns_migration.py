"""Revision 0004 adds the returns tables and ``order_items.sku`` to a 0003 store without
touching its rows, the upgraded store takes returns, and downgrading removes them again
(SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from orchestrator.models import (
    ItemReturn,
    OrderCreate,
    OrderItem,
    Product,
    ReturnStop,
    ReturnStopKind,
    StoreSale,
    StoreStock,
    UnservedReturn,
)
from orchestrator.store.engine import alembic_config
from tests.orchestrator.test_migrations import DAY, _fill_0001, _snapshot, empty_engine

__all__ = ["empty_engine"]  # the fixture, re-used from the 0001/0002 tests

RETURNS_TABLES = {
    "products",
    "store_sales",
    "store_stock",
    "item_returns",
    "return_stops",
    "unserved_returns",
}
AT = datetime(2025, 3, 4, 9, tzinfo=UTC)


def _migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    with engine.begin() as conn:
        (command.downgrade if down else command.upgrade)(alembic_config(conn), revision)


def _store_id(engine: Engine, depot_id: int) -> int:
    with engine.begin() as conn:
        stores = sa.Table("stores", sa.MetaData(), autoload_with=conn)
        inserted = conn.execute(
            stores.insert().values(
                code="KAL", name="Store Kallio", lat=60.1841, lon=24.9503, depot_id=depot_id,
                accepts_returns=True, hosts_robots=False, created_at=AT,
            )
        )  # fmt: skip
        return int(inserted.inserted_primary_key[0])


def test_0004_adds_the_returns_tables_and_downgrades(empty_engine: Engine) -> None:
    _migrate(empty_engine, "0001")
    ids = _fill_0001(empty_engine)
    store = _store_id(empty_engine, ids["depot"])
    _migrate(empty_engine, "0003")
    old = sa.MetaData()
    old.reflect(empty_engine)
    tables = [t for t in old.sorted_tables if t.name != "alembic_version"]
    before = _snapshot(empty_engine, tables)

    _migrate(empty_engine, "0004")

    assert _snapshot(empty_engine, tables) == before
    assert set(sa.inspect(empty_engine).get_table_names()) >= RETURNS_TABLES
    _migrate(empty_engine, "head")  # the tables as the models know them today (0010: retailers)
    with Session(empty_engine) as session:
        line = session.get(OrderItem, ids["item"])
        assert line is not None and line.sku is None  # registered before SKUs existed
        line.sku = "DRS-BLK-S"
        session.add(line)
        session.add(
            Product(sku="DRS-BLK-S", style="DRS", category="dresses", size="S",
                    colour="black", list_price_cents=7_990)
        )  # fmt: skip
        session.flush()
        session.add(StoreSale(store_id=store, sku="DRS-BLK-S", day=DAY, units=2))
        session.add(StoreStock(store_id=store, sku="DRS-BLK-S", units=1))
        ret = ItemReturn(
            customer_id=ids["customer"], order_id=ids["order"], order_item_id=ids["item"],
            depot_id=ids["depot"], sku="DRS-BLK-S", condition="A", reason="too_large",
            destination_kind="store", destination_id=f"store-{store}",
            destination_store_id=store, destination_name="Store Kallio",
            expected_recovery_eur=61.2, resale_probability=0.8, expected_days=5.5,
            explanation="Store Kallio sold ...", transfer_km=2.1, transfer_co2_kg=0.01,
            options=[{"destination_id": f"store-{store}", "expected_net_eur": 61.2}],
        )  # fmt: skip
        session.add(ret)
        session.flush()
        assert ret.id is not None
        session.add(
            ReturnStop(
                route_id=ids["route"], return_id=ret.id, kind=ReturnStopKind.PICKUP,
                sequence=1, arrival_at=AT, service_start_at=AT, departure_at=AT, wait_s=0,
                leg_distance_m=400, load_after=[1_800, 12_000, 2],
            )
        )  # fmt: skip
        session.add(UnservedReturn(plan_id=ids["current"], return_id=ret.id, reason="x"))
        session.commit()
        stored = session.exec(select(ItemReturn)).one()
        assert stored.options[0]["expected_net_eur"] == 61.2 and stored.condition.value == "A"

    _migrate(empty_engine, "0003", down=True)

    inspector = sa.inspect(empty_engine)
    assert not RETURNS_TABLES & set(inspector.get_table_names())
    assert "sku" not in {c["name"] for c in inspector.get_columns("order_items")}
    assert _snapshot(empty_engine, tables) == before


def test_order_lines_without_a_sku_hash_as_before_skus_existed() -> None:
    # The idempotency check hashes the registered content: an order sent again after the
    # upgrade, exactly as before it, must still be recognised.
    line = {"description": "shoes", "weight_g": 1_200, "volume_ml": 9_000}
    order = {"customer_id": 1, "depot_id": 1, "service_day": "2025-03-03", "items": [line]}
    dumped = OrderCreate.model_validate(order).model_dump(mode="json")
    assert dumped["items"] == [{**line, "quantity": 1, "parcels": 1}]
    with_sku = {**order, "items": [{**line, "sku": "DRS-BLK-S"}]}
    assert OrderCreate.model_validate(with_sku).model_dump(mode="json")["items"][0]["sku"] == (
        "DRS-BLK-S"
    )
