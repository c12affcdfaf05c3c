"""A product-shaped routing benchmark: a synthetic but realistic city day, as a ``routing.Problem``.

The public suites (Solomon, Homberger, X) measure plain VRPTW / CVRP distance. lastmile's days
look different: a mixed fleet (diesel vans, e-vans, cargo bikes) from two hubs, two shifts,
skills, customers with two windows, costs in EUR per vehicle, km and hour; in the variants
also returns to stores (pickup-and-delivery pairs), drivers' breaks, or cargo bikes and
sidewalk robots making several trips a day from a micro-hub. :func:`generate` builds
such a day, reproducibly from a seed (one ``numpy.random.Generator``).

Every parameter is a module constant, with its unit:

* **City**: :data:`CITY_CENTRE` (WGS84 lat, lon; Helsinki), a square of :data:`CITY_SIDE_M`
  metres; :data:`CLUSTERED_SHARE` of the stops in :data:`CLUSTER_COUNT` (min, max) Gaussian
  clusters of standard deviation :data:`CLUSTER_SIGMA_M` (min, max, metres) whose centres keep
  :data:`CLUSTER_MARGIN_M` metres from the edge; the rest uniform over the square. Points are
  drawn in metres east / north of the centre and converted to degrees on a local tangent plane.
* **Hubs**: :data:`HUBS` (name, metres east, metres north); each hub is a start and end depot.
* **Travel**: per profile of :data:`SPEED_KMH` (km/h), straight-line distance times
  :data:`DETOUR_FACTOR` (:func:`routing.matrix.straight_line_matrix`): integer metres, seconds.
* **Stops**: service uniform in :data:`SERVICE_S` (s), demand uniform in :data:`PARCELS`
  (parcels); :data:`SKILL_SHARE` need one skill of :data:`STOP_SKILLS`; :data:`TWO_WINDOW_SHARE`
  have a morning and an evening window of :data:`TWO_WINDOW_WIDTH_S`, starting in
  :data:`MORNING_STARTS_S` and :data:`EVENING_STARTS_S`; the rest one window of a width in
  :data:`ONE_WINDOW_WIDTH_S`, all inside :data:`DAY_S`, on a :data:`WINDOW_GRID_S` grid
  (seconds since midnight). Every stop is mandatory.
* **Fleet**: :data:`VEHICLE_TYPES` (capacity in parcels, profile, skills, EUR fixed / per km /
  per hour, g CO2 per km); :data:`VEHICLES_PER_STOP` vehicles per stop, split by
  :data:`FLEET_SHARES`, at least :data:`MIN_PER_TYPE` of each type, alternating over
  :data:`SHIFTS_S` and :data:`HUBS` so that every type works every shift from every hub. The
  fleet is generous: it is never what limits a plan.
* **Variant "pairs"**: :data:`PAIR_SHARE` extra pickup stops (returns, :data:`RETURN_PARCELS`
  parcels, one window inside :data:`PICKUP_DAY_S`) each paired with a delivery stop at one of
  :data:`STORE_COUNT` stores (window :data:`STORE_WINDOW_S`).
* **Variant "breaks"**: every driver of a type in :data:`BREAK_TYPES` takes one break of
  :data:`BREAK_S` seconds starting within :data:`BREAK_HALF_WINDOW_S` of their shift's middle.
* **Variant "reloads"** (several trips a day): the same base stops; a micro-hub
  (:data:`MICRO_HUB_NAME`, the last location) at the densest spot of the day — the centroid of
  the base stops within :data:`MICRO_HUB_RADIUS_M` metres of the stop with the most such
  neighbours. The vehicle types are :data:`RELOAD_VEHICLE_TYPES`: vans and e-vans as in the
  base day (from the two hubs, no reloads), cargo bikes with a smaller box
  (:data:`RELOAD_BIKE_CAPACITY` parcels) and sidewalk robots (:data:`ROBOT_TYPE`: the "walk"
  profile at :data:`RELOAD_SPEED_KMH`, a few parcels, cheap, a short range); both work from
  the micro-hub (start and end there, shifts alternating over :data:`SHIFTS_S`) and reload
  there, ``reload_at = (micro-hub,)``, with ``(max_reloads, reload_time s)`` per type from
  :data:`RELOADS`. Bikes are as many as in the base day, robots :data:`ROBOTS_PER_STOP` per
  stop (at least :data:`MIN_ROBOTS`). One trip cannot carry a vehicle's share of the day:
  the day's parcels over the fleet are ~33 from 200 stops on (fewer on small days, where the
  minimum counts inflate the fleet), against 20 for a bike and 8 for a robot.

Ids: stops ``s0001`` ... (base stops first, then pickups, then store deliveries), vehicles
``van-01``, ``e-van-01``, ``bike-01`` (and ``robot-01`` in "reloads"). Every stop is servable
by some vehicle on its own (checked with :func:`routing.diagnose.diagnose` on every generated
problem).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from scipy.spatial import cKDTree

from routing import (
    Break,
    Location,
    PickupDelivery,
    Problem,
    Stop,
    StopKind,
    TimeWindow,
    Vehicle,
    VehicleKind,
    VehicleType,
)
from routing.diagnose import diagnose
from routing.matrix import straight_line_matrix

__all__ = [
    "BREAK_HALF_WINDOW_S",
    "BREAK_S",
    "BREAK_TYPES",
    "CITY_CENTRE",
    "CITY_SIDE_M",
    "CLUSTERED_SHARE",
    "CLUSTER_COUNT",
    "CLUSTER_MARGIN_M",
    "CLUSTER_SIGMA_M",
    "DAY_S",
    "DETOUR_FACTOR",
    "EVENING_STARTS_S",
    "FLEET_SHARES",
    "HUBS",
    "MICRO_HUB_NAME",
    "MICRO_HUB_RADIUS_M",
    "MIN_PER_TYPE",
    "MIN_ROBOTS",
    "MORNING_STARTS_S",
    "ONE_WINDOW_WIDTH_S",
    "PAIR_SHARE",
    "PARCELS",
    "PICKUP_DAY_S",
    "RELOADS",
    "RELOAD_BIKE_CAPACITY",
    "RELOAD_SPEED_KMH",
    "RELOAD_VEHICLE_TYPES",
    "RETURN_PARCELS",
    "ROBOTS_PER_STOP",
    "ROBOT_TYPE",
    "SERVICE_S",
    "SHIFTS_S",
    "SKILL_SHARE",
    "SPEED_KMH",
    "STOP_SKILLS",
    "STORE_COUNT",
    "STORE_WINDOW_S",
    "TWO_WINDOW_SHARE",
    "TWO_WINDOW_WIDTH_S",
    "VARIANTS",
    "VEHICLES_PER_STOP",
    "VEHICLE_TYPES",
    "WINDOW_GRID_S",
    "fleet_size",
    "generate",
    "instance_name",
]

_H = 3_600

# -- the city ---------------------------------------------------------------------------------

CITY_CENTRE: tuple[float, float] = (60.17, 24.94)
"""Centre of the city, WGS84 (lat, lon) degrees: central Helsinki."""
CITY_SIDE_M = 15_000.0
"""Side of the square city, metres; stops lie within half of it east/west and north/south."""
CLUSTERED_SHARE = 0.5
"""Share of the stops drawn in Gaussian clusters (the rest are uniform over the city)."""
CLUSTER_COUNT: tuple[int, int] = (5, 8)
"""Number of clusters, drawn uniformly between these bounds (inclusive)."""
CLUSTER_SIGMA_M: tuple[float, float] = (300.0, 900.0)
"""Standard deviation of a cluster, metres, uniform between these bounds."""
CLUSTER_MARGIN_M = 1_500.0
"""Cluster centres keep this many metres from the city's edge."""
HUBS: tuple[tuple[str, float, float], ...] = (
    ("hub-central", 0.0, 0.0),
    ("hub-east", 4_000.0, 1_500.0),
)
"""Depots as (name, metres east of the centre, metres north of it); each starts and ends routes."""

