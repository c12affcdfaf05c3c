"""The routing problem: immutable inputs of :func:`routing.solve`.

Units, everywhere in this package:

* time: integer **seconds** since the planning epoch (usually midnight of the service day);
* distance: integer **metres**;
* mass: **grams** (CO2 in grams, weights in grams when a dimension is a weight);
* money: float in the currency of the caller (EUR in the demo);
* coordinates: WGS84 degrees (``lat``, ``lon``).

All classes are frozen; build variants with :func:`dataclasses.replace`. Every class validates
itself on construction and :class:`Problem` validates the whole, so a malformed problem fails
before any solve with an :class:`~routing.errors.InvalidProblemError` that names the culprit.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

import numpy as np

from routing.errors import InvalidProblemError

__all__ = [
    "Break",
    "Location",
    "PickupDelivery",
    "Problem",
    "Stop",
    "StopKind",
    "TimeWindow",
    "TravelMatrix",
    "Vehicle",
    "VehicleKind",
    "VehicleType",
    "fmt_time",
]


def fmt_time(seconds: int) -> str:
    """Format seconds since the epoch as ``HH:MM`` (``+1d`` suffix past midnight)."""
    days, rest = divmod(int(seconds), 86_400)
    hours, rest = divmod(rest, 3_600)
    text = f"{hours:02d}:{rest // 60:02d}"
    return text if days == 0 else f"{text}+{days}d"


@dataclass(frozen=True, slots=True)
class Location:
    """A point on the map.

    Parameters
    ----------
    id
        Caller's name for the point (an address id, a depot code).
    lat, lon
        WGS84 latitude and longitude in degrees.
    """

    id: str
    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lat) and -90.0 <= self.lat <= 90.0):
            raise InvalidProblemError(
                f"location {self.id!r}: latitude {self.lat} is not a number in [-90, 90] — "
                "give WGS84 degrees (did you swap lat and lon?)"
            )
        if not (math.isfinite(self.lon) and -180.0 <= self.lon <= 180.0):
            raise InvalidProblemError(
                f"location {self.id!r}: longitude {self.lon} is not a number in [-180, 180] — "
                "give WGS84 degrees"
            )


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """A closed interval ``[start, end]`` in seconds since the epoch.

    For a stop, service must *start* inside the window (arriving earlier means waiting).
    """

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidProblemError(
                f"time window ends at {fmt_time(self.end)} ({self.end} s) before it starts at "
                f"{fmt_time(self.start)} ({self.start} s) — swap start and end"
            )

    def contains(self, t: int) -> bool:
        """Whether ``t`` (seconds) lies in the window, both ends included."""
        return self.start <= t <= self.end


class StopKind(StrEnum):
    """What happens at a stop, for the load on board.

    ``DELIVERY``: goods loaded at the vehicle's start depot and dropped here.
    ``PICKUP``: goods picked up here and carried to the vehicle's end depot (a return),
    or — when the stop is the pickup of a :class:`PickupDelivery` pair — to its delivery stop.
    """

    DELIVERY = "delivery"
    PICKUP = "pickup"


@dataclass(frozen=True, slots=True)
class Stop:
    """A place to visit.

    Parameters
    ----------
    id
        Unique stop id (an order id, say).
    location
        Index into :attr:`Problem.locations`.
    service
        Service duration in seconds.
    windows
        One or several time windows (seconds) in which service may start; empty means any
        time within the vehicle's shift. Several windows are honoured as a union: the solver
        picks whichever fits the route best.
    demand
        Amount per capacity dimension, aligned with :attr:`Problem.dimensions` (e.g. grams,
        millilitres, parcels). Missing trailing entries count as zero.
    skills
        Skills a vehicle must all have to serve the stop (``"fragile"``, ``"cold"``, ...).
    kind
        Delivery (from the depot) or pickup; see :class:`StopKind`.
    penalty
        ``None``: mandatory. A number: optional, and dropping it costs that much (currency).
    priority
        0 or more; among optional stops, the drop penalty is multiplied by ``1 + priority``
        so higher-priority stops are dropped last.
    """

    id: str
    location: int
    service: int = 0
    windows: tuple[TimeWindow, ...] = ()
    demand: tuple[int, ...] = ()
    skills: frozenset[str] = frozenset()
    kind: StopKind = StopKind.DELIVERY
    penalty: float | None = None
    priority: int = 0

    def __post_init__(self) -> None:
        if not self.id:
            raise InvalidProblemError("a stop has an empty id — give every stop a unique id")
        if self.service < 0:
            raise InvalidProblemError(
                f"stop {self.id!r}: service time {self.service} s is negative — give 0 or more"
            )
        for amount in self.demand:
            if amount < 0:
                raise InvalidProblemError(
                    f"stop {self.id!r}: demand {self.demand} has a negative amount — demands "
                    "are 0 or more; model a collection as a stop of kind 'pickup'"
                )
        if self.penalty is not None and not (math.isfinite(self.penalty) and self.penalty >= 0):
            raise InvalidProblemError(
                f"stop {self.id!r}: drop penalty {self.penalty} must be a finite number >= 0, "
                "or None for a mandatory stop"
            )
        if self.priority < 0:
            raise InvalidProblemError(
                f"stop {self.id!r}: priority {self.priority} is negative — use 0 or more"
            )
        ordered = sorted(self.windows, key=lambda w: w.start)
        for a, b in itertools.pairwise(ordered):
            if b.start <= a.end:
                raise InvalidProblemError(
                    f"stop {self.id!r}: time windows {fmt_time(a.start)}-{fmt_time(a.end)} and "
                    f"{fmt_time(b.start)}-{fmt_time(b.end)} overlap — merge them into one"
                )
        object.__setattr__(self, "windows", tuple(ordered))

    @property
    def optional(self) -> bool:
        """Whether the stop may be dropped at a price."""
        return self.penalty is not None


@dataclass(frozen=True, slots=True)
class PickupDelivery:
    """A shipment: ``pickup`` must be served before ``delivery``, by the same vehicle.

    Both are stop ids; the pickup's demand rides on board until the delivery.
    """

    pickup: str
    delivery: str


@dataclass(frozen=True, slots=True)
class Break:
    """A driver's break of ``duration`` seconds that must start inside ``window``."""

    window: TimeWindow
    duration: int

    def __post_init__(self) -> None:
        if self.duration <= 0:
            raise InvalidProblemError(f"break duration {self.duration} s must be positive")


