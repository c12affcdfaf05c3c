"""“Find me at the café”: a redirect re-optimises one route from where its vehicle is, keeps
every other route as it was, and writes nothing when it is refused."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, func, select

from orchestrator.errors import Conflict, InvalidInput, NotFound
from orchestrator.intake.catalog import add_place, create_customer
from orchestrator.intake.orders import order_items, register_order
from orchestrator.models import (
    ItemReturn,
    Order,
    OrderEventKind,
    Place,
    PlaceKind,
    Plan,
    ReturnReason,
    ReturnStop,
    ReturnStopKind,
    Route,
    RouteStatus,
    RouteStop,
    StopStatus,
)
from orchestrator.operations.dispatch import dispatch_route, mark_stop_outcome
from orchestrator.operations.whereabouts import DEFAULT_LABEL, WhereaboutsResult, update_whereabouts
from orchestrator.planning.plans import plan_day, plan_routes, route_stops
from orchestrator.planning.problem import local_midnight
from orchestrator.planning.spread import Buffer
from orchestrator.settings import Settings
from orchestrator.store.events import order_events
from returns.model import Condition, DestinationKind
from routing import Limits
from routing.model import Location
from tests.orchestrator.conftest import DAY, HOUR, LIMITS, POINTS, TRAVEL, World, order_data

KERAVA = (25.1000, 60.4000)
"""[lon, lat] of a town 27 km north of the depot: inside the service area, an hour away."""
WINDOW = {"window_start": "2025-03-03T09:00:00+02:00", "window_end": "2025-03-03T17:00:00+02:00"}
"""Every order's promised window: 09:00-17:00 in Helsinki."""


@dataclass
class Day:
    """A planned day with one route dispatched and its first stop delivered."""

    world: World
    plan: Plan
    route: Route
    stops: list[RouteStop]
    other_routes: list[Route]
    cafe: Place

    def at(self, local_hour: float) -> datetime:
        """The instant ``local_hour`` hours after the depot's midnight on the day."""
        return local_midnight(self.world.depot, DAY) + timedelta(seconds=int(local_hour * HOUR))


def _snapshot(session: Session, routes: list[Route]) -> list[Any]:
    """The routes and their stops exactly as stored."""
    session.expire_all()
    out = []
    for route in routes:
        stored = session.get(Route, route.id)
        assert stored is not None
        out.append(
            (stored.model_dump(), [s.model_dump() for s in route_stops(session, route.id or 0)])
        )
    return out


def _count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def _plan_a_day(
    session: Session, world: World, *, dispatch: bool = True, settings: Settings | None = None
) -> Day:
    """Eight one-parcel orders for two vans that carry four parcels each: two routes of four.

    With ``dispatch`` the first route leaves and its first stop is delivered at 10:00.
    ``settings``: the planner's (its promise confidence; default the environment's).
    """
    world.van.capacity_parcels = 4  # two routes, so that one can be left untouched
    session.add(world.van)
    session.commit()
    for k, (lat, lon) in enumerate(POINTS):
        place = add_place(
            session, world.customer.id or 0, {"kind": "other", "name": f"p{k}", "lat": lat,
                                              "lon": lon},
        )  # fmt: skip
        register_order(session, order_data(world, place_id=place.id, **WINDOW), f"o{k}")
    cafe = add_place(
        session,
        world.customer.id or 0,
        {"kind": PlaceKind.CAFE, "name": "Café Rosa", "lat": 60.1690, "lon": 24.9500},
    )
    plan = plan_day(
        session, world.depot.id or 0, DAY, limits=LIMITS, travel=TRAVEL, settings=settings
    )
    routes = list(plan_routes(session, plan.id or 0))
    assert [len(route_stops(session, r.id or 0)) for r in routes] == [4, 4]
    route, others = routes[0], routes[1:]
    stops = list(route_stops(session, route.id or 0))
    day = Day(world, plan, route, stops, others, cafe)
    if dispatch:
        dispatch_route(session, route.id or 0)
        mark_stop_outcome(session, stops[0].id or 0, "delivered", at=day.at(10))
    return day


