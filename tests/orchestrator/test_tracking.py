"""The customer's live view of an order: its stage, an ETA window by the stated rule, the stops
before theirs as a count, the vehicle's kind, their own places, whether a return may start —
and nothing of any other customer."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from orchestrator.concierge.profiles import get_profile, put_profile
from orchestrator.errors import InvalidInput, NotFound
from orchestrator.intake.catalog import add_place, create_customer, customer_places
from orchestrator.intake.orders import register_order
from orchestrator.models import HoldStatus, OptionHold, Order, Place, RouteStop
from orchestrator.operations.dispatch import dispatch_route, mark_stop_outcome
from orchestrator.operations.tracking import (
    MAX_HANDOFF_CHARS,
    RedirectBlock,
    ReturnBlock,
    Stage,
    eta_window,
    set_handoff_instructions,
    tracking_view,
)
from orchestrator.planning.plans import current_plan, plan_day, plan_routes, route_stops
from tests.orchestrator.conftest import DAY, LIMITS, POINTS, TRAVEL, World, make_world, order_data

WINDOW = {"window_start": "2025-03-03T09:00:00+02:00", "window_end": "2025-03-03T17:00:00+02:00"}
"""Every order's promised window: 09:00-17:00 in Helsinki."""
NOW = datetime(2025, 3, 2, 12, 0, tzinfo=UTC)
"""The day before the service day."""


def utc(hour: int, minute: int = 0, second: int = 0) -> datetime:
    """An instant on the service day, UTC."""
    return datetime(2025, 3, 3, hour, minute, second, tzinfo=UTC)


# -- the ETA window rule -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hand_over", "window", "band", "late"),
    [
        # +-10 min, rounded outwards to 5 min
        (utc(10, 2), (utc(7), utc(15)), (utc(9, 50), utc(10, 15)), False),
        # already on 5-minute marks: exactly +-10 min
        (utc(10, 0), (utc(7), utc(15)), (utc(9, 50), utc(10, 10)), False),
        # clipped to the promised window at both ends
        (utc(7, 3), (utc(7), utc(7, 10)), (utc(7), utc(7, 10)), False),
        # late: after the window, not clipped
        (utc(15, 7), (utc(7), utc(15)), (utc(14, 55), utc(15, 20)), True),
        # no promised window
        (utc(12, 0, 30), None, (utc(11, 50), utc(12, 15)), False),
    ],
)
def test_the_eta_window_rule(
    hand_over: datetime,
    window: tuple[datetime, datetime] | None,
    band: tuple[datetime, datetime],
    late: bool,
) -> None:
    assert eta_window(hand_over, window) == (band, late)
    low, high = band
    assert low <= hand_over <= high


# -- the view ------------------------------------------------------------------------------------


@dataclass
class Day:
    """A planned day: Aino's and Bertil's orders on one van, all 09:00-17:00."""

    world: World
    bertil_id: int
    bertil_place: Place
    mine: list[Order]
    theirs: list[Order]


def _day(session: Session) -> Day:
    world = make_world(session, vans=1)
    bertil = create_customer(session, {"name": "Bertil Lindqvist"})
    assert bertil.id is not None
    mine, theirs = [], []
    for k, (lat, lon) in enumerate(POINTS[:6]):
        if k % 2 == 0:
            place = add_place(session, world.customer.id or 0, {"name": f"p{k}", "lat": lat,
                                                              "lon": lon})  # fmt: skip
            data = order_data(world, place_id=place.id, **WINDOW)
            mine.append(register_order(session, data, f"a{k}"))
        else:
            place = add_place(
                session, bertil.id, {"name": f"secret {k}", "lat": lat, "lon": lon,
                                     "address": f"Salainen katu {k}"},
            )  # fmt: skip
            data = order_data(world, customer_id=bertil.id, place_id=place.id, **WINDOW)
            theirs.append(register_order(session, data, f"b{k}"))
    plan_day(session, world.depot.id or 0, DAY, limits=LIMITS, travel=TRAVEL)
    return Day(world, bertil.id, place, mine, theirs)


@pytest.fixture
def day(session: Session) -> Day:
    """Three orders of Aino and three of Bertil on one planned van route."""
    return _day(session)


