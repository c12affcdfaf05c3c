"""orchestrator.planning.calendar: which days of a depot have work to plan, nearest first."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import Session

from orchestrator.errors import InvalidInput
from orchestrator.intake.catalog import create_depot
from orchestrator.intake.orders import register_order
from orchestrator.models import Order, OrderStatus
from orchestrator.planning.calendar import OpenDay, open_days, open_work
from tests.orchestrator.conftest import DAY, World, order_data
from tests.orchestrator.returns_world import PICKUP_DAY, catalogue, shops
from tests.orchestrator.test_returns_planning import _scheduled_return


def orders_on(
    session: Session, world: World, day: date, n: int, *, depot: int | None = None
) -> None:
    """``n`` orders of ``world``'s customer on ``day`` (of ``depot``, default the world's)."""
    for k in range(n):
        data = order_data(world, service_day=day.isoformat())
        if depot is not None:
            data["depot_id"] = depot
        register_order(session, data, f"{day}-{depot}-{k}")


def test_a_day_without_orders_is_empty(session: Session, world: World) -> None:
    assert open_work(session, world.depot.id or 0, DAY) == OpenDay(DAY, 0, 0)
    assert open_work(session, world.depot.id or 0, DAY).empty


def test_the_open_orders_of_a_day_are_counted(session: Session, world: World) -> None:
    orders_on(session, world, DAY, 3)
    work = open_work(session, world.depot.id or 0, DAY)
    assert work == OpenDay(DAY, 3, 0) and not work.empty


def test_days_nearest_first_later_before_earlier(session: Session, world: World) -> None:
    day = DAY + timedelta(days=10)
    # 2 days after, 2 days before (a tie: the later one first), 1 day before, 30 days after.
    for offset, n in ((2, 1), (-2, 2), (-1, 3), (30, 1)):
        orders_on(session, world, day + timedelta(days=offset), n)
    days = open_days(session, world.depot.id or 0, day)
    assert [(d.day - day).days for d in days] == [-1, 2, -2, 30]
    assert [d.orders for d in days] == [3, 1, 2, 1]
    assert [d.day for d in open_days(session, world.depot.id or 0, day, limit=2)] == [
        day - timedelta(days=1),
        day + timedelta(days=2),
    ]


def test_only_open_work_of_this_depot_counts(session: Session, world: World) -> None:
    other = create_depot(
        session, {"code": "ESP1", "name": "Espoo", "lat": 60.2, "lon": 24.7,
                  "timezone": "Europe/Helsinki"},
    )  # fmt: skip
    orders_on(session, world, DAY + timedelta(days=1), 1, depot=other.id)
    orders_on(session, world, DAY + timedelta(days=2), 2)
    done = session.get(Order, 2)
    assert done is not None
    done.status = OrderStatus.DELIVERED  # a delivered order is not open
    session.add(done)
    session.commit()
    assert open_days(session, world.depot.id or 0, DAY) == [OpenDay(DAY + timedelta(days=2), 1, 0)]


def test_a_scheduled_pickup_is_work_too(session: Session, world: World) -> None:
    catalogue(session)
    shops(session, world)
    _scheduled_return(session, world, world.office, (9, 13))
    assert open_work(session, world.depot.id or 0, PICKUP_DAY) == OpenDay(PICKUP_DAY, 0, 1)
    assert OpenDay(PICKUP_DAY, 0, 1) in open_days(session, world.depot.id or 0, PICKUP_DAY)


def test_an_unknown_depot_names_the_field(session: Session, world: World) -> None:
    with pytest.raises(InvalidInput) as caught:
        open_days(session, 999, DAY)
    assert caught.value.field == ("depot_id",)
    with pytest.raises(InvalidInput):
        open_work(session, 999, DAY)