class VehicleKind(StrEnum):
    """The families of vehicles lastmile plans for."""

    VAN = "van"
    E_VAN = "e-van"
    CARGO_BIKE = "cargo-bike"
    ROBOT = "robot"
    COURIER = "courier"


@dataclass(frozen=True, slots=True)
class VehicleType:
    """A kind of vehicle with its capacities, costs and emissions.

    Parameters
    ----------
    name
        Unique name (``"van"``, ``"robot-s"``).
    kind
        Family, see :class:`VehicleKind`.
    capacity
        Capacity per dimension, aligned with :attr:`Problem.dimensions`.
    profile
        Key of the travel matrix in :attr:`Problem.matrices` this type moves on
        (``"car"``, ``"bike"``, ``"walk"``).
    range_m
        Longest distance per route in metres (battery range); ``None`` for unlimited.
    max_shift
        Longest route duration in seconds, from leaving the start to reaching the end.
    fixed_cost
        Cost of using one vehicle of this type for the day (currency).
    cost_per_km, cost_per_hour
        Running costs (currency per kilometre driven, per hour on duty).
    co2_g_per_km
        Tailpipe-plus-grid emissions in grams CO2 per kilometre.
    skills
        Skills the vehicle (and its driver) has.
    """

    name: str
    kind: VehicleKind = VehicleKind.VAN
    capacity: tuple[int, ...] = ()
    profile: str = "car"
    range_m: int | None = None
    max_shift: int | None = None
    fixed_cost: float = 0.0
    cost_per_km: float = 0.0
    cost_per_hour: float = 0.0
    co2_g_per_km: float = 0.0
    skills: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if any(c < 0 for c in self.capacity):
            raise InvalidProblemError(
                f"vehicle type {self.name!r}: capacity {self.capacity} has a negative entry"
            )
        for label, value in (
            ("fixed_cost", self.fixed_cost),
            ("cost_per_km", self.cost_per_km),
            ("cost_per_hour", self.cost_per_hour),
            ("co2_g_per_km", self.co2_g_per_km),
        ):
            if not (math.isfinite(value) and value >= 0):
                raise InvalidProblemError(
                    f"vehicle type {self.name!r}: {label} {value} must be a finite number >= 0"
                )
        if self.range_m is not None and self.range_m <= 0:
            raise InvalidProblemError(
                f"vehicle type {self.name!r}: range_m {self.range_m} must be positive or None"
            )
        if self.max_shift is not None and self.max_shift <= 0:
            raise InvalidProblemError(
                f"vehicle type {self.name!r}: max_shift {self.max_shift} s must be positive or None"
            )


