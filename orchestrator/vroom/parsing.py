"""Reading a VROOM input: the decoded JSON payload validated into a :class:`VroomProblem`.

Every problem with the input is a :class:`~orchestrator.vroom.errors.VroomInputError` naming
the field and the fix; what is ignored or approximated becomes a note. The supported subset is
documented in :mod:`orchestrator.vroom`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from orchestrator.settings import Settings, setting_name
from orchestrator.vroom._reader import Reader
from orchestrator.vroom.errors import VroomInputError
from orchestrator.vroom.matrices import DEFAULT_PROFILE, given_matrices, straight_line_matrices
from orchestrator.vroom.model import (
    TaskKind,
    VroomBreak,
    VroomProblem,
    VroomTask,
    VroomVehicle,
)

__all__ = ["MAX_PRIORITY", "check_size", "parse_vroom"]

MAX_PRIORITY = 100
"""VROOM's highest task priority."""

_JOB_KEYS = {
    "id",
    "description",
    "location",
    "location_index",
    "setup",
    "service",
    "amount",
    "delivery",
    "pickup",
    "skills",
    "priority",
    "time_windows",
    "setup_per_type",
    "service_per_type",
}
_STEP_KEYS = {
    "id",
    "description",
    "location",
    "location_index",
    "setup",
    "service",
    "time_windows",
    "setup_per_type",
    "service_per_type",
}
_SHIPMENT_KEYS = {"pickup", "delivery", "amount", "skills", "priority"}
_VEHICLE_KEYS = {
    "id",
    "profile",
    "description",
    "start",
    "start_index",
    "end",
    "end_index",
    "capacity",
    "costs",
    "skills",
    "type",
    "time_window",
    "breaks",
    "speed_factor",
    "max_tasks",
    "max_travel_time",
    "max_distance",
    "steps",
}
_COST_KEYS = {"fixed", "per_hour", "per_km", "per_task_hour"}
_BREAK_KEYS = {"id", "time_windows", "service", "description", "max_load"}
_TOP_KEYS = {"jobs", "shipments", "vehicles", "matrices", "matrix", "options"}