# -- travel -----------------------------------------------------------------------------------

DETOUR_FACTOR = 1.3
"""Street distance over straight-line distance (a common urban value)."""
SPEED_KMH: dict[str, float] = {"car": 25.0, "bike": 15.0}
"""Average speed per travel profile, km/h (urban average with stops and lights)."""

# -- stops ------------------------------------------------------------------------------------

SERVICE_S: tuple[int, int] = (120, 300)
"""Service time per stop, seconds, uniform integer between these bounds (inclusive)."""
PARCELS: tuple[int, int] = (1, 6)
"""Parcels per stop, uniform integer between these bounds (inclusive)."""
STOP_SKILLS: tuple[str, ...] = ("fragile", "cold")
"""Skills a stop may need (one of them, uniformly)."""
SKILL_SHARE = 0.25
"""Share of the base stops that need one skill."""
DAY_S: tuple[int, int] = (7 * _H, 21 * _H)
"""Every window lies inside this day, seconds since midnight (07:00-21:00)."""
WINDOW_GRID_S = 900
"""Window starts and widths are whole multiples of this many seconds (quarter hours)."""
TWO_WINDOW_SHARE = 0.30
"""Share of the base stops with two windows (a morning and an evening one)."""
TWO_WINDOW_WIDTH_S = 2 * _H
"""Width of each of the two windows, seconds."""
MORNING_STARTS_S: tuple[int, int] = (7 * _H, 11 * _H)
"""The morning window starts between these times (inclusive), seconds since midnight."""
EVENING_STARTS_S: tuple[int, int] = (15 * _H, 19 * _H)
"""The evening window starts between these times (inclusive), seconds since midnight."""
ONE_WINDOW_WIDTH_S: tuple[int, int] = (1 * _H, 3 * _H)
"""Width of a single window, seconds, on the grid between these bounds (inclusive)."""

