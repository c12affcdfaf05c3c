"""The one place where planning input becomes a :class:`routing.Problem`.

:func:`build_problem` takes the depot, its fleets and the orders of a service day as plain
values (:mod:`orchestrator.planning.inputs`: the store makes them from its rows with
:mod:`orchestrator.planning.rows`, the simulator from its simulated orders) and returns
immutable engine dataclasses plus the id maps needed to read the solution back. Nothing else
in lastmile builds a routing problem, and no table object reaches it.

Conventions of the mapping:

* location 0 is the depot; location ``k`` is the chosen place of the ``k``-th order;
* stop ids are ``order-<order id>``; vehicle ids are ``<type name>-<fleet id>-<n>``, stable
  across re-plans of the day as long as the fleet is unchanged;
* capacity dimensions are :data:`DIMENSIONS` (grams, millilitres, parcels);
* times are seconds elapsed since the depot's local midnight on the service day (order
  windows are converted from their UTC instants; fleet shifts are stored that way);
* handling flags become skills: ``fragile`` → ``"fragile"``, ``signature_required`` →
  ``"signature"``, ``cold_chain`` → ``"cold"``;
* who may bring it becomes skills too: the stop of a customer who refuses robots needs
  :data:`BY_PERSON`, which every vehicle type but robots has; one who refuses couriers needs
  :data:`OWN_FLEET`, which every type but couriers has; a return pickup always needs
  :data:`BY_PERSON` (a robot cannot take a parcel back). The types get these skills only
  when some stop needs them and the depot has robots (couriers), so every solver (PyVRP's
  seed included) keeps them apart and a depot without them gets the problem it always got.

Orders that cannot even be put into the problem — no delivery place chosen, or a skill no
vehicle of the depot has (a customer who refuses robots at a depot of robots only) — are
returned in :attr:`MappedProblem.left_out` with a reason.

Uncertainty: with a :class:`~orchestrator.planning.spread.Buffer` (``buffer=``), every leg
duration of a profile's matrix is scaled by the buffer's factor for that profile and every
stop's service time by its service factor, rounded to whole seconds — the times of the plan
made from the problem are then the **cautious** ones (a high quantile of the learned spread,
:mod:`orchestrator.planning.spread`), and so are the ETAs stored with it. Distances are not
scaled.

Language and hand-off instructions constrain no vehicle: fleets have no languages, and the
instructions are text for whoever hands the parcel over (the manifest, the customer's page).

Return pickups (:class:`PickupInput`) ride on the same routes:

* the pickup is a :attr:`~routing.StopKind.PICKUP` stop ``return-<return id>`` at the
  customer's place (or locker), in the chosen window, with the demand of one unit of the
  returned line;
* when the return's destination is a store served from this depot, the store becomes a
  location (``store-<store id>``, one per store) and a delivery stop
  ``return-<return id>-store`` there is paired with the pickup
  (:class:`~routing.PickupDelivery`): the same vehicle carries it there, later on its route;
* otherwise the pickup is carried to the vehicle's end, the depot. Open routes (couriers) end
  elsewhere, so when the depot has open fleets those pickups need the skill
  :data:`ENDS_AT_DEPOT`, which the mapping gives to every vehicle type none of whose fleets
  is open.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from orchestrator.planning.inputs import (
    DepotInput,
    FleetInput,
    OrderInput,
    PickupInput,
    VehicleTypeInput,
)
from orchestrator.planning.service import service_seconds
from orchestrator.planning.spread import Buffer
from orchestrator.planning.travel import TravelTimes
from routing.model import (
    Break,
    Location,
    PickupDelivery,
    Problem,
    Stop,
    StopKind,
    TimeWindow,
    TravelMatrix,
    Vehicle,
    VehicleKind,
)
from routing.model import VehicleType as EngineVehicleType
from routing.solution import UnservedReason

__all__ = [
    "BY_PERSON",
    "DIMENSIONS",
    "ENDS_AT_DEPOT",
    "NO_PLACE_CHOSEN",
    "OWN_FLEET",
    "LeftOut",
    "LeftOutReturn",
    "MappedProblem",
    "accepted_vehicle_types",
    "build_problem",
    "dropoff_stop_id",
    "local_midnight",
    "pickup_stop_id",
    "stop_id",
]

DIMENSIONS = ("weight_g", "volume_ml", "parcels")
"""Capacity dimensions of every problem built from the store."""

NO_PLACE_CHOSEN = "no_place_chosen"
"""Unserved reason of an order whose customer has not chosen where to receive it."""

BY_PERSON = "by_person"
"""Skill of every vehicle type but robots, needed by the stops of customers who refuse robots
and by return pickups (only given when some stop needs it)."""

OWN_FLEET = "own_fleet"
"""Skill of every vehicle type but crowdsourced couriers, needed by the stops of customers who
refuse couriers (only given when some stop needs it)."""

_REFUSED = {BY_PERSON: "robots", OWN_FLEET: "couriers"}

ENDS_AT_DEPOT = "ends_at_depot"
"""Skill of the vehicle types that bring what they pick up back to the depot (only needed, and
only given, when the depot also has open routes)."""


@dataclass(frozen=True, slots=True)
class LeftOut:
    """An order kept out of the problem, with an unserved reason and a sentence."""

    order_id: int
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class LeftOutReturn:
    """A return pickup kept out of the problem, with an unserved reason and a sentence."""

    return_id: int
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class MappedProblem:
    """The problem and the maps back to the store.

    ``order_of_stop``: stop id → order id; ``fleet_of_vehicle``: vehicle id → fleet id;
    ``midnight``: the UTC instant that is second 0 of the problem. ``return_of_stop``: the
    stop id of a return's pickup or store drop-off → the return's id; ``to_store``: the
    returns whose pickup is paired with a drop-off at their store (the others go to the
    depot); ``store_of_stop``: drop-off stop id → store id.
    """

    problem: Problem
    order_of_stop: Mapping[str, int]
    fleet_of_vehicle: Mapping[str, int]
    midnight: datetime
    left_out: tuple[LeftOut, ...] = field(default=())
    return_of_stop: Mapping[str, int] = field(default_factory=dict)
    to_store: frozenset[int] = frozenset()
    store_of_stop: Mapping[str, int] = field(default_factory=dict)
    left_out_returns: tuple[LeftOutReturn, ...] = field(default=())

    def at(self, seconds: int) -> datetime:
        """The UTC instant ``seconds`` after :attr:`midnight`."""
        return self.midnight + timedelta(seconds=int(seconds))


def stop_id(order_id: int) -> str:
    """The stop id of an order in every problem."""
    return f"order-{order_id}"


def pickup_stop_id(return_id: int) -> str:
    """The stop id of a return's pickup in every problem."""
    return f"return-{return_id}"