def parse_vroom(payload: object, *, settings: Settings | None = None) -> VroomProblem:
    """Validate a decoded VROOM input (a ``dict`` from JSON) into a :class:`VroomProblem`.

    Parameters
    ----------
    payload
        The decoded JSON document.
    settings
        Where the size limits come from (``max_vroom_tasks``, ``max_vroom_vehicles``);
        ``None`` reads the ``LASTMILE_*`` environment (:mod:`orchestrator.settings`). They
        are checked before anything else is read: a problem too large is refused before its
        matrices are built or a search starts.

    Returns
    -------
    VroomProblem
        The problem, with matrices for every profile in use (computed from coordinates when
        none are given) and notes on what was ignored.

    Raises
    ------
    VroomInputError
        At the first invalid or unsupported field, with its path and what to fix; or on
        ``jobs`` / ``vehicles`` for a problem over the size limits, naming the limit and the
        setting that raises it.
    """
    check_size(payload, settings=settings)
    p = Reader()
    top = p.obj(payload, "", "a VROOM problem (jobs, shipments, vehicles, matrices)")
    p.unknown_keys(top, _TOP_KEYS, "")
    if "options" in top:
        p.notes.append("options: ignored (lastmile's search settings come from the API)")

    given = given_matrices(p, top)
    with_matrices = given is not None

    jobs = p.array(top.get("jobs") or [], "jobs", "job objects")
    shipments = p.array(top.get("shipments") or [], "shipments", "shipment objects")
    vehicles_raw = p.array(top.get("vehicles"), "vehicles", "vehicle objects")
    if not vehicles_raw:
        raise VroomInputError("vehicles", "is empty — give at least one vehicle")

    # Places are gathered first and resolved to matrix rows once all are known.
    tasks: list[dict[str, Any]] = []
    seen: dict[TaskKind, dict[int, str]] = {"job": {}, "pickup": {}, "delivery": {}}

    def add_task(
        obj: Mapping[str, Any], path: str, kind: TaskKind, extra: Mapping[str, Any]
    ) -> None:
        tid = p.integer(obj.get("id"), f"{path}.id", minimum=None) if "id" in obj else None
        if tid is None:
            raise VroomInputError(f"{path}.id", "is missing — give every task an integer id")
        if tid in seen[kind]:
            raise VroomInputError(
                f"{path}.id",
                f"{kind} id {tid} is also used by {seen[kind][tid]} — ids of "
                f"{kind}s must be unique",
            )
        seen[kind][tid] = path
        p.reject_per_type(obj, path)
        coords, index = p.place(
            obj, path, "location", "location_index", required=True, with_matrices=with_matrices
        )
        tasks.append(
            {
                "kind": kind,
                "id": tid,
                "path": path,
                "coordinates": coords,
                "location_index": index,
                "description": p.text(obj, "description", path),
                "setup": p.opt_int(obj, "setup", path, 0),
                "service": p.opt_int(obj, "service", path, 0),
                "time_windows": p.windows(obj, path),
                **extra,
            }
        )

    for k, raw in enumerate(jobs):
        path = f"jobs[{k}]"
        job = p.obj(raw, path, "a job")
        p.unknown_keys(job, _JOB_KEYS, path)
        delivery = p.amount(job, "delivery", path)
        legacy = p.amount(job, "amount", path)
        if legacy is not None:
            if delivery is not None:
                raise VroomInputError(
                    f"{path}.amount",
                    "is the legacy name of 'delivery' and both are given — keep 'delivery'",
                )
            delivery = legacy
        pickup = p.amount(job, "pickup", path)
        if delivery and pickup and any(delivery) and any(pickup):
            raise VroomInputError(
                path,
                "has both a delivery and a pickup amount, which lastmile does not support — "
                "split it into a delivery job and a pickup job at the same location",
            )
        add_task(
            job,
            path,
            "job",
            {
                "delivery": delivery or (),
                "pickup": pickup or (),
                "skills": p.skills(job, path),
                "priority": p.opt_int(job, "priority", path, 0, maximum=MAX_PRIORITY),
                "shipment": None,
            },
        )

    for k, raw in enumerate(shipments):
        path = f"shipments[{k}]"
        shipment = p.obj(raw, path, "a shipment (pickup and delivery)")
        p.unknown_keys(shipment, _SHIPMENT_KEYS, path)
        amount = p.amount(shipment, "amount", path) or ()
        shared = {
            "skills": p.skills(shipment, path),
            "priority": p.opt_int(shipment, "priority", path, 0, maximum=MAX_PRIORITY),
            "shipment": k,
        }
        for role in ("pickup", "delivery"):
            step_path = f"{path}.{role}"
            if role not in shipment:
                raise VroomInputError(step_path, f"is missing — a shipment needs a {role} step")
            step = p.obj(shipment[role], step_path, f"the {role} step")
            p.unknown_keys(step, _STEP_KEYS, step_path)
            amounts = (
                {"delivery": (), "pickup": amount}
                if role == "pickup"
                else {"delivery": amount, "pickup": ()}
            )
            add_task(step, step_path, role, {**amounts, **shared})

    vehicles: list[dict[str, Any]] = []
    vehicle_ids: dict[int, str] = {}
    for k, raw in enumerate(vehicles_raw):
        path = f"vehicles[{k}]"
        v = p.obj(raw, path, "a vehicle")
        vehicles.append(_vehicle(p, v, path, vehicle_ids, with_matrices))

    size = p.amount_size or 0
    has_pickups = bool(shipments) or any(any(t["pickup"]) for t in tasks)
    for v in vehicles:
        if v["max_tasks"] is not None and has_pickups:
            raise VroomInputError(
                f"{v['path']}.max_tasks",
                "is only supported when no job picks up and there are no shipments — drop "
                "max_tasks or the pickups",
            )
        if v["capacity"] is None:
            v["capacity"] = (0,) * size

    # -- matrices: given, or computed from coordinates -------------------------------------
    profiles = sorted({v["profile"] for v in vehicles})
    if given is not None:
        sizes = {name: m.durations.shape[0] for name, m in given.items()}
        for v in vehicles:
            if v["profile"] not in given:
                raise VroomInputError(
                    f"{v['path']}.profile",
                    f"no matrices for profile {v['profile']!r} (have: {sorted(given)}) — add "
                    f"matrices.{v['profile']}.durations",
                )
        n = min(sizes[name] for name in profiles)
        rows: list[tuple[float, float] | None] = [None] * n

        def resolve(path: str, coords: tuple[float, float] | None, index: int) -> int:
            if index >= n:
                raise VroomInputError(path, f"index {index} is outside the matrices (0..{n - 1})")
            if coords is not None and rows[index] is None:
                rows[index] = coords
            return index

        for t in tasks:
            t["location"] = resolve(
                f"{t['path']}.location_index", t["coordinates"], t["location_index"]
            )
        for v in vehicles:
            for role in ("start", "end"):
                index = v[f"{role}_index"]
                v[role] = (
                    None
                    if index is None
                    else resolve(f"{v['path']}.{role}_index", v[f"{role}_coordinates"], index)
                )
        matrices = {name: given[name] for name in profiles}
        coordinates = tuple(rows)
    else:
        points: dict[tuple[float, float], int] = {}

        def row(coords: tuple[float, float]) -> int:
            return points.setdefault(coords, len(points))

        for t in tasks:
            t["location"] = row(t["coordinates"])
            t["location_index"] = None
        for v in vehicles:
            for role in ("start", "end"):
                coords = v[f"{role}_coordinates"]
                v[role] = None if coords is None else row(coords)
                v[f"{role}_index"] = None
        coordinates = tuple(points)
        matrices, notes = straight_line_matrices(list(points), profiles)
        p.notes.extend(notes)

    for v in vehicles:
        m = matrices[v["profile"]]
        if (v["per_km"] or v["max_distance"] is not None) and m.distances is None:
            key = "costs.per_km" if v["per_km"] else "max_distance"
            raise VroomInputError(
                f"{v['path']}.{key}",
                f"needs distances — add matrices.{v['profile']}.distances",
            )
        if m.costs is not None and (v["per_hour"] != 3600 or v["per_km"]):
            raise VroomInputError(
                f"{v['path']}.costs",
                f"per_hour/per_km cannot be combined with the custom costs matrix of profile "
                f"{v['profile']!r} (as in VROOM) — drop one of them",
            )

    task_objs = tuple(
        VroomTask(
            kind=t["kind"],
            id=t["id"],
            path=t["path"],
            location=t["location"],
            coordinates=t["coordinates"],
            location_index=t["location_index"],
            description=t["description"],
            setup=t["setup"],
            service=t["service"],
            delivery=_pad(t["delivery"], size),
            pickup=_pad(t["pickup"], size),
            skills=t["skills"],
            priority=t["priority"],
            time_windows=t["time_windows"],
            shipment=t["shipment"],
        )
        for t in tasks
    )
    vehicle_objs = tuple(VroomVehicle(**v) for v in vehicles)
    return VroomProblem(
        tasks=task_objs,
        vehicles=vehicle_objs,
        matrices=MappingProxyType(matrices),
        coordinates=coordinates,
        amount_size=size,
        matrices_given=with_matrices,
        notes=tuple(p.notes),
    )