# -- fleet ------------------------------------------------------------------------------------

VEHICLE_TYPES: tuple[VehicleType, ...] = (
    VehicleType(
        name="van",
        kind=VehicleKind.VAN,
        capacity=(120,),
        profile="car",
        fixed_cost=60.0,
        cost_per_km=0.45,
        cost_per_hour=30.0,
        co2_g_per_km=220.0,
        skills=frozenset({"fragile", "cold"}),
    ),
    VehicleType(
        name="e-van",
        kind=VehicleKind.E_VAN,
        capacity=(90,),
        profile="car",
        range_m=150_000,
        fixed_cost=70.0,
        cost_per_km=0.20,
        cost_per_hour=30.0,
        co2_g_per_km=45.0,
        skills=frozenset({"fragile"}),
    ),
    VehicleType(
        name="bike",
        kind=VehicleKind.CARGO_BIKE,
        capacity=(25,),
        profile="bike",
        fixed_cost=25.0,
        cost_per_km=0.05,
        cost_per_hour=26.0,
        co2_g_per_km=5.0,
    ),
)
"""The vehicle types: diesel vans, e-vans (range 150 km), cargo bikes. Capacity in parcels,
costs in EUR (fixed per day used, per km, per hour on duty), CO2 in grams per km."""
VEHICLES_PER_STOP = 0.085
"""Fleet size per stop (about 85 vehicles for 1000 stops)."""
FLEET_SHARES: dict[str, float] = {"van": 0.4, "e-van": 0.3, "bike": 0.3}
"""Share of the fleet per vehicle type."""
MIN_PER_TYPE = 4
"""At least this many vehicles per type: one per shift and hub."""
SHIFTS_S: tuple[tuple[int, int], ...] = ((7 * _H, 15 * _H), (13 * _H, 21 * _H))
"""Shifts (start, end), seconds since midnight; vehicles alternate between them."""

# -- variants ---------------------------------------------------------------------------------

