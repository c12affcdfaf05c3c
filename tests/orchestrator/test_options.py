"""Tests of orchestrator.concierge.options: every option offered is feasible, priced, explained,
ranked."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from orchestrator.concierge.learning import Outcome, SlotKey, SlotStats
from orchestrator.concierge.options import (
    DayPlan,
    OptionRequest,
    ParcelSize,
    PlaceInfo,
    ServiceLevel,
    delivery_options,
)
from orchestrator.concierge.schedule import ScheduleRule, WeeklySchedule
from orchestrator.errors import InvalidInput
from routing import (
    Limits,
    Location,
    Problem,
    Stop,
    TimeWindow,
    Vehicle,
    VehicleKind,
    VehicleType,
    solve,
)
from routing.insertion import StraightLineLegs, Timeline
from routing.matrix import straight_line_matrix

HEL = ZoneInfo("Europe/Helsinki")
HOUR = 3_600
SPEEDS = {"car": 30.0, "walk": 6.0}
LEGS = StraightLineLegs(SPEEDS, 1.3)
DEPOT = (60.170, 24.940)
HOME = PlaceInfo("home", 60.160, 24.920, "home")
OFFICE = PlaceInfo("office", 60.172, 24.945, "office")
CAFE = PlaceInfo("Café Rosa", 60.168, 24.950, "cafe")
FRIDAY, SATURDAY, SUNDAY = date(2026, 11, 27), date(2026, 11, 28), date(2026, 11, 29)
NOW = datetime(2026, 11, 26, 18, tzinfo=HEL)
TYPES = (
    VehicleType("van", VehicleKind.VAN, (50,), cost_per_km=0.6, cost_per_hour=32, co2_g_per_km=190),
    VehicleType(
        "robot", VehicleKind.ROBOT, (4,), profile="walk", range_m=6_000, cost_per_km=0.05,
        co2_g_per_km=8,
    ),
)  # fmt: skip


def day_plan(day: date, n_stops: int, seed: int, near: PlaceInfo | None = None) -> DayPlan:
    """A solved day of ``n_stops`` deliveries (around ``near`` when given), one van, one robot."""
    rng = np.random.default_rng(seed)
    centre = (near.lat, near.lon) if near else DEPOT
    locations = [Location("depot", *DEPOT)]
    stops = []
    for i in range(n_stops):
        locations.append(
            Location(
                f"p{i}",
                centre[0] + float(rng.uniform(-0.004, 0.004)),
                centre[1] + float(rng.uniform(-0.008, 0.008)),
            )
        )
        start = int(rng.integers(9, 17)) * HOUR
        stops.append(Stop(f"s{i}", i + 1, 120, (TimeWindow(start, start + 2 * HOUR),), (1,)))
    problem = Problem(
        locations=tuple(locations),
        matrices={
            p: straight_line_matrix(locations, speed_kmh=s, detour_factor=1.3)
            for p, s in SPEEDS.items()
        },
        stops=tuple(stops),
        vehicle_types=TYPES,
        vehicles=(
            Vehicle("van-1", "van", 0, 0, TimeWindow(8 * HOUR, 20 * HOUR)),
            Vehicle("robot-1", "robot", 0, 0, TimeWindow(8 * HOUR, 20 * HOUR)),
        ),
    )
    solution = solve(problem, limits=Limits(time_limit=0.5, solution_limit=200, seed_with="none"))
    return DayPlan(
        day=day,
        timeline=Timeline.from_solution(problem, solution),
        epoch=datetime.combine(day, time(0), HEL),
        vehicle_kinds={t.name: t.kind for t in TYPES},
    )


@pytest.fixture(scope="module")
def days() -> list[DayPlan]:
    """Friday (busy around the office), Saturday (busy around the café), Sunday (quiet)."""
    return [
        day_plan(FRIDAY, 10, 1, OFFICE),
        day_plan(SATURDAY, 10, 2, CAFE),
        day_plan(SUNDAY, 2, 3),
    ]


def anna(**changes: object) -> OptionRequest:
    """Office on weekdays 9-17, the café on Saturday mornings, else home; a small parcel."""
    schedule = WeeklySchedule(
        "home",
        (
            ScheduleRule("office", frozenset(range(5)), time(9), time(17)),
            ScheduleRule("Café Rosa", frozenset({5}), time(9), time(12)),
        ),
    )
    fields: dict[str, object] = {
        "schedule": schedule,
        "places": {p.name: p for p in (HOME, OFFICE, CAFE)},
        "stats": SlotStats(),
        "parcel": ParcelSize((1,), robot_ok=True),
        "now": NOW,
    }
    fields.update(changes)
    return OptionRequest(**fields)  # type: ignore[arg-type]


def test_options_follow_the_schedule(days: list[DayPlan]) -> None:
    """Options are at the place the schedule says for their window, inside the day's stretch."""
    options = delivery_options(anna(), days, LEGS, k=50)
    assert options
    for o in options:
        local = o.window_start.astimezone(HEL)
        if o.day == FRIDAY and 9 <= local.hour < 17:
            assert o.place == "office"
        if o.day == SATURDAY and 9 <= local.hour < 12:
            assert o.place == "Café Rosa"
        if o.day == SUNDAY:
            assert o.place == "home"
        assert o.window_start < o.window_end
        assert o.window_start <= o.eta_start <= o.eta_end <= o.window_end
        assert o.window_start >= NOW + timedelta(hours=1)
        assert o.explanation


