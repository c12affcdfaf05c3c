"""Return pickups on the delivery routes of a planned day (SQLite and PostgreSQL): served on
a delivery route, the store after the pickup, never over capacity; a store of another depot
reached through the depot with the onward transfer recorded; pickups left out carry reasons."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, select

from orchestrator.intake.catalog import add_place, create_vehicle_type
from orchestrator.intake.orders import register_order
from orchestrator.models import (
    CarriedTo,
    Depot,
    Fleet,
    ItemReturn,
    Place,
    Plan,
    ReturnStop,
    ReturnStopKind,
    Route,
    RouteStop,
    Store,
    UnservedReturn,
)
from orchestrator.planning.plans import plan_day, plan_routes, replan, route_stops
from orchestrator.planning.problem import dropoff_stop_id, pickup_stop_id
from orchestrator.planning.tentative import day_timeline
from orchestrator.returns_flow import choose_pickup, return_public, start_return
from routing import UnservedReason
from tests.orchestrator.conftest import POINTS, World, order_data
from tests.orchestrator.returns_world import (
    LIMITS,
    NOW,
    PICKUP_DAY,
    TRAVEL,
    catalogue,
    delivered,
    return_of,
    shops,
    sku,
)

MIDNIGHT = datetime(2025, 3, 4, 22, tzinfo=UTC)  # PICKUP_DAY's local midnight in Helsinki

# -- planned days in the store ------------------------------------------------------------------


def _scheduled_return(session: Session, world: World, place: Place, hours: tuple[int, int]) -> int:
    """A size-S dress return collected at ``place`` on ``PICKUP_DAY`` between ``hours``."""
    [(order, line)] = delivered(session, world, sku("S"))
    ret = start_return(session, return_of(order, line), now=NOW)
    start, end = (f"2025-03-05T{h:02d}:00:00+02:00" for h in hours)
    choose_pickup(
        session, ret.id or 0,
        {"method": "pickup", "place_id": place.id, "window_start": start, "window_end": end},
        now=NOW, travel=TRAVEL,
    )  # fmt: skip
    return ret.id or 0


def _day_orders(session: Session, world: World, n: int) -> None:
    for k in range(n):
        lat, lon = POINTS[k]
        place = add_place(session, world.customer.id or 0,
                          {"kind": "other", "name": f"p{k}", "lat": lat, "lon": lon})  # fmt: skip
        register_order(
            session,
            order_data(world, service_day=PICKUP_DAY.isoformat(), place_id=place.id,
                       items=[{"weight_g": 1_000, "volume_ml": 5_000, "parcels": 1}]),
            f"day2-{k}",
        )  # fmt: skip


def _small_fleet(session: Session, world: World, parcels: int) -> int:
    """One van carrying ``parcels`` parcels at most (the world's fleet, changed)."""
    small = create_vehicle_type(
        session,
        {"name": "small-van", "kind": "van", "capacity_weight_g": 800_000,
         "capacity_volume_ml": 10_000_000, "capacity_parcels": parcels, "fixed_cost": 50.0,
         "cost_per_km": 0.25, "cost_per_hour": 30.0, "co2_g_per_km": 200.0},
    )  # fmt: skip
    fleet = session.get(Fleet, world.fleet.id)
    assert fleet is not None
    fleet.vehicle_type_id, fleet.count = small.id or 0, 1
    session.add(fleet)
    session.commit()
    return parcels


def _visits(session: Session, plan: Plan) -> dict[int, list[RouteStop | ReturnStop]]:
    out = {}
    for route in plan_routes(session, plan.id or 0):
        stops: list[RouteStop | ReturnStop] = list(route_stops(session, route.id or 0))
        stops += session.exec(select(ReturnStop).where(ReturnStop.route_id == route.id)).all()
        out[route.id or 0] = sorted(stops, key=lambda s: s.sequence)
    return out


def test_a_pickup_rides_a_delivery_route_to_its_store_within_capacity(
    session: Session, world: World
) -> None:
    catalogue(session)
    kallio = shops(session, world).kallio
    ret_id = _scheduled_return(session, world, world.office, (9, 13))
    capacity = _small_fleet(session, world, parcels=3)
    _day_orders(session, world, 3)  # the van leaves full

    plan = plan_day(session, world.depot.id or 0, PICKUP_DAY, limits=LIMITS, travel=TRAVEL)

    assert (plan.n_served, plan.n_unserved) == (3, 0)
    assert plan.stats["returns"] == {"served": 1, "unserved": 0}
    [(route_id, visits)] = _visits(session, plan).items()
    assert [v.sequence for v in visits] == list(range(5))  # one sequence for both kinds
    kinds = [v.kind if isinstance(v, ReturnStop) else "order" for v in visits]
    pickup_at = kinds.index(ReturnStopKind.PICKUP)
    dropoff_at = kinds.index(ReturnStopKind.DROPOFF)
    assert 0 < pickup_at < dropoff_at  # room for it only after a delivery; the store after
    dropoff = visits[dropoff_at]
    assert isinstance(dropoff, ReturnStop) and dropoff.store_id == kallio.id
    assert {v.return_id for v in visits if isinstance(v, ReturnStop)} == {ret_id}
    route = session.get(Route, route_id)
    assert route is not None and route.load_at_start[2] == capacity
    assert all(v.load_after[2] <= capacity for v in visits)
    assert visits[pickup_at].load_after[2] == visits[pickup_at - 1].load_after[2] + 1
    assert dropoff.service_start_at > visits[pickup_at].departure_at
    ret = session.get(ItemReturn, ret_id)
    assert ret is not None and ret.carried_to is CarriedTo.STORE and ret.onward_km is None
    window = (datetime.fromisoformat("2025-03-05T09:00:00+02:00"),
              datetime.fromisoformat("2025-03-05T13:00:00+02:00"))  # fmt: skip
    assert window[0] <= visits[pickup_at].service_start_at <= window[1]


def test_a_store_of_another_depot_is_reached_through_the_depot(
    session: Session, world: World
) -> None:
    catalogue(session)
    stores = shops(session, world)
    # Kallio is now served from elsewhere: the van brings the dress back to the depot.
    other = Depot(code="TKU", name="Turku", lat=60.45, lon=22.27, timezone="Europe/Helsinki")
    session.add(other)
    session.commit()
    ret_id = _scheduled_return(session, world, world.home, (10, 12))
    kallio = session.get(Store, stores.kallio.id)
    assert kallio is not None
    kallio.depot_id = other.id
    session.add(kallio)
    session.commit()

    plan = plan_day(session, world.depot.id or 0, PICKUP_DAY, limits=LIMITS, travel=TRAVEL)

    stops = session.exec(select(ReturnStop)).all()
    assert [s.kind for s in stops] == [ReturnStopKind.PICKUP]
    assert plan.stats["returns"] == {"served": 1, "unserved": 0}
    ret = session.get(ItemReturn, ret_id)
    assert ret is not None and ret.carried_to is CarriedTo.DEPOT
    assert ret.onward_km is not None and 1.0 < ret.onward_km < 5.0  # depot → Kallio, by road
    assert ret.onward_co2_kg is not None and ret.onward_co2_kg > 0


def test_a_pickup_no_vehicle_can_reach_is_unserved_with_its_reason(
    session: Session, world: World
) -> None:
    catalogue(session)
    shops(session, world)
    ret_id = _scheduled_return(session, world, world.home, (10, 12))
    ret = session.get(ItemReturn, ret_id)
    assert ret is not None
    # The customer moved the pickup to the evening (after every shift) by phone.
    ret.window_start = datetime(2025, 3, 5, 19, tzinfo=UTC)
    ret.window_end = datetime(2025, 3, 5, 20, tzinfo=UTC)
    session.add(ret)
    session.commit()
    _day_orders(session, world, 2)

    plan = plan_day(session, world.depot.id or 0, PICKUP_DAY, limits=LIMITS, travel=TRAVEL)

    assert (plan.n_served, plan.n_unserved) == (2, 0)
    assert plan.stats["returns"] == {"served": 0, "unserved": 1}
    (unserved,) = session.exec(select(UnservedReturn)).all()
    assert unserved.return_id == ret_id and unserved.plan_id == plan.id
    assert unserved.reason == UnservedReason.WINDOW_UNREACHABLE.value
    assert session.exec(select(ReturnStop)).all() == []
    shown = return_public(session, ret)
    assert shown.unserved_reason == "window_unreachable" and shown.unserved_detail
    assert shown.pickup_eta is None and shown.carried_to is None


def test_a_replan_keeps_the_pickup_on_a_route(session: Session, world: World) -> None:
    catalogue(session)
    shops(session, world)
    ret_id = _scheduled_return(session, world, world.office, (9, 17))
    _day_orders(session, world, 2)
    first = plan_day(session, world.depot.id or 0, PICKUP_DAY, limits=LIMITS, travel=TRAVEL)

    second = replan(session, first.id or 0, limits=LIMITS, travel=TRAVEL)

    assert second.stats["returns"] == {"served": 1, "unserved": 0}
    kinds = sorted(
        s.kind.value for visits in _visits(session, second).values() for s in visits
        if isinstance(s, ReturnStop)
    )  # fmt: skip
    assert kinds == ["dropoff", "pickup"]
    assert return_public(session, session.get(ItemReturn, ret_id)).pickup_eta is not None  # type: ignore[arg-type]


def test_the_day_timeline_holds_the_planned_pickups(session: Session, world: World) -> None:
    catalogue(session)
    shops(session, world)
    ret_id = _scheduled_return(session, world, world.office, (9, 17))
    _day_orders(session, world, 2)
    assert (
        day_timeline(session, world.depot.id or 0, PICKUP_DAY, travel=TRAVEL).timeline.stop_count
        == 0
    )
    plan_day(session, world.depot.id or 0, PICKUP_DAY, limits=LIMITS, travel=TRAVEL)

    planned = day_timeline(session, world.depot.id or 0, PICKUP_DAY, travel=TRAVEL)
    without = day_timeline(
        session, world.depot.id or 0, PICKUP_DAY, travel=TRAVEL, exclude_returns=[ret_id]
    )

    ids = {s for r in planned.timeline.routes for s in r.stop_ids}
    assert {pickup_stop_id(ret_id), dropoff_stop_id(ret_id)} <= ids
    assert planned.timeline.stop_count == 4 and without.timeline.stop_count == 2
    assert planned.epoch == MIDNIGHT and planned.day == PICKUP_DAY


def test_orders_alone_plan_as_before(session: Session, world: World) -> None:
    _day_orders(session, world, 2)
    plan = plan_day(session, world.depot.id or 0, PICKUP_DAY, limits=LIMITS, travel=TRAVEL)
    assert "returns" not in plan.stats and (plan.n_served, plan.n_unserved) == (2, 0)
