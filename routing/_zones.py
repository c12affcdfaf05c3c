"""Cutting a large routing problem into zones, and sharing the fleet among them.

The process-free half of :mod:`routing.decompose`: plane coordinates, the indivisible groups
of stops (*atoms*: a pickup-and-delivery pair, a vehicle's locked prefix), a balanced sweep of
the atoms by polar angle into zones, the share of each vehicle class a zone gets, and the
sub-problem of a zone as plain data that pickles (a :class:`~routing.model.Problem` does not:
its look-up tables are ``mappingproxy`` objects).

Units as in :mod:`routing.model`: seconds, metres, capacities per dimension; angles in radians.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from routing.diagnose import Eligibility
from routing.model import (
    Location,
    PickupDelivery,
    Problem,
    Stop,
    TravelMatrix,
    Vehicle,
    VehicleType,
)

__all__ = [
    "Allocation",
    "Atom",
    "Part",
    "Sweep",
    "VehicleClass",
    "allocate",
    "angles",
    "atoms",
    "can_serve",
    "fleet_centre",
    "part",
    "planar",
    "sweep",
    "vehicle_classes",
]

METRES_PER_DEGREE = 111_320.0
"""Metres per degree of latitude (and of longitude at the equator), for a local flat map."""

ROUND_TRIP_REFERENCE_S = 1_800.0
"""A vehicle class whose depot is this many seconds (round trip) from a stop counts half as
much for that stop as one next door, when a zone's need is shared among classes."""

NEIGHBOURS_FOR_LEG = 3
"""A stop's travel share is the mean duration to this many nearest stops of its zone."""


# -- geometry ---------------------------------------------------------------------------------


def planar(problem: Problem) -> np.ndarray:
    """Every location as (east, north) metres on a flat map around the locations' mean.

    Good to a fraction of a percent over a city; used only to cut zones and order routes
    by angle, never for travel.
    """
    lat = np.array([loc.lat for loc in problem.locations], dtype=np.float64)
    lon = np.array([loc.lon for loc in problem.locations], dtype=np.float64)
    lat0, lon0 = float(lat.mean()), float(lon.mean())
    east = (lon - lon0) * METRES_PER_DEGREE * math.cos(math.radians(lat0))
    north = (lat - lat0) * METRES_PER_DEGREE
    return np.column_stack([east, north])


def fleet_centre(problem: Problem, xy: np.ndarray) -> tuple[float, float]:
    """Mean start of the vehicles (metres): the pole of the sweep, between the depots."""
    starts = np.array([v.start for v in problem.vehicles], dtype=np.int64)
    east, north = xy[starts].mean(axis=0)
    return float(east), float(north)