@dataclass(frozen=True, slots=True)
class Vehicle:
    """One vehicle available for the day.

    Parameters
    ----------
    id
        Unique vehicle id.
    type
        Name of its :class:`VehicleType`.
    start
        Index into :attr:`Problem.locations` where the route starts (a depot or hub).
    end
        Where it must finish; ``None`` for an open route that ends at its last stop.
    shift
        Earliest departure and latest return, seconds.
    breaks
        Breaks the driver must take during the shift.
    locked
        Stop ids already dispatched, in order: the route must begin with exactly these
        (used when re-planning a day in progress).
    reload_at
        Indices into :attr:`Problem.locations` (its depot, a hub) where it may return during
        the shift to load again and go out on another trip: several trips a day, each within
        the capacity. Empty: one trip. Deliveries only (not with pickups).
    max_reloads
        Reloads at most per day (each a visit to one of ``reload_at``), 0..10.
    reload_time
        Seconds each reload takes at the hub (parking, loading), >= 0.
    """

    id: str
    type: str
    start: int
    end: int | None
    shift: TimeWindow = TimeWindow(0, 86_400)
    breaks: tuple[Break, ...] = ()
    locked: tuple[str, ...] = ()
    reload_at: tuple[int, ...] = ()
    max_reloads: int = 3
    reload_time: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "reload_at", tuple(self.reload_at))
        if not 0 <= self.max_reloads <= MAX_RELOADS:
            raise InvalidProblemError(
                f"vehicle {self.id!r}: max_reloads {self.max_reloads} must be 0..{MAX_RELOADS}"
            )
        if self.reload_time < 0:
            raise InvalidProblemError(
                f"vehicle {self.id!r}: reload_time {self.reload_time} s must be >= 0"
            )
        if len(set(self.reload_at)) != len(self.reload_at):
            raise InvalidProblemError(
                f"vehicle {self.id!r}: reload_at {self.reload_at} names a place twice"
            )

    @property
    def reloads(self) -> bool:
        """Whether the vehicle may make several trips (reload somewhere at least once)."""
        return bool(self.reload_at) and self.max_reloads > 0


MAX_RELOADS = 10
"""Most reloads a vehicle may make in a day (the OR-Tools model holds a node per possible
reload and hub)."""


def _readonly(a: np.ndarray, name: str) -> np.ndarray:
    arr = np.array(a, dtype=np.int64, copy=True)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise InvalidProblemError(f"{name} must be a square matrix, got shape {arr.shape}")
    if (arr < 0).any():
        raise InvalidProblemError(f"{name} has negative entries — travel is 0 or more")
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True, slots=True, eq=False)
class TravelMatrix:
    """Travel between every pair of locations for one profile.

    ``distances[i, j]`` in metres and ``durations[i, j]`` in seconds, integers, indexed like
    :attr:`Problem.locations`. The arrays are copied and made read-only.
    """

    distances: np.ndarray
    durations: np.ndarray

    def __post_init__(self) -> None:
        d = _readonly(self.distances, "distances")
        t = _readonly(self.durations, "durations")
        if d.shape != t.shape:
            raise InvalidProblemError(
                f"distances {d.shape} and durations {t.shape} must have the same shape"
            )
        object.__setattr__(self, "distances", d)
        object.__setattr__(self, "durations", t)

    @property
    def size(self) -> int:
        """Number of locations covered."""
        return int(self.distances.shape[0])


