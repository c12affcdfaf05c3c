"""Optimality of routing.solve on tiny problems, against exhaustive enumeration.

Costs are per kilometre only, so the optimum is the shortest total distance over every
feasible plan. Enumeration serves each stop as early as possible (waiting allowed), which
is optimal for feasibility; see ``route_feasible_distance`` in ``conftest.py``.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import replace

import pytest

from routing import (
    Limits,
    Problem,
    Solution,
    Stop,
    StopKind,
    TimeWindow,
    Vehicle,
    VehicleType,
    solve,
)
from tests.routing.conftest import (
    euclidean_matrix,
    grid_locations,
    route_feasible_distance,
    violations,
)

SEARCH = Limits(time_limit=1.0, seed_with="none")
"""Enough for OR-Tools to reach the optimum on 7 stops, many times over."""

SPEED_MPS = 10.0
SHIFT = TimeWindow(0, 8 * 3_600)


def _points(rng: random.Random, n: int) -> list[tuple[int, int]]:
    return [(rng.randint(0, 5_000), rng.randint(0, 5_000)) for _ in range(n)]


def _problem(
    points: Sequence[tuple[int, int]],
    stops: Sequence[Stop],
    vehicles: Sequence[Vehicle],
    capacity: tuple[int, ...] = (),
) -> Problem:
    return Problem(
        locations=grid_locations(points),
        matrices={"car": euclidean_matrix(points, speed_mps=SPEED_MPS)},
        stops=tuple(stops),
        vehicle_types=(VehicleType("van", capacity=capacity, cost_per_km=1.0),),
        vehicles=tuple(vehicles),
    )


def best_single_route(problem: Problem, *, windows: bool = True) -> int | None:
    """Shortest feasible distance (metres) of one vehicle serving every stop, or ``None``."""
    vehicle = problem.vehicles[0]
    stops = problem.stops
    if not windows:
        stops = tuple(replace(s, windows=()) for s in stops)
        problem = _problem_like(problem, stops)
    costs = (route_feasible_distance(problem, vehicle, p) for p in itertools.permutations(stops))
    return min((c for c in costs if c is not None), default=None)


def _problem_like(problem: Problem, stops: Sequence[Stop]) -> Problem:
    return Problem(
        locations=problem.locations,
        matrices=problem.matrices,
        stops=tuple(stops),
        vehicle_types=problem.vehicle_types,
        vehicles=problem.vehicles,
        dimensions=problem.dimensions,
        shipments=problem.shipments,
    )


def best_two_routes(problem: Problem) -> int | None:
    """Shortest feasible total distance (metres) of two vehicles serving every stop."""
    stops = problem.stops
    n = len(stops)
    best: list[list[float]] = []
    for vehicle in problem.vehicles:
        per_subset = []
        for mask in range(1 << n):
            subset = [s for k, s in enumerate(stops) if mask >> k & 1]
            costs = (
                route_feasible_distance(problem, vehicle, p) for p in itertools.permutations(subset)
            )
            per_subset.append(min((c for c in costs if c is not None), default=math.inf))
        best.append(per_subset)
    full = (1 << n) - 1
    total = min(best[0][mask] + best[1][full ^ mask] for mask in range(1 << n))
    return None if math.isinf(total) else int(total)


def windowed_instance(seed: int, n_stops: int) -> Problem:
    """One vehicle, stops with windows built around a random feasible tour (so tight but met).

    Each window holds the service start of that random tour, give or take up to 20 minutes,
    and one stop in three gets a second, later window.
    """
    rng = random.Random(seed)
    points = _points(rng, n_stops + 1)
    plain = _problem(
        points,
        [Stop(f"s{i}", i + 1, service=rng.randint(0, 300)) for i in range(n_stops)],
        [Vehicle("v", "van", 0, 0, SHIFT)],
    )
    durations = plain.matrices["car"].durations
    order = list(plain.stops)
    rng.shuffle(order)
    t, loc, stops = 0, 0, []
    for s in order:
        t += int(durations[loc, s.location])
        w = TimeWindow(max(0, t - rng.randint(0, 1_200)), t + rng.randint(0, 1_200))
        if rng.random() < 1 / 3:
            later = w.end + rng.randint(600, 3_600)
            windows: tuple[TimeWindow, ...] = (w, TimeWindow(later, later + 1_800))
        else:
            windows = (w,)
        stops.append(Stop(s.id, s.location, s.service, windows=windows))
        t += s.service
        loc = s.location
    stops.sort(key=lambda s: int(s.id[1:]))
    return _problem_like(plain, stops)


def assert_optimal(problem: Problem, solution: Solution, optimum: int) -> None:
    assert violations(problem, solution) == []
    assert solution.unserved == ()
    assert solution.distance == optimum


SINGLE_VEHICLE_CASES = [(1, 5), (2, 5), (3, 6), (4, 6), (5, 6), (6, 7), (7, 7), (8, 7)]
"""(seed, stops): one vehicle, windows around a random tour, sometimes a second window."""


@pytest.mark.parametrize(("seed", "n_stops"), SINGLE_VEHICLE_CASES)
def test_single_vehicle_with_windows_is_optimal(seed: int, n_stops: int) -> None:
    problem = windowed_instance(seed, n_stops)
    optimum = best_single_route(problem)
    assert optimum is not None  # the tour the windows were built around is feasible
    assert_optimal(problem, solve(problem, SEARCH), optimum)


def test_windows_bind_in_the_single_vehicle_cases() -> None:
    # Guards the test above: with windows ignored the optimum would mostly be shorter, so
    # the solver must really honour the windows to match the brute force.
    binding = [
        case
        for case in SINGLE_VEHICLE_CASES
        if best_single_route(windowed_instance(*case))
        != best_single_route(windowed_instance(*case), windows=False)
    ]
    assert len(binding) >= 6


def two_vehicle_instance(seed: int, *, depots: int, pickups: bool) -> Problem:
    """Two vehicles, six stops with demands, capacity 60 % of the total demand."""
    rng = random.Random(seed)
    points = _points(rng, 6 + depots)
    stops = [
        Stop(
            f"s{i}",
            depots + i,
            service=rng.randint(0, 300),
            demand=(rng.randint(1, 5),),
            kind=StopKind.PICKUP if pickups and rng.random() < 0.5 else StopKind.DELIVERY,
        )
        for i in range(6)
    ]
    total = sum(s.demand[0] for s in stops)
    capacity = (math.ceil(total * 0.6),)
    vehicles = [
        Vehicle("a", "van", 0, 0, SHIFT),
        Vehicle("b", "van", depots - 1, depots - 1, SHIFT),
    ]
    return _problem(points, stops, vehicles, capacity)


@pytest.mark.parametrize(
    ("seed", "depots", "pickups"),
    [
        (11, 1, False),  # one depot, deliveries only
        (12, 1, False),
        (13, 2, False),  # the two vans start from different depots
        (14, 2, False),
        (15, 1, True),  # deliveries and pickups to the depot share the capacity
        (16, 2, True),
    ],
)
def test_two_vehicles_with_capacity_is_optimal(seed: int, depots: int, pickups: bool) -> None:
    problem = two_vehicle_instance(seed, depots=depots, pickups=pickups)
    optimum = best_two_routes(problem)
    assert optimum is not None
    solution = solve(problem, SEARCH)
    assert_optimal(problem, solution, optimum)


@pytest.mark.parametrize(("seed", "depots"), [(11, 1), (12, 1), (13, 2), (14, 2)])
def test_capacity_binds_in_the_two_vehicle_instances(seed: int, depots: int) -> None:
    # Guards the test above: with deliveries only, one vehicle cannot carry everything.
    problem = two_vehicle_instance(seed, depots=depots, pickups=False)
    assert best_single_route(problem) is None


def second_window_instance(first_window: tuple[int, int] | None) -> Problem:
    """One van; B (mandatory, 08:10-08:12) and X, 600 s either side of the depot.

    Serving B first makes X reachable at 08:30 at the earliest; serving X first makes B late.
    X has a window 08:10-08:15 (``first_window``) and a second one 08:30-08:40.
    """
    points = [(6_000, 0), (12_000, 0), (0, 0)]  # depot, B, X
    t0 = 8 * 3_600
    x_windows = [TimeWindow(t0 + 1_800, t0 + 2_400)]
    if first_window is not None:
        x_windows.insert(0, TimeWindow(*first_window))
    stops = [
        Stop("B", 1, windows=(TimeWindow(t0 + 600, t0 + 720),)),
        Stop("X", 2, windows=tuple(x_windows)),
    ]
    return _problem(points, stops, [Vehicle("v", "van", 0, 0, TimeWindow(t0, t0 + 4 * 3_600))])


def test_second_window_is_used_when_only_it_can_be_reached() -> None:
    t0 = 8 * 3_600
    problem = second_window_instance((t0 + 600, t0 + 900))
    solution = solve(problem, SEARCH)
    assert violations(problem, solution) == []
    assert solution.unserved == ()
    (route,) = solution.routes
    assert route.stop_ids == ("B", "X")
    assert problem.stop("X").windows[1].contains(route.visits[1].start)


def test_first_window_alone_would_drop_a_stop() -> None:
    # The same problem with X's first window only: B and X cannot both be served.
    t0 = 8 * 3_600
    problem = _problem_like(
        second_window_instance(None),
        [
            Stop("B", 1, windows=(TimeWindow(t0 + 600, t0 + 720),)),
            Stop("X", 2, windows=(TimeWindow(t0 + 600, t0 + 900),)),
        ],
    )
    assert best_single_route(problem) is None
    solution = solve(problem, SEARCH)
    assert violations(problem, solution) == []
    assert len(solution.unserved) == 1


def test_second_window_when_the_first_is_unreachable_even_alone() -> None:
    # X's first window closes before a van could get there at all.
    t0 = 8 * 3_600
    problem = second_window_instance((t0, t0 + 300))
    problem = _problem_like(problem, [problem.stop("X")])
    solution = solve(problem, SEARCH)
    assert violations(problem, solution) == []
    (route,) = solution.routes
    assert problem.stop("X").windows[1].contains(route.visits[0].start)
