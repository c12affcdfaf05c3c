"""What a depot, a place, an order, a fleet and a return pickup mean to the planner.

Plain immutable values: :func:`orchestrator.planning.problem.build_problem` takes these and
nothing else, so planning does not depend on how they are stored. The store side makes them
from table rows (:mod:`orchestrator.planning.rows`); the simulator makes them from its
simulated orders and fleets without touching a table model.

Units: degrees (WGS 84) for coordinates, grams, millilitres and parcels for demand, EUR and
grams of CO2 for costs; windows are aware instants. Shifts and breaks are stored as wall-clock
times (seconds on the depot's 24-hour clock face: ``8 * 3600`` is 08:00), but the planner
counts seconds *elapsed* since the service day's local midnight; they differ on a
daylight-saving day, so :func:`fleets_on_day` converts a day's fleets before they are planned
(on 2026-03-29 in Helsinki an 08:00 shift starts 7 h after midnight, on 2026-10-25 9 h).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from routing.model import VehicleKind

__all__ = [
    "DepotInput",
    "FleetInput",
    "OrderInput",
    "PickupInput",
    "PlaceInput",
    "StoreInput",
    "VehicleTypeInput",
    "elapsed_s",
    "fleets_on_day",
    "handling_skills",
]


def handling_skills(fragile: bool, signature_required: bool, cold_chain: bool) -> frozenset[str]:
    """The vehicle skills an order's handling flags need: ``fragile`` → ``"fragile"``,
    ``signature_required`` → ``"signature"``, ``cold_chain`` → ``"cold"`` — the one rule of
    planning, delivery options and insertion checks."""
    flags = ((fragile, "fragile"), (signature_required, "signature"), (cold_chain, "cold"))
    return frozenset(skill for flag, skill in flags if flag)


@dataclass(frozen=True, slots=True)
class DepotInput:
    """Where a day's vehicles start: its id, short code (named in messages), coordinates and
    IANA time zone (the service day's midnight is local)."""

    id: int
    code: str
    lat: float
    lon: float
    timezone: str


@dataclass(frozen=True, slots=True)
class PlaceInput:
    """A point a vehicle stops at: a customer's place or locker, by its id (``None`` for a
    point not stored yet, such as where a customer says they are now)."""

    id: int | None
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class StoreInput:
    """A store a return is carried to; served from ``depot_id``'s routes (``None``: from no
    depot's, so a pickup for it goes to the depot)."""

    id: int
    depot_id: int | None
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class OrderInput:
    """An order to deliver: where (``None`` until the customer has chosen), how much
    (grams, millilitres, parcels — all its lines), when (aware instants; ``None``: any time
    of the shift), how it must be handled, and whether its customer lets a sidewalk robot
    (``accepts_robot``) or a crowdsourced courier (``accepts_courier``) bring it — the store
    fills these from the customer's profile (no profile: no robot, couriers welcome); a plain
    value accepts both."""

    id: int
    place: PlaceInput | None
    demand: tuple[int, int, int]
    window_start: datetime | None = None
    window_end: datetime | None = None
    fragile: bool = False
    signature_required: bool = False
    cold_chain: bool = False
    accepts_robot: bool = True
    accepts_courier: bool = True

    @property
    def skills(self) -> frozenset[str]:
        """The vehicle skills its handling needs (:func:`handling_skills`)."""
        return handling_skills(self.fragile, self.signature_required, self.cold_chain)


@dataclass(frozen=True, slots=True)
class PickupInput:
    """A return to collect on the day.

    ``place`` is where (the customer's place or locker); ``window_start``/``window_end`` the
    aware instants of the chosen window (``None``: any time of the shift, a locker);
    ``demand`` one unit of the returned line; ``store`` the destination store, or ``None`` when
    the item goes elsewhere (the warehouse, an outlet).
    """

    return_id: int
    place: PlaceInput
    demand: tuple[int, int, int]
    window_start: datetime | None = None
    window_end: datetime | None = None
    store: StoreInput | None = None


@dataclass(frozen=True, slots=True)
class VehicleTypeInput:
    """A kind of vehicle: capacity per dimension (grams, millilitres, parcels), travel profile
    (``car``, ``bike``, ``walk``), limits (metres, seconds; ``None``: none), costs (EUR per
    day, km and hour), grams of CO2 per km and skills."""

    name: str
    kind: VehicleKind
    capacity: tuple[int, int, int]
    profile: str = "car"
    range_m: int | None = None
    max_shift_s: int | None = None
    fixed_cost: float = 0.0
    cost_per_km: float = 0.0
    cost_per_hour: float = 0.0
    co2_g_per_km: float = 0.0
    skills: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class FleetInput:
    """``count`` vehicles of one type with one shift (seconds since local midnight: wall
    clock as stored, elapsed once :func:`fleets_on_day` has converted them), whose
    routes end at the depot unless ``open_route`` (couriers), with an optional break of
    ``break_duration_s`` starting between ``break_earliest_s`` and ``break_latest_s``
    (``None``: the end of the day)."""

    id: int
    vehicle_type: VehicleTypeInput
    count: int
    shift_start_s: int
    shift_end_s: int
    open_route: bool = False
    break_duration_s: int = 0
    break_earliest_s: int | None = None
    break_latest_s: int | None = None


def elapsed_s(day: date, timezone: str, wall_s: int) -> int:
    """Seconds elapsed since local midnight of ``day`` in ``timezone`` at the wall-clock time
    ``wall_s`` (seconds on a 24-hour clock face; past ``86_400`` runs into the next day).

    Equal to ``wall_s`` except on a daylight-saving day: on 2026-03-29 in Helsinki 08:00 is
    7 h after midnight, on 2026-10-25 18:00 is 19 h. A wall time the change skips counts from
    the earlier offset; a repeated one is its first occurrence.
    """
    zone = ZoneInfo(timezone)
    midnight = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    wall = datetime.combine(day, time(0)) + timedelta(seconds=int(wall_s))
    return int((wall.replace(tzinfo=zone).astimezone(UTC) - midnight).total_seconds())


def fleets_on_day(fleets: Sequence[FleetInput], timezone: str, day: date) -> tuple[FleetInput, ...]:
    """The fleets with their wall-clock shifts and breaks (as stored) turned into seconds
    elapsed since ``day``'s local midnight in ``timezone``, as the planner counts them
    (:func:`elapsed_s`)."""

    def on_day(wall: int | None) -> int | None:
        return None if wall is None else elapsed_s(day, timezone, wall)

    return tuple(
        replace(
            f,
            shift_start_s=elapsed_s(day, timezone, f.shift_start_s),
            shift_end_s=elapsed_s(day, timezone, f.shift_end_s),
            break_earliest_s=on_day(f.break_earliest_s),
            break_latest_s=on_day(f.break_latest_s),
        )
        for f in fleets
    )
