"""VROOM's JSON format in and out: solve a standalone VROOM problem with lastmile's engine.

`VROOM <https://github.com/VROOM-Project/vroom>`_'s input and output formats (``docs/API.md``
of its repository) are the de-facto open format of VROOM, openrouteservice and Fleetbase users.
This package is a pure translation, with no web framework inside:

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

Where things live
-----------------
* :mod:`~orchestrator.vroom.errors` — :class:`VroomInputError` and :func:`field_parts`;
* :mod:`~orchestrator.vroom.model` — the parsed, frozen problem (:class:`VroomProblem`,
  :class:`VroomTask`, :class:`VroomVehicle`, :class:`VroomBreak`, :class:`VroomMatrices`);
* :mod:`~orchestrator.vroom.parsing` — :func:`parse_vroom`: the payload read and validated;
  its field readers are in the private :mod:`~orchestrator.vroom._reader`;
* :mod:`~orchestrator.vroom.matrices` — the ``matrices`` / ``matrix`` read, or straight-line
  matrices computed from coordinates (:data:`DETOUR_FACTOR`, :data:`PROFILE_SPEEDS_KMH`,
  :data:`DEFAULT_PROFILE`);
* :mod:`~orchestrator.vroom.problem` — :func:`to_problem`, the :class:`routing.Problem`; the
  per-vehicle choices of matrix, costs, limits, shift and breaks it shares with the output are
  in the private :mod:`~orchestrator.vroom._vehicle_plan`;
* :mod:`~orchestrator.vroom.output` — :func:`to_vroom_output` and :func:`error_output`;
* :mod:`~orchestrator.vroom.solve` — :func:`solve_vroom`, the three steps in one call.
"""

from orchestrator.vroom.errors import VroomInputError, field_parts
from orchestrator.vroom.matrices import DEFAULT_PROFILE, DETOUR_FACTOR, PROFILE_SPEEDS_KMH
from orchestrator.vroom.model import (
    VroomBreak,
    VroomMatrices,
    VroomProblem,
    VroomTask,
    VroomVehicle,
)
from orchestrator.vroom.output import error_output, to_vroom_output
from orchestrator.vroom.parsing import parse_vroom
from orchestrator.vroom.problem import to_problem
from orchestrator.vroom.solve import solve_vroom

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
