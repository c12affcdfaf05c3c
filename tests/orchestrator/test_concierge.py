"""Tests of the concierge services on SQLite and PostgreSQL: options for stored orders against
the day's tentative plan, holds that expire, confirmation onto the order, learning from choices
and outcomes, and that every option offered is truly feasible (an independent replay of the
route with the option inserted, and a full re-plan that serves it inside its window)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, select

from orchestrator.concierge.offers import (
    choose_option,
    clear_caches,
    confirm_hold,
    expire_holds,
    get_hold,
    options_for_order,
    release_hold,
)
from orchestrator.concierge.profiles import (
    delete_profile,
    export_customer,
    get_profile,
    put_profile,
)
from orchestrator.errors import Conflict, InvalidInput, NotFound
from orchestrator.intake.catalog import add_fleet, add_place, create_customer, create_vehicle_type
from orchestrator.intake.orders import register_order
from orchestrator.models import (
    CustomerProfile,
    HoldStatus,
    OptionHold,
    Order,
    OrderEvent,
    OrderItem,
    OrderStatus,
    Place,
    Plan,
    PlanStatus,
    Route,
    RouteStop,
    UnservedOrder,
)
from orchestrator.operations.dispatch import dispatch_route, mark_stop_outcome
from orchestrator.planning.inputs import OrderInput
from orchestrator.planning.plans import plan_day, plan_routes, route_stops
from orchestrator.planning.problem import build_problem, stop_id
from orchestrator.planning.rows import depot_input, fleet_inputs, order_input
from orchestrator.planning.tentative import tentative_day
from orchestrator.planning.travel import StraightLineTravel
from routing import Limits
from tests.orchestrator.conftest import DAY, HOUR, World, order_data
from tests.routing.conftest import route_feasible_distance

HEL = ZoneInfo("Europe/Helsinki")
NOW = datetime(2025, 3, 2, 18, 0, tzinfo=HEL)
"""The evening before the service day (a Monday)."""
TRAVEL = StraightLineTravel(detour_factor=1.3)
LIMITS = Limits(time_limit=3.0, solution_limit=50, seed_with="none")


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    """Ids restart between tests on PostgreSQL: no timeline may survive a test."""
    clear_caches()
    yield
    clear_caches()


def order(session: Session, world: World, key: str, **changes: Any) -> Order:
    """An order of the world's customer for DAY, with no place or window chosen yet."""
    data = order_data(world, place_id=None, mode=None, **changes)
    return register_order(session, data, key)


def office_weekdays(session: Session, world: World, **changes: Any) -> None:
    """Aino is at the office Mon-Fri 09-17, at home otherwise."""
    put_profile(
        session,
        world.customer.id or 0,
        {
            "timezone": "Europe/Helsinki",
            "default_place_id": world.home.id,
            "schedule": [
                {
                    "place_id": world.office.id,
                    "weekdays": ["mon", "tue", "wed", "thu", "fri"],
                    "start": "09:00",
                    "end": "17:00",
                },
            ],
            **changes,
        },
        now=NOW,
    )


def options(session: Session, o: Order, **kw: Any) -> list[dict[str, Any]]:
    kw.setdefault("now", NOW)
    kw.setdefault("travel", TRAVEL)
    answer = options_for_order(session, o.id or 0, **kw)
    return [opt.model_dump() for opt in answer.options]


def choice(opt: dict[str, Any]) -> dict[str, Any]:
    return {k: opt[k] for k in ("place_id", "service_level", "window_start", "window_end")}


# -- profiles -----------------------------------------------------------------------------------


def test_a_new_customer_has_the_defaults(session: Session, world: World) -> None:
    profile = get_profile(session, world.customer.id or 0)
    assert profile.updated_at is None
    assert profile.default_place == "home" and profile.schedule == []
    assert not profile.accepts_robot and profile.accepts_courier
    assert profile.eco_max_wait_days == 0