VARIANTS: tuple[str, ...] = ("base", "pairs", "breaks", "reloads")
"""The variants :func:`generate` builds."""
PAIR_SHARE = 0.20
"""Variant "pairs": extra pickup stops (returns) per base stop, each paired with a store."""
RETURN_PARCELS: tuple[int, int] = (1, 3)
"""Variant "pairs": parcels per return, uniform integer between these bounds (inclusive)."""
PICKUP_DAY_S: tuple[int, int] = (8 * _H, 19 * _H)
"""Variant "pairs": a return's single window lies inside these times (seconds since midnight),
so that the store can still be reached in its window and the vehicle get home in its shift."""
STORE_COUNT = 4
"""Variant "pairs": number of stores receiving returns."""
STORE_WINDOW_S: tuple[int, int] = (9 * _H, 20 * _H + 1_800)
"""Variant "pairs": a store takes returns in this window (09:00-20:30), seconds since midnight."""
BREAK_TYPES: tuple[str, ...] = ("van", "e-van")
"""Variant "breaks": drivers of these vehicle types take a break (cargo bikes do not)."""
BREAK_S = 1_800
"""Variant "breaks": break duration, seconds."""
BREAK_HALF_WINDOW_S = _H
"""Variant "breaks": the break starts within this many seconds of the shift's middle."""

MICRO_HUB_NAME = "hub-micro"
"""Variant "reloads": name of the micro-hub, the last of the problem's locations."""
MICRO_HUB_RADIUS_M = 1_000.0
"""Variant "reloads": the micro-hub sits at the centroid of the base stops within this many
metres (straight line) of the base stop with the most base stops that close (ties: the first)."""
RELOAD_SPEED_KMH: dict[str, float] = {"walk": 6.0}
"""Variant "reloads": the robots' travel profile, km/h (sidewalks at walking pace, as
:data:`routing.network.WALK`), on the same detoured straight-line distances."""
RELOAD_BIKE_CAPACITY = 20
"""Variant "reloads": parcels per trip of a micro-hub cargo bike (a smaller box than the
base day's 25: about six stops a trip)."""
ROBOT_TYPE = VehicleType(
    name="robot",
    kind=VehicleKind.ROBOT,
    capacity=(8,),
    profile="walk",
    range_m=20_000,
    fixed_cost=8.0,
    cost_per_km=0.02,
    cost_per_hour=6.0,
    co2_g_per_km=2.0,
)
"""Variant "reloads": a sidewalk delivery robot — 8 parcels, walking pace, 20 km a day on one
battery, EUR 8 a day used, 0.02 per km, 6 per hour (remote supervision), 2 g CO2 per km
(electricity); no skills."""
RELOAD_VEHICLE_TYPES: tuple[VehicleType, ...] = (
    *(
        replace(vt, capacity=(RELOAD_BIKE_CAPACITY,)) if vt.name == "bike" else vt
        for vt in VEHICLE_TYPES
    ),
    ROBOT_TYPE,
)
"""Variant "reloads": the vehicle types — vans and e-vans as in :data:`VEHICLE_TYPES`, the
cargo bike with :data:`RELOAD_BIKE_CAPACITY`, and :data:`ROBOT_TYPE`."""
RELOADS: dict[str, tuple[int, int]] = {"bike": (3, 600), "robot": (4, 300)}
"""Variant "reloads": per vehicle type working from the micro-hub, (max_reloads, reload_time
in seconds): a bike may go out four times a day and loads in 10 min, a robot five times in
5 min."""
ROBOTS_PER_STOP = 0.02
"""Variant "reloads": robots per base stop (4 for 200 stops)."""
MIN_ROBOTS = 2
"""Variant "reloads": at least this many robots (one per shift)."""

_SEED_SALT = 0x1A57
"""Mixed into the seed so that the product stream differs from other users of the same seed."""


def instance_name(stops: int, seed: int, variant: str = "base") -> str:
    """The benchmark's name for an instance: ``product-200-s0`` (``product-pairs-200-s0``)."""
    middle = "" if variant == "base" else f"{variant}-"
    return f"product-{middle}{stops}-s{seed}"


