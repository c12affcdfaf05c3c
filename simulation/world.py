"""The world of one replication: its city and travel times, the customers, orders and couriers.

Everything random about *who* orders *what*, *where* and *when* is drawn here, up front, from
one generator: the replication's demand is fixed before the first event, so two scenarios that
differ only in policy or fleet see the same customers and parcels (common random numbers) and
the travel matrices can be prepared once for every point that will ever be visited.

Units: seconds since midnight of the first simulated day (local time at the hubs), metres,
grams, millilitres, degrees.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from orchestrator.concierge.schedule import ScheduleRule, WeeklySchedule
from routing.matrix import haversine_m
from routing.model import Location
from routing.network import BIKE, CAR, Profile
from simulation.cities.city import City
from simulation.cities.loader import load_city
from simulation.cities.travel import SnappedTravel
from simulation.scenario import Scenario

__all__ = [
    "DAY_S",
    "HOUR_S",
    "MINUTE_S",
    "SIZE_CLASSES",
    "Courier",
    "Customer",
    "OrderSpec",
    "World",
    "build_world",
    "elapsed_s",
]

DAY_S = 86_400
"""Seconds per simulated day."""
HOUR_S = 3_600
"""Seconds per hour."""
MINUTE_S = 60
"""Seconds per minute."""

SIZE_CLASSES: Mapping[str, tuple[tuple[int, int], tuple[int, int], tuple[int, int]]] = {
    "small": ((300, 3_000), (2_000, 12_000), (1, 1)),
    "medium": ((3_000, 10_000), (12_000, 40_000), (1, 1)),
    "large": ((10_000, 25_000), (40_000, 120_000), (1, 2)),
    "bulky": ((25_000, 60_000), (120_000, 300_000), (1, 2)),
}
"""Per size class: (grams, millilitres, parcels) ranges, inclusive."""


def elapsed_s(day: date, timezone: str, wall_s: float) -> int:
    """Seconds elapsed since local midnight of ``day`` at the local wall-clock time ``wall_s``
    (seconds on a 24-hour clock face: ``7.5 * 3600`` is 07:30), in ``timezone``.

    The simulated clock counts elapsed seconds, as the planner does; they equal the wall clock
    except on a daylight-saving change: on 2026-03-29 in Helsinki 07:30 is 6.5 h after
    midnight, on 2026-10-25 8.5 h. A wall time the change skips counts from the earlier
    offset; a time past 24:00 runs on in elapsed seconds.
    """
    zone = ZoneInfo(timezone)
    # Instants in UTC: two aware times of one zone subtract as wall clocks.
    midnight = datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
    after = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
    whole = round(wall_s)
    length = int((after - midnight).total_seconds())
    if length == DAY_S:
        return whole
    if whole >= DAY_S:
        return length + whole - DAY_S
    at = (datetime.combine(day, time()) + timedelta(seconds=whole)).replace(tzinfo=zone)
    return int((at.astimezone(UTC) - midnight).total_seconds())


_WEEKDAYS = frozenset(range(5))
_CAFE_DAYS = frozenset(range(6))
_CAFES = 12  # café sites in a city (customers who like a café pick the nearest)
_COURIER_HOME_CANDIDATES = 16


@dataclass(frozen=True, slots=True)
class Customer:
    """Who ordered: their places, their week, and what they accept.

    ``places`` maps place names (``"home"``, ``"office"``, ``"café"``) to locations;
    ``schedule`` says where they are by weekday and hour.
    """

    index: int
    places: Mapping[str, Location]
    schedule: WeeklySchedule
    eco: bool
    accepts_robot: bool
    accepts_courier: bool
    unattended: bool


@dataclass(frozen=True, slots=True)
class OrderSpec:
    """One order as the world draws it: who, when it arrives, how big, which hub serves it.

    ``arrival`` is in seconds since the first day's midnight; ``demand`` is (grams,
    millilitres, parcels).
    """

    index: int
    customer: Customer
    arrival: int
    demand: tuple[int, int, int]
    size: str
    hub: int
    advance_days: int = 0
    """0: wanted on the day it arrives; 1: booked for the next day."""


@dataclass(frozen=True, slots=True)
class Courier:
    """A crowdsourced courier of one day: when they reach the hub and where they live."""

    index: int
    day: int
    arrival: int
    hub: int
    home: Location


@dataclass(frozen=True, slots=True, eq=False)
class World:
    """The city and everything drawn for one replication."""

    city: City
    travel: SnappedTravel
    hubs: tuple[Location, ...]
    orders: tuple[OrderSpec, ...]
    couriers: tuple[Courier, ...]
    profiles: Mapping[str, Profile] = field(default_factory=dict)
    stores: tuple[Location, ...] = ()
    """Stores accepting returns (only when the scenario simulates returns)."""


def build_world(
    scenario: Scenario,
    rng: np.random.Generator,
    *,
    returns_rng: np.random.Generator | None = None,
) -> World:
    """Draw the replication's customers, orders and couriers, and prepare travel times.

    Parameters
    ----------
    scenario
        The scenario.
    rng
        The replication's world generator (nothing else draws from it).
    returns_rng
        The replication's returns generator: draws the stores when the scenario simulates
        returns (the world generator is left alone, so the customers stay the same).
    """
    city = load_city(scenario)
    hubs = tuple(
        Location(f"hub-{h.name}", h.lat, h.lon)
        if h.lat is not None and h.lon is not None
        else Location(f"hub-{h.name}", *city.center)
        for h in scenario.fleet.hubs
    )
    demand = scenario.demand
    prefs = demand.preferences
    n = demand.orders_per_day * scenario.days
    homes = city.random_points(n, rng)
    offices = city.random_points(n, rng)
    cafe_sites = city.random_points(_CAFES, rng)
    kind_u = rng.random(n)
    flags = rng.random((n, 5))
    sizes = list(SIZE_CLASSES)
    mix = np.array([getattr(demand.sizes, s) for s in sizes], dtype=np.float64)
    size_pick = rng.choice(len(sizes), size=n, p=mix / mix.sum())
    unit = rng.random((n, 3))
    hour_p = np.array(demand.hourly_profile, dtype=np.float64)
    hours = rng.choice(24, size=n, p=hour_p / hour_p.sum())
    within = rng.random(n)

    hub_lat = np.array([h.lat for h in hubs])
    hub_lon = np.array([h.lon for h in hubs])
    orders: list[OrderSpec] = []
    for k in range(n):
        home = homes[k]
        places: dict[str, Location] = {"home": Location(f"home-{k}", home.lat, home.lon)}
        rules: tuple[ScheduleRule, ...] = ()
        if kind_u[k] < prefs.office:
            office = offices[k]
            places["office"] = Location(f"office-{k}", office.lat, office.lon)
            rules = (ScheduleRule("office", _WEEKDAYS, time(9), time(17)),)
        elif kind_u[k] < prefs.office + prefs.cafe:
            near = haversine_m(
                np.array([c.lat for c in cafe_sites]),
                np.array([c.lon for c in cafe_sites]),
                home.lat,
                home.lon,
            )
            cafe = cafe_sites[int(np.argmin(near))]
            places["café"] = Location(f"cafe-{int(np.argmin(near))}", cafe.lat, cafe.lon)
            rules = (ScheduleRule("café", _CAFE_DAYS, time(12), time(15)),)
        customer = Customer(
            index=k,
            places=places,
            schedule=WeeklySchedule("home", rules, timezone=scenario.timezone),
            eco=bool(flags[k, 0] < prefs.eco_wait),
            accepts_robot=bool(flags[k, 1] < prefs.robot_acceptance),
            accepts_courier=bool(flags[k, 2] < prefs.courier_acceptance),
            unattended=bool(flags[k, 3] < prefs.unattended),
        )
        size = sizes[int(size_pick[k])]
        (g_lo, g_hi), (v_lo, v_hi), (p_lo, p_hi) = SIZE_CLASSES[size]
        demand_k = (
            int(g_lo + unit[k, 0] * (g_hi - g_lo)),
            int(v_lo + unit[k, 1] * (v_hi - v_lo)),
            int(p_lo + math.floor(unit[k, 2] * (p_hi - p_lo + 1))),
        )
        day = k // demand.orders_per_day
        arrival = day * DAY_S + _arrival_s(scenario, day, (hours[k] + within[k]) * HOUR_S)
        hub = int(np.argmin(haversine_m(hub_lat, hub_lon, home.lat, home.lon)))
        advance = int(flags[k, 4] >= demand.same_day_share)
        orders.append(OrderSpec(k, customer, arrival, demand_k, size, hub, advance))
    orders.sort(key=lambda o: (o.arrival, o.index))

    couriers = _couriers(scenario, city, hubs, rng)
    profiles = {
        "car": CAR,
        "bike": BIKE,
        "walk": Profile("walk", "walk", speed_kmh=scenario.fleet.robots.speed_kmh),
    }
    points = list(hubs)
    for o in orders:
        points.extend(o.customer.places.values())
    points.extend(c.home for c in couriers)
    stores: tuple[Location, ...] = ()
    if scenario.returns.enabled and returns_rng is not None:
        spots = city.random_points(scenario.returns.stores, returns_rng)
        stores = tuple(Location(f"store-{i + 1}", p.lat, p.lon) for i, p in enumerate(spots))
        points.extend(stores)
    travel = SnappedTravel(city.graph, points, profiles)
    return World(city, travel, hubs, tuple(orders), couriers, profiles, stores)


def _arrival_s(scenario: Scenario, day: int, wall_s: float) -> int:
    """An arrival drawn at wall-clock ``wall_s`` on simulated day ``day``, in elapsed seconds
    since that day's midnight, kept within the day (the hourly profiles are by wall clock)."""
    on = scenario.start_date + timedelta(days=day)
    return min(elapsed_s(on, scenario.timezone, math.floor(wall_s)), DAY_S - 1)