def test_put_profile_names_places_by_id_or_name(session: Session, world: World) -> None:
    cafe = add_place(
        session, world.customer.id or 0,
        {"kind": "cafe", "name": "Café Rosa", "lat": 60.168, "lon": 24.950},
    )  # fmt: skip
    stored = put_profile(
        session,
        world.customer.id or 0,
        {
            "schedule": [
                {
                    "place_id": world.office.id,
                    "weekdays": ["mon", "fri"],
                    "start": "09:00",
                    "end": "17:00",
                },
                {"place": "Café Rosa", "weekdays": ["sat"], "start": "09:00", "end": "12:00"},
            ],
            "preferred_windows": [{"weekdays": ["sat"], "start": "10:00", "end": "12:00"}],
            "accepts_robot": True,
            "prefers_eco": True,
            "eco_max_wait_days": 2,
            "language": "fi",
            "handoff_instructions": "ring twice",
        },
        now=NOW,
    )
    assert [(r.place_id, r.place) for r in stored.schedule] == [
        (world.office.id, "office"),
        (cafe.id, "Café Rosa"),
    ]
    assert stored.schedule[0].start == time(9) and stored.updated_at is not None
    again = get_profile(session, world.customer.id or 0)
    assert again == stored


@pytest.mark.parametrize(
    ("change", "field"),
    [
        # a place id that is not the customer's
        ({"schedule": [{"place_id": 999, "weekdays": ["mon"], "start": "09:00", "end": "10:00"}]},
         ("schedule", 0, "place_id")),
        # a place name that is not the customer's
        ({"schedule": [{"place": "gym", "weekdays": ["mon"], "start": "09:00", "end": "10:00"}]},
         ("schedule", 0, "place")),
        # a weekday that does not exist
        ({"schedule": [{"place": "home", "weekdays": ["monday"], "start": "09:00",
                        "end": "10:00"}]}, ("schedule", 0, "weekdays", 0)),
        # a preferred window outside the day
        ({"preferred_windows": [{"start": "22:00", "end": "02:00"}]}, ("preferred_windows", 0)),
        # an unknown time zone
        ({"timezone": "Mars/Olympus"}, ("timezone",)),
        # a default place that is not the customer's
        ({"default_place_id": 999}, ("default_place_id",)),
        # a field the profile does not keep (privacy: only what options need)
        ({"birthday": "1990-01-01"}, ("birthday",)),
    ],
)  # fmt: skip
def test_bad_profiles_name_the_field(
    session: Session, world: World, change: dict[str, Any], field: tuple[Any, ...]
) -> None:
    with pytest.raises(InvalidInput) as caught:
        put_profile(session, world.customer.id or 0, change, now=NOW)
    assert caught.value.field == field
    assert get_profile(session, world.customer.id or 0).updated_at is None


def test_another_customers_place_is_not_yours(session: Session, world: World) -> None:
    other = create_customer(session, {"name": "Other"})
    theirs = add_place(
        session, other.id or 0, {"kind": "home", "name": "home", "lat": 60.2, "lon": 24.9}
    )
    with pytest.raises(InvalidInput) as caught:
        put_profile(
            session, world.customer.id or 0,
            {"schedule": [{"place_id": theirs.id, "weekdays": ["mon"], "start": "09:00",
                           "end": "10:00"}]},
        )  # fmt: skip
    assert caught.value.field == ("schedule", 0, "place_id")


# -- options and holds --------------------------------------------------------------------------


def test_options_follow_the_schedule_on_an_unplanned_day(session: Session, world: World) -> None:
    office_weekdays(session, world)
    o = order(session, world, "o1")
    found = options(session, o, days=2, k=5)
    assert 1 <= len(found) <= 5
    assert sum(opt["greenest"] for opt in found) == 1
    for opt in found:
        start = opt["window_start"].astimezone(HEL)
        assert opt["window_start"].utcoffset() == timedelta(hours=2)  # the depot's offset
        expected = "office" if start.weekday() < 5 and 9 <= start.hour < 17 else "home"
        assert opt["place"] == expected
        assert opt["place_id"] in (world.home.id, world.office.id)
        assert opt["vehicle_type"] == "van"
        assert opt["price_eur"] > 0 and opt["co2_g"] >= 0 and opt["explanation"]
        assert opt["eta_start"] >= opt["window_start"] and opt["eta_end"] <= opt["window_end"]