def _redirect(session: Session, day: Day, order_id: int, **kw: Any) -> WhereaboutsResult:
    kw.setdefault("now", day.at(10))
    return update_whereabouts(session, order_id, travel=TRAVEL, limits=LIMITS, **kw)


def _place_of(session: Session, order_id: int) -> Place:
    order = session.get(Order, order_id)
    assert order is not None and order.place_id is not None
    place = session.get(Place, order.place_id)
    assert place is not None
    return place


def _loc(place: Place) -> Location:
    return Location(f"place-{place.id}", place.lat, place.lon)


def _travel(a: Place, b: Place, buffer: Buffer | None = None) -> tuple[int, int]:
    """Metres and seconds from ``a`` to ``b`` (seconds as planned on ``buffer``, if given)."""
    m = TRAVEL.matrix([_loc(a), _loc(b)], "car")
    durations = m.durations if buffer is None else buffer.matrix_durations(m.durations, "car")
    return int(m.distances[0, 1]), int(durations[0, 1])


def _buffer(plan: Plan) -> Buffer:
    """What ``plan``'s times were planned on."""
    return Buffer.from_stats((plan.stats or {}).get("buffer"))


@pytest.fixture
def day(session: Session, world: World) -> Day:
    """The world's day planned, its first route dispatched, its first stop delivered at 10:00."""
    return _plan_a_day(session, world)


def test_redirect_resequences_the_route_from_the_vehicles_position(
    session: Session, day: Day
) -> None:
    delivered, upcoming, _, last = day.stops
    others_before = _snapshot(session, day.other_routes)
    # The café is a few steps from the next stop, so the last stop should move up behind it.
    near_next = _place_of(session, upcoming.order_id)
    cafe = add_place(
        session,
        day.world.customer.id or 0,
        {"kind": "cafe", "name": "Kahvila", "lat": near_next.lat + 0.0004, "lon": near_next.lon},
    )
    position = _place_of(session, delivered.order_id)

    result = _redirect(session, day, last.order_id, place_id=cafe.id)

    session.expire_all()
    assert result.changed and not result.place_created and result.place.id == cafe.id
    assert session.get(Order, last.order_id).place_id == cafe.id  # type: ignore[union-attr]
    after = route_stops(session, day.route.id or 0)
    assert [s.status for s in after] == [StopStatus.DELIVERED] + [StopStatus.DISPATCHED] * 3
    assert after[0].model_dump() == delivered.model_dump()  # the closed stop is untouched
    assert after[1].order_id == upcoming.order_id  # the driver is on the way: still next
    assert after[2].order_id == last.order_id and result.sequence == 2
    assert result.stops_before == 1 and result.departure == (f"order {delivered.order_id}",
                                                             day.at(10))  # fmt: skip

    # Timed from the delivered stop's place at 10:00, leg by leg, inside every window.
    places = [_place_of(session, s.order_id) for s in after[1:]]
    buffer = _buffer(day.plan)  # the plan's: the re-timed stops are timed as cautiously
    _, first_leg = _travel(position, places[0], buffer)
    assert after[1].arrival_at == day.at(10) + timedelta(seconds=first_leg)
    for (a, sa), (b, sb) in itertools.pairwise(zip(places, after[1:], strict=True)):
        metres, seconds = _travel(a, b, buffer)
        assert sb.arrival_at == sa.departure_at + timedelta(seconds=seconds)
        assert sb.leg_distance_m == metres
    for stop in after[1:]:
        assert day.at(9) <= stop.service_start_at <= day.at(17)
    # The chosen order is the shortest from the vehicle's position, the next stop first.
    legs = sum(_travel(a, b)[0] for a, b in itertools.pairwise([position, *places]))
    swapped = [position, places[0], places[2], places[1]]
    assert legs <= sum(_travel(a, b)[0] for a, b in itertools.pairwise(swapped))

    assert day.at(9) <= result.service_start_at <= day.at(17)
    assert day.at(9) <= result.eta_window[0] <= result.service_start_at <= result.eta_window[1]
    assert result.eta_window[1] <= day.at(17) and result.eta == after[2].arrival_at
    assert result.window == (day.at(9), day.at(17))
    assert [e.order_id for e in result.stops] == [s.order_id for s in after[1:]]
    assert _snapshot(session, day.other_routes) == others_before
    # The plan's totals are still the sum of its routes.
    plan = session.get(Plan, day.plan.id)
    routes = plan_routes(session, day.plan.id or 0)
    assert plan is not None and plan.distance_m == sum(r.distance_m for r in routes)
    assert plan.cost == pytest.approx(sum(r.cost for r in routes))
    log = order_events(session, last.order_id)
    assert log[-1].kind is OrderEventKind.REPLANNED and "redirected to 'Kahvila'" in log[-1].detail


