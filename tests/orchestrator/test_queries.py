"""Read-only queries: pages in id order, filters, and joined look-ups that never cross customers."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from orchestrator.intake.catalog import add_place, create_customer
from orchestrator.intake.orders import register_order
from orchestrator.models import OrderStatus
from orchestrator.planning.plans import plan_day, plan_routes
from orchestrator.planning.travel import StraightLineTravel
from orchestrator.store.queries import (
    customer_place,
    list_customers,
    list_depots,
    list_orders,
    list_vehicle_types,
    stops_with_places,
    unserved_with_places,
)
from routing import Limits
from tests.orchestrator.conftest import DAY, World, order_data


def test_pages_are_in_id_order(session: Session, world: World) -> None:
    more = [create_customer(session, {"name": f"customer {n}"}) for n in range(3)]
    ids = [world.customer.id, *(c.id for c in more)]
    assert [c.id for c in list_customers(session)] == ids
    assert [c.id for c in list_customers(session, offset=1, limit=2)] == ids[1:3]
    assert [d.code for d in list_depots(session)] == ["HEL1"]
    assert [v.name for v in list_vehicle_types(session, limit=1)] == ["van"]


def test_customer_place_is_none_for_another_customers_place(session: Session, world: World) -> None:
    other = create_customer(session, {"name": "Bertil"})
    assert other.id is not None and world.customer.id is not None
    theirs = add_place(session, other.id, {"name": "home", "lat": 60.18, "lon": 24.93})
    assert customer_place(session, world.customer.id, world.home.id or 0) == world.home
    assert customer_place(session, world.customer.id, theirs.id or 0) is None
    assert customer_place(session, world.customer.id, 999_999) is None


def test_list_orders_filters(session: Session, world: World) -> None:
    other = create_customer(session, {"name": "Bertil"})
    mine = register_order(session, order_data(world), "mine")
    later = register_order(session, order_data(world, service_day="2025-03-04"), "later")
    theirs = register_order(
        session, order_data(world, customer_id=other.id, place_id=None), "theirs"
    )
    assert [o.id for o in list_orders(session)] == [mine.id, later.id, theirs.id]
    assert [o.id for o in list_orders(session, customer_id=world.customer.id)] == [
        mine.id,
        later.id,
    ]
    assert [o.id for o in list_orders(session, service_day=DAY)] == [mine.id, theirs.id]
    assert [o.id for o in list_orders(session, service_day=date(2025, 3, 4))] == [later.id]
    assert list_orders(session, status=OrderStatus.DELIVERED) == []
    assert list_orders(session, depot_id=999) == []


def test_stops_and_unserved_come_with_their_places(session: Session, world: World) -> None:
    served = register_order(session, order_data(world), "served")
    unplaced = register_order(session, order_data(world, place_id=None), "no place")
    plan = plan_day(
        session,
        world.depot.id or 0,
        DAY,
        limits=Limits(time_limit=2, solution_limit=10, seed_with="none"),
        travel=StraightLineTravel(detour_factor=1.3),
    )
    (route,) = plan_routes(session, plan.id or 0)
    ((stop, place),) = stops_with_places(session, route.id or 0)
    assert stop.order_id == served.id and place == world.home
    ((unserved, none),) = unserved_with_places(session, plan.id or 0)
    assert unserved.order_id == unplaced.id and none is None
