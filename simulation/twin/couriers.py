"""Crowdsourced couriers: a commuter reaches the hub, is offered a bundle on their way home, rides.

The courier pool goes through production's flow (:mod:`orchestrator.commuting`), on the twin's
own state and with no store:

* a courier reaching the hub (:class:`~simulation.world.Courier`) registers a trip
  (:func:`courier_trip`): from the hub to their home, leaving within :data:`LEAVE_WITHIN_S`,
  carrying what the pool's couriers carry, losing at most the time to ride the pool's
  ``max_detour_km`` on the bike;
* the hub's orders of the day still waiting for a vehicle are the candidates, as the
  production planner sees them (:func:`simulation.twin.plan_inputs.order_input`), and the
  offer rule (:func:`orchestrator.commuting.bundle.best_bundle`) picks the bundle — customers
  who refuse couriers are left out by the one problem builder, the detour is a hard limit;
* the payout rule (:func:`orchestrator.commuting.payout.decide`) prices it: the courier asks
  the pool's rate (base + per parcel + per km of detour) and is offered that when it is at
  most what the bundle's orders cost on the vans in the hub's current plan
  (:func:`simulation.twin.planning.plan` keeps each order's route share), else no offer
  (:attr:`CourierLog.priced_out`);
* the courier accepts or refuses (logistic in pay and detour: the human's choice), may not
  show up, and rides the bundle in the rule's order (:func:`riding_order`: the rule may send
  them back to the hub for a second load within their detour) on the bike network with noisy
  legs and hand-overs; a parcel they could not drop comes back to the hub.

Units: seconds since midnight of the first simulated day, metres, grams, millilitres, EUR.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import simpy

from orchestrator.commuting.bundle import PICKUP_SERVICE_S, Bundle, Trip, best_bundle
from orchestrator.commuting.payout import Payout, decide, order_van_costs
from routing.solve import Limits
from simulation.errors import InvariantError
from simulation.scenario import COURIER_TYPE
from simulation.twin.orders import OrderState, Status
from simulation.twin.outcomes import attempt, back_at_hub, release
from simulation.twin.plan_inputs import MIN_SHIFT_LEFT_S, order_input, service_s
from simulation.twin.vehicles import lognormal
from simulation.world import DAY_S, HOUR_S, MINUTE_S, Courier

if TYPE_CHECKING:
    from simulation.twin.setup import Twin

__all__ = [
    "BUNDLE_SOLUTIONS",
    "LEAVE_WITHIN_S",
    "CourierLog",
    "Offer",
    "courier",
    "courier_offer",
    "courier_trip",
    "peak_load",
    "riding_order",
]

LEAVE_WITHIN_S = 30 * MINUTE_S
"""Seconds after reaching the hub within which a courier is ready to set off: the trip's
leaving window. The offer rule bounds the arrival home (by the window's end, the straight
ride and the detour), not the departure: it may plan the ride to leave up to the detour after
the window, and the courier waits at the hub until then."""
BUNDLE_SOLUTIONS = 20
"""Improving solutions the offer rule's solver looks for per trip: the twin's search stops on
this count, never on the clock (same seed, same bundles on a loaded machine)."""


@dataclass(slots=True)
class CourierLog:
    """What the courier pool did over a replication.

    ``arrived``: couriers who reached the hub; ``priced_out``: a bundle fitted but they asked
    more than its orders cost on the vans (no offer); ``offered``, ``accepted``,
    ``no_shows``: offers made, accepted, and accepted but never collected; ``pay_eur``: paid
    for bundles ridden; ``km_m``: metres of detour ridden; ``attempts``: drops tried;
    ``max_parcels``, ``max_grams``, ``max_ml``: the most an accepting courier had on board at
    once (:func:`peak_load`); ``max_detour_s``: the longest planned detour of an offer,
    seconds.
    """

    arrived: int = 0
    offered: int = 0
    accepted: int = 0
    no_shows: int = 0
    pay_eur: float = 0.0
    km_m: int = 0
    attempts: int = 0
    max_parcels: int = 0
    max_grams: int = 0
    max_ml: int = 0
    priced_out: int = 0
    max_detour_s: int = 0


@dataclass(frozen=True, slots=True)
class Offer:
    """What the production flow makes of a courier at the hub: the trip, the bundle (possibly
    empty), its orders in riding order, the metres of detour and the payout rule's answer
    (``None`` with an empty bundle)."""

    trip: Trip
    bundle: Bundle
    orders: tuple[OrderState, ...]
    detour_m: int
    payout: Payout | None


def courier(env: simpy.Environment, twin: Twin, c: Courier) -> Generator[simpy.Event, Any, None]:
    """A crowdsourced courier: reaches the hub, is offered a bundle, accepts or not, rides."""
    pool = twin.scenario.fleet.couriers
    log = twin.courier_log
    rng = twin.courier_rng
    if c.arrival > env.now:
        yield env.timeout(c.arrival - env.now)
    log.arrived += 1
    base = int(env.now // DAY_S) * DAY_S
    offer = courier_offer(twin, c, int(env.now))
    if offer.payout is None:
        return
    if offer.payout.payout_eur is None:
        log.priced_out += 1
        return
    log.offered += 1
    bundle, orders = offer.bundle, offer.orders
    if bundle.detour_s > offer.trip.max_detour_s:
        raise InvariantError(
            f"courier {c.index} offered a detour of {bundle.detour_s} s beyond their "
            f"{offer.trip.max_detour_s} s"
        )
    log.max_detour_s = max(log.max_detour_s, bundle.detour_s)
    pay = offer.payout.payout_eur
    logit = (
        pool.acceptance_intercept
        + pool.acceptance_per_eur * pay
        - pool.acceptance_per_km * offer.detour_m / 1_000
    )
    if rng.random() >= 1.0 / (1.0 + math.exp(-logit)):
        return
    log.accepted += 1
    for o in orders:
        o.status = Status.ASSIGNED
    steps = riding_order(bundle)
    peak = peak_load([o.spec.demand for o in orders], steps)
    if (
        peak[2] > pool.capacity_parcels
        or peak[0] > pool.capacity_kg * 1_000
        or peak[1] > pool.capacity_l * 1_000
    ):
        raise InvariantError(f"courier {c.index} offered {peak} on board, beyond capacity")
    log.max_parcels = max(log.max_parcels, peak[2])
    log.max_grams = max(log.max_grams, peak[0])
    log.max_ml = max(log.max_ml, peak[1])
    if rng.random() < pool.no_show:
        log.no_shows += 1
        yield env.timeout(pool.no_show_timeout_min * MINUTE_S)
        release(orders)
        return
    log.pay_eur += pay
    log.km_m += offer.detour_m
    leave = base + bundle.leave_s
    if leave > env.now:
        yield env.timeout(leave - env.now)  # the bundle's ride sets off then
    hub = twin.world.hubs[c.hub]
    matrix = twin.world.travel.matrix([hub, *(o.location for o in orders)], "bike")
    sigma = twin.scenario.noise
    failed: list[OrderState] = []
    here = 0  # where the courier is: 0 the hub, k the k-th order's place
    for is_pickup, k in steps:
        there = 0 if is_pickup else k + 1
        if there != here:
            yield env.timeout(
                float(matrix.durations[here, there]) * lognormal(twin.noise_rng, sigma.travel_sigma)
            )
            here = there
        if is_pickup:
            yield env.timeout(PICKUP_SERVICE_S)  # taken at the hub's counter
            continue
        o = orders[k]
        if env.now < o.window[0]:
            yield env.timeout(o.window[0] - env.now)
        log.attempts += 1
        if not attempt(twin, o, COURIER_TYPE, env.now):
            failed.append(o)
        service = service_s(o.spec.demand) * lognormal(twin.noise_rng, sigma.service_sigma)
        yield env.timeout(service)
    # A parcel the courier could not drop goes back to the hub with them the next morning.
    for o in failed:
        back_at_hub(twin, o, env.now)


def riding_order(bundle: Bundle) -> list[tuple[bool, int]]:
    """The bundle's pickups and hand-overs in the order the rule planned them: ``(True, k)``
    takes the ``k``-th order at the hub, ``(False, k)`` hands it over. The rule may bring
    the courier back to the hub for more parcels when that fits their detour: their capacity
    bounds what is on board at once, not the bundle."""
    timed = [(s.pickup_s, 0, k) for k, s in enumerate(bundle.stops)]
    timed += [(s.handover_s, 1, k) for k, s in enumerate(bundle.stops)]
    return [(kind == 0, k) for _, kind, k in sorted(timed)]


def peak_load(
    demands: Sequence[tuple[int, int, int]], steps: Sequence[tuple[bool, int]]
) -> tuple[int, int, int]:
    """The most a courier riding ``steps`` (:func:`riding_order`) has on board at once, per
    dimension: grams, millilitres, parcels (``demands[k]``: the ``k``-th order's)."""
    load, peak = [0, 0, 0], [0, 0, 0]
    for is_pickup, k in steps:
        sign = 1 if is_pickup else -1
        load = [a + sign * d for a, d in zip(load, demands[k], strict=True)]
        peak = [max(p, a) for p, a in zip(peak, load, strict=True)]
    return peak[0], peak[1], peak[2]


def courier_trip(twin: Twin, c: Courier, now: int) -> Trip:
    """The trip a courier at the hub at ``now`` registers, as production's offer rule takes it:
    hub → home on the bike, leaving within :data:`LEAVE_WITHIN_S`, the pool's capacity, and
    a detour of at most the seconds to ride ``max_detour_km`` at the bike's speed (riding,
    handing over and waiting for windows all count against it)."""
    pool = twin.scenario.fleet.couriers
    hub = twin.world.hubs[c.hub]
    t = now - int(now // DAY_S) * DAY_S
    speed_kmh = twin.world.profiles["bike"].speed_kmh
    return Trip(
        origin=(hub.lat, hub.lon),
        destination=(c.home.lat, c.home.lon),
        leave_after_s=t,
        leave_before_s=t + LEAVE_WITHIN_S,
        capacity_parcels=pool.capacity_parcels,
        max_detour_s=round(pool.max_detour_km / speed_kmh * HOUR_S),
        mode="bike",
        carry_g=round(pool.capacity_kg * 1_000),
        carry_ml=round(pool.capacity_l * 1_000),
    )


def courier_offer(twin: Twin, c: Courier, now: int) -> Offer:
    """The offer production's flow makes a courier at the hub at ``now`` (the module's notes).

    Candidates are the hub's orders of the day waiting for a vehicle whose promised window is
    still in reach (no courier is offered a parcel already late, as production offers the
    promised window); each is the planner's :class:`~orchestrator.planning.inputs.OrderInput`
    with its customer's acceptance of couriers.
    """
    pool = twin.scenario.fleet.couriers
    day = int(now // DAY_S)
    t = now - day * DAY_S
    trip = courier_trip(twin, c, now)
    waiting = {
        o.spec.index + 1: o
        for o in twin.by_hub[c.hub]
        if o.status is Status.WAITING and o.day == day and o.window[1] > now + MIN_SHIFT_LEFT_S
    }
    closing = twin.clock_s(day, twin.policies.closing_h * HOUR_S)
    candidates = [order_input(twin, o, day, t, closing) for o in waiting.values()]
    limits = Limits(
        time_limit=twin.policies.solver_time_limit_s,
        solution_limit=BUNDLE_SOLUTIONS,
        seed_with="none",
    )
    bundle = best_bundle(
        twin.depots[c.hub], twin.service_date(day), trip, candidates,
        travel=twin.world.travel, limits=limits,
    )  # fmt: skip
    if not bundle.stops:
        return Offer(trip, bundle, (), 0, None)
    orders = tuple(waiting[order_id] for order_id in bundle.order_ids)
    hub = twin.world.hubs[c.hub]
    direct_m = int(twin.world.travel.matrix([hub, c.home], "bike").distances[0, 1])
    detour_m = max(0, bundle.distance_m - direct_m)
    wanted = (
        pool.pay_base_eur
        + pool.pay_per_parcel_eur * len(orders)
        + pool.pay_per_km_eur * detour_m / 1_000
    )
    plan = twin.van_plans.get(c.hub)
    if plan is None or plan.day != day:
        costs = order_van_costs(bundle.order_ids, {}, None)  # no plan of the day yet
    else:
        costs = order_van_costs(bundle.order_ids, plan.share_of, plan.average_eur)
    return Offer(trip, bundle, orders, detour_m, decide(wanted, costs))
