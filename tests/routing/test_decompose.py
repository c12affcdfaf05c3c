"""``solve_by_zones``: a day cut into zones, solved in worker processes (or on Dask), joined
into one plan over the parent problem that the independent checker accepts."""

from __future__ import annotations

import math
import pickle
from collections.abc import Iterator, Sequence

import dask
import numpy as np
import pytest
from distributed import LocalCluster

from benchmarks.product import generate
from routing import (
    Limits,
    Location,
    PickupDelivery,
    Problem,
    Solution,
    SolveStatus,
    Stop,
    StopKind,
    TimeWindow,
    UnservedReason,
    Vehicle,
    VehicleType,
    _zones,
)
from routing import decompose as dz
from routing.decompose import solve_by_zones
from routing.diagnose import diagnose
from tests.routing.conftest import euclidean_matrix, violations

H = 3600
REPEATABLE = Limits(time_limit=60.0, solution_limit=30, seed_iterations=150)
"""Parts stop after a number of solutions and seed iterations, long before their time."""


def _day(
    n: int,
    *,
    seed: int = 0,
    pairs: int = 0,
    vans: int = 8,
    bikes: int = 6,
    locked: Sequence[str] = (),
    rush: int = 0,
    impossible: bool = False,
) -> Problem:
    """A 10 km square town around one depot (location 0), ``n`` stops.

    A third of the stops have a morning and an afternoon window, the rest one 3-hour window;
    every fifth needs the skill "cold" (vans only). Vans alternate two shifts (07-15,
    11-19); bikes work 07-19. The first ``pairs`` stops are returns carried to the depot's
    twin (location 0); ``locked`` stop ids are already on van ``van0``. ``rush`` extra stops
    crowd one corner, all in the same half hour, so that one van does only a few of them.
    ``impossible`` adds three stops no vehicle can serve: one needing a skill only an unused
    type has, one too heavy, one with a window before every shift.
    """
    rng = np.random.default_rng(seed)
    points = [(5000, 5000), *((int(x), int(y)) for x, y in rng.uniform(0, 10_000, (n, 2)))]
    stops = []
    for i in range(n):
        if i % 3 == 0:
            windows: tuple[TimeWindow, ...] = (
                TimeWindow(8 * H, 11 * H),
                TimeWindow(14 * H, 17 * H),
            )
        else:
            start = int(rng.integers(8, 15)) * H
            windows = (TimeWindow(start, start + 3 * H),)
        kind = StopKind.DELIVERY
        if i < pairs:
            kind, windows = StopKind.PICKUP, (TimeWindow(8 * H, 15 * H),)
        skills = frozenset({"cold"}) if i % 5 == 1 else frozenset()
        stops.append(Stop(f"s{i}", i + 1, 120, windows, (2,), skills, kind))
    shipments = []
    for k in range(pairs):
        stops.append(Stop(f"store{k}", 0, 60, (TimeWindow(8 * H, 18 * H),), (2,)))
        shipments.append(PickupDelivery(f"s{k}", f"store{k}"))
    for k in range(rush):
        points.append((9000 + 40 * (k % 5), 9000 + 40 * (k // 5)))
        window = (TimeWindow(9 * H, 9 * H + 1800),)
        stops.append(Stop(f"rush{k}", len(points) - 1, 300, window, (1,)))
    if impossible:
        points.append((5200, 5200))
        at = len(points) - 1
        stops += [
            Stop("frozen", at, 60, (), (1,), frozenset({"frozen"})),
            Stop("piano", at, 60, (), (500,)),
            Stop("night", at, 60, (TimeWindow(2 * H, 3 * H),), (1,)),
        ]
    types = (
        VehicleType("van", capacity=(60,), fixed_cost=50, cost_per_km=0.4, cost_per_hour=30,
                    skills=frozenset({"cold"})),
        VehicleType("bike", capacity=(16,), profile="bike", fixed_cost=20, cost_per_km=0.05,
                    cost_per_hour=20),
        VehicleType("freezer", capacity=(60,), fixed_cost=90, skills=frozenset({"frozen"})),
    )  # fmt: skip
    shifts = (TimeWindow(7 * H, 15 * H), TimeWindow(11 * H, 19 * H))
    fleet = [
        Vehicle(f"van{k}", "van", 0, 0, shifts[k % 2], locked=tuple(locked) if k == 0 else ())
        for k in range(vans)
    ]
    fleet += [Vehicle(f"bike{k}", "bike", 0, 0, TimeWindow(7 * H, 19 * H)) for k in range(bikes)]
    locations = tuple(
        Location(f"L{i}", 60 + y * 1e-5, 24 + x * 2e-5) for i, (x, y) in enumerate(points)
    )
    return Problem(
        locations,
        {
            "car": euclidean_matrix(points, speed_mps=8.0),
            "bike": euclidean_matrix(points, speed_mps=4.0),
        },
        tuple(stops),
        types,
        tuple(fleet),
        shipments=tuple(shipments),
    )


def _plan(solution: Solution) -> list[tuple[object, ...]]:
    """Everything a plan says, as comparable data."""
    return [
        (r.vehicle_id, r.stop_ids, tuple(v.start for v in r.visits), r.start_time, r.cost)
        for r in solution.routes
    ] + [(u.stop_id, u.reason) for u in solution.unserved]


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    """Two worker processes, one thread each, on 127.0.0.1; no dashboard."""
    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as local:
        yield local


# -- the whole ------------------------------------------------------------------------------


def test_a_multi_zone_day_serves_every_stop_with_a_valid_plan() -> None:
    problem = _day(120)
    limits = Limits(time_limit=8.0, seed_iterations=300)
    solution = solve_by_zones(problem, limits, zone_stops=30, workers=2)
    assert violations(problem, solution) == []
    assert solution.unserved == ()
    assert solution.status is SolveStatus.FEASIBLE
    assert solution.stats["zones"] == 4
    assert solution.stats["executor"] == "processes"
    assert solution.wall_time < limits.time_limit + 1.0
    # Visits point at the parent's locations (a zone has about 35 locations, the day 121).
    assert all(
        v.location == problem.stop(v.stop_id).location for r in solution.routes for v in r.visits
    )
    assert max(v.location for r in solution.routes for v in r.visits) > 60
    assert solution.objective == round(solution.cost * 10_000)
    rounds = solution.stats["rounds"]
    assert isinstance(rounds, list)
    assert rounds[0]["parts"] == 4
    assert len(rounds[0]["part_seconds"]) == 4
    assert solution.stats["improvement"]["groups"] >= 1  # type: ignore[index]


def test_pairs_locks_and_skills_hold_and_diagnosed_reasons_stay() -> None:
    problem = _day(90, pairs=12, locked=("s40", "s41"), impossible=True)
    solution = solve_by_zones(problem, REPEATABLE, zone_stops=30, workers=1)
    assert violations(problem, solution) == []
    diagnosed = {u.stop_id: u for u in diagnose(problem).unserved}
    assert {u.stop_id: u.reason for u in solution.unserved} == {
        "frozen": UnservedReason.NO_VEHICLE_WITH_SKILLS,
        "piano": UnservedReason.DEMAND_EXCEEDS_CAPACITY,
        "night": UnservedReason.WINDOW_UNREACHABLE,
    }
    assert all(u == diagnosed[u.stop_id] for u in solution.unserved)
    for route in solution.routes:
        skills = problem.vehicle_type(route.vehicle_type).skills
        assert all(problem.stop(sid).skills <= skills for sid in route.stop_ids)
    for pd in problem.shipments:  # the checker also checks the order on the route
        assert solution.route_of(pd.pickup) is solution.route_of(pd.delivery) is not None
    van0 = solution.route_of("s40")
    assert van0 is not None and van0.vehicle_id == "van0"
    assert van0.stop_ids[:2] == ("s40", "s41")


def test_dask_gives_the_plan_of_local_processes(cluster: LocalCluster) -> None:
    problem = _day(100, pairs=6, seed=3)
    local = solve_by_zones(problem, REPEATABLE, zone_stops=35, workers=2, seed=7)
    remote = solve_by_zones(
        problem, REPEATABLE, zone_stops=35, seed=7, scheduler=cluster.scheduler_address
    )
    assert remote.stats["executor"] == "dask"
    assert remote.stats["workers"] == 2
    assert _plan(remote) == _plan(local)
    assert remote.objective == local.objective
    assert violations(problem, remote) == []


def test_a_zone_short_of_vehicles_has_its_leftovers_served_in_the_second_round() -> None:
    # 25 stops in one corner all want service between 09:00 and 09:30: by the zone's work
    # and load, two or three vans would do, but one van serves at most six of them.
    problem = _day(60, rush=25, vans=14, bikes=4, seed=5)
    solution = solve_by_zones(problem, REPEATABLE, zone_stops=30, workers=1)
    rounds = solution.stats["rounds"]
    assert isinstance(rounds, list)
    assert rounds[0]["left_out"] > 0
    assert [r["round"] for r in rounds] == [1, 2]
    assert rounds[1]["left_out"] == 0
    assert solution.unserved == ()
    assert violations(problem, solution) == []


@pytest.mark.slow
def test_a_product_day_of_1500_stops_is_served_whole_in_its_time() -> None:
    problem = generate(1500, seed=2)
    solution = solve_by_zones(problem, Limits(time_limit=40.0), zone_stops=400, workers=2)
    assert solution.wall_time < 40.0 + 1.5
    assert solution.unserved == ()
    assert violations(problem, solution) == []
    assert solution.stats["zones"] == 4


def test_a_problem_within_one_zone_is_solved_whole() -> None:
    problem = _day(30)
    solution = solve_by_zones(problem, Limits(time_limit=2.0, seed_with="none"), zone_stops=40)
    assert solution.stats["zones"] == 1
    assert solution.unserved == ()
    assert violations(problem, solution) == []


def test_bad_arguments_say_what_to_fix() -> None:
    problem = _day(20)
    with pytest.raises(ValueError, match="zone_stops 3 is below"):
        solve_by_zones(problem, zone_stops=3)
    with pytest.raises(ValueError, match="workers 0 must be 1 or more"):
        solve_by_zones(problem, zone_stops=10, workers=0)


def test_unreachable_scheduler_is_a_clear_error() -> None:
    with (
        dask.config.set({"distributed.comm.timeouts.connect": "1s"}),
        pytest.raises(ConnectionError, match="cannot reach the Dask scheduler"),
    ):
        solve_by_zones(_day(40), zone_stops=20, scheduler="tcp://127.0.0.1:9")


# -- the pieces -----------------------------------------------------------------------------


def test_a_part_holds_only_its_locations_and_the_parent_matrices() -> None:
    problem = _day(50, pairs=4)
    stops = [problem.stop_index(s) for s in ("s0", "store0", "s7", "s9", "s20")]
    part = _zones.part(problem, stops, [0, 3, 9])
    sub = pickle.loads(pickle.dumps(part)).problem()
    assert len(sub.locations) == 5  # the depot (also the store) and four customers
    assert [s.id for s in sub.stops] == ["s0", "s7", "s9", "s20", "store0"]
    assert [v.id for v in sub.vehicles] == ["van0", "van3", "bike1"]
    assert sub.shipments == (PickupDelivery("s0", "store0"),)
    parent_loc = [problem.locations.index(loc) for loc in sub.locations]
    for name, m in problem.matrices.items():
        expected = m.distances[np.ix_(parent_loc, parent_loc)]
        assert np.array_equal(sub.matrices[name].distances, expected)
    with pytest.raises(ValueError, match="without its locked stop"):
        _zones.part(_day(20, locked=("s3",)), [5, 6], [0])


def test_atoms_keep_pairs_and_locked_prefixes_whole() -> None:
    problem = _day(30, pairs=3, locked=("s10", "s11", "s12"))
    xy = _zones.planar(problem)
    atoms = _zones.atoms(problem, range(len(problem.stops)), xy)
    by_stop = {s: a for a in atoms for s in a.stops}
    for pd in problem.shipments:
        assert by_stop[problem.stop_index(pd.pickup)] is by_stop[problem.stop_index(pd.delivery)]
        # placed at the customer, not at the store on the depot
        customer = problem.stop(pd.pickup).location
        assert by_stop[problem.stop_index(pd.pickup)].xy == pytest.approx(tuple(xy[customer]))
    chain = by_stop[problem.stop_index("s10")]
    assert chain.stops == (10, 11, 12) and chain.vehicle == 0
    assert sum(len(a.stops) for a in atoms) == len(problem.stops)


def test_the_sweep_cuts_balanced_contiguous_sectors() -> None:
    rng = np.random.default_rng(1)
    points = rng.normal(size=(301, 2)) * 1000
    sizes = [1] * 300 + [2]
    cut = _zones.sweep(points, sizes, (0.0, 0.0), 4)
    assert sorted(i for z in cut.zones for i in z) == list(range(301))
    loads = [sum(sizes[i] for i in z) for z in cut.zones]
    assert max(loads) - min(loads) <= 2
    theta = _zones.angles(points, (0.0, 0.0))
    for z, start in zip(cut.zones, cut.borders, strict=True):
        offsets = [(theta[i] - start) % (2 * math.pi) for i in z]
        assert offsets == sorted(offsets)  # swept counter-clockwise from its border


def test_every_zone_gets_a_vehicle_for_each_of_its_stops() -> None:
    problem = _day(90, vans=3, bikes=9)
    eligibility = diagnose(problem)
    zones = [list(range(k, 90, 3)) for k in range(3)]
    fleet = _zones.allocate(
        problem, eligibility, zones, range(len(problem.vehicles)), {}, slack=1.0, spare=0.0
    )
    given = [v for z in fleet.zones for v in z] + list(fleet.reserve)
    assert sorted(given) == list(range(len(problem.vehicles)))
    for stops, vehicles in zip(zones, fleet.zones, strict=True):
        for s in stops:
            assert set(eligibility.allowed[s]) & set(vehicles), problem.stops[s].id


def test_tasks_pickle_for_the_workers() -> None:
    problem = _day(20)
    task = dz._Task(_zones.part(problem, range(20), range(4)), REPEATABLE, 1, {"van0": ["s1"]})
    again = pickle.loads(pickle.dumps(task))
    assert again.part.problem().stops == task.part.problem().stops
