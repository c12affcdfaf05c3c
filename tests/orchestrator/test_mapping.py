"""The one mapping from stored rows to a routing problem: units, windows, skills, locks."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from orchestrator.intake.catalog import depot_fleets
from orchestrator.intake.orders import order_items, register_order
from orchestrator.models import Order, Place
from orchestrator.planning.inputs import OrderInput
from orchestrator.planning.problem import (
    DIMENSIONS,
    NO_PLACE_CHOSEN,
    build_problem,
    local_midnight,
    stop_id,
)
from orchestrator.planning.rows import depot_input, fleet_inputs, order_input
from orchestrator.planning.travel import StraightLineTravel
from routing import TimeWindow, UnservedReason
from tests.orchestrator.conftest import DAY, HOUR, World, order_data

TRAVEL = StraightLineTravel()


def _inputs(session: Session, orders: list[Order]) -> list[OrderInput]:
    return [
        order_input(
            o,
            order_items(session, o.id or 0),
            session.get(Place, o.place_id) if o.place_id else None,
        )
        for o in orders
    ]


def test_midnight_is_the_depots_local_midnight(world: World) -> None:
    # Helsinki is UTC+2 in March (before the switch to summer time).
    assert local_midnight(world.depot, DAY) == datetime(2025, 3, 2, 22, tzinfo=UTC)


def test_orders_become_stops_in_store_units(session: Session, world: World) -> None:
    order = register_order(
        session,
        order_data(
            world,
            window_start="2025-03-03T09:00:00+02:00",
            window_end="2025-03-03T11:00:00+02:00",
            signature_required=True,
            items=[
                {"weight_g": 1_000, "volume_ml": 2_000, "parcels": 1, "quantity": 3},
                {"weight_g": 500, "volume_ml": 700, "parcels": 1},
            ],
        ),
        "k",
    )
    mapped = build_problem(
        depot_input(world.depot),
        fleet_inputs(depot_fleets(session, world.depot.id or 0)),
        _inputs(session, [order]),
        day=DAY,
        travel=TRAVEL,
    )
    problem = mapped.problem
    assert problem.dimensions == DIMENSIONS
    stop = problem.stop(stop_id(order.id or 0))
    assert stop.demand == (3_500, 6_700, 4)
    assert stop.windows == (TimeWindow(9 * HOUR, 11 * HOUR),)
    assert stop.skills == frozenset({"signature"})
    assert mapped.order_of_stop == {stop.id: order.id}
    assert [v.id for v in problem.vehicles] == [
        f"van-{world.fleet.id}-1",
        f"van-{world.fleet.id}-2",
    ]
    assert all(v.shift == TimeWindow(8 * HOUR, 18 * HOUR) for v in problem.vehicles)
    assert problem.vehicle_type("van").capacity == (800_000, 10_000_000, 120)
    assert mapped.at(9 * HOUR) == datetime(2025, 3, 3, 7, tzinfo=UTC)


def test_orders_that_cannot_be_stops_are_left_out_with_reasons(
    session: Session, world: World
) -> None:
    no_place = register_order(session, order_data(world, place_id=None), "a")
    cold = register_order(session, order_data(world, cold_chain=True), "b")
    mapped = build_problem(
        depot_input(world.depot),
        fleet_inputs(depot_fleets(session, world.depot.id or 0)),
        _inputs(session, [no_place, cold]),
        day=DAY,
        travel=TRAVEL,
    )
    assert mapped.problem.stops == ()
    assert {(o.order_id, o.reason) for o in mapped.left_out} == {
        (no_place.id, NO_PLACE_CHOSEN),
        (cold.id, UnservedReason.NO_VEHICLE_WITH_SKILLS.value),
    }


def test_locked_orders_become_locked_prefixes(session: Session, world: World) -> None:
    orders = [register_order(session, order_data(world), f"k{i}") for i in range(2)]
    vid = f"van-{world.fleet.id}-1"
    mapped = build_problem(
        depot_input(world.depot),
        fleet_inputs(depot_fleets(session, world.depot.id or 0)),
        _inputs(session, orders),
        day=DAY,
        travel=TRAVEL,
        locked={vid: [orders[1].id or 0]},
    )
    vehicles = {v.id: v for v in mapped.problem.vehicles}
    assert vehicles[vid].locked == (stop_id(orders[1].id or 0),)
    assert all(not v.locked for k, v in vehicles.items() if k != vid)