def _stops(session: Session, day: Day) -> list[RouteStop]:
    """The one route's stops in visiting order."""
    return _all_stops(session, day.world)


def test_an_open_order_waits_for_a_choice(session: Session) -> None:
    world = make_world(session)
    order = register_order(session, order_data(world), "o1")

    view = tracking_view(session, order.id or 0, customer_id=world.customer.id, now=NOW)

    assert view.stage is Stage.OPEN and view.can_choose
    assert view.eta is None and view.eta_window is None and view.stops_before is None
    assert view.redirect_blocked is RedirectBlock.NOT_PLANNED and not view.can_redirect
    assert view.return_blocked is ReturnBlock.NOT_DELIVERED and not view.can_return
    assert [(p.name, p.current) for p in view.places] == [("home", True), ("office", False)]
    assert view.place is not None and view.place.name == "home"
    assert view.timezone == "Europe/Helsinki"  # the depot's: no profile stored


def test_a_planned_order_counts_the_stops_before_it_and_names_no_one_else(
    session: Session, day: Day
) -> None:
    stops = _stops(session, day)
    mine_ids = {o.id for o in day.mine}
    last_mine = max((s for s in stops if s.order_id in mine_ids), key=lambda s: s.sequence)

    view = tracking_view(session, last_mine.order_id, customer_id=day.world.customer.id, now=NOW)

    assert view.stage is Stage.PLANNED
    assert view.stops_before == last_mine.sequence
    assert view.vehicle_kind == "van"
    assert view.eta == last_mine.service_start_at
    assert view.eta_window is not None and view.window is not None
    low, high = view.eta_window
    assert view.window[0] <= low <= last_mine.service_start_at <= high <= view.window[1]
    assert (high - low) <= timedelta(minutes=30) and not view.late
    assert view.can_redirect and view.redirect_blocked is None
    # nothing of Bertil: not his places, not his orders' ids, not his name or address
    text = repr(dataclasses.asdict(view))
    assert "secret" not in text and "Salainen" not in text and "Bertil" not in text
    assert {p.id for p in view.places} == {p.id for p in _places(session, day.world)}


def _places(session: Session, world: World) -> list[Place]:
    return list(customer_places(session, world.customer.id or 0))


def test_another_customers_order_is_not_found(session: Session, day: Day) -> None:
    with pytest.raises(NotFound):
        tracking_view(session, day.theirs[0].id or 0, customer_id=day.world.customer.id, now=NOW)
    staff = tracking_view(session, day.theirs[0].id or 0, now=NOW)
    assert staff.customer_id == day.bertil_id
    with pytest.raises(NotFound):
        tracking_view(session, 10_000, now=NOW)


def test_on_its_way_then_delivered(session: Session, day: Day) -> None:
    stops = _stops(session, day)
    dispatch_route(session, stops[0].route_id)
    first = tracking_view(session, stops[0].order_id, now=NOW)
    assert first.stage is Stage.ON_ITS_WAY and first.stops_before == 0
    assert first.redirect_blocked is RedirectBlock.NEXT_STOP  # the driver is on the way to it
    second = tracking_view(session, stops[1].order_id, now=NOW)
    assert second.stage is Stage.ON_ITS_WAY and second.can_redirect and second.stops_before == 1

    mark_stop_outcome(session, stops[0].id or 0, "delivered", at=stops[0].departure_at)
    done = tracking_view(session, stops[0].order_id, now=NOW)
    assert done.stage is Stage.DELIVERED and done.closed_at == stops[0].departure_at
    assert done.redirect_blocked is RedirectBlock.CLOSED
    # the demo's orders have no SKU lines: no return can start, and the view says why
    assert done.return_blocked is ReturnBlock.NO_SKU and not done.can_return
    assert tracking_view(session, stops[1].order_id, now=NOW).stops_before == 0