def check_size(payload: object, *, settings: Settings | None = None) -> None:
    """Refuse a problem over the size limits, before anything of it is read or built.

    The solver's memory grows with the square of the tasks and with the vehicles (1,000 jobs
    and 50 vehicles peaked at 1.6 GB), so a problem may hold at most ``max_vroom_tasks``
    tasks (jobs, and two per shipment) and ``max_vroom_vehicles`` vehicles. Only the lengths
    of the top-level arrays are looked at; anything malformed is left to :func:`parse_vroom`.

    Parameters
    ----------
    payload
        The decoded JSON document.
    settings
        Where the limits come from; ``None`` reads the ``LASTMILE_*`` environment.

    Raises
    ------
    VroomInputError
        On ``jobs`` (or ``shipments``) or ``vehicles``, naming the limit and the setting
        that raises it.
    """
    if not isinstance(payload, Mapping):
        return
    settings = settings or Settings()

    def count(key: str) -> int:
        value = payload.get(key)
        return len(value) if isinstance(value, list) else 0

    jobs, shipments, vehicles = count("jobs"), count("shipments"), count("vehicles")
    tasks = jobs + 2 * shipments
    if tasks > settings.max_vroom_tasks:
        raise VroomInputError(
            "jobs" if jobs else "shipments",
            f"{jobs} jobs and {shipments} shipments make {tasks} tasks (a shipment is two), "
            f"more than the {settings.max_vroom_tasks} a problem may hold — split the problem, "
            f"or raise {setting_name('max_vroom_tasks')} on the server",
        )
    if vehicles > settings.max_vroom_vehicles:
        raise VroomInputError(
            "vehicles",
            f"{vehicles} vehicles are more than the {settings.max_vroom_vehicles} a problem may "
            f"hold — split the problem, or raise {setting_name('max_vroom_vehicles')} on the "
            "server",
        )


