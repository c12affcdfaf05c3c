"""Planning a depot's day: one transaction, failed solves change nothing, re-plans keep
dispatched stops in place, and every step leaves an event."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, func, select

from orchestrator.errors import Conflict, InvalidInput, NotFound, PlanningFailed
from orchestrator.intake.orders import register_order
from orchestrator.models import (
    Order,
    OrderEvent,
    OrderEventKind,
    OrderStatus,
    Plan,
    PlanStatus,
    Route,
    RouteStatus,
    RouteStop,
    StopStatus,
)
from orchestrator.operations.dispatch import dispatch_route, mark_stop_outcome
from orchestrator.planning import plans as planning
from orchestrator.planning.plans import (
    current_plan,
    plan_day,
    plan_routes,
    plan_unserved,
    replan,
    route_stops,
)
from orchestrator.planning.problem import NO_PLACE_CHOSEN
from orchestrator.store.events import order_events
from routing import SolverError, UnservedReason
from tests.orchestrator.conftest import DAY, LIMITS, POINTS, TRAVEL, World, order_data


def _orders(session: Session, world: World, n: int, *, first: int = 0) -> list[Order]:
    """``n`` orders of the world's customer, each to its own new place."""
    from orchestrator.intake.catalog import add_place

    out = []
    for k in range(first, first + n):
        lat, lon = POINTS[k % len(POINTS)]
        place = add_place(
            session, world.customer.id or 0, {"kind": "other", "name": f"p{k}", "lat": lat,
                                              "lon": lon},
        )  # fmt: skip
        out.append(register_order(session, order_data(world, place_id=place.id), f"order-{k}"))
    return out


def _count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def _plan(session: Session, world: World) -> Plan:
    return plan_day(session, world.depot.id or 0, DAY, limits=LIMITS, travel=TRAVEL)


def test_plan_persists_routes_stops_and_unserved(session: Session, world: World) -> None:
    orders = _orders(session, world, 5)
    no_place = register_order(session, order_data(world, place_id=None), "no-place")
    cold = register_order(session, order_data(world, cold_chain=True), "cold")

    plan = _plan(session, world)

    assert plan.status is PlanStatus.CURRENT and plan.n_served == 5 and plan.n_unserved == 2
    routed = [s.order_id for r in plan_routes(session, plan.id or 0) for s in
              route_stops(session, r.id or 0)]  # fmt: skip
    assert sorted(routed) == sorted(o.id for o in orders)
    reasons = {u.order_id: u.reason for u in plan_unserved(session, plan.id or 0)}
    assert reasons == {
        no_place.id: NO_PLACE_CHOSEN,
        cold.id: UnservedReason.NO_VEHICLE_WITH_SKILLS.value,
    }
    for order in orders:
        session.refresh(order)
        assert order.status is OrderStatus.PLANNED
        kinds = [e.kind for e in order_events(session, order.id or 0)]
        assert kinds == [OrderEventKind.CREATED, OrderEventKind.PLANNED]
    assert [e.kind for e in order_events(session, cold.id or 0)][-1] is OrderEventKind.UNSERVED
    assert plan.distance_m is not None and plan.distance_m > 0


def test_etas_are_utc_and_inside_the_window(session: Session, world: World) -> None:
    # 17:00-19:00 in Helsinki (UTC+2) is 15:00-17:00 UTC.
    window = {
        "window_start": "2025-03-03T17:00:00+02:00",
        "window_end": "2025-03-03T19:00:00+02:00",
    }
    order = register_order(session, order_data(world, **window), "evening")
    plan = _plan(session, world)
    (route,) = plan_routes(session, plan.id or 0)
    (stop,) = route_stops(session, route.id or 0)
    assert stop.order_id == order.id
    assert (
        stop.service_start_at.tzinfo is not None
        and stop.service_start_at.utcoffset() == timedelta(0)
    )
    assert (
        datetime(2025, 3, 3, 15, tzinfo=UTC)
        <= stop.service_start_at
        <= datetime(2025, 3, 3, 17, tzinfo=UTC)
    )
    assert stop.arrival_at <= stop.service_start_at < stop.departure_at
    assert route.start_at <= stop.arrival_at and stop.departure_at <= route.end_at


