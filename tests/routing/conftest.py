"""Shared builders and an independent solution checker for the routing tests.

The checker trusts only two things a solution reports: which stops each route visits, in
which order, and when service starts at each. Everything else (arrivals, loads, distances,
start and end times) is recomputed from the problem data and compared.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

from routing import (
    Location,
    Problem,
    Route,
    Solution,
    Stop,
    StopKind,
    TravelMatrix,
    Vehicle,
)

__all__ = ["euclidean_matrix", "grid_locations", "route_feasible_distance", "violations"]


def _metric_closure(m: np.ndarray) -> np.ndarray:
    """Shortest paths over the matrix (Floyd-Warshall), so the triangle inequality holds."""
    out = m.copy()
    for k in range(out.shape[0]):
        out = np.minimum(out, out[:, k, None] + out[None, k, :])
    return out


def euclidean_matrix(points: Sequence[tuple[int, int]], *, speed_mps: float) -> TravelMatrix:
    """Distances (metres, Euclidean rounded up) and durations (seconds, rounded up) on a plane.

    Both matrices are closed under shortest paths, so they satisfy the triangle inequality
    exactly, whatever floating-point rounding did.
    """
    xy = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    diff = xy[:, None, :] - xy[None, :, :]
    dist = np.ceil(np.hypot(diff[..., 0], diff[..., 1])).astype(np.int64)
    dist = _metric_closure(dist)
    dur = np.ceil(dist / speed_mps).astype(np.int64)
    dur = _metric_closure(dur)
    return TravelMatrix(dist, dur)


def grid_locations(points: Sequence[tuple[int, int]]) -> tuple[Location, ...]:
    """Locations for plane points given in metres (the coordinates only label them)."""
    return tuple(
        Location(f"L{i}", 60.0 + y * 1e-6, 24.0 + x * 1e-6) for i, (x, y) in enumerate(points)
    )


def _add(a: Sequence[int], b: Sequence[int], sign: int = 1) -> list[int]:
    return [x + sign * y for x, y in zip(a, b, strict=True)]


def route_feasible_distance(
    problem: Problem, vehicle: Vehicle, stops: Sequence[Stop], *, depart: int | None = None
) -> int | None:
    """Distance (metres) of serving ``stops`` in this order, or ``None`` when infeasible.

    Leaves at ``depart`` (default: the shift start) and serves every stop as early as possible
    (waiting allowed), which is optimal for feasibility. Checks windows (several per stop),
    shift start and end, capacity per dimension with pickups and deliveries, skills and range.
    Shipments must be whole within the sequence with the pickup first. Breaks and a maximum
    shift duration are not modelled.
    """
    vt = problem.vehicle_type(vehicle.type)
    assert not vehicle.breaks and vt.max_shift is None, "not modelled by the enumeration"
    m = problem.matrix_for(vehicle)
    cap = problem.capacity(vt)
    paired = {p.delivery for p in problem.shipments}
    position = {s.id: k for k, s in enumerate(stops)}
    for pd in problem.shipments:
        p, d = position.get(pd.pickup), position.get(pd.delivery)
        if (p is None) != (d is None) or (p is not None and d is not None and p > d):
            return None

    load = [0] * len(problem.dimensions)
    for s in stops:
        if s.kind is StopKind.DELIVERY and s.id not in paired:
            load = _add(load, problem.demand(s))
    if any(a > c for a, c in zip(load, cap, strict=True)):
        return None

    t = vehicle.shift.start if depart is None else depart
    loc, distance = vehicle.start, 0
    for s in stops:
        if not s.skills <= vt.skills:
            return None
        t += int(m.durations[loc, s.location])
        distance += int(m.distances[loc, s.location])
        windows = s.windows or (vehicle.shift,)
        start = next((max(t, w.start) for w in windows if max(t, w.start) <= w.end), None)
        if start is None:
            return None
        t = start + s.service
        loc = s.location
        load = _add(load, problem.demand(s), 1 if s.kind is StopKind.PICKUP else -1)
        if any(a > c for a, c in zip(load, cap, strict=True)):
            return None
    if vehicle.end is not None:
        t += int(m.durations[loc, vehicle.end])
        distance += int(m.distances[loc, vehicle.end])
    if t > vehicle.shift.end:
        return None
    if vt.range_m is not None and distance > vt.range_m:
        return None
    return distance


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def _merged(intervals: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(intervals):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _break_violations(problem: Problem, route: Route, vehicle: Vehicle) -> list[str]:
    """Breaks: each taken once inside its window, within the route, never during a service,
    and travel still fits in the time left between services."""
    out: list[str] = []
    name = route.vehicle_id
    if len(route.breaks) != len(vehicle.breaks):
        return [f"{name}: {len(route.breaks)} breaks planned, {len(vehicle.breaks)} required"]
    for planned, spec in zip(route.breaks, vehicle.breaks, strict=True):
        if planned.duration != spec.duration or not spec.window.contains(planned.start):
            out.append(f"{name}: break {planned} does not match {spec}")
        if not route.start_time <= planned.start <= route.end_time - planned.duration:
            out.append(f"{name}: break {planned} outside the route")
        for v in route.visits:
            if _overlap((planned.start, planned.start + planned.duration), (v.start, v.departure)):
                out.append(f"{name}: break {planned} during the service at {v.stop_id}")
    resting = _merged([(b.start, b.start + b.duration) for b in route.breaks])
    m = problem.matrix_for(vehicle)
    locs = [vehicle.start, *(v.location for v in route.visits)]
    ends = [route.start_time, *(v.departure for v in route.visits)]
    starts = [v.start for v in route.visits]
    if vehicle.end is not None:
        locs.append(vehicle.end)
        starts.append(route.end_time)
    for a, b, left, arrive in zip(locs, locs[1:], ends, starts, strict=False):
        travel = int(m.durations[a, b])
        rest = sum(_overlap((left, arrive), r) for r in resting)
        if left + travel + rest > arrive:
            out.append(
                f"{name}: {travel} s of travel and {rest} s of break do not fit between "
                f"{left} and {arrive}"
            )
    return out


def violations(problem: Problem, solution: Solution) -> list[str]:
    """Every rule the solution breaks, one sentence each; empty when it is feasible.

    Recomputes arrivals, loads, distances and times from the problem; checks windows,
    travel times, capacity (also at the depot), shift, range and maximum shift duration,
    breaks, shipments, and that every stop is served once or listed as unserved, not both.
    """
    out: list[str] = []
    vehicles = {v.id: v for v in problem.vehicles}
    paired = {p.delivery for p in problem.shipments}
    n_dim = len(problem.dimensions)
    where: dict[str, tuple[str, int]] = {}
    served = Counter(v.stop_id for r in solution.routes for v in r.visits)
    for sid, n in served.items():
        if n > 1:
            out.append(f"stop {sid} is served {n} times")

    for vid, n in Counter(r.vehicle_id for r in solution.routes).items():
        if n > 1:
            out.append(f"vehicle {vid} has {n} routes")

    for route in solution.routes:
        vehicle = vehicles.get(route.vehicle_id)
        if vehicle is None:
            out.append(f"route of unknown vehicle {route.vehicle_id}")
            continue
        name = route.vehicle_id
        vt = problem.vehicle_type(vehicle.type)
        if route.vehicle_type != vt.name:
            out.append(f"{name}: type {route.vehicle_type}, expected {vt.name}")
        m = problem.matrix_for(vehicle)
        cap = problem.capacity(vt)
        if not route.visits:
            out.append(f"{name}: an empty route is listed")
            continue
        stops = [problem.stop(v.stop_id) for v in route.visits]
        for k, s in enumerate(stops):
            where[s.id] = (name, k)

        def trip_load(a: int, route: Route = route, stops: list[Stop] = stops) -> list[int]:
            """Loaded for the trip that begins with stop ``a`` (until the next reload)."""
            b = min([r.before for r in route.reloads if r.before > a], default=len(stops))
            out = [0] * n_dim
            for s in stops[a:b]:
                if s.kind is StopKind.DELIVERY and s.id not in paired:
                    out = _add(out, problem.demand(s))
            return out

        reload_before = {r.before: r for r in route.reloads}
        if len(reload_before) != len(route.reloads) or not all(
            0 < b < len(stops) for b in reload_before
        ):
            out.append(f"{name}: reloads {route.reloads} not each between two stops")
        if route.reloads and (not vehicle.reloads or len(route.reloads) > vehicle.max_reloads):
            allowed = vehicle.max_reloads if vehicle.reloads else 0
            out.append(f"{name}: {len(route.reloads)} reloads, vehicle allows {allowed}")
        load = trip_load(0)
        if tuple(load) != tuple(route.load_at_start):
            out.append(f"{name}: load_at_start {route.load_at_start}, recomputed {load}")
        if any(a > c for a, c in zip(load, cap, strict=True)):
            out.append(f"{name}: loads {load} at the depot, capacity {cap}")

        if not vehicle.shift.start <= route.start_time <= vehicle.shift.end:
            out.append(f"{name}: starts at {route.start_time}, shift {vehicle.shift}")
        ready, loc, distance = route.start_time, vehicle.start, 0
        for k, (visit, s) in enumerate(zip(route.visits, stops, strict=True)):
            if k in reload_before:
                r = reload_before[k]
                here = f"{name} reload before {s.id}"
                if r.location not in vehicle.reload_at:
                    out.append(f"{here}: at {r.location}, not one of {vehicle.reload_at}")
                leg = int(m.distances[loc, r.location])
                distance += leg
                if r.distance != leg:
                    out.append(f"{here}: leg {r.distance} m, matrix says {leg} m")
                if r.start < ready + int(m.durations[loc, r.location]):
                    out.append(f"{here}: starts {r.start} before it can arrive")
                if r.departure != r.start + vehicle.reload_time:
                    out.append(f"{here}: departure {r.departure} != start + reload time")
                load = trip_load(k)
                if tuple(load) != tuple(r.load):
                    out.append(f"{here}: load {r.load}, recomputed {load}")
                if any(a > c for a, c in zip(load, cap, strict=True)):
                    out.append(f"{here}: loads {load}, capacity {cap}")
                ready, loc = r.departure, r.location
            leg = int(m.distances[loc, s.location])
            arrival = ready + int(m.durations[loc, s.location])
            distance += leg
            here = f"{name} at {s.id}"
            if visit.start < arrival:
                out.append(f"{here}: service starts {visit.start}, earliest arrival {arrival}")
            if not vehicle.breaks and visit.arrival != arrival:
                out.append(f"{here}: arrival {visit.arrival}, recomputed {arrival}")
            if visit.arrival > visit.start:
                out.append(f"{here}: arrival {visit.arrival} after start {visit.start}")
            windows = s.windows or (vehicle.shift,)
            if not any(w.contains(visit.start) for w in windows):
                out.append(f"{here}: service starts {visit.start} outside {windows}")
            if visit.departure != visit.start + s.service:
                out.append(f"{here}: departure {visit.departure} != start + service")
            if visit.distance != leg:
                out.append(f"{here}: leg {visit.distance} m, matrix says {leg} m")
            if visit.location != s.location:
                out.append(f"{here}: location {visit.location}, stop is at {s.location}")
            load = _add(load, problem.demand(s), 1 if s.kind is StopKind.PICKUP else -1)
            if tuple(load) != tuple(visit.load):
                out.append(f"{here}: load {visit.load}, recomputed {load}")
            if any(a > c or a < 0 for a, c in zip(load, cap, strict=True)):
                out.append(f"{here}: load {load} outside [0, {cap}]")
            ready, loc = visit.start + s.service, s.location

        if vehicle.end is not None:
            distance += int(m.distances[loc, vehicle.end])
            ready += int(m.durations[loc, vehicle.end])
        if vehicle.breaks:
            out.extend(_break_violations(problem, route, vehicle))
        if route.end_time < ready:
            out.append(f"{name}: ends at {route.end_time}, earliest possible {ready}")
        if route.end_time > vehicle.shift.end:
            out.append(f"{name}: ends at {route.end_time}, after shift end {vehicle.shift.end}")
        if route.distance != distance:
            out.append(f"{name}: distance {route.distance} m, legs sum to {distance} m")
        if route.duration != route.end_time - route.start_time:
            out.append(f"{name}: duration {route.duration} != end - start")
        if vt.range_m is not None and distance > vt.range_m:
            out.append(f"{name}: drives {distance} m, range {vt.range_m} m")
        if vt.max_shift is not None and route.duration > vt.max_shift:
            out.append(f"{name}: on duty {route.duration} s, max shift {vt.max_shift} s")
        cost = (
            vt.fixed_cost
            + vt.cost_per_km * distance / 1000
            + vt.cost_per_hour * (route.duration / 3600)
        )
        if not math.isclose(route.cost, cost, rel_tol=1e-6, abs_tol=1e-3):
            out.append(f"{name}: cost {route.cost}, recomputed {cost}")

    unserved = Counter(u.stop_id for u in solution.unserved)
    for sid, n in unserved.items():
        if n > 1:
            out.append(f"stop {sid} is listed {n} times as unserved")
        if sid in served:
            out.append(f"stop {sid} is both served and unserved")
    known = {s.id for s in problem.stops}
    for sid in (served.keys() | unserved.keys()) - known:
        out.append(f"unknown stop {sid} in the solution")
    for sid in known - served.keys() - unserved.keys():
        out.append(f"stop {sid} is neither served nor unserved")

    for pd in problem.shipments:
        p, d = where.get(pd.pickup), where.get(pd.delivery)
        if (p is None) != (d is None):
            out.append(f"shipment {pd}: only one half is served ({p}, {d})")
        elif p is not None and d is not None:
            if p[0] != d[0]:
                out.append(f"shipment {pd}: pickup on {p[0]}, delivery on {d[0]}")
            elif p[1] > d[1]:
                out.append(f"shipment {pd}: delivery before pickup on {p[0]}")
    return out