def _vehicle(
    p: Reader,
    v: Mapping[str, Any],
    path: str,
    seen: dict[int, str],
    with_matrices: bool,
) -> dict[str, Any]:
    """One vehicle's fields (``start``/``end`` rows still to resolve, ``capacity`` maybe
    ``None``); ``seen`` maps the vehicle ids read so far to their paths."""
    p.unknown_keys(v, _VEHICLE_KEYS, path)
    if "id" not in v:
        raise VroomInputError(f"{path}.id", "is missing — give every vehicle an integer id")
    vid = p.integer(v["id"], f"{path}.id", minimum=None)
    if vid in seen:
        raise VroomInputError(f"{path}.id", f"vehicle id {vid} is also used by {seen[vid]}")
    seen[vid] = path
    profile = v.get("profile") or DEFAULT_PROFILE
    if not isinstance(profile, str):
        raise VroomInputError(f"{path}.profile", "must be a string such as 'car'")
    start_c, start_i = p.place(
        v, path, "start", "start_index", required=False, with_matrices=with_matrices
    )
    end_c, end_i = p.place(v, path, "end", "end_index", required=False, with_matrices=with_matrices)
    has_start = start_i is not None if with_matrices else start_c is not None
    has_end = end_i is not None if with_matrices else end_c is not None
    if not (has_start or has_end):
        key = "start_index" if with_matrices else "start"
        raise VroomInputError(
            f"{path}.{key}", "the vehicle has neither a start nor an end — give at least one"
        )
    costs: Mapping[str, Any] = {}
    if v.get("costs") is not None:
        costs = p.obj(v["costs"], f"{path}.costs", "the vehicle's costs")
        p.unknown_keys(costs, _COST_KEYS, f"{path}.costs")
    cpath = f"{path}.costs"
    tw = None
    if v.get("time_window") is not None:
        tw = p.window(v["time_window"], f"{path}.time_window")
    speed_factor = 1.0
    if v.get("speed_factor") is not None:
        sf = v["speed_factor"]
        if isinstance(sf, bool) or not isinstance(sf, int | float) or not 0 < sf <= 5:
            raise VroomInputError(f"{path}.speed_factor", f"{sf!r} must be a number in (0, 5]")
        speed_factor = float(sf)
    if v.get("steps"):
        p.notes.append(f"{path}.steps: ignored (lastmile searches without a given start route)")
    breaks = []
    break_ids: set[int] = set()
    for k, raw in enumerate(p.array(v.get("breaks") or [], f"{path}.breaks", "break objects")):
        bpath = f"{path}.breaks[{k}]"
        b = p.obj(raw, bpath, "a break")
        p.unknown_keys(b, _BREAK_KEYS, bpath)
        if "id" not in b:
            raise VroomInputError(f"{bpath}.id", "is missing — give every break an integer id")
        bid = p.integer(b["id"], f"{bpath}.id", minimum=None)
        if bid in break_ids:
            raise VroomInputError(f"{bpath}.id", f"break id {bid} is used twice on this vehicle")
        break_ids.add(bid)
        if b.get("max_load") is not None:
            raise VroomInputError(f"{bpath}.max_load", "is not supported by lastmile — drop it")
        windows = p.windows(b, bpath)
        if not windows:
            raise VroomInputError(
                f"{bpath}.time_windows", "is missing — give when the break may start"
            )
        breaks.append(
            VroomBreak(
                bid, windows, p.opt_int(b, "service", bpath, 0), p.text(b, "description", bpath)
            )
        )
    max_tasks = (
        None if v.get("max_tasks") is None else p.integer(v["max_tasks"], f"{path}.max_tasks")
    )
    return {
        "id": vid,
        "path": path,
        "profile": profile,
        "description": p.text(v, "description", path),
        "start": None,
        "end": None,
        "start_coordinates": start_c,
        "end_coordinates": end_c,
        "start_index": start_i,
        "end_index": end_i,
        "capacity": p.amount(v, "capacity", path),
        "skills": p.skills(v, path),
        "time_window": tw,
        "breaks": tuple(breaks),
        "fixed": p.opt_int(costs, "fixed", cpath, 0),
        "per_hour": p.opt_int(costs, "per_hour", cpath, 3600),
        "per_km": p.opt_int(costs, "per_km", cpath, 0),
        "per_task_hour": p.opt_int(costs, "per_task_hour", cpath, 0),
        "speed_factor": speed_factor,
        "max_tasks": max_tasks,
        "max_travel_time": None
        if v.get("max_travel_time") is None
        else p.integer(v["max_travel_time"], f"{path}.max_travel_time"),
        "max_distance": None
        if v.get("max_distance") is None
        else p.integer(v["max_distance"], f"{path}.max_distance"),
    }


def _pad(values: Sequence[int], n: int) -> tuple[int, ...]:
    """An amount with zeros appended up to ``n`` dimensions (an absent amount is ``()``)."""
    return tuple(values) + (0,) * (n - len(values))
