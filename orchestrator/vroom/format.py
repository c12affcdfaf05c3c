"""VROOM's JSON format in and out: solve a standalone VROOM problem with lastmile's engine.

`VROOM <https://github.com/VROOM-Project/vroom>`_'s input and output formats (``docs/API.md``
of its repository) are the de-facto open format of VROOM, openrouteservice and Fleetbase users.
This module is a pure translation, with no web framework inside:

* :func:`parse_vroom` validates a decoded JSON payload into a frozen :class:`VroomProblem`;
  every problem with the input is a :class:`VroomInputError` naming the field
  (``jobs[3].time_windows[0]``) and the fix;
* :func:`to_problem` turns it into a :class:`routing.Problem`;
* :func:`to_vroom_output` turns the :class:`routing.Solution` into VROOM's output (``code``,
  ``summary``, ``unassigned``, ``routes`` with their ``steps``);
* :func:`solve_vroom` chains the three, and :func:`error_output` renders an input error as
  VROOM does (``code`` 2).

Units are VROOM's: seconds (relative or absolute timestamps, as given), metres, integer costs.

Supported subset
----------------
Top level
    ``jobs``, ``shipments``, ``vehicles``, ``matrices`` (per profile: ``durations``, optional
    ``distances`` and ``costs``) or the legacy ``matrix`` (durations of profile ``car``). Without
    matrices, coordinates are required and lastmile computes straight-line matrices (haversine
    times :data:`DETOUR_FACTOR`, at the speed :data:`PROFILE_SPEEDS_KMH` gives the profile; an
    unknown profile moves at the ``car`` speed, with a note). Coordinates are ``[lon, lat]``.
Jobs
    ``id``, ``description``, ``location`` / ``location_index``, ``setup``, ``service``,
    ``delivery``, ``pickup``, ``amount`` (legacy alias of ``delivery``), ``skills``,
    ``priority`` (0-100), ``time_windows`` (several, honoured as a union; overlapping windows
    are merged). A job may deliver *or* pick up, not both (rejected: split it into two jobs).
Shipments
    ``pickup`` and ``delivery`` steps (``id``, ``description``, ``location`` /
    ``location_index``, ``setup``, ``service``, ``time_windows``), ``amount``, ``skills``,
    ``priority``.
Vehicles
    ``id``, ``profile`` (default ``car``), ``description``, ``start`` / ``start_index``, ``end``
    / ``end_index`` (either may be absent: no end is an open route; no start means the route
    starts at its first task), ``capacity`` (absent means zero in every dimension, as in VROOM),
    ``skills``, ``time_window``, ``breaks``, ``costs`` (``fixed``, ``per_hour``, ``per_km``,
    ``per_task_hour``), ``speed_factor``, ``max_tasks`` (only when the input has no pickups;
    rejected otherwise), ``max_travel_time``, ``max_distance``, ``type`` (accepted, unused).

Semantics and the choices made
------------------------------
* **Objective.** VROOM minimises travel cost: per vehicle ``fixed + per_hour * travel time /
  3600 + per_km * distance / 1000`` (defaults ``0``, ``3600``, ``0``: cost = travel duration in
  seconds), or the sum of a profile's ``costs`` matrix. lastmile minimises the very same thing:
  the arc-cost slot of the engine's matrix (its ``distances``) is filled with that travel cost
  and priced at one unit per entry, so both answers are comparable. The reported ``cost`` is
  recomputed from VROOM's definition (plus ``per_task_hour`` on setup and service).
  Exception: a vehicle with ``max_distance`` needs the slot for real metres, so its objective
  becomes ``per_km`` on distance plus ``per_hour`` on the whole route duration (waiting and
  service included) — noted in the output.
* **max_travel_time** is exact when the vehicle's cost is proportional to travel time (no
  ``per_km``, no ``costs`` matrix, no ``max_distance``); otherwise it bounds the whole route
  duration (service and waiting included), which is stricter than VROOM — noted in the output.
* **Unassigned tasks.** VROOM serves every task it can, higher priority first. Every task is
  optional with a drop penalty that outweighs any possible route cost, multiplied by
  ``1 + priority``: lastmile drops a task only when it cannot fit, and drops low priorities
  first. Each ``unassigned`` entry carries our extension ``reason`` (a
  :class:`routing.UnservedReason` value) and ``detail`` (a sentence).
* **Breaks.** A lastmile break has one window; a VROOM break with several ``time_windows``
  takes the first window that fits inside the vehicle's ``time_window`` (a plan that keeps
  it keeps VROOM's constraint; later windows are not explored — noted). Breaks with
  ``service`` 0 constrain nothing and are left out (noted). ``max_load`` is rejected.
* **setup** is always applied before service (VROOM skips it for a task at the same place as
  the previous one), so lastmile's schedule is never tighter than VROOM's.
* A vehicle that cannot even drive from its start to its end (plus its breaks) within its
  ``time_window``, ``max_travel_time`` or ``max_distance`` gets no route (noted) instead of
  failing the whole problem.
* Step times: ``arrival`` at a break taken while driving is the break start; a break taken
  after reaching the next task's place is located there and the job's ``arrival`` is the
  break end. ``duration`` is cumulated travel time, ``waiting_time`` the idle time before a
  step; break steps count in the route's ``service`` as in VROOM.
* Output extensions: ``unassigned[].reason`` / ``.detail``, and a top-level ``notes`` list
  (fields ignored or approximated).

Rejected (a :class:`VroomInputError` says so): ``service_per_type``, ``setup_per_type``,
break ``max_load``, jobs with both ``delivery`` and ``pickup``, ``max_tasks`` with pickups or
shipments, ``matrices`` missing for a profile in use, ``per_km`` or ``max_distance`` without
distances. Ignored with a note: vehicle ``steps`` (VROOM's warm start; lastmile searches from
scratch) and unknown keys. Not produced: ``geometry``, ``violations`` are always empty (as in
VROOM's solving mode).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import numpy as np

from orchestrator.errors import InvalidInput
from routing import (
    Break,
    InvalidProblemError,
    Limits,
    Location,
    PickupDelivery,
    Problem,
    Route,
    Solution,
    Stop,
    StopKind,
    TimeWindow,
    TravelMatrix,
    UnservedReason,
    Vehicle,
    VehicleType,
    solve,
)
from routing.matrix import haversine_matrix

__all__ = [
    "DEFAULT_PROFILE",
    "DETOUR_FACTOR",
    "PROFILE_SPEEDS_KMH",
    "VroomBreak",
    "VroomInputError",
    "VroomMatrices",
    "VroomProblem",
    "VroomTask",
    "VroomVehicle",
    "error_output",
    "field_parts",
    "parse_vroom",
    "solve_vroom",
    "to_problem",
    "to_vroom_output",
]

DEFAULT_PROFILE = "car"
"""VROOM's default vehicle profile."""