def test_a_hold_takes_room_and_confirming_writes_the_order(session: Session, world: World) -> None:
    office_weekdays(session, world)
    o = order(session, world, "o1")
    opt = options(session, o, days=1)[0]
    hold = choose_option(session, o.id or 0, choice(opt), now=NOW, travel=TRAVEL)
    assert hold.status is HoldStatus.HELD
    assert hold.expires_at == NOW + timedelta(minutes=15)
    day = tentative_day(session, world.depot, DAY, now=NOW, travel=TRAVEL)
    assert day.plan.timeline.stop_count == 1  # the held option is in the tentative plan

    confirmed = confirm_hold(session, hold.id, now=NOW + timedelta(minutes=5))
    assert confirmed.status is HoldStatus.CONFIRMED
    session.refresh(o)
    assert o.place_id == opt["place_id"] and o.service_day == opt["service_day"]
    assert o.window_start == opt["window_start"] and o.window_end == opt["window_end"]
    # Confirmed: still one stop (now as the order), and confirming again changes nothing.
    day = tentative_day(session, world.depot, DAY, now=NOW, travel=TRAVEL)
    assert day.plan.timeline.stop_count == 1
    assert confirm_hold(session, hold.id, now=NOW + timedelta(hours=1)) == confirmed
    with pytest.raises(Conflict, match="confirmed"):
        release_hold(session, hold.id, now=NOW)

    # The next full plan keeps the stop at the chosen place and inside the chosen window.
    plan = plan_day(session, world.depot.id or 0, DAY, limits=LIMITS, travel=TRAVEL)
    assert plan.n_served == 1
    (route,) = plan_routes(session, plan.id or 0)
    (stop,) = route_stops(session, route.id or 0)
    assert opt["window_start"] <= stop.service_start_at <= opt["window_end"]


def test_holds_expire_and_never_block(session: Session, world: World) -> None:
    o = order(session, world, "o1")
    opt = options(session, o, days=1)[0]
    hold = choose_option(session, o.id or 0, choice(opt), now=NOW, travel=TRAVEL)
    later = NOW + timedelta(minutes=16)
    # Expired: the tentative plan no longer has it, whether marked or not.
    assert (
        tentative_day(session, world.depot, DAY, now=later, travel=TRAVEL).plan.timeline.stop_count
        == 0
    )
    with pytest.raises(Conflict, match="expired"):
        confirm_hold(session, hold.id, now=later)
    assert get_hold(session, hold.id, now=later).status is HoldStatus.EXPIRED
    session.refresh(o)
    assert o.place_id is None and o.window_start is None
    # Releasing an expired hold changes nothing; choosing again works.
    assert release_hold(session, hold.id, now=later).status is HoldStatus.EXPIRED
    again = choose_option(session, o.id or 0, choice(opt), now=later, travel=TRAVEL)
    assert again.status is HoldStatus.HELD


def test_choosing_again_releases_the_previous_hold(session: Session, world: World) -> None:
    o = order(session, world, "o1")
    first, second = options(session, o, days=1, k=2)
    a = choose_option(session, o.id or 0, choice(first), now=NOW, travel=TRAVEL)
    b = choose_option(session, o.id or 0, choice(second), now=NOW, travel=TRAVEL)
    assert get_hold(session, a.id, now=NOW).status is HoldStatus.RELEASED
    assert get_hold(session, b.id, now=NOW).status is HoldStatus.HELD
    assert (
        tentative_day(session, world.depot, DAY, now=NOW, travel=TRAVEL).plan.timeline.stop_count
        == 1
    )
    assert release_hold(session, b.id, now=NOW).status is HoldStatus.RELEASED
    assert (
        tentative_day(session, world.depot, DAY, now=NOW, travel=TRAVEL).plan.timeline.stop_count
        == 0
    )


def test_expire_holds_marks_the_due_ones(session: Session, world: World) -> None:
    o = order(session, world, "o1")
    choose_option(session, o.id or 0, choice(options(session, o, days=1)[0]), now=NOW,
                  travel=TRAVEL)  # fmt: skip
    assert expire_holds(session, now=NOW + timedelta(minutes=10)) == 0
    assert expire_holds(session, now=NOW + timedelta(minutes=15)) == 1
    (hold,) = session.exec(select(OptionHold)).all()
    assert hold.status is HoldStatus.EXPIRED


