"""VROOM's output: a lastmile solution rendered as VROOM answers (``code`` 0), or an input
error as VROOM reports it (``code`` 2).

Times in seconds, distances in metres, costs as in VROOM; our extensions are
``unassigned[].reason`` / ``.detail``, the top-level ``notes`` and the error's ``field``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from orchestrator.vroom._vehicle_plan import VehiclePlan, vehicle_plans
from orchestrator.vroom.errors import VroomInputError
from orchestrator.vroom.model import VroomProblem
from routing import Route, Solution, UnservedReason

__all__ = ["error_output", "to_vroom_output"]


def _where(coords: tuple[float, float] | None, index: int | None) -> dict[str, Any]:
    """A step's ``location`` (``[lon, lat]``) and ``location_index``, each only when given."""
    out: dict[str, Any] = {}
    if coords is not None:
        out["location"] = [coords[0], coords[1]]
    if index is not None:
        out["location_index"] = index
    return out


def _add(a: Sequence[int], b: Sequence[int]) -> list[int]:
    """Two amounts added dimension by dimension."""
    return [x + y for x, y in zip(a, b, strict=True)]


def _route_output(vp: VroomProblem, plan: VehiclePlan, route: Route) -> dict[str, Any]:
    """One route's VROOM ``route`` object with its steps and totals."""
    v = plan.vehicle
    m = vp.matrices[v.profile]
    dur = plan.durations
    size = vp.amount_size
    has_distance = m.distances is not None
    breaks = sorted(
        zip(route.breaks, (b for b, _, _ in plan.breaks), strict=True), key=lambda x: x[0].start
    )

    steps: list[dict[str, Any]] = []
    load = list(route.load_at_start[:size])
    travel = distance = cost_travel = 0
    waiting = service_total = setup_total = priority = 0
    delivery, pickup = [0] * size, [0] * size

    def step(kind: str, arrival: int, wait: int, **extra: Any) -> None:
        entry: dict[str, Any] = {"type": kind, "arrival": arrival, "duration": travel}
        entry.update(extra)
        entry.setdefault("setup", 0)
        entry.setdefault("service", 0)
        entry["waiting_time"] = wait
        entry["load"] = list(load)
        if has_distance:
            entry["distance"] = distance
        entry["violations"] = []
        steps.append(entry)

    if v.start is not None:
        step("start", route.start_time, 0, **_where(v.start_coordinates, v.start_index))
    cursor = route.start_time
    prev = v.start

    def leg_to(loc: int | None) -> tuple[int, int, int]:
        if prev is None or loc is None:
            return 0, 0, 0
        d = int(m.distances[prev, loc]) if m.distances is not None else 0
        c = int(m.costs[prev, loc]) if m.costs is not None else 0
        return int(dur[prev, loc]), d, c

    def go(loc: int | None, until: int | None) -> int:
        """Drive to ``loc`` taking the breaks that start before ``until``; the arrival time."""
        nonlocal cursor, travel, distance, cost_travel, waiting, service_total
        remaining, leg_distance, leg_cost = leg_to(loc)
        while breaks and (until is None or breaks[0][0].start < until):
            sb, vb = breaks.pop(0)
            if sb.start < cursor + remaining:
                done = max(0, sb.start - cursor)
                travel += done
                remaining -= done
                arrival, wait = max(sb.start, cursor), 0
            else:
                travel += remaining
                arrival, wait = cursor + remaining, sb.start - (cursor + remaining)
                remaining = 0
            extra: dict[str, Any] = {"id": vb.id, "service": sb.duration}
            if vb.description is not None:
                extra["description"] = vb.description
            step("break", arrival, wait, **extra)
            waiting += wait
            service_total += sb.duration
            cursor = max(cursor, sb.start + sb.duration)
        travel += remaining
        distance += leg_distance
        cost_travel += leg_cost
        return cursor + remaining

    for visit in route.visits:
        task = vp.task(visit.stop_id)
        arrival = min(go(task.location, visit.start), visit.start)
        wait = visit.start - arrival
        if task.kind == "pickup" or (task.kind == "job" and any(task.pickup)):
            load = _add(load, task.pickup)
            pickup = _add(pickup, task.pickup)
        else:
            load = [a - b for a, b in zip(load, task.delivery, strict=True)]
            delivery = _add(delivery, task.delivery)
        extra: dict[str, Any] = {"id": task.id, "setup": task.setup, "service": task.service}
        if task.kind == "job":
            extra["job"] = task.id  # VROOM's deprecated key, still written
        if task.description is not None:
            extra["description"] = task.description
        step(task.kind, arrival, wait, **_where(task.coordinates, task.location_index), **extra)
        waiting += wait
        setup_total += task.setup
        service_total += task.service
        priority += task.priority
        cursor, prev = visit.departure, task.location
    if v.end is not None:
        arrival = go(v.end, None)
        step("end", arrival, 0, **_where(v.end_coordinates, v.end_index))
    else:
        go(None, None)

    if m.costs is not None and v.max_distance is None:
        travel_cost = float(cost_travel)
    else:
        travel_cost = v.per_hour * travel / 3600.0 + v.per_km * distance / 1000.0
    cost = v.fixed + travel_cost + v.per_task_hour * (setup_total + service_total) / 3600.0
    out: dict[str, Any] = {
        "vehicle": v.id,
        "cost": round(cost),
        "setup": setup_total,
        "service": service_total,
        "duration": travel,
        "waiting_time": waiting,
        "priority": priority,
        "delivery": delivery,
        "amount": list(delivery),  # VROOM's deprecated alias of delivery, still written
        "pickup": pickup,
        "violations": [],
        "steps": steps,
    }
    if v.description is not None:
        out["description"] = v.description
    if has_distance:
        out["distance"] = distance
    return out


