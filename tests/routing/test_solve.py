"""Features of ``routing.solve``: reasons for unserved stops, windows, breaks, locks, shipments."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from routing import (
    Break,
    Limits,
    Location,
    PickupDelivery,
    Problem,
    RoutingWarning,
    Stop,
    StopKind,
    TimeWindow,
    TravelMatrix,
    UnservedReason,
    Vehicle,
    VehicleType,
    solve,
)

H = 3600
FAST = Limits(time_limit=1.0, seed_with="none")


def line_problem(
    n: int = 6,
    *,
    spacing_m: int = 1000,
    speed_mps: float = 10.0,
    stops: list[Stop] | None = None,
    types: tuple[VehicleType, ...] | None = None,
    vehicles: tuple[Vehicle, ...] | None = None,
    shipments: tuple[PickupDelivery, ...] = (),
    dimensions: tuple[str, ...] = ("parcels",),
) -> Problem:
    """Depot at location 0 and n points on a line, ``spacing_m`` apart; 10 m/s."""
    xs = np.arange(n + 1) * spacing_m
    dist = np.abs(xs[:, None] - xs[None, :])
    dur = np.ceil(dist / speed_mps).astype(int)
    locations = tuple(Location(f"L{i}", 60.0 + i * 0.001, 24.0) for i in range(n + 1))
    if stops is None:
        stops = [Stop(f"s{i}", i, service=60, demand=(1,)) for i in range(1, n + 1)]
    types = types or (VehicleType("van", capacity=(10,), cost_per_km=1.0, co2_g_per_km=150.0),)
    vehicles = vehicles or (Vehicle("v1", types[0].name, 0, 0, TimeWindow(8 * H, 18 * H)),)
    return Problem(
        locations,
        {"car": TravelMatrix(dist, dur)},
        tuple(stops),
        types,
        vehicles,
        dimensions=dimensions,
        shipments=shipments,
    )


def visit(solution, stop_id):  # type: ignore[no-untyped-def]
    route = solution.route_of(stop_id)
    assert route is not None, f"{stop_id} not served: {solution.unserved}"
    return next(v for v in route.visits if v.stop_id == stop_id)


# -- unserved reasons, one test each -------------------------------------------------------------


def test_reason_no_vehicle_with_skills() -> None:
    types = (
        VehicleType("van", capacity=(10,), cost_per_km=1.0),
        VehicleType("fridge", capacity=(10,), cost_per_km=1.0, skills=frozenset({"cold"})),
    )
    stops = [Stop("s1", 1, demand=(1,)), Stop("ice", 2, demand=(1,), skills=frozenset({"cold"}))]
    # The fridge van exists as a type but no vehicle of it is on duty today.
    vehicles = (Vehicle("v1", "van", 0, 0, TimeWindow(8 * H, 18 * H)),)
    sol = solve(line_problem(2, stops=stops, types=types, vehicles=vehicles), FAST)
    assert sol.unserved_reason("ice") is UnservedReason.NO_VEHICLE_WITH_SKILLS
    assert "cold" in sol.unserved[0].detail
    assert sol.route_of("s1") is not None


def test_skills_route_stop_to_the_vehicle_that_has_them() -> None:
    types = (
        VehicleType("van", capacity=(10,), cost_per_km=1.0),
        VehicleType("fridge", capacity=(10,), cost_per_km=2.0, skills=frozenset({"cold"})),
    )
    stops = [Stop("s1", 1, demand=(1,)), Stop("ice", 2, demand=(1,), skills=frozenset({"cold"}))]
    vehicles = (
        Vehicle("v1", "van", 0, 0, TimeWindow(8 * H, 18 * H)),
        Vehicle("f1", "fridge", 0, 0, TimeWindow(8 * H, 18 * H)),
    )
    sol = solve(line_problem(2, stops=stops, types=types, vehicles=vehicles), FAST)
    assert sol.unserved == ()
    assert sol.route_of("ice").vehicle_id == "f1"  # type: ignore[union-attr]


def test_reason_demand_exceeds_capacity() -> None:
    stops = [Stop("s1", 1, demand=(3, 1)), Stop("big", 2, demand=(1, 50))]
    types = (VehicleType("van", capacity=(10, 20), cost_per_km=1.0),)
    sol = solve(line_problem(2, stops=stops, types=types, dimensions=("parcels", "kg")), FAST)
    assert sol.unserved_reason("big") is UnservedReason.DEMAND_EXCEEDS_CAPACITY
    assert sol.unserved_reason("s1") is None


def test_reason_beyond_range() -> None:
    types = (VehicleType("robot", capacity=(10,), cost_per_km=1.0, range_m=5_000),)
    sol = solve(line_problem(4, types=types), FAST)
    # s1, s2 are within 2 x 2 km; s3 (6 km round trip) and s4 (8 km) are not.
    assert sol.unserved_reason("s3") is UnservedReason.BEYOND_RANGE
    assert sol.unserved_reason("s4") is UnservedReason.BEYOND_RANGE
    assert {v.stop_id for r in sol.routes for v in r.visits} == {"s1", "s2"}
    assert all(r.distance <= 5_000 for r in sol.routes)


def test_range_binds_the_whole_route_not_only_single_stops() -> None:
    types = (VehicleType("robot", capacity=(10,), cost_per_km=1.0, range_m=5_000),)
    vehicles = (
        Vehicle("r1", "robot", 0, 0, TimeWindow(8 * H, 18 * H)),
        Vehicle("r2", "robot", 0, 0, TimeWindow(8 * H, 18 * H)),
    )
    stops = [Stop("a", 2, demand=(1,)), Stop("b", 2, demand=(1,), service=1)]
    # Each stop alone is a 4 km round trip; both on one route would also be 4 km; a third at
    # 2.4 km out makes one robot's route 4.8 km, still fine, so use points at 2 km only.
    sol = solve(line_problem(2, stops=stops, types=types, vehicles=vehicles), FAST)
    assert sol.unserved == ()
    assert all(r.distance <= 5_000 for r in sol.routes)


def test_reason_window_unreachable() -> None:
    # s3 is 3 km out at 10 m/s = 300 s; its window closes 100 s after the shift starts.
    stops = [
        Stop("s1", 1, demand=(1,)),
        Stop("late", 3, demand=(1,), windows=(TimeWindow(8 * H, 8 * H + 100),)),
    ]
    sol = solve(line_problem(3, stops=stops), FAST)
    assert sol.unserved_reason("late") is UnservedReason.WINDOW_UNREACHABLE
    assert "08:00-08:01" in next(u.detail for u in sol.unserved)


def test_reason_window_unreachable_when_shift_ends_before_return() -> None:
    stops = [Stop("far", 6, service=600, windows=(TimeWindow(9 * H, 9 * H + 60),))]
    vehicles = (Vehicle("v1", "van", 0, 0, TimeWindow(8 * H, 9 * H + 300)),)
    sol = solve(line_problem(6, stops=stops, vehicles=vehicles), FAST)
    assert sol.unserved_reason("far") is UnservedReason.WINDOW_UNREACHABLE


def test_reason_dropped_by_optimiser_when_capacity_runs_out_together() -> None:
    # Each stop fits alone, but the single van cannot carry all three.
    stops = [Stop(f"s{i}", i, demand=(4,)) for i in range(1, 4)]
    sol = solve(line_problem(3, stops=stops), FAST)
    reasons = [u.reason for u in sol.unserved]
    assert reasons == [UnservedReason.DROPPED_BY_OPTIMISER]
    assert sum(len(r.visits) for r in sol.routes) == 2


def test_optional_stop_dropped_when_penalty_is_below_its_cost() -> None:
    stops = [
        Stop("near", 1, demand=(1,)),
        Stop("far_cheap", 6, demand=(1,), penalty=1.0),  # 10 km detour costs 10 > 1
        Stop("far_dear", 5, demand=(1,), penalty=1_000.0),
    ]
    sol = solve(line_problem(6, stops=stops), FAST)
    assert sol.unserved_reason("far_cheap") is UnservedReason.DROPPED_BY_OPTIMISER
    assert "penalty" in sol.unserved[0].detail
    assert sol.route_of("far_dear") is not None


def test_priority_keeps_the_higher_priority_optional_stop() -> None:
    stops = [
        Stop("low", 3, demand=(6,), penalty=100.0, priority=0),
        Stop("high", 3, demand=(6,), penalty=100.0, priority=2),
    ]
    sol = solve(line_problem(3, stops=stops), FAST)
    assert sol.route_of("high") is not None
    assert sol.unserved_reason("low") is UnservedReason.DROPPED_BY_OPTIMISER


def test_reason_partner_unserved_for_shipments() -> None:
    stops = [
        Stop("p", 1, kind=StopKind.PICKUP, demand=(50,)),
        Stop("d", 2, kind=StopKind.DELIVERY, demand=(50,)),
    ]
    sol = solve(
        line_problem(2, stops=stops, shipments=(PickupDelivery("p", "d"),)),
        FAST,
    )
    assert sol.unserved_reason("p") is UnservedReason.DEMAND_EXCEEDS_CAPACITY
    assert sol.unserved_reason("d") is UnservedReason.DEMAND_EXCEEDS_CAPACITY
    stops = [
        Stop("p", 1, kind=StopKind.PICKUP, demand=(1,)),
        Stop("d", 5, kind=StopKind.DELIVERY, demand=(1,), windows=(TimeWindow(8 * H, 8 * H + 9),)),
    ]
    sol = solve(line_problem(5, stops=stops, shipments=(PickupDelivery("p", "d"),)), FAST)
    assert sol.unserved_reason("d") is UnservedReason.WINDOW_UNREACHABLE
    assert sol.unserved_reason("p") is UnservedReason.PARTNER_UNSERVED


# -- windows, breaks, shipments, open routes ------------------------------------------------------


def test_several_windows_use_the_one_that_fits() -> None:
    # Two stops at the same far point; one must be served 09:00-09:10 and the other has
    # windows 08:00-08:05 (unreachable: 500 s away) and 09:00-09:30.
    stops = [
        Stop("a", 5, service=60, windows=(TimeWindow(9 * H, 9 * H + 600),)),
        Stop(
            "b",
            5,
            service=60,
            windows=(TimeWindow(8 * H, 8 * H + 300), TimeWindow(9 * H, 9 * H + 1800)),
        ),
    ]
    sol = solve(line_problem(5, stops=stops), FAST)
    assert sol.unserved == ()
    b = visit(sol, "b")
    assert 9 * H <= b.start <= 9 * H + 1800


def test_several_windows_pick_the_earlier_when_it_is_better() -> None:
    stops = [
        Stop("x", 1, windows=(TimeWindow(8 * H, 8 * H + 600), TimeWindow(15 * H, 16 * H))),
        Stop("y", 1, windows=(TimeWindow(8 * H, 8 * H + 1200),)),
    ]
    types = (VehicleType("van", capacity=(10,), cost_per_km=1.0, cost_per_hour=30.0),)
    sol = solve(line_problem(1, stops=stops, types=types), FAST)
    # Waiting for the afternoon window would cost hours of paid time.
    x = visit(sol, "x")
    assert 8 * H <= x.start <= 8 * H + 600
    assert sol.routes[0].duration < H


def test_breaks_are_scheduled_inside_their_window_and_delay_service() -> None:
    stops = [Stop(f"s{i}", i, service=1800) for i in range(1, 5)]
    vehicles = (
        Vehicle(
            "v1",
            "van",
            0,
            0,
            TimeWindow(8 * H, 18 * H),
            breaks=(Break(TimeWindow(9 * H, 9 * H + 900), 1800),),
        ),
    )
    sol = solve(line_problem(4, stops=stops, vehicles=vehicles), FAST)
    (route,) = sol.routes
    (brk,) = route.breaks
    assert 9 * H <= brk.start <= 9 * H + 900
    # No service overlaps the break.
    for v in route.visits:
        assert v.departure <= brk.start or v.start >= brk.start + brk.duration
    # Four 30-minute services plus a 30-minute break plus driving take more than 2.5 h.
    assert route.duration >= 5 * 1800


def test_shipment_pickup_before_delivery_on_one_vehicle_and_load_tracked() -> None:
    stops = [
        Stop("s1", 1, demand=(2,)),
        Stop("p", 4, kind=StopKind.PICKUP, demand=(5,)),
        Stop("d", 2, kind=StopKind.DELIVERY, demand=(5,)),
        Stop("ret", 3, kind=StopKind.PICKUP, demand=(1,)),
    ]
    sol = solve(line_problem(4, stops=stops, shipments=(PickupDelivery("p", "d"),)), FAST)
    assert sol.unserved == ()
    (route,) = sol.routes
    order = route.stop_ids
    assert order.index("p") < order.index("d")
    assert route.load_at_start == (2,)  # only the depot delivery is loaded at the depot
    loads = {v.stop_id: v.load for v in route.visits}
    assert loads["ret"][0] >= 1
    assert max(v.load[0] for v in route.visits) <= 10


def test_open_route_ends_at_the_last_stop() -> None:
    vehicles = (Vehicle("courier", "van", 0, None, TimeWindow(8 * H, 18 * H)),)
    sol = solve(line_problem(3, vehicles=vehicles), FAST)
    (route,) = sol.routes
    assert route.stop_ids == ("s1", "s2", "s3")
    assert route.distance == 3000  # no way back
    assert route.end_time == route.visits[-1].departure


def test_different_start_and_end_depots() -> None:
    vehicles = (Vehicle("v1", "van", 0, 4, TimeWindow(8 * H, 18 * H)),)
    stops = [Stop("s2", 2), Stop("s1", 1), Stop("s3", 3)]
    sol = solve(line_problem(4, stops=stops, vehicles=vehicles), FAST)
    assert sol.routes[0].stop_ids == ("s1", "s2", "s3")
    assert sol.routes[0].distance == 4000


def test_costs_and_co2_per_route() -> None:
    types = (
        VehicleType(
            "van",
            capacity=(10,),
            fixed_cost=20.0,
            cost_per_km=0.5,
            cost_per_hour=30.0,
            co2_g_per_km=180.0,
        ),
    )
    sol = solve(line_problem(2, types=types), FAST)
    (route,) = sol.routes
    assert route.distance == 4000
    assert route.co2_g == pytest.approx(720.0)
    assert route.cost == pytest.approx(20.0 + 0.5 * 4 + 30.0 * route.duration / 3600, abs=1e-3)
    assert sol.cost == pytest.approx(route.cost)


def test_max_shift_limits_route_duration() -> None:
    types = (VehicleType("bike", capacity=(10,), cost_per_km=1.0, max_shift=1000),)
    vehicles = tuple(Vehicle(f"b{i}", "bike", 0, 0, TimeWindow(8 * H, 18 * H)) for i in range(3))
    stops = [Stop(f"s{i}", i, service=200) for i in range(1, 4)]
    sol = solve(line_problem(3, stops=stops, types=types, vehicles=vehicles), FAST)
    assert all(r.duration <= 1000 for r in sol.routes)
    # s3 alone is 600 s of driving + 200 s service = 800 s: servable, but not with others.
    assert sol.unserved == ()
    assert len(sol.routes) >= 2


# -- re-planning: locks and warm starts ------------------------------------------------------------


def test_locked_prefix_is_kept_even_when_suboptimal() -> None:
    vehicles = (Vehicle("v1", "van", 0, 0, TimeWindow(8 * H, 18 * H), locked=("s3", "s1")),)
    sol = solve(line_problem(4, vehicles=vehicles), FAST)
    assert sol.routes[0].stop_ids[:2] == ("s3", "s1")
    assert sol.unserved == ()


def test_locked_stop_is_served_even_past_its_window() -> None:
    stops = [
        Stop("s1", 1),
        Stop("late", 5, windows=(TimeWindow(8 * H, 8 * H + 60),)),
    ]
    vehicles = (Vehicle("v1", "van", 0, 0, TimeWindow(8 * H, 18 * H), locked=("late",)),)
    sol = solve(line_problem(5, stops=stops, vehicles=vehicles), FAST)
    assert sol.routes[0].stop_ids[0] == "late"
    assert visit(sol, "late").start > 8 * H + 60  # late, but served


def test_warm_start_is_used_and_not_worse() -> None:
    rng = np.random.default_rng(3)
    stops = [Stop(f"s{i}", i, demand=(1,)) for i in rng.permutation(np.arange(1, 9))]
    problem = line_problem(8, stops=stops)
    first = solve(problem, FAST)
    again = solve(
        problem,
        Limits(time_limit=0.5, seed_with="none"),
        initial_routes={r.vehicle_id: list(r.stop_ids) for r in first.routes},
    )
    assert again.stats["warm_start"] == "used"
    assert again.objective <= first.objective


def test_warm_start_that_breaks_a_window_warns_and_solves_anyway() -> None:
    stops = [
        Stop("a", 1, windows=(TimeWindow(8 * H, 8 * H + 200),)),
        Stop("b", 5, windows=(TimeWindow(8 * H, 8 * H + 900),)),
    ]
    problem = line_problem(5, stops=stops)
    with pytest.warns(RoutingWarning, match="warm start"):
        sol = solve(problem, FAST, initial_routes={"v1": ["b", "a"]})
    assert sol.unserved == ()
    assert sol.routes[0].stop_ids == ("a", "b")


def test_unknown_stop_in_initial_routes_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown stop"):
        solve(line_problem(2), FAST, initial_routes={"v1": ["nope"]})


# -- seeding -----------------------------------------------------------------------------------


def test_pyvrp_seed_gives_a_feasible_or_tools_plan() -> None:
    rng = np.random.default_rng(7)
    n = 40
    pts = rng.uniform(0, 8000, size=(n + 1, 2))
    dist = np.ceil(np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))).astype(int)
    dur = np.ceil(dist / 8).astype(int)
    locs = tuple(Location(f"L{i}", 60 + p[1] / 1e5, 24 + p[0] / 1e5) for i, p in enumerate(pts))
    stops = tuple(
        Stop(
            f"s{i}",
            i,
            service=120,
            demand=(int(rng.integers(1, 4)),),
            windows=(
                TimeWindow(
                    8 * H + int(rng.integers(0, 3)) * H, 12 * H + int(rng.integers(0, 4)) * H
                ),
            ),
        )
        for i in range(1, n + 1)
    )
    types = (VehicleType("van", capacity=(25,), cost_per_km=0.5, cost_per_hour=20.0),)
    vehicles = tuple(Vehicle(f"v{k}", "van", 0, 0, TimeWindow(7 * H, 19 * H)) for k in range(6))
    problem = Problem(locs, {"car": TravelMatrix(dist, dur)}, stops, types, vehicles)
    sol = solve(problem, Limits(time_limit=2.0, seed_with="pyvrp"))
    assert sol.stats["seed_with"] == "pyvrp"
    assert sol.stats["warm_start"] == "used"
    assert sol.unserved == ()
    # OR-Tools never leaves its start worse (PyVRP prices the same routes on finer units, so
    # its own figure is not comparable to the digit).
    assert sol.objective <= sol.stats["warm_start_objective"]  # type: ignore[operator]


def test_pyvrp_seed_is_skipped_with_a_warning_when_it_cannot_express_the_problem() -> None:
    vehicles = (Vehicle("v1", "van", 0, 0, TimeWindow(8 * H, 18 * H), locked=("s1",)),)
    with pytest.warns(RoutingWarning, match="locked prefix"):
        sol = solve(line_problem(2, vehicles=vehicles), Limits(time_limit=0.5, seed_with="pyvrp"))
    assert sol.stats["seed_with"] == "none"


def test_nothing_servable_returns_an_empty_solution() -> None:
    stops = [Stop("big", 1, demand=(99,))]
    sol = solve(line_problem(1, stops=stops), FAST)
    assert sol.routes == ()
    assert sol.status.value == "no_stops"
    assert sol.unserved_reason("big") is UnservedReason.DEMAND_EXCEEDS_CAPACITY


def test_solution_totals_add_up() -> None:
    vehicles = tuple(Vehicle(f"v{i}", "van", 0, 0, TimeWindow(8 * H, 18 * H)) for i in range(2))
    types = (VehicleType("van", capacity=(3,), cost_per_km=1.0, co2_g_per_km=100.0),)
    sol = solve(line_problem(6, types=types, vehicles=vehicles), FAST)
    assert sol.distance == sum(r.distance for r in sol.routes)
    assert sol.co2_g == pytest.approx(sol.distance / 1000 * 100.0)
    assert math.isclose(sol.cost, sum(r.cost for r in sol.routes))
    served = [s for r in sol.routes for s in r.stop_ids]
    assert sorted(served) == sorted(f"s{i}" for i in range(1, 7))
    assert dataclasses.is_dataclass(sol)


def test_pair_whose_pickup_cannot_precede_its_delivery_is_diagnosed_not_fatal() -> None:
    # Found by the property tests: the pickup's window opens after the delivery's closes.
    stops = [
        Stop("s1", 1),
        Stop("p", 2, kind=StopKind.PICKUP, windows=(TimeWindow(10 * H, 11 * H),), penalty=0.0),
        Stop("d", 3, kind=StopKind.DELIVERY, windows=(TimeWindow(8 * H, 9 * H),), penalty=0.0),
    ]
    sol = solve(line_problem(3, stops=stops, shipments=(PickupDelivery("p", "d"),)), FAST)
    assert sol.unserved_reason("p") is UnservedReason.WINDOW_UNREACHABLE
    assert sol.unserved_reason("d") is UnservedReason.WINDOW_UNREACHABLE
    assert sol.route_of("s1") is not None


def test_open_route_reports_a_break_taken_after_the_last_stop() -> None:
    # Found by the property tests: the break fits only after the last stop.
    vehicles = (
        Vehicle(
            "c1",
            "van",
            0,
            None,
            TimeWindow(8 * H, 18 * H),
            breaks=(Break(TimeWindow(17 * H, 17 * H + 60), 600),),
        ),
    )
    stops = [Stop("s1", 1, windows=(TimeWindow(8 * H, 8 * H + 600),))]
    sol = solve(line_problem(1, stops=stops, vehicles=vehicles), FAST)
    (route,) = sol.routes
    (brk,) = route.breaks
    assert route.start_time <= brk.start and brk.start + brk.duration <= route.end_time


def test_service_is_planned_early_in_a_wide_window_not_at_its_end() -> None:
    # Planning at the end of the window would make any delay a late delivery.
    stops = [Stop("a", 1, service=60, windows=(TimeWindow(9 * H, 17 * H),))]
    sol = solve(line_problem(1, stops=stops), FAST)
    (route,) = sol.routes
    assert visit(sol, "a").start == 9 * H
    assert route.visits[0].wait == 0  # and the van leaves just in time, without idling


def test_pyvrp_struggling_for_feasibility_neither_warns_nor_fails_the_solve() -> None:
    # "a" and "b" each fit the one van alone but not together, so PyVRP (which cannot drop
    # mandatory stops) never gets feasible and warns as its penalties hit their cap. The
    # warning must stay inside the seed (pytest turns warnings into errors here) and
    # OR-Tools must still plan, dropping one of the two.
    stops = [
        Stop("a", 1, windows=(TimeWindow(9 * H, 9 * H + 60),)),
        Stop("b", 5, windows=(TimeWindow(9 * H, 9 * H + 60),)),
        *(Stop(f"s{i}", i) for i in (2, 3, 4)),
    ]
    sol = solve(line_problem(5, stops=stops), Limits(time_limit=1.0, seed_with="pyvrp"))
    assert sol.stats["seed"]["feasible"] is False  # type: ignore[index]
    assert [u.reason for u in sol.unserved] == [UnservedReason.DROPPED_BY_OPTIMISER]
