"""Repair a seed planned on a relaxed problem: cut what a route cannot hold, put it back elsewhere.

PyVRP cannot keep drivers' breaks, so its seed is planned with each shift shortened by the
breaks (see :mod:`routing._pyvrp`). Some routes then cannot fit a break where its window
demands it. Rather than throw the whole seed away (OR-Tools then starts from scratch and, on a
day of a few hundred stops with breaks, leaves stops out when its time runs short), each such
route keeps what it can hold and the stops cut from it are put back at their cheapest feasible
place on any route of a vehicle allowed to serve them, before OR-Tools takes the plan as its
first solution. Feasibility here is the cautious replay of :mod:`routing._replay`; OR-Tools
checks the result and has the last word.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from routing._replay import route_fits
from routing.model import Problem, StopKind

__all__ = ["Repaired", "cut", "repair"]

T = TypeVar("T", bound=Hashable)


def cut(route: Sequence[T], fits: Callable[[Sequence[T]], bool], partner: Mapping[T, T]) -> list[T]:
    """The route cut down to what ``fits`` accepts, in order.

    Keeps the longest accepted prefix, then every later stop that still fits. A pair (``partner``
    maps each half to the other) stays whole or leaves whole: a first half rides along until
    its second half is tried with it.
    """
    if fits(route):
        return list(route)
    lo, hi = 0, len(route) - 1  # route[:lo] is accepted, route[:hi + 1] is not
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(route[:mid]):
            lo = mid
        else:
            hi = mid - 1
    kept = list(route[:lo])
    position = {item: k for k, item in enumerate(route)}
    # First halves of pairs whose second half is to come (also those of the prefix).
    pending: set[T] = {i for i in kept if i in partner and position.get(partner[i], -1) >= lo}
    for item in route[lo:]:
        other = partner.get(item)
        if other is not None and position.get(other, -1) > position[item]:
            pending.add(item)
            kept.append(item)
            continue
        if other is not None and other not in pending:
            continue  # its first half was cut
        if other is not None:
            pending.discard(other)
        if fits([i for i in [*kept, item] if i not in pending]):
            kept.append(item)
        elif other is not None:
            kept.remove(other)
    return [i for i in kept if i not in pending]


@dataclass(frozen=True, slots=True)
class Repaired:
    """Routes (vehicle index -> stop indices) after the repair, and what it moved."""

    routes: dict[int, list[int]]
    cut: int
    """Stops taken out of the routes that could not hold them."""
    reinserted: int
    """Of those, the stops put back on some route."""


def repair(
    problem: Problem, routes: Mapping[int, Sequence[int]], allowed: Sequence[Sequence[int]]
) -> Repaired:
    """Cut each route to what its vehicle can drive, then reinsert the cut stops.

    ``allowed[s]`` lists the vehicles that could serve stop ``s`` alone (from
    :func:`routing.diagnose.diagnose`). Reinsertion goes tightest window first, each stop (or
    pair) to the position that adds the least distance cost (plus the fixed cost of a vehicle
    not yet used); a stop that fits nowhere stays out for OR-Tools to place. Routes of
    vehicles that reload (several trips) are left as they are, for OR-Tools to check.
    """
    stops, vehicles = problem.stops, problem.vehicles
    paired = frozenset(pd.delivery for pd in problem.shipments)
    partner: dict[int, int] = {}
    for pd in problem.shipments:
        p, d = problem.stop_index(pd.pickup), problem.stop_index(pd.delivery)
        partner[p], partner[d] = d, p

    def fits(vi: int, seq: Sequence[int]) -> bool:
        return route_fits(problem, vehicles[vi], [stops[s] for s in seq], paired)

    out: dict[int, list[int]] = {}
    loose: list[int] = []
    for vi, route in routes.items():
        if vehicles[vi].reloads:
            # Several trips: the replay knows one trip only; OR-Tools checks such a route.
            out[vi] = list(route)
            continue
        kept = cut(list(route), functools.partial(fits, vi), partner)
        out[vi] = kept
        kept_set = set(kept)
        loose.extend(s for s in route if s not in kept_set)
    n_cut = len(loose)

    units: list[tuple[int, ...]] = []
    for s in loose:
        if s in partner:
            if problem.stops[s].kind is StopKind.PICKUP:
                units.append((s, partner[s]))
        else:
            units.append((s,))

    def latest(unit: tuple[int, ...]) -> int:
        return min(stops[s].windows[-1].end if stops[s].windows else 10**12 for s in unit)

    reinserted = 0
    for unit in sorted(units, key=latest):
        options = set(allowed[unit[0]]).intersection(*(allowed[s] for s in unit[1:]))
        # Cheapest first; the replay only for candidates, until one fits. Idle vehicles alike
        # in type, depots and shift are tried once.
        candidates: list[tuple[float, int, list[int]]] = []
        idle_seen: set[tuple[object, ...]] = set()
        for vi in sorted(options):
            if vehicles[vi].reloads:
                continue
            route = out.get(vi, [])
            if not route:
                v = vehicles[vi]
                key = (v.type, v.start, v.end, v.shift, v.breaks)
                if key in idle_seen:
                    continue
                idle_seen.add(key)
            base = _cost(problem, vi, route)
            candidates.extend(
                (_cost(problem, vi, trial) - base, vi, trial) for trial in _placements(route, unit)
            )
        candidates.sort(key=lambda c: c[0])
        for _, vi, trial in candidates:
            if fits(vi, trial):
                out[vi] = trial
                reinserted += len(unit)
                break
    return Repaired({vi: r for vi, r in out.items() if r}, n_cut, reinserted)


def _placements(route: list[int], unit: tuple[int, ...]) -> list[list[int]]:
    """Every way to put a stop (or a pickup before its delivery) into the route."""
    n = len(route)
    if len(unit) == 1:
        return [[*route[:i], unit[0], *route[i:]] for i in range(n + 1)]
    p, d = unit
    out: list[list[int]] = []
    for i in range(n + 1):
        with_p = [*route[:i], p, *route[i:]]
        out.extend([*with_p[:j], d, *with_p[j:]] for j in range(i + 1, n + 2))
    return out


def _cost(problem: Problem, vi: int, route: Sequence[int]) -> float:
    """Fixed plus distance cost of a route (currency); 0 for an empty one."""
    if not route:
        return 0.0
    v = problem.vehicles[vi]
    vt = problem.vehicle_type(v.type)
    m = problem.matrices[vt.profile].distances
    path = [v.start, *(problem.stops[s].location for s in route)]
    if v.end is not None:
        path.append(v.end)
    metres = sum(int(m[a, b]) for a, b in itertools.pairwise(path))
    return vt.fixed_cost + vt.cost_per_km * metres / 1000.0
