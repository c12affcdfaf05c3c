"""The twin's vehicles, orders and returns as the production planner's rows.

:func:`orchestrator.planning.problem.build_problem` takes table rows (depots, fleets, vehicle
types, orders with their items and places, returns to pick up); the twin builds them in
memory, never in a database: one one-vehicle fleet per hub vehicle (:func:`fleet_row`), one
order with one item per parcel (:func:`order_input`), one pickup per return
(:func:`pickup_input`).

Units: seconds since midnight of the first simulated day; windows as aware UTC instants.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from orchestrator.models import Fleet, Order, OrderItem, Place, PlaceKind, Store
from orchestrator.models import VehicleType as DomainVehicleType
from orchestrator.planning.problem import OrderInput, PickupInput
from simulation.twin.charging import battery_level
from simulation.world import DAY_S, HOUR_S, MINUTE_S

if TYPE_CHECKING:
    from simulation.pickups import ReturnState
    from simulation.twin.orders import OrderState
    from simulation.twin.setup import Twin
    from simulation.twin.vehicles import Agent

__all__ = ["MIN_SHIFT_LEFT_S", "fleet_row", "order_input", "pickup_input", "place_kind"]

MIN_SHIFT_LEFT_S = 15 * MINUTE_S
"""Seconds: a vehicle with less shift left is not planned, and a window that ends sooner is
out of reach."""
_RETURN_PLACE_ID = 10_000_000  # place ids of pickups, apart from the orders' places


def fleet_row(
    twin: Twin, agent: Agent, start_s: int, *, day: int, full: bool = False
) -> tuple[Fleet, Any]:
    """The agent as a one-vehicle fleet (id = agent index + 1) of its current type, on
    its shift of ``day``."""
    vt = agent.vtype
    name, fixed, range_m = vt.name, vt.fixed_cost, vt.range_m
    if not full and int(twin.env.now // DAY_S) in agent.days_used:
        name, fixed = f"{name}+", 0.0  # the day's fixed cost is already paid
    if agent.battery is not None and not full:
        range_m = max(1, int(battery_level(twin, agent)))
        name = f"{name}@{range_m}"
    domain = twin.domain_types.get(name)
    if domain is None:
        domain = DomainVehicleType(
            id=len(twin.domain_types) + 1,
            name=name,
            kind=vt.kind,
            profile=vt.profile,
            capacity_weight_g=vt.capacity[0],
            capacity_volume_ml=vt.capacity[1],
            capacity_parcels=vt.capacity[2],
            range_m=range_m,
            max_shift_s=vt.max_shift,
            fixed_cost=fixed,
            cost_per_km=vt.cost_per_km,
            # A robot's hour stays priced for every hour out of the hub, though supervision
            # is paid on the move only: a robot waiting at a door is not delivering
            # elsewhere (priced per km, plans kept robots waiting for hours).
            cost_per_hour=vt.cost_per_hour,
            co2_g_per_km=vt.co2_g_per_km,
            skills=[],
        )
        twin.domain_types[name] = domain
    assert domain.id is not None  # set above: the table model's id is optional until stored
    fleet = Fleet(
        id=agent.index + 1,
        depot_id=agent.hub + 1,
        vehicle_type_id=domain.id,
        count=1,
        shift_start_s=min(start_s, twin.shift(agent, day)[1] - 1),
        shift_end_s=twin.shift(agent, day)[1],
        open_route=False,
    )
    return fleet, domain


def order_input(twin: Twin, o: OrderState, day: int, t: int, closing: int) -> OrderInput:
    """The order as domain rows; a window already out of reach becomes "as soon as
    possible" (the delivery will be late)."""
    if o.db_order is None:
        oid = o.spec.index + 1
        o.db_order = Order(
            id=oid,
            customer_id=o.spec.customer.index + 1,
            depot_id=o.spec.hub + 1,
            service_day=twin.service_date(day),
            idempotency_key=f"sim-{oid}",
            content_hash="",
        )
        weight, volume, parcels = o.spec.demand
        o.db_item = OrderItem(
            order_id=oid, weight_g=weight, volume_ml=volume, parcels=parcels, quantity=1
        )
    place = o.db_place
    if place is None or place.name != o.place:
        place = Place(
            id=o.spec.index * 4 + list(o.spec.customer.places).index(o.place) + 1,
            customer_id=o.spec.customer.index + 1,
            kind=place_kind(o.place),
            name=o.place,
            lat=o.location.lat,
            lon=o.location.lon,
        )
        o.db_place = place
    base = day * DAY_S
    start, end = o.window[0] - base, o.window[1] - base
    if end <= t + MIN_SHIFT_LEFT_S:
        start, end = t, max(closing, t + HOUR_S)
    midnight = twin.midnight(day)
    order = o.db_order
    order.service_day = twin.service_date(day)
    order.place_id = place.id
    order.window_start = midnight + timedelta(seconds=max(start, t))
    order.window_end = midnight + timedelta(seconds=max(end, t + 1))
    assert o.db_item is not None
    return OrderInput(order, [o.db_item], place)


def pickup_input(twin: Twin, ret: ReturnState, day: int, t: int) -> PickupInput:
    """The return as the production mapping takes it: a place, one unit of the line, the
    window and — when its store is served from this hub — the store."""
    weight, volume, parcels = ret.demand
    place = Place(
        id=_RETURN_PLACE_ID + ret.index,
        customer_id=ret.order + 1,
        kind=PlaceKind.HOME,
        name="home",
        lat=ret.location.lat,
        lon=ret.location.lon,
    )
    item = OrderItem(
        order_id=ret.order + 1, weight_g=weight, volume_ml=volume, parcels=parcels, quantity=1
    )
    store = None
    if ret.store is not None:
        site = twin.world.stores[ret.store]
        store = Store(
            id=ret.store + 1,
            code=site.id,
            name=f"Store {ret.store + 1}",
            lat=site.lat,
            lon=site.lon,
            depot_id=ret.hub + 1,
        )
    midnight = twin.midnight(day)
    base = day * DAY_S
    start, end = ret.window[0] - base, ret.window[1] - base
    return PickupInput(
        return_id=ret.index + 1,
        place=place,
        item=item,
        window_start=midnight + timedelta(seconds=max(start, t)),
        window_end=midnight + timedelta(seconds=max(end, t + 1)),
        store=store,
    )


def place_kind(name: str) -> PlaceKind:
    """The kind of a customer's place, by its name in the world (``"home"``, ``"office"``,
    ``"café"``; anything else is ``OTHER``)."""
    return {"home": PlaceKind.HOME, "office": PlaceKind.OFFICE, "café": PlaceKind.CAFE}.get(
        name, PlaceKind.OTHER
    )