@pytest.mark.parametrize(
    ("change", "field"),
    [
        # a place of nobody
        ({"place_id": 999}, ("place_id",)),
        # a window running past the day's midnight
        ({"window_end": datetime(2025, 3, 4, 1, 0, tzinfo=HEL)}, ("window_end",)),
        # a window ending before it starts
        ({"window_end": datetime(2025, 3, 3, 8, 0, tzinfo=HEL)}, ("window_end",)),
        # a day before the order's service day
        ({"window_start": datetime(2025, 3, 2, 20, 0, tzinfo=HEL),
          "window_end": datetime(2025, 3, 2, 22, 0, tzinfo=HEL)}, ("window_start",)),
        # a window that is not one offered (a 2-hour standard window at 10:30)
        ({"window_start": datetime(2025, 3, 3, 10, 30, tzinfo=HEL),
          "window_end": datetime(2025, 3, 3, 12, 30, tzinfo=HEL)}, ("window_start",)),
        # an unknown service level
        ({"service_level": "teleport"}, ("service_level",)),
    ],
)  # fmt: skip
def test_bad_choices_name_the_field(
    session: Session, world: World, change: dict[str, Any], field: tuple[Any, ...]
) -> None:
    o = order(session, world, "o1")
    good = {
        "place_id": world.home.id,
        "service_level": "standard",
        "window_start": datetime(2025, 3, 3, 10, 0, tzinfo=HEL),
        "window_end": datetime(2025, 3, 3, 12, 0, tzinfo=HEL),
    }
    with pytest.raises(InvalidInput) as caught:
        choose_option(session, o.id or 0, {**good, **change}, now=NOW, travel=TRAVEL)
    assert caught.value.field == field
    assert session.exec(select(OptionHold)).all() == []
    # The good choice itself is fine.
    assert choose_option(session, o.id or 0, good, now=NOW, travel=TRAVEL).status is HoldStatus.HELD


def test_another_customers_order_is_not_found(session: Session, world: World) -> None:
    o = order(session, world, "o1")
    other = create_customer(session, {"name": "Other"})
    with pytest.raises(NotFound):
        options_for_order(session, o.id or 0, now=NOW, customer_id=other.id, travel=TRAVEL)
    opt = options(session, o, days=1)[0]
    with pytest.raises(NotFound):
        choose_option(session, o.id or 0, choice(opt), now=NOW, customer_id=other.id, travel=TRAVEL)
    hold = choose_option(session, o.id or 0, choice(opt), now=NOW, travel=TRAVEL)
    for call in (get_hold, confirm_hold, release_hold):
        with pytest.raises(NotFound):
            call(session, hold.id, now=NOW, customer_id=other.id)


def test_days_and_k_are_checked(session: Session, world: World) -> None:
    o = order(session, world, "o1")
    with pytest.raises(InvalidInput) as caught:
        options_for_order(session, o.id or 0, days=0, now=NOW, travel=TRAVEL)
    assert caught.value.field == ("days",)
    with pytest.raises(InvalidInput) as caught:
        options_for_order(session, o.id or 0, k=99, now=NOW, travel=TRAVEL)
    assert caught.value.field == ("k",)


def test_robots_only_for_small_parcels_of_customers_who_accept_them(
    session: Session, world: World
) -> None:
    robot = create_vehicle_type(
        session,
        {"name": "robot", "kind": "robot", "profile": "walk", "capacity_weight_g": 20_000,
         "capacity_volume_ml": 60_000, "capacity_parcels": 2, "range_m": 8_000,
         "cost_per_km": 0.05, "cost_per_hour": 2.0, "co2_g_per_km": 5.0},
    )  # fmt: skip
    add_fleet(
        session,
        {"depot_id": world.depot.id, "vehicle_type_id": robot.id, "count": 1,
         "shift_start_s": 8 * HOUR, "shift_end_s": 18 * HOUR},
    )  # fmt: skip
    small = order(session, world, "small")
    big = order(session, world, "big", items=[{"weight_g": 15_000, "volume_ml": 50_000}])
    types = {opt["vehicle_type"] for opt in options(session, small, days=1, k=20)}
    assert types == {"van"}  # not accepted yet
    office_weekdays(session, world, accepts_robot=True)
    assert "robot" in {opt["vehicle_type"] for opt in options(session, small, days=1, k=20)}
    assert {opt["vehicle_type"] for opt in options(session, big, days=1, k=20)} == {"van"}


# -- feasibility --------------------------------------------------------------------------------


def _inputs(session: Session, orders: list[Order]) -> list[OrderInput]:
    out = []
    for o in orders:
        items = session.exec(select(OrderItem).where(OrderItem.order_id == o.id)).all()
        out.append(order_input(o, items, session.get(Place, o.place_id) if o.place_id else None))
    return out


