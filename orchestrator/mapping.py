"""The one place where stored rows become a :class:`routing.Problem`.

:func:`build_problem` takes the depot, its fleets and the orders of a service day (table
objects) and returns immutable engine dataclasses plus the id maps needed to read the
solution back. Nothing else in lastmile builds a routing problem from the store, and no
table object crosses into :mod:`routing`.

Conventions of the mapping:

* location 0 is the depot; location ``k`` is the chosen place of the ``k``-th order;
* stop ids are ``order-<order id>``; vehicle ids are ``<type name>-<fleet id>-<n>``, stable
  across re-plans of the day as long as the fleet is unchanged;
* capacity dimensions are :data:`DIMENSIONS` (grams, millilitres, parcels);
* times are seconds elapsed since the depot's local midnight on the service day (order
  windows are converted from their UTC instants; fleet shifts are stored that way);
* handling flags become skills: ``fragile`` → ``"fragile"``, ``signature_required`` →
  ``"signature"``, ``cold_chain`` → ``"cold"``.

Orders that cannot even be put into the problem — no delivery place chosen, or a skill no
vehicle of the depot has — are returned in :attr:`MappedProblem.left_out` with a reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from orchestrator.models import Depot, Fleet, Order, OrderItem, Place, VehicleType
from orchestrator.travel import TravelTimes
from routing.model import (
    Break,
    Location,
    Problem,
    Stop,
    TimeWindow,
    Vehicle,
)
from routing.model import VehicleType as EngineVehicleType
from routing.solution import UnservedReason

__all__ = [
    "DIMENSIONS",
    "NO_PLACE_CHOSEN",
    "LeftOut",
    "MappedProblem",
    "OrderInput",
    "build_problem",
    "local_midnight",
    "stop_id",
]

DIMENSIONS = ("weight_g", "volume_ml", "parcels")
"""Capacity dimensions of every problem built from the store."""

NO_PLACE_CHOSEN = "no_place_chosen"
"""Unserved reason of an order whose customer has not chosen where to receive it."""

SERVICE_BASE_S = 90
"""Seconds at every stop: park, walk to the door, ring."""
SERVICE_PER_PARCEL_S = 30
"""Extra seconds per parcel handed over."""
SERVICE_SIGNATURE_S = 60
"""Extra seconds when a signature is required."""

_SKILL_OF_FLAG = (
    ("fragile", "fragile"),
    ("signature_required", "signature"),
    ("cold_chain", "cold"),
)


@dataclass(frozen=True, slots=True)
class OrderInput:
    """An order with its lines and chosen place (``None`` when not chosen yet)."""

    order: Order
    items: Sequence[OrderItem]
    place: Place | None


@dataclass(frozen=True, slots=True)
class LeftOut:
    """An order kept out of the problem, with an unserved reason and a sentence."""

    order_id: int
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class MappedProblem:
    """The problem and the maps back to the store.

    ``order_of_stop``: stop id → order id; ``fleet_of_vehicle``: vehicle id → fleet id;
    ``midnight``: the UTC instant that is second 0 of the problem.
    """

    problem: Problem
    order_of_stop: Mapping[str, int]
    fleet_of_vehicle: Mapping[str, int]
    midnight: datetime
    left_out: tuple[LeftOut, ...] = field(default=())

    def at(self, seconds: int) -> datetime:
        """The UTC instant ``seconds`` after :attr:`midnight`."""
        return self.midnight + timedelta(seconds=int(seconds))


def stop_id(order_id: int) -> str:
    """The stop id of an order in every problem."""
    return f"order-{order_id}"


def vehicle_id(vtype: VehicleType, fleet: Fleet, n: int) -> str:
    """The id of the ``n``-th (0-based) vehicle of a fleet."""
    return f"{vtype.name}-{fleet.id}-{n + 1}"


def local_midnight(depot: Depot, day: date) -> datetime:
    """The UTC instant of midnight at the depot on ``day``."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(depot.timezone)).astimezone(UTC)