def angles(points: np.ndarray, centre: tuple[float, float]) -> np.ndarray:
    """Polar angle of each (east, north) point around ``centre``, radians in (-pi, pi]."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])


# -- atoms ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Atom:
    """Stops that must go to the same zone, where that zone lies, and the vehicle they need.

    ``stops`` are indices into :attr:`Problem.stops` in problem order; ``vehicle`` is the
    index of the vehicle they are locked on, if any; ``xy`` the (east, north) metres used
    to place the atom.
    """

    stops: tuple[int, ...]
    vehicle: int | None
    xy: tuple[float, float]


def atoms(problem: Problem, stops: Sequence[int], xy: np.ndarray) -> list[Atom]:
    """Group ``stops`` (indices) into atoms: pairs stay whole, locked prefixes stay whole.

    An atom is placed at its most private stop: the one whose location fewest of ``stops``
    share (for a return carried to a store, the customer, not the store); ties are averaged.
    Atoms come in the order of their first stop.
    """
    members = sorted(set(stops))
    root = {s: s for s in members}

    def find(s: int) -> int:
        while root[s] != s:
            root[s] = root[root[s]]
            s = root[s]
        return s

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            root[max(ra, rb)] = min(ra, rb)

    for pd in problem.shipments:
        p, d = problem.stop_index(pd.pickup), problem.stop_index(pd.delivery)
        if p in root and d in root:
            union(p, d)
    pinned: dict[int, int] = {}
    for vi, v in enumerate(problem.vehicles):
        locked = [problem.stop_index(sid) for sid in v.locked]
        locked = [s for s in locked if s in root]
        for a, b in itertools.pairwise(locked):
            union(a, b)
        for s in locked:
            pinned.setdefault(s, vi)

    groups: dict[int, list[int]] = {}
    for s in members:
        groups.setdefault(find(s), []).append(s)
    locs = np.array([problem.stops[s].location for s in members], dtype=np.int64)
    sharing = dict(zip(members, np.bincount(locs)[locs].tolist(), strict=True))
    out = []
    for group in groups.values():
        fewest = min(sharing[s] for s in group)
        private = [problem.stops[s].location for s in group if sharing[s] == fewest]
        east, north = xy[private].mean(axis=0)
        vehicle = next((pinned[s] for s in group if s in pinned), None)
        out.append(Atom(tuple(group), vehicle, (float(east), float(north))))
    return out


# -- zones ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sweep:
    """Zones as lists of atom indices, and where each zone begins.

    ``borders[j]`` is the polar angle (radians) at which zone ``j`` begins, counter-clockwise;
    zone ``j`` ends where zone ``j + 1`` begins (the last wraps round to the first).
    """

    zones: tuple[tuple[int, ...], ...]
    borders: tuple[float, ...]


def sweep(
    points: np.ndarray, sizes: Sequence[int], centre: tuple[float, float], zones: int
) -> Sweep:
    """Cut the points into ``zones`` sectors around ``centre`` holding about equal ``sizes``.

    The sweep starts in the widest empty sector, so that it never cuts through a cluster it
    could have avoided; each point goes to the sector its cumulative size falls in, so the
    sectors are contiguous in angle and differ in size by at most one atom. Empty sectors
    (atoms larger than a share) are left out.
    """
    n = len(sizes)
    if n == 0:
        return Sweep((), ())
    theta = angles(points, centre)
    order = np.lexsort((np.arange(n), theta))
    sorted_theta = theta[order]
    gaps = np.diff(sorted_theta, append=sorted_theta[0] + 2 * math.pi)
    first = (int(np.argmax(gaps)) + 1) % n
    order = np.roll(order, -first)
    weight = np.asarray(sizes, dtype=np.float64)[order]
    total = float(weight.sum())
    middle = np.cumsum(weight) - weight / 2.0
    label = np.minimum((middle / total * zones).astype(np.int64), zones - 1)
    members: list[list[int]] = [[] for _ in range(zones)]
    for atom, z in zip(order.tolist(), label.tolist(), strict=True):
        members[z].append(atom)
    kept = [m for m in members if m]
    borders = []
    previous = theta[kept[-1][-1]]
    for m in kept:
        gap = (theta[m[0]] - previous) % (2 * math.pi)
        borders.append(_wrap(previous + gap / 2.0))
        previous = theta[m[-1]]
    return Sweep(tuple(tuple(m) for m in kept), tuple(borders))


def _wrap(angle: float) -> float:
    """The angle in (-pi, pi]."""
    return math.pi - (math.pi - angle) % (2 * math.pi)


# -- the fleet --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VehicleClass:
    """Interchangeable vehicles: same type, depots, shift and breaks (indices, in order)."""

    members: tuple[int, ...]
    vehicle_type: VehicleType
    start: int
    end: int | None
    work_s: int
    """Seconds the shift allows on the road: shift (capped by ``max_shift``) minus breaks."""


def vehicle_classes(problem: Problem, pool: Sequence[int]) -> list[VehicleClass]:
    """The vehicles of ``pool`` (indices) grouped into classes, by first member."""
    groups: dict[tuple[object, ...], list[int]] = {}
    for vi in sorted(pool):
        v = problem.vehicles[vi]
        key = (v.type, v.start, v.end, v.shift.start, v.shift.end, v.breaks)
        groups.setdefault(key, []).append(vi)
    out = []
    for members in groups.values():
        v = problem.vehicles[members[0]]
        vt = problem.vehicle_type(v.type)
        span = v.shift.end - v.shift.start
        if vt.max_shift is not None:
            span = min(span, vt.max_shift)
        work = max(1, span - sum(b.duration for b in v.breaks))
        out.append(VehicleClass(tuple(members), vt, v.start, v.end, work))
    return out


@dataclass(frozen=True, slots=True)
class Allocation:
    """Vehicle indices per zone (in order) and those kept back (the reserve)."""

    zones: tuple[tuple[int, ...], ...]
    reserve: tuple[int, ...]
    need: tuple[float, ...]
    """Estimated vehicles each zone needs (fractional), for the statistics."""


def allocate(
    problem: Problem,
    eligibility: Eligibility,
    zones: Sequence[Sequence[int]],
    pool: Sequence[int],
    pinned: Mapping[int, int],
    *,
    slack: float,
    spare: float,
) -> Allocation:
    """Share the vehicles of ``pool`` among zones (lists of stop indices) by their needs.

    Each stop's work (service plus a travel share, seconds) and demand are spread over the
    vehicle classes that could serve it, in proportion to each class's size and nearness
    (:data:`ROUND_TRIP_REFERENCE_S`). A zone's need of a class is the larger of its work over
    the class's working time (less the trip out and back) and its demand over the class's
    capacity, per dimension. A zone gets ``ceil(slack * need + spare)`` vehicles of each
    class when the class has that many; otherwise the class is shared in proportion to need,
    rounded so that each zone's total over the classes stays close to its exact share
    (:func:`_apportion`). What is left is the reserve. Then every zone gets at least one
    vehicle able to serve each of its stops, from the reserve or else from the zone holding
    most of such vehicles.
    ``pinned`` vehicles (vehicle index -> zone) go to their zone and are not shared.
    """
    free = [vi for vi in pool if vi not in pinned]
    classes = vehicle_classes(problem, free)
    n_zones, n_classes = len(zones), len(classes)
    zone_stops = [sorted(z) for z in zones]
    stops = [s for z in zone_stops for s in z]
    zone_of = np.repeat(np.arange(n_zones), [len(z) for z in zone_stops])
    locs = np.array([problem.stops[s].location for s in stops], dtype=np.int64)
    n_dim = len(problem.dimensions)
    demand = np.array([problem.demand(problem.stops[s]) for s in stops], dtype=np.float64)
    demand = demand.reshape(len(stops), n_dim)
    service = np.array([problem.stops[s].service for s in stops], dtype=np.float64)

    # eligible[k, c]: a vehicle of class c could serve stop k on its own.
    eligible = np.array(
        [[can_serve(eligibility, s, cls.members[0]) for cls in classes] for s in stops],
        dtype=bool,
    ).reshape(len(stops), n_classes)

    legs: dict[str, np.ndarray] = {}
    trips = np.zeros((len(stops), n_classes))
    for c, cls in enumerate(classes):
        m = problem.matrices[cls.vehicle_type.profile]
        trips[:, c] = m.durations[cls.start, locs]
        if cls.end is not None:
            trips[:, c] += m.durations[locs, cls.end]
        if cls.vehicle_type.profile not in legs:
            legs[cls.vehicle_type.profile] = _travel_share(m, locs, zone_of)

    weight = np.array([len(cls.members) for cls in classes], dtype=np.float64)
    weight = eligible * weight / (1.0 + trips / ROUND_TRIP_REFERENCE_S)
    total = weight.sum(axis=1, keepdims=True)
    share = np.divide(weight, total, out=np.zeros_like(weight), where=total > 0)

    need = np.zeros((n_zones, n_classes))
    for c, cls in enumerate(classes):
        work = service + legs[cls.vehicle_type.profile]
        cap = np.array(problem.capacity(cls.vehicle_type), dtype=np.float64)
        for z in range(n_zones):
            mine = zone_of == z
            w = share[mine, c]
            if not w.any():
                continue
            trip = float((w * trips[mine, c]).sum() / w.sum())
            by_time = float((w * work[mine]).sum()) / max(cls.work_s - trip, cls.work_s / 4)
            load = (w[:, None] * demand[mine]).sum(axis=0)
            by_load = max(
                (float(a / b) for a, b in zip(load, cap, strict=True) if a > 0 and b > 0),
                default=0.0,
            )
            need[z, c] = max(by_time, by_load)

    counts = np.zeros((n_zones, n_classes), dtype=np.int64)
    carry = np.zeros(n_zones)  # vehicles each zone is owed by earlier roundings
    for c, cls in enumerate(classes):
        target = np.where(need[:, c] > 0, np.ceil(slack * need[:, c] + spare), 0).astype(np.int64)
        if target.sum() <= len(cls.members):
            counts[:, c] = target
            continue
        exact = len(cls.members) * need[:, c] / need[:, c].sum()
        counts[:, c] = np.minimum(_apportion(len(cls.members), exact, carry), target)
        carry += exact - counts[:, c]

    taken: list[list[int]] = [[] for _ in range(n_zones)]
    left: list[list[int]] = []
    for c, cls in enumerate(classes):
        members = list(cls.members)
        for z in range(n_zones):
            k = int(counts[z, c])
            taken[z].extend(members[:k])
            del members[:k]
        left.append(members)

    # Every stop needs a vehicle of an eligible class in its zone.
    held = counts.copy()
    start = 0
    for z, zs in enumerate(zone_stops):
        for k in range(start, start + len(zs)):
            if (held[z] * eligible[k] > 0).any() or not eligible[k].any():
                continue
            order = np.argsort(-weight[k], kind="stable")
            pick = next((int(c) for c in order if eligible[k, c] and left[c]), None)
            if pick is not None:
                taken[z].append(left[pick].pop(0))
                held[z, pick] += 1
                continue
            donors = [
                (int(held[y, c]), -y, y, int(c))
                for c in order
                if eligible[k, c]
                for y in range(n_zones)
                if y != z and held[y, c] > 1
            ]
            if not donors:
                continue  # nothing to spare: the stop waits for the second round
            _, _, y, c = max(donors)
            moved = next(vi for vi in reversed(taken[y]) if vi in classes[c].members)
            taken[y].remove(moved)
            taken[z].append(moved)
            held[y, c] -= 1
            held[z, c] += 1
        start += len(zs)

    for vi, z in pinned.items():
        taken[z].append(vi)
    reserve = sorted(vi for members in left for vi in members)
    return Allocation(
        tuple(tuple(sorted(t)) for t in taken),
        tuple(reserve),
        tuple(float(x) for x in need.sum(axis=1)),
    )


def can_serve(eligibility: Eligibility, stop: int, vehicle: int) -> bool:
    """Whether the vehicle (index) could serve the stop (index) on its own."""
    allowed = eligibility.allowed[stop]
    i = bisect.bisect_left(allowed, vehicle)
    return i < len(allowed) and allowed[i] == vehicle


def _travel_share(m: TravelMatrix, locs: np.ndarray, zone_of: np.ndarray) -> np.ndarray:
    """Seconds of travel each stop adds to a route: the mean duration to its nearest stops
    in the same zone (:data:`NEIGHBOURS_FOR_LEG`), a lower bound that the slack covers."""
    out = np.zeros(len(locs))
    for z in np.unique(zone_of):
        idx = np.flatnonzero(zone_of == z)
        if len(idx) < 2:
            continue
        sub = m.durations[np.ix_(locs[idx], locs[idx])].astype(np.float64)
        np.fill_diagonal(sub, np.inf)
        k = min(NEIGHBOURS_FOR_LEG, len(idx) - 1)
        nearest = np.partition(sub, k - 1, axis=1)[:, :k]
        out[idx] = nearest.mean(axis=1)
    return out


def _apportion(total: int, exact: np.ndarray, carry: np.ndarray) -> np.ndarray:
    """``total`` whole units close to the fractional shares ``exact`` (which sum to it).

    Each share is rounded down, and the units left go to the largest remainders plus
    ``carry`` (what earlier roundings owe each share), ties to the earlier: over several
    classes, each zone's total stays within about one vehicle of its exact share.
    """
    out = np.floor(exact + 1e-9).astype(np.int64)
    rest = total - int(out.sum())
    order = np.lexsort((np.arange(len(exact)), -(exact - out + carry)))
    out[order[:rest]] += 1
    return out


# -- sub-problems -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Part:
    """A sub-problem as plain, picklable data: only its own locations (depots and stops).

    Stops and vehicles keep their ids; their location indices refer to ``locations``.
    ``matrices`` holds (profile, distances, durations) over those locations, as copied out of
    the parent's matrices (``int32`` when they fit, to halve what travels to a worker).
    """

    locations: tuple[Location, ...]
    matrices: tuple[tuple[str, np.ndarray, np.ndarray], ...]
    stops: tuple[Stop, ...]
    vehicle_types: tuple[VehicleType, ...]
    vehicles: tuple[Vehicle, ...]
    dimensions: tuple[str, ...]
    shipments: tuple[PickupDelivery, ...]
    parent_index: tuple[int, ...] = ()
    """The parent's location index of each of ``locations``."""

    def problem(self) -> Problem:
        """The sub-problem, validated like any other."""
        return Problem(
            locations=self.locations,
            matrices={name: TravelMatrix(d, t) for name, d, t in self.matrices},
            stops=self.stops,
            vehicle_types=self.vehicle_types,
            vehicles=self.vehicles,
            dimensions=self.dimensions,
            shipments=self.shipments,
        )