def test_every_option_is_feasible_when_replayed(session: Session, world: World) -> None:
    """A planned day of 12 orders; for another order, every option offered is inserted, and the
    route it lands on is replayed through the store's own mapping by the routing suite's
    independent checker."""
    office_weekdays(session, world)
    planned = []
    for i in range(12):
        start = datetime.combine(DAY, time(9 + i % 8), HEL)
        planned.append(
            register_order(
                session,
                order_data(
                    world,
                    place_id=(world.home if i % 2 else world.office).id,
                    window_start=start.isoformat(),
                    window_end=(start + timedelta(hours=2)).isoformat(),
                ),
                f"p{i}",
            )
        )
    plan = plan_day(session, world.depot.id or 0, DAY, limits=LIMITS, travel=TRAVEL)
    assert plan.n_served == 12
    o = order(session, world, "new")
    found = options(session, o, days=1, k=20)
    assert found
    for opt in found:
        clear_caches()
        hold = choose_option(session, o.id or 0, choice(opt), now=NOW, travel=TRAVEL)
        day = tentative_day(session, world.depot, DAY, now=NOW, travel=TRAVEL)
        (route,) = [r for r in day.plan.timeline.routes if f"hold-{hold.id}" in r.stop_ids]
        # The held order, as confirming would store it, with the planned orders of the route.
        session.refresh(o)
        as_confirmed = Order.model_validate(
            o.model_dump()
            | {"place_id": hold.place_id, "window_start": hold.window_start,
               "window_end": hold.window_end}
        )  # fmt: skip
        by_stop = {stop_id(p.id or 0): p for p in planned}
        by_stop[f"hold-{hold.id}"] = as_confirmed
        ordered = [by_stop[s] for s in route.stop_ids]
        fleets = [(world.fleet, world.van)]
        mapped = build_problem(depot_input(world.depot), fleet_inputs(fleets),
                               _inputs(session, ordered), day=DAY, travel=TRAVEL)  # fmt: skip
        vehicle = next(v for v in mapped.problem.vehicles if v.id == route.route_id)
        stops = [mapped.problem.stop(stop_id(x.id or 0)) for x in ordered]
        distance = route_feasible_distance(
            mapped.problem, vehicle, stops, depart=int(route.starts[0])
        )
        assert distance is not None, opt
        assert distance == route.distance
        release_hold(session, hold.id, now=NOW)


def test_the_stored_plan_is_the_timeline(session: Session, world: World) -> None:
    """The timeline rebuilt from the store has the plan's routes, stops, times and loads."""
    for i in range(8):
        start = datetime.combine(DAY, time(9 + i), HEL)
        register_order(
            session,
            order_data(world, window_start=start.isoformat(),
                       window_end=(start + timedelta(hours=3)).isoformat()),
            f"p{i}",
        )  # fmt: skip
    plan = plan_day(session, world.depot.id or 0, DAY, limits=LIMITS, travel=TRAVEL)
    route = plan_routes(session, plan.id or 0)[0]
    dispatch_route(session, route.id or 0, stops=2)
    day = tentative_day(session, world.depot, DAY, now=NOW, travel=TRAVEL)
    assert day.plan_id == plan.id
    schedule = day.plan.timeline.route(route.vehicle_id)
    stored = route_stops(session, route.id or 0)
    assert schedule.stop_ids == tuple(stop_id(s.order_id) for s in stored)
    assert schedule.distance == route.distance_m
    assert schedule.fixed_prefix == 2  # dispatched stops stay where they are
    epoch = day.plan.epoch
    for k, s in enumerate(stored, start=1):
        assert schedule.starts[k] == int((s.service_start_at - epoch).total_seconds())
        assert list(schedule.loads[k]) == s.load_after
    assert day.route_ids[route.vehicle_id] == route.id


def test_options_against_a_planned_day_and_a_confirmed_order(
    session: Session, world: World
) -> None:
    """Orders confirmed after the plan are in the tentative plan too."""
    register_order(session, order_data(world, window_start="2025-03-03T10:00:00+02:00",
                                       window_end="2025-03-03T12:00:00+02:00"), "p0")  # fmt: skip
    plan_day(session, world.depot.id or 0, DAY, limits=LIMITS, travel=TRAVEL)
    late = order(session, world, "late")
    hold = choose_option(session, late.id or 0, choice(options(session, late, days=1)[0]),
                         now=NOW, travel=TRAVEL)  # fmt: skip
    confirm_hold(session, hold.id, now=NOW)
    day = tentative_day(session, world.depot, DAY, now=NOW, travel=TRAVEL)
    assert day.plan.timeline.stop_count == 2
    assert any(s.startswith("order-") for r in day.plan.timeline.routes for s in r.stop_ids)


