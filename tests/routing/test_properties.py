"""Property tests of routing.solve: on random small problems every plan keeps every rule.

Each example is a random problem: 3-10 stops, 1-3 vehicles of 1-2 types, 1-2 capacity
dimensions, a metric travel matrix per profile (car, bike), none, one or two windows per stop,
optional stops, shipments, pickups to the depot, open routes, breaks, ranges and shift limits.
The plan is replayed by the independent checker in ``conftest.py``, which recomputes arrivals,
loads and distances from the problem.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from routing import (
    Break,
    InvalidProblemError,
    Limits,
    PickupDelivery,
    Problem,
    Solution,
    Stop,
    StopKind,
    TimeWindow,
    TravelMatrix,
    UnservedReason,
    Vehicle,
    VehicleType,
    _pyvrp,
    solve,
)
from routing._ortools import COST_SCALE
from tests.routing.conftest import (
    euclidean_matrix,
    grid_locations,
    route_feasible_distance,
    violations,
)

FAST = Limits(time_limit=0.3, solution_limit=200, seed_with="none")
"""Short searches (most end on the solution count): the properties hold for any plan."""

HOUR = 3_600
coords = st.integers(min_value=0, max_value=6_000)  # metres on a plane


@st.composite
def windows(draw: st.DrawFn) -> tuple[TimeWindow, ...]:
    """None (any time in the shift), or one or two disjoint windows (seconds) in the first half
    of the day; a window may be an instant."""
    n = draw(st.sampled_from([0, 1, 1, 1, 2, 2, 2]))
    if n == 0:
        return ()
    start = draw(st.integers(0, 8 * HOUR))
    first = TimeWindow(start, start + draw(st.integers(0, 3 * HOUR)))
    if n == 1:
        return (first,)
    gap_start = first.end + draw(st.integers(1, 3 * HOUR))
    return first, TimeWindow(gap_start, gap_start + draw(st.integers(0, 3 * HOUR)))


@st.composite
def breaks(draw: st.DrawFn, shift: TimeWindow, max_shift: int | None) -> tuple[Break, ...]:
    """Up to two breaks of 5-30 minutes, one after the other, that fit in one shift.

    A break's window may overrun the shift, but some start in it leaves room for the break
    inside the shift and within ``max_shift`` of the first break (an unservable break is a
    separate case, see the tests at the end).
    """
    limit = shift.end if max_shift is None else min(shift.end, shift.start + max_shift)
    out: list[Break] = []
    earliest = shift.start
    for _ in range(draw(st.integers(0, 2))):
        duration = draw(st.integers(300, 1_800))
        if earliest + duration > limit:
            break
        start = draw(st.integers(earliest, limit - duration))
        window = TimeWindow(start, start + draw(st.integers(0, 2 * HOUR)))
        out.append(Break(window, duration))
        earliest = window.end + duration
    return tuple(out)


@st.composite
def problems(draw: st.DrawFn, *, pickups: bool = True) -> Problem:
    """A random small problem on a plane, metric travel, every feature the checker covers."""
    n_stops = draw(st.integers(3, 10))
    n_vehicles = draw(st.integers(1, 3))
    n_dim = draw(st.integers(1, 2))
    n_depots = draw(st.integers(1, 2))
    n_points = n_depots + n_stops
    points = draw(st.lists(st.tuples(coords, coords), min_size=n_points, max_size=n_points))
    speed = draw(st.sampled_from([4.0, 8.0, 12.5]))  # metres per second
    # Bikes ride 4 m/s on paths 0-50 % longer than the road plane (still metric).
    stretch = draw(st.sampled_from([1.0, 1.2, 1.5]))
    bike_points = [(round(x * stretch), round(y * stretch)) for x, y in points]
    demand = st.tuples(*[st.integers(0, 8)] * n_dim)

    stops: list[Stop] = []
    for i in range(n_stops):
        # Sometimes a stop shares its location with another stop or a depot (zero legs).
        location = draw(st.one_of(st.just(n_depots + i), st.integers(0, n_points - 1)))
        penalty = draw(st.one_of(st.none(), st.floats(0.0, 20.0)))
        stops.append(
            Stop(
                id=f"s{i}",
                location=location,
                service=draw(st.integers(0, 900)),
                windows=draw(windows()),
                demand=draw(demand),
                kind=StopKind.PICKUP if pickups and draw(st.booleans()) else StopKind.DELIVERY,
                penalty=penalty,
                priority=0 if penalty is None else draw(st.integers(0, 2)),
            )
        )

    shipments: list[PickupDelivery] = []
    if pickups:
        order = draw(st.permutations(range(n_stops)))
        n_pairs = draw(st.integers(0, min(2, n_stops // 2)))
        for k in range(n_pairs):
            p, d = order[2 * k], order[2 * k + 1]
            stops[p] = replace(stops[p], kind=StopKind.PICKUP)
            stops[d] = replace(stops[d], kind=StopKind.DELIVERY, demand=stops[p].demand)
            shipments.append(PickupDelivery(stops[p].id, stops[d].id))

    n_types = draw(st.integers(1, 2))
    types = tuple(
        VehicleType(
            name=f"t{k}",
            profile=draw(st.sampled_from(["car", "bike"])),
            capacity=draw(st.tuples(*[st.integers(0, 25)] * n_dim)),
            range_m=draw(st.one_of(st.none(), st.integers(5_000, 40_000))),
            max_shift=draw(st.one_of(st.none(), st.integers(2 * HOUR, 10 * HOUR))),
            fixed_cost=draw(st.sampled_from([0.0, 10.0])),
            cost_per_km=1.0,
            cost_per_hour=draw(st.sampled_from([0.0, 20.0])),
        )
        for k in range(n_types)
    )
    vehicles = []
    for k in range(n_vehicles):
        start = draw(st.integers(0, n_depots - 1))
        shift_start = draw(st.integers(0, 4 * HOUR))
        shift = TimeWindow(shift_start, shift_start + draw(st.integers(2 * HOUR, 14 * HOUR)))
        vtype = types[draw(st.integers(0, n_types - 1))]
        vehicles.append(
            Vehicle(
                id=f"v{k}",
                type=vtype.name,
                start=start,
                end=draw(st.one_of(st.just(start), st.none(), st.integers(0, n_depots - 1))),
                shift=shift,
                breaks=draw(breaks(shift, vtype.max_shift)),
            )
        )
    try:
        return Problem(
            locations=grid_locations(points),
            matrices={
                "car": euclidean_matrix(points, speed_mps=speed),
                "bike": euclidean_matrix(bike_points, speed_mps=4.0),
            },
            stops=tuple(stops),
            vehicle_types=types,
            vehicles=tuple(vehicles),
            dimensions=("parcels", "volume_l")[:n_dim],
            shipments=tuple(shipments),
        )
    except InvalidProblemError:
        # Rare by construction (say, a vehicle whose end depot is beyond its range), and
        # refusing such a problem up front is a fine answer to it.
        reject()


def _expected_objective(problem: Problem, solution: Solution) -> int:
    """The objective of a plan without time costs: scaled fixed and distance costs, penalties."""
    total = 0
    for route in solution.routes:
        vt = problem.vehicle_type(route.vehicle_type)
        total += round(vt.fixed_cost * COST_SCALE) + round(
            route.distance * vt.cost_per_km * COST_SCALE / 1000
        )
    for u in solution.unserved:
        stop = problem.stop(u.stop_id)
        if u.reason is UnservedReason.DROPPED_BY_OPTIMISER:
            assert stop.penalty is not None
            total += round(stop.penalty * COST_SCALE * (1 + stop.priority))
    return total


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=problems())
def test_every_plan_keeps_every_rule(problem: Problem) -> None:
    solution = solve(problem, FAST)
    assert violations(problem, solution) == []


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=problems(pickups=False))
def test_every_plan_keeps_every_rule_with_deliveries_only(problem: Problem) -> None:
    # Without pickups the engine models load differently (one cumulative dimension).
    solution = solve(problem, FAST)
    assert violations(problem, solution) == []


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=problems())
def test_objective_is_distance_fixed_costs_and_penalties(problem: Problem) -> None:
    problem = Problem(
        locations=problem.locations,
        matrices=problem.matrices,
        stops=problem.stops,
        vehicle_types=tuple(
            VehicleType(
                vt.name,
                capacity=vt.capacity,
                profile=vt.profile,
                fixed_cost=vt.fixed_cost,
                cost_per_km=1.0,
            )
            for vt in problem.vehicle_types
        ),
        vehicles=problem.vehicles,
        dimensions=problem.dimensions,
        shipments=problem.shipments,
    )
    solution = solve(problem, FAST)
    mandatory_dropped = [
        u.stop_id
        for u in solution.unserved
        if u.reason in (UnservedReason.DROPPED_BY_OPTIMISER, UnservedReason.SEARCH_TIME_EXHAUSTED)
        and problem.stop(u.stop_id).penalty is None
    ]
    if mandatory_dropped:  # their internal penalty is the engine's business
        return
    assert solution.objective == _expected_objective(problem, solution)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=problems().filter(_pyvrp.can_express))
def test_plans_seeded_by_pyvrp_keep_every_rule(problem: Problem) -> None:
    # Several windows (client groups), skills (profiles), pairs (shipments), open routes and
    # breaks (relaxed, then repaired by OR-Tools) all go through the seed now.
    limits = Limits(time_limit=1.0, solution_limit=100, seed_with="pyvrp", seed_iterations=50)
    solution = solve(problem, limits)
    assert solution.stats.get("seed_with", "pyvrp") == "pyvrp"  # absent: nothing servable
    assert violations(problem, solution) == []


def _without_breaks_or_max_shift(problem: Problem) -> Problem:
    """The problem without breaks and shift-length limits (the enumeration has neither)."""
    return Problem(
        locations=problem.locations,
        matrices=problem.matrices,
        stops=problem.stops,
        vehicle_types=tuple(replace(vt, max_shift=None) for vt in problem.vehicle_types),
        vehicles=tuple(replace(v, breaks=()) for v in problem.vehicles),
        dimensions=problem.dimensions,
        shipments=problem.shipments,
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=problems().map(_without_breaks_or_max_shift))
def test_stops_reported_unservable_cannot_be_served_alone(problem: Problem) -> None:
    # A typed reason other than "dropped by the optimiser" claims that no vehicle could serve
    # the stop (or its shipment) even on a route of its own; check that claim by trying.
    solution = solve(problem, FAST)
    alone: dict[str, tuple[Stop, ...]] = {s.id: (s,) for s in problem.stops}
    for pd in problem.shipments:
        pair = (problem.stop(pd.pickup), problem.stop(pd.delivery))
        alone[pd.pickup] = alone[pd.delivery] = pair
    for u in solution.unserved:
        if u.reason is UnservedReason.DROPPED_BY_OPTIMISER:
            continue
        able = [
            v.id
            for v in problem.vehicles
            if route_feasible_distance(problem, v, alone[u.stop_id]) is not None
        ]
        assert able == [], f"{u.stop_id} is unserved ({u.reason}) but {able} can serve it alone"


# -- minimal cases the properties found --------------------------------------------------------


def _flat(n_locations: int) -> dict[str, TravelMatrix]:
    """Every location in the same place: all legs 0 m, 0 s."""
    zero = np.zeros((n_locations, n_locations), dtype=np.int64)
    return {"car": TravelMatrix(zero, zero)}


def test_shipment_whose_delivery_window_closes_before_the_pickup_opens_is_dropped() -> None:
    # The pair cannot be served (the delivery would precede the pickup), but that must drop
    # the pair, not make the whole problem infeasible for the unrelated stop x.
    problem = Problem(
        locations=grid_locations([(0, 0)] * 3),
        matrices=_flat(3),
        stops=(
            Stop(
                "p",
                1,
                windows=(TimeWindow(10, 10),),
                demand=(1,),
                kind=StopKind.PICKUP,
                penalty=5.0,
            ),
            Stop("d", 2, windows=(TimeWindow(0, 5),), demand=(1,), penalty=5.0),
            Stop("x", 2, demand=(1,)),
        ),
        vehicle_types=(VehicleType("van", capacity=(5,), cost_per_km=1.0),),
        vehicles=(Vehicle("v", "van", 0, 0, TimeWindow(0, HOUR)),),
        shipments=(PickupDelivery("p", "d"),),
    )
    solution = solve(problem, FAST)
    assert violations(problem, solution) == []
    assert [r.stop_ids for r in solution.routes] == [("x",)]


TWO_HOURS = TimeWindow(0, 2 * HOUR)


def _short(max_shift: int | None = None, range_m: int | None = None) -> VehicleType:
    return VehicleType("short", cost_per_km=1.0, max_shift=max_shift, range_m=range_m)


@pytest.mark.parametrize(
    ("vtype", "end", "shift", "breaks"),
    [
        pytest.param(
            _short(), 0, TWO_HOURS, (Break(TimeWindow(5_401, 5_401), 1_800),), id="break-past-shift"
        ),
        pytest.param(
            _short(max_shift=2 * HOUR - 1),
            0,
            TWO_HOURS,
            (Break(TimeWindow(0, 0), 300), Break(TimeWindow(6_900, 6_900), 300)),
            id="breaks-further-apart-than-max-shift",
        ),
        pytest.param(_short(range_m=5_000), 1, TWO_HOURS, (), id="end-beyond-range"),
        pytest.param(_short(), 1, TimeWindow(0, 599), (), id="end-beyond-shift"),
        pytest.param(_short(max_shift=599), 1, TWO_HOURS, (), id="end-beyond-max-shift"),
    ],
)
def test_vehicle_that_cannot_work_at_all_is_rejected_or_left_unused(
    vtype: VehicleType, end: int, shift: TimeWindow, breaks: tuple[Break, ...]
) -> None:
    # Vehicle v cannot take its breaks, or cannot even drive from its start to its end
    # (5001 m, 600 s away), within its shift, max_shift or range. Either the problem is
    # refused up front, naming v, or the solve plans around v (w serves s); a SolverError
    # blaming "locked stops" for the whole fleet is neither.
    distances = np.array([[0, 5_001, 0], [5_001, 0, 5_001], [0, 5_001, 0]])  # depot, end, s
    durations = np.array([[0, 600, 0], [600, 0, 600], [0, 600, 0]])
    try:
        problem = Problem(
            locations=grid_locations([(0, 0)] * 3),
            matrices={"car": TravelMatrix(distances, durations)},
            stops=(Stop("s", 2),),
            vehicle_types=(vtype, VehicleType("van", cost_per_km=1.0)),
            vehicles=(
                Vehicle("v", "short", 0, end, shift, breaks=breaks),
                Vehicle("w", "van", 0, 0, TWO_HOURS),
            ),
        )
    except InvalidProblemError as error:
        assert "'v'" in str(error)
        return
    solution = solve(problem, FAST)
    assert violations(problem, solution) == []
    assert [(r.vehicle_id, r.stop_ids) for r in solution.routes] == [("w", ("s",))]


def test_open_route_ends_after_a_break_taken_after_the_last_stop() -> None:
    # With no time cost the break lands after the only stop; an open route's end (and its
    # duration, hence its cost) must include it, as the engine's own end time does.
    problem = Problem(
        locations=grid_locations([(0, 0)] * 2),
        matrices=_flat(2),
        stops=(Stop("s", 1),),
        vehicle_types=(VehicleType("van", cost_per_km=1.0),),
        vehicles=(
            Vehicle(
                "v", "van", 0, None, TimeWindow(0, 2 * HOUR), breaks=(Break(TimeWindow(0, 0), 300),)
            ),
        ),
    )
    solution = solve(problem, FAST)
    assert violations(problem, solution) == []
