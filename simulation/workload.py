"""A realistic delivery day to plan: the default fleet catalogue and a seeded workload.

The demo, the what-if simulator and the tests need a day that looks like a parcel carrier's
city-centre operation, not a textbook CVRP: one depot, a couple of hundred parcels of mixed
sizes, two-hour delivery slots (some customers offering a morning *or* an evening slot), a
few optional low-priority drops, parcels that need a signature, careful handling or the cold
chain, and a mixed fleet — diesel and electric vans, cargo bikes, sidewalk robots and
crowdsourced couriers — whose drivers take breaks. :func:`demo_day` builds such a
:class:`~routing.model.Problem` on any street graph following :mod:`routing.network`'s
convention (any :class:`~simulation.cities.City`: the synthetic city or a real district), the
same problem for the same seed.

Units as in :mod:`routing.model`: seconds since midnight, metres, grams, litres, EUR,
grams CO2 per kilometre. The capacity dimensions are :data:`DIMENSIONS`.

The numbers in :data:`FLEET_CATALOGUE` are rules of thumb, not measurements; each type's
comment says where its order of magnitude comes from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np

from orchestrator.planning.service import service_seconds
from routing.errors import InvalidProblemError
from routing.matrix import haversine_m
from routing.model import (
    Break,
    Location,
    Problem,
    Stop,
    TimeWindow,
    Vehicle,
    VehicleKind,
    VehicleType,
)
from routing.network import network_matrix, path_coordinates

if TYPE_CHECKING:  # annotations only: simulation.cities imports the scenario, which imports us
    from simulation.cities.city import City

__all__ = [
    "DEFAULT_FLEET",
    "DIMENSIONS",
    "FLEET_CATALOGUE",
    "SLOTS",
    "demo_day",
    "street_paths",
]

DIMENSIONS = ("weight_g", "volume_l", "parcels")
"""Capacity dimensions of the demo: mass in grams, volume in litres, number of parcels."""

HOUR = 3_600
"""Seconds per hour."""
MINUTE = 60
"""Seconds per minute."""

SLOTS = tuple(TimeWindow(h * HOUR, (h + 2) * HOUR) for h in range(8, 20, 2))
"""The two-hour delivery slots offered to customers, 08:00-10:00 ... 18:00-20:00 (seconds)."""

BUSINESS_HOURS = TimeWindow(9 * HOUR, 17 * HOUR)
"""Opening hours of a business receiving parcels, seconds since midnight."""

# Van drivers: a 30-minute break that starts between 3.5 h and 5.5 h into the shift. The EU
# drivers' rules (Directive 2002/15/EC) ask for 30 minutes after 6 hours of work at the latest.
VAN_BREAK_MIN_S = int(3.5 * HOUR)
VAN_BREAK_MAX_S = int(5.5 * HOUR)
VAN_BREAK_S = 30 * MINUTE

FLEET_CATALOGUE: tuple[VehicleType, ...] = (
    # A 3.5 t diesel panel van (Sprinter/Transit class): ~1 t payload, of which ~800 kg is
    # usable with shelving; 10-11 m3 load space; EU new-van fleet averages ~180-200 g CO2/km
    # WLTP and city driving is worse. Day rate ~120 EUR (lease, insurance), ~0.25 EUR/km
    # (fuel at ~8 l/100 km plus wear), driver ~30 EUR/h all-in.
    VehicleType(
        name="van",
        kind=VehicleKind.VAN,
        capacity=(800_000, 10_000, 120),
        profile="car",
        max_shift=9 * HOUR,
        fixed_cost=120.0,
        cost_per_km=0.25,
        cost_per_hour=30.0,
        co2_g_per_km=200.0,
        skills=frozenset({"fragile", "signature"}),
    ),
    # The same van with a refrigerated box: the unit eats payload and space and burns
    # ~20-30 % more fuel. The only type with the "cold" skill (groceries, pharmacy).
    VehicleType(
        name="van-cold",
        kind=VehicleKind.VAN,
        capacity=(600_000, 7_000, 80),
        profile="car",
        max_shift=9 * HOUR,
        fixed_cost=150.0,
        cost_per_km=0.32,
        cost_per_hour=30.0,
        co2_g_per_km=250.0,
        skills=frozenset({"cold", "fragile", "signature"}),
    ),
    # A battery-electric van (eSprinter/e-Transit class): heavier battery, so less payload;
    # ~0.25 kWh/km at a grid mix of ~150 g/kWh gives ~40 g CO2/km; ~150 km real range.
    VehicleType(
        name="e-van",
        kind=VehicleKind.E_VAN,
        capacity=(600_000, 9_000, 100),
        profile="car",
        range_m=150_000,
        max_shift=9 * HOUR,
        fixed_cost=140.0,
        cost_per_km=0.08,
        cost_per_hour=30.0,
        co2_g_per_km=40.0,
        skills=frozenset({"fragile", "signature"}),
    ),
    # An electric-assist cargo bike with a 1.5 m3 box (Urban Arrow / Bullitt class): payload
    # ~150 kg, ~60 km per battery; ~5 g CO2/km for charging. Rider ~25 EUR/h.
    VehicleType(
        name="cargo-bike",
        kind=VehicleKind.CARGO_BIKE,
        capacity=(150_000, 1_500, 40),
        profile="bike",
        range_m=60_000,
        max_shift=8 * HOUR,
        fixed_cost=35.0,
        cost_per_km=0.03,
        cost_per_hour=25.0,
        co2_g_per_km=5.0,
        skills=frozenset({"signature"}),
    ),
    # A six-wheeled sidewalk robot (Starship class): walking pace (6 km/h), a locked bin of
    # ~45 l for ~20 kg in up to 3 parcels, a few km per charge (~7 km round trip here).
    # No skills: nobody signs or carries anything fragile. ~1 g CO2/km for charging; the
    # hourly cost is a share of a remote operator supervising several robots, and a trip
    # lasts 4 h at most (the robot is not left waiting on the pavement all day).
    VehicleType(
        name="robot",
        kind=VehicleKind.ROBOT,
        capacity=(20_000, 45, 3),
        profile="walk",
        range_m=7_000,
        max_shift=4 * HOUR,
        fixed_cost=8.0,
        cost_per_km=0.05,
        cost_per_hour=3.0,
        co2_g_per_km=1.0,
        skills=frozenset(),
    ),
    # A crowdsourced courier on an e-bike: paid ~0.8 EUR/km plus a small booking fee, free
    # once the last parcel is dropped (an open route), a backpack or small box of ~50 l /
    # 15 kg. No skills: gig couriers are not trusted with signatures or the cold chain.
    VehicleType(
        name="courier",
        kind=VehicleKind.COURIER,
        capacity=(15_000, 50, 6),
        profile="bike",
        max_shift=5 * HOUR,
        fixed_cost=6.0,
        cost_per_km=0.8,
        cost_per_hour=0.0,
        co2_g_per_km=5.0,
        skills=frozenset(),
    ),
)
"""The default vehicle types, capacities aligned with :data:`DIMENSIONS`."""

DEFAULT_FLEET: Mapping[str, int] = {
    "van": 5,
    "van-cold": 1,
    "e-van": 2,
    "cargo-bike": 3,
    "robot": 4,
    "courier": 3,
}
"""Vehicles per type name in :func:`demo_day`: 6 vans (one refrigerated), 2 e-vans, 3 cargo
bikes, 4 robots and 3 couriers."""

# Shifts per type, (start, end) in hours, handed out round-robin to the vehicles of a type:
# early and late van shifts so that 18:00-20:00 slots are covered, couriers at lunch and in
# the evening peak.
_SHIFTS: Mapping[str, tuple[tuple[float, float], ...]] = {
    "van": ((7.5, 16.0), (11.5, 20.0)),
    "van-cold": ((9.5, 18.5),),
    "e-van": ((8.0, 16.5), (11.5, 20.0)),
    "cargo-bike": ((8.0, 16.0), (10.0, 18.0), (12.0, 20.0)),
    "robot": ((8.0, 20.0),),
    "courier": ((16.0, 20.5), (16.0, 20.5), (11.0, 14.0)),
}
_BREAK_KINDS = frozenset({VehicleKind.VAN, VehicleKind.E_VAN})

# Parcel size classes: (share, weight g range, volume l range, parcels range). Small ones fit
# a robot or a courier's backpack, bulky ones only a van.
_SIZES = (
    (0.50, (300, 3_000), (2, 12), (1, 1)),
    (0.32, (3_000, 10_000), (12, 40), (1, 2)),
    (0.14, (10_000, 25_000), (40, 120), (1, 3)),
    (0.04, (25_000, 60_000), (120, 300), (1, 2)),
)
_COLD_SIZE = ((5_000, 15_000), (20, 60), (1, 3))  # a grocery order in cool boxes

# Shares of the orders with each kind of time window; the rest accepts any time.
_P_ONE_SLOT = 0.55
_P_TWO_SLOTS = 0.15  # "morning or evening": one slot before noon, one after 16:00
_P_BUSINESS = 0.18
# Slot popularity 08-10 ... 18-20: people at work want evenings.
_SLOT_WEIGHTS = np.array([0.13, 0.13, 0.13, 0.15, 0.19, 0.27])

_P_COLD = 0.03
_P_SIGNATURE = 0.06
_P_FRAGILE = 0.04
_P_OPTIONAL = 0.05  # low-priority drops (samples, "any day this week" parcels)
_OPTIONAL_PENALTY_EUR = (1.0, 4.0)  # handling it again tomorrow instead


_DEPOT_CANDIDATES = 40  # the depot is the candidate address nearest the centre


def demo_day(
    city: City,
    *,
    seed: int = 0,
    n_orders: int = 200,
    fleet: Mapping[str, int] | None = None,
    catalogue: tuple[VehicleType, ...] = FLEET_CATALOGUE,
) -> Problem:
    """A day of deliveries from one depot near the city centre.

    Parameters
    ----------
    city
        Where: its street graph gives the travel matrices, its addresses the stops.
    seed
        Seed of every random choice (addresses, parcels, windows, skills); same seed and
        city, same problem.
    n_orders
        Number of deliveries (>= 1), one stop each at its own address.
    fleet
        Vehicles per type name (default :data:`DEFAULT_FLEET`); types with 0 vehicles are
        left out of the problem.
    catalogue
        The vehicle types to choose from (default :data:`FLEET_CATALOGUE`).

    Returns
    -------
    Problem
        Location 0 is the depot, location ``k`` the address of stop ``k - 1``; stops are
        ``S001``, ``S002``, ...; vehicles ``<type>-1``, ``<type>-2``, ... start at the depot
        and return there, except couriers (open routes). Demands and capacities are in
        :data:`DIMENSIONS`; windows, shifts and breaks in seconds since midnight; travel
        matrices for the profiles ``"car"``, ``"bike"`` and ``"walk"`` come from
        :func:`routing.network.network_matrix` on the city's graph.

    Raises
    ------
    InvalidProblemError
        If ``n_orders`` is below 1 or the fleet names an unknown type or is empty.
    """
    if n_orders < 1:
        raise InvalidProblemError(f"n_orders {n_orders} must be at least 1")
    fleet = dict(DEFAULT_FLEET if fleet is None else fleet)
    types = {vt.name: vt for vt in catalogue}
    unknown = sorted(set(fleet) - set(types))
    if unknown:
        raise InvalidProblemError(
            f"fleet names unknown vehicle type(s) {unknown} (have: {sorted(types)})"
        )
    if any(n < 0 for n in fleet.values()) or sum(fleet.values()) == 0:
        raise InvalidProblemError(f"fleet {fleet} must have 0 or more of each type, 1 at least")
    rng = np.random.default_rng(seed)

    depot = _depot(city, rng)
    addresses = city.random_points(n_orders, rng)
    locations = (depot, *addresses)
    used_types = tuple(vt for vt in catalogue if fleet.get(vt.name, 0) > 0)
    has_cold = any("cold" in vt.skills for vt in used_types)
    stops = tuple(_order(k, k + 1, rng, cold_ok=has_cold) for k in range(n_orders))
    vehicles = tuple(_vehicle(vt, i) for vt in used_types for i in range(fleet[vt.name]))
    profiles = sorted({vt.profile for vt in used_types})
    matrices = {p: network_matrix(city.graph, locations, p) for p in profiles}
    return Problem(
        locations=locations,
        matrices=matrices,
        stops=stops,
        vehicle_types=used_types,
        vehicles=vehicles,
        dimensions=DIMENSIONS,
    )


def street_paths(
    graph: nx.Graph,
) -> Callable[[str, Location, Location], list[tuple[float, float]]]:
    """A function drawing legs along the streets, for :func:`routing.geojson.solution_to_geojson`.

    Parameters
    ----------
    graph
        The street graph the problem's matrices were computed on.

    Returns
    -------
    callable
        ``(profile, a, b) -> [(lat, lon), ...]``: the fastest path from ``a`` to ``b`` for
        that profile, as :func:`routing.network.path_coordinates` routes it (degrees).
        Results are cached per leg, so drawing a plan twice costs one search per leg.
    """

    @lru_cache(maxsize=4_096)
    def _path(profile: str, a: Location, b: Location) -> tuple[tuple[float, float], ...]:
        return tuple(path_coordinates(graph, profile, a, b))

    def paths(profile: str, a: Location, b: Location) -> list[tuple[float, float]]:
        return list(_path(profile, a, b))

    return paths


def _depot(city: City, rng: np.random.Generator) -> Location:
    """The candidate address nearest the centre: a real site, central but not the centroid."""
    candidates = city.random_points(_DEPOT_CANDIDATES, rng)
    lat0, lon0 = city.center
    dist = haversine_m(
        np.array([c.lat for c in candidates]), np.array([c.lon for c in candidates]), lat0, lon0
    )
    best = candidates[int(np.argmin(dist))]
    return Location("depot", best.lat, best.lon)


def _order(k: int, location: int, rng: np.random.Generator, *, cold_ok: bool) -> Stop:
    """Order ``k`` (0-based) delivered at ``location``: parcel, windows, skills, penalty."""
    skills: set[str] = set()
    cold = cold_ok and rng.random() < _P_COLD
    if cold:
        skills.add("cold")
        weight_r, volume_r, parcels_r = _COLD_SIZE
    else:
        size = rng.choice(len(_SIZES), p=[s[0] for s in _SIZES])
        _, weight_r, volume_r, parcels_r = _SIZES[size]
    weight = int(rng.integers(weight_r[0], weight_r[1] + 1))
    volume = int(rng.integers(volume_r[0], volume_r[1] + 1))
    parcels = int(rng.integers(parcels_r[0], parcels_r[1] + 1))
    if rng.random() < _P_SIGNATURE:
        skills.add("signature")
    if rng.random() < _P_FRAGILE:
        skills.add("fragile")

    if cold:
        # Grocery slots, inside the refrigerated van's shift.
        windows: tuple[TimeWindow, ...] = (SLOTS[1 + int(rng.integers(0, 4))],)
    else:
        windows = _windows(rng)
    optional = not cold and rng.random() < _P_OPTIONAL
    penalty = float(rng.uniform(*_OPTIONAL_PENALTY_EUR)) if optional else None
    service = service_seconds(parcels, signature="signature" in skills)
    return Stop(
        id=f"S{k + 1:03d}",
        location=location,
        service=service,
        windows=windows,
        demand=(weight, volume, parcels),
        skills=frozenset(skills),
        penalty=round(penalty, 2) if penalty is not None else None,
        priority=0,
    )


def _windows(rng: np.random.Generator) -> tuple[TimeWindow, ...]:
    """A customer's windows: one slot, morning-or-evening, business hours, or any time."""
    u = rng.random()
    if u < _P_ONE_SLOT:
        return (SLOTS[int(rng.choice(len(SLOTS), p=_SLOT_WEIGHTS / _SLOT_WEIGHTS.sum()))],)
    u -= _P_ONE_SLOT
    if u < _P_TWO_SLOTS:
        return (SLOTS[int(rng.integers(0, 2))], SLOTS[4 + int(rng.integers(0, 2))])
    u -= _P_TWO_SLOTS
    if u < _P_BUSINESS:
        return (BUSINESS_HOURS,)
    return ()


def _vehicle(vt: VehicleType, i: int) -> Vehicle:
    """The ``i``-th (0-based) vehicle of a type: its shift, break, start and end."""
    shifts = _SHIFTS.get(vt.name, ((8.0, 16.0),))
    begin_h, end_h = shifts[i % len(shifts)]
    shift = TimeWindow(round(begin_h * HOUR), round(end_h * HOUR))
    breaks: tuple[Break, ...] = ()
    if vt.kind in _BREAK_KINDS:
        window = TimeWindow(shift.start + VAN_BREAK_MIN_S, shift.start + VAN_BREAK_MAX_S)
        breaks = (Break(window, VAN_BREAK_S),)
    open_route = vt.kind is VehicleKind.COURIER
    return Vehicle(
        id=f"{vt.name}-{i + 1}",
        type=vt.name,
        start=0,
        end=None if open_route else 0,
        shift=shift,
        breaks=breaks,
    )