def test_a_full_day_offers_nothing_then_a_conflict(session: Session, world: World) -> None:
    """With one van of capacity 1 parcel taken by a hold, the next order finds no room."""
    tiny = create_vehicle_type(
        session,
        {"name": "tiny", "kind": "van", "profile": "car", "capacity_weight_g": 100_000,
         "capacity_volume_ml": 1_000_000, "capacity_parcels": 1, "cost_per_km": 0.3},
    )  # fmt: skip
    world.fleet.vehicle_type_id = tiny.id or 0
    world.fleet.count = 1
    session.add(world.fleet)
    session.commit()
    first, second = order(session, world, "a"), order(session, world, "b")
    opt = options(session, first, days=1)[0]
    choose_option(session, first.id or 0, choice(opt), now=NOW, travel=TRAVEL)
    assert options(session, second, days=1) == []
    with pytest.raises(Conflict, match="no longer fits"):
        choose_option(session, second.id or 0, choice(opt), now=NOW, travel=TRAVEL)


# -- learning -----------------------------------------------------------------------------------


def _rank_of_office(session: Session, o: Order) -> list[str]:
    return [opt["place"] for opt in options(session, o, days=1, k=20)]


def test_choices_move_the_ranking(session: Session, world: World) -> None:
    """Declared at home on Mondays; choosing the office a few Mondays moves it up."""
    put_profile(session, world.customer.id or 0, {"default_place_id": world.home.id}, now=NOW)
    o = order(session, world, "o")
    before = _rank_of_office(session, o)
    assert set(before) == {"home"}  # the schedule puts her at home all day
    put_profile(
        session, world.customer.id or 0,
        {"default_place_id": world.home.id,
         "schedule": [{"place_id": world.office.id, "weekdays": ["mon"], "start": "12:00",
                       "end": "13:00"}]},
        now=NOW,
    )  # fmt: skip
    offered = options(session, o, days=1, k=20)
    first_office = next(i for i, x in enumerate(offered) if x["place"] == "office")
    office_opt = offered[first_office]
    for week in range(4):
        other = order(session, world, f"w{week}")
        choose_option(session, other.id or 0, choice(office_opt), now=NOW, travel=TRAVEL)
    after = options(session, o, days=1, k=20)
    new_first = next(i for i, x in enumerate(after) if x["place"] == "office")
    assert new_first < first_office or new_first == 0
    assert any("usually" in x["explanation"] for x in after if x["place"] == "office")


def test_delivery_outcomes_are_learned(session: Session, world: World) -> None:
    register_order(session, order_data(world, window_start="2025-03-03T10:00:00+02:00",
                                       window_end="2025-03-03T12:00:00+02:00"), "p0")  # fmt: skip
    register_order(session, order_data(world, window_start="2025-03-03T14:00:00+02:00",
                                       window_end="2025-03-03T16:00:00+02:00"), "p1")  # fmt: skip
    plan = plan_day(session, world.depot.id or 0, DAY, limits=LIMITS, travel=TRAVEL)
    for route in plan_routes(session, plan.id or 0):
        dispatch_route(session, route.id or 0)
    stops = session.exec(select(RouteStop).order_by(RouteStop.service_start_at)).all()  # type: ignore[arg-type]
    morning, afternoon = stops
    mark_stop_outcome(session, morning.id or 0, "delivered", at=NOW + timedelta(hours=16))
    mark_stop_outcome(session, afternoon.id or 0, "failed", at=NOW + timedelta(hours=21))
    learned = {
        (s.place, s.weekday, s.daypart): (s.successes > 0, s.failures > 0)
        for s in get_profile(session, world.customer.id or 0).learned
    }
    assert learned[("home", "mon", "morning")] == (True, False)
    assert learned[("home", "mon", "afternoon")] == (False, True)


def test_look_alike_customers_lend_a_prior(session: Session, world: World) -> None:
    """A customer who declared nothing is scored from customers who chose alike."""
    # Ten customers who take Monday deliveries at their office.
    for n in range(10):
        c = create_customer(session, {"name": f"c{n}"})
        add_place(session, c.id or 0, {"kind": "home", "name": "home", "lat": 60.17, "lon": 24.93})
        work = {"kind": "office", "name": "work", "lat": 60.165, "lon": 24.945}
        office = add_place(session, c.id or 0, work)
        put_profile(
            session, c.id or 0,
            {"schedule": [{"place_id": office.id, "weekdays": ["mon"], "start": "09:00",
                           "end": "17:00"}]},
        )  # fmt: skip
        for k in range(3):
            theirs = register_order(
                session,
                {"customer_id": c.id, "depot_id": world.depot.id, "service_day": DAY.isoformat(),
                 "items": [{"weight_g": 500, "volume_ml": 2_000}]},
                f"c{n}-{k}",
            )  # fmt: skip
            opt = next(x for x in options(session, theirs, days=1, k=20) if x["place"] == "work")
            choose_option(session, theirs.id or 0, choice(opt), now=NOW, travel=TRAVEL)
    clear_caches()
    o = order(session, world, "mine")
    found = options(session, o, days=1, k=20)
    assert any("customers with choices like yours" in x["explanation"] for x in found)