def test_a_delivered_line_with_a_sku_may_be_returned(session: Session) -> None:
    world = make_world(session, vans=1)
    items = [{"description": "dress", "weight_g": 500, "volume_ml": 2_000, "sku": "DRESS-M"}]
    order = register_order(session, order_data(world, items=items, **WINDOW), "sku")
    plan_day(session, world.depot.id or 0, DAY, limits=LIMITS, travel=TRAVEL)
    (stop,) = _all_stops(session, world)
    dispatch_route(session, stop.route_id)
    mark_stop_outcome(session, stop.id or 0, "delivered", at=stop.departure_at)

    view = tracking_view(session, order.id or 0, now=NOW)

    assert view.can_return and view.return_blocked is None
    assert [(i.description, i.sku, i.returnable) for i in view.items] == [
        ("dress", "DRESS-M", True)
    ]


def _all_stops(session: Session, world: World) -> list[RouteStop]:
    plan = current_plan(session, world.depot.id or 0, DAY)
    assert plan is not None
    return [s for r in plan_routes(session, plan.id or 0) for s in route_stops(session, r.id or 0)]


def test_a_choice_confirmed_after_the_plan_shows_its_own_band(session: Session, day: Day) -> None:
    order = day.mine[0]
    when = datetime.now(UTC) + timedelta(minutes=1)  # after the plan's events
    hold = OptionHold(
        order_id=order.id or 0,
        customer_id=order.customer_id,
        depot_id=day.world.depot.id or 0,
        service_day=DAY,
        place_id=day.world.office.id or 0,
        window_start=utc(8),
        window_end=utc(10),
        service_level="standard",
        vehicle_type="van",
        vehicle_id="van-1",
        eta_start=utc(8, 17),
        eta_end=utc(8, 52),
        price_eur=4.9,
        marginal_cost_eur=1.0,
        co2_g=120.0,
        status=HoldStatus.CONFIRMED,
        created_at=when,
        expires_at=when + timedelta(minutes=15),
        closed_at=when,
    )
    session.add(hold)
    session.commit()

    view = tracking_view(session, order.id or 0, customer_id=order.customer_id, now=NOW)

    assert view.stage is Stage.CONFIRMED
    assert view.eta_window == (utc(8, 15), utc(8, 55))  # the option's band, rounded out
    assert view.vehicle_kind == "van"
    assert view.hold is not None and view.hold.place == "office"
    assert view.stops_before is None  # the plan's count is of the old timing
    assert view.can_redirect  # the order is on a route: "I'm at ..." re-times it at once


def test_the_customers_zone_and_language_come_from_the_profile(session: Session) -> None:
    world = make_world(session)
    order = register_order(session, order_data(world), "o1")
    put_profile(
        session, world.customer.id or 0,
        {"timezone": "Europe/Stockholm", "language": "sv", "handoff_instructions": "Ring twice"},
    )  # fmt: skip

    view = tracking_view(session, order.id or 0, now=NOW)

    assert (view.timezone, view.language) == ("Europe/Stockholm", "sv")
    assert view.handoff_instructions == "Ring twice"


def test_hand_off_instructions_change_alone(session: Session) -> None:
    world = make_world(session)
    order = register_order(session, order_data(world), "o1")
    rule = {"place_id": world.office.id, "weekdays": ["mon"], "start": "09:00", "end": "17:00"}
    put_profile(session, world.customer.id or 0, {"schedule": [rule], "prefers_eco": True})

    said = set_handoff_instructions(
        session, order.id or 0, "  Leave with the concierge  ", customer_id=world.customer.id
    )

    assert said == "Leave with the concierge"
    profile = get_profile(session, world.customer.id or 0)
    assert profile.handoff_instructions == "Leave with the concierge"
    assert profile.prefers_eco and [r.place for r in profile.schedule] == ["office"]
    assert set_handoff_instructions(session, order.id or 0, "   ") is None
    with pytest.raises(InvalidInput) as refused:
        set_handoff_instructions(session, order.id or 0, "x" * (MAX_HANDOFF_CHARS + 1))
    assert refused.value.field == ("handoff_instructions",)
    other = create_customer(session, {"name": "Bertil"})
    with pytest.raises(NotFound):
        set_handoff_instructions(session, order.id or 0, "hi", customer_id=other.id)


def test_a_new_profile_takes_the_depots_zone(session: Session) -> None:
    world = make_world(session)
    order = register_order(session, order_data(world), "o1")
    set_handoff_instructions(session, order.id or 0, "Ring twice")
    assert tracking_view(session, order.id or 0, now=NOW).timezone == world.depot.timezone
