"""The driver's manifest as the store gives it (orchestrator.operations.manifest), on SQLite and
PostgreSQL: stops in order with what the driver needs at the door, the three buttons turned
into stop outcomes, and a fixed number of queries whatever the route's length."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from orchestrator.concierge.profiles import put_profile
from orchestrator.errors import Conflict, InvalidInput, NotFound
from orchestrator.intake.catalog import add_fleet, add_place, create_vehicle_type
from orchestrator.intake.orders import register_order
from orchestrator.models import (
    Order,
    OrderEvent,
    OrderEventKind,
    OrderStatus,
    Plan,
    Route,
    RouteStop,
    StopStatus,
)
from orchestrator.operations.dispatch import dispatch_route
from orchestrator.operations.manifest import (
    first_name,
    handoff_text,
    outcome_for,
    record_manifest_outcome,
    route_manifest,
    stop_handoffs,
)
from orchestrator.planning.plans import plan_day
from orchestrator.returns_flow import choose_pickup, start_return
from tests.orchestrator.conftest import DAY, HOUR, LIMITS, POINTS, TRAVEL, World, order_data
from tests.orchestrator.returns_world import LIMITS as RETURNS_LIMITS
from tests.orchestrator.returns_world import (
    NOW,
    PICKUP_DAY,
    catalogue,
    delivered,
    return_of,
    shops,
    sku,
)
from tests.orchestrator.returns_world import TRAVEL as RETURNS_TRAVEL


def _plan(session: Session, world: World, n: int) -> Plan:
    """``n`` orders of the world's customer, each to its own place, planned."""
    for k in range(n):
        lat, lon = POINTS[k % len(POINTS)]
        place = add_place(
            session,
            world.customer.id or 0,
            {"kind": "other", "name": f"p{k}", "lat": lat, "lon": lon,
             "address": f"Katu {k + 1}", "instructions": "door code 1234" if k == 0 else None},
        )  # fmt: skip
        items = [{"description": "box", "weight_g": 1_000, "volume_ml": 5_000, "parcels": 2,
                  "quantity": 1 + k % 2}]  # fmt: skip
        register_order(
            session,
            order_data(world, place_id=place.id, items=items, fragile=k == 0),
            f"order-{k}",
        )
    return plan_day(session, world.depot.id or 0, DAY, limits=LIMITS, travel=TRAVEL)


def _routes(session: Session, plan: Plan) -> list[Route]:
    return list(session.exec(select(Route).where(Route.plan_id == plan.id).order_by(col(Route.id))))


def test_manifest_lists_the_stops_in_order_with_what_the_door_needs(
    session: Session, world: World
) -> None:
    put_profile(
        session,
        world.customer.id or 0,
        {"language": "fi", "handoff_instructions": "ring twice; leave with the concierge"},
    )
    plan = _plan(session, world, 4)
    routes = _routes(session, plan)
    manifest = route_manifest(session, routes[0].id or 0)

    stored = session.exec(
        select(RouteStop)
        .where(RouteStop.route_id == routes[0].id)
        .order_by(col(RouteStop.sequence))
    ).all()
    assert [s.id for s in manifest.stops] == [s.id for s in stored]
    assert [s.sequence for s in manifest.stops] == sorted(s.sequence for s in manifest.stops)
    assert manifest.timezone == "Europe/Helsinki" and manifest.vehicle_type == "van"
    assert not manifest.robot and manifest.current and manifest.deliveries == len(stored)
    for stop in manifest.stops:
        assert stop.kind == "delivery" and stop.customer_name == "Aino Virtanen"
        assert stop.language == "fi" and stop.first_name == "Aino"
        assert stop.eta == next(s.arrival_at for s in stored if s.id == stop.id)
        assert stop.address is not None and stop.address.startswith("Katu ")
        k = int(stop.address.split()[1]) - 1
        assert stop.parcels == 2 * (1 + k % 2)  # quantity x parcels per unit
        assert stop.handling == (("fragile",) if k == 0 else ())
        expected = "ring twice; leave with the concierge" + ("; door code 1234" if k == 0 else "")
        assert stop.handoff_instructions == expected
        assert stop.open and stop.outcome is None