def test_the_same_place_again_changes_nothing(session: Session, day: Day) -> None:
    last = day.stops[-1]
    first = _redirect(session, day, last.order_id, place_id=day.cafe.id)
    events = len(order_events(session, last.order_id))
    snapshot = _snapshot(session, [day.route])

    again = _redirect(session, day, last.order_id, place_id=day.cafe.id, now=day.at(10.5))

    assert not again.changed and again.departure is None and again.stops == ()
    assert (again.eta, again.sequence) == (first.eta, first.sequence)
    assert len(order_events(session, last.order_id)) == events
    assert _snapshot(session, [day.route]) == snapshot


def test_the_next_stop_is_too_late(session: Session, day: Day) -> None:
    before = _snapshot(session, [day.route, *day.other_routes])
    places = _count(session, Place)
    with pytest.raises(Conflict, match=r"too late.*on the way"):
        _redirect(session, day, day.stops[1].order_id, point=[24.95, 60.169])
    assert _snapshot(session, [day.route, *day.other_routes]) == before
    assert _count(session, Place) == places


def test_a_delivered_stop_cannot_be_redirected(session: Session, day: Day) -> None:
    with pytest.raises(Conflict, match="already delivered"):
        _redirect(session, day, day.stops[0].order_id, place_id=day.cafe.id)


def test_a_point_becomes_a_place_of_the_customer(session: Session, day: Day) -> None:
    _, _, third, last = day.stops

    named = _redirect(session, day, last.order_id, point=[24.9512, 60.1688], label="Café Ursula")
    here = _redirect(session, day, third.order_id, point=[24.9400, 60.1700])
    # Another point without a label gets a name of its own; the same point and label, the
    # same place.
    there = _redirect(session, day, third.order_id, point=[24.9410, 60.1710])
    same = _redirect(session, day, last.order_id, point=[24.9512, 60.1688], label="Café Ursula")

    assert named.place_created and here.place_created and there.place_created
    assert not same.place_created and same.place.id == named.place.id
    customer = day.world.customer.id
    for result, name, (lon, lat) in (
        (named, "Café Ursula", (24.9512, 60.1688)),
        (here, DEFAULT_LABEL, (24.9400, 60.1700)),
        (there, f"{DEFAULT_LABEL} (2)", (24.9410, 60.1710)),
    ):
        stored = session.get(Place, result.place.id)
        assert stored is not None
        assert (stored.customer_id, stored.kind, stored.name) == (customer, PlaceKind.OTHER, name)
        assert (stored.lon, stored.lat) == (lon, lat)
    assert _place_of(session, third.order_id).id == there.place.id


def test_a_label_naming_another_place_is_refused(session: Session, day: Day) -> None:
    with pytest.raises(InvalidInput, match="already have a place named 'Café Rosa'") as caught:
        _redirect(session, day, day.stops[-1].order_id, point=[24.9, 60.2], label="Café Rosa")
    assert caught.value.field == ("label",)