# -- privacy ------------------------------------------------------------------------------------


def test_export_holds_only_the_customers_own_data(session: Session, world: World) -> None:
    office_weekdays(session, world, handoff_instructions="ring twice")
    mine = order(session, world, "mine")
    choose_option(session, mine.id or 0, choice(options(session, mine, days=1)[0]), now=NOW,
                  travel=TRAVEL)  # fmt: skip
    other = create_customer(session, {"name": "Other", "email": "other@example.org"})
    add_place(session, other.id or 0, {"kind": "home", "name": "their home", "lat": 60.2,
                                       "lon": 24.9})  # fmt: skip
    register_order(session, {"customer_id": other.id, "depot_id": world.depot.id,
                             "service_day": DAY.isoformat(),
                             "items": [{"weight_g": 1, "volume_ml": 1}]}, "theirs")  # fmt: skip

    export = export_customer(session, world.customer.id or 0, now=NOW)

    assert export.customer.id == world.customer.id
    assert export.profile.handoff_instructions == "ring twice"
    assert {p.name for p in export.places} == {"home", "office"}
    assert [o.id for o in export.orders] == [mine.id]
    assert {e.order_id for e in export.events} == {mine.id}
    assert [h.order_id for h in export.holds] == [mine.id]
    assert export.profile.learned  # the choice taught something
    text = export.model_dump_json()
    assert "their home" not in text and "other@example.org" not in text


def test_delete_removes_the_profile_and_unneeded_places(session: Session, world: World) -> None:
    office_weekdays(session, world)
    gym = add_place(session, world.customer.id or 0,
                    {"kind": "other", "name": "gym", "lat": 60.18, "lon": 24.95})  # fmt: skip
    live = order(session, world, "live")
    choose_option(session, live.id or 0, choice(options(session, live, days=1)[0]), now=NOW,
                  travel=TRAVEL)  # fmt: skip
    live.place_id = world.home.id
    session.add(live)
    done = register_order(session, order_data(world, place_id=world.office.id), "done")
    done.status = OrderStatus.DELIVERED
    session.add_all([live, done])
    session.commit()

    summary = delete_profile(session, world.customer.id or 0)

    assert summary.deleted == {"profile": 1, "holds": 1, "places": 2}  # office and gym
    assert summary.kept == {"live_orders": 1, "places_of_live_orders": 1, "closed_orders": 1}
    assert session.get(CustomerProfile, world.customer.id) is None
    assert session.exec(select(OptionHold)).all() == []
    assert session.get(Place, gym.id) is None and session.get(Place, world.office.id) is None
    assert session.get(Place, world.home.id) is not None  # the live order goes there
    session.refresh(done)
    assert done.place_id is None and done.status is OrderStatus.DELIVERED  # bookkeeping
    profile = get_profile(session, world.customer.id or 0)
    assert profile.updated_at is None and profile.learned == [] and profile.schedule == []
    with pytest.raises(NotFound):
        delete_profile(session, 999)


def test_a_dispatched_order_can_no_longer_change(session: Session, world: World) -> None:
    window = {
        "window_start": "2025-03-03T10:00:00+02:00",
        "window_end": "2025-03-03T12:00:00+02:00",
    }
    o = register_order(session, order_data(world, **window), "o")
    plan = plan_day(session, world.depot.id or 0, DAY, limits=LIMITS, travel=TRAVEL)
    (route,) = plan_routes(session, plan.id or 0)
    dispatch_route(session, route.id or 0)
    with pytest.raises(Conflict, match="dispatched"):
        options_for_order(session, o.id or 0, now=NOW, travel=TRAVEL)


