"""Tests of routing.insertion: every insertion it offers is feasible when replayed, and it
finds every position a replay from the planned start times accepts.

The replay (:func:`replay`) is independent of the engine: it walks the new sequence through
the problem's own travel matrix, waiting for windows, and checks windows, capacity, shift end
and range. A solved day is the starting point; candidates are random points and windows.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing import (
    InvalidProblemError,
    Limits,
    Location,
    Problem,
    Solution,
    Stop,
    StopKind,
    TimeWindow,
    UnservedReason,
    Vehicle,
    VehicleType,
    solve,
)
from routing.insertion import Candidate, Insertion, StraightLineLegs, Timeline
from routing.matrix import haversine_m, straight_line_matrix
from tests.routing.conftest import route_feasible_distance

HOUR = 3_600
SPEEDS = {"car": 30.0, "walk": 6.0}
DETOUR = 1.3
LEGS = StraightLineLegs(SPEEDS, DETOUR)
FAST = Limits(time_limit=0.5, solution_limit=300, seed_with="none")
"""Short searches: the properties hold for any plan."""

BASE_LAT, BASE_LON = 60.17, 24.94  # central Helsinki


def point(rng: np.random.Generator, spread_deg: float = 0.02) -> tuple[float, float]:
    """A random point around the base, degrees."""
    return (
        BASE_LAT + float(rng.uniform(-spread_deg, spread_deg)),
        BASE_LON + float(rng.uniform(-2 * spread_deg, 2 * spread_deg)),
    )


def build_problem(
    locations: Sequence[Location],
    stops: Sequence[Stop],
    vehicle_types: Sequence[VehicleType],
    vehicles: Sequence[Vehicle],
) -> Problem:
    """A problem with straight-line matrices for every profile the types use."""
    profiles = {t.profile for t in vehicle_types}
    return Problem(
        locations=tuple(locations),
        matrices={
            p: straight_line_matrix(locations, speed_kmh=SPEEDS[p], detour_factor=DETOUR)
            for p in profiles
        },
        stops=tuple(stops),
        vehicle_types=tuple(vehicle_types),
        vehicles=tuple(vehicles),
    )


def random_day(
    seed: int, n_stops: int = 12, open_route: bool = False, width_s: int = 2 * HOUR
) -> Problem:
    """A depot, ``n_stops`` deliveries with windows of ``width_s`` seconds (two hours by
    default), two vans and a robot."""
    rng = np.random.default_rng(seed)
    locations = [Location("depot", BASE_LAT, BASE_LON)]
    stops = []
    for i in range(n_stops):
        lat, lon = point(rng)
        locations.append(Location(f"p{i}", lat, lon))
        start = int(rng.integers(8, 15)) * HOUR
        stops.append(
            Stop(
                f"s{i}",
                location=i + 1,
                service=120,
                windows=(TimeWindow(start, start + width_s),),
                demand=(int(rng.integers(1, 4)),),
            )
        )
    types = [
        VehicleType("van", capacity=(20,), cost_per_km=0.5, cost_per_hour=30.0, co2_g_per_km=180),
        VehicleType(
            "robot", capacity=(3,), profile="walk", range_m=4_000, fixed_cost=5.0, cost_per_km=0.1
        ),
    ]
    shift = TimeWindow(7 * HOUR, 19 * HOUR)
    end = None if open_route else 0
    vehicles = [
        Vehicle("van-1", "van", start=0, end=end, shift=shift),
        Vehicle("van-2", "van", start=0, end=end, shift=shift),
        Vehicle("robot-1", "robot", start=0, end=0, shift=shift),
    ]
    return build_problem(locations, stops, types, vehicles)


def with_candidate(problem: Problem, candidate: Candidate, window: TimeWindow) -> Problem:
    """The problem plus the candidate as stop ``new`` at a new last location."""
    locations = (*problem.locations, Location("new", candidate.lat, candidate.lon))
    stop = Stop(
        "new",
        location=len(problem.locations),
        service=candidate.service,
        windows=(window,),
        demand=candidate.demand,
        kind=candidate.kind,
    )
    return build_problem(locations, (*problem.stops, stop), problem.vehicle_types, problem.vehicles)


def replay(problem: Problem, vehicle_id: str, stop_ids: Sequence[str], depart: int) -> int | None:
    """Distance (metres) of serving ``stop_ids`` leaving at ``depart``, or ``None`` when a window,
    the capacity, the shift end or the range is broken (the independent checker of conftest)."""
    vehicle = next(v for v in problem.vehicles if v.id == vehicle_id)
    stops = [problem.stop(s) for s in stop_ids]
    return route_feasible_distance(problem, vehicle, stops, depart=depart)


def departure(solution: Solution, problem: Problem, vehicle_id: str) -> int:
    """When the plan has the vehicle leave (its shift start when idle)."""
    route = next((r for r in solution.routes if r.vehicle_id == vehicle_id), None)
    if route is not None:
        return route.start_time
    return next(v for v in problem.vehicles if v.id == vehicle_id).shift.start


@pytest.fixture(scope="module")
def day() -> tuple[Problem, Solution]:
    """A solved day of 12 deliveries."""
    problem = random_day(1)
    return problem, solve(problem, limits=FAST)


def test_timeline_reproduces_the_plan(day: tuple[Problem, Solution]) -> None:
    """The timeline holds the routes as planned: same stops, distances and durations."""
    problem, solution = day
    timeline = Timeline.from_solution(problem, solution, include_idle=False)
    assert timeline.stop_count == len(problem.stops) - len(solution.unserved)
    for route in solution.routes:
        schedule = timeline.route(route.vehicle_id)
        assert schedule.stop_ids == route.stop_ids
        assert schedule.distance == route.distance
        assert schedule.duration == route.duration


def test_an_offered_insertion_replays_feasibly(day: tuple[Problem, Solution]) -> None:
    """A point near the depot in a wide window fits, and the replayed route agrees on distance."""
    problem, solution = day
    timeline = Timeline.from_solution(problem, solution)
    window = TimeWindow(9 * HOUR, 17 * HOUR)
    candidate = Candidate(BASE_LAT + 0.001, BASE_LON + 0.001, (window,), service=60, demand=(1,))
    (best,) = timeline.best_insertions(candidate, LEGS)
    assert best.feasible
    assert best.reason is None
    assert window.contains(best.eta or -1)
    schedule = timeline.route(best.route_id or "")
    assert best.position is not None
    sequence = (*schedule.stop_ids[: best.position], "new", *schedule.stop_ids[best.position :])
    extended = with_candidate(problem, candidate, window)
    replayed = replay(
        extended, schedule.route_id, sequence, departure(solution, problem, schedule.route_id)
    )
    assert replayed is not None
    assert replayed == schedule.distance + best.added_distance
    assert best.co2_g == pytest.approx(
        best.added_distance / 1000 * schedule.vehicle_type.co2_g_per_km
    )


def test_window_before_the_shift_is_unreachable(day: tuple[Problem, Solution]) -> None:
    """A window that closes before any vehicle can get there says so."""
    problem, solution = day
    timeline = Timeline.from_solution(problem, solution)
    early = TimeWindow(5 * HOUR, 6 * HOUR)
    candidate = Candidate(BASE_LAT, BASE_LON + 0.01, (early,), demand=(1,))
    (result,) = timeline.best_insertions(candidate, LEGS)
    assert not result.feasible
    assert result.reason is UnservedReason.WINDOW_UNREACHABLE


def test_too_heavy_for_every_vehicle(day: tuple[Problem, Solution]) -> None:
    """A demand above every capacity is reported as such."""
    problem, solution = day
    timeline = Timeline.from_solution(problem, solution)
    candidate = Candidate(BASE_LAT, BASE_LON, (TimeWindow(9 * HOUR, 17 * HOUR),), demand=(99,))
    (result,) = timeline.best_insertions(candidate, LEGS)
    assert result.reason is UnservedReason.DEMAND_EXCEEDS_CAPACITY


def test_robot_only_candidate_beyond_its_range(day: tuple[Problem, Solution]) -> None:
    """Only robots allowed, and the point is farther than a robot's round trip."""
    problem, solution = day
    timeline = Timeline.from_solution(problem, solution)
    far = Candidate(
        BASE_LAT + 0.03,
        BASE_LON,
        (TimeWindow(9 * HOUR, 17 * HOUR),),
        demand=(1,),
        vehicle_types=frozenset({"robot"}),
    )
    (result,) = timeline.best_insertions(far, LEGS)
    assert result.reason is UnservedReason.BEYOND_RANGE
    nobody = replace(far, vehicle_types=frozenset({"drone"}))
    (result,) = timeline.best_insertions(nobody, LEGS)
    assert result.reason is UnservedReason.NO_VEHICLE_WITH_SKILLS


