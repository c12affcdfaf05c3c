"""The twin's courier pool through production's flow (:mod:`simulation.twin.couriers`): its
bundles are the offer rule's, priced by the payout rule on the hub's current plan, and ridden
in the rule's order within the courier's capacity and detour."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from orchestrator.commuting.bundle import Bundle, BundleStop, best_bundle
from orchestrator.commuting.payout import UNPLANNED_ORDER_EUR
from routing.solve import Limits
from simulation.scenario import COURIER_TYPE, Scenario
from simulation.twin import Status, Twin, order_arrivals
from simulation.twin import couriers as pool_module
from simulation.twin.couriers import (
    BUNDLE_SOLUTIONS,
    LEAVE_WITHIN_S,
    Offer,
    courier_offer,
    courier_trip,
    peak_load,
    riding_order,
)
from simulation.twin.plan_inputs import order_input
from simulation.world import DAY_S, HOUR_S, Courier

AFTERNOON = [0.0] * 12 + [1.0] * 6 + [0.0] * 6  # couriers reach the hub 12:00-18:00


@contextmanager
def recorded(
    windows: list[list[tuple[int, int]]] | None = None,
) -> Iterator[list[tuple[int, Offer]]]:
    """Every offer the twin's couriers get while the block runs, with when it was made (and,
    into ``windows``, its orders' promised windows then)."""
    offers: list[tuple[int, Offer]] = []

    def record(twin: Twin, c: Courier, now: int) -> Offer:
        offer = courier_offer(twin, c, now)
        offers.append((now, offer))
        if windows is not None:
            windows.append([o.window for o in offer.orders])
        return offer

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pool_module, "courier_offer", record)
        yield offers


def busy(tiny: Scenario, **changes: object) -> Scenario:
    """The tiny scenario with 16 couriers in the afternoon who accept nearly every offer."""
    return tiny.with_changes({
        "fleet.couriers.size": 16, "fleet.couriers.arrival_profile": AFTERNOON,
        "fleet.couriers.acceptance_intercept": 8.0, "fleet.couriers.no_show": 0.0,
        "demand.orders_per_day": 80, **changes,
    })  # fmt: skip