def _couriers(
    scenario: Scenario, city: City, hubs: Sequence[Location], rng: np.random.Generator
) -> tuple[Courier, ...]:
    pool = scenario.fleet.couriers
    if pool.size == 0:
        return ()
    names = [h.name for h in scenario.fleet.hubs]
    hub = names.index(pool.hub) if pool.hub is not None else 0
    site = hubs[hub]
    profile = np.array(pool.arrival_profile, dtype=np.float64)
    out: list[Courier] = []
    for day in range(scenario.days):
        hours = rng.choice(24, size=pool.size, p=profile / profile.sum())
        within = rng.random(pool.size)
        wanted_m = rng.exponential(pool.commute_km * 1_000, size=pool.size)
        for i in range(pool.size):
            candidates = city.random_points(_COURIER_HOME_CANDIDATES, rng)
            d = haversine_m(
                np.array([c.lat for c in candidates]),
                np.array([c.lon for c in candidates]),
                site.lat,
                site.lon,
            )
            home = candidates[int(np.argmin(np.abs(d - wanted_m[i])))]
            arrival = day * DAY_S + _arrival_s(scenario, day, (hours[i] + within[i]) * HOUR_S)
            index = len(out)
            out.append(
                Courier(index, day, arrival, hub, Location(f"courier-{index}", home.lat, home.lon))
            )
    out.sort(key=lambda c: (c.arrival, c.index))
    return tuple(out)