def dropoff_stop_id(return_id: int) -> str:
    """The stop id of a return's drop-off at its destination store."""
    return f"return-{return_id}-store"


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class _Identified(Protocol):
    @property
    def id(self) -> int | None: ...


def vehicle_id(vtype: _Named, fleet: _Identified, n: int) -> str:
    """The id of the ``n``-th (0-based) vehicle of a fleet (a row or a
    :class:`~orchestrator.planning.inputs.FleetInput`) of vehicle type ``vtype``."""
    return f"{vtype.name}-{fleet.id}-{n + 1}"


class _Zoned(Protocol):
    @property
    def timezone(self) -> str: ...


def local_midnight(depot: _Zoned, day: date) -> datetime:
    """The UTC instant of midnight at the depot on ``day``."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(depot.timezone)).astimezone(UTC)


def build_problem(
    depot: DepotInput,
    fleets: Sequence[FleetInput],
    orders: Sequence[OrderInput],
    *,
    day: date,
    travel: TravelTimes,
    locked: Mapping[str, Sequence[int]] | None = None,
    pickups: Sequence[PickupInput] = (),
    buffer: Buffer | None = None,
) -> MappedProblem:
    """Turn a depot's day into a routing problem.

    Parameters
    ----------
    depot
        Where every vehicle starts (and ends, unless its fleet has open routes).
    fleets
        The depot's fleets with their vehicle types; each fleet gives ``count`` vehicles.
    orders
        The orders to plan, with their demand and chosen places.
    day
        The service day (local date at the depot).
    travel
        Travel matrices per profile (metres, seconds).
    locked
        Vehicle id → order ids already dispatched on it, in order: the route must begin
        with them (re-planning a day in progress). Those orders must be in ``orders``.
    pickups
        Returns to collect that day (see the module's notes).
    buffer
        Factors leg durations (per profile) and service times are scaled by (the module's
        notes); ``None`` plans on the travel provider's times as they are.

    Returns
    -------
    MappedProblem
        The problem, the id maps, and the orders and pickups left out with their reasons.
    """
    fleet_list = tuple(fleets)
    midnight = local_midnight(depot, day)
    horizon = max((f.shift_end_s for f in fleet_list), default=86_400)
    needed = _acceptance_skills(orders, pickups, {f.vehicle_type.kind for f in fleet_list})
    skills_available: set[str] = set().union(
        *(f.vehicle_type.skills | _kind_skills(f.vehicle_type.kind, needed) for f in fleet_list)
    )

    locations = [Location(f"depot-{depot.id}", depot.lat, depot.lon)]
    stops: list[Stop] = []
    order_of_stop: dict[str, int] = {}
    left_out: list[LeftOut] = []
    for order in orders:
        if order.place is None:
            left_out.append(
                LeftOut(
                    order.id,
                    NO_PLACE_CHOSEN,
                    "the customer has not chosen a delivery place — ask them to pick one",
                )
            )
            continue
        skills = order.skills | (_order_acceptance(order) & needed)
        missing = skills - skills_available
        if missing:
            refused = sorted(_REFUSED[m] for m in missing & _REFUSED.keys())
            handling = sorted(missing - _REFUSED.keys())
            reasons = []
            if handling:
                reasons.append(f"needs {handling} but no vehicle at depot {depot.code!r} has them")
            if refused:
                reasons.append(
                    f"its customer does not accept {' or '.join(refused)}, the only vehicles "
                    f"at depot {depot.code!r} that could bring it"
                )
            left_out.append(
                LeftOut(
                    order.id,
                    UnservedReason.NO_VEHICLE_WITH_SKILLS.value,
                    "; ".join(reasons) + " — add a fleet of a type that may serve it, or ask "
                    "the customer to accept another way of delivery",
                )
            )
            continue
        locations.append(Location(f"place-{order.place.id}", order.place.lat, order.place.lon))
        demand = order.demand
        sid = stop_id(order.id)
        stops.append(
            Stop(
                id=sid,
                location=len(locations) - 1,
                service=service_seconds(demand[2], signature=order.signature_required),
                windows=_clipped(order.window_start, order.window_end, midnight, horizon),
                demand=demand,
                skills=skills,
            )
        )
        order_of_stop[sid] = order.id

    closed_types = _closed_types(fleet_list)
    has_open = any(f.open_route for f in fleet_list)
    pickup_part = _pickups(
        depot, pickups, locations, midnight, horizon, closed_types, has_open,
        needs=frozenset({BY_PERSON} & needed), available=frozenset(skills_available),
    )  # fmt: skip
    stops.extend(pickup_part.stops)

    locked = locked or {}
    types: dict[str, EngineVehicleType] = {}
    vehicles: list[Vehicle] = []
    fleet_of_vehicle: dict[str, int] = {}
    for fleet in fleet_list:
        vt = fleet.vehicle_type
        extra = (
            {ENDS_AT_DEPOT} if pickup_part.needs_depot_skill and vt.name in closed_types else set()
        )
        types.setdefault(vt.name, _engine_type(vt, extra | _kind_skills(vt.kind, needed)))
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
    matrices = {p: travel.matrix(locations, p) for p in profiles}
    if buffer is not None and not buffer.is_identity:
        matrices = {
            p: TravelMatrix(m.distances, buffer.matrix_durations(m.durations, p))
            for p, m in matrices.items()
        }
        stops = [dataclasses.replace(s, service=buffer.service_seconds(s.service)) for s in stops]
    problem = Problem(
        locations=tuple(locations),
        matrices=matrices,
        stops=tuple(stops),
        vehicle_types=tuple(types.values()),
        vehicles=tuple(vehicles),
        dimensions=DIMENSIONS,
        shipments=pickup_part.shipments,
    )
    return MappedProblem(
        problem,
        order_of_stop,
        fleet_of_vehicle,
        midnight,
        tuple(left_out),
        return_of_stop=pickup_part.return_of_stop,
        to_store=pickup_part.to_store,
        store_of_stop=pickup_part.store_of_stop,
        left_out_returns=pickup_part.left_out,
    )


@dataclass(frozen=True, slots=True)
class _PickupPart:
    stops: tuple[Stop, ...]
    shipments: tuple[PickupDelivery, ...]
    return_of_stop: Mapping[str, int]
    to_store: frozenset[int]
    store_of_stop: Mapping[str, int]
    left_out: tuple[LeftOutReturn, ...]
    needs_depot_skill: bool


def _closed_types(fleets: Sequence[FleetInput]) -> frozenset[str]:
    """Names of the vehicle types none of whose fleets has open routes."""
    open_types = {f.vehicle_type.name for f in fleets if f.open_route}
    return frozenset(f.vehicle_type.name for f in fleets if f.vehicle_type.name not in open_types)


def _pickups(
    depot: DepotInput,
    pickups: Sequence[PickupInput],
    locations: list[Location],
    midnight: datetime,
    horizon: int,
    closed_types: frozenset[str],
    has_open: bool,
    *,
    needs: frozenset[str] = frozenset(),
    available: frozenset[str] = frozenset(),
) -> _PickupPart:
    """The pickup stops, their store drop-offs and pairs; ``locations`` grows in place.
    ``needs``: skills every pickup needs (:data:`BY_PERSON`), ``available``: the skills of
    the day's vehicles (a pickup no vehicle may make is left out)."""
    stops: list[Stop] = []
    shipments: list[PickupDelivery] = []
    return_of_stop: dict[str, int] = {}
    store_of_stop: dict[str, int] = {}
    to_store: set[int] = set()
    left_out: list[LeftOutReturn] = []
    store_location: dict[int, int] = {}
    needs_depot_skill = False
    for entry in pickups:
        demand = entry.demand
        store = entry.store
        paired = store is not None and store.depot_id == depot.id
        skills: frozenset[str] = needs
        if not needs <= available:
            left_out.append(
                LeftOutReturn(
                    entry.return_id,
                    UnservedReason.NO_VEHICLE_WITH_SKILLS.value,
                    f"a robot cannot take a parcel back, and only robots serve depot "
                    f"{depot.code!r} now — add a fleet of vans, bikes or couriers",
                )
            )
            continue
        if not paired and has_open:
            if not closed_types:
                left_out.append(
                    LeftOutReturn(
                        entry.return_id,
                        UnservedReason.NO_VEHICLE_WITH_SKILLS.value,
                        f"it goes back to depot {depot.code!r}, but every vehicle there ends "
                        "its route elsewhere — add a fleet whose routes end at the depot",
                    )
                )
                continue
            skills = needs | {ENDS_AT_DEPOT}
            needs_depot_skill = True
        locations.append(Location(f"place-{entry.place.id}", entry.place.lat, entry.place.lon))
        pid = pickup_stop_id(entry.return_id)
        stops.append(
            Stop(
                id=pid,
                location=len(locations) - 1,
                service=service_seconds(demand[2]),
                windows=_clipped(entry.window_start, entry.window_end, midnight, horizon),
                demand=demand,
                skills=skills,
                kind=StopKind.PICKUP,
            )
        )
        return_of_stop[pid] = entry.return_id
        if not paired:
            continue
        assert store is not None
        if store.id not in store_location:
            locations.append(Location(f"store-{store.id}", store.lat, store.lon))
            store_location[store.id] = len(locations) - 1
        did = dropoff_stop_id(entry.return_id)
        stops.append(
            Stop(
                id=did,
                location=store_location[store.id],
                service=service_seconds(0),  # handed over at the store's counter
                demand=demand,
                kind=StopKind.DELIVERY,
            )
        )
        shipments.append(PickupDelivery(pid, did))
        return_of_stop[did] = entry.return_id
        store_of_stop[did] = store.id
        to_store.add(entry.return_id)
    return _PickupPart(
        tuple(stops),
        tuple(shipments),
        return_of_stop,
        frozenset(to_store),
        store_of_stop,
        tuple(left_out),
        needs_depot_skill,
    )


def _order_acceptance(order: OrderInput) -> frozenset[str]:
    """The skills that keep refused vehicles away from the order's stop."""
    return frozenset(
        skill
        for skill, refused in ((BY_PERSON, not order.accepts_robot),
                               (OWN_FLEET, not order.accepts_courier))
        if refused
    )  # fmt: skip


def accepted_vehicle_types(
    kinds: Mapping[str, VehicleKind], *, accepts_robot: bool, accepts_courier: bool
) -> frozenset[str] | None:
    """The vehicle types (names of ``kinds``) that may bring an order of a customer who
    accepts robots and couriers or not, by the acceptance skills :func:`build_problem` gives
    the order's stop and the types (``by_person``, ``own_fleet``, only where the depot has
    robots or couriers): the one acceptance rule, as a set of types for an insertion check or
    an option; ``None`` when every type may."""
    order = OrderInput(
        0, None, (0, 0, 0), accepts_robot=accepts_robot, accepts_courier=accepts_courier
    )
    needed = _acceptance_skills([order], (), set(kinds.values()))
    if not needed:
        return None
    return frozenset(name for name, kind in kinds.items() if needed <= _kind_skills(kind, needed))


def _acceptance_skills(
    orders: Sequence[OrderInput], pickups: Sequence[PickupInput], kinds: set[VehicleKind]
) -> frozenset[str]:
    """The acceptance skills some stop of the day needs (pickups always need a person), of
    those that tell the day's vehicle kinds apart: with no robot (courier) at the depot,
    refusing one constrains nothing and the problem stays as it was."""
    needed = set().union(*(_order_acceptance(o) for o in orders))
    if pickups:
        needed.add(BY_PERSON)
    if VehicleKind.ROBOT not in kinds:
        needed.discard(BY_PERSON)
    if VehicleKind.COURIER not in kinds:
        needed.discard(OWN_FLEET)
    return frozenset(needed)


def _kind_skills(kind: VehicleKind, needed: frozenset[str]) -> frozenset[str]:
    """The acceptance skills (of those ``needed``) a vehicle of ``kind`` has: every kind but
    robots brings a parcel in person, every kind but couriers is the depot's own."""
    has = {BY_PERSON: kind is not VehicleKind.ROBOT, OWN_FLEET: kind is not VehicleKind.COURIER}
    return frozenset(skill for skill in needed if has[skill])


def _clipped(
    start_at: datetime | None, end_at: datetime | None, midnight: datetime, horizon: int
) -> tuple[TimeWindow, ...]:
    """A window of aware instants in seconds since midnight, clipped to ``[0, horizon]``."""
    if start_at is None or end_at is None:
        return ()
    start = int((start_at - midnight).total_seconds())
    end = int((end_at - midnight).total_seconds())
    start, end = max(0, min(start, horizon)), max(0, min(end, horizon))
    return (TimeWindow(start, max(start, end)),)


def _engine_type(
    vt: VehicleTypeInput, extra_skills: set[str] | frozenset[str] | None = None
) -> EngineVehicleType:
    return EngineVehicleType(
        name=vt.name,
        kind=vt.kind,
        capacity=vt.capacity,
        profile=vt.profile,
        range_m=vt.range_m,
        max_shift=vt.max_shift_s,
        fixed_cost=vt.fixed_cost,
        cost_per_km=vt.cost_per_km,
        cost_per_hour=vt.cost_per_hour,
        co2_g_per_km=vt.co2_g_per_km,
        skills=vt.skills | frozenset(extra_skills or ()),
    )
