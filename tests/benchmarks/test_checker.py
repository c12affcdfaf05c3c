"""The benchmark checker accepts feasible routes, rejects every kind of broken one, and
recomputes the distance from the instance alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import vrplib

from benchmarks.checker import check
from benchmarks.instances import DEFAULT_DATA_DIR, Instance, Kind, read_suite


def tiny(
    *,
    ready: tuple[int, ...] = (0, 0, 0, 0),
    due: tuple[int, ...] = (1000, 1000, 1000, 1000),
    service: tuple[int, ...] = (0, 10, 10, 10),
    capacity: int = 5,
    fleet: int = 2,
) -> Instance:
    """Depot 0 and customers 1, 2, 3 on a line, 100 units apart; demands 1, 2, 3."""
    xs = np.array([0, 100, 200, 300])
    matrix = np.abs(xs[:, None] - xs[None, :]).astype(np.int64)
    return Instance(
        name="tiny",
        kind=Kind.VRPTW,
        path=Path("tiny.txt"),
        coords=np.stack([xs, np.zeros(4)], axis=1).astype(float),
        matrix=matrix,
        demand=np.array([0, 1, 2, 3], dtype=np.int64),
        ready=np.array(ready, dtype=np.int64),
        due=np.array(due, dtype=np.int64),
        service=np.array(service, dtype=np.int64),
        capacity=capacity,
        fleet=fleet,
    )


def test_feasible_routes_pass_with_the_recomputed_distance() -> None:
    result = check(tiny(), [[1, 2], [3]])
    assert result.feasible, result.violations
    # 0-1-2-0: 100 + 100 + 200; 0-3-0: 300 + 300
    assert result.distance == 1000
    assert result.routes == 2


def test_empty_routes_are_ignored() -> None:
    result = check(tiny(), [[], [1, 2], [], [3]])
    assert result.feasible
    assert result.routes == 2


@pytest.mark.parametrize(
    ("routes", "expected"),
    [
        ([[1, 2]], "1 customer(s) not served: 3"),  # customer 3 dropped
        ([[1, 2], [3, 1]], "served more than once: 1"),  # customer 1 twice
        ([[1, 2, 3]], "load 6 exceeds capacity 5"),  # 1 + 2 + 3 on one route
        ([[1, 0, 2], [3]], "are not customers"),  # the depot inside a route
        ([[1, 2], [3, 4]], "are not customers"),  # an unknown customer
        ([[1], [2], [3]], "3 routes but the fleet has 2"),  # one vehicle too many
    ],
)
def test_broken_routes_are_rejected(routes: list[list[int]], expected: str) -> None:
    result = check(tiny(), routes)
    assert not result.feasible
    assert any(expected in v for v in result.violations), result.violations


def test_a_late_customer_is_rejected() -> None:
    # Customer 1 must start by 150; going via 3 first reaches it at 300 + 10 + 200 = 510.
    inst = tiny(due=(1000, 150, 1000, 1000), capacity=10, fleet=1)
    assert check(inst, [[1, 3, 2]]).feasible
    result = check(inst, [[3, 1, 2]])
    assert not result.feasible
    assert any("customer 1 served from 510" in v for v in result.violations)


def test_waiting_delays_the_rest_of_the_route() -> None:
    # Arrive at 1 at 100, wait until 500, leave at 510, reach 2 at 610 > due 600. A checker
    # that forgot the waiting would see 210 and accept the route.
    inst = tiny(ready=(0, 500, 0, 0), due=(1000, 1000, 600, 1000))
    result = check(inst, [[1, 2], [3]])
    assert not result.feasible
    assert any("customer 2 served from 610" in v for v in result.violations)


def test_waiting_at_a_window_is_allowed() -> None:
    inst = tiny(ready=(0, 500, 0, 0), due=(1000, 600, 1000, 1000))
    assert check(inst, [[1, 2], [3]]).feasible


def test_a_late_return_to_the_depot_is_rejected() -> None:
    inst = tiny(due=(615, 1000, 1000, 1000))
    # 0-1-2-0 back at 420, 0-3-0 back at 610: both by 615.
    assert check(inst, [[1, 2], [3]]).feasible
    # 0-1-3-0: 100 + 10 + 200 + 10 + 300 = 620.
    result = check(inst, [[1, 3], [2]])
    assert result.violations == ("route 0: back at the depot at 620, after its due time 615",)


def test_distance_is_reported_even_when_infeasible() -> None:
    assert check(tiny(), [[1, 2, 3]]).distance == 600


@pytest.mark.skipif(not DEFAULT_DATA_DIR.is_dir(), reason="shared benchmark data absent")
@pytest.mark.parametrize("name", ["C101", "R101", "RC208"])
def test_best_known_solutions_check_out_at_the_bks_distance(name: str) -> None:
    (inst,) = read_suite(DEFAULT_DATA_DIR, "solomon", [name], fmt="vrplib")
    routes = vrplib.read_solution(str(inst.path.with_suffix(".sol")))["routes"]
    result = check(inst, routes)
    assert result.feasible, result.violations
    assert inst.bks is not None
    assert inst.reported(result.distance) == pytest.approx(inst.bks.distance)


@pytest.mark.skipif(not DEFAULT_DATA_DIR.is_dir(), reason="shared benchmark data absent")
def test_a_reversed_best_known_route_breaks_tight_windows() -> None:
    (inst,) = read_suite(DEFAULT_DATA_DIR, "solomon", ["R101"], fmt="vrplib")
    routes = vrplib.read_solution(str(inst.path.with_suffix(".sol")))["routes"]
    routes[0] = routes[0][::-1]
    result = check(inst, routes)
    assert not result.feasible
    assert all("route 0" in v for v in result.violations)