@dataclass(frozen=True, slots=True, eq=False)
class Problem:
    """A whole routing problem: where, what, with which fleet.

    Parameters
    ----------
    locations
        Every point referenced by stops and vehicles.
    matrices
        Travel matrix per profile name; every vehicle type's ``profile`` must be a key.
    stops
        What to serve.
    vehicle_types, vehicles
        The fleet.
    dimensions
        Names of the capacity dimensions, each with its unit (e.g. ``("weight_g",
        "volume_ml", "parcels")``); demands and capacities are aligned with it.
    shipments
        Pickup-and-delivery pairs among the stops.
    """

    locations: tuple[Location, ...]
    matrices: Mapping[str, TravelMatrix]
    stops: tuple[Stop, ...]
    vehicle_types: tuple[VehicleType, ...]
    vehicles: tuple[Vehicle, ...]
    dimensions: tuple[str, ...] = ("parcels",)
    shipments: tuple[PickupDelivery, ...] = ()
    _stop_index: Mapping[str, int] = field(init=False, repr=False)
    _type_index: Mapping[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "locations", tuple(self.locations))
        object.__setattr__(self, "stops", tuple(self.stops))
        object.__setattr__(self, "vehicle_types", tuple(self.vehicle_types))
        object.__setattr__(self, "vehicles", tuple(self.vehicles))
        object.__setattr__(self, "shipments", tuple(self.shipments))
        object.__setattr__(self, "matrices", MappingProxyType(dict(self.matrices)))
        self._validate()

    # -- look-ups -----------------------------------------------------------------------------

    def stop(self, stop_id: str) -> Stop:
        """The stop with this id."""
        return self.stops[self._stop_index[stop_id]]

    def stop_index(self, stop_id: str) -> int:
        """Position of the stop with this id in :attr:`stops`."""
        return self._stop_index[stop_id]

    def vehicle_type(self, name: str) -> VehicleType:
        """The vehicle type with this name."""
        return self.vehicle_types[self._type_index[name]]

    def matrix_for(self, vehicle: Vehicle) -> TravelMatrix:
        """The travel matrix the vehicle moves on."""
        return self.matrices[self.vehicle_type(vehicle.type).profile]

    def demand(self, stop: Stop) -> tuple[int, ...]:
        """The stop's demand padded to all dimensions."""
        return _pad(stop.demand, len(self.dimensions))

    def capacity(self, vtype: VehicleType) -> tuple[int, ...]:
        """The type's capacity padded to all dimensions (missing entries mean zero)."""
        return _pad(vtype.capacity, len(self.dimensions))

    @property
    def horizon(self) -> int:
        """The latest moment anything can happen, in seconds (latest shift end)."""
        return max((v.shift.end for v in self.vehicles), default=86_400)

    # -- validation ---------------------------------------------------------------------------

    def _validate(self) -> None:
        n_loc = len(self.locations)
        n_dim = len(self.dimensions)
        if not self.dimensions:
            raise InvalidProblemError("dimensions is empty — name at least one, e.g. 'parcels'")
        for name, m in self.matrices.items():
            if m.size != n_loc:
                raise InvalidProblemError(
                    f"travel matrix {name!r} covers {m.size} locations but the problem has "
                    f"{n_loc} — build the matrix over Problem.locations"
                )
        types: dict[str, int] = {}
        for i, vt in enumerate(self.vehicle_types):
            if vt.name in types:
                raise InvalidProblemError(f"vehicle type {vt.name!r} is defined twice")
            types[vt.name] = i
            if len(vt.capacity) > n_dim:
                raise InvalidProblemError(
                    f"vehicle type {vt.name!r}: capacity {vt.capacity} has more entries than "
                    f"the dimensions {self.dimensions}"
                )
            if vt.profile not in self.matrices:
                raise InvalidProblemError(
                    f"vehicle type {vt.name!r}: no travel matrix for profile {vt.profile!r} — "
                    f"add one to Problem.matrices (have: {sorted(self.matrices)})"
                )
        object.__setattr__(self, "_type_index", MappingProxyType(types))

        known_skills: set[str] = set().union(*(vt.skills for vt in self.vehicle_types))
        stops: dict[str, int] = {}
        for i, s in enumerate(self.stops):
            if s.id in stops:
                raise InvalidProblemError(f"stop id {s.id!r} appears twice — ids must be unique")
            stops[s.id] = i
            if not 0 <= s.location < n_loc:
                raise InvalidProblemError(
                    f"stop {s.id!r}: location index {s.location} is outside 0..{n_loc - 1}"
                )
            if len(s.demand) > n_dim:
                raise InvalidProblemError(
                    f"stop {s.id!r}: demand {s.demand} has more entries than the dimensions "
                    f"{self.dimensions}"
                )
            unknown = s.skills - known_skills
            if unknown:
                raise InvalidProblemError(
                    f"stop {s.id!r}: unknown skill(s) {sorted(unknown)} — no vehicle type "
                    f"declares them (known: {sorted(known_skills)}); fix the spelling or add "
                    "the skill to a vehicle type"
                )
        object.__setattr__(self, "_stop_index", MappingProxyType(stops))

        paired: set[str] = set()
        for pd in self.shipments:
            for role, sid in (("pickup", pd.pickup), ("delivery", pd.delivery)):
                if sid not in stops:
                    raise InvalidProblemError(f"shipment {role} {sid!r} is not a stop id")
                if sid in paired:
                    raise InvalidProblemError(
                        f"stop {sid!r} is in two shipments — a stop belongs to one pair at most"
                    )
                paired.add(sid)
            if self.stops[stops[pd.pickup]].kind is not StopKind.PICKUP:
                raise InvalidProblemError(f"shipment pickup {pd.pickup!r} must have kind 'pickup'")
            if self.stops[stops[pd.delivery]].kind is not StopKind.DELIVERY:
                raise InvalidProblemError(
                    f"shipment delivery {pd.delivery!r} must have kind 'delivery'"
                )
            if self.demand(self.stops[stops[pd.pickup]]) != self.demand(
                self.stops[stops[pd.delivery]]
            ):
                raise InvalidProblemError(
                    f"shipment {pd.pickup!r} -> {pd.delivery!r}: pickup and delivery demands "
                    "differ — give both the amount carried"
                )

        vehicle_ids: set[str] = set()
        locked_ids: set[str] = set()
        for v in self.vehicles:
            if v.id in vehicle_ids:
                raise InvalidProblemError(f"vehicle id {v.id!r} appears twice")
            vehicle_ids.add(v.id)
            if v.type not in types:
                raise InvalidProblemError(
                    f"vehicle {v.id!r}: unknown vehicle type {v.type!r} (have: {sorted(types)})"
                )
            for role, loc in (("start", v.start), ("end", v.end)):
                if loc is not None and not 0 <= loc < n_loc:
                    raise InvalidProblemError(
                        f"vehicle {v.id!r}: {role} location index {loc} is outside 0..{n_loc - 1}"
                    )
            for loc in v.reload_at:
                if not 0 <= loc < n_loc:
                    raise InvalidProblemError(
                        f"vehicle {v.id!r}: reload_at location index {loc} is outside "
                        f"0..{n_loc - 1}"
                    )
            if v.reloads and (self.shipments or any(s.kind is StopKind.PICKUP for s in self.stops)):
                raise InvalidProblemError(
                    f"vehicle {v.id!r} may reload (reload_at), but the day has pickups: several "
                    "trips a day are planned for deliveries only — leave reload_at empty or plan "
                    "the pickups separately"
                )
            self._validate_workable(v)
            for sid in v.locked:
                if sid not in stops:
                    raise InvalidProblemError(f"vehicle {v.id!r}: locked stop {sid!r} is unknown")
                if sid in locked_ids:
                    raise InvalidProblemError(
                        f"stop {sid!r} is locked on two vehicles — lock it on one"
                    )
                locked_ids.add(sid)

    def _validate_workable(self, v: Vehicle) -> None:
        """A vehicle must at least be able to go from its start to its end and take its breaks.

        Otherwise no plan exists for the whole fleet, so it is refused here, by name.
        """
        vt = self.vehicle_types[self._type_index[v.type]]
        m = self.matrices[vt.profile]
        shift_len = v.shift.end - v.shift.start
        drive = 0 if v.end is None else int(m.durations[v.start, v.end])
        dist = 0 if v.end is None else int(m.distances[v.start, v.end])
        breaks = sum(b.duration for b in v.breaks)
        need = drive + breaks
        if need > shift_len:
            raise InvalidProblemError(
                f"vehicle {v.id!r}: driving from its start to its end ({drive} s) plus its breaks "
                f"({breaks} s) does not fit its shift {fmt_time(v.shift.start)}-"
                f"{fmt_time(v.shift.end)} — lengthen the shift, move the end or drop a break"
            )
        if vt.max_shift is not None and need > vt.max_shift:
            raise InvalidProblemError(
                f"vehicle {v.id!r}: driving from its start to its end ({drive} s) plus its breaks "
                f"({breaks} s) exceeds max_shift {vt.max_shift} s of type {vt.name!r}"
            )
        if vt.range_m is not None and dist > vt.range_m:
            raise InvalidProblemError(
                f"vehicle {v.id!r}: its end is {dist} m from its start, beyond the range "
                f"{vt.range_m} m of type {vt.name!r} — move the end depot or raise the range"
            )
        for b in v.breaks:
            if b.window.start < v.shift.start or b.window.start + b.duration > v.shift.end:
                raise InvalidProblemError(
                    f"vehicle {v.id!r}: break {fmt_time(b.window.start)}-"
                    f"{fmt_time(b.window.end)} ({b.duration} s) does not lie inside the shift "
                    f"{fmt_time(v.shift.start)}-{fmt_time(v.shift.end)} — move the break window"
                )
        if vt.max_shift is not None and v.breaks:
            earliest_end = max(b.window.start + b.duration for b in v.breaks)
            latest_start = min(b.window.end for b in v.breaks)
            if earliest_end - latest_start > vt.max_shift:
                raise InvalidProblemError(
                    f"vehicle {v.id!r}: its breaks are further apart than max_shift "
                    f"{vt.max_shift} s of type {vt.name!r} allows — move the break windows"
                )


def _pad(values: tuple[int, ...], n: int) -> tuple[int, ...]:
    return tuple(values) + (0,) * (n - len(values))