def test_idle_vehicle_costs_its_fixed_cost() -> None:
    """With nothing planned, the only way is an idle vehicle, which leaves just in time."""
    problem = random_day(2, n_stops=1)
    empty = replace(problem, stops=())
    solution = solve(empty, limits=FAST)
    timeline = Timeline.from_solution(empty, solution)
    window = TimeWindow(12 * HOUR, 13 * HOUR)
    candidate = Candidate(
        BASE_LAT, BASE_LON + 0.002, (window,), demand=(1,), vehicle_types=frozenset({"robot"})
    )
    (best,) = timeline.best_insertions(candidate, LEGS)
    assert best.feasible
    assert best.eta == window.start
    assert best.cost >= 5.0  # the robot's fixed cost
    inserted = timeline.insert(candidate, best, "new", LEGS)
    robot = inserted.route("robot-1")
    assert robot.stop_ids == ("new",)
    assert robot.duration == best.added_duration


def test_fixed_prefix_is_never_split(day: tuple[Problem, Solution]) -> None:
    """With every planned stop fixed, a candidate can only go after the last one."""
    problem, solution = day
    prefix = {r.vehicle_id: len(r.visits) for r in solution.routes}
    timeline = Timeline.from_solution(problem, solution, include_idle=False, fixed_prefix=prefix)
    candidate = Candidate(BASE_LAT, BASE_LON, (TimeWindow(7 * HOUR, 19 * HOUR),), demand=(1,))
    (best,) = timeline.best_insertions(candidate, LEGS)
    assert best.feasible
    assert best.position == len(timeline.route(best.route_id or "").stop_ids)