PROFILE_SPEEDS_KMH: Mapping[str, float] = MappingProxyType(
    {
        "car": 40.0,
        "driving-car": 40.0,
        "truck": 30.0,
        "hgv": 30.0,
        "driving-hgv": 30.0,
        "bike": 15.0,
        "bicycle": 15.0,
        "cycling-regular": 15.0,
        "cycling-electric": 20.0,
        "foot": 5.0,
        "walking": 5.0,
        "foot-walking": 5.0,
    }
)
"""Average speed in km/h along the detoured straight line, per VROOM / openrouteservice profile,
used only when no matrices are given. Unknown profiles move at the ``car`` speed."""

DETOUR_FACTOR = 1.3
"""Road distance over great-circle distance assumed without matrices (a common urban value)."""

MAX_PRIORITY = 100
"""VROOM's highest task priority."""

_COST_SLOT_SCALE = 100
"""Slot units per unit of cost when travel cost mixes time and distance (keeps 2 decimals)."""

TaskKind = Literal["job", "pickup", "delivery"]


class VroomInputError(InvalidInput):
    """The VROOM payload is invalid or uses something lastmile does not support.

    An :class:`~orchestrator.errors.InvalidInput` (so a ``ValueError``) whose ``field`` is the
    parsed path (``("jobs", 3, "time_windows", 0)``); ``field_path`` keeps VROOM's spelling,
    which is also how the message names the culprit.

    Parameters
    ----------
    field_path
        Where: ``"jobs[3].time_windows[0]"``, ``"vehicles[0].costs.per_km"``, ``""`` for the
        payload itself.
    message
        What is wrong and what to do about it.
    """

    def __init__(self, field_path: str, message: str) -> None:
        self.field_path = field_path
        super().__init__(field_parts(field_path), message)

    @property
    def where(self) -> str:
        """The field path in VROOM's spelling."""
        return self.field_path

    def __reduce__(self) -> tuple[object, ...]:
        return type(self), (self.field_path, self.message)