def fleet_size(stops: int, variant: str = "base") -> dict[str, int]:
    """Vehicles per type for ``stops`` base stops (see :data:`VEHICLES_PER_STOP`); the
    "reloads" variant adds robots (:data:`ROBOTS_PER_STOP`, at least :data:`MIN_ROBOTS`)."""
    total = stops * VEHICLES_PER_STOP
    sizes = {name: max(MIN_PER_TYPE, round(share * total)) for name, share in FLEET_SHARES.items()}
    if variant == "reloads":
        sizes[ROBOT_TYPE.name] = max(MIN_ROBOTS, round(ROBOTS_PER_STOP * stops))
    return sizes


def generate(stops: int, *, seed: int = 0, variant: str = "base") -> Problem:
    """Build the product-shaped day with ``stops`` base stops.

    Parameters
    ----------
    stops
        Number of base (delivery) stops, >= 1. The "pairs" variant adds
        ``round(PAIR_SHARE * stops)`` pickups and as many store deliveries.
    seed
        Seed of the ``numpy.random.Generator``; the same (stops, seed) gives the same base
        stops in every variant.
    variant
        ``"base"``, ``"pairs"``, ``"breaks"`` or ``"reloads"`` (see the module docstring).

    Raises
    ------
    ValueError
        On a bad argument, or when a generated stop is not servable on its own (a bug in the
        constants: the message names the stop and the reason).
    """
    if stops < 1:
        raise ValueError(f"stops must be 1 or more, got {stops}")
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}: use one of {', '.join(VARIANTS)}")
    rng = np.random.default_rng([_SEED_SALT, seed, stops])

    # Draw order: base stops first, so every variant of (stops, seed) has the same base stops.
    # Locations: hubs, base stops, pickups, stores.
    hub_xy = np.array([(east, north) for _, east, north in HUBS], dtype=np.float64)
    stop_xy = _stop_points(rng, stops)
    n_pairs = round(PAIR_SHARE * stops) if variant == "pairs" else 0
    width = max(4, len(str(stops + 2 * n_pairs)))
    sid = [f"s{k:0{width}d}" for k in range(1, stops + 2 * n_pairs + 1)]
    base = _base_stops(rng, sid[:stops], len(HUBS))
    pickup_xy = _uniform_points(rng, n_pairs)
    store_xy = _uniform_points(rng, STORE_COUNT) if n_pairs else np.empty((0, 2))
    pickups, deliveries, pairs = _pair_stops(
        rng,
        sid[stops : stops + n_pairs],
        sid[stops + n_pairs :],
        len(HUBS) + stops,
        len(HUBS) + stops + n_pairs,
    )
    reloads = variant == "reloads"
    micro_xy = _micro_hub(stop_xy)[None, :] if reloads else np.empty((0, 2))
    names = (
        [name for name, _, _ in HUBS]
        + [f"loc-{k + 1:04d}" for k in range(stops + n_pairs)]
        + [f"store-{k + 1}" for k in range(len(store_xy))]
        + [MICRO_HUB_NAME] * len(micro_xy)
    )
    xy = np.concatenate([hub_xy, stop_xy, pickup_xy, store_xy, micro_xy])
    locations = tuple(
        Location(name, *_to_degrees(x, y)) for name, (x, y) in zip(names, xy, strict=True)
    )

    speeds = {**SPEED_KMH, **RELOAD_SPEED_KMH} if reloads else SPEED_KMH
    matrices = {
        profile: straight_line_matrix(locations, speed_kmh=speed, detour_factor=DETOUR_FACTOR)
        for profile, speed in speeds.items()
    }
    problem = Problem(
        locations=locations,
        matrices=matrices,
        stops=(*base, *pickups, *deliveries),
        vehicle_types=RELOAD_VEHICLE_TYPES if reloads else VEHICLE_TYPES,
        vehicles=_fleet(
            stops,
            with_breaks=variant == "breaks",
            micro_hub=len(locations) - 1 if reloads else None,
        ),
        dimensions=("parcels",),
        shipments=pairs,
    )
    unserved = diagnose(problem).unserved
    if unserved:
        u = unserved[0]
        raise ValueError(
            f"generated stop {u.stop_id!r} is not servable on its own ({u.reason.value}: "
            f"{u.detail}); {len(unserved)} stop(s) in all — the module constants no longer "
            "fit together (widen the windows or shifts, or add vehicles)"
        )
    return problem


