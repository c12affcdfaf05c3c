"""Several trips a day: a vehicle returns to its depot or a hub to reload (Vehicle.reload_at).

Each plan is checked by the tests' own checker (tests/routing/conftest.py ``violations``),
which recomputes every trip's load, the legs to and from the hub and the reload times.
"""

from __future__ import annotations

import pytest

from routing import (
    InvalidProblemError,
    Limits,
    Location,
    Problem,
    Stop,
    StopKind,
    TimeWindow,
    Vehicle,
    VehicleType,
    solve,
)
from routing._pyvrp import solve_alone
from routing._zones import part
from tests.routing.conftest import euclidean_matrix, violations

H = 3600


def _day(
    *, max_reloads: int = 4, hub: bool = False, pickup: bool = False, reload_time: int = 300
) -> Problem:
    """A depot at 0, nine stops of 2 parcels on a 3 x 3 km grid, one bike carrying 4.

    With ``hub`` the bike reloads at a micro-hub in the grid's middle (location 10), not at
    its depot.
    """
    points = [(0, 0)] + [(1000 * (i % 3 + 1), 1000 * (i // 3)) for i in range(9)] + [(2000, 1000)]
    kinds = [StopKind.PICKUP if pickup and i == 0 else StopKind.DELIVERY for i in range(9)]
    return Problem(
        tuple(Location(f"L{i}", 60.0, 24.0 + i * 0.001) for i in range(len(points))),
        {"bike": euclidean_matrix(points, speed_mps=5.0)},
        tuple(Stop(f"s{i}", i + 1, service=60, demand=(2,), kind=kinds[i]) for i in range(9)),
        (VehicleType("cargo-bike", capacity=(4,), profile="bike", cost_per_km=0.1),),
        (
            Vehicle(
                "b1",
                "cargo-bike",
                0,
                0,
                TimeWindow(8 * H, 16 * H),
                reload_at=(10,) if hub else (0,),
                max_reloads=max_reloads,
                reload_time=reload_time,
            ),
        ),
    )


@pytest.mark.parametrize("seed_with", ["none", "pyvrp"])
@pytest.mark.parametrize("hub", [False, True])
def test_a_bike_serves_more_than_it_carries_by_reloading(seed_with: str, hub: bool) -> None:
    problem = _day(hub=hub)
    solution = solve(problem, Limits(time_limit=2.0, seed_with=seed_with))  # type: ignore[arg-type]
    assert violations(problem, solution) == []
    assert solution.unserved == ()
    (route,) = solution.routes
    assert len(route.reloads) == 4  # 18 parcels, 4 a trip: five trips
    assert all(r.location == (10 if hub else 0) for r in route.reloads)
    assert all(sum(problem.demand(problem.stop(v.stop_id))[0] for v in t) <= 4 for t in route.trips)
    assert all(r.departure - r.start == 300 for r in route.reloads)


def test_max_reloads_binds_and_the_rest_is_unserved_with_a_reason() -> None:
    problem = _day(max_reloads=1)
    solution = solve(problem, Limits(time_limit=2.0, seed_with="none"))
    assert violations(problem, solution) == []
    (route,) = solution.routes
    assert len(route.reloads) == 1
    assert len(route.visits) == 4  # two trips of two stops
    assert len(solution.unserved) == 5


def test_pyvrp_alone_reports_its_reloads_by_position() -> None:
    problem = _day(hub=True)
    alone = solve_alone(problem, time_limit=1.0)
    assert alone.routes is not None
    (stops,) = alone.routes.values()
    (reloads,) = alone.reloads.values()
    assert len(stops) == 9
    assert len(reloads) == 4
    assert all(place == 10 and 0 < before < 9 for before, place in reloads)


def test_a_zone_keeps_its_vehicles_reload_places() -> None:
    problem = _day(hub=True)
    piece = part(problem, [0, 1, 2], [0])
    (bike,) = piece.vehicles
    assert [piece.parent_index[p] for p in bike.reload_at] == [10]
    assert piece.problem().locations[bike.reload_at[0]] == problem.locations[10]


def test_reloads_with_pickups_are_refused_with_the_fix() -> None:
    with pytest.raises(InvalidProblemError, match="deliveries only"):
        _day(pickup=True)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"reload_at": (99,)}, "reload_at location index 99"),
        ({"max_reloads": 11}, "max_reloads 11"),
        ({"reload_time": -1}, "reload_time -1"),
        ({"reload_at": (0, 0)}, "names a place twice"),
    ],
)
def test_bad_reload_fields_name_the_field(fields: dict[str, object], message: str) -> None:
    base = _day()
    with pytest.raises(InvalidProblemError, match=message):
        vehicle = Vehicle("b1", "cargo-bike", 0, 0, TimeWindow(8 * H, 16 * H), **fields)  # type: ignore[arg-type]
        Problem(base.locations, base.matrices, base.stops, base.vehicle_types, (vehicle,))
