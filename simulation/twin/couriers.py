"""Crowdsourced couriers: a commuter reaches the hub, is offered a bundle on their way home, rides.

A courier arrives at the hub when the world drew (:class:`~simulation.world.Courier`), is
offered the waiting parcels with the cheapest detours on their way home
(:func:`courier_bundle`), accepts or refuses (logistic in pay and detour), may not show up,
and rides the bundle on the bike network; a parcel they could not drop comes back to the hub.

Units: seconds since midnight of the first simulated day, metres, grams, millilitres, EUR.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from routing.matrix import URBAN_DETOUR_FACTOR, haversine_m
from simulation.errors import InvariantError
from simulation.scenario import COURIER_TYPE
from simulation.twin.orders import OrderState, Status
from simulation.twin.outcomes import attempt, back_at_hub, release
from simulation.twin.plan_inputs import MIN_SHIFT_LEFT_S, service_s
from simulation.twin.vehicles import lognormal
from simulation.world import DAY_S, MINUTE_S, Courier

if TYPE_CHECKING:
    from simulation.twin.setup import Twin

__all__ = ["CourierLog", "courier", "courier_bundle"]

_COURIER_CANDIDATES = 30  # nearest-by-detour parcels considered for a courier's bundle
_COURIER_WINDOW_AHEAD_S = 90 * MINUTE_S  # a bundle's windows must open within this


@dataclass(slots=True)
class CourierLog:
    """What the courier pool did over a replication."""

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


def courier(env: simpy.Environment, twin: Twin, c: Courier) -> Generator[simpy.Event, Any, None]:
    """A crowdsourced courier: reaches the hub, is offered a bundle, accepts or not, rides."""
    pool = twin.scenario.fleet.couriers
    log = twin.courier_log
    rng = twin.courier_rng
    if c.arrival > env.now:
        yield env.timeout(c.arrival - env.now)
    log.arrived += 1
    bundle = courier_bundle(twin, c, int(env.now))
    if not bundle:
        return
    log.offered += 1
    hub = twin.world.hubs[c.hub]
    points = [hub, *(o.location for o in bundle), c.home]
    matrix = twin.world.travel.matrix(points, "bike")
    route_m = sum(int(matrix.distances[k, k + 1]) for k in range(len(points) - 1))
    detour_m = max(0, route_m - int(matrix.distances[0, len(points) - 1]))
    pay = pool.pay_base_eur + pool.pay_per_parcel_eur * len(bundle)
    pay += pool.pay_per_km_eur * detour_m / 1_000
    logit = (
        pool.acceptance_intercept
        + pool.acceptance_per_eur * pay
        - pool.acceptance_per_km * detour_m / 1_000
    )
    if rng.random() >= 1.0 / (1.0 + math.exp(-logit)):
        return
    log.accepted += 1
    for o in bundle:
        o.status = Status.ASSIGNED
    load = [sum(o.spec.demand[i] for o in bundle) for i in range(3)]
    if (
        load[2] > pool.capacity_parcels
        or load[0] > pool.capacity_kg * 1_000
        or load[1] > pool.capacity_l * 1_000
    ):
        raise InvariantError(f"courier {c.index} offered {load} beyond capacity")
    log.max_parcels = max(log.max_parcels, load[2])
    log.max_grams = max(log.max_grams, load[0])
    log.max_ml = max(log.max_ml, load[1])
    if rng.random() < pool.no_show:
        log.no_shows += 1
        yield env.timeout(pool.no_show_timeout_min * MINUTE_S)
        release(bundle)
        return
    log.pay_eur += pay
    log.km_m += detour_m
    sigma = twin.scenario.noise
    failed: list[OrderState] = []
    for k, o in enumerate(bundle, start=1):
        yield env.timeout(
            float(matrix.durations[k - 1, k]) * lognormal(twin.noise_rng, sigma.travel_sigma)
        )
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


def courier_bundle(twin: Twin, c: Courier, now: int) -> list[OrderState]:
    """The parcels offered to a courier: cheapest detours on their way home, within their
    capacity and the detour limit (straight lines × 1.3; the ride is on the streets)."""
    pool = twin.scenario.fleet.couriers
    day = int(now // DAY_S)
    hub = twin.world.hubs[c.hub]
    caps = (round(pool.capacity_kg * 1_000), round(pool.capacity_l * 1_000))
    eligible = [
        o
        for o in twin.by_hub[c.hub]
        if o.status is Status.WAITING
        and o.day == day
        and o.spec.customer.accepts_courier
        and o.spec.demand[0] <= caps[0]
        and o.spec.demand[1] <= caps[1]
        and o.spec.demand[2] <= pool.capacity_parcels
        and o.window[1] > now + MIN_SHIFT_LEFT_S
        and o.window[0] < now + _COURIER_WINDOW_AHEAD_S
    ]
    if not eligible:
        return []
    lat = np.array([o.location.lat for o in eligible])
    lon = np.array([o.location.lon for o in eligible])
    direct = float(haversine_m(hub.lat, hub.lon, c.home.lat, c.home.lon))
    detour = (
        haversine_m(hub.lat, hub.lon, lat, lon)
        + haversine_m(lat, lon, c.home.lat, c.home.lon)
        - direct
    ) * URBAN_DETOUR_FACTOR
    order = np.argsort(detour, kind="stable")[:_COURIER_CANDIDATES]
    path = [hub, c.home]
    chosen: list[OrderState] = []
    load = [0, 0, 0]
    length = direct * URBAN_DETOUR_FACTOR
    limit = direct * URBAN_DETOUR_FACTOR + pool.max_detour_km * 1_000
    for i in order.tolist():
        o = eligible[i]
        new_load = [a + b for a, b in zip(load, o.spec.demand, strict=True)]
        if new_load[0] > caps[0] or new_load[1] > caps[1]:
            continue
        if new_load[2] > pool.capacity_parcels:
            break
        best, where = math.inf, 0
        for k in range(1, len(path)):
            a, b = path[k - 1], path[k]
            added = (
                haversine_m(a.lat, a.lon, o.location.lat, o.location.lon)
                + haversine_m(o.location.lat, o.location.lon, b.lat, b.lon)
                - haversine_m(a.lat, a.lon, b.lat, b.lon)
            ) * URBAN_DETOUR_FACTOR
            if added < best:
                best, where = float(added), k
        if length + best > limit:
            continue
        path.insert(where, o.location)
        chosen.insert(where - 1, o)
        length += best
        load = new_load
    return chosen
