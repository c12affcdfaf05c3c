"""The store's rows as planning input: the one place table rows become
:mod:`orchestrator.planning.inputs` values."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from orchestrator.models import Depot, Fleet, Order, OrderItem, Place, Store, VehicleType
from orchestrator.planning.inputs import (
    DepotInput,
    FleetInput,
    OrderInput,
    PickupInput,
    PlaceInput,
    StoreInput,
    VehicleTypeInput,
)

__all__ = [
    "depot_input",
    "fleet_inputs",
    "order_input",
    "pickup_input",
    "place_input",
]


def depot_input(depot: Depot) -> DepotInput:
    """A stored depot as the planner sees it."""
    assert depot.id is not None, "a depot must be stored before it is planned"
    return DepotInput(depot.id, depot.code, depot.lat, depot.lon, depot.timezone)


def place_input(place: Place) -> PlaceInput:
    """A place (stored or about to be) as the planner sees it."""
    return PlaceInput(place.id, place.lat, place.lon)


def order_input(order: Order, items: Iterable[OrderItem], place: Place | None) -> OrderInput:
    """A stored order with its lines (their demand summed, times quantity) and chosen place."""
    assert order.id is not None, "an order must be stored before it is planned"
    lines = list(items)
    return OrderInput(
        id=order.id,
        place=place_input(place) if place is not None else None,
        demand=(
            sum(i.weight_g * i.quantity for i in lines),
            sum(i.volume_ml * i.quantity for i in lines),
            sum(i.parcels * i.quantity for i in lines),
        ),
        window_start=order.window_start,
        window_end=order.window_end,
        fragile=order.fragile,
        signature_required=order.signature_required,
        cold_chain=order.cold_chain,
    )


def pickup_input(
    return_id: int,
    place: Place,
    item: OrderItem,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
    store: Store | None = None,
) -> PickupInput:
    """A scheduled return: one unit of ``item`` collected at ``place`` in the window, carried
    to ``store`` (or to the depot when ``None``)."""
    return PickupInput(
        return_id=return_id,
        place=place_input(place),
        demand=(item.weight_g, item.volume_ml, item.parcels),
        window_start=window_start,
        window_end=window_end,
        store=(
            StoreInput(store.id, store.depot_id, store.lat, store.lon)
            if store is not None and store.id is not None
            else None
        ),
    )


def fleet_inputs(fleets: Sequence[tuple[Fleet, VehicleType]]) -> tuple[FleetInput, ...]:
    """A depot's stored fleets, each with its vehicle type, as the planner sees them."""
    out = []
    for fleet, vt in fleets:
        assert fleet.id is not None, "a fleet must be stored before it is planned"
        out.append(
            FleetInput(
                id=fleet.id,
                vehicle_type=VehicleTypeInput(
                    name=vt.name,
                    kind=vt.kind,
                    capacity=(vt.capacity_weight_g, vt.capacity_volume_ml, vt.capacity_parcels),
                    profile=vt.profile,
                    range_m=vt.range_m,
                    max_shift_s=vt.max_shift_s,
                    fixed_cost=vt.fixed_cost,
                    cost_per_km=vt.cost_per_km,
                    cost_per_hour=vt.cost_per_hour,
                    co2_g_per_km=vt.co2_g_per_km,
                    skills=frozenset(vt.skills),
                ),
                count=fleet.count,
                shift_start_s=fleet.shift_start_s,
                shift_end_s=fleet.shift_end_s,
                open_route=fleet.open_route,
                break_duration_s=fleet.break_duration_s or 0,
                break_earliest_s=fleet.break_earliest_s,
                break_latest_s=fleet.break_latest_s,
            )
        )
    return tuple(out)