def test_unknown_language_and_instructions_are_none(session: Session, world: World) -> None:
    plan = _plan(session, world, 2)
    route = _routes(session, plan)[0]
    stop = route_manifest(session, route.id or 0).stops[-1]
    assert stop.language is None
    handoffs = stop_handoffs(session, route.id or 0)
    assert set(handoffs) == {s.id for s in route_manifest(session, route.id or 0).stops}
    assert stop_handoffs(session, 999_999) == {}


def test_a_robot_route_says_so(session: Session, world: World) -> None:
    plan = _plan(session, world, 2)
    robot = create_vehicle_type(
        session,
        {"name": "robot", "kind": "robot", "profile": "walk", "capacity_weight_g": 30_000,
         "capacity_volume_ml": 60_000, "capacity_parcels": 4},
    )  # fmt: skip
    fleet = add_fleet(
        session,
        {"depot_id": world.depot.id, "vehicle_type_id": robot.id, "count": 1,
         "shift_start_s": 8 * HOUR, "shift_end_s": 18 * HOUR},
    )  # fmt: skip
    route = _routes(session, plan)[0]
    route.fleet_id = fleet.id or 0  # the set-up's shortcut: the same stops on a robot
    session.add(route)
    session.commit()
    manifest = route_manifest(session, route.id or 0)
    assert manifest.robot and manifest.vehicle_kind == "robot"


def test_unknown_route_is_not_found(session: Session, world: World) -> None:
    with pytest.raises(NotFound):
        route_manifest(session, 4242)


# Each button, the stop status and the event detail it records.
@pytest.mark.parametrize(
    ("choice", "recipient", "status", "detail"),
    [
        ("delivered", "  Aino   V. ", StopStatus.DELIVERED, "received by Aino V."),
        ("delivered", "", StopStatus.DELIVERED, "delivered"),
        ("not_at_home", "ignored", StopStatus.FAILED, "not at home"),
        ("refused", "", StopStatus.FAILED, "refused by the recipient"),
    ],
)
def test_buttons_map_onto_the_stop_outcomes(
    choice: str, recipient: str, status: StopStatus, detail: str
) -> None:
    assert outcome_for(choice, recipient) == (status, detail)


def test_a_button_that_does_not_exist_names_the_field() -> None:
    with pytest.raises(InvalidInput) as refused:
        outcome_for("lost")
    assert refused.value.field == ("outcome",)
    with pytest.raises(InvalidInput) as too_long:
        outcome_for("delivered", "x" * 201)
    assert too_long.value.field == ("recipient",)


def test_an_outcome_closes_the_stop_records_the_event_and_shows(
    session: Session, world: World
) -> None:
    plan = _plan(session, world, 3)
    route = _routes(session, plan)[0]
    first = route_manifest(session, route.id or 0).stops[0]
    with pytest.raises(Conflict, match="dispatch its route first"):
        record_manifest_outcome(session, route.id or 0, first.id, "delivered")
    dispatch_route(session, route.id or 0)

    closed = record_manifest_outcome(
        session, route.id or 0, first.id, "delivered", recipient="Aino"
    )

    assert closed.status is StopStatus.DELIVERED and closed.closed_at is not None
    events = session.exec(
        select(OrderEvent).where(OrderEvent.order_id == first.order_id).order_by(col(OrderEvent.id))
    ).all()
    assert (events[-1].kind, events[-1].detail) == (OrderEventKind.DELIVERED, "received by Aino")
    shown = route_manifest(session, route.id or 0).stops[0]
    assert shown.status == "delivered" and shown.outcome == "received by Aino" and not shown.open
    with pytest.raises(Conflict, match="already delivered"):
        record_manifest_outcome(session, route.id or 0, first.id, "refused")

    second = route_manifest(session, route.id or 0).stops[1]
    record_manifest_outcome(session, route.id or 0, second.id, "refused")
    kinds = session.exec(
        select(OrderEvent.kind).where(OrderEvent.order_id == second.order_id)
    ).all()
    assert OrderEventKind.FAILED in kinds
    assert route_manifest(session, route.id or 0).stops[1].outcome == "refused by the recipient"
    failed = session.get(Order, second.order_id)
    assert failed is not None and failed.status is OrderStatus.FAILED


