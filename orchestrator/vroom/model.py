"""The parsed VROOM problem: frozen tasks, vehicles, breaks and matrices, as given.

What :func:`~orchestrator.vroom.parsing.parse_vroom` returns and the rest of the package reads.
Times in seconds, distances in metres, amounts in the caller's units.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import numpy as np

__all__ = [
    "TaskKind",
    "VroomBreak",
    "VroomMatrices",
    "VroomProblem",
    "VroomTask",
    "VroomVehicle",
]

TaskKind = Literal["job", "pickup", "delivery"]
"""What a :class:`VroomTask` is: a job, or the pickup or delivery step of a shipment."""


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
