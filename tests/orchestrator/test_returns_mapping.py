"""Return pickups in the one mapping: a pickup is paired with a drop-off at its store when
the store is the depot's, else carried to the depot — by a vehicle that ends there."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator.models import Depot, Fleet, OrderItem, Place, Store, VehicleType
from orchestrator.planning.inputs import PickupInput
from orchestrator.planning.problem import (
    ENDS_AT_DEPOT,
    build_problem,
    dropoff_stop_id,
    pickup_stop_id,
)
from orchestrator.planning.rows import depot_input, fleet_inputs, pickup_input
from orchestrator.planning.travel import StraightLineTravel
from routing import StopKind, TimeWindow, UnservedReason
from tests.orchestrator.conftest import HOUR

PICKUP_DAY = date(2025, 3, 5)
MIDNIGHT = datetime(2025, 3, 4, 22, tzinfo=UTC)  # PICKUP_DAY's local midnight in Helsinki


class _Return(NamedTuple):
    """A return to collect as the store has it: rows (the store's rule makes it a value)."""

    return_id: int
    place: Place
    item: OrderItem
    window_start: datetime | None = None
    window_end: datetime | None = None
    store: Store | None = None


def _planned(entries: list[_Return]) -> list[PickupInput]:
    return [pickup_input(*entry) for entry in entries]


def _depot(**changes: Any) -> Depot:
    return Depot(id=1, code="HEL1", name="Helsinki", lat=60.1699, lon=24.9384,
                 timezone="Europe/Helsinki", **changes)  # fmt: skip


def _van(name: str = "van") -> VehicleType:
    return VehicleType(id=1, name=name, capacity_weight_g=800_000,
                       capacity_volume_ml=10_000_000, capacity_parcels=120)  # fmt: skip


def _fleet(fleet_id: int = 1, *, open_route: bool = False, type_id: int = 1) -> Fleet:
    return Fleet(id=fleet_id, depot_id=1, vehicle_type_id=type_id, count=1,
                 shift_start_s=8 * HOUR, shift_end_s=18 * HOUR, open_route=open_route)  # fmt: skip


@st.composite
def pickups(draw: st.DrawFn) -> list[_Return]:
    """Returns at random places, to a store of the depot, of another depot, or to none."""
    stores = [
        Store(id=1, code="A", name="A", lat=60.18, lon=24.95, depot_id=1),
        Store(id=2, code="B", name="B", lat=60.16, lon=24.94, depot_id=1),
        Store(id=3, code="C", name="C", lat=60.45, lon=22.27, depot_id=2),  # Turku's
    ]
    out = []
    for k in range(draw(st.integers(0, 6))):
        lat, lon = draw(st.floats(60.15, 60.20)), draw(st.floats(24.90, 24.98))
        place = Place(id=100 + k, customer_id=1, name=f"p{k}", lat=lat, lon=lon)
        item = OrderItem(
            id=k + 1,
            order_id=1,
            weight_g=draw(st.integers(0, 5_000)),
            volume_ml=draw(st.integers(0, 20_000)),
            parcels=draw(st.integers(0, 2)),
        )
        start = draw(st.one_of(st.none(), st.integers(8, 16)))
        window = (
            (MIDNIGHT + timedelta(hours=start), MIDNIGHT + timedelta(hours=start + 2))
            if start is not None
            else (None, None)
        )
        store = draw(st.sampled_from([None, *stores]))
        out.append(_Return(k + 1, place, item, *window, store=store))
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pickups())
def test_pickups_pair_with_the_depots_stores_only(entries: list[_Return]) -> None:
    mapped = build_problem(
        depot_input(_depot()),
        fleet_inputs([(_fleet(), _van())]),
        [],
        day=PICKUP_DAY,
        travel=StraightLineTravel(),
        pickups=_planned(entries),
    )
    problem = mapped.problem
    pairs = {p.pickup: p.delivery for p in problem.shipments}
    for entry in entries:
        pickup = problem.stop(pickup_stop_id(entry.return_id))
        item = entry.item
        assert pickup.kind is StopKind.PICKUP
        assert pickup.demand == (item.weight_g, item.volume_ml, item.parcels)
        place = problem.locations[pickup.location]
        assert (place.lat, place.lon) == (entry.place.lat, entry.place.lon)
        if entry.window_start is None:
            assert pickup.windows == ()
        else:
            start = int((entry.window_start - mapped.midnight).total_seconds())
            assert pickup.windows == (TimeWindow(start, start + 2 * HOUR),)
        ours = entry.store is not None and entry.store.depot_id == 1
        assert (entry.return_id in mapped.to_store) is ours
        if ours:
            assert entry.store is not None
            drop = problem.stop(pairs[pickup.id])
            assert drop.id == dropoff_stop_id(entry.return_id) and drop.kind is StopKind.DELIVERY
            assert drop.demand == pickup.demand
            assert problem.locations[drop.location].id == f"store-{entry.store.id}"
            assert mapped.store_of_stop[drop.id] == entry.store.id
        else:
            assert pickup.id not in pairs
        assert mapped.return_of_stop[pickup.id] == entry.return_id
    # One location per store, however many returns go there.
    store_locations = [loc.id for loc in problem.locations if loc.id.startswith("store-")]
    assert len(store_locations) == len(set(store_locations))
    assert mapped.order_of_stop == {} and mapped.left_out_returns == ()


def test_pickups_to_the_depot_need_a_vehicle_that_ends_there() -> None:
    courier = VehicleType(id=2, name="courier", kind="courier", capacity_weight_g=20_000,
                          capacity_volume_ml=60_000, capacity_parcels=10)  # fmt: skip
    place = Place(id=7, customer_id=1, name="home", lat=60.17, lon=24.93)
    item = OrderItem(id=1, order_id=1, weight_g=500, volume_ml=1_000, parcels=1)
    to_depot = _planned([_Return(5, place, item)])
    mixed = [(_fleet(1), _van()), (_fleet(2, open_route=True, type_id=2), courier)]

    mapped = build_problem(
        depot_input(_depot()),
        fleet_inputs(mixed),
        [],
        day=PICKUP_DAY,
        travel=StraightLineTravel(),
        pickups=to_depot,
    )
    assert mapped.problem.stop(pickup_stop_id(5)).skills == frozenset({ENDS_AT_DEPOT})
    assert ENDS_AT_DEPOT in mapped.problem.vehicle_type("van").skills
    assert ENDS_AT_DEPOT not in mapped.problem.vehicle_type("courier").skills

    only_couriers = build_problem(
        depot_input(_depot()),
        fleet_inputs(mixed[1:]),
        [],
        day=PICKUP_DAY,
        travel=StraightLineTravel(),
        pickups=to_depot,
    )
    (left,) = only_couriers.left_out_returns
    assert left.return_id == 5 and left.reason == UnservedReason.NO_VEHICLE_WITH_SKILLS.value
    assert "ends its route elsewhere" in left.detail
    # Without open routes nothing changes for the fleet.
    plain = build_problem(
        depot_input(_depot()),
        fleet_inputs(mixed[:1]),
        [],
        day=PICKUP_DAY,
        travel=StraightLineTravel(),
        pickups=to_depot,
    )
    assert plain.problem.stop(pickup_stop_id(5)).skills == frozenset()
    assert plain.problem.vehicle_type("van").skills == frozenset()