def test_unknown_or_foreign_place_is_invalid(session: Session, day: Day) -> None:
    bert = create_customer(session, {"name": "Bertil Lindqvist"})
    foreign = add_place(session, bert.id or 0, {"name": "home", "lat": 60.18, "lon": 24.93})
    for place_id in (9_999, foreign.id):
        with pytest.raises(InvalidInput, match="has no place") as caught:
            _redirect(session, day, day.stops[-1].order_id, place_id=place_id)
        assert caught.value.field == ("place_id",)
    assert session.get(Order, day.stops[-1].order_id).place_id != foreign.id  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("request_", "field", "message"),
    [
        # longitude off the globe
        ({"point": [200.0, 60.17]}, ("point", 0), "longitude 200.0 is not in"),
        # latitude off the globe
        ({"point": [24.94, 95.0]}, ("point", 1), r"latitude 95.0 is not in .*\[lon, lat\]"),
        # not a number
        ({"point": [float("nan"), 60.17]}, ("point", 0), "longitude nan"),
        ({"point": ["24.9", 60.17]}, ("point", 0), "not a number"),
        # one number only
        ({"point": [24.94]}, ("point",), "two numbers"),
        # on the globe but in Stockholm, 400 km away
        ({"point": [18.0686, 59.3293]}, ("point",), "km from depot 'HEL1'"),
        # [lat, lon] by mistake: the hint says so
        ({"point": [60.1690, 24.9500]}, ("point",), r"looks like \[lat, lon\]"),
        # neither, both, and a label for a stored place
        ({}, ("place_id",), "neither given"),
        ({"place_id": 1, "point": [24.94, 60.17]}, ("point",), "not both"),
        ({"place_id": 1, "label": "x"}, ("label",), "drop label"),
        ({"point": [24.94, 60.17], "label": "  "}, ("label",), "1 to 100 characters"),
    ],
)
def test_bad_input_names_the_field(
    session: Session, day: Day, request_: dict[str, Any], field: tuple[Any, ...], message: str
) -> None:
    places = _count(session, Place)
    with pytest.raises(InvalidInput, match=message) as caught:
        _redirect(session, day, day.stops[-1].order_id, **request_)
    assert caught.value.field == field
    assert _count(session, Place) == places


def test_a_radius_can_be_set(session: Session, day: Day) -> None:
    with pytest.raises(InvalidInput, match=r"beyond 1\.0 km") as caught:
        _redirect(session, day, day.stops[-1].order_id, point=list(KERAVA), max_radius_m=1_000)
    assert caught.value.field == ("point",)


def test_an_unservable_redirect_writes_nothing(session: Session, day: Day) -> None:
    last = day.stops[-1]
    before = _snapshot(session, [day.route, *day.other_routes])
    places, events = _count(session, Place), len(order_events(session, last.order_id))
    # At 16:30 the town an hour away cannot be reached before the window closes at 17:00.
    with pytest.raises(Conflict, match=rf"order {last.order_id}: window_unreachable") as caught:
        _redirect(session, day, last.order_id, point=list(KERAVA), now=day.at(16.5))
    assert "the route is unchanged" in str(caught.value)
    assert _snapshot(session, [day.route, *day.other_routes]) == before
    assert _count(session, Place) == places
    assert len(order_events(session, last.order_id)) == events
    assert _place_of(session, last.order_id).id != day.cafe.id


def test_stops_that_no_longer_fit_together_write_nothing(session: Session, day: Day) -> None:
    delivered, _, third, last = day.stops
    before = _snapshot(session, [day.route, *day.other_routes])
    position = _place_of(session, delivered.order_id)
    # Leave so late that each stop alone is still reached by 17:00, but not all three after
    # the next stop (two services of 2 minutes and the legs between them come first).
    buffer = _buffer(day.plan)  # the redirect times legs as the plan did
    alone = max(
        _travel(position, p, buffer)[1] for p in (_place_of(session, third.order_id), day.cafe)
    )
    now = day.at(17) - timedelta(seconds=alone + 30)
    with pytest.raises(Conflict, match="dropped_by_optimiser") as caught:
        update_whereabouts(
            session, last.order_id, place_id=day.cafe.id, now=now, travel=TRAVEL,
            limits=Limits(time_limit=1.0, seed_with="none"),
        )  # fmt: skip
    assert "the route is unchanged" in str(caught.value)
    assert _snapshot(session, [day.route, *day.other_routes]) == before
    assert _place_of(session, last.order_id).id != day.cafe.id


