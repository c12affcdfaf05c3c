"""The result of :func:`routing.solve`: routes with ETAs, and every unserved stop with its reason.

Units as in :mod:`routing.model`: seconds since the epoch, metres, grams CO2, currency.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "Route",
    "ScheduledBreak",
    "Solution",
    "SolveStatus",
    "Unserved",
    "UnservedReason",
    "Visit",
]


class UnservedReason(StrEnum):
    """Why a stop is not on any route."""

    NO_VEHICLE_WITH_SKILLS = "no_vehicle_with_skills"
    """No vehicle has every skill the stop requires."""
    DEMAND_EXCEEDS_CAPACITY = "demand_exceeds_capacity"
    """The demand exceeds the capacity of every vehicle that has the skills."""
    BEYOND_RANGE = "beyond_range"
    """The round trip from every suitable vehicle's start exceeds its range."""
    WINDOW_UNREACHABLE = "window_unreachable"
    """No suitable vehicle can reach it within one of its windows and still finish its shift."""
    PARTNER_UNSERVED = "partner_unserved"
    """The other half of its pickup-and-delivery pair cannot be served."""
    DROPPED_BY_OPTIMISER = "dropped_by_optimiser"
    """Servable alone, but the optimiser found no room for it at an acceptable cost."""
    SEARCH_TIME_EXHAUSTED = "search_time_exhausted"
    """Mandatory and servable by a vehicle the plan left idle: the search ran out of time."""


class SolveStatus(StrEnum):
    """How the solve ended."""

    OPTIMAL = "optimal"
    """Proven optimal (tiny problems only)."""
    FEASIBLE = "feasible"
    """A solution was found within the limits."""
    TIME_EXHAUSTED = "time_exhausted"
    """A solution was found, but the time ran out before every servable mandatory stop was
    placed (those stops are unserved with reason ``search_time_exhausted``): allow more time."""
    NO_STOPS = "no_stops"
    """Nothing could be routed (no stops, or none servable)."""


@dataclass(frozen=True, slots=True)
class Visit:
    """One stop on a route, with its ETA.

    ``arrival`` is when the vehicle gets there, ``start`` when service starts (inside a
    window; ``wait = start - arrival`` minus any break taken there), ``departure = start +
    service``. ``load`` is what is on board after the stop, per dimension.
    ``distance`` is the distance driven from the previous visit (or the start), metres.
    """

    stop_id: str
    location: int
    arrival: int
    start: int
    departure: int
    wait: int
    load: tuple[int, ...]
    distance: int


@dataclass(frozen=True, slots=True)
class ScheduledBreak:
    """A break as planned: ``start`` and ``duration`` in seconds."""

    start: int
    duration: int


@dataclass(frozen=True, slots=True)
class Reload:
    """A return to a depot or hub to load the next trip.

    ``location`` indexes :attr:`~routing.model.Problem.locations`; ``arrival``, ``start`` and
    ``departure`` are seconds; ``before`` is the index in :attr:`Route.visits` of the first
    stop of the trip it loads; ``load`` is what the vehicle carries out (per dimension).
    """

    location: int
    arrival: int
    start: int
    departure: int
    before: int
    load: tuple[int, ...]
    distance: int
    """Metres driven from the previous stop to here."""


@dataclass(frozen=True, slots=True)
class Route:
    """One vehicle's day.

    ``start_time`` is when it leaves its start, ``end_time`` when it reaches its end (or
    leaves its last stop on an open route); ``duration = end_time - start_time`` seconds.
    ``load_at_start`` is what is loaded at the depot (for the first trip when the vehicle
    reloads: see ``reloads``). ``cost`` includes the fixed cost.
    """

    vehicle_id: str
    vehicle_type: str
    visits: tuple[Visit, ...]
    start_time: int
    end_time: int
    load_at_start: tuple[int, ...]
    distance: int
    duration: int
    cost: float
    co2_g: float
    breaks: tuple[ScheduledBreak, ...] = ()
    reloads: tuple[Reload, ...] = ()

    @property
    def trips(self) -> tuple[tuple[Visit, ...], ...]:
        """The visits cut into trips at the reloads (one trip when there are none)."""
        cuts = [0, *(r.before for r in self.reloads), len(self.visits)]
        return tuple(self.visits[a:b] for a, b in itertools.pairwise(cuts))

    @property
    def stop_ids(self) -> tuple[str, ...]:
        """The stop ids in visiting order."""
        return tuple(v.stop_id for v in self.visits)


@dataclass(frozen=True, slots=True)
class Unserved:
    """A stop that is on no route, with a typed reason and a sentence for people."""

    stop_id: str
    reason: UnservedReason
    detail: str


@dataclass(frozen=True, slots=True)
class Solution:
    """Routes (only vehicles that are used), unserved stops, totals and solver statistics."""

    routes: tuple[Route, ...]
    unserved: tuple[Unserved, ...]
    status: SolveStatus
    objective: int
    wall_time: float
    stats: dict[str, object] = field(default_factory=dict)

    @property
    def distance(self) -> int:
        """Total metres driven."""
        return sum(r.distance for r in self.routes)

    @property
    def duration(self) -> int:
        """Total seconds on duty, summed over routes."""
        return sum(r.duration for r in self.routes)

    @property
    def cost(self) -> float:
        """Total cost, fixed costs included (currency)."""
        return sum(r.cost for r in self.routes)

    @property
    def co2_g(self) -> float:
        """Total grams CO2."""
        return sum(r.co2_g for r in self.routes)

    def route_of(self, stop_id: str) -> Route | None:
        """The route serving the stop, or ``None``."""
        for r in self.routes:
            if stop_id in r.stop_ids:
                return r
        return None

    def unserved_reason(self, stop_id: str) -> UnservedReason | None:
        """Why the stop is unserved, or ``None`` when it is served."""
        for u in self.unserved:
            if u.stop_id == stop_id:
                return u.reason
        return None
