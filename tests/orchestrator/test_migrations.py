"""Upgrades keep a user's data: a store created at revision 0001 and filled with a planned day
upgrades to head with every row intact, then plans as a job (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from orchestrator.jobs.plans import run_job, submit_plan
from orchestrator.models import Plan, PlanKind, PlanStatus
from orchestrator.planning.plans import current_plan, plan_routes, route_stops
from orchestrator.planning.travel import StraightLineTravel
from orchestrator.store.engine import alembic_config, create_engine, ensure_schema
from routing import Limits
from tests.orchestrator.conftest import POSTGRES_ENV, drop_database

DAY = date(2025, 3, 3)
AT = datetime(2025, 3, 2, 18, 0, tzinfo=UTC)
"""When the 0001-era plans were written."""


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a database with no tables at all, dropped afterwards."""
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
        yield engine
        engine.dispose()
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set (.ci/run starts a PostgreSQL server and sets it)")
    admin = create_engine(base)
    name = f"lastmile_m_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.ProgrammingError:
        admin.dispose()
        pytest.skip("the PostgreSQL role may not create databases")
    engine = create_engine(sa.make_url(base).set(database=name).render_as_string(False))
    try:
        yield engine
    finally:
        engine.dispose()
        drop_database(admin, name)
        admin.dispose()


def _migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    with engine.begin() as conn:
        (command.downgrade if down else command.upgrade)(alembic_config(conn), revision)


def _fill_0001(engine: Engine) -> dict[str, int]:
    """A planned day as revision 0001 stored it: a superseded, a current and a failed plan."""
    ids: dict[str, int] = {}
    with engine.begin() as conn:
        meta = sa.MetaData()
        meta.reflect(conn)

        def add(key: str, table: str, **values: Any) -> int:
            inserted = conn.execute(meta.tables[table].insert().values(**values))
            ids[key] = inserted.inserted_primary_key[0]
            return ids[key]

        depot = add("depot", "depots", code="HEL1", name="Helsinki", lat=60.1699, lon=24.9384,
                    timezone="Europe/Helsinki", created_at=AT)  # fmt: skip
        van = add("van", "vehicle_types", name="van", kind="van", profile="car",
                  capacity_weight_g=800_000, capacity_volume_ml=10_000_000, capacity_parcels=120,
                  fixed_cost=120.0, cost_per_km=0.25, cost_per_hour=30.0, co2_g_per_km=200.0,
                  skills=["fragile"])  # fmt: skip
        fleet = add("fleet", "fleets", depot_id=depot, vehicle_type_id=van, count=2,
                    shift_start_s=8 * 3600, shift_end_s=18 * 3600, open_route=False)  # fmt: skip
        customer = add("customer", "customers", name="Aino Virtanen", created_at=AT)
        place = add("place", "places", customer_id=customer, kind="home", name="home",
                    lat=60.1755, lon=24.9310, created_at=AT)  # fmt: skip
        order = add("order", "orders", customer_id=customer, depot_id=depot, service_day=DAY,
                    place_id=place, value_cents=4990, fragile=False, signature_required=False,
                    cold_chain=False, idempotency_key="k1", content_hash="0" * 64,
                    status="planned", created_at=AT)  # fmt: skip
        add("item", "order_items", order_id=order, description="shoes", quantity=1,
            weight_g=1200, volume_ml=9000, parcels=1)  # fmt: skip
        common = {"depot_id": depot, "service_day": DAY, "created_at": AT, "time_limit_s": 5.0,
                  "seed": 0, "n_routes": 1, "n_served": 1, "n_unserved": 0,
                  "stats": {}}  # fmt: skip
        old = add("superseded", "plans", status="superseded", **common)
        plan = add("current", "plans", status="current", replan_of_id=old, wall_time_s=1.5,
                   distance_m=1800, duration_s=900, cost=121.5, co2_g=360.0,
                   **common)  # fmt: skip
        add("failed", "plans", status="failed", replan_of_id=plan, error="SolverError: x",
            **{**common, "n_routes": 0, "n_served": 0})  # fmt: skip
        route = add("route", "routes", plan_id=plan, fleet_id=fleet, vehicle_id="van-1",
                    vehicle_type="van", status="planned", start_at=AT, end_at=AT,
                    distance_m=1800, duration_s=900, cost=121.5, co2_g=360.0,
                    load_at_start=[1200, 9000, 1])  # fmt: skip
        add("stop", "route_stops", route_id=route, order_id=order, sequence=0, status="planned",
            arrival_at=AT, service_start_at=AT, departure_at=AT, wait_s=0, leg_distance_m=900,
            load_after=[0, 0, 0])  # fmt: skip
        add("event", "order_events", order_id=order, kind="planned", at=AT, plan_id=plan,
            detail="on van-1, stop 1")  # fmt: skip
    return ids


def _snapshot(engine: Engine, tables: list[sa.Table]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of ``tables`` (their 0001 columns), in primary-key order."""
    with engine.connect() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(sa.select(*t.c).order_by(*t.primary_key))]
            for t in tables
        }


def test_a_0001_store_upgrades_with_its_data_intact(empty_engine: Engine) -> None:
    _migrate(empty_engine, "0001")
    ids = _fill_0001(empty_engine)
    old_tables = sa.MetaData()
    old_tables.reflect(empty_engine)
    data = [t for t in old_tables.sorted_tables if t.name != "alembic_version"]
    before = _snapshot(empty_engine, data)

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert ensure_schema(empty_engine) == head

    assert _snapshot(empty_engine, data) == before
    assert sum(len(rows) for rows in before.values()) >= 12
    with empty_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []
    with Session(empty_engine) as session:
        for key in ("superseded", "current", "failed"):
            plan = session.get(Plan, ids[key])
            assert plan is not None
            assert plan.kind is PlanKind.DAY and plan.limits is None
            assert plan.finished_at == plan.created_at == AT and plan.started_at is None
        current = current_plan(session, ids["depot"], DAY)
        assert current is not None and current.id == ids["current"]
        (route,) = plan_routes(session, ids["current"])
        assert [s.order_id for s in route_stops(session, route.id or 0)] == [ids["order"]]

        # The upgraded store plans as a job, superseding the plan 0001 wrote.
        limits = Limits(time_limit=2.0, solution_limit=10, seed_with="none")
        job = submit_plan(session, ids["depot"], DAY, limits=limits)
        done = run_job(session, job.id or 0, travel=StraightLineTravel(detour_factor=1.3))
        assert done.status is PlanStatus.CURRENT and done.n_served == 1
        assert done.replan_of_id == ids["current"]
        superseded = session.get(Plan, ids["current"])
        assert superseded is not None and superseded.status is PlanStatus.SUPERSEDED


def test_downgrade_to_0001_fails_unfinished_jobs(empty_engine: Engine) -> None:
    _migrate(empty_engine, "0001")
    ids = _fill_0001(empty_engine)
    ensure_schema(empty_engine)
    with Session(empty_engine) as session:
        queued = submit_plan(session, ids["depot"], DAY).id

    _migrate(empty_engine, "0001", down=True)

    with empty_engine.connect() as conn:
        plans = sa.Table("plans", sa.MetaData(), autoload_with=conn)
        assert "kind" not in plans.c
        rows = {r.id: r for r in conn.execute(sa.select(plans))}
    assert rows[queued].status == "failed" and "submit it again" in rows[queued].error
    assert rows[ids["current"]].status == "current"
