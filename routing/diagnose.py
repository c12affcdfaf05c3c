"""Which vehicles could serve each stop on its own, and why not when none can.

Obvious impossibilities are found before the optimiser runs, for two reasons: people get a
precise reason ("no vehicle has the skill 'cold'") instead of "dropped", and the optimiser
gets a smaller problem with each stop restricted to the vehicles that could serve it.

A stop is checked against each vehicle alone, as if it were the only stop of the route, in
this order: skills, capacity, range, time window (and shift length). The first check that
rules out every vehicle gives the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from routing.model import Problem, Stop, StopKind, Vehicle, fmt_time
from routing.solution import Unserved, UnservedReason

__all__ = ["Eligibility", "diagnose"]


@dataclass(frozen=True, slots=True)
class Eligibility:
    """The result of :func:`diagnose`.

    ``allowed[i]`` lists the indices (into :attr:`Problem.vehicles`) of the vehicles that
    could serve ``problem.stops[i]`` on their own; empty for unservable stops, which are
    listed with their reason in ``unserved``.
    """

    allowed: tuple[tuple[int, ...], ...]
    unserved: tuple[Unserved, ...]

    @property
    def servable(self) -> tuple[int, ...]:
        """Indices of the stops that some vehicle could serve."""
        return tuple(i for i, a in enumerate(self.allowed) if a)


def _window_fits(problem: Problem, stop: Stop, vehicle: Vehicle) -> bool:
    """Whether the vehicle, leaving as early as its shift allows, serves the stop in a window."""
    vt = problem.vehicle_type(vehicle.type)
    m = problem.matrix_for(vehicle)
    to_stop = int(m.durations[vehicle.start, stop.location])
    back = 0 if vehicle.end is None else int(m.durations[stop.location, vehicle.end])
    arrival = vehicle.shift.start + to_stop
    for w in stop.windows or (vehicle.shift,):
        begin = max(arrival, w.start)
        if begin > w.end:
            continue
        finish = begin + stop.service + back
        if finish > vehicle.shift.end:
            continue
        # Leaving later shortens the shift when the window opens late.
        departure = max(vehicle.shift.start, begin - to_stop)
        if vt.max_shift is not None and finish - departure > vt.max_shift:
            continue
        return True
    return False


def _pair_fits(problem: Problem, pickup: Stop, delivery: Stop, vehicle: Vehicle) -> bool:
    """Whether the vehicle can do the pickup and then the delivery, each in a window."""
    m = problem.matrix_for(vehicle)
    t = vehicle.shift.start + int(m.durations[vehicle.start, pickup.location])
    p_start = next(
        (max(t, w.start) for w in pickup.windows or (vehicle.shift,) if t <= w.end), None
    )
    if p_start is None:
        return False
    t = p_start + pickup.service + int(m.durations[pickup.location, delivery.location])
    d_start = next(
        (max(t, w.start) for w in delivery.windows or (vehicle.shift,) if t <= w.end), None
    )
    if d_start is None:
        return False
    back = 0 if vehicle.end is None else int(m.durations[delivery.location, vehicle.end])
    return d_start + delivery.service + back <= vehicle.shift.end


def _within_range(problem: Problem, stop: Stop, vehicle: Vehicle) -> bool:
    vt = problem.vehicle_type(vehicle.type)
    if vt.range_m is None:
        return True
    m = problem.matrix_for(vehicle)
    there = int(m.distances[vehicle.start, stop.location])
    back = 0 if vehicle.end is None else int(m.distances[stop.location, vehicle.end])
    return there + back <= vt.range_m


def _has_capacity(problem: Problem, stop: Stop, vehicle: Vehicle) -> bool:
    cap = problem.capacity(problem.vehicle_type(vehicle.type))
    return all(d <= c for d, c in zip(problem.demand(stop), cap, strict=True))


def _has_skills(problem: Problem, stop: Stop, vehicle: Vehicle) -> bool:
    return stop.skills <= problem.vehicle_type(vehicle.type).skills


_CHECKS = (
    (UnservedReason.NO_VEHICLE_WITH_SKILLS, _has_skills),
    (UnservedReason.DEMAND_EXCEEDS_CAPACITY, _has_capacity),
    (UnservedReason.BEYOND_RANGE, _within_range),
    (UnservedReason.WINDOW_UNREACHABLE, _window_fits),
)


def _detail(problem: Problem, stop: Stop, reason: UnservedReason) -> str:
    if reason is UnservedReason.NO_VEHICLE_WITH_SKILLS:
        return (
            f"no vehicle has all the skills {sorted(stop.skills)}; add a vehicle with them "
            "or drop the requirement"
        )
    if reason is UnservedReason.DEMAND_EXCEEDS_CAPACITY:
        return (
            f"demand {dict(zip(problem.dimensions, problem.demand(stop), strict=True))} exceeds "
            "the capacity of every vehicle that has the skills; split the order or add a "
            "larger vehicle"
        )
    if reason is UnservedReason.BEYOND_RANGE:
        return (
            "the round trip from every suitable vehicle's start is longer than its range; "
            "serve it from a closer hub or with a longer-range vehicle"
        )
    windows = ", ".join(f"{fmt_time(w.start)}-{fmt_time(w.end)}" for w in stop.windows)
    return (
        f"no suitable vehicle can start service within its window(s) {windows or '(any)'} "
        "and still finish its shift; widen the window or extend a shift"
    )


def _signature(problem: Problem, v: Vehicle) -> tuple[object, ...]:
    return (v.type, v.start, v.end, v.shift.start, v.shift.end)


def diagnose(problem: Problem) -> Eligibility:
    """Find, for every stop, the vehicles that could serve it alone, and explain the rest.

    Vehicles with the same type, start, end and shift are checked once. Locked stops
    (already dispatched) are always allowed on their vehicle. For a pickup-and-delivery
    pair, both stops get the vehicles that can serve each of them; a pair with no common
    vehicle is unserved as a whole.
    """
    groups: dict[tuple[object, ...], list[int]] = {}
    for vi, v in enumerate(problem.vehicles):
        groups.setdefault(_signature(problem, v), []).append(vi)
    group_members = list(groups.values())

    locked_on: dict[str, int] = {}
    for vi, v in enumerate(problem.vehicles):
        for sid in v.locked:
            locked_on[sid] = vi

    # stage_sets[i][k]: vehicles still allowed for stop i after the first k+1 checks
    stage_sets: list[list[frozenset[int]]] = []
    for stop in problem.stops:
        stages: list[frozenset[int]] = []
        current = group_members
        for _, check in _CHECKS:
            rep_ok = [g for g in current if check(problem, stop, problem.vehicles[g[0]])]
            current = rep_ok
            stages.append(frozenset(vi for g in current for vi in g))
        stage_sets.append(stages)

    partner: dict[int, int] = {}
    for pd in problem.shipments:
        p, d = problem.stop_index(pd.pickup), problem.stop_index(pd.delivery)
        partner[p], partner[d] = d, p

    allowed: list[tuple[int, ...]] = []
    unserved: list[Unserved] = []
    for i, stop in enumerate(problem.stops):
        if stop.id in locked_on:
            allowed.append((locked_on[stop.id],))
            continue
        stages = stage_sets[i]
        if i in partner:
            other = stage_sets[partner[i]]
            stages = [a & b for a, b in zip(stages, other, strict=True)]
            pickup, delivery = (
                (stop, problem.stops[partner[i]])
                if stop.kind is StopKind.PICKUP
                else (problem.stops[partner[i]], stop)
            )
            stages[-1] = frozenset(
                vi
                for vi in stages[-1]
                if _pair_fits(problem, pickup, delivery, problem.vehicles[vi])
            )
        failed = next((k for k, s in enumerate(stages) if not s), None)
        if failed is None:
            allowed.append(tuple(sorted(stages[-1])))
            continue
        allowed.append(())
        reason = _CHECKS[failed][0]
        own_ok = all(stage_sets[i])
        if i in partner and own_ok:
            other_stop = problem.stops[partner[i]]
            other_ok = all(stage_sets[partner[i]])
            if other_ok:
                detail = (
                    f"no single vehicle can serve both it and {other_stop.id!r} "
                    f"({reason.value.replace('_', ' ')} for the pair)"
                )
            else:
                reason = UnservedReason.PARTNER_UNSERVED
                role = "delivery" if stop.kind is StopKind.PICKUP else "pickup"
                detail = f"its {role} {other_stop.id!r} cannot be served"
        else:
            detail = _detail(problem, stop, reason)
        unserved.append(Unserved(stop.id, reason, detail))
    return Eligibility(tuple(allowed), tuple(unserved))