def field_parts(path: str) -> tuple[str | int, ...]:
    """A VROOM field path as parts: ``"jobs[3].time_windows[0]"`` → ``("jobs", 3,
    "time_windows", 0)``; ``""`` → ``()``."""
    parts: list[str | int] = []
    for chunk in path.replace("]", "").split("."):
        if not chunk:
            continue
        name, *indices = chunk.split("[")
        if name:
            parts.append(name)
        parts.extend(int(i) if i.isdigit() else i for i in indices)
    return tuple(parts)


# -- the parsed problem ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VroomTask:
    """A job, or one step of a shipment, as given.

    ``location`` is the row of the matrices (see :attr:`VroomProblem.coordinates`);
    ``coordinates`` (``[lon, lat]``) and ``location_index`` are echoed in the output when given.
    Times in seconds, amounts in the caller's units. ``shipment`` is the index of the shipment
    for pickups and deliveries.
    """

    kind: TaskKind
    id: int
    path: str
    location: int
    coordinates: tuple[float, float] | None
    location_index: int | None
    description: str | None
    setup: int
    service: int
    delivery: tuple[int, ...]
    pickup: tuple[int, ...]
    skills: frozenset[int]
    priority: int
    time_windows: tuple[tuple[int, int], ...]
    shipment: int | None = None

    @property
    def stop_id(self) -> str:
        """The id of the matching :class:`routing.Stop`."""
        return f"{self.kind}:{self.id}"


@dataclass(frozen=True, slots=True)
class VroomBreak:
    """A driver break: ``service`` seconds starting in one of ``time_windows``."""

    id: int
    time_windows: tuple[tuple[int, int], ...]
    service: int
    description: str | None


@dataclass(frozen=True, slots=True)
class VroomVehicle:
    """A vehicle as given; ``start``/``end`` are matrix rows or ``None`` when absent."""

    id: int
    path: str
    profile: str
    description: str | None
    start: int | None
    end: int | None
    start_coordinates: tuple[float, float] | None
    end_coordinates: tuple[float, float] | None
    start_index: int | None
    end_index: int | None
    capacity: tuple[int, ...]
    skills: frozenset[int]
    time_window: tuple[int, int] | None
    breaks: tuple[VroomBreak, ...]
    fixed: int = 0
    per_hour: int = 3600
    per_km: int = 0
    per_task_hour: int = 0
    speed_factor: float = 1.0
    max_tasks: int | None = None
    max_travel_time: int | None = None
    max_distance: int | None = None


@dataclass(frozen=True, slots=True, eq=False)
class VroomMatrices:
    """One profile's matrices (integer numpy arrays, read-only): seconds, metres, cost."""

    durations: np.ndarray
    distances: np.ndarray | None = None
    costs: np.ndarray | None = None


@dataclass(frozen=True, slots=True, eq=False)
class VroomProblem:
    """A validated VROOM input.

    ``coordinates[i]`` is the ``[lon, lat]`` of matrix row ``i`` when known. ``matrices`` holds
    one entry per profile in use (given, or computed from coordinates). ``amount_size`` is the
    number of capacity dimensions. ``notes`` lists what was ignored or approximated.
    """

    tasks: tuple[VroomTask, ...]
    vehicles: tuple[VroomVehicle, ...]
    matrices: Mapping[str, VroomMatrices]
    coordinates: tuple[tuple[float, float] | None, ...]
    amount_size: int
    matrices_given: bool
    notes: tuple[str, ...] = ()
    _by_stop: Mapping[str, VroomTask] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_stop = {t.stop_id: t for t in self.tasks}
        object.__setattr__(self, "_by_stop", MappingProxyType(by_stop))

    def task(self, stop_id: str) -> VroomTask:
        """The task behind a :class:`routing.Stop` id."""
        return self._by_stop[stop_id]

    def vehicle(self, vehicle_id: str) -> VroomVehicle:
        """The vehicle behind a :class:`routing.Vehicle` id."""
        for v in self.vehicles:
            if str(v.id) == vehicle_id:
                return v
        raise KeyError(vehicle_id)