# -- geometry ---------------------------------------------------------------------------------


def _to_degrees(east_m: float, north_m: float) -> tuple[float, float]:
    """Metres east / north of :data:`CITY_CENTRE` to (lat, lon) on a local tangent plane."""
    lat0, lon0 = CITY_CENTRE
    metres_per_deg_lat = 111_320.0
    metres_per_deg_lon = metres_per_deg_lat * math.cos(math.radians(lat0))
    return lat0 + north_m / metres_per_deg_lat, lon0 + east_m / metres_per_deg_lon


def _uniform_points(rng: np.random.Generator, n: int) -> np.ndarray:
    half = CITY_SIDE_M / 2.0
    return rng.uniform(-half, half, size=(n, 2))


def _micro_hub(stop_xy: np.ndarray) -> np.ndarray:
    """The micro-hub (metres east, north): the centroid of the stops within
    :data:`MICRO_HUB_RADIUS_M` of the stop with the most stops that close."""
    tree = cKDTree(stop_xy)
    counts = tree.query_ball_point(stop_xy, r=MICRO_HUB_RADIUS_M, return_length=True)
    densest = int(np.argmax(counts))  # the first of equals
    near = sorted(tree.query_ball_point(stop_xy[densest], r=MICRO_HUB_RADIUS_M))
    return np.round(stop_xy[near].mean(axis=0))


