"""The cautious route replay (routing._replay) and the repair of relaxed seeds (routing._repair).

The replay claims to be cautious: a route it accepts, OR-Tools accepts. A hypothesis property
checks that claim against OR-Tools itself on random problems (windows, breaks, pickups, shifts).
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing import Break, Location, Problem, Stop, StopKind, TimeWindow, Vehicle, VehicleType
from routing._ortools import OrToolsModel
from routing._repair import cut, repair
from routing._replay import route_fits
from routing.diagnose import diagnose
from tests.routing.conftest import euclidean_matrix
from tests.routing.test_properties import problems

H = 3600


def _line(stops: list[Stop], *, breaks: tuple[Break, ...] = (), vehicles: int = 1) -> Problem:
    """Depot at 0 m, stop locations every km east; 10 m/s."""
    points = [(1000 * i, 0) for i in range(8)]
    return Problem(
        tuple(Location(f"L{i}", 60.0, 24.0 + i * 0.01) for i in range(8)),
        {"car": euclidean_matrix(points, speed_mps=10.0)},
        tuple(stops),
        (VehicleType("van", capacity=(6,)),),
        tuple(
            Vehicle(f"v{k}", "van", 0, 0, TimeWindow(8 * H, 16 * H), breaks=breaks)
            for k in range(vehicles)
        ),
    )


def test_a_break_that_cannot_fit_between_tight_windows_is_refused() -> None:
    # Two stops back to back at 12:00 and 12:10; the break must start 11:55-12:05.
    stops = [
        Stop("a", 1, service=300, windows=(TimeWindow(12 * H, 12 * H),), demand=(1,)),
        Stop("b", 1, service=300, windows=(TimeWindow(12 * H + 600, 12 * H + 600),), demand=(1,)),
    ]
    tight = _line(stops, breaks=(Break(TimeWindow(11 * H + 3300, 12 * H + 300), 1800),))
    assert not route_fits(tight, tight.vehicles[0], tight.stops)
    loose = _line(stops, breaks=(Break(TimeWindow(10 * H, 12 * H + 300), 1800),))
    assert route_fits(loose, loose.vehicles[0], loose.stops)  # taken before, while waiting


def test_loads_and_windows_are_replayed() -> None:
    stops = [
        Stop("a", 1, demand=(4,)),
        Stop("b", 2, demand=(3,)),
        Stop("p", 3, demand=(3,), kind=StopKind.PICKUP),
        Stop("late", 4, windows=(TimeWindow(8 * H, 8 * H + 10),)),
    ]
    problem = _line(stops)
    v = problem.vehicles[0]
    a, b, p, late = problem.stops
    assert not route_fits(problem, v, [a, b])  # 7 parcels on a van of 6
    assert route_fits(problem, v, [a, p])  # 4 out, 3 back: never more than 6
    assert not route_fits(problem, v, [p, a])  # 4 + 3 on board after the pickup
    assert not route_fits(problem, v, [a, late])  # it arrives after 08:00:10


def test_cut_keeps_pairs_whole() -> None:
    partner = {"p": "d", "d": "p"}
    fits = lambda seq: "x" not in seq  # noqa: E731 - any route holding "x" is refused
    assert cut(["a", "p", "x", "d", "b"], fits, partner) == ["a", "p", "d", "b"]
    refuses_d = lambda seq: "d" not in seq  # noqa: E731
    assert cut(["a", "p", "b", "d"], refuses_d, partner) == ["a", "b"]


def test_repair_cuts_and_reinserts_on_another_vehicle() -> None:
    stops = [Stop(f"s{i}", i, service=60, demand=(2,)) for i in range(1, 6)]
    problem = _line(stops, vehicles=2)
    # Everything on v0: 10 parcels on a van of 6.
    fixed = repair(problem, {0: [0, 1, 2, 3, 4]}, diagnose(problem).allowed)
    assert fixed.cut == 2 and fixed.reinserted == 2
    assert sorted(s for r in fixed.routes.values() for s in r) == [0, 1, 2, 3, 4]
    for vi, route in fixed.routes.items():
        assert route_fits(problem, problem.vehicles[vi], [problem.stops[s] for s in route])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=problems(), data=st.data())
def test_a_route_the_replay_accepts_or_tools_accepts(problem: Problem, data: st.DataObject) -> None:
    eligibility = diagnose(problem)
    paired = {p.pickup for p in problem.shipments} | {p.delivery for p in problem.shipments}
    singles = [s for s in eligibility.servable if problem.stops[s].id not in paired]
    vi = data.draw(st.integers(0, len(problem.vehicles) - 1), label="vehicle")
    mine = [s for s in singles if vi in eligibility.allowed[s]]
    route = data.draw(st.permutations(mine), label="order")[: data.draw(st.integers(0, 4))]
    vehicle = problem.vehicles[vi]
    if not route_fits(problem, vehicle, [problem.stops[s] for s in route]):
        return
    model = OrToolsModel(problem, eligibility)
    assert model.accepts({vi: route}), (vehicle, [problem.stops[s] for s in route])


def test_a_repaired_seed_with_breaks_is_kept_whole() -> None:
    # A 400-stop day with breaks, and a repaired PyVRP seed for it (tests/routing/data). OR-Tools
    # reads it back as feasible, but its search cannot take it as a first solution. It used to
    # read for the whole time limit (a read went on looking for a cheaper schedule), then start
    # from nothing and drop about 50 stops; now the read stops at its first solution and the
    # seed stands as the plan.
    from benchmarks.product import generate

    data = json.loads((Path(__file__).parent / "data" / "breaks_400_seed.json").read_text())
    problem = generate(400, seed=0, variant="breaks")
    assert data["instance"] == "product-breaks-400-s0"
    vehicle = {v.id: k for k, v in enumerate(problem.vehicles)}
    routes = {
        vehicle[vid]: [problem.stop_index(s) for s in stops]
        for vid, stops in data["routes"].items()
    }
    raw = OrToolsModel(problem, diagnose(problem)).search(
        time_limit=4.0, initial_routes=routes, repair=True
    )
    assert raw.dropped == ()
    assert str(raw.stats["warm_start"]).startswith("used")
    assert float(raw.stats["warm_start_seconds"]) < 4.0  # type: ignore[arg-type]