def test_a_refused_choice_keeps_the_previous_hold(session: Session, world: World) -> None:
    o = order(session, world, "o")
    held = choose_option(session, o.id or 0, choice(options(session, o, days=1)[0]), now=NOW,
                         travel=TRAVEL)  # fmt: skip
    bad = {
        **choice(options(session, o, days=1)[0]),
        "window_end": datetime(2025, 3, 3, 23, tzinfo=HEL),
    }
    with pytest.raises(InvalidInput):
        choose_option(session, o.id or 0, bad, now=NOW, travel=TRAVEL)
    assert get_hold(session, held.id, now=NOW).status is HoldStatus.HELD


# -- a confirmed day moves the order off every other day's plan (issue #17) ----------------------


def _events(session: Session, o: Order) -> list[str]:
    rows = session.exec(
        select(OrderEvent).where(OrderEvent.order_id == o.id).order_by(col(OrderEvent.id))
    ).all()
    return [e.kind.value for e in rows]


def _routed_days(session: Session, o: Order) -> list[Any]:
    """The service days of the current plans whose routes carry the order."""
    rows = session.exec(
        select(Plan.service_day)
        .join(Route, col(Route.plan_id) == col(Plan.id))
        .join(RouteStop, col(RouteStop.route_id) == col(Route.id))
        .where(RouteStop.order_id == o.id, Plan.status == PlanStatus.CURRENT)
    ).all()
    return sorted(rows)


def test_confirming_another_day_moves_the_order_off_todays_plan(
    session: Session, world: World
) -> None:
    """Planned on DAY, the customer confirms DAY+1: the order leaves DAY's plan (recorded as
    unserved, moved by the customer; the plan marked for a re-plan) and, once DAY+1 is
    planned, sits on exactly one day's route. Its events record the hold and the
    confirmation."""
    office_weekdays(session, world)
    o = register_order(session, order_data(world), "moving")
    other = register_order(session, order_data(world, place_id=world.office.id), "staying")
    first = plan_day(session, world.depot.id or 0, DAY, limits=LIMITS, travel=TRAVEL)
    assert _routed_days(session, o) == [DAY]
    tomorrow = DAY + timedelta(days=1)
    opt = next(x for x in options(session, o, days=2, k=20) if x["service_day"] == tomorrow)
    hold = choose_option(session, o.id or 0, choice(opt), now=NOW, travel=TRAVEL)
    confirm_hold(session, hold.id, now=NOW)

    assert _routed_days(session, o) == []
    session.refresh(first)
    assert first.status is PlanStatus.CURRENT and first.n_served == 1
    assert first.stats["needs_replan"]
    unserved = session.exec(select(UnservedOrder).where(UnservedOrder.plan_id == first.id)).all()
    assert [(u.order_id, u.reason) for u in unserved] == [(o.id, "moved_by_customer")]
    assert f"moved to {tomorrow}" in unserved[0].detail
    assert _routed_days(session, other) == [DAY]  # the rest of DAY's plan is untouched

    plan_day(session, world.depot.id or 0, tomorrow, limits=LIMITS, travel=TRAVEL)
    assert _routed_days(session, o) == [tomorrow]
    kinds = _events(session, o)
    assert "held" in kinds and "confirmed" in kinds
    assert kinds.index("held") < kinds.index("confirmed")


def test_a_dispatched_route_is_not_changed_by_a_confirmation(
    session: Session, world: World
) -> None:
    """The order's stop is still planned but its route has left: 409 naming the route, and
    nothing changes."""
    office_weekdays(session, world)
    world.fleet.count = 1
    session.add(world.fleet)
    session.commit()
    a = register_order(session, order_data(world), "a")
    register_order(session, order_data(world, place_id=world.office.id), "b")
    plan = plan_day(session, world.depot.id or 0, DAY, limits=LIMITS, travel=TRAVEL)
    (route,) = plan_routes(session, plan.id or 0)
    stops = route_stops(session, route.id or 0)
    last = next(s for s in stops if s.order_id == a.id)
    dispatch_route(session, route.id or 0, stops=last.sequence)  # every stop before a's
    tomorrow = DAY + timedelta(days=1)
    opt = next(x for x in options(session, a, days=2, k=20) if x["service_day"] == tomorrow)
    hold = choose_option(session, a.id or 0, choice(opt), now=NOW, travel=TRAVEL)
    with pytest.raises(Conflict, match=f"route {route.id}"):
        confirm_hold(session, hold.id, now=NOW)
    session.expire_all()
    assert _routed_days(session, a) == [DAY]
    stored = session.get(Order, a.id)
    assert stored is not None and stored.service_day == DAY