def test_insert_then_the_next_candidate_sees_it(day: tuple[Problem, Solution]) -> None:
    """After an insertion the route is re-timed and its capacity used."""
    problem, solution = day
    timeline = Timeline.from_solution(problem, solution, include_idle=False)
    window = TimeWindow(8 * HOUR, 18 * HOUR)
    candidate = Candidate(BASE_LAT + 0.004, BASE_LON, (window,), service=300, demand=(2,))
    (best,) = timeline.best_insertions(candidate, LEGS)
    after = timeline.insert(candidate, best, "new", LEGS)
    before_route = timeline.route(best.route_id or "")
    after_route = after.route(best.route_id or "")
    assert after.stop_count == timeline.stop_count + 1
    assert after_route.distance == before_route.distance + best.added_distance
    assert after_route.duration == before_route.duration + best.added_duration
    assert int(after_route.loads[0, 0]) == int(before_route.loads[0, 0]) + 2
    assert np.all(after_route.starts <= after_route.latest)
    with pytest.raises(InvalidProblemError, match="infeasible"):
        after.insert(candidate, Insertion(window, None, None, None, 0, 0, 0.0, 0.0), "x", LEGS)


def test_candidate_validation() -> None:
    """Bad candidates are refused with what to fix."""
    window = (TimeWindow(0, 10),)
    with pytest.raises(InvalidProblemError, match="WGS84"):
        Candidate(95.0, 0.0, window)
    with pytest.raises(InvalidProblemError, match="at least one"):
        Candidate(60.0, 24.0, ())
    with pytest.raises(InvalidProblemError, match="negative"):
        Candidate(60.0, 24.0, window, demand=(-1,))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    seed=st.integers(0, 10_000),
    open_route=st.booleans(),
    kind=st.sampled_from([StopKind.DELIVERY, StopKind.PICKUP]),
    demand=st.integers(0, 6),
    start_h=st.integers(6, 18),
    width_min=st.sampled_from([0, 15, 60, 240]),
)
def test_offers_are_sound_and_complete(
    seed: int, open_route: bool, kind: StopKind, demand: int, start_h: int, width_min: int
) -> None:
    """Every offered insertion replays feasibly with the promised ETA, and every position the
    replay accepts (leaving when the plan leaves) is found: the cheapest is never missed."""
    problem = random_day(seed, n_stops=8, open_route=open_route)
    solution = solve(problem, limits=FAST)
    timeline = Timeline.from_solution(problem, solution)
    rng = np.random.default_rng(seed + 1)
    lat, lon = point(rng)
    window = TimeWindow(start_h * HOUR, start_h * HOUR + width_min * 60)
    candidate = Candidate(lat, lon, (window,), service=90, demand=(demand,), kind=kind)
    (best,) = timeline.best_insertions(candidate, LEGS)
    extended = with_candidate(problem, candidate, window)

    cheapest: float | None = None
    for schedule in timeline.routes:
        depart = departure(solution, problem, schedule.route_id)
        base = replay(extended, schedule.route_id, schedule.stop_ids, depart)
        assert base is not None, "the plan itself must replay"
        for p in range(len(schedule.stop_ids) + 1):
            sequence = (*schedule.stop_ids[:p], "new", *schedule.stop_ids[p:])
            # An idle vehicle may leave later, just in time for the window.
            leave = depart
            if schedule.idle:
                m = extended.matrix_for(
                    next(v for v in problem.vehicles if v.id == schedule.route_id)
                )
                leave = max(depart, window.start - int(m.durations[0, len(problem.locations)]))
            replayed = replay(extended, schedule.route_id, sequence, leave)
            if replayed is None:
                continue
            vt = schedule.vehicle_type
            added_d = replayed - base
            cost = added_d / 1000 * vt.cost_per_km + (vt.fixed_cost if schedule.idle else 0.0)
            cheapest = cost if cheapest is None else min(cheapest, cost)
    if best.feasible:
        schedule = timeline.route(best.route_id or "")
        assert best.position is not None
        sequence = (*schedule.stop_ids[: best.position], "new", *schedule.stop_ids[best.position :])
        depart = departure(solution, problem, schedule.route_id)
        after = timeline.insert(candidate, best, "new", LEGS).route(schedule.route_id)
        replayed = replay(extended, schedule.route_id, sequence, int(after.starts[0]))
        assert replayed is not None
        assert window.contains(best.eta or -1)
        assert int(after.starts[best.position + 1]) == best.eta
        assert np.all(after.starts <= after.latest)
    else:
        assert cheapest is None, f"missed a feasible insertion costing {cheapest}"