def test_every_option_is_feasible_by_insertion(days: list[DayPlan]) -> None:
    """Inserting each offered option into its day passes the timeline's own re-timing
    (which raises on any broken window, capacity or shift)."""
    by_day = {d.day: d for d in days}
    for o in delivery_options(anna(), days, LEGS, k=20):
        plan = by_day[o.day]
        place = anna().places[o.place]
        from routing.insertion import Candidate

        candidate = Candidate(
            place.lat,
            place.lon,
            (TimeWindow(plan.seconds(o.window_start), plan.seconds(o.window_end)),),
            service=120,
            demand=(1,),
        )
        (ins,) = plan.timeline.best_insertions(candidate, LEGS)
        after = plan.timeline.insert(candidate, ins, "new", LEGS)
        route = after.route(ins.route_id or "")
        assert np.all(route.starts <= route.latest)
        assert np.all(route.loads <= route.capacity)


def test_ranked_and_greenest_marked(days: list[DayPlan]) -> None:
    """Top K in rank order, exactly one greenest, and it has the least CO2 of those shown."""
    options = delivery_options(anna(), days, LEGS, k=5)
    assert len(options) == 5
    assert sum(o.greenest for o in options) == 1
    greenest = next(o for o in options if o.greenest)
    assert greenest.co2_g == min(o.co2_g for o in options)


def test_express_only_on_the_first_day(days: list[DayPlan]) -> None:
    """Express is a first-day premium; its windows are one hour and cost more."""
    options = delivery_options(anna(), days, LEGS, k=500)
    express = [o for o in options if o.level is ServiceLevel.EXPRESS]
    assert express and all(o.day == FRIDAY for o in express)
    assert all(o.window_end - o.window_start == timedelta(hours=1) for o in express)
    standard = [o for o in options if o.level is ServiceLevel.STANDARD]
    assert min(o.price_eur for o in express) > min(o.price_eur for o in standard)


def test_robot_only_when_accepted_and_small(days: list[DayPlan]) -> None:
    """Without consent, or with a big parcel, no robot is offered."""
    assert not any(o.vehicle_type == "robot" for o in delivery_options(anna(), days, LEGS, k=500))
    big = anna(accepts_robot=True, parcel=ParcelSize((1,), robot_ok=False))
    assert not any(o.vehicle_type == "robot" for o in delivery_options(big, days, LEGS, k=500))
    keen = anna(accepts_robot=True)
    assert any(o.vehicle_type == "robot" for o in delivery_options(keen, days, LEGS, k=500))


def test_eco_goes_to_the_day_with_most_neighbours(days: list[DayPlan]) -> None:
    """With a two-day wait accepted, eco options for the café fall on Saturday (busy there)."""
    options = delivery_options(anna(eco_max_wait_days=2), days, LEGS, k=500)
    eco = [o for o in options if o.level is ServiceLevel.ECO]
    assert eco
    cafe_eco = [o for o in eco if o.place == "Café Rosa"]
    assert cafe_eco and all(o.day == SATURDAY for o in cafe_eco)
    assert all("neighbours are already served" in o.explanation for o in cafe_eco)
    assert not [
        o for o in delivery_options(anna(), days, LEGS, k=500) if o.level is ServiceLevel.ECO
    ]


def test_learning_moves_the_ranking(days: list[DayPlan]) -> None:
    """After choosing home on Friday evenings three times, a Friday-evening home option ranks
    above where it ranked before."""
    key = SlotKey("home", 4, "evening")
    stats = SlotStats()
    for w in (1, 2, 3):
        stats = stats.record(key, Outcome.CHOSEN, NOW - timedelta(weeks=w))

    def rank(request: OptionRequest) -> int:
        options = delivery_options(request, days, LEGS, k=500)
        return next(
            i
            for i, o in enumerate(options)
            if o.day == FRIDAY and o.place == "home" and o.window_start.astimezone(HEL).hour >= 17
        )

    assert rank(anna(stats=stats)) < rank(anna())


def test_bad_requests_name_the_field(days: list[DayPlan]) -> None:
    """Unknown places in the schedule, negative waits, no days: each refused with its field."""
    with pytest.raises(InvalidInput) as info:
        anna(places={"home": HOME})
    assert info.value.field == ("schedule", "places")
    with pytest.raises(InvalidInput) as info:
        anna(eco_max_wait_days=-1)
    assert info.value.field == ("eco_max_wait_days",)
    with pytest.raises(InvalidInput) as info:
        delivery_options(anna(), [], LEGS)
    assert info.value.field == ("days",)
    with pytest.raises(InvalidInput):
        anna(now=datetime(2026, 11, 26, 18))
