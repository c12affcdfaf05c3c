"""The PyVRP seed on product-shaped problems, repairs of relaxed seeds, and a search cut short.

Skills become PyVRP profiles, several windows client groups, pairs shipments; each seed is
replayed here by the tests' own checker (``route_feasible_distance``), not trusted.
"""

from __future__ import annotations

import importlib
from collections import Counter
from dataclasses import replace

import numpy as np
import pytest

from routing import (
    Break,
    Limits,
    Location,
    PickupDelivery,
    Problem,
    SolveStatus,
    Stop,
    StopKind,
    TimeWindow,
    Unserved,
    UnservedReason,
    Vehicle,
    VehicleType,
    _pyvrp,
    solve,
)
from routing._ortools import OrToolsModel
from routing.diagnose import diagnose
from tests.routing.conftest import euclidean_matrix, route_feasible_distance, violations

H = 3600


def _city(
    n: int,
    *,
    seed: int = 0,
    pairs: int = 0,
    breaks: bool = False,
    open_routes: bool = False,
    vehicles_per_type: int = 3,
) -> Problem:
    """A small town: stops needing skills, stops with a morning and an evening window, vans
    with every skill and cargo bikes with none, on their own travel matrices."""
    rng = np.random.default_rng(seed)
    points = [(5000, 5000), *((int(x), int(y)) for x, y in rng.uniform(0, 10_000, (n, 2)))]
    stops = []
    for i in range(n):
        if i % 3 == 0:
            windows = (TimeWindow(8 * H, 10 * H), TimeWindow(15 * H, 17 * H))
        else:
            start = int(rng.integers(8, 15)) * H
            windows = (TimeWindow(start, start + 2 * H),)
        skills = frozenset({"cold"}) if i % 4 == 1 else frozenset()
        kind = StopKind.PICKUP if i < pairs else StopKind.DELIVERY
        if i < pairs:
            windows = (TimeWindow(8 * H, 16 * H),)
        stops.append(
            Stop(
                f"s{i}", i + 1, service=120, windows=windows, demand=(2,), skills=skills, kind=kind
            )
        )
    shipments = []
    for k in range(pairs):  # each pickup goes to the depot's twin at location 0 ("store")
        stops.append(
            Stop(f"store{k}", 0, service=60, windows=(TimeWindow(8 * H, 18 * H),), demand=(2,))
        )
        shipments.append(PickupDelivery(f"s{k}", f"store{k}"))
    types = (
        VehicleType("van", capacity=(40,), fixed_cost=50, cost_per_km=0.4, cost_per_hour=30,
                    skills=frozenset({"cold"})),
        VehicleType("bike", capacity=(12,), profile="bike", fixed_cost=20, cost_per_km=0.05,
                    cost_per_hour=20),
    )  # fmt: skip
    fleet = []
    for t in ("van", "bike"):
        for k in range(vehicles_per_type):
            fleet.append(
                Vehicle(
                    f"{t}{k}",
                    t,
                    0,
                    None if open_routes else 0,
                    TimeWindow(7 * H, 19 * H),
                    breaks=(Break(TimeWindow(11 * H, 13 * H), 1800),) if breaks else (),
                )
            )
    locations = tuple(Location(f"L{i}", 60 + y * 1e-5, 24 + x * 2e-5) for i, (x, y) in
                      enumerate(points))  # fmt: skip
    return Problem(
        locations,
        {"car": euclidean_matrix(points, speed_mps=8.0), "bike": euclidean_matrix(points,
                                                                                  speed_mps=4.0)},
        tuple(stops),
        types,
        tuple(fleet),
        shipments=tuple(shipments),
    )  # fmt: skip


def _seed(problem: Problem) -> dict[int, list[int]]:
    servable = diagnose(problem).servable
    seeded = _pyvrp.seed_routes(problem, servable, time_limit=10.0, iterations=300)
    assert seeded.routes is not None, seeded.stats
    return seeded.routes


def test_skills_and_two_windows_are_expressed_as_profiles_and_client_groups() -> None:
    problem = _city(40)
    tr = _pyvrp.translate(problem, diagnose(problem).servable)
    assert tr.data.num_profiles == 2  # van (every skill, car) and bike (no skill, bike)
    assert len(tr.data.groups()) == 14  # stops 0, 3, ..., 39 have two windows
    assert tr.data.num_clients == 40 + 14  # one copy per window
    assert Counter(tr.client_stop) == Counter({**dict.fromkeys(range(40), 1),
                                               **dict.fromkeys(range(0, 40, 3), 2)})  # fmt: skip


def test_a_seed_with_skills_and_two_windows_is_feasible_when_replayed() -> None:
    problem = _city(40)
    routes = _seed(problem)
    served = Counter(s for r in routes.values() for s in r)
    assert set(served) == set(range(40)) and max(served.values()) == 1
    for vi, stop_indices in routes.items():
        vehicle = problem.vehicles[vi]
        stops = [problem.stops[s] for s in stop_indices]
        assert route_feasible_distance(problem, vehicle, stops) is not None, vehicle.id
        if vehicle.type == "bike":
            assert not any(s.skills for s in stops)


def test_pairs_are_seeded_as_shipments_on_one_vehicle_pickup_first() -> None:
    problem = _city(20, pairs=5)
    routes = _seed(problem)
    where = {s: (vi, k) for vi, r in routes.items() for k, s in enumerate(r)}
    assert len(where) == len(problem.stops)
    for pd in problem.shipments:
        (vp, kp), (vd, kd) = (
            where[problem.stop_index(pd.pickup)],
            where[problem.stop_index(pd.delivery)],
        )
        assert vp == vd and kp < kd
    solution = solve(problem, Limits(time_limit=3.0, seed_with="pyvrp", seed_iterations=300))
    assert solution.stats["warm_start"] == "used"
    assert solution.unserved == () and violations(problem, solution) == []


