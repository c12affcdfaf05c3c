"""The product checker: one hand-made bad plan per rule, good plans that pass, and the common
cost (minimal route duration) against hand computations and a brute-force departure scan."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.product_checker import check_plan, plan_cost
from routing import (
    Break,
    Location,
    PickupDelivery,
    Problem,
    Stop,
    StopKind,
    TimeWindow,
    TravelMatrix,
    Vehicle,
    VehicleType,
)

# Depot 0 and points 1..4 on a line, 1 km apart; the van drives 10 m/s (100 s per km).
XS = np.array([0, 1000, 2000, 3000, 4000])
DIST = np.abs(XS[:, None] - XS[None, :])
VAN = VehicleType(
    name="van",
    capacity=(6,),
    fixed_cost=10.0,
    cost_per_km=1.0,
    cost_per_hour=36.0,
    co2_g_per_km=200.0,
    skills=frozenset({"cold"}),
)


def tiny(
    stops: tuple[Stop, ...] | None = None,
    *,
    vtype: VehicleType = VAN,
    shift: tuple[int, int] = (0, 20_000),
    breaks: tuple[Break, ...] = (),
    shipments: tuple[PickupDelivery, ...] = (),
    end: int | None = 0,
    locked: tuple[str, ...] = (),
) -> Problem:
    """Stops a, b, c at 1, 2, 3 km (60 s service, 2 parcels, wide window); vans for 6 parcels."""
    if stops is None:
        stops = tuple(
            Stop(sid, k + 1, service=60, windows=(TimeWindow(0, 10_000),), demand=(2,))
            for k, sid in enumerate("abc")
        )
    return Problem(
        locations=tuple(Location(f"p{k}", 60.0, 24.0 + k / 100) for k in range(len(XS))),
        matrices={"car": TravelMatrix(DIST, DIST // 10)},
        stops=stops,
        vehicle_types=(vtype, replace(VAN, name="van2")),
        vehicles=(
            Vehicle("v1", "van", 0, end, TimeWindow(*shift), breaks=breaks, locked=locked),
            Vehicle("v2", "van2", 0, 0, TimeWindow(*shift)),
        ),
        shipments=shipments,
    )


def stop(sid: str, loc: int, *windows: tuple[int, int], **kw: object) -> Stop:
    return Stop(sid, loc, windows=tuple(TimeWindow(*w) for w in windows), **kw)  # type: ignore[arg-type]


def assert_broken(result: object, expected: str) -> None:
    violations = result.violations  # type: ignore[attr-defined]
    assert not result.feasible  # type: ignore[attr-defined]
    assert any(expected in v for v in violations), violations


# -- good plans -------------------------------------------------------------------------------


def test_a_good_plan_passes() -> None:
    result = check_plan(tiny(), {"v1": ["a", "b"], "v2": ["c"], "unused": []})
    assert result.feasible and result.complete, result.violations
    assert (result.served, result.total, result.missing) == (3, 3, ())
    assert result.cost.vehicles == 2
    assert result.cost.distance_m == 4000 + 6000


def test_waiting_and_a_later_window_are_allowed() -> None:
    # a is reached at 100: too late for its first window, served at the second (1000).
    p = tiny((stop("a", 1, (0, 50), (1000, 1100), service=60, demand=(1,)),))
    result = check_plan(p, {"v1": ["a"]})
    assert result.feasible, result.violations
    assert result.routes[0].end_time == 1000 + 60 + 100


# -- one bad plan per rule --------------------------------------------------------------------


def test_unknown_vehicle() -> None:
    assert_broken(check_plan(tiny(), {"v9": ["a", "b", "c"]}), "'v9' is not in the problem's fleet")


def test_unknown_stop() -> None:
    assert_broken(check_plan(tiny(), {"v1": ["a", "b", "c", "zz"]}), "unknown stop id(s) zz")


def test_a_stop_served_twice() -> None:
    assert_broken(check_plan(tiny(), {"v1": ["a", "b"], "v2": ["c", "a"]}), "a is served more")
    assert_broken(check_plan(tiny(), {"v1": ["a", "b", "c", "b"]}), "twice on this route")


def test_service_after_the_window() -> None:
    # c must start by 350; via a and b it is reached at 100 + 60 + 100 + 60 + 100 = 420.
    p = tiny((*tiny().stops[:2], stop("c", 3, (0, 350), service=60, demand=(2,))))
    assert check_plan(p, {"v1": ["c", "a", "b"]}).feasible
    assert_broken(check_plan(p, {"v1": ["a", "b", "c"]}), "stop c can start service at 00:07")


def test_waiting_delays_the_rest_of_the_route() -> None:
    # a opens at 1000: b (window to 1100) is then reached at 1160. Without the wait: 260.
    p = tiny(
        (
            stop("a", 1, (1000, 2000), service=60, demand=(1,)),
            stop("b", 2, (0, 1100), service=60, demand=(1,)),
        )
    )
    assert_broken(check_plan(p, {"v1": ["a", "b"]}), "stop b can start service")


def test_back_after_the_shift_end() -> None:
    # a, b, c then home: 300 + 3 * 60 + 300 = 780 s > 700.
    p = tiny(shift=(0, 700))
    assert_broken(check_plan(p, {"v1": ["a", "b", "c"]}), "is back at 00:13, after its shift")


def test_open_route_ends_at_its_last_departure() -> None:
    p = tiny(shift=(0, 700), end=None)
    result = check_plan(p, {"v1": ["a", "b", "c"]})
    assert result.feasible, result.violations
    assert result.routes[0].distance_m == 3000 and result.routes[0].end_time == 480


def test_capacity() -> None:
    heavy = replace(tiny().stops[2], demand=(3,))
    p = tiny((*tiny().stops[:2], heavy))
    assert check_plan(p, {"v1": ["a", "b"], "v2": ["c"]}).feasible
    assert_broken(check_plan(p, {"v1": ["a", "b", "c"]}), "load at the start exceeds")


def test_capacity_counts_pickups_riding_to_the_end() -> None:
    # Deliver 2 + 2 (4 loaded), pick up 5: after a delivery 2 + 5 = 7 > 6.
    stops = (*tiny().stops[:2], stop("r", 3, (0, 10_000), demand=(5,), kind=StopKind.PICKUP))
    p = tiny(stops)
    assert check_plan(p, {"v1": ["a", "b", "r"]}).feasible
    assert_broken(check_plan(p, {"v1": ["a", "r", "b"]}), "load after r exceeds capacity")


def test_a_paired_pickup_rides_only_until_its_delivery() -> None:
    stops = (
        stop("p", 1, (0, 10_000), demand=(4,), kind=StopKind.PICKUP),
        stop("d", 2, (0, 10_000), demand=(4,)),
        stop("x", 3, (0, 10_000), demand=(4,), kind=StopKind.PICKUP),
    )
    p = tiny(stops, shipments=(PickupDelivery("p", "d"),))
    assert check_plan(p, {"v1": ["p", "d", "x"]}).feasible  # never more than 4 on board
    assert_broken(check_plan(p, {"v1": ["p", "x", "d"]}), "load after x exceeds")


def test_skills() -> None:
    stops = (*tiny().stops[:2], stop("c", 3, (0, 10_000), skills=frozenset({"cold"})))
    p = tiny(stops, vtype=replace(VAN, skills=frozenset()))
    assert check_plan(p, {"v1": ["a", "b"], "v2": ["c"]}).feasible  # van2 has the skill
    assert_broken(check_plan(p, {"v1": ["c"], "v2": ["a", "b"]}), "needs skill(s) ['cold']")


@pytest.mark.parametrize(
    ("routes", "expected"),
    [
        ({"v1": ["d", "p"]}, "v1 delivers before it picks up"),
        ({"v1": ["p"], "v2": ["d"]}, "pickup on v1, delivery on v2"),
        ({"v1": ["p"]}, "p is served but d is not"),
    ],
)
def test_pairs(routes: dict[str, list[str]], expected: str) -> None:
    stops = (
        stop("p", 1, (0, 10_000), demand=(1,), kind=StopKind.PICKUP),
        stop("d", 2, (0, 10_000), demand=(1,)),
    )
    p = tiny(stops, shipments=(PickupDelivery("p", "d"),))
    assert check_plan(p, {"v1": ["p", "d"]}).feasible
    assert_broken(check_plan(p, routes), expected)


def test_range() -> None:
    p = tiny(vtype=replace(VAN, range_m=5_000))
    assert check_plan(p, {"v1": ["a", "b"], "v2": ["c"]}).feasible  # 4 km and 6 km (van2)
    assert_broken(check_plan(p, {"v1": ["c"], "v2": ["a", "b"]}), "drives 6000 m, beyond")


def test_max_shift_counts_the_minimal_duration() -> None:
    # a opens at 5000: leaving at 4900 the route takes 100 + 60 + 100 = 260 s, within 300.
    p = tiny((stop("a", 1, (5000, 6000), service=60),), vtype=replace(VAN, max_shift=300))
    assert check_plan(p, {"v1": ["a"]}).feasible
    p = tiny(vtype=replace(VAN, max_shift=300))
    assert_broken(check_plan(p, {"v1": ["a", "b"]}), "more than max_shift 300 s")


def test_locked_prefix() -> None:
    p = tiny(locked=("b",))
    assert check_plan(p, {"v1": ["b", "a"], "v2": ["c"]}).feasible
    assert_broken(check_plan(p, {"v1": ["a", "b"], "v2": ["c"]}), "must begin with its locked")
    assert_broken(check_plan(p, {"v1": [], "v2": ["a", "b", "c"]}), "has locked stops but no route")


def test_missing_mandatory_stops_make_the_plan_incomplete_not_violated() -> None:
    optional = replace(tiny().stops[2], penalty=5.0)
    p = tiny((tiny().stops[0], tiny().stops[1], optional))
    result = check_plan(p, {"v1": ["a"]})
    assert result.violations == ()
    assert result.missing == ("b",)  # c is optional
    assert (result.served, result.total) == (1, 3)
    assert not result.complete and not result.feasible


# -- breaks -----------------------------------------------------------------------------------

LUNCH = Break(TimeWindow(500, 700), 300)


def test_given_break_starts_are_checked_as_given() -> None:
    p = tiny(breaks=(LUNCH,))
    # a 100-160, b 260-320, c 420-480: a break at 500 falls after c, home at 480 + 300 + 300.
    result = check_plan(p, {"v1": ["a", "b", "c"]}, {"v1": [500]})
    assert result.feasible, result.violations
    assert result.routes[0].breaks == (500,)
    assert_broken(check_plan(p, {"v1": ["a", "b", "c"]}, {"v1": [450]}), "outside its window")
    late = tiny(breaks=(LUNCH,), shift=(0, 1000))
    assert_broken(check_plan(late, {"v1": ["a", "b", "c"]}, {"v1": [500]}), "is back at 00:18")


def test_a_given_break_may_not_overlap_a_service() -> None:
    slow = (stop("a", 1, (0, 650), service=600, demand=(1,)),)  # service 100-700, by 650
    p = tiny(slow, breaks=(LUNCH,))
    assert_broken(check_plan(p, {"v1": ["a"]}, {"v1": [600]}), "is before the service at a ends")
    assert check_plan(p, {"v1": ["a"]}, {"v1": [700]}).feasible


def test_one_start_per_break() -> None:
    p = tiny(breaks=(LUNCH,))
    assert_broken(check_plan(p, {"v1": ["a"]}, {"v1": []}), "give one start per break")


def test_breaks_are_placed_when_not_given() -> None:
    # Shift to 900: the break in the first leg (500-800) makes a 800-860 and home at 960; so
    # it goes after a (160): 500-800, home at 800.
    p = tiny((stop("a", 1, (0, 10_000), service=60),), breaks=(LUNCH,), shift=(0, 900))
    result = check_plan(p, {"v1": ["a"]})
    assert result.feasible, result.violations
    assert result.routes[0].breaks == (500,) and result.routes[0].end_time == 800
    # Nowhere to put it: before a (window to 100) it makes a late, after a it is past 50.
    tight = tiny((stop("a", 1, (0, 100), service=60),), breaks=(Break(TimeWindow(0, 50), 300),))
    assert_broken(check_plan(tight, {"v1": ["a"]}), "stop a can start service")


# -- the common cost --------------------------------------------------------------------------


def test_cost_of_a_hand_built_route() -> None:
    # 0 -> a (window 1000-2000) -> 0: arrive at 100, serve at 1000, back at 1160. Leaving at
    # 900 returns at the same time: 260 s on duty, 2 km.
    p = tiny((stop("a", 1, (1000, 2000), service=60, demand=(1,)),))
    cost = plan_cost(p, {"v1": ["a"]})
    assert (cost.distance_m, cost.duration_s, cost.vehicles) == (2000, 260, 1)
    assert cost.cost == pytest.approx(10.0 + 1.0 * 2.0 + 36.0 * 260 / 3600)
    assert cost.co2_g == pytest.approx(400.0)
    route = check_plan(p, {"v1": ["a"]}).routes[0]
    assert (route.departure, route.end_time) == (900, 1160)


def test_the_latest_departure_may_use_a_later_window() -> None:
    # a has windows 100-150 and 1000-1100, b 2000-2100. Leaving at 0 serves a at 100 and waits
    # at b; leaving as late as 1000 serves a in its second window and still returns at 2260.
    p = tiny(
        (
            stop("a", 1, (100, 150), (1000, 1100), service=60),
            stop("b", 2, (2000, 2100), service=60),
        )
    )
    route = check_plan(p, {"v1": ["a", "b"]}).routes[0]
    assert (route.departure, route.end_time, route.duration_s) == (1000, 2260, 1260)


def test_cost_counts_a_break_in_the_duration() -> None:
    # Break window 500-700 (300 s), a at 1 km with window 1000-2000: the break goes in the
    # first leg, a is served at 1000, home at 1160. Backwards: a starts by 1000, the break by
    # min(700, 1000 - 300) = 700, and the van leaves by min(1000 - 100 - 300, 700) = 600.
    p = tiny((stop("a", 1, (1000, 2000), service=60),), breaks=(LUNCH,))
    route = check_plan(p, {"v1": ["a"]}).routes[0]
    assert route.breaks == (500,)
    assert (route.departure, route.end_time, route.duration_s) == (600, 1160, 560)


@st.composite
def routes_on_a_line(draw: st.DrawFn) -> Problem:
    """Up to four stops with one or two small windows each (times in tens of seconds)."""
    n = draw(st.integers(1, 4))
    stops = []
    for k in range(n):
        windows = []
        start = draw(st.integers(0, 60)) * 10
        for _ in range(draw(st.integers(1, 2))):
            end = start + draw(st.integers(0, 30)) * 10
            windows.append((start, end))
            start = end + draw(st.integers(1, 40)) * 10
        stops.append(
            stop(f"s{k}", draw(st.integers(1, 4)), *windows, service=draw(st.integers(0, 9)) * 10)
        )
    return tiny(tuple(stops), shift=(0, 5_000))


@settings(max_examples=100, deadline=None)
@given(routes_on_a_line())
def test_minimal_duration_matches_a_scan_of_departures(p: Problem) -> None:
    """The latest departure keeping the earliest return equals a brute-force scan."""
    ids = [s.id for s in p.stops]
    first = check_plan(p, {"v1": ids})
    if first.violations:
        return
    route = first.routes[0]
    latest = 0
    for departure in range(0, route.end_time + 1, 10):
        shifted = replace(p.vehicles[0], shift=TimeWindow(departure, 5_000))
        q = Problem(p.locations, p.matrices, p.stops, p.vehicle_types, (shifted, p.vehicles[1]))
        run = check_plan(q, {"v1": ids})
        if not run.violations and run.routes[0].end_time == route.end_time:
            latest = departure
    assert route.departure == latest
    assert route.duration_s == route.end_time - latest


# -- reloads (several trips a day) --------------------------------------------------------------


def reloading(
    p: Problem, *, reload_at: tuple[int, ...] = (0,), max_reloads: int = 1, reload_time: int = 120
) -> Problem:
    """The problem with v1 allowed to reload (by default at the depot, once, in 2 min)."""
    v1 = replace(
        p.vehicles[0], reload_at=reload_at, max_reloads=max_reloads, reload_time=reload_time
    )
    return replace(p, vehicles=(v1, *p.vehicles[1:]))


def heavy_day(
    c_window: tuple[int, int] = (0, 10_000),
    *,
    shift: tuple[int, int] = (0, 20_000),
    reload_time: int = 120,
) -> Problem:
    """Stops a, b, c at 1, 2, 3 km with 3 parcels each: 9 parcels for a van taking 6; v1 may
    reload once at the depot."""
    stops = tuple(
        stop(sid, k + 1, (0, 10_000) if sid != "c" else c_window, service=60, demand=(3,))
        for k, sid in enumerate("abc")
    )
    return reloading(tiny(stops, shift=shift), reload_time=reload_time)


def test_a_plan_with_a_reload_passes_and_pays_for_the_hub_legs() -> None:
    # a 100-160, b 260-320, depot at 520, reloaded by 640, c 940-1000, home at 1300;
    # 1 + 1 + 2 km, then 3 + 3 km: 10 km where one trip would drive 6.
    p = heavy_day()
    result = check_plan(p, {"v1": ["a", "b", "c"]}, reloads={"v1": [(2, 0)]})
    assert result.feasible, result.violations
    route = result.routes[0]
    assert (route.distance_m, route.end_time, route.duration_s, route.reloads) == (
        10_000,
        1300,
        1300,
        1,
    )
    assert result.cost.cost == pytest.approx(10.0 + 1.0 * 10.0 + 36.0 * 1300 / 3600)
    assert plan_cost(p, {"v1": ["a", "b", "c"]}, reloads={"v1": [(2, 0)]}) == result.cost


def test_capacity_binds_per_trip() -> None:
    p = heavy_day()
    assert_broken(check_plan(p, {"v1": ["a", "b", "c"]}), "load at the start exceeds capacity")
    assert check_plan(p, {"v1": ["a", "b", "c"]}, reloads={"v1": [(1, 0)]}).feasible  # 3 + 6
    # A reload before the first stop leaves all 9 parcels to the second trip.
    assert_broken(
        check_plan(p, {"v1": ["a", "b", "c"]}, reloads={"v1": [(0, 0)]}),
        "load out of reload #0 at p0 exceeds capacity (parcels 9 > 6)",
    )


def test_times_count_the_hub_legs_and_the_reload_time() -> None:
    # c must start by 900: with the 120 s reload it is reached at 940, without it at 820.
    plan = {"v1": ["a", "b", "c"]}
    reloads = {"v1": [(2, 0)]}
    assert check_plan(heavy_day((0, 900), reload_time=0), plan, reloads=reloads).feasible
    assert_broken(
        check_plan(heavy_day((0, 900)), plan, reloads=reloads), "stop c can start service at 00:15"
    )


def test_the_hub_legs_count_against_the_shift_end() -> None:
    p = heavy_day(shift=(0, 1200))
    assert_broken(
        check_plan(p, {"v1": ["a", "b", "c"]}, reloads={"v1": [(2, 0)]}),
        "is back at 00:21, after its shift ends at 00:20",
    )


def test_the_hub_legs_count_against_the_range() -> None:
    p = heavy_day()
    ranged = replace(p, vehicle_types=(replace(VAN, range_m=8_000), p.vehicle_types[1]))
    assert_broken(
        check_plan(ranged, {"v1": ["a", "b", "c"]}, reloads={"v1": [(2, 0)]}),
        "drives 10000 m, beyond the range 8000 m",
    )


def test_at_most_max_reloads() -> None:
    p = heavy_day()
    assert check_plan(p, {"v1": ["a", "b", "c"]}, reloads={"v1": [(1, 0)]}).feasible
    assert_broken(
        check_plan(p, {"v1": ["a", "b", "c"]}, reloads={"v1": [(1, 0), (2, 0)]}),
        "v1: 2 reloads, more than max_reloads 1",
    )


def test_reloads_only_at_the_vehicles_reload_places() -> None:
    p = heavy_day()
    assert_broken(
        check_plan(p, {"v1": ["a", "b", "c"]}, reloads={"v1": [(2, 4)]}),
        "v1: reload #0 at location 4 (p4) is not one of its reload places (reload_at: ['0 (p0)'])",
    )
    assert_broken(
        check_plan(p, {"v1": ["a"], "v2": ["b", "c"]}, reloads={"v2": [(1, 0)]}),
        "v2: reload #0 at location 0 (p0) is not one of its reload places (reload_at: none)",
    )


def test_a_reload_indexes_the_route() -> None:
    p = heavy_day()
    assert_broken(
        check_plan(p, {"v1": ["a", "b", "c"]}, reloads={"v1": [(4, 0)]}),
        "reload #0 before index 4 is outside the route's 0..3",
    )
    # The index counts the route as given: a duplicate dropped by the checker does not move it.
    result = check_plan(p, {"v1": ["a", "a", "b", "c"]}, reloads={"v1": [(3, 0)]})
    assert result.routes[0].distance_m == 10_000
    assert all("load" not in v for v in result.violations), result.violations


def test_a_given_break_during_the_earliest_service_may_be_waited_for() -> None:
    # a at 1 km, service 600, window 0-10,000: served at once it would run 100-700 over a
    # break given at 600; the driver may instead wait, break 600-900 and serve 900-1500.
    slow = (stop("a", 1, (0, 10_000), service=600, demand=(1,)),)
    result = check_plan(tiny(slow, breaks=(LUNCH,)), {"v1": ["a"]}, {"v1": [600]})
    assert result.feasible, result.violations
    assert result.routes[0].breaks == (600,)
    # With a window that closes before the break ends, waiting is no way out.
    tight = (stop("a", 1, (0, 800), service=600, demand=(1,)),)
    assert_broken(
        check_plan(tiny(tight, breaks=(LUNCH,)), {"v1": ["a"]}, {"v1": [600]}),
        "is before the service at a ends",
    )