def test_a_stop_of_another_route_is_not_found(session: Session, world: World) -> None:
    plan = _plan(session, world, 4)
    route = _routes(session, plan)[0]
    with pytest.raises(NotFound):
        record_manifest_outcome(session, (route.id or 0) + 100, 1, "delivered")


def test_reading_a_manifest_takes_the_same_queries_for_any_length(
    engine: Engine, session: Session, world: World
) -> None:
    plan = _plan(session, world, 8)
    routes = sorted(
        _routes(session, plan),
        key=lambda r: len(session.exec(select(RouteStop).where(RouteStop.route_id == r.id)).all()),
    )
    dispatch_route(session, routes[-1].id or 0)
    longest = route_manifest(session, routes[-1].id or 0)
    record_manifest_outcome(session, longest.route_id, longest.stops[0].id, "delivered")

    def queries(route_id: int) -> tuple[int, int]:
        counted: list[str] = []

        def count(*args: object) -> None:
            counted.append(str(args[2]))

        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            with Session(engine) as fresh:
                stops = len(route_manifest(fresh, route_id).stops)
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        return stops, len(counted)

    long_stops, long_queries = queries(longest.route_id)
    assert long_stops >= 3
    assert long_queries <= 6, "one query per table, not one per stop"


def test_first_name_and_handoff_text() -> None:
    assert first_name("Aino Virtanen") == "Aino" and first_name(" ") is None
    assert first_name(None) is None
    assert handoff_text("ring twice;", "Reception") == "ring twice; Reception"
    assert handoff_text(" ", None) is None and handoff_text("a", "a") == "a"


def test_return_pickups_and_store_drop_offs_sit_in_the_sequence(
    session: Session, world: World
) -> None:
    catalogue(session)
    kallio = shops(session, world).kallio
    [(order, line)] = delivered(session, world, sku("S"))
    ret = start_return(session, return_of(order, line), now=NOW)
    choose_pickup(
        session, ret.id or 0,
        {"method": "pickup", "place_id": world.office.id,
         "window_start": "2025-03-05T09:00:00+02:00", "window_end": "2025-03-05T13:00:00+02:00"},
        now=NOW, travel=RETURNS_TRAVEL,
    )  # fmt: skip
    put_profile(session, world.customer.id or 0, {"language": "sv"})
    lat, lon = POINTS[3]
    place = add_place(session, world.customer.id or 0, {"name": "p-day2", "lat": lat, "lon": lon})
    register_order(
        session,
        order_data(world, service_day=PICKUP_DAY.isoformat(), place_id=place.id),
        "day2-0",
    )
    plan = plan_day(
        session, world.depot.id or 0, PICKUP_DAY, limits=RETURNS_LIMITS, travel=RETURNS_TRAVEL
    )
    [route] = _routes(session, plan)

    manifest = route_manifest(session, route.id or 0)

    assert [s.sequence for s in manifest.stops] == list(range(3))
    kinds = [s.kind for s in manifest.stops]
    assert sorted(kinds) == ["delivery", "dropoff", "pickup"]
    assert kinds.index("pickup") < kinds.index("dropoff")
    pickup = manifest.stops[kinds.index("pickup")]
    dropoff = manifest.stops[kinds.index("dropoff")]
    assert pickup.item == sku("S") and pickup.place_name == "office" and pickup.language == "sv"
    assert pickup.window_start is not None and not pickup.open
    assert dropoff.place_name == kallio.name and dropoff.customer_name is None
    assert manifest.deliveries == 1
