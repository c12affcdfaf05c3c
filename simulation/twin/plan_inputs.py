"""The twin's vehicles, orders and returns as the production planner's input.

:func:`orchestrator.planning.problem.build_problem` takes plain values
(:mod:`orchestrator.planning.inputs`); the twin makes them from its own state, with no table
model and no database: one one-vehicle fleet per hub vehicle (:func:`fleet_input`), one order
with all its parcels (:func:`order_input`), one pickup per return (:func:`pickup_input`).

Units: seconds since midnight of the first simulated day; windows as aware UTC instants.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from orchestrator.planning.inputs import (
    FleetInput,
    OrderInput,
    PickupInput,
    PlaceInput,
    StoreInput,
    VehicleTypeInput,
)
from orchestrator.planning.service import service_seconds
from simulation.twin.charging import battery_level
from simulation.world import DAY_S, HOUR_S, MINUTE_S

if TYPE_CHECKING:
    from simulation.pickups import ReturnState
    from simulation.twin.orders import OrderState
    from simulation.twin.setup import Twin
    from simulation.twin.vehicles import Agent

__all__ = [
    "MIN_SHIFT_LEFT_S",
    "fleet_input",
    "order_input",
    "pickup_input",
    "place_kind",
    "service_s",
]

MIN_SHIFT_LEFT_S = 15 * MINUTE_S
"""Seconds: a vehicle with less shift left is not planned, and a window that ends sooner is
out of reach."""
_RETURN_PLACE_ID = 10_000_000  # place ids of pickups, apart from the orders' places
_PLACE_KINDS = {"home": "home", "office": "office", "café": "cafe"}


def fleet_input(
    twin: Twin, agent: Agent, start_s: int, *, day: int, full: bool = False
) -> FleetInput:
    """The agent as a one-vehicle fleet (id = agent index + 1) of its current type, on its
    shift of ``day``. Unless ``full``, a type whose day's fixed cost is already paid is named
    ``<type>+`` and costs nothing fixed, and a battery vehicle's range is what its battery has
    left (named ``<type>@<metres>``)."""
    vt = agent.vtype
    name, fixed, range_m = vt.name, vt.fixed_cost, vt.range_m
    if not full and int(twin.env.now // DAY_S) in agent.days_used:
        name, fixed = f"{name}+", 0.0  # the day's fixed cost is already paid
    if agent.battery is not None and not full:
        range_m = max(1, int(battery_level(twin, agent)))
        name = f"{name}@{range_m}"
    vehicle_type = VehicleTypeInput(
        name=name,
        kind=vt.kind,
        capacity=(vt.capacity[0], vt.capacity[1], vt.capacity[2]),
        profile=vt.profile,
        range_m=range_m,
        max_shift_s=vt.max_shift,
        fixed_cost=fixed,
        # A robot's hour stays priced for every hour out of the hub, though supervision is
        # paid on the move only: a robot waiting at a door is not delivering elsewhere
        # (priced per km, plans kept robots waiting for hours).
        cost_per_km=vt.cost_per_km,
        cost_per_hour=vt.cost_per_hour,
        co2_g_per_km=vt.co2_g_per_km,
    )
    shift_end = twin.shift(agent, day)[1]
    return FleetInput(
        id=agent.index + 1,
        vehicle_type=vehicle_type,
        count=1,
        shift_start_s=min(start_s, shift_end - 1),
        shift_end_s=shift_end,
    )


def order_input(twin: Twin, o: OrderState, day: int, t: int, closing: int) -> OrderInput:
    """The order (id = its index + 1) at the place its customer chose, with what its customer
    accepts (robots, couriers); a window already out of reach becomes "as soon as possible"
    (the delivery will be late)."""
    place = PlaceInput(
        id=o.spec.index * 4 + list(o.spec.customer.places).index(o.place) + 1,
        lat=o.location.lat,
        lon=o.location.lon,
    )
    base = day * DAY_S
    start, end = o.window[0] - base, o.window[1] - base
    if end <= t + MIN_SHIFT_LEFT_S:
        start, end = t, max(closing, t + HOUR_S)
    midnight = twin.midnight(day)
    weight, volume, parcels = o.spec.demand
    return OrderInput(
        id=o.spec.index + 1,
        place=place,
        demand=(weight, volume, parcels),
        window_start=midnight + timedelta(seconds=max(start, t)),
        window_end=midnight + timedelta(seconds=max(end, t + 1)),
        # Who may bring it: build_problem keeps refused robots and couriers away.
        accepts_robot=o.spec.customer.accepts_robot,
        accepts_courier=o.spec.customer.accepts_courier,
    )


def pickup_input(twin: Twin, ret: ReturnState, day: int, t: int) -> PickupInput:
    """The return (id = its index + 1) as the production mapping takes it: a place, one unit
    of the line, the window and — when its store is served from this hub — the store."""
    store = None
    if ret.store is not None:
        site = twin.world.stores[ret.store]
        store = StoreInput(id=ret.store + 1, depot_id=ret.hub + 1, lat=site.lat, lon=site.lon)
    midnight = twin.midnight(day)
    base = day * DAY_S
    start, end = ret.window[0] - base, ret.window[1] - base
    weight, volume, parcels = ret.demand
    return PickupInput(
        return_id=ret.index + 1,
        place=PlaceInput(_RETURN_PLACE_ID + ret.index, ret.location.lat, ret.location.lon),
        demand=(weight, volume, parcels),
        window_start=midnight + timedelta(seconds=max(start, t)),
        window_end=midnight + timedelta(seconds=max(end, t + 1)),
        store=store,
    )


def place_kind(name: str) -> str:
    """The kind of a customer's place, by its name in the world: ``home``, ``office``,
    ``cafe`` (for ``café``), anything else ``other`` — the values of the store's place kinds."""
    return _PLACE_KINDS.get(name, "other")


def service_s(demand: tuple[int, int, int]) -> int:
    """Planned seconds at a stop with ``demand`` (grams, millilitres, parcels), by the one rule
    planning uses (:func:`orchestrator.planning.service.service_seconds`); the twin's orders
    need no signature. Vehicles and couriers serve for this times a noise factor."""
    return service_seconds(demand[2])