@pytest.mark.parametrize("seed", [1, 2, 3])  # three worlds: different homes, orders, plans
def test_every_bundle_fits_the_trip_and_keeps_the_rule(tiny: Scenario, seed: int) -> None:
    scenario = busy(tiny, seed=seed, **{"fleet.couriers.pay_base_eur": 0.0})
    twin = Twin(scenario)
    promised: list[list[tuple[int, int]]] = []
    with recorded(promised) as offers:
        twin.run()
    bundles = [(now, o, w) for (now, o), w in zip(offers, promised, strict=True) if o.orders]
    assert bundles, "no courier got a bundle: the test proves nothing"
    pool = scenario.fleet.couriers
    capacity = (pool.capacity_kg * 1_000, pool.capacity_l * 1_000, pool.capacity_parcels)
    for now, offer, windows in bundles:
        trip, bundle = offer.trip, offer.bundle
        assert bundle.detour_s <= trip.max_detour_s
        # The rule bounds the arrival home, not the departure (see courier's LEAVE_WITHIN_S).
        assert trip.leave_after_s <= bundle.leave_s <= trip.leave_before_s + trip.max_detour_s
        assert bundle.arrive_s <= trip.leave_before_s + bundle.direct_s + trip.max_detour_s
        peak = peak_load([o.spec.demand for o in offer.orders], riding_order(bundle))
        assert all(p <= c for p, c in zip(peak, capacity, strict=True))
        base = int(now // DAY_S) * DAY_S
        for stop, o, window in zip(bundle.stops, offer.orders, windows, strict=True):
            assert o.spec.index + 1 == stop.order_id
            assert o.spec.customer.accepts_courier
            assert o.spec.hub == 0
            assert window[0] <= base + stop.handover_s <= window[1]  # the promise kept
    log = twin.courier_log
    assert log.offered == sum(o.payout is not None and o.payout.payout_eur is not None
                              for _, o in offers)  # fmt: skip
    assert 0 < log.max_detour_s <= offers[0][1].trip.max_detour_s


def test_a_customer_who_refuses_couriers_is_never_in_a_bundle(tiny: Scenario) -> None:
    # Half the customers refuse couriers: the problem builder leaves them out, with a reason.
    scenario = busy(tiny, **{"demand.preferences.courier_acceptance": 0.5,
                             "fleet.couriers.pay_base_eur": 0.0})  # fmt: skip
    twin = Twin(scenario)
    with recorded() as offers:
        twin.run()
    refused = {o.spec.index + 1 for o in twin.orders if not o.spec.customer.accepts_courier}
    assert refused
    assert any(o.orders for _, o in offers)
    assert all(not refused & set(o.bundle.order_ids) for _, o in offers)
    left_out = {x.order_id for _, o in offers for x in o.bundle.left_out}
    assert left_out and left_out <= refused
    assert all(o.first_type != COURIER_TYPE for o in twin.orders if o.spec.index + 1 in refused)
    assert any(o.first_type == COURIER_TYPE for o in twin.orders)


def test_a_bundle_priced_above_its_van_cost_makes_no_offer(tiny: Scenario) -> None:
    def run(pay_base_eur: float) -> Twin:
        twin = Twin(busy(tiny, **{"fleet.couriers.pay_base_eur": pay_base_eur}))
        twin.run()
        return twin

    dear = run(500.0)  # no van route costs that much: every bundle priced out
    log = dear.courier_log
    assert log.priced_out > 0
    assert log.offered == log.accepted == log.attempts == 0
    assert all(o.first_type != COURIER_TYPE for o in dear.orders)
    free = run(0.0)  # the same couriers asking only per parcel and km
    assert free.courier_log.offered > 0 and free.courier_log.attempts > 0


def test_the_price_is_the_commuters_rate_against_the_current_plan(tiny: Scenario) -> None:
    scenario = busy(tiny)
    twin = Twin(scenario)
    with recorded() as offers:
        twin.run()
    pool = scenario.fleet.couriers
    priced = [o for _, o in offers if o.payout is not None]
    assert priced
    for offer in priced:
        assert offer.payout is not None
        n = len(offer.orders)
        wanted = (pool.pay_base_eur + pool.pay_per_parcel_eur * n
                  + pool.pay_per_km_eur * offer.detour_m / 1_000)  # fmt: skip
        if offer.payout.payout_eur is not None:
            assert offer.payout.payout_eur == round(wanted, 2)
            assert offer.payout.payout_eur <= offer.payout.carrier_cost_eur
        else:
            assert wanted > offer.payout.carrier_cost_eur
    # The last plan of the run holds each of its orders at its route's share.
    plan = twin.van_plans[0]
    assert plan.share_of and plan.average_eur is not None
    assert plan.day == tiny.days - 1
    total = sum(plan.share_of.values())
    assert total == pytest.approx(plan.average_eur * len(plan.share_of))


def test_the_courier_gets_the_offer_rules_bundle_priced_without_a_plan(tiny: Scenario) -> None:
    # Orders arrive, no plan runs: the offer is best_bundle on the hub's waiting orders, and
    # each order costs the rule of thumb on the vans.
    twin = Twin(busy(tiny))
    twin.env.process(order_arrivals(twin.env, twin, twin.world.orders))
    now = 14 * HOUR_S
    twin.env.run(until=now)
    assert not twin.van_plans
    c = twin.world.couriers[0]
    offer = courier_offer(twin, c, now)
    waiting = [o for o in twin.by_hub[0] if o.status is Status.WAITING and o.day == 0
               and o.window[1] > now + 15 * 60]  # fmt: skip
    closing = twin.clock_s(0, twin.policies.closing_h * HOUR_S)
    direct = best_bundle(
        twin.depots[0], twin.service_date(0), courier_trip(twin, c, now),
        [order_input(twin, o, 0, now, closing) for o in waiting], travel=twin.world.travel,
        limits=Limits(time_limit=30.0, solution_limit=BUNDLE_SOLUTIONS, seed_with="none"),
    )  # fmt: skip
    assert direct.stops and offer.bundle == direct
    assert offer.trip.leave_before_s - offer.trip.leave_after_s == LEAVE_WITHIN_S
    assert offer.payout is not None
    assert offer.payout.carrier_cost_eur == round(UNPLANNED_ORDER_EUR * len(offer.orders), 2)
    assert courier_offer(twin, c, now) == offer  # the same bundle again: no clock in it


def test_the_ride_follows_the_rule_back_to_the_hub_for_a_second_load() -> None:
    # Two taken, one dropped, back to the hub for the third, then two drops.
    bundle = Bundle(
        (BundleStop(1, 100, 400), BundleStop(2, 130, 900), BundleStop(3, 700, 1_200)),
        100, 1_500, 300, 1_100, 4_000,
    )  # fmt: skip
    steps = riding_order(bundle)
    assert steps == [(True, 0), (True, 1), (False, 0), (True, 2), (False, 1), (False, 2)]
    demands = [(1_000, 1_000, 1), (2_000, 1_000, 1), (4_000, 1_000, 1)]
    assert peak_load(demands, steps) == (6_000, 2_000, 2)  # never all three on board
