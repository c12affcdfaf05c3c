"""Whether one vehicle can drive one route: a fast, cautious replay in plain Python.

Used to repair a seed from a relaxed problem (PyVRP plans without drivers' breaks) before
OR-Tools, which keeps every constraint, takes it as its first solution. Asking OR-Tools itself,
route by route, costs about 80 ms a question on a 200-stop day with breaks (the break
constraints of the whole fleet propagate each time); this replay costs microseconds. Its
schedule (:func:`timing`) is also the plan itself when OR-Tools cannot read a seed back within
the time limit (on the pooled 900-stop day with breaks it could not in 40 s; see
:meth:`routing._ortools.OrToolsModel.search`).

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
from dataclasses import dataclass

from routing.model import Problem, Stop, StopKind, Vehicle

__all__ = ["Timing", "route_fits", "timing"]


@dataclass(frozen=True, slots=True)
class Timing:
    """When a vehicle drives a route the replay accepted (seconds from midnight).

    ``start`` is when it leaves its start depot (as late as its first stop allows when no
    break comes first), ``starts`` the service start at each stop, ``breaks`` (start,
    duration) per break taken, ``end`` when it reaches its end depot (or, on an open route,
    finishes its last service or break).
    """

    start: int
    starts: tuple[int, ...]
    breaks: tuple[tuple[int, int], ...]
    end: int


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
    return timing(problem, vehicle, stops, paired) is not None


def timing(
    problem: Problem, vehicle: Vehicle, stops: Sequence[Stop], paired: frozenset[str] = frozenset()
) -> Timing | None:
    """The replay's schedule of ``vehicle`` serving ``stops`` in this order, or ``None`` when
    the replay refuses the route (times, breaks, loads or range; see :func:`route_fits`).

    Because the replay is cautious, the schedule keeps every constraint OR-Tools keeps: it is
    a plan on its own when OR-Tools has none (its read of a seed ran out of time).
    """
    if not _loads_fit(problem, vehicle, stops, paired):
        return None
    return _times_fit(problem, vehicle, stops)


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


def _times_fit(problem: Problem, vehicle: Vehicle, stops: Sequence[Stop]) -> Timing | None:
    vt = problem.vehicle_type(vehicle.type)
    durations = problem.matrices[vt.profile].durations
    shift_end = vehicle.shift.end
    pending = sorted(vehicle.breaks, key=lambda b: b.window.start)
    free = vehicle.shift.start  # when the vehicle is free to move on (s)
    where = vehicle.start
    departure: int | None = None  # when it leaves its start, as late as the first stop allows
    starts: list[int] = []
    taken_breaks: list[tuple[int, int]] = []
    for stop in stops:
        travel = int(durations[where, stop.location])
        plain = _earliest_start(stop, free + travel, shift_end)
        while pending:
            b = pending[0]
            at = max(free, b.window.start)  # the break's earliest start in this gap
            if at > b.window.end:
                return None
            # Drive first when the window opens after arrival, else break first, then drive.
            arrive = max(free + travel, b.window.start) + b.duration
            taken = _earliest_start(stop, arrive, shift_end)
            after = None if plain is None else plain + stop.service  # next gap's start
            must = plain is None or after is None or max(after, b.window.start) > b.window.end
            if taken is not None and (must or taken == plain):
                pending.pop(0)
                taken_breaks.append((at, b.duration))
                if departure is None and where == vehicle.start:
                    departure = vehicle.shift.start
                plain = taken
                # Another break in this gap comes after this one (break, then drive: cautious).
                free = at + b.duration
                continue
            if must:
                return None
            break
        if plain is None:
            return None
        if departure is None:
            departure = max(vehicle.shift.start, plain - travel)
        starts.append(plain)
        free = plain + stop.service
        where = stop.location
    back = 0 if vehicle.end is None else int(durations[where, vehicle.end])
    for b in pending:
        at = max(free, b.window.start)
        if at > b.window.end:
            return None
        taken_breaks.append((at, b.duration))
        free = at + b.duration
    end = free + back
    if departure is None:
        departure = vehicle.shift.start
    if end > shift_end:
        return None
    if vt.max_shift is not None and end - departure > vt.max_shift:
        return None
    return Timing(departure, tuple(starts), tuple(taken_breaks), end)