def part(problem: Problem, stops: Sequence[int], vehicles: Sequence[int]) -> Part:
    """The sub-problem of ``stops`` (indices) served by ``vehicles`` (indices).

    Its matrices are the parent's rows and columns of the part's locations (fancy
    indexing); nothing larger is built. Stops and vehicles keep the parent's order. A pair
    whose other half is not among ``stops`` is left out of the shipments.

    Raises
    ------
    ValueError
        A vehicle's locked stops are not all among ``stops`` (keep each locked prefix with
        its vehicle).
    """
    keep = sorted(set(stops))
    fleet = sorted(set(vehicles))
    ids = {problem.stops[s].id for s in keep}
    for vi in fleet:
        missing = [sid for sid in problem.vehicles[vi].locked if sid not in ids]
        if missing:
            raise ValueError(
                f"vehicle {problem.vehicles[vi].id!r} goes to a part without its locked "
                f"stop(s) {missing}: keep each locked prefix with its vehicle"
            )
    used = {problem.stops[s].location for s in keep}
    for vi in fleet:
        v = problem.vehicles[vi]
        used.add(v.start)
        if v.end is not None:
            used.add(v.end)
        used.update(v.reload_at)
    index = np.array(sorted(used), dtype=np.int64)
    where = {int(loc): k for k, loc in enumerate(index)}
    grid = np.ix_(index, index)
    matrices = []
    for name, m in problem.matrices.items():
        d, t = m.distances[grid], m.durations[grid]
        if max(int(d.max(initial=0)), int(t.max(initial=0))) < 2**31:
            d, t = d.astype(np.int32), t.astype(np.int32)
        matrices.append((name, d, t))
    return Part(
        locations=tuple(problem.locations[i] for i in index.tolist()),
        matrices=tuple(matrices),
        stops=tuple(
            replace(problem.stops[s], location=where[problem.stops[s].location]) for s in keep
        ),
        vehicle_types=problem.vehicle_types,
        vehicles=tuple(
            replace(
                v,
                start=where[v.start],
                end=None if v.end is None else where[v.end],
                reload_at=tuple(where[p] for p in v.reload_at),
            )
            for v in (problem.vehicles[vi] for vi in fleet)
        ),
        dimensions=problem.dimensions,
        shipments=tuple(pd for pd in problem.shipments if pd.pickup in ids and pd.delivery in ids),
        parent_index=tuple(index.tolist()),
    )
