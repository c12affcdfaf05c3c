"""Reading a seed back into OR-Tools keeps to the time limit, and a seed it cannot read in time
stands as the plan instead of nothing.

Found measuring issue #16 (benchmarks/shared_fleet.py): at ``time_limit=40`` the 900-stop pooled
day with drivers' breaks took 115-173 s and served 878 stops or none. OR-Tools' read of the PyVRP
seed had the whole limit again for each read (and the route-by-route repair reads dozens of
times), then the search from scratch had it once more and found nothing. Now every read stops
at the solve's deadline, and a plan OR-Tools cannot read in time stands as the cautious replay
(:mod:`routing._replay`) schedules it, which keeps every constraint.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from routing import Break, Limits, Solution, Stop, TimeWindow, solve
from routing._replay import timing
from tests.routing.conftest import violations
from tests.routing.test_repair import _line

H = 3600
MARGIN_S = 2.0
"""What a solve may run past its limit: steps outside the read (the model's build and close,
the PyVRP seed's last iteration) are not cut short."""


def _served(solution: Solution) -> int:
    return sum(len(r.visits) for r in solution.routes)


def test_the_replay_times_a_route_with_its_break() -> None:
    # Depot at 0 m, stops 1 and 2 km east at 10 m/s; the 30-minute break must start 10:00-11:00.
    stops = [
        Stop("a", 1, service=600, windows=(TimeWindow(10 * H, 10 * H + 600),), demand=(1,)),
        Stop("b", 2, service=600, windows=(TimeWindow(11 * H, 12 * H),), demand=(1,)),
    ]
    problem = _line(stops, breaks=(Break(TimeWindow(10 * H, 11 * H), 1800),))
    when = timing(problem, problem.vehicles[0], problem.stops)
    assert when is not None
    # Leaves at 09:58:20 for the 100 s drive to "a", serves it 10:00-10:10, takes the break
    # right after (10:10-10:40), drives 100 s and waits for "b" at 11:00; back by 11:13:20.
    assert when.start == 10 * H - 100
    assert when.starts == (10 * H, 11 * H)
    assert when.breaks == ((10 * H + 600, 1800),)
    assert when.end == 11 * H + 600 + 200


def test_a_seed_not_read_back_in_time_stands_as_replayed() -> None:
    # The repaired PyVRP seed of the 400-stop product day with breaks, handed in as the
    # previous plan with a limit shorter than OR-Tools needs to read it back. It used to read
    # for the model's whole limit, then route by route, then search from nothing: no plan.
    from benchmarks.product import generate

    data = json.loads((Path(__file__).parent / "data" / "breaks_400_seed.json").read_text())
    problem = generate(400, seed=0, variant="breaks")
    assert data["instance"] == "product-breaks-400-s0"
    limit = 0.01
    t0 = time.perf_counter()
    solution = solve(
        problem, Limits(time_limit=limit, seed_with="none"), initial_routes=data["routes"]
    )
    wall = time.perf_counter() - t0
    assert _served(solution) == 400
    assert violations(problem, solution) == []
    assert wall < limit + MARGIN_S
    assert solution.stats.get("replayed") is True, solution.stats.get("warm_start")


@pytest.mark.slow
def test_the_pooled_day_of_600_stops_with_breaks_keeps_its_limit() -> None:
    # Issue #16's shared fleet, 3 retailers x 200 orders on 21 vehicles with breaks: at 6 s the
    # solve took 51 s and served nothing.
    from benchmarks.shared_fleet import _load_city, coalition_problem, shared_day

    day = shared_day(_load_city("synthetic", 0), name="synthetic", orders_per_retailer=200)
    problem = coalition_problem(day, frozenset(day.retailers))
    limit = 6.0
    t0 = time.perf_counter()
    solution = solve(problem, Limits(time_limit=limit, seed_with="auto"))
    wall = time.perf_counter() - t0
    assert _served(solution) == 600
    assert violations(problem, solution) == []
    assert wall < limit + MARGIN_S
