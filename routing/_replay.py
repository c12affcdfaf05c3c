"""Whether one vehicle can drive one route: a fast, cautious replay in plain Python.

Used to repair a seed from a relaxed problem (PyVRP plans without drivers' breaks) before
OR-Tools, which keeps every constraint, takes it as its first solution. Asking OR-Tools itself,
route by route, costs about 80 ms a question on a 200-stop day with breaks (the break
constraints of the whole fleet propagate each time); this replay costs microseconds.

It replays times — windows (several per stop), the shift, the longest shift and breaks — and
the load on board per dimension (deliveries not in a pair loaded at the start, pickups carried
to the end or to their delivery) and the range. The replay is cautious: it serves every stop
as early as it can and places each break greedily, so a route it accepts OR-Tools accepts too,
while a route it refuses may still be feasible in OR-Tools (whose final check has the last
word).

A break follows OR-Tools' rules: it starts inside its window, lies within the route, and never
overlaps a service; it may be taken while driving or waiting between two services.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from routing.model import Problem, Stop, StopKind, Vehicle

__all__ = ["route_fits"]


def _earliest_start(stop: Stop, arrival: int, shift_end: int) -> int | None:
    """When service can start at the earliest, arriving at ``arrival`` (s); None if never."""
    if not stop.windows:
        return arrival if arrival <= shift_end else None
    for w in stop.windows:
        if arrival <= w.end:
            return max(arrival, w.start)
    return None


def route_fits(
    problem: Problem, vehicle: Vehicle, stops: Sequence[Stop], paired: frozenset[str] = frozenset()
) -> bool:
    """Whether ``vehicle`` can serve ``stops`` in this order: times, breaks, loads, range.

    ``paired`` holds the ids of the deliveries that belong to a pickup-and-delivery pair (they
    are not loaded at the start). Times in seconds, distances in metres, as in
    :mod:`routing.model`.
    """
    return _loads_fit(problem, vehicle, stops, paired) and _times_fit(problem, vehicle, stops)


def _loads_fit(
    problem: Problem, vehicle: Vehicle, stops: Sequence[Stop], paired: frozenset[str]
) -> bool:
    vt = problem.vehicle_type(vehicle.type)
    cap = problem.capacity(vt)
    load = [0] * len(cap)
    for s in stops:
        if s.kind is StopKind.DELIVERY and s.id not in paired:
            load = [a + b for a, b in zip(load, problem.demand(s), strict=True)]
    if any(a > c for a, c in zip(load, cap, strict=True)):
        return False
    for s in stops:
        sign = 1 if s.kind is StopKind.PICKUP else -1
        load = [a + sign * b for a, b in zip(load, problem.demand(s), strict=True)]
        if any(a > c for a, c in zip(load, cap, strict=True)):
            return False
    if vt.range_m is None:
        return True
    m = problem.matrices[vt.profile].distances
    path = [vehicle.start, *(s.location for s in stops)]
    if vehicle.end is not None:
        path.append(vehicle.end)
    return sum(int(m[a, b]) for a, b in itertools.pairwise(path)) <= vt.range_m


def _times_fit(problem: Problem, vehicle: Vehicle, stops: Sequence[Stop]) -> bool:
    vt = problem.vehicle_type(vehicle.type)
    durations = problem.matrices[vt.profile].durations
    shift_end = vehicle.shift.end
    pending = sorted(vehicle.breaks, key=lambda b: b.window.start)
    free = vehicle.shift.start  # when the vehicle is free to move on (s)
    where = vehicle.start
    departure: int | None = None  # when it leaves its start, as late as the first stop allows
    for stop in stops:
        travel = int(durations[where, stop.location])
        plain = _earliest_start(stop, free + travel, shift_end)
        while pending:
            b = pending[0]
            at = max(free, b.window.start)  # the break's earliest start in this gap
            if at > b.window.end:
                return False
            # Drive first when the window opens after arrival, else break first, then drive.
            arrive = max(free + travel, b.window.start) + b.duration
            taken = _earliest_start(stop, arrive, shift_end)
            after = None if plain is None else plain + stop.service  # next gap's start
            must = plain is None or after is None or max(after, b.window.start) > b.window.end
            if taken is not None and (must or taken == plain):
                pending.pop(0)
                if departure is None and where == vehicle.start:
                    departure = vehicle.shift.start
                plain = taken
                # Another break in this gap comes after this one (break, then drive: cautious).
                free = at + b.duration
                continue
            if must:
                return False
            break
        if plain is None:
            return False
        if departure is None:
            departure = max(vehicle.shift.start, plain - travel)
        free = plain + stop.service
        where = stop.location
    back = 0 if vehicle.end is None else int(durations[where, vehicle.end])
    for b in pending:
        at = max(free, b.window.start)
        if at > b.window.end:
            return False
        free = at + b.duration
    end = free + back
    if departure is None:
        departure = vehicle.shift.start
    if end > shift_end:
        return False
    return vt.max_shift is None or end - departure <= vt.max_shift