def _return_stop(session: Session, day: Day, sequence: int) -> ReturnStop:
    """A return pickup stored on the dispatched route at ``sequence`` (as planning stores
    one), for the delivered order's line."""
    delivered = session.get(Order, day.stops[0].order_id)
    assert delivered is not None and delivered.id is not None
    (item,) = order_items(session, delivered.id)
    item_return = ItemReturn(
        customer_id=delivered.customer_id, order_id=delivered.id, order_item_id=item.id or 0,
        depot_id=delivered.depot_id, sku="DRS-BLK-S", condition=Condition.A,
        reason=ReturnReason.TOO_SMALL, destination_kind=DestinationKind.WAREHOUSE,
        destination_id="warehouse", destination_name="warehouse", expected_recovery_eur=0.0,
        resale_probability=0.0, explanation="", transfer_km=0.0, transfer_co2_kg=0.0,
    )  # fmt: skip
    session.add(item_return)
    session.flush()
    at = day.at(11)
    stop = ReturnStop(
        route_id=day.route.id or 0, return_id=item_return.id or 0,
        kind=ReturnStopKind.PICKUP, sequence=sequence, arrival_at=at, service_start_at=at,
        departure_at=at, wait_s=0, leg_distance_m=0, load_after=[0, 0, 0],
    )  # fmt: skip
    session.add(stop)
    session.commit()
    return stop


def test_a_route_collecting_returns_further_on_is_refused(session: Session, day: Day) -> None:
    # Return stops share the route's sequence; a pickup after the next stop would be
    # disturbed, so the redirect is left to a planner's re-plan.
    _return_stop(session, day, sequence=len(day.stops) + 1)
    before = _snapshot(session, [day.route])
    with pytest.raises(Conflict, match=r"also collects 1 return stop"):
        _redirect(session, day, day.stops[-1].order_id, place_id=day.cafe.id)
    assert _snapshot(session, [day.route]) == before


def test_after_the_shift_nothing_can_be_redirected(session: Session, day: Day) -> None:
    with pytest.raises(Conflict, match="shift ends at 18:00"):
        _redirect(session, day, day.stops[-1].order_id, place_id=day.cafe.id, now=day.at(18.5))


def test_a_route_that_has_not_left_is_replanned_from_the_depot(
    session: Session, world: World
) -> None:
    day = _plan_a_day(session, world, dispatch=False)
    others = _snapshot(session, day.other_routes)
    first = day.stops[0]

    result = _redirect(session, day, first.order_id, place_id=day.cafe.id, now=day.at(7))

    assert result.changed and result.departure == ("depot", day.at(8))
    session.expire_all()
    stops = route_stops(session, day.route.id or 0)
    assert sorted(s.order_id for s in stops) == sorted(s.order_id for s in day.stops)
    assert all(s.status is StopStatus.PLANNED for s in stops)
    route = session.get(Route, day.route.id)
    assert route is not None and route.status is RouteStatus.PLANNED
    assert day.at(8) <= route.start_at <= stops[0].arrival_at
    assert stops[-1].departure_at <= route.end_at
    assert route.duration_s == (route.end_at - route.start_at).total_seconds()
    assert _place_of(session, first.order_id).id == day.cafe.id
    assert _snapshot(session, day.other_routes) == others


def test_orders_off_the_plan_and_of_others(session: Session, day: Day) -> None:
    world = day.world
    late = register_order(session, order_data(world, **WINDOW), "late")
    with pytest.raises(Conflict, match="not on a route of the current plan"):
        _redirect(session, day, late.id or 0, place_id=day.cafe.id)
    bert = create_customer(session, {"name": "Bertil Lindqvist"})
    with pytest.raises(NotFound):
        _redirect(session, day, day.stops[-1].order_id, place_id=day.cafe.id,
                  customer_id=bert.id)  # fmt: skip
    with pytest.raises(NotFound):
        _redirect(session, day, 9_999, place_id=day.cafe.id)
    # The customer's own key reaches it.
    mine = _redirect(
        session, day, day.stops[-1].order_id, place_id=day.cafe.id, customer_id=world.customer.id
    )
    assert mine.changed


def test_now_needs_an_offset(session: Session, day: Day) -> None:
    with pytest.raises(InvalidInput) as caught:
        _redirect(session, day, day.stops[-1].order_id, place_id=day.cafe.id,
                  now=datetime(2025, 3, 3, 10))  # fmt: skip
    assert caught.value.field == ("now",)