def test_new_plan_supersedes_the_previous_one(session: Session, world: World) -> None:
    orders = _orders(session, world, 3)
    first = _plan(session, world)
    second = _plan(session, world)
    session.refresh(first)
    assert first.status is PlanStatus.SUPERSEDED and second.status is PlanStatus.CURRENT
    assert current_plan(session, world.depot.id or 0, DAY) == second
    kinds = [e.kind for e in order_events(session, orders[0].id or 0)]
    assert kinds == [OrderEventKind.CREATED, OrderEventKind.PLANNED, OrderEventKind.REPLANNED]


def test_failed_solve_leaves_the_previous_plan_intact(
    session: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    orders = _orders(session, world, 4)
    first = _plan(session, world)
    routes_before = _count(session, Route)
    stops_before = session.exec(select(RouteStop).order_by(col(RouteStop.id))).all()
    events_before = _count(session, OrderEvent)
    _orders(session, world, 2, first=4)  # new orders that the failed solve would have planned

    def broken(*_args: object, **_kwargs: object) -> None:
        raise SolverError("solver crashed")

    monkeypatch.setattr(planning, "solve", broken)
    with pytest.raises(PlanningFailed, match="solver crashed") as caught:
        _plan(session, world)

    assert current_plan(session, world.depot.id or 0, DAY) == first
    assert _count(session, Route) == routes_before
    assert session.exec(select(RouteStop).order_by(col(RouteStop.id))).all() == stops_before
    assert _count(session, OrderEvent) == events_before + 2  # only the two new "created"
    failed = session.get(Plan, caught.value.plan_id)
    assert failed is not None and failed.status is PlanStatus.FAILED
    assert "solver crashed" in (failed.error or "")
    for order in orders:
        session.refresh(order)
        assert order.status is OrderStatus.PLANNED


def test_failed_write_rolls_back_everything(
    session: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _orders(session, world, 3)
    first = _plan(session, world)
    real = planning._persist

    def half_written(*args: object, **kwargs: object) -> Plan:
        real(*args, **kwargs)  # type: ignore[arg-type]
        raise RuntimeError("disk full")

    monkeypatch.setattr(planning, "_persist", half_written)
    with pytest.raises(RuntimeError, match="disk full"):
        _plan(session, world)
    assert session.exec(select(Plan)).all() == [first]
    assert current_plan(session, world.depot.id or 0, DAY) == first


def test_replan_keeps_dispatched_stops_in_place(session: Session, world: World) -> None:
    _orders(session, world, 6)
    first = _plan(session, world)
    route = plan_routes(session, first.id or 0)[0]
    stops = route_stops(session, route.id or 0)
    assert len(stops) >= 2
    dispatch_route(session, route.id or 0, stops=2)
    mark_stop_outcome(session, stops[0].id or 0, "delivered")
    locked = [stops[0].order_id, stops[1].order_id]
    new = _orders(session, world, 2, first=6)

    second = replan(session, first.id or 0, limits=LIMITS, travel=TRAVEL)

    session.refresh(first)
    assert first.status is PlanStatus.SUPERSEDED and second.replan_of_id == first.id
    same = [r for r in plan_routes(session, second.id or 0) if r.vehicle_id == route.vehicle_id]
    assert len(same) == 1 and same[0].status is RouteStatus.DISPATCHED
    kept = route_stops(session, same[0].id or 0)
    assert [s.order_id for s in kept[:2]] == locked
    assert [s.status for s in kept[:2]] == [StopStatus.DELIVERED, StopStatus.DISPATCHED]
    routed = {s.order_id for r in plan_routes(session, second.id or 0)
              for s in route_stops(session, r.id or 0)}  # fmt: skip
    assert {o.id for o in new} <= routed
    assert second.stats.get("warm_start") is not None
    # The dispatched order's log has no re-plan: nothing changed for it.
    kinds = [e.kind for e in order_events(session, locked[1])]
    assert kinds == [OrderEventKind.CREATED, OrderEventKind.PLANNED, OrderEventKind.DISPATCHED]
    delivered = [e.kind for e in order_events(session, locked[0])]
    assert delivered[-1] is OrderEventKind.DELIVERED


def test_plan_day_refuses_a_day_in_progress(session: Session, world: World) -> None:
    _orders(session, world, 2)
    first = _plan(session, world)
    dispatch_route(session, plan_routes(session, first.id or 0)[0].id or 0)
    with pytest.raises(Conflict, match="replan"):
        _plan(session, world)


def test_replan_of_a_superseded_plan_is_a_conflict(session: Session, world: World) -> None:
    _orders(session, world, 2)
    first = _plan(session, world)
    _plan(session, world)
    with pytest.raises(Conflict, match="not current"):
        replan(session, first.id or 0, limits=LIMITS, travel=TRAVEL)
    with pytest.raises(NotFound):
        replan(session, 9_999, limits=LIMITS, travel=TRAVEL)


def test_stop_outcomes_are_checked_and_logged(session: Session, world: World) -> None:
    (order,) = _orders(session, world, 1)
    plan = _plan(session, world)
    (route,) = plan_routes(session, plan.id or 0)
    (stop,) = route_stops(session, route.id or 0)
    with pytest.raises(Conflict, match="not dispatched"):
        mark_stop_outcome(session, stop.id or 0, "delivered")
    dispatch_route(session, route.id or 0)
    with pytest.raises(InvalidInput):
        mark_stop_outcome(session, stop.id or 0, "lost")
    mark_stop_outcome(session, stop.id or 0, StopStatus.FAILED, detail="nobody home")
    with pytest.raises(Conflict, match="already failed"):
        mark_stop_outcome(session, stop.id or 0, "delivered")
    session.refresh(order)
    assert order.status is OrderStatus.FAILED
    log = order_events(session, order.id or 0)
    assert [e.kind for e in log] == [
        OrderEventKind.CREATED,
        OrderEventKind.PLANNED,
        OrderEventKind.DISPATCHED,
        OrderEventKind.FAILED,
    ]
    assert log[-1].detail == "nobody home"
    assert all(a.at <= b.at for a, b in itertools.pairwise(log))


def test_unknown_depot_is_invalid_input(session: Session) -> None:
    with pytest.raises(InvalidInput) as caught:
        plan_day(session, 42, DAY, limits=LIMITS, travel=TRAVEL)
    assert caught.value.field == ("depot_id",)


def test_same_seed_same_plan(session: Session, world: World) -> None:
    _orders(session, world, 6)
    a, b = _plan(session, world), _plan(session, world)

    def sequences(plan: Plan) -> list[tuple[str, list[int]]]:
        return [
            (r.vehicle_id, [s.order_id for s in route_stops(session, r.id or 0)])
            for r in plan_routes(session, plan.id or 0)
        ]

    assert sequences(a) == sequences(b)


# -- robot and courier acceptance is a constraint of the problem itself (issue #17) --------------


def test_robots_keep_away_from_customers_who_refuse_them(session: Session, world: World) -> None:
    """Cheap robots beside costly vans: the customer with no profile (robots refused by
    default) and the one who refuses robots get vans; the one who accepts may get a robot."""
    from orchestrator.concierge.profiles import put_profile
    from orchestrator.intake.catalog import add_fleet, add_place, create_customer
    from orchestrator.intake.catalog import create_vehicle_type as new_type

    robot = new_type(
        session,
        {"name": "robot", "kind": "robot", "profile": "walk", "capacity_weight_g": 30_000,
         "capacity_volume_ml": 200_000, "capacity_parcels": 6, "cost_per_km": 0.05},
    )  # fmt: skip
    add_fleet(session, {"depot_id": world.depot.id, "vehicle_type_id": robot.id, "count": 3,
                        "shift_start_s": 8 * 3_600, "shift_end_s": 18 * 3_600})  # fmt: skip
    keen = create_customer(session, {"name": "Robo Fan", "email": "fan@example.org"})
    shy = create_customer(session, {"name": "No Robots", "email": "shy@example.org"})
    put_profile(session, keen.id or 0, {"accepts_robot": True})
    put_profile(session, shy.id or 0, {"accepts_robot": False})
    accepting: dict[int, bool] = {}
    for k, (who, accepts) in enumerate([(world.customer, False), (shy, False), (keen, True)]):
        lat, lon = POINTS[k]
        place = add_place(session, who.id or 0, {"kind": "other", "name": f"r{k}", "lat": lat,
                                                 "lon": lon})  # fmt: skip
        o = register_order(
            session, order_data(world, customer_id=who.id, place_id=place.id), f"robot-{k}"
        )
        accepting[o.id or 0] = accepts
    plan = _plan(session, world)
    assert plan.n_served == 3
    on_robot = {
        s.order_id
        for r in plan_routes(session, plan.id or 0)
        if r.vehicle_type == "robot"
        for s in route_stops(session, r.id or 0)
    }
    assert on_robot, "robots are cheaper: the accepting customer's order rides one"
    assert all(accepting[o] for o in on_robot), on_robot


def test_couriers_keep_away_from_customers_who_refuse_them(session: Session, world: World) -> None:
    """Only couriers at the depot: the order of a customer who refuses couriers is left out
    with a reason naming the missing vehicle, the other's is planned on a courier."""
    from orchestrator.concierge.profiles import put_profile
    from orchestrator.intake.catalog import add_place, create_customer
    from orchestrator.intake.catalog import create_vehicle_type as new_type

    courier = new_type(
        session,
        {"name": "courier", "kind": "courier", "profile": "bike", "capacity_weight_g": 20_000,
         "capacity_volume_ml": 100_000, "capacity_parcels": 5, "cost_per_km": 0.5},
    )  # fmt: skip
    world.fleet.vehicle_type_id = courier.id or 0
    world.fleet.open_route = True
    session.add(world.fleet)
    session.commit()
    shy = create_customer(session, {"name": "No Couriers", "email": "nc@example.org"})
    put_profile(session, shy.id or 0, {"accepts_courier": False})
    place = add_place(session, shy.id or 0, {"kind": "home", "name": "home", "lat": POINTS[1][0],
                                             "lon": POINTS[1][1]})  # fmt: skip
    refused = register_order(
        session, order_data(world, customer_id=shy.id, place_id=place.id), "c0"
    )
    fine = register_order(session, order_data(world), "c1")
    plan = _plan(session, world)
    unserved = {u.order_id: u for u in plan_unserved(session, plan.id or 0)}
    assert set(unserved) == {refused.id}
    assert unserved[refused.id or 0].reason == UnservedReason.NO_VEHICLE_WITH_SKILLS.value
    assert "courier" in unserved[refused.id or 0].detail
    assert plan.n_served == 1 and fine.id not in unserved


# -- shifts are wall-clock times on every day (issue #17) ----------------------------------------


@pytest.mark.parametrize(
    ("day", "start", "end"),
    [
        # 2026-03-29: Helsinki's clocks go 03:00 -> 04:00; an 08:00 shift must start at 08:00.
        ("2026-03-29", "08:00", "08:30"),
        # 2026-10-25: clocks go 04:00 -> 03:00; an 18:00 shift end is 19 h after midnight.
        ("2026-10-25", "17:30", "18:00"),
    ],
)
def test_shifts_are_wall_clock_on_daylight_saving_days(
    session: Session, world: World, day: str, start: str, end: str
) -> None:
    """The fleet works 08:00-18:00 on the depot's clock; an order due in the shift's first
    (or last) half hour is served there, with its ETA inside the window."""
    from datetime import date
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Europe/Helsinki")
    service_day = date.fromisoformat(day)
    window = [
        datetime.combine(service_day, datetime.strptime(t, "%H:%M").time(), zone)
        for t in (start, end)
    ]
    o = register_order(
        session,
        order_data(world, service_day=day, window_start=window[0].isoformat(),
                   window_end=window[1].isoformat()),
        "dst",
    )  # fmt: skip
    plan = plan_day(session, world.depot.id or 0, service_day, limits=LIMITS, travel=TRAVEL)
    assert plan.n_served == 1, plan_unserved(session, plan.id or 0)
    (route,) = plan_routes(session, plan.id or 0)
    (stop,) = route_stops(session, route.id or 0)
    assert stop.order_id == o.id
    assert window[0] <= stop.service_start_at <= window[1]
    local = route.start_at.astimezone(zone)
    assert local.date() == service_day and local.hour >= 8
    assert route.end_at.astimezone(zone).hour < 18 or route.end_at.astimezone(zone).minute == 0


# -- a worse plan is not made current without the planner's choice (issue #17) -------------------


def _dearer(session: Session, world: World) -> None:
    """Vans cost ten times as much from now on: any new plan costs far more than the stored."""
    world.van.fixed_cost = 1_200.0
    session.add(world.van)
    session.commit()


def test_a_worse_plan_is_kept_aside_and_says_by_how_much(session: Session, world: World) -> None:
    _orders(session, world, 4)
    first = _plan(session, world)
    assert first.stats["comparison"]["made_current"] is True  # the day's first plan
    _dearer(session, world)
    worse = _plan(session, world)
    assert worse.status is PlanStatus.SUPERSEDED  # stored, never current
    comparison = worse.stats["comparison"]
    assert comparison["made_current"] is False
    assert comparison["current_plan_id"] == first.id
    assert comparison["cost_delta"] == pytest.approx(
        (worse.cost or 0) - (first.cost or 0), abs=0.01
    )
    assert comparison["cost_delta_pct"] > 2.0 and comparison["served_delta"] == 0
    assert "margin" in comparison["why"]
    session.refresh(first)
    assert first.status is PlanStatus.CURRENT
    assert current_plan(session, world.depot.id or 0, DAY) == first
    # The orders are still on the current plan: no event of the plan kept aside.
    kept_aside = session.exec(select(OrderEvent).where(OrderEvent.plan_id == worse.id)).all()
    assert kept_aside == []


def test_always_makes_a_worse_plan_current(session: Session, world: World) -> None:
    _orders(session, world, 3)
    first = _plan(session, world)
    _dearer(session, world)
    forced = plan_day(session, world.depot.id or 0, DAY, limits=LIMITS, travel=TRAVEL,
                      make_current="always")  # fmt: skip
    assert forced.status is PlanStatus.CURRENT
    assert forced.stats["comparison"]["made_current"] is True
    assert forced.stats["comparison"]["cost_delta"] > 0
    session.refresh(first)
    assert first.status is PlanStatus.SUPERSEDED


def test_a_plan_serving_fewer_orders_is_kept_aside(session: Session, world: World) -> None:
    _orders(session, world, 4)
    first = _plan(session, world)
    world.van.capacity_parcels = 1  # two vans of one parcel: two orders left out
    session.add(world.van)
    session.commit()
    fewer = _plan(session, world)
    assert fewer.n_served == 2 and fewer.status is PlanStatus.SUPERSEDED
    assert fewer.stats["comparison"]["served_delta"] == -2
    assert "fewer" in fewer.stats["comparison"]["why"]
    session.refresh(first)
    assert first.status is PlanStatus.CURRENT


def test_the_planner_makes_a_kept_plan_current(session: Session, world: World) -> None:
    orders = _orders(session, world, 3)
    first = _plan(session, world)
    _dearer(session, world)
    kept = _plan(session, world)
    made = planning.make_current(session, kept.id or 0)
    assert made.status is PlanStatus.CURRENT and made.stats["comparison"]["made_current"]
    session.refresh(first)
    assert first.status is PlanStatus.SUPERSEDED
    for o in orders:
        kinds = [(e.kind, e.plan_id) for e in order_events(session, o.id or 0)]
        assert (OrderEventKind.REPLANNED, kept.id) in kinds
    # Only a plan kept aside can be made current, and only over the plan it was compared with.
    with pytest.raises(Conflict, match="current"):
        planning.make_current(session, first.id or 0)


def test_a_kept_plan_is_stale_once_a_route_has_left(session: Session, world: World) -> None:
    _orders(session, world, 3)
    first = _plan(session, world)
    _dearer(session, world)
    kept = _plan(session, world)
    dispatch_route(session, plan_routes(session, first.id or 0)[0].id or 0)
    with pytest.raises(Conflict, match="dispatched"):
        planning.make_current(session, kept.id or 0)


# -- property: a re-plan keeps every confirmed promise it can keep (issue #17) -------------------


def _promise_instances() -> Any:
    """2 to 5 confirmed orders around central Helsinki, each with a window of 2 to 4 hours
    between 09:00 and 17:00 on DAY, for two vans 08:00-18:00: a plan keeping every promise
    exists (a van can serve them all one after another)."""
    from hypothesis import strategies as st

    order = st.tuples(
        st.integers(0, len(POINTS) - 1), st.integers(9, 13), st.integers(2, 4), st.integers(1, 3)
    )
    return st.lists(order, min_size=2, max_size=5)


def _mapped_promises(spec: list[tuple[int, int, int, int]]) -> Any:
    from zoneinfo import ZoneInfo

    from orchestrator.planning.inputs import (
        DepotInput,
        FleetInput,
        OrderInput,
        PlaceInput,
        VehicleTypeInput,
    )
    from orchestrator.planning.problem import build_problem
    from routing import VehicleKind

    zone = ZoneInfo("Europe/Helsinki")
    midnight = datetime.combine(DAY, datetime.min.time(), zone)
    depot = DepotInput(1, "HEL1", 60.1699, 24.9384, "Europe/Helsinki")
    van = VehicleTypeInput("van", VehicleKind.VAN, (800_000, 10_000_000, 120), fixed_cost=120.0,
                           cost_per_km=0.25, cost_per_hour=30.0)  # fmt: skip
    fleet = FleetInput(1, van, 2, 8 * 3_600, 18 * 3_600)
    orders = [
        OrderInput(
            id=k + 1,
            place=PlaceInput(100 + point, *POINTS[point]),
            demand=(1_000, 5_000, parcels),
            window_start=midnight + timedelta(hours=start),
            window_end=midnight + timedelta(hours=start + hours),
        )
        for k, (point, start, hours, parcels) in enumerate(spec)
    ]
    return orders, lambda locked=None: build_problem(
        depot, [fleet], orders, day=DAY, travel=TRAVEL, locked=locked
    )


def _kept(orders: list[Any], mapped: Any, solution: Any) -> None:
    """Every order served, at its promised place, service starting inside its window."""
    by_id = {o.id: o for o in orders}
    served = set()
    for route in solution.routes:
        for v in route.visits:
            o = by_id[mapped.order_of_stop[v.stop_id]]
            location = mapped.problem.locations[v.location]
            assert location.id == f"place-{o.place.id}"
            assert o.window_start <= mapped.at(v.start) <= o.window_end
            served.add(o.id)
    assert served == set(by_id), solution.unserved


def test_a_replan_never_breaks_a_promise_it_can_keep() -> None:
    from hypothesis import HealthCheck, given, settings

    from routing import solve

    fast = LIMITS.__class__(time_limit=2.0, solution_limit=5, seed_with="none")

    @settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_promise_instances())
    def check(spec: list[tuple[int, int, int, int]]) -> None:
        orders, build = _mapped_promises(spec)
        mapped = build()
        first = solve(mapped.problem, fast)
        _kept(orders, mapped, first)
        # Re-plan with the first stop of the first route under way (locked), warm-started.
        route = first.routes[0]
        locked = {route.vehicle_id: [mapped.order_of_stop[route.visits[0].stop_id]]}
        again = build(locked)
        initial = {r.vehicle_id: [v.stop_id for v in r.visits] for r in first.routes}
        replanned = solve(again.problem, fast, initial_routes=initial, seed=1)
        _kept(orders, again, replanned)

    check()
