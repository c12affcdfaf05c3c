"""Fixtures of the store tests: every test runs on SQLite and on a real PostgreSQL server.

PostgreSQL comes from ``LASTMILE_TEST_POSTGRES_URL`` (``.ci/run`` starts a server and sets
it); without it the PostgreSQL variants are skipped with the reason. Each test session gets a
fresh database (``CREATE DATABASE`` when the role may, else the given database with its
``public`` schema emptied), migrated from empty to head; each test then starts from empty
tables.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from orchestrator.intake.catalog import (
    add_fleet,
    add_place,
    create_customer,
    create_depot,
    create_vehicle_type,
)
from orchestrator.intake.retailers import ensure_default_retailer
from orchestrator.models import Customer, Depot, Fleet, Place, VehicleType
from orchestrator.planning.travel import StraightLineTravel
from orchestrator.store.engine import create_engine, ensure_schema
from routing import Limits

POSTGRES_ENV = "LASTMILE_TEST_POSTGRES_URL"
DAY = date(2025, 3, 3)
"""The service day of the tests (a Monday; Helsinki is at UTC+2 in winter)."""
HOUR = 3_600

LIMITS = Limits(time_limit=5.0, solution_limit=30, seed_with="none")
"""Small, repeatable solves: OR-Tools alone, stopped after 30 improving solutions."""
TRAVEL = StraightLineTravel(detour_factor=1.3)

# Delivery points around central Helsinki (lat, lon), a few hundred metres to 3 km apart.
POINTS = [
    (60.1755, 24.9310),
    (60.1640, 24.9460),
    (60.1810, 24.9520),
    (60.1590, 24.9230),
    (60.1702, 24.9612),
    (60.1868, 24.9290),
    (60.1620, 24.9000),
    (60.1920, 24.9600),
]


@dataclass(frozen=True)
class World:
    """Standing data of a test store."""

    depot: Depot
    van: VehicleType
    fleet: Fleet
    customer: Customer
    home: Place
    office: Place


def make_world(session: Session, *, vans: int = 2) -> World:
    """A depot in central Helsinki, ``vans`` vans 08:00-18:00, and one customer."""
    depot = create_depot(
        session,
        {
            "code": "HEL1",
            "name": "Helsinki",
            "lat": 60.1699,
            "lon": 24.9384,
            "timezone": "Europe/Helsinki",
        },
    )
    van = create_vehicle_type(
        session,
        {
            "name": "van",
            "kind": "van",
            "profile": "car",
            "capacity_weight_g": 800_000,
            "capacity_volume_ml": 10_000_000,
            "capacity_parcels": 120,
            "fixed_cost": 120.0,
            "cost_per_km": 0.25,
            "cost_per_hour": 30.0,
            "co2_g_per_km": 200.0,
            "skills": ["fragile", "signature"],
        },
    )
    fleet = add_fleet(
        session,
        {
            "depot_id": depot.id,
            "vehicle_type_id": van.id,
            "count": vans,
            "shift_start_s": 8 * HOUR,
            "shift_end_s": 18 * HOUR,
        },
    )
    customer = create_customer(session, {"name": "Aino Virtanen", "email": "aino@example.org"})
    assert customer.id is not None
    home = add_place(
        session, customer.id, {"kind": "home", "name": "home", "lat": 60.1755, "lon": 24.9310}
    )
    office = add_place(
        session, customer.id, {"kind": "office", "name": "office", "lat": 60.1640, "lon": 24.9460}
    )
    return World(depot, van, fleet, customer, home, office)


def order_data(world: World, **changes: Any) -> dict[str, Any]:
    """A valid order of ``world``'s customer to their home, overridden by ``changes``."""
    data: dict[str, Any] = {
        "customer_id": world.customer.id,
        "depot_id": world.depot.id,
        "service_day": DAY.isoformat(),
        "place_id": world.home.id,
        "mode": "hand_over",
        "value_cents": 4_990,
        "items": [{"description": "shoes", "weight_g": 1_200, "volume_ml": 9_000}],
    }
    data.update(changes)
    return data


def _postgres_database(base_url: str) -> Iterator[str]:
    """A throwaway database on the server of ``base_url``, dropped afterwards."""
    url = sa.make_url(base_url)
    admin = create_engine(base_url)
    name = f"lastmile_t_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.ProgrammingError:
        # No CREATEDB privilege: use the given database, emptied.
        with admin.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        admin.dispose()
        yield base_url
        return
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        drop_database(admin, name)
        admin.dispose()


def drop_database(admin: sa.Engine, name: str, *, tries: int = 40) -> None:
    """Drop the test database ``name``, ending its sessions (``WITH (FORCE)``).

    FORCE may not end a session of another role: the server's autovacuum worker, which visits
    a freshly written database now and then, belongs to the superuser, and the drop fails
    with "must be a member of the role whose process is being terminated" while it works
    (a CI run lost two tests so). Such a worker is done within moments: the drop is tried
    again every 0.25 s, ``tries`` times, before the error is raised.
    """
    for attempt in range(tries):
        try:
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except sa.exc.ProgrammingError as exc:
            if "must be a member of the role" not in str(exc) or attempt == tries - 1:
                raise
            time.sleep(0.25)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """URL of an empty database of each backend, for the whole session."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('store') / 'lastmile.db'}"
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set (.ci/run starts a PostgreSQL server and sets it)")
    yield from _postgres_database(base)


@pytest.fixture(scope="session")
def migrated_engine(database_url: str) -> Iterator[Engine]:
    """An engine on the session's database, migrated to head once."""
    engine = create_engine(database_url)
    ensure_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(migrated_engine: Engine) -> Iterator[Engine]:
    """The migrated engine, with every table emptied after the test but for the default
    retailer (revision 0010 makes it; rows written without a retailer belong to it)."""
    with Session(migrated_engine) as s:
        ensure_default_retailer(s)
    yield migrated_engine
    tables = list(reversed(SQLModel.metadata.sorted_tables))
    with migrated_engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the emptied store."""
    with Session(engine) as s:
        yield s


@pytest.fixture
def sqlite_file(tmp_path: Path) -> str:
    """URL of a SQLite file that does not exist yet, in a folder that does not exist yet."""
    return f"sqlite:///{tmp_path / 'nested' / 'lastmile.db'}"


@pytest.fixture
def world(session: Session) -> World:
    """A depot in Helsinki with a van fleet, and a customer with a home and an office."""
    return make_world(session)
