"""The offer rule and the payout rule of :mod:`orchestrator.commuting`, on plain values: a
bundle fits the commuter's detour, skips customers who refuse couriers and keeps every
promised window; the payout is what was asked, up to what the vans would cost."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from orchestrator.commuting.bundle import CARRY_G, CARRY_ML, Trip, best_bundle, nearest
from orchestrator.commuting.payout import UNPLANNED_ORDER_EUR, decide, order_van_costs
from orchestrator.planning.inputs import DepotInput, OrderInput, PlaceInput
from tests.orchestrator.conftest import TRAVEL

DAY = date(2025, 3, 3)
ZONE = ZoneInfo("Europe/Helsinki")
MIDNIGHT = datetime(2025, 3, 3, tzinfo=ZONE)
DEPOT = DepotInput(1, "HEL1", 60.1699, 24.9384, "Europe/Helsinki")
HOUR = 3_600
# Points north of the depot, near a ride from the depot's street to Kallio.
NEAR = [(60.1755, 24.9310), (60.1810, 24.9520), (60.1800, 24.9300), (60.1868, 24.9290)]
FAR = (60.2500, 25.1000)  # Itäkeskus: far off the way


def order(n: int, point: tuple[float, float], start_h: float = 16, end_h: float = 18,
          *, courier: bool = True) -> OrderInput:  # fmt: skip
    """Order ``n`` of one parcel to ``point``, promised ``start_h``-``end_h`` o'clock."""
    return OrderInput(
        n, PlaceInput(n, *point), (1_000, 5_000, 1),
        MIDNIGHT + timedelta(hours=start_h), MIDNIGHT + timedelta(hours=end_h),
        accepts_courier=courier,
    )  # fmt: skip


def trip(detour_min: int = 20, parcels: int = 3) -> Trip:
    """A bike ride leaving 16:00-17:00 from near the depot to Kallio."""
    return Trip((60.1690, 24.9390), (60.1950, 24.9400), 16 * HOUR, 17 * HOUR, parcels,
                detour_min * 60)  # fmt: skip


def test_a_bundle_fits_the_detour_and_the_capacity() -> None:
    orders = [order(n, p) for n, p in enumerate(NEAR, 1)]
    bundle = best_bundle(DEPOT, DAY, trip(detour_min=20, parcels=3), orders, travel=TRAVEL)
    assert 1 <= len(bundle.stops) <= 3
    assert bundle.detour_s <= 20 * 60
    assert bundle.arrive_s - bundle.leave_s <= bundle.direct_s + 20 * 60


def test_an_order_far_off_the_way_is_not_offered() -> None:
    bundle = best_bundle(DEPOT, DAY, trip(detour_min=10), [order(1, FAR)], travel=TRAVEL)
    assert bundle.stops == ()


def test_a_customer_who_refuses_couriers_is_never_offered() -> None:
    orders = [order(1, NEAR[0], courier=False), order(2, NEAR[2])]
    bundle = best_bundle(DEPOT, DAY, trip(), orders, travel=TRAVEL)
    assert 1 not in bundle.order_ids
    assert [o.order_id for o in bundle.left_out] == [1]
    assert "does not accept couriers" in bundle.left_out[0].detail


@pytest.mark.parametrize(
    ("start_h", "end_h"),
    [
        (16.25, 16.75),  # opens after the ride may start: the ride waits or goes round
        (15.0, 16.4),  # closes soon after the ride starts
        (20.0, 21.0),  # after the ride's end: never offered outside its window
        (9.0, 12.0),  # over before the ride starts
    ],
)
def test_every_hand_over_is_inside_its_promised_window(start_h: float, end_h: float) -> None:
    orders = [order(1, NEAR[0], start_h, end_h), order(2, NEAR[2])]
    bundle = best_bundle(DEPOT, DAY, trip(), orders, travel=TRAVEL)
    windows = {o.id: o for o in orders}
    for stop in bundle.stops:
        o = windows[stop.order_id]
        assert o.window_start is not None and o.window_end is not None
        at = MIDNIGHT + timedelta(seconds=stop.handover_s)
        assert o.window_start <= at <= o.window_end
        assert stop.pickup_s < stop.handover_s  # taken at the depot first
    if start_h >= 20 or end_h <= 12:
        assert 1 not in bundle.order_ids


def test_same_trip_same_bundle() -> None:
    orders = [order(n, p) for n, p in enumerate(NEAR, 1)]
    first = best_bundle(DEPOT, DAY, trip(), orders, travel=TRAVEL)
    assert best_bundle(DEPOT, DAY, trip(), orders, travel=TRAVEL) == first


@pytest.mark.parametrize(
    ("wanted", "costs", "payout"),
    [
        (5.0, [4.0, 3.0], 5.0),  # asked less than the vans cost: paid what was asked
        (7.0, [4.0, 3.0], 7.0),  # exactly the vans' cost
        (7.01, [4.0, 3.0], None),  # more than the vans cost: no offer
        (0.0, [], 0.0),  # a volunteer
    ],
)
def test_the_payout_is_what_was_asked_up_to_the_vans_cost(
    wanted: float, costs: list[float], payout: float | None
) -> None:
    decision = decide(wanted, costs)
    assert decision.payout_eur == payout
    assert decision.carrier_cost_eur == round(sum(costs), 2)
    if payout is None:
        assert decision.reason is not None and "ask at most 7.00 EUR" in decision.reason


def test_a_trip_carries_the_pools_grams_and_millilitres_unless_told() -> None:
    assert (trip().carry_g, trip().carry_ml) == (CARRY_G, CARRY_ML)  # production's default
    orders = [order(n, p) for n, p in enumerate(NEAR, 1)]  # 1 kg, 5 litres each
    light = dataclasses.replace(trip(detour_min=30, parcels=4), carry_g=1_500)
    bundle = best_bundle(DEPOT, DAY, light, orders, travel=TRAVEL)
    assert bundle.stops
    # Never two on board at once: each is handed over before the next is taken.
    for a, b in zip(bundle.stops, bundle.stops[1:], strict=False):
        assert a.handover_s < b.pickup_s
    roomy = best_bundle(DEPOT, DAY, trip(detour_min=30, parcels=4), orders, travel=TRAVEL)
    assert len(roomy.stops) >= len(bundle.stops)


def test_only_the_candidates_nearest_the_way_that_fit_are_solved() -> None:
    way = trip(parcels=2)
    orders = [order(n, p) for n, p in enumerate(NEAR, 1)] + [order(5, FAR)]
    heavy = dataclasses.replace(order(6, NEAR[0]), demand=(CARRY_G + 1, 1_000, 1))
    unplaced = dataclasses.replace(order(7, NEAR[1]), place=None)
    kept = nearest(DEPOT, way, [*orders, heavy, unplaced], limit=2)
    assert [o.id for o in kept][-1] == 7  # no place: left to the builder, which says why
    assert 5 not in {o.id for o in kept} and 6 not in {o.id for o in kept}
    assert len(kept) == 3
    assert nearest(DEPOT, way, orders, limit=10) == orders  # few enough: all, in their order


@pytest.mark.parametrize(
    ("shares", "average", "costs"),
    [
        ({1: 3.0}, 5.0, [3.0, 5.0]),  # order 1 on a route, order 2 at the plan's average
        ({}, None, [UNPLANNED_ORDER_EUR, UNPLANNED_ORDER_EUR]),  # no plan: the rule of thumb
    ],
)
def test_each_order_costs_its_route_share_else_the_average(
    shares: dict[int, float], average: float | None, costs: list[float]
) -> None:
    assert order_van_costs([1, 2], shares, average) == costs
