"""Which orders fit on a commuter's way: the offer rule, on plain values (no store).

A commuter leaves ``origin`` inside a leaving window and must reach ``destination`` no more
than ``max_detour_s`` later than going straight there. :func:`best_bundle` asks the routing
engine for the largest set of the depot's candidate orders that fits:

* the problem is built by the one problem builder,
  :func:`orchestrator.planning.problem.build_problem`, with one vehicle of kind
  :attr:`routing.model.VehicleKind.COURIER` on an open route: each order keeps its service
  time, its promised window and its skills, and an order whose customer refuses couriers is
  left out there (:data:`orchestrator.planning.problem.OWN_FLEET`), never offered;
* that problem is then re-anchored on the trip: the vehicle starts at ``origin`` and ends at
  ``destination``, and each order becomes a pickup at the depot (the pickup point) paired with
  its drop-off (:class:`routing.model.PickupDelivery`), both optional at the price
  :data:`DROP_PENALTY_EUR` so the solver serves as many as fit;
* the detour is a hard limit: the route's duration (riding, handing over and any wait for a
  window, all time the commuter loses) is at most the straight ride plus ``max_detour_s``
  (the vehicle type's ``max_shift``), and the ride may start at any moment of the leaving
  window;
* the commuter carries at most ``carry_g`` grams and ``carry_ml`` millilitres besides
  ``capacity_parcels`` parcels (by default :data:`CARRY_G` and :data:`CARRY_ML`);
* only the :data:`MAX_CANDIDATES` candidates nearest the way are put to the solver — those
  that fit the trip's carry alone, ranked by the straight-line detour depot → place →
  destination against depot → destination: a commuter takes a handful of parcels, and the
  solve grows with every candidate (a depot's day holds hundreds).

Units: WGS84 degrees, seconds since the depot's local midnight on the service day (as the
planner counts them), metres, parcels, EUR.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from orchestrator.planning.inputs import DepotInput, FleetInput, OrderInput, VehicleTypeInput
from orchestrator.planning.problem import LeftOut, build_problem, local_midnight
from orchestrator.planning.travel import TravelTimes
from routing.matrix import haversine_m
from routing.model import (
    Location,
    PickupDelivery,
    Problem,
    Stop,
    StopKind,
    TimeWindow,
    Vehicle,
    VehicleKind,
)
from routing.solve import Limits, solve

__all__ = [
    "CARRY_G",
    "CARRY_ML",
    "COMMUTER_TYPE",
    "DROP_PENALTY_EUR",
    "MAX_CANDIDATES",
    "MODES",
    "PICKUP_SERVICE_S",
    "Bundle",
    "BundleStop",
    "Trip",
    "best_bundle",
    "nearest",
]

COMMUTER_TYPE = "commuter"
"""Name of the vehicle type a commuter rides as (kind ``courier``)."""
MODES = {"bike": "bike", "car": "car", "walk": "walk"}
"""How a commuter travels → the travel profile their times are computed on."""
CARRY_G = 15_000
"""Grams a commuter carries at most (the simulator's courier pool: 15 kg)."""
CARRY_ML = 50_000
"""Millilitres a commuter carries at most (the simulator's courier pool: 50 litres)."""
PICKUP_SERVICE_S = 30
"""Seconds to take one parcel at the pickup point's counter."""
DROP_PENALTY_EUR = 1_000.0
"""What leaving a candidate order out costs the solver: far above any ride's cost, so the
bundle is the largest that fits, and the cheapest ride among those."""
MAX_CANDIDATES = 30
"""Candidates nearest the way that the solver is given for one trip (see the module's notes)."""
_RIDE_COST_PER_HOUR = 10.0  # EUR: makes the solver prefer the shorter of equal bundles
_LIMITS = Limits(time_limit=2.0, solution_limit=50, seed_with="none")


@dataclass(frozen=True, slots=True)
class Trip:
    """A commuter's trip as the offer rule sees it.

    ``leave_after_s``/``leave_before_s``: the leaving window, seconds since the depot's local
    midnight; ``capacity_parcels``: parcels they carry; ``max_detour_s``: seconds they accept
    to lose against going straight; ``mode``: a key of :data:`MODES`; ``carry_g`` and
    ``carry_ml``: grams and millilitres they carry at most.
    """

    origin: tuple[float, float]
    destination: tuple[float, float]
    leave_after_s: int
    leave_before_s: int
    capacity_parcels: int
    max_detour_s: int
    mode: str = "bike"
    carry_g: int = CARRY_G
    carry_ml: int = CARRY_ML


@dataclass(frozen=True, slots=True)
class BundleStop:
    """One order of a bundle: picked up at the depot at ``pickup_s``, handed over (service
    starts) at ``handover_s``, seconds since local midnight."""

    order_id: int
    pickup_s: int
    handover_s: int


@dataclass(frozen=True, slots=True)
class Bundle:
    """The orders a trip can take, in riding order, and what the ride costs the commuter.

    ``leave_s``/``arrive_s``: when they leave the origin and reach the destination;
    ``direct_s``: the straight ride; ``detour_s``: ``arrive_s - leave_s - direct_s``;
    ``distance_m``: the whole ride. ``left_out``: candidates the builder kept out (a customer
    refusing couriers, no place), with their reasons.
    """

    stops: tuple[BundleStop, ...]
    leave_s: int
    arrive_s: int
    direct_s: int
    detour_s: int
    distance_m: int
    left_out: tuple[LeftOut, ...] = ()

    @property
    def order_ids(self) -> tuple[int, ...]:
        """The bundle's orders, in riding order."""
        return tuple(s.order_id for s in self.stops)


def nearest(
    depot: DepotInput, trip: Trip, candidates: Sequence[OrderInput], limit: int = MAX_CANDIDATES
) -> list[OrderInput]:
    """Of ``candidates``, the ``limit`` nearest the trip's way that fit its carry alone (the
    module's notes), in their given order; an order with no place yet is kept (the problem
    builder leaves it out, with its reason)."""
    carry = (trip.carry_g, trip.carry_ml, trip.capacity_parcels)
    fitting = [
        order
        for order in candidates
        if all(d <= c for d, c in zip(order.demand, carry, strict=True))
    ]
    placed = [order for order in fitting if order.place is not None]
    if len(placed) <= limit:
        return fitting
    lat = np.array([order.place.lat for order in placed if order.place is not None])
    lon = np.array([order.place.lon for order in placed if order.place is not None])
    dest_lat, dest_lon = trip.destination
    detour = (
        haversine_m(depot.lat, depot.lon, lat, lon)
        + haversine_m(lat, lon, dest_lat, dest_lon)
        - haversine_m(depot.lat, depot.lon, dest_lat, dest_lon)
    )
    kept = {placed[i].id for i in np.argsort(detour, kind="stable")[:limit].tolist()}
    return [order for order in fitting if order.place is None or order.id in kept]


def _pickup_id(order_id: int) -> str:
    return f"pickup-{order_id}"


def best_bundle(
    depot: DepotInput,
    day: date,
    trip: Trip,
    candidates: Sequence[OrderInput],
    *,
    travel: TravelTimes,
    limits: Limits | None = None,
) -> Bundle:
    """The largest bundle of ``candidates`` that fits the trip (see the module's notes).

    Parameters
    ----------
    depot
        The pickup point (the depot the orders leave from).
    day
        The service day, the depot's local date.
    trip
        The commuter's trip.
    candidates
        Orders still open for a courier, with their customers' acceptance.
    travel
        Travel times (metres, seconds) per profile.
    limits
        Solver limits (default: 2 s, OR-Tools alone, 50 improving solutions).

    Returns
    -------
    Bundle
        Possibly empty (``stops == ()``): nothing fits.
    """
    profile = MODES[trip.mode]
    ends = [
        Location("origin", trip.origin[0], trip.origin[1]),
        Location("destination", trip.destination[0], trip.destination[1]),
    ]
    direct = travel.matrix(ends, profile)
    direct_s = int(direct.durations[0, 1])
    longest_s = direct_s + trip.max_detour_s
    vtype = VehicleTypeInput(
        name=COMMUTER_TYPE,
        kind=VehicleKind.COURIER,
        capacity=(trip.carry_g, trip.carry_ml, trip.capacity_parcels),
        profile=profile,
        max_shift_s=longest_s,
        cost_per_hour=_RIDE_COST_PER_HOUR,
    )
    fleet = FleetInput(
        id=0, vehicle_type=vtype, count=1, shift_start_s=trip.leave_after_s,
        shift_end_s=trip.leave_before_s + longest_s, open_route=True,
    )  # fmt: skip
    midnight = local_midnight(depot, day)
    ride_ends_by = timedelta(seconds=fleet.shift_end_s)
    reachable = [
        order
        for order in candidates
        # A window the ride cannot reach is not offered: the builder would clip it to the
        # ride's end, outside the promise.
        if order.window_start is None
        or order.window_end is None
        or (
            order.window_start < midnight + ride_ends_by
            and order.window_end > midnight + timedelta(seconds=trip.leave_after_s)
        )
    ]
    within = nearest(depot, trip, reachable)
    mapped = build_problem(depot, [fleet], within, day=day, travel=travel)
    base = mapped.problem
    empty = Bundle((), trip.leave_after_s, trip.leave_after_s + direct_s, direct_s, 0,
                   int(direct.distances[0, 1]), mapped.left_out)  # fmt: skip
    if not base.stops:
        return empty
    origin_at, destination_at = len(base.locations), len(base.locations) + 1
    stops: list[Stop] = []
    pairs: list[PickupDelivery] = []
    for drop in base.stops:
        order_id = mapped.order_of_stop[drop.id]
        stops.append(
            Stop(
                id=_pickup_id(order_id), location=0, service=PICKUP_SERVICE_S,
                demand=drop.demand, kind=StopKind.PICKUP, penalty=0.0,
            )
        )  # fmt: skip
        stops.append(dataclasses.replace(drop, penalty=DROP_PENALTY_EUR))
        pairs.append(PickupDelivery(_pickup_id(order_id), drop.id))
    locations = (*base.locations, *ends)
    vehicle = base.vehicles[0]
    problem = Problem(
        locations=locations,
        matrices={profile: travel.matrix(locations, profile)},
        stops=tuple(stops),
        vehicle_types=base.vehicle_types,
        vehicles=(
            Vehicle(
                id=vehicle.id, type=vehicle.type, start=origin_at, end=destination_at,
                shift=TimeWindow(trip.leave_after_s, trip.leave_before_s + longest_s),
            ),
        ),
        dimensions=base.dimensions,
        shipments=tuple(pairs),
    )  # fmt: skip
    solution = solve(problem, limits or _LIMITS)
    route = solution.routes[0] if solution.routes else None
    if route is None or not any(v.stop_id in mapped.order_of_stop for v in route.visits):
        return empty
    picked = {v.stop_id: v.start for v in route.visits if v.stop_id.startswith("pickup-")}
    chosen = tuple(
        BundleStop(
            order_id=mapped.order_of_stop[v.stop_id],
            pickup_s=picked[_pickup_id(mapped.order_of_stop[v.stop_id])],
            handover_s=v.start,
        )
        for v in route.visits
        if v.stop_id in mapped.order_of_stop
    )
    leave_s, arrive_s = int(route.start_time), int(route.end_time)
    return Bundle(
        chosen, leave_s, arrive_s, direct_s, max(0, arrive_s - leave_s - direct_s),
        route.distance, mapped.left_out,
    )  # fmt: skip