def test_every_moved_stop_is_logged(session: Session, day: Day) -> None:
    last = day.stops[-1]
    result = _redirect(session, day, last.order_id, place_id=day.cafe.id)
    moved = {e.order_id for e in result.stops if e.changed} | {last.order_id}
    logged = {
        oid
        for oid in (s.order_id for s in day.stops[1:])
        if order_events(session, oid)[-1].kind is OrderEventKind.REPLANNED
    }
    assert logged == moved
    stops = session.exec(select(RouteStop).where(col(RouteStop.route_id) == day.route.id)).all()
    assert len({s.sequence for s in stops}) == len(stops) == 4
    assert all(s.arrival_at.tzinfo is not None for s in stops)
    assert all(s.arrival_at >= datetime(2025, 3, 3, tzinfo=UTC) for s in stops)


# -- the advice names the cause: the window or the place (issue #17) -----------------------------


def test_a_window_already_over_is_not_blamed_on_the_place(session: Session, day: Day) -> None:
    """At 17:05 the 09:00-17:00 window is over: no place could help, so the refusal says to
    choose another window or day, not a place nearer the route."""
    last = day.stops[-1]
    with pytest.raises(Conflict, match=rf"order {last.order_id}: window_unreachable") as caught:
        _redirect(session, day, last.order_id, place_id=day.cafe.id, now=day.at(17 + 5 / 60))
    message = str(caught.value)
    assert "nearer" not in message
    assert "window" in message.split(" — ")[-1] and "17:00" in message.split(" — ")[-1]


def test_a_place_too_far_for_the_window_is_blamed_on_the_place(session: Session, day: Day) -> None:
    """At 16:30 the café would be reached in time, the town an hour away would not: the
    refusal says to choose a place nearer the route (or a later window)."""
    last = day.stops[-1]
    with pytest.raises(Conflict, match=rf"order {last.order_id}: window_unreachable") as caught:
        _redirect(session, day, last.order_id, point=list(KERAVA), now=day.at(16.5))
    advice = str(caught.value).split(" — ")[-1]
    assert "nearer" in advice and "later window" in advice


# -- a redirect is timed on the plan's buffer (issue #17) ----------------------------------------


@pytest.mark.parametrize("confidence", [0.9, 0.0])
def test_a_redirect_re_times_on_the_buffer_of_the_plan(
    session: Session, world: World, confidence: float
) -> None:
    """A plan made at confidence 0.9 has cautious legs and services; a redirect re-times the
    rest of its route on that same buffer (``stats["buffer"]``), leg by leg, from the
    vehicle's position (the extra origin) on — not on the provider's bare times, which would
    promise ETAs the rest of the plan would not and mislead the spread learned from them. A
    plan made without a buffer (confidence 0) is re-timed on bare times."""
    day = _plan_a_day(session, world, settings=Settings(promise_confidence=confidence))
    buffer = _buffer(day.plan)
    if confidence:
        assert buffer.confidence == confidence
        assert buffer.travel_factor("car") > 1.1 and buffer.service > 1.3
    else:
        assert buffer.is_identity
    delivered, upcoming, third, last = day.stops
    planned_service = {
        s.order_id: s.departure_at - s.service_start_at for s in (upcoming, third, last)
    }
    position = _place_of(session, delivered.order_id)

    result = _redirect(session, day, last.order_id, place_id=day.cafe.id)

    session.expire_all()
    after = route_stops(session, day.route.id or 0)[1:]
    assert {s.order_id for s in after} == set(planned_service) and result.changed
    places = [position, *(_place_of(session, s.order_id) for s in after)]
    leave = day.at(10)
    for (a, b), stop in zip(itertools.pairwise(places), after, strict=True):
        metres, seconds = _travel(a, b, buffer)
        assert stop.leg_distance_m == metres  # distances are never scaled
        assert stop.arrival_at == leave + timedelta(seconds=seconds), (a.name, b.name)
        # Service as the plan planned it (the same order, the same buffered service time).
        assert stop.departure_at - stop.service_start_at == planned_service[stop.order_id]
        leave = stop.departure_at
