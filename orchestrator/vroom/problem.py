"""From a parsed VROOM problem to the routing engine's :class:`routing.Problem`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from orchestrator.vroom._vehicle_plan import VehiclePlan, vehicle_plans
from orchestrator.vroom.errors import VroomInputError
from orchestrator.vroom.model import VroomProblem
from routing import (
    Break,
    InvalidProblemError,
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

__all__ = ["to_problem"]

_SKILL_CATALOG = "vroom:skill-catalog"
"""A vehicle type with no vehicle that declares every task skill, so that a task whose skills no
vehicle has is reported unserved (``no_vehicle_with_skills``) instead of refused."""

_TASKS_DIMENSION = "tasks"
"""Extra capacity dimension counting tasks, for ``max_tasks`` (one unit per task)."""


def _padded(a: np.ndarray, extra: int) -> np.ndarray:
    """The matrix with ``extra`` rows and columns of zeros (the free-start place)."""
    return np.pad(np.asarray(a, dtype=np.int64), ((0, extra), (0, extra)))


def to_problem(vp: VroomProblem) -> Problem:
    """Translate a parsed VROOM problem into the routing engine's :class:`routing.Problem`.

    Stop ids are ``"job:<id>"``, ``"pickup:<id>"`` and ``"delivery:<id>"``; vehicle ids are the
    VROOM ids as strings. A vehicle without start starts at an extra place, last in
    :attr:`routing.Problem.locations`, from which every place is free to reach. See
    :mod:`orchestrator.vroom` for the objective, priorities and breaks.

    Parameters
    ----------
    vp
        The problem from :func:`parse_vroom`.

    Returns
    -------
    routing.Problem
        Ready for :func:`routing.solve`; times in seconds, as in the VROOM input.
    """
    plans, _ = vehicle_plans(vp)
    n = len(vp.coordinates)
    free_start = any(v.start is None for v in vp.vehicles)
    extra = 1 if free_start else 0
    locations = [
        Location(f"loc:{i}", lat=c[1], lon=c[0]) if c else Location(f"loc:{i}", 0.0, 0.0)
        for i, c in enumerate(vp.coordinates)
    ]
    if free_start:
        locations.append(Location("free-start", 0.0, 0.0))

    count_tasks = any(v.max_tasks is not None for v in vp.vehicles)
    dimensions = tuple(f"amount[{k}]" for k in range(vp.amount_size)) or ("amount",)
    if count_tasks:
        dimensions += (_TASKS_DIMENSION,)

    matrices: dict[str, TravelMatrix] = {}
    names: dict[tuple[object, ...], str] = {}
    vehicle_types: list[VehicleType] = []
    vehicles: list[Vehicle] = []
    for plan in plans:
        v = plan.vehicle
        if plan.matrix_key not in names:
            name = f"{v.profile}#{len(names)}"
            names[plan.matrix_key] = name
            matrices[name] = TravelMatrix(
                distances=_padded(plan.slot, extra), durations=_padded(plan.durations, extra)
            )
        capacity = v.capacity or (0,)
        if count_tasks:
            capacity += (v.max_tasks if v.max_tasks is not None else len(vp.tasks),)
        vtype = VehicleType(
            name=f"vehicle:{v.id}",
            capacity=capacity,
            profile=names[plan.matrix_key],
            range_m=plan.range_m,
            max_shift=plan.max_shift,
            fixed_cost=float(v.fixed),
            cost_per_km=plan.cost_per_km,
            cost_per_hour=plan.cost_per_hour,
            skills=frozenset(str(s) for s in v.skills),
        )
        vehicle_types.append(vtype)
        if not plan.usable:
            continue
        vehicles.append(
            Vehicle(
                id=str(v.id),
                type=vtype.name,
                start=n if v.start is None else v.start,
                end=v.end,
                shift=TimeWindow(*plan.shift),
                breaks=tuple(Break(TimeWindow(lo, hi), b.service) for b, lo, hi in plan.breaks),
            )
        )
    task_skills = frozenset(str(s) for t in vp.tasks for s in t.skills)
    if task_skills:
        vehicle_types.append(
            VehicleType(name=_SKILL_CATALOG, profile=next(iter(matrices)), skills=task_skills)
        )

    penalty = _drop_penalty(vp, plans, len(vehicles))
    stops = []
    for t in vp.tasks:
        picks_up = t.kind == "pickup" or (t.kind == "job" and any(t.pickup))
        demand = (t.pickup if picks_up else t.delivery) or (0,)
        if count_tasks:
            demand += (1,)
        stops.append(
            Stop(
                id=t.stop_id,
                location=t.location,
                service=t.setup + t.service,
                windows=tuple(TimeWindow(a, b) for a, b in t.time_windows),
                demand=demand,
                skills=frozenset(str(s) for s in t.skills),
                kind=StopKind.PICKUP if picks_up else StopKind.DELIVERY,
                penalty=penalty,
                priority=t.priority,
            )
        )
    by_shipment: dict[int, dict[str, str]] = {}
    for t in vp.tasks:
        if t.shipment is not None:
            by_shipment.setdefault(t.shipment, {})[t.kind] = t.stop_id
    shipments = tuple(
        PickupDelivery(pair["pickup"], pair["delivery"]) for _, pair in sorted(by_shipment.items())
    )
    try:
        return Problem(
            locations=tuple(locations),
            matrices=matrices,
            stops=tuple(stops),
            vehicle_types=tuple(vehicle_types),
            vehicles=tuple(vehicles),
            dimensions=dimensions,
            shipments=shipments,
        )
    except InvalidProblemError as exc:  # pragma: no cover - parse_vroom checks all of it
        raise VroomInputError("", f"lastmile cannot express this problem: {exc}") from exc


def _drop_penalty(vp: VroomProblem, plans: Sequence[VehiclePlan], n_vehicles: int) -> float:
    """A drop penalty larger than the cost of any plan, so only what cannot fit is dropped."""
    arc = max((float(p.slot.max(initial=0)) * p.cost_per_km / 1000.0 for p in plans), default=0.0)
    span = sum(p.cost_per_hour * (p.shift[1] - p.shift[0]) / 3600.0 for p in plans)
    fixed = sum(p.vehicle.fixed for p in plans)
    bound = fixed + span + (len(vp.tasks) + 2 * n_vehicles) * arc
    return 2.0 * bound + 1.0