def _stop_points(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` points (metres east, north): :data:`CLUSTERED_SHARE` clustered, the rest uniform."""
    half = CITY_SIDE_M / 2.0
    k = int(rng.integers(CLUSTER_COUNT[0], CLUSTER_COUNT[1] + 1))
    inner = half - CLUSTER_MARGIN_M
    centres = rng.uniform(-inner, inner, size=(k, 2))
    sigmas = rng.uniform(*CLUSTER_SIGMA_M, size=k)
    n_clustered = round(CLUSTERED_SHARE * n)
    which = rng.integers(0, k, size=n_clustered)
    clustered = centres[which] + rng.normal(size=(n_clustered, 2)) * sigmas[which, None]
    points = np.concatenate(
        [np.clip(clustered, -half, half), _uniform_points(rng, n - n_clustered)]
    )
    return points[rng.permutation(n)]


# -- stops ------------------------------------------------------------------------------------


def _grid(rng: np.random.Generator, low: int, high: int, size: int | None = None) -> np.ndarray:
    """Uniform multiples of :data:`WINDOW_GRID_S` in ``[low, high]`` (seconds)."""
    steps = (high - low) // WINDOW_GRID_S
    return low + WINDOW_GRID_S * rng.integers(0, steps + 1, size=size)


def _one_window(rng: np.random.Generator, day: tuple[int, int]) -> tuple[TimeWindow, ...]:
    width = int(_grid(rng, *ONE_WINDOW_WIDTH_S))
    start = int(_grid(rng, day[0], day[1] - width))
    return (TimeWindow(start, start + width),)


def _two_windows(rng: np.random.Generator) -> tuple[TimeWindow, ...]:
    morning = int(_grid(rng, *MORNING_STARTS_S))
    evening = int(_grid(rng, *EVENING_STARTS_S))
    return (
        TimeWindow(morning, morning + TWO_WINDOW_WIDTH_S),
        TimeWindow(evening, evening + TWO_WINDOW_WIDTH_S),
    )


def _base_stops(rng: np.random.Generator, ids: Sequence[str], first_loc: int) -> list[Stop]:
    n = len(ids)
    service = rng.integers(SERVICE_S[0], SERVICE_S[1] + 1, size=n)
    parcels = rng.integers(PARCELS[0], PARCELS[1] + 1, size=n)
    skilled = rng.random(n) < SKILL_SHARE
    skill = rng.integers(0, len(STOP_SKILLS), size=n)
    two = rng.random(n) < TWO_WINDOW_SHARE
    out = []
    for k, stop_id in enumerate(ids):
        windows = _two_windows(rng) if two[k] else _one_window(rng, DAY_S)
        out.append(
            Stop(
                id=stop_id,
                location=first_loc + k,
                service=int(service[k]),
                windows=windows,
                demand=(int(parcels[k]),),
                skills=frozenset({STOP_SKILLS[skill[k]]}) if skilled[k] else frozenset(),
            )
        )
    return out


def _pair_stops(
    rng: np.random.Generator,
    pickup_ids: Sequence[str],
    delivery_ids: Sequence[str],
    first_pickup_loc: int,
    first_store_loc: int,
) -> tuple[list[Stop], list[Stop], tuple[PickupDelivery, ...]]:
    """Returns picked up at customers, each delivered to one of the stores."""
    n = len(pickup_ids)
    service = rng.integers(SERVICE_S[0], SERVICE_S[1] + 1, size=(n, 2))
    parcels = rng.integers(RETURN_PARCELS[0], RETURN_PARCELS[1] + 1, size=n)
    store = rng.integers(0, STORE_COUNT, size=n)
    store_window = (TimeWindow(*STORE_WINDOW_S),)
    pickups, deliveries, pairs = [], [], []
    for k, (p_id, d_id) in enumerate(zip(pickup_ids, delivery_ids, strict=True)):
        demand = (int(parcels[k]),)
        pickups.append(
            Stop(
                id=p_id,
                location=first_pickup_loc + k,
                service=int(service[k, 0]),
                windows=_one_window(rng, PICKUP_DAY_S),
                demand=demand,
                kind=StopKind.PICKUP,
            )
        )
        deliveries.append(
            Stop(
                id=d_id,
                location=first_store_loc + int(store[k]),
                service=int(service[k, 1]),
                windows=store_window,
                demand=demand,
            )
        )
        pairs.append(PickupDelivery(p_id, d_id))
    return pickups, deliveries, tuple(pairs)


# -- fleet ------------------------------------------------------------------------------------


def _fleet(stops: int, *, with_breaks: bool, micro_hub: int | None = None) -> tuple[Vehicle, ...]:
    """Vehicles per type, alternating shifts (k % 2) and hubs (k // 2 % 2); with a
    ``micro_hub`` (location index) the types of :data:`RELOADS` work from it and reload there."""
    vehicles = []
    variant = "base" if micro_hub is None else "reloads"
    for name, count in fleet_size(stops, variant).items():
        for k in range(count):
            start, end = SHIFTS_S[k % len(SHIFTS_S)]
            hub = (k // len(SHIFTS_S)) % len(HUBS)
            breaks: tuple[Break, ...] = ()
            if with_breaks and name in BREAK_TYPES:
                middle = (start + end) // 2
                window = TimeWindow(middle - BREAK_HALF_WINDOW_S, middle + BREAK_HALF_WINDOW_S)
                breaks = (Break(window, BREAK_S),)
            vehicle = Vehicle(
                id=f"{name}-{k + 1:02d}",
                type=name,
                start=hub,
                end=hub,
                shift=TimeWindow(start, end),
                breaks=breaks,
            )
            if micro_hub is not None and name in RELOADS:
                max_reloads, reload_time = RELOADS[name]
                vehicle = replace(
                    vehicle,
                    start=micro_hub,
                    end=micro_hub,
                    reload_at=(micro_hub,),
                    max_reloads=max_reloads,
                    reload_time=reload_time,
                )
            vehicles.append(vehicle)
    return tuple(vehicles)
