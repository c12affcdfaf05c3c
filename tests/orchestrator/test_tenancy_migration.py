"""Revision 0010 adds the retailers: a 0009 store with rows in it upgrades with every row kept
and owned by the default retailer, reads and plans as before, makes its next retailer with a
new id, and downgrades to 0009 with its rows as they were (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from orchestrator.intake.catalog import create_customer
from orchestrator.intake.retailers import create_retailer, list_retailers
from orchestrator.jobs.plans import run_job, submit_plan
from orchestrator.models import (
    DEFAULT_RETAILER_ID,
    ApiKey,
    Customer,
    ItemReturn,
    Order,
    PlanStatus,
    Product,
    Store,
)
from orchestrator.planning.plans import current_plan
from orchestrator.planning.travel import StraightLineTravel
from routing import Limits
from tests.orchestrator.test_migrations import DAY, _fill_0001, _migrate, _snapshot, empty_engine

__all__ = ["empty_engine"]  # the fixture, re-used from the 0001/0002 tests

OWNED = ("customers", "orders", "products", "stores", "item_returns")
AT = datetime(2025, 3, 4, 9, tzinfo=UTC)


def _fill_0009(engine: Engine, ids: dict[str, int]) -> None:
    """What the rest of a 0009 store holds: a store, a product, a return, two keys."""
    with engine.begin() as conn:
        meta = sa.MetaData()
        meta.reflect(conn)

        def add(key: str, table: str, **values: object) -> None:
            inserted = conn.execute(meta.tables[table].insert().values(**values))
            ids[key] = inserted.inserted_primary_key[0]

        add("store", "stores", code="KAL", name="Store Kallio", lat=60.18, lon=24.95,
            depot_id=ids["depot"], accepts_returns=True, hosts_robots=False,
            created_at=AT)  # fmt: skip
        conn.execute(meta.tables["products"].insert().values(
            sku="DRS-BLK-S", style="DRS", category="dresses", size="S", colour="black",
            list_price_cents=7_990, created_at=AT))  # fmt: skip
        add("return", "item_returns", customer_id=ids["customer"], order_id=ids["order"],
            order_item_id=ids["item"], depot_id=ids["depot"], sku="DRS-BLK-S", condition="A",
            reason="too_large", status="requested", destination_kind="store",
            destination_id=f"store-{ids['store']}", destination_store_id=ids["store"],
            destination_name="Store Kallio", expected_recovery_eur=61.2,
            resale_probability=0.8, explanation="sells there", options=[],
            transfer_km=2.1, transfer_co2_kg=0.01, created_at=AT, updated_at=AT)  # fmt: skip
        add("planner_key", "api_keys", prefix="lmk_aaaa", key_hash="a" * 64, role="planner",
            created_at=AT)  # fmt: skip
        add("customer_key", "api_keys", prefix="lmk_bbbb", key_hash="b" * 64, role="customer",
            customer_id=ids["customer"], created_at=AT)  # fmt: skip


def test_a_0009_store_upgrades_to_the_default_retailer_and_downgrades(
    empty_engine: Engine,
) -> None:
    _migrate(empty_engine, "0001")
    ids = _fill_0001(empty_engine)
    _migrate(empty_engine, "0009")
    _fill_0009(empty_engine, ids)
    old = sa.MetaData()
    old.reflect(empty_engine)
    tables = [t for t in old.sorted_tables if t.name != "alembic_version"]
    before = _snapshot(empty_engine, tables)

    _migrate(empty_engine, "0010")

    # Every row kept as it was, each retailer-owned one now the default retailer's.
    assert _snapshot(empty_engine, tables) == before
    with empty_engine.connect() as conn:
        for table in OWNED:
            owners = conn.exec_driver_sql(f"SELECT DISTINCT retailer_id FROM {table}").all()
            assert owners == [(DEFAULT_RETAILER_ID,)], table
        if empty_engine.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    # Downgrading forgets the retailers and leaves every row as it was; upgrading again works.
    _migrate(empty_engine, "0009", down=True)

    inspector = sa.inspect(empty_engine)
    assert "retailers" not in inspector.get_table_names()
    for table in (*OWNED, "api_keys"):
        assert "retailer_id" not in {c["name"] for c in inspector.get_columns(table)}
    assert _snapshot(empty_engine, tables) == before
    _migrate(empty_engine, "head")  # today's models read the store at the head

    with Session(empty_engine) as session:
        (default,) = list_retailers(session)
        assert (default.id, default.name) == (DEFAULT_RETAILER_ID, "Default retailer")
        # The carrier's keys stay the carrier's; a customer's key is its customer's retailer's.
        planner_key, customer_key = (
            session.get(ApiKey, ids["planner_key"]),
            session.get(ApiKey, ids["customer_key"]),
        )
        assert planner_key is not None and planner_key.retailer_id is None
        assert customer_key is not None and customer_key.retailer_id == DEFAULT_RETAILER_ID
        # It reads the same through the models...
        order = session.get(Order, ids["order"])
        assert order is not None and order.retailer_id == DEFAULT_RETAILER_ID
        for model, key in ((Customer, ids["customer"]), (Store, ids["store"]),
                           (ItemReturn, ids["return"]), (Product, "DRS-BLK-S")):  # fmt: skip
            row = session.get(model, key)
            assert row is not None and row.retailer_id == DEFAULT_RETAILER_ID
        current = current_plan(session, ids["depot"], DAY)
        assert current is not None and current.id == ids["current"]
        # ... plans its day as before ...
        limits = Limits(time_limit=2.0, solution_limit=10, seed_with="none")
        job = submit_plan(session, ids["depot"], DAY, limits=limits)
        done = run_job(session, job.id or 0, travel=StraightLineTravel(detour_factor=1.3))
        assert done.status is PlanStatus.CURRENT and done.n_served == 1
        # ... and its next retailer takes a new id (the sequence moved past the default one).
        other = create_retailer(session, {"name": "Kauppa Oy"})
        assert other.id == DEFAULT_RETAILER_ID + 1
        theirs = create_customer(session, {"name": "Bertil"}, retailer_id=other.id)
        assert theirs.retailer_id == other.id
        ids["theirs"] = theirs.id or 0
        raw = session.exec(select(Customer).where(Customer.id == ids["customer"])).one()
        assert raw.retailer_id == DEFAULT_RETAILER_ID

    # A row written without a retailer (older code, by hand) lands with the default one.
    with empty_engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO customers (name, created_at) VALUES ('Cai', :at)"),
                     {"at": AT})  # fmt: skip
        assert (
            conn.execute(sa.text("SELECT retailer_id FROM customers WHERE name = 'Cai'")).scalar()
            == DEFAULT_RETAILER_ID
        )