def test_stops_near_counts_planned_stops_only(day: tuple[Problem, Solution]) -> None:
    """Around the depot with a huge radius: every planned stop, no depot nodes."""
    problem, solution = day
    timeline = Timeline.from_solution(problem, solution)
    assert timeline.stops_near(BASE_LAT, BASE_LON, 1e7) == timeline.stop_count
    assert timeline.stops_near(0.0, 0.0, 1.0) == 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    radius_m=st.floats(0.0, 5_000.0),
    exact=st.booleans(),
)
def test_stops_near_counts_what_measuring_every_stop_counts(
    seed: int, radius_m: float, exact: bool
) -> None:
    """The latitude band it looks in first never leaves a stop out, even one exactly at the
    radius."""
    timeline = _planned_day(seed % 7)
    lat, lon = point(np.random.default_rng(seed))
    stops = [(float(r.lats[i]), float(r.lons[i])) for r in timeline.routes
             for i in range(1, len(r.lats) - 1)]  # fmt: skip
    distances = haversine_m(np.array([a for a, _ in stops]), np.array([b for _, b in stops]),
                            lat, lon)  # fmt: skip
    if exact and len(distances):
        radius_m = float(distances[seed % len(distances)])  # a stop right on the edge
    assert timeline.stops_near(lat, lon, radius_m) == int(np.count_nonzero(distances <= radius_m))


@functools.cache
def _planned_day(seed: int) -> Timeline:
    """The timeline of ``random_day(seed)`` solved with :data:`FAST`, solved once per seed: the
    property test above draws 60 examples over 7 days (each solve took up to 0.5 s, 15 s in
    all); what it varies is the point and the radius, which only read the timeline."""
    problem = random_day(seed, n_stops=12)
    return Timeline.from_solution(problem, solve(problem, limits=FAST))