def test_open_routes_are_seeded_with_a_free_end() -> None:
    problem = _city(20, open_routes=True)
    solution = solve(problem, Limits(time_limit=3.0, seed_with="pyvrp", seed_iterations=300))
    assert solution.stats["warm_start"] == "used"
    assert solution.unserved == () and violations(problem, solution) == []


def test_breaks_are_relaxed_in_the_seed_and_kept_by_the_plan() -> None:
    problem = _city(30, breaks=True)
    solution = solve(problem, Limits(time_limit=4.0, seed_with="pyvrp", seed_iterations=300))
    assert solution.stats["seed"]["relaxed"] == ["breaks"]  # type: ignore[index]
    assert solution.stats["warm_start"] == "used"
    assert solution.unserved == () and violations(problem, solution) == []
    assert all(len(r.breaks) == 1 for r in solution.routes)


def test_a_seed_that_breaks_a_constraint_is_repaired_not_thrown_away() -> None:
    problem = _city(12, vehicles_per_type=1)
    # Everything on the van in index order: too late for some windows, but most stops fit.
    model = OrToolsModel(problem, diagnose(problem))
    bad = {0: list(range(12))}
    raw = model.search(time_limit=1.0, solution_limit=1, initial_routes=bad, repair=True)
    assert str(raw.stats["warm_start"]).startswith("used")  # replayed when that costs less
    assert 0 < raw.stats["warm_start_repaired"] < 12  # type: ignore[operator]
    rejected = OrToolsModel(problem, diagnose(problem)).search(
        time_limit=1.0, solution_limit=1, initial_routes=bad
    )
    assert str(rejected.stats["warm_start"]).startswith("rejected")


def test_pyvrp_alone_answers_with_ids_and_refuses_breaks() -> None:
    problem = _city(30)
    alone = _pyvrp.solve_alone(problem, time_limit=1.0)
    assert alone.routes is not None and alone.first_feasible_seconds is not None
    assert sorted(s for r in alone.routes.values() for s in r) == sorted(
        s.id for s in problem.stops
    )
    assert set(alone.routes) <= {v.id for v in problem.vehicles}
    with pytest.raises(_pyvrp.NotExpressible, match="breaks"):
        _pyvrp.solve_alone(_city(5, breaks=True), time_limit=0.5)


def test_a_search_cut_short_says_so_instead_of_asking_for_a_vehicle() -> None:
    # 600 stops and 40 vehicles: OR-Tools alone cannot build a first plan in 10 ms.
    problem = _city(600, vehicles_per_type=20)
    solution = solve(problem, Limits(time_limit=0.01, seed_with="none"))
    assert solution.status is SolveStatus.TIME_EXHAUSTED
    assert solution.unserved
    assert {u.reason for u in solution.unserved} == {UnservedReason.SEARCH_TIME_EXHAUSTED}
    assert all("more time" in u.detail and "vehicle" not in u.detail.split(";")[1]
               for u in solution.unserved)  # fmt: skip


def test_a_seeded_plan_reports_when_its_first_full_plan_came() -> None:
    problem = _city(60)
    solution = solve(problem, Limits(time_limit=3.0, seed_with="pyvrp"))
    first = solution.stats["first_plan_seconds"]
    assert isinstance(first, float) and 0 < first < solution.wall_time
    assert solution.status is SolveStatus.FEASIBLE


def test_a_dropped_stop_an_idle_vehicle_could_serve_is_blamed_on_time() -> None:
    from routing._ortools import RawPlan
    from routing.solve import _dropped

    problem = _city(3, vehicles_per_type=1)
    raw = RawPlan((), (1,), 0, "success", {})
    (reason,) = _dropped(problem, raw, diagnose(problem), ())
    assert reason == Unserved(reason.stop_id, UnservedReason.SEARCH_TIME_EXHAUSTED, reason.detail)
    assert "more time" in reason.detail


def test_a_day_above_the_threshold_is_solved_by_zones(monkeypatch: pytest.MonkeyPatch) -> None:
    solve_module = importlib.import_module("routing.solve")  # routing.solve is the function
    monkeypatch.setattr(solve_module, "DECOMPOSE_ABOVE", 50)
    problem = _city(120, vehicles_per_type=6)
    limits = Limits(time_limit=8.0, workers=1, solution_limit=50, seed_iterations=100)
    solution = solve(problem, limits)
    assert solution.stats["zones"] > 1  # type: ignore[operator]
    assert solution.unserved == () and violations(problem, solution) == []


def test_waiting_weighs_in_the_neighbourhoods_only_where_time_is_free() -> None:
    # Paid by the hour (the town's vans and bikes): waiting already costs in the objective,
    # and PyVRP's own weight stays. Distance only at 0.1 EUR per km: a second of driving
    # costs 100 units per metre x 8 m/s = 800 on a van, x 4 m/s = 400 on a bike; waiting is
    # weighed by the median, 600.
    town = _city(10)
    assert _pyvrp.translate(town, diagnose(town).servable).wait_scale == 1.0
    free_time = replace(
        town,
        vehicle_types=tuple(replace(t, cost_per_km=0.1, cost_per_hour=0.0)
                            for t in town.vehicle_types),
    )  # fmt: skip
    tr = _pyvrp.translate(free_time, diagnose(free_time).servable)
    assert tr.wait_scale == pytest.approx(600, rel=0.05)