def build_problem(
    depot: Depot,
    fleets: Sequence[tuple[Fleet, VehicleType]],
    orders: Sequence[OrderInput],
    *,
    day: date,
    travel: TravelTimes,
    locked: Mapping[str, Sequence[int]] | None = None,
) -> MappedProblem:
    """Turn a depot's day into a routing problem.

    Parameters
    ----------
    depot
        Where every vehicle starts (and ends, unless its fleet has open routes).
    fleets
        The depot's fleets with their vehicle types; each fleet gives ``count`` vehicles.
    orders
        The orders to plan, with their lines and chosen places.
    day
        The service day (local date at the depot).
    travel
        Travel matrices per profile (metres, seconds).
    locked
        Vehicle id → order ids already dispatched on it, in order: the route must begin
        with them (re-planning a day in progress). Those orders must be in ``orders``.

    Returns
    -------
    MappedProblem
        The problem, the id maps, and the orders left out with their reasons.
    """
    midnight = local_midnight(depot, day)
    horizon = max((f.shift_end_s for f, _ in fleets), default=86_400)
    skills_available: set[str] = set().union(*(set(vt.skills) for _, vt in fleets))

    locations = [Location(f"depot-{depot.id}", depot.lat, depot.lon)]
    stops: list[Stop] = []
    order_of_stop: dict[str, int] = {}
    left_out: list[LeftOut] = []
    for entry in orders:
        order = entry.order
        assert order.id is not None
        if entry.place is None:
            left_out.append(
                LeftOut(
                    order.id,
                    NO_PLACE_CHOSEN,
                    "the customer has not chosen a delivery place — ask them to pick one",
                )
            )
            continue
        skills = {skill for flag, skill in _SKILL_OF_FLAG if getattr(order, flag)}
        missing = skills - skills_available
        if missing:
            left_out.append(
                LeftOut(
                    order.id,
                    UnservedReason.NO_VEHICLE_WITH_SKILLS.value,
                    f"needs {sorted(missing)} but no vehicle at depot {depot.code!r} has "
                    "them — add a fleet of a type with those skills",
                )
            )
            continue
        locations.append(Location(f"place-{entry.place.id}", entry.place.lat, entry.place.lon))
        demand = (
            sum(i.weight_g * i.quantity for i in entry.items),
            sum(i.volume_ml * i.quantity for i in entry.items),
            sum(i.parcels * i.quantity for i in entry.items),
        )
        sid = stop_id(order.id)
        stops.append(
            Stop(
                id=sid,
                location=len(locations) - 1,
                service=SERVICE_BASE_S
                + SERVICE_PER_PARCEL_S * demand[2]
                + (SERVICE_SIGNATURE_S if order.signature_required else 0),
                windows=_windows(order, midnight, horizon),
                demand=demand,
                skills=frozenset(skills),
            )
        )
        order_of_stop[sid] = order.id

    locked = locked or {}
    types: dict[str, EngineVehicleType] = {}
    vehicles: list[Vehicle] = []
    fleet_of_vehicle: dict[str, int] = {}
    for fleet, vt in fleets:
        assert fleet.id is not None
        types.setdefault(vt.name, _engine_type(vt))
        breaks: tuple[Break, ...] = ()
        if fleet.break_duration_s and fleet.break_earliest_s is not None:
            latest = fleet.break_latest_s if fleet.break_latest_s is not None else horizon
            breaks = (Break(TimeWindow(fleet.break_earliest_s, latest), fleet.break_duration_s),)
        for n in range(fleet.count):
            vid = vehicle_id(vt, fleet, n)
            vehicles.append(
                Vehicle(
                    id=vid,
                    type=vt.name,
                    start=0,
                    end=None if fleet.open_route else 0,
                    shift=TimeWindow(fleet.shift_start_s, fleet.shift_end_s),
                    breaks=breaks,
                    locked=tuple(stop_id(o) for o in locked.get(vid, ())),
                )
            )
            fleet_of_vehicle[vid] = fleet.id

    profiles = sorted({t.profile for t in types.values()}) or ["car"]
    problem = Problem(
        locations=tuple(locations),
        matrices={p: travel.matrix(locations, p) for p in profiles},
        stops=tuple(stops),
        vehicle_types=tuple(types.values()),
        vehicles=tuple(vehicles),
        dimensions=DIMENSIONS,
    )
    return MappedProblem(problem, order_of_stop, fleet_of_vehicle, midnight, tuple(left_out))


def _windows(order: Order, midnight: datetime, horizon: int) -> tuple[TimeWindow, ...]:
    """The order's window in seconds since midnight, clipped to ``[0, horizon]``."""
    if order.window_start is None or order.window_end is None:
        return ()
    start = int((order.window_start - midnight).total_seconds())
    end = int((order.window_end - midnight).total_seconds())
    start, end = max(0, min(start, horizon)), max(0, min(end, horizon))
    return (TimeWindow(start, max(start, end)),)


def _engine_type(vt: VehicleType) -> EngineVehicleType:
    return EngineVehicleType(
        name=vt.name,
        kind=vt.kind,
        capacity=(vt.capacity_weight_g, vt.capacity_volume_ml, vt.capacity_parcels),
        profile=vt.profile,
        range_m=vt.range_m,
        max_shift=vt.max_shift_s,
        fixed_cost=vt.fixed_cost,
        cost_per_km=vt.cost_per_km,
        cost_per_hour=vt.cost_per_hour,
        co2_g_per_km=vt.co2_g_per_km,
        skills=frozenset(vt.skills),
    )