def reference_best(timeline: Timeline, candidate: Candidate) -> list[tuple[object, ...]]:
    """Per window (route, position, ETA, added distance, added duration, cost) of the first
    cheapest feasible position, by brute force over every position in plain Python — the
    oracle of the compiled scan."""
    out: list[tuple[object, ...]] = []
    for window in candidate.windows:
        best: tuple[object, ...] | None = None
        for schedule in timeline.routes:
            vt = schedule.vehicle_type
            if not candidate.skills <= vt.skills:
                continue
            legs = LEGS.legs(schedule.lats, schedule.lons, candidate.lat, candidate.lon, vt.profile)
            n = len(schedule.starts)
            wait = schedule.starts - schedule.arrivals
            for p in range(schedule.fixed_prefix, n - 1):
                loads = schedule.loads[: p + 1] if candidate.kind is StopKind.DELIVERY else (
                    schedule.loads[p:]
                )  # fmt: skip
                peak = loads.max(axis=0)
                if any(int(peak[d]) + candidate.demand[d] > int(schedule.capacity[d])
                       for d in range(len(candidate.demand))):  # fmt: skip
                    continue
                last_open = schedule.open_end and p + 1 == n - 1
                d_out = 0 if last_open else int(legs.from_distance[p + 1])
                t_out = 0 if last_open else int(legs.from_duration[p + 1])
                added = int(legs.to_distance[p]) + d_out - int(schedule.leg_distance[p + 1])
                limit = vt.range_m if vt.range_m is not None else 10**15
                if schedule.distance + added > limit:
                    continue
                leave = int(schedule.starts[p] + schedule.services[p])
                start = max(leave + int(legs.to_duration[p]), window.start)
                if start > window.end:
                    continue
                arrive_next = start + candidate.service + t_out + int(schedule.gap[p + 1])
                push = max(
                    max(arrive_next, int(schedule.earliest[p + 1])) - int(schedule.starts[p + 1]), 0
                )
                # How far node p+1 may move: the tightest later window, less the waits between.
                slack = min(
                    int(schedule.latest[k] - schedule.starts[k]) + int(wait[p + 2 : k + 1].sum())
                    for k in range(p + 1, n)
                )
                if push > slack:
                    continue
                if schedule.idle:
                    duration = int(legs.to_duration[p]) + candidate.service + t_out
                else:
                    duration = max(push - int(wait[p + 2 :].sum()), 0)
                cost = added / 1000.0 * vt.cost_per_km + (vt.fixed_cost if schedule.idle else 0.0)
                cost += duration / 3600.0 * vt.cost_per_hour
                if best is None or cost < best[-1]:
                    best = (schedule.route_id, p, start, added, duration, cost)
        out.append(best or (None,))
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    open_route=st.booleans(),
    kind=st.sampled_from([StopKind.DELIVERY, StopKind.PICKUP]),
    demand=st.integers(0, 6),
    starts_h=st.lists(st.integers(6, 18), min_size=1, max_size=6),
    width_min=st.sampled_from([0, 15, 60, 120, 240]),
    planned_min=st.sampled_from([10, 30, 120]),
)
def test_the_compiled_scan_picks_what_brute_force_picks(
    seed: int,
    open_route: bool,
    kind: StopKind,
    demand: int,
    starts_h: list[int],
    width_min: int,
    planned_min: int,
) -> None:
    """For every window the scan returns the position a plain loop over every route and
    position finds first at the lowest cost, with the same ETA, distance, duration and cost."""
    # Narrow planned windows leave little slack: pushing a stop is then what rules positions out.
    problem = random_day(seed, n_stops=10, open_route=open_route, width_s=planned_min * 60)
    timeline = Timeline.from_solution(problem, solve(problem, limits=FAST))
    lat, lon = point(np.random.default_rng(seed + 2))
    windows = tuple(TimeWindow(h * HOUR, h * HOUR + width_min * 60) for h in starts_h)
    candidate = Candidate(lat, lon, windows, service=90, demand=(demand,), kind=kind)
    found = timeline.best_insertions(candidate, LEGS)
    expected = reference_best(timeline, candidate)
    for got, want in zip(found, expected, strict=True):
        if want == (None,):
            assert not got.feasible
            continue
        assert (got.route_id, got.position, got.eta, got.added_distance, got.added_duration) == (
            want[:5]
        )
        assert got.cost == pytest.approx(want[5], rel=1e-12)