_DROPPED_DETAIL = (
    "it fits a vehicle on its own but not together with the other tasks (capacity, time "
    "windows, shift length, max_tasks or max_travel_time); tasks of higher priority were "
    "kept first — add a vehicle or widen its time windows"
)


def to_vroom_output(
    vp: VroomProblem,
    solution: Solution,
    *,
    loading_ms: int = 0,
) -> dict[str, Any]:
    """Render a lastmile solution of :func:`to_problem`'s problem in VROOM's output format.

    Parameters
    ----------
    vp
        The parsed VROOM problem the solution answers.
    solution
        What :func:`routing.solve` returned for ``to_problem(vp)``.
    loading_ms
        Milliseconds spent parsing and translating, reported in ``computing_times``.

    Returns
    -------
    dict
        ``code`` 0, ``summary``, ``unassigned`` (with our ``reason`` and ``detail``),
        ``routes`` with their ``steps``, and ``notes`` (our extension). Times in seconds,
        distances in metres (only when the input gave or implied distances), costs as in VROOM.
    """
    plans, plan_notes = vehicle_plans(vp)
    by_vehicle = {str(p.vehicle.id): p for p in plans}
    routes = [_route_output(vp, by_vehicle[r.vehicle_id], r) for r in solution.routes]
    routes.sort(key=lambda r: [p.vehicle.id for p in plans].index(r["vehicle"]))

    unassigned = []
    for u in solution.unserved:
        task = vp.task(u.stop_id)
        entry: dict[str, Any] = {"id": task.id, "type": task.kind}
        if task.description is not None:
            entry["description"] = task.description
        entry.update(_where(task.coordinates, task.location_index))
        entry["reason"] = u.reason.value
        entry["detail"] = (
            _DROPPED_DETAIL if u.reason is UnservedReason.DROPPED_BY_OPTIMISER else u.detail
        )
        unassigned.append(entry)

    size = vp.amount_size
    summary: dict[str, Any] = {
        "cost": sum(r["cost"] for r in routes),
        "routes": len(routes),
        "unassigned": len(unassigned),
        "setup": sum(r["setup"] for r in routes),
        "service": sum(r["service"] for r in routes),
        "duration": sum(r["duration"] for r in routes),
        "waiting_time": sum(r["waiting_time"] for r in routes),
        "priority": sum(r["priority"] for r in routes),
        "violations": [],
        "delivery": [sum(r["delivery"][k] for r in routes) for k in range(size)],
        "amount": [sum(r["delivery"][k] for r in routes) for k in range(size)],
        "pickup": [sum(r["pickup"][k] for r in routes) for k in range(size)],
        "computing_times": {"loading": loading_ms, "solving": round(solution.wall_time * 1000)},
    }
    if any(m.distances is not None for m in vp.matrices.values()):
        summary["distance"] = sum(r.get("distance", 0) for r in routes)
    return {
        "code": 0,
        "summary": summary,
        "unassigned": unassigned,
        "routes": routes,
        "notes": list(vp.notes) + plan_notes,
    }


def error_output(error: VroomInputError) -> dict[str, Any]:
    """VROOM's answer to a bad input (``code`` 2), with our ``field`` extension."""
    return {"code": 2, "error": str(error), "field": error.field_path}
