"""Same problem, same limits, same plan: routing.solve is repeatable when stopped by counts.

A solve stopped by ``solution_limit`` (and, with a PyVRP seed, by ``seed_iterations``)
must not depend on timing, so two runs give the same routes and the same ETAs.
"""

from __future__ import annotations

import random

import pytest

from routing import (
    Limits,
    PickupDelivery,
    Problem,
    Solution,
    Stop,
    StopKind,
    TimeWindow,
    Vehicle,
    VehicleType,
    solve,
)
from tests.routing.conftest import euclidean_matrix, grid_locations, violations

TIME_LIMIT = 30.0
"""Seconds; far more than needed, so the count limits, not the clock, end the search."""

HOUR = 3_600


def _plan(solution: Solution) -> tuple[object, ...]:
    """Everything a dispatcher would act on: routes, ETAs, loads, unserved stops, objective."""
    routes = tuple(
        (
            r.vehicle_id,
            r.start_time,
            r.end_time,
            tuple((v.stop_id, v.arrival, v.start, v.departure, v.load) for v in r.visits),
        )
        for r in solution.routes
    )
    unserved = tuple((u.stop_id, u.reason) for u in solution.unserved)
    return routes, unserved, solution.objective


def city(seed: int, n_stops: int, *, rich: bool) -> Problem:
    """A random city of ``n_stops`` stops around one depot, four vans.

    ``rich`` adds what only OR-Tools can express: second windows, pickups to the depot,
    two shipments and optional stops.
    """
    rng = random.Random(seed)
    points = [(rng.randint(0, 8_000), rng.randint(0, 8_000)) for _ in range(n_stops + 1)]
    stops = []
    for i in range(n_stops):
        start = rng.randint(8 * HOUR, 14 * HOUR)
        windows = [TimeWindow(start, start + rng.randint(HOUR, 3 * HOUR))]
        if rich and rng.random() < 0.3:
            later = windows[0].end + rng.randint(HOUR, 2 * HOUR)
            windows.append(TimeWindow(later, later + HOUR))
        stops.append(
            Stop(
                f"s{i}",
                i + 1,
                service=rng.randint(60, 300),
                windows=tuple(windows),
                demand=(rng.randint(1, 4),),
                kind=StopKind.PICKUP if rich and rng.random() < 0.2 else StopKind.DELIVERY,
                penalty=50.0 if rich and rng.random() < 0.2 else None,
            )
        )
    shipments = []
    if rich:
        for p, d in ((0, 1), (2, 3)):
            stops[p] = Stop(
                stops[p].id,
                stops[p].location,
                120,
                (TimeWindow(8 * HOUR, 12 * HOUR),),
                (2,),
                kind=StopKind.PICKUP,
            )
            stops[d] = Stop(
                stops[d].id, stops[d].location, 120, (TimeWindow(12 * HOUR, 16 * HOUR),), (2,)
            )
            shipments.append(PickupDelivery(stops[p].id, stops[d].id))
    return Problem(
        locations=grid_locations(points),
        matrices={"car": euclidean_matrix(points, speed_mps=8.0)},
        stops=tuple(stops),
        vehicle_types=(
            VehicleType(
                "van", capacity=(30,), fixed_cost=20.0, cost_per_km=1.0, cost_per_hour=15.0
            ),
        ),
        vehicles=tuple(
            Vehicle(f"v{k}", "van", 0, 0, TimeWindow(7 * HOUR, 19 * HOUR)) for k in range(4)
        ),
        shipments=tuple(shipments),
    )


def test_same_problem_same_plan_without_seed() -> None:
    problem = city(3, 15, rich=True)
    limits = Limits(time_limit=TIME_LIMIT, solution_limit=50, seed_with="none")
    first, second = solve(problem, limits), solve(problem, limits)
    assert violations(problem, first) == []
    assert first.wall_time < TIME_LIMIT / 2  # the solution limit ended the search
    assert _plan(first) == _plan(second)


@pytest.mark.parametrize(
    "workers",
    [
        1,  # the seed search in this process
        2,  # a portfolio of two seeds, one in a child process; the best one wins
    ],
)
def test_same_problem_same_plan_with_pyvrp_seed(workers: int) -> None:
    problem = city(5, 40, rich=False)
    limits = Limits(
        time_limit=TIME_LIMIT,
        solution_limit=50,
        seed_with="pyvrp",
        seed_iterations=200,
        workers=workers,
    )
    first, second = solve(problem, limits), solve(problem, limits)
    assert violations(problem, first) == []
    assert first.stats["seed_with"] == "pyvrp"
    seed_stats = first.stats["seed"]
    assert isinstance(seed_stats, dict)
    assert seed_stats["workers"] == workers  # every worker's run came back
    assert first.stats["warm_start"] == "used"
    assert first.wall_time < TIME_LIMIT / 2
    assert len(first.routes) > 1
    assert _plan(first) == _plan(second)
