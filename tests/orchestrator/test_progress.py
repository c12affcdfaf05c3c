"""Keep the promise while the day runs: a route that falls behind moves a stop to a vehicle that
keeps its window, or tells the customer before the window opens — once, with the choices left;
a route on time sends nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from orchestrator.errors import Conflict, InvalidInput
from orchestrator.intake.catalog import add_place
from orchestrator.intake.orders import register_order
from orchestrator.models import (
    Order,
    OrderEventKind,
    OrderStatus,
    PlaceKind,
    Plan,
    Route,
    RouteStop,
    StopStatus,
    WebhookDelivery,
    WebhookEvent,
)
from orchestrator.notifications.payloads import OrderFacts, choices
from orchestrator.notifications.subscriptions import create_subscription
from orchestrator.operations.dispatch import dispatch_route, mark_stop_outcome
from orchestrator.operations.progress import (
    Report,
    checked_report,
    choices_left,
    forecast_route,
    keep_promises,
    promise_risk,
)
from orchestrator.operations.promise_kpis import NOTICE_KINDS
from orchestrator.planning.plans import plan_day, plan_routes, route_stops
from orchestrator.store.events import order_events
from tests.orchestrator.conftest import DAY, LIMITS, TRAVEL, World, make_world, order_data

NORTH = (60.2300, 24.9384)
"""(lat, lon) of A: 6.8 km north of the depot, a long leg from B."""
NEAR = (60.1710, 24.9400)
"""(lat, lon) of B: 150 m from the depot."""
WEST = (60.1600, 24.9000)
"""(lat, lon) of C."""


def _at(hhmm: str) -> str:
    return f"{DAY.isoformat()}T{hhmm}:00+02:00"


@dataclass
class Day:
    """Route X carries A (two parcels) then B (one), route Y carries C (two parcels) late in
    the day: vans of three parcels keep A and C apart, and B's window (just after A's, long
    before C's) puts it after A rather than an hour and a half early on C's route."""

    plan: Plan
    x: Route
    y: Route
    a: RouteStop
    b: RouteStop
    orders: dict[str, int]


def _plan(session: Session, world: World, *, b_window: tuple[str, str]) -> Day:
    world.van.capacity_parcels = 3
    session.add(world.van)
    session.commit()
    orders = {}
    specs = {
        "A": (NORTH, ("10:00", "10:30"), 2),
        "B": (NEAR, b_window, 1),
        "C": (WEST, ("12:30", "13:00"), 2),
    }
    for name, ((lat, lon), (start, end), parcels) in specs.items():
        place = add_place(
            session, world.customer.id or 0,
            {"kind": "other", "name": name, "lat": lat, "lon": lon},
        )  # fmt: skip
        order = register_order(
            session,
            order_data(
                world,
                place_id=place.id,
                window_start=_at(start),
                window_end=_at(end),
                items=[
                    {
                        "description": "box",
                        "weight_g": 1_000,
                        "volume_ml": 5_000,
                        "parcels": parcels,
                    }
                ],
            ),
            f"k-{name}",
        )
        orders[name] = order.id or 0
    plan = plan_day(session, world.depot.id or 0, DAY, limits=LIMITS, travel=TRAVEL)
    routes = list(plan_routes(session, plan.id or 0))
    by_first = {route_stops(session, r.id or 0)[0].order_id: r for r in routes}
    x, y = by_first[orders["A"]], by_first[orders["C"]]
    a, b = route_stops(session, x.id or 0)
    assert (a.order_id, b.order_id) == (orders["A"], orders["B"])
    return Day(plan, x, y, a, b, orders)


def _subscribe(session: Session) -> None:
    create_subscription(
        session,
        {"url": "https://shop.example/hooks",
         "events": ["order.promise_at_risk", "order.eta_moved"]},
    )  # fmt: skip


def _risk_rows(session: Session) -> list[WebhookDelivery]:
    return list(
        session.exec(
            select(WebhookDelivery).where(
                WebhookDelivery.event_type == WebhookEvent.ORDER_PROMISE_AT_RISK
            )
        ).all()
    )


def _kinds(session: Session, order_id: int) -> list[OrderEventKind]:
    return [e.kind for e in order_events(session, order_id)]


def _minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60


def test_a_late_route_tells_the_customer_before_the_window_opens(
    session: Session, world: World
) -> None:
    day = _plan(session, world, b_window=("11:00", "11:10"))
    _subscribe(session)
    dispatch_route(session, day.x.id or 0)  # both parcels on board: B cannot change vehicles
    b_order = session.get(Order, day.orders["B"])
    assert b_order is not None and b_order.window_start is not None
    assert b_order.window_end is not None
    leg = day.b.arrival_at - day.a.departure_at
    assert _minutes(leg) > 12, "the leg from A to B is longer than B's window"
    late = b_order.window_start - timedelta(minutes=1)  # A closed a minute before B's window

    mark_stop_outcome(session, day.a.id or 0, "delivered", at=late)

    kinds = _kinds(session, day.orders["B"])
    assert kinds.count(OrderEventKind.PROMISE_AT_RISK) == 1
    (notice,) = [
        e
        for e in order_events(session, day.orders["B"])
        if e.kind is OrderEventKind.PROMISE_AT_RISK
    ]
    # Told at once, on the outcome at `late`, a minute before the window opened (the event
    # itself is stamped with the wall clock, which in production is that outcome's time).
    assert late < b_order.window_start
    assert "running late" in notice.detail
    (row,) = _risk_rows(session)
    body = json.loads(row.body)
    assert body["type"] == "order.promise_at_risk" and body["order_id"] == day.orders["B"]
    assert body["data"]["late_min"] > 0
    assert body["data"]["window"]["end"] == "2025-03-03T11:10:00+02:00"
    assert body["data"]["choices"] == []  # on board, no locker: nothing but the notice itself
    assert set(body["data"]) == {
        "reference", "status", "service_day", "timezone", "window", "eta", "eta_window",
        "late_min", "choices",
    }  # fmt: skip


def test_the_choices_name_the_customers_locker(session: Session, world: World) -> None:
    day = _plan(session, world, b_window=("11:00", "11:10"))
    _subscribe(session)
    locker = add_place(
        session, world.customer.id or 0,
        {"kind": PlaceKind.LOCKER, "name": "Kamppi locker", "lat": 60.1690, "lon": 24.9320},
    )  # fmt: skip
    dispatch_route(session, day.x.id or 0)
    b_order = session.get(Order, day.orders["B"])
    assert b_order is not None and b_order.window_start is not None
    mark_stop_outcome(
        session, day.a.id or 0, "delivered", at=b_order.window_start - timedelta(minutes=1)
    )
    (row,) = _risk_rows(session)
    assert json.loads(row.body)["data"]["choices"] == [
        {"choice": "locker", "method": "PUT", "href": f"/orders/{day.orders['B']}/whereabouts",
         "body": {"place_id": locker.id}},
    ]  # fmt: skip
    session.refresh(b_order)
    risk = promise_risk(session, b_order)
    assert risk is not None and [c.kind for c in risk.choices] == ["locker"]
    assert [c.place_id for c in choices_left(session, b_order)] == [locker.id]


def test_a_second_report_sends_no_second_notice(session: Session, world: World) -> None:
    day = _plan(session, world, b_window=("11:00", "11:10"))
    _subscribe(session)
    dispatch_route(session, day.x.id or 0)
    b_order = session.get(Order, day.orders["B"])
    assert b_order is not None and b_order.window_start is not None
    first = keep_promises(
        session, day.x.id or 0,
        report=Report(at=b_order.window_start - timedelta(minutes=30), late_min=45),
        travel=TRAVEL, limits=LIMITS,
    )  # fmt: skip
    assert first.announced == (day.orders["A"], day.orders["B"])  # A's window ends 10:30
    again = keep_promises(
        session, day.x.id or 0,
        report=Report(at=b_order.window_start - timedelta(minutes=20), late_min=50),
        travel=TRAVEL, limits=LIMITS,
    )  # fmt: skip
    assert again.announced == ()
    assert again.announced_before == (day.orders["A"], day.orders["B"])
    assert _kinds(session, day.orders["B"]).count(OrderEventKind.PROMISE_AT_RISK) == 1
    assert len(_risk_rows(session)) == 2


def test_a_route_on_time_sends_nothing(session: Session, world: World) -> None:
    day = _plan(session, world, b_window=("11:00", "11:10"))
    _subscribe(session)
    dispatch_route(session, day.x.id or 0)
    mark_stop_outcome(session, day.a.id or 0, "delivered", at=day.a.departure_at)
    forecast = forecast_route(session, day.x.id or 0, now=day.a.departure_at)
    assert not forecast.behind and forecast.at_risk == ()
    assert OrderEventKind.PROMISE_AT_RISK not in _kinds(session, day.orders["B"])
    assert _risk_rows(session) == []


def test_a_late_stop_another_vehicle_can_reach_is_moved_there(
    session: Session, world: World
) -> None:
    day = _plan(session, world, b_window=("10:40", "11:00"))
    _subscribe(session)
    dispatch_route(session, day.x.id or 0, stops=1)  # B stays at the depot
    late = datetime.fromisoformat(_at("10:50"))
    assert forecast_route(session, day.x.id or 0, report=Report(at=late, stop=1)).behind

    result = keep_promises(
        session, day.x.id or 0, report=Report(at=late, stop=1), travel=TRAVEL, limits=LIMITS
    )
    mark_stop_outcome(session, day.a.id or 0, "delivered", at=late)

    (moved,) = result.moved
    assert moved.order_id == day.orders["B"] and moved.route_id == day.y.id
    assert result.announced == ()
    stop = session.get(RouteStop, day.b.id)
    assert stop is not None and stop.route_id == day.y.id
    assert stop.status is StopStatus.PLANNED
    b_order = session.get(Order, day.orders["B"])
    assert b_order is not None and b_order.window_end is not None
    assert b_order.window_start is not None
    assert b_order.window_start <= stop.service_start_at <= b_order.window_end  # kept
    y_orders = [s.order_id for s in route_stops(session, day.y.id or 0)]
    assert sorted(y_orders) == sorted([day.orders["B"], day.orders["C"]])
    assert [s.order_id for s in route_stops(session, day.x.id or 0)] == [day.orders["A"]]
    events = order_events(session, day.orders["B"])
    assert events[-1].kind is OrderEventKind.REPLANNED
    assert "to keep the promised window 10:40-11:00" in events[-1].detail
    assert OrderEventKind.PROMISE_AT_RISK not in _kinds(session, day.orders["B"])


def test_a_stop_no_vehicle_can_keep_is_announced_not_moved(session: Session, world: World) -> None:
    day = _plan(session, world, b_window=("10:40", "11:00"))
    dispatch_route(session, day.x.id or 0, stops=1)
    # B is 24 s from the depot: from 10:59:50 no vehicle gets there by 11:00.
    late = datetime.fromisoformat(_at("10:59")) + timedelta(seconds=50)
    result = keep_promises(
        session, day.x.id or 0, report=Report(at=late, stop=1), travel=TRAVEL, limits=LIMITS
    )
    assert result.moved == () and result.announced == (day.orders["B"],)
    assert [s.order_id for s in route_stops(session, day.y.id or 0)] == [day.orders["C"]]


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"at": None, "stop": 1}, "at"),  # no clock time
        ({"at": datetime(2025, 3, 3, 10), "stop": 1}, "at"),  # naive time
        ({"at": datetime.fromisoformat(_at("10:00"))}, "stop"),  # neither stop nor late_min
        ({"at": datetime.fromisoformat(_at("10:00")), "stop": 1, "late_min": 5}, "stop"),  # both
        ({"at": datetime.fromisoformat(_at("10:00")), "stop": 0}, "stop"),  # numbers start at 1
        ({"at": datetime.fromisoformat(_at("10:00")), "late_min": 100_000}, "late_min"),
    ],
)
def test_a_bad_report_names_the_field(fields: dict[str, object], where: str) -> None:
    at = fields.pop("at")
    with pytest.raises(InvalidInput) as caught:
        checked_report(at, **fields)  # type: ignore[arg-type]  # the cases' mixed values
    assert caught.value.where == where


def test_a_stop_not_on_the_route_is_refused_and_a_route_at_the_depot_too(
    session: Session, world: World
) -> None:
    day = _plan(session, world, b_window=("11:00", "11:10"))
    with pytest.raises(Conflict, match="has not left yet"):
        keep_promises(session, day.x.id or 0, report=Report(at=day.a.arrival_at, stop=1))
    dispatch_route(session, day.x.id or 0)
    with pytest.raises(InvalidInput, match="stop 7 is not an open stop") as caught:
        keep_promises(session, day.x.id or 0, report=Report(at=day.a.arrival_at, stop=7))
    assert caught.value.where == "stop"


def test_the_kpis_count_the_notice() -> None:
    assert OrderEventKind.PROMISE_AT_RISK in NOTICE_KINDS


def test_order_events_of_others_are_untouched(session: Session, world: World) -> None:
    day = _plan(session, world, b_window=("11:00", "11:10"))
    dispatch_route(session, day.x.id or 0)
    b_order = session.get(Order, day.orders["B"])
    assert b_order is not None and b_order.window_start is not None
    mark_stop_outcome(
        session, day.a.id or 0, "delivered", at=b_order.window_start - timedelta(minutes=1)
    )
    others = session.exec(
        select(Order.id).where(col(Order.id).in_([day.orders["A"], day.orders["C"]]))
    ).all()
    for oid in others:
        assert OrderEventKind.PROMISE_AT_RISK not in _kinds(session, oid or 0)


def test_the_webhook_offers_the_same_choices_as_the_page(session: Session, world: World) -> None:
    day = _plan(session, world, b_window=("11:00", "11:10"))
    locker = add_place(
        session, world.customer.id or 0,
        {"kind": PlaceKind.LOCKER, "name": "locker", "lat": 60.1690, "lon": 24.9320},
    )  # fmt: skip
    for status in ("planned", "dispatched"):  # options only while the parcel is at the depot
        order = session.get(Order, day.orders["B"])
        assert order is not None
        order.status = OrderStatus(status)
        page = [(c.kind, c.method, c.href) for c in choices_left(session, order)]
        facts = OrderFacts(
            reference=None, status=status, service_day=DAY, timezone="Europe/Helsinki",
            window=None, locker_place_id=locker.id,
        )  # fmt: skip
        hook = [(c["choice"], c["method"], c["href"]) for c in choices(order.id or 0, facts)]
        assert page == hook
        assert ("locker" in [k for k, _, _ in page]) and (
            ("another_day" in [k for k, _, _ in page]) == (status == "planned")
        )


def test_a_late_route_re_orders_its_stops_to_keep_every_window(session: Session) -> None:
    world = make_world(session, vans=1)
    specs = {
        "A": ((60.2300, 24.9384), ("10:00", "10:15")),  # north
        "D": ((60.2300, 25.0000), ("09:00", "17:00")),  # east of A, any time
        "E": ((60.1700, 24.9500), ("11:00", "11:20")),  # back by the depot, a tight window
    }
    orders = {}
    for name, ((lat, lon), (start, end)) in specs.items():
        place = add_place(
            session, world.customer.id or 0,
            {"kind": "other", "name": name, "lat": lat, "lon": lon},
        )  # fmt: skip
        data = order_data(world, place_id=place.id, window_start=_at(start), window_end=_at(end))
        orders[name] = register_order(session, data, name).id or 0
    plan = plan_day(session, world.depot.id or 0, DAY, limits=LIMITS, travel=TRAVEL)
    (route,) = plan_routes(session, plan.id or 0)
    a, d, e = route_stops(session, route.id or 0)
    assert [a.order_id, d.order_id, e.order_id] == [orders["A"], orders["D"], orders["E"]]
    dispatch_route(session, route.id or 0)
    late = datetime.fromisoformat(_at("10:50"))
    # Without a word from the driver by 10:50, E is already at risk on the planned order.
    assert [s.order_id for s in forecast_route(session, route.id or 0, now=late).at_risk] == [
        orders["E"]
    ]

    mark_stop_outcome(session, a.id or 0, "delivered", at=late)  # by D first, E is missed

    after = route_stops(session, route.id or 0)
    assert [s.order_id for s in after] == [orders["A"], orders["E"], orders["D"]]
    e_stop = after[1]
    assert datetime.fromisoformat(_at("11:00")) <= e_stop.service_start_at
    assert e_stop.service_start_at <= datetime.fromisoformat(_at("11:20"))
    assert OrderEventKind.PROMISE_AT_RISK not in _kinds(session, orders["E"])
    assert _kinds(session, orders["E"])[-1] is OrderEventKind.REPLANNED
    assert forecast_route(session, route.id or 0, now=late).at_risk == ()