# -- parsing ---------------------------------------------------------------------------------

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
_MATRIX_KEYS = {"durations", "distances", "costs"}


class _Parser:
    """Walks the payload once; collects notes; raises at the first error with its path."""

    def __init__(self) -> None:
        self.notes: list[str] = []
        self.amount_size: int | None = None
        self.amount_origin = ""

    # -- scalar helpers --------------------------------------------------------------------

    def obj(self, value: object, path: str, what: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise VroomInputError(path, f"must be a JSON object describing {what}")
        return value

    def array(self, value: object, path: str, what: str) -> list[Any]:
        if not isinstance(value, list):
            raise VroomInputError(path, f"must be a JSON array of {what}")
        return value

    def unknown_keys(self, obj: Mapping[str, Any], known: set[str], path: str) -> None:
        for key in obj:
            if key not in known:
                where = f"{path}.{key}" if path else key
                self.notes.append(f"{where}: unknown key, ignored")

    def integer(
        self,
        value: object,
        path: str,
        *,
        minimum: int | None = 0,
        maximum: int | None = None,
    ) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise VroomInputError(path, f"{value!r} is not an integer — give a whole number")
        if isinstance(value, float):
            if not (math.isfinite(value) and value.is_integer()):
                raise VroomInputError(path, f"{value!r} is not an integer — give a whole number")
            value = int(value)
        if minimum is not None and value < minimum:
            raise VroomInputError(path, f"{value} is below {minimum} — give {minimum} or more")
        if maximum is not None and value > maximum:
            raise VroomInputError(path, f"{value} is above {maximum} — give at most {maximum}")
        return value

    def opt_int(self, obj: Mapping[str, Any], key: str, path: str, default: int, **kw: Any) -> int:
        if key not in obj or obj[key] is None:
            return default
        return self.integer(obj[key], f"{path}.{key}", **kw)

    def text(self, obj: Mapping[str, Any], key: str, path: str) -> str | None:
        if key not in obj or obj[key] is None:
            return None
        if not isinstance(obj[key], str):
            raise VroomInputError(f"{path}.{key}", "must be a string")
        return obj[key]

    def coordinates(self, value: object, path: str) -> tuple[float, float]:
        if not isinstance(value, list) or len(value) != 2:
            raise VroomInputError(path, "must be a [lon, lat] array of two numbers")
        lon, lat = value
        for name, x in (("longitude", lon), ("latitude", lat)):
            if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
                raise VroomInputError(path, f"{name} {x!r} is not a number — give [lon, lat]")
        if not -180.0 <= lon <= 180.0:
            raise VroomInputError(path, f"longitude {lon} is outside [-180, 180] — give [lon, lat]")
        if not -90.0 <= lat <= 90.0:
            hint = " (did you give [lat, lon]? VROOM wants [lon, lat])" if abs(lon) <= 90 else ""
            raise VroomInputError(path, f"latitude {lat} is outside [-90, 90]{hint}")
        return float(lon), float(lat)

    def amount(self, obj: Mapping[str, Any], key: str, path: str) -> tuple[int, ...] | None:
        if key not in obj or obj[key] is None:
            return None
        where = f"{path}.{key}"
        values = self.array(obj[key], where, "non-negative integers")
        out = tuple(self.integer(v, f"{where}[{k}]") for k, v in enumerate(values))
        if self.amount_size is None:
            self.amount_size, self.amount_origin = len(out), where
        elif len(out) != self.amount_size:
            raise VroomInputError(
                where,
                f"has {len(out)} entries but {self.amount_origin} has {self.amount_size} — give "
                "every amount and capacity the same number of dimensions",
            )
        return out

    def skills(self, obj: Mapping[str, Any], path: str) -> frozenset[int]:
        if obj.get("skills") is None:
            return frozenset()
        where = f"{path}.skills"
        values = self.array(obj["skills"], where, "integers")
        return frozenset(self.integer(v, f"{where}[{k}]") for k, v in enumerate(values))

    def window(self, value: object, path: str) -> tuple[int, int]:
        if not isinstance(value, list) or len(value) != 2:
            raise VroomInputError(path, "must be a [start, end] array of two integers (seconds)")
        start = self.integer(value[0], f"{path}[0]")
        end = self.integer(value[1], f"{path}[1]")
        if end < start:
            raise VroomInputError(
                path, f"ends at {end} before it starts at {start} — swap start and end"
            )
        return start, end

    def windows(self, obj: Mapping[str, Any], path: str) -> tuple[tuple[int, int], ...]:
        if obj.get("time_windows") is None:
            return ()
        where = f"{path}.time_windows"
        values = self.array(obj["time_windows"], where, "[start, end] pairs")
        if not values:
            raise VroomInputError(where, "is empty — omit it for no time constraint")
        return _merge(self.window(w, f"{where}[{k}]") for k, w in enumerate(values))

    def reject_per_type(self, obj: Mapping[str, Any], path: str) -> None:
        for key in ("setup_per_type", "service_per_type"):
            if obj.get(key):
                raise VroomInputError(
                    f"{path}.{key}",
                    "per-vehicle-type times are not supported by lastmile — give one "
                    "'service' (and 'setup') for every vehicle",
                )

    # -- locations ----------------------------------------------------------------------------

    def place(
        self,
        obj: Mapping[str, Any],
        path: str,
        loc_key: str,
        index_key: str,
        *,
        required: bool,
        with_matrices: bool,
    ) -> tuple[tuple[float, float] | None, int | None]:
        coords = None
        if obj.get(loc_key) is not None:
            coords = self.coordinates(obj[loc_key], f"{path}.{loc_key}")
        index = None
        if obj.get(index_key) is not None:
            index = self.integer(obj[index_key], f"{path}.{index_key}")
        if required and with_matrices and index is None:
            raise VroomInputError(
                f"{path}.{index_key}",
                "is required when matrices are given — give the row of this place in the matrices",
            )
        if required and not with_matrices and coords is None:
            raise VroomInputError(
                f"{path}.{loc_key}",
                "is required without matrices — give [lon, lat] coordinates, or give "
                "'matrices' and a location index",
            )
        return coords, index


def _merge(windows: Any) -> tuple[tuple[int, int], ...]:
    """Sort windows and merge those that overlap or touch (their union is what counts)."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(windows):
        if out and start <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return tuple(out)


def _matrix(p: _Parser, value: object, path: str) -> np.ndarray:
    rows = p.array(value, path, "rows (arrays of non-negative integers)")
    if not rows:
        raise VroomInputError(path, "is empty — give one row per location")
    n = len(rows)
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != n:
            raise VroomInputError(
                f"{path}[{i}]", f"must be an array of {n} integers (the matrix must be square)"
            )
    try:
        arr = np.array(rows, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise VroomInputError(path, "must contain numbers only") from exc
    bad = ~np.isfinite(arr) | (arr < 0) | (arr != np.floor(arr))
    if bad.any():
        i, j = (int(x) for x in np.argwhere(bad)[0])
        raise VroomInputError(f"{path}[{i}][{j}]", f"{rows[i][j]!r} is not a non-negative integer")
    out = arr.astype(np.int64)
    out.flags.writeable = False
    return out


def parse_vroom(payload: object) -> VroomProblem:
    """Validate a decoded VROOM input (a ``dict`` from JSON) into a :class:`VroomProblem`.

    Parameters
    ----------
    payload
        The decoded JSON document.

    Returns
    -------
    VroomProblem
        The problem, with matrices for every profile in use (computed from coordinates when
        none are given) and notes on what was ignored.

    Raises
    ------
    VroomInputError
        At the first invalid or unsupported field, with its path and what to fix.
    """
    p = _Parser()
    top = p.obj(payload, "", "a VROOM problem (jobs, shipments, vehicles, matrices)")
    p.unknown_keys(top, _TOP_KEYS, "")
    if "options" in top:
        p.notes.append("options: ignored (lastmile's search settings come from the API)")

    given = _given_matrices(p, top)
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
            add_task(step, step_path, role, {**amounts, **shared})  # type: ignore[arg-type]

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
        lons = [c[0] for c in coordinates]
        lats = [c[1] for c in coordinates]
        metres = haversine_matrix(lats, lons) * DETOUR_FACTOR if coordinates else np.zeros((0, 0))
        matrices = {}
        for name in profiles:
            speed = PROFILE_SPEEDS_KMH.get(name)
            if speed is None:
                speed = PROFILE_SPEEDS_KMH[DEFAULT_PROFILE]
                p.notes.append(
                    f"profile {name!r}: unknown, travels at the {DEFAULT_PROFILE} speed "
                    f"{speed:g} km/h"
                )
            durations = np.ceil(metres / (speed / 3.6) - 1e-6).clip(min=0).astype(np.int64)
            distances = np.rint(metres).astype(np.int64)
            durations.flags.writeable = False
            distances.flags.writeable = False
            matrices[name] = VroomMatrices(durations=durations, distances=distances)
        p.notes.append(
            "no matrices given: straight-line travel computed from coordinates (great-circle "
            f"distance x {DETOUR_FACTOR:g}, speeds in km/h: "
            + ", ".join(
                f"{name} {PROFILE_SPEEDS_KMH.get(name, PROFILE_SPEEDS_KMH[DEFAULT_PROFILE]):g}"
                for name in profiles
            )
            + ")"
        )

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


def _given_matrices(p: _Parser, top: Mapping[str, Any]) -> dict[str, VroomMatrices] | None:
    if top.get("matrix") is not None and top.get("matrices") is not None:
        raise VroomInputError("matrix", "give either 'matrices' or the legacy 'matrix', not both")
    if top.get("matrix") is not None:
        durations = _matrix(p, top["matrix"], "matrix")
        return {DEFAULT_PROFILE: VroomMatrices(durations=durations)}
    if top.get("matrices") is None:
        return None
    raw = p.obj(top["matrices"], "matrices", "matrices per profile")
    out: dict[str, VroomMatrices] = {}
    for name, entry in raw.items():
        path = f"matrices.{name}"
        m = p.obj(entry, path, "the durations, distances and costs of one profile")
        p.unknown_keys(m, _MATRIX_KEYS, path)
        if m.get("durations") is None:
            raise VroomInputError(
                f"{path}.durations", "is missing — give the travel times (seconds) of the profile"
            )
        parsed = {
            key: _matrix(p, m[key], f"{path}.{key}")
            for key in ("durations", "distances", "costs")
            if m.get(key) is not None
        }
        n = parsed["durations"].shape[0]
        for key, arr in parsed.items():
            if arr.shape[0] != n:
                raise VroomInputError(
                    f"{path}.{key}", f"has {arr.shape[0]} rows but durations has {n}"
                )
        out[name] = VroomMatrices(**parsed)
    if not out:
        raise VroomInputError("matrices", "is empty — give at least one profile's durations")
    sizes = {m.durations.shape[0] for m in out.values()}
    if len(sizes) > 1:
        raise VroomInputError(
            "matrices",
            f"profiles have different sizes {sorted(sizes)} — give every profile "
            "one row per location",
        )
    return out


def _vehicle(
    p: _Parser,
    v: Mapping[str, Any],
    path: str,
    seen: dict[int, str],
    with_matrices: bool,
) -> dict[str, Any]:
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
    return tuple(values) + (0,) * (n - len(values))


# -- to the routing engine -------------------------------------------------------------------

_SKILL_CATALOG = "vroom:skill-catalog"
"""A vehicle type with no vehicle that declares every task skill, so that a task whose skills no
vehicle has is reported unserved (``no_vehicle_with_skills``) instead of refused."""

_TASKS_DIMENSION = "tasks"
"""Extra capacity dimension counting tasks, for ``max_tasks`` (one unit per task)."""


@dataclass(frozen=True, slots=True, eq=False)
class _VehiclePlan:
    """How one VROOM vehicle becomes a lastmile vehicle type and vehicle."""

    vehicle: VroomVehicle
    matrix_key: tuple[object, ...]
    slot: np.ndarray
    durations: np.ndarray
    cost_per_km: float
    cost_per_hour: float
    range_m: int | None
    max_shift: int | None
    shift: tuple[int, int]
    breaks: tuple[tuple[VroomBreak, int, int], ...]
    usable: bool


def _durations(vp: VroomProblem, v: VroomVehicle) -> np.ndarray:
    """The vehicle's travel times in seconds, its ``speed_factor`` applied."""
    d = vp.matrices[v.profile].durations
    if v.speed_factor == 1.0:
        return d
    return np.rint(d / v.speed_factor).astype(np.int64)


def _horizon(vp: VroomProblem) -> int:
    """A shift end late enough for any schedule of a vehicle without ``time_window``."""
    ends = [86_400]
    ends += [w[1] for t in vp.tasks for w in t.time_windows]
    ends += [v.time_window[1] for v in vp.vehicles if v.time_window]
    ends += [w[1] for v in vp.vehicles for b in v.breaks for w in b.time_windows]
    longest = max(int(_durations(vp, v).max(initial=0)) for v in vp.vehicles)
    work = sum(t.setup + t.service for t in vp.tasks)
    pauses = max((sum(b.service for b in v.breaks) for v in vp.vehicles), default=0)
    return max(ends) + work + pauses + (len(vp.tasks) + 2) * longest


def _plans(vp: VroomProblem) -> tuple[list[_VehiclePlan], list[str]]:
    """Decide, per vehicle, the engine's matrix, costs, limits, shift and breaks."""
    notes: list[str] = []
    horizon = _horizon(vp)
    plans = []
    for v in vp.vehicles:
        m = vp.matrices[v.profile]
        dur = _durations(vp, v)
        range_m: int | None = None
        max_shift: int | None = None
        cost_per_hour = 0.0
        if v.max_distance is not None:
            assert m.distances is not None  # checked by parse_vroom
            slot, cost_per_km = m.distances, float(v.per_km)
            cost_per_hour, range_m, max_shift = float(v.per_hour), v.max_distance, v.max_travel_time
            key: tuple[object, ...] = (v.profile, v.speed_factor, "distances")
            notes.append(
                f"{v.path}.max_distance: the objective of this vehicle becomes per_km on distance "
                "plus per_hour on the whole route duration (waiting and service included)"
            )
        elif m.costs is not None:
            slot, cost_per_km, max_shift = m.costs, 1000.0, v.max_travel_time
            key = (v.profile, v.speed_factor, "costs")
        elif v.per_km == 0:
            slot, cost_per_km, range_m = dur, v.per_hour / 3.6, v.max_travel_time
            key = (v.profile, v.speed_factor, "durations")
        else:
            assert m.distances is not None  # checked by parse_vroom
            mixed = v.per_hour * dur / 3600.0 + v.per_km * m.distances / 1000.0
            slot = np.rint(mixed * _COST_SLOT_SCALE).astype(np.int64)
            cost_per_km, max_shift = 1000.0 / _COST_SLOT_SCALE, v.max_travel_time
            key = (v.profile, v.speed_factor, "mixed", v.per_hour, v.per_km)
        if max_shift is not None:
            notes.append(
                f"{v.path}.max_travel_time: bounds the whole route duration (service and "
                "waiting included) for this vehicle, stricter than VROOM"
            )
        shift = v.time_window or (0, horizon)
        usable = range_m != 0 and max_shift != 0
        breaks: list[tuple[VroomBreak, int, int]] = []
        for k, b in enumerate(v.breaks):
            if b.service == 0:
                notes.append(f"{v.path}.breaks[{k}]: service 0 constrains nothing, left out")
                continue
            fits = [
                (lo, hi)
                for w0, w1 in b.time_windows
                if (lo := max(w0, shift[0])) <= (hi := min(w1, shift[1] - b.service))
            ]
            if not fits:
                notes.append(
                    f"{v.path}.breaks[{k}]: no time window fits inside the vehicle's time_window; "
                    f"vehicle {v.id} gets no route"
                )
                usable = False
                continue
            if len(b.time_windows) > 1:
                notes.append(
                    f"{v.path}.breaks[{k}]: only the first window that fits, "
                    f"[{fits[0][0]}, {fits[0][1]}], is used"
                )
            breaks.append((b, *fits[0]))
        start = v.start
        drive = 0 if start is None or v.end is None else int(dur[start, v.end])
        reach = 0 if start is None or v.end is None else int(slot[start, v.end])
        need = drive + sum(b.service for b, _, _ in breaks)
        if usable and (
            need > shift[1] - shift[0]
            or (max_shift is not None and need > max_shift)
            or (range_m is not None and reach > range_m)
        ):
            usable = False
        if usable and max_shift is not None and breaks:
            earliest_end = max(lo + b.service for b, lo, _ in breaks)
            latest_start = min(hi for _, _, hi in breaks)
            usable = earliest_end - latest_start <= max_shift
        if not usable and not any(f"vehicle {v.id} gets no route" in n for n in notes):
            notes.append(
                f"{v.path}: cannot drive from its start to its end and take its breaks within "
                f"its time_window, max_travel_time or max_distance; vehicle {v.id} gets no route"
            )
        plans.append(
            _VehiclePlan(
                vehicle=v,
                matrix_key=key,
                slot=slot,
                durations=dur,
                cost_per_km=cost_per_km,
                cost_per_hour=cost_per_hour,
                range_m=range_m,
                max_shift=max_shift,
                shift=shift,
                breaks=tuple(breaks),
                usable=usable,
            )
        )
    return plans, notes


def _padded(a: np.ndarray, extra: int) -> np.ndarray:
    """The matrix with ``extra`` rows and columns of zeros (the free-start place)."""
    return np.pad(np.asarray(a, dtype=np.int64), ((0, extra), (0, extra)))


def to_problem(vp: VroomProblem) -> Problem:
    """Translate a parsed VROOM problem into the routing engine's :class:`routing.Problem`.

    Stop ids are ``"job:<id>"``, ``"pickup:<id>"`` and ``"delivery:<id>"``; vehicle ids are the
    VROOM ids as strings. A vehicle without start starts at an extra place, last in
    :attr:`routing.Problem.locations`, from which every place is free to reach. See the module
    docstring for the objective, priorities and breaks.

    Parameters
    ----------
    vp
        The problem from :func:`parse_vroom`.

    Returns
    -------
    routing.Problem
        Ready for :func:`routing.solve`; times in seconds, as in the VROOM input.
    """
    plans, _ = _plans(vp)
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


def _drop_penalty(vp: VroomProblem, plans: Sequence[_VehiclePlan], n_vehicles: int) -> float:
    """A drop penalty larger than the cost of any plan, so only what cannot fit is dropped."""
    arc = max((float(p.slot.max(initial=0)) * p.cost_per_km / 1000.0 for p in plans), default=0.0)
    span = sum(p.cost_per_hour * (p.shift[1] - p.shift[0]) / 3600.0 for p in plans)
    fixed = sum(p.vehicle.fixed for p in plans)
    bound = fixed + span + (len(vp.tasks) + 2 * n_vehicles) * arc
    return 2.0 * bound + 1.0


# -- back to VROOM's output ------------------------------------------------------------------


def _where(coords: tuple[float, float] | None, index: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if coords is not None:
        out["location"] = [coords[0], coords[1]]
    if index is not None:
        out["location_index"] = index
    return out


def _add(a: Sequence[int], b: Sequence[int]) -> list[int]:
    return [x + y for x, y in zip(a, b, strict=True)]


def _route_output(vp: VroomProblem, plan: _VehiclePlan, route: Route) -> dict[str, Any]:
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
        extra = {"id": task.id, "setup": task.setup, "service": task.service}
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
    plans, plan_notes = _plans(vp)
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


def solve_vroom(payload: object, limits: Limits | None = None, *, seed: int = 0) -> dict[str, Any]:
    """Parse, solve and answer a VROOM problem in one call.

    Parameters
    ----------
    payload
        The decoded VROOM JSON input.
    limits
        Search limits for :func:`routing.solve` (defaults to ``Limits()``).
    seed
        Random seed of the search.

    Returns
    -------
    dict
        VROOM's output (see :func:`to_vroom_output`).

    Raises
    ------
    VroomInputError
        For an invalid or unsupported input (render it with :func:`error_output`).
    """
    t0 = time.perf_counter()
    vp = parse_vroom(payload)
    problem = to_problem(vp)
    loading_ms = round((time.perf_counter() - t0) * 1000)
    solution = solve(problem, limits, seed=seed)
    return to_vroom_output(vp, solution, loading_ms=loading_ms)
