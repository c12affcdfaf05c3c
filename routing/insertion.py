"""Cheap insertion of one new stop into a day that is already planned.

A customer choosing a delivery option must see, within milliseconds, whether a place and a
window fit the day's tentative plan, what it costs and what it emits. Re-solving the whole day
for every candidate is far too slow; instead :class:`Timeline` keeps, for every planned route,
the figures that make the check O(1) per insertion position (Savelsbergh's forward time slack):

* when service starts at each node, how long the vehicle waits there, and the latest start
  its window allows;
* the *slack* of each node: how far its start may be pushed later without breaking its own
  window or any later one (waiting further down the route absorbs part of a push);
* the load on board after each node, and its running maximum, so a delivery inserted after
  node ``p`` fits when the peak load up to ``p`` plus the demand fits the capacity.

:meth:`Timeline.best_insertions` then evaluates every position of every route for a candidate
at once with numpy, for several windows at a time, and returns for each window the cheapest
feasible insertion (marginal distance, duration, cost and CO2, and the ETA) or the reason none
exists. :meth:`Timeline.insert` applies one, re-timing that route, so the next candidate sees
the day as it now is.

The check is exact for the rules it models — service starts inside the window that held the
stop's planned start, capacity per dimension, the vehicle's shift end and range — and it never
moves planned stops into another window; it ignores breaks beyond keeping the time they took on
the leg where they were taken. Planned stops keep their order: this is insertion, not
re-optimisation (the next full re-plan does that).

Units: seconds since the epoch, metres, grams CO2, currency.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from routing._insertion_scan import scan
from routing.errors import InvalidProblemError
from routing.matrix import EARTH_RADIUS_M, ceil_seconds, haversine_m
from routing.model import Problem, StopKind, TimeWindow, VehicleType
from routing.solution import Route, Solution, UnservedReason

__all__ = [
    "Candidate",
    "Insertion",
    "LegTravel",
    "Legs",
    "RouteSchedule",
    "StraightLineLegs",
    "Timeline",
]

_NEVER = np.iinfo(np.int64).max // 4
"""A latest start that never binds (no window), kept far from overflow."""


@dataclass(frozen=True, slots=True, eq=False)
class Legs:
    """Travel between a set of points and one new point, for one vehicle profile.

    All arrays are int64, one entry per point: metres and seconds *to* the new point, and
    metres and seconds *from* it back to each point.
    """

    to_distance: np.ndarray
    to_duration: np.ndarray
    from_distance: np.ndarray
    from_duration: np.ndarray


class LegTravel(Protocol):
    """Travel from many known points to one new point and back, for a profile."""

    def legs(
        self, lats: np.ndarray, lons: np.ndarray, lat: float, lon: float, profile: str
    ) -> Legs:
        """Distances (metres) and durations (seconds) between the points and ``(lat, lon)``."""
        ...


@dataclass(frozen=True, slots=True)
class StraightLineLegs:
    """Straight lines times ``detour_factor`` at a speed per profile.

    Rounds exactly as :func:`routing.matrix.straight_line_matrix` does, so an insertion
    checked here and the matrix of the day with the new point agree to the second.

    Parameters
    ----------
    speeds_kmh
        Average speed in km/h per profile; an unknown profile moves at the ``"car"`` speed.
    detour_factor
        Multiplier (>= 1) from great-circle distance to travelled distance.
    """

    speeds_kmh: Mapping[str, float]
    detour_factor: float = 1.0

    def legs(
        self, lats: np.ndarray, lons: np.ndarray, lat: float, lon: float, profile: str
    ) -> Legs:
        """Straight-line legs; symmetric, so *to* and *from* are the same."""
        speed = self.speeds_kmh.get(profile, self.speeds_kmh.get("car"))
        if speed is None or not speed > 0:
            raise InvalidProblemError(
                f"no positive speed for profile {profile!r} — give speeds_kmh a 'car' entry"
            )
        metres = haversine_m(lats, lons, lat, lon) * self.detour_factor
        distance = np.rint(metres).astype(np.int64)
        duration = ceil_seconds(metres / (speed / 3.6))
        return Legs(distance, duration, distance, duration)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A stop that might be added to the day.

    Parameters
    ----------
    lat, lon
        Where it is, WGS84 degrees.
    windows
        Windows to try, each on its own (a customer picks one); seconds since the epoch.
    service
        Service time at the stop, seconds.
    demand
        Demand per dimension, aligned with the problem's dimensions.
    kind
        A delivery is loaded at the start and dropped here; a pickup is collected here and
        carried to the end.
    skills
        Skills the vehicle must have.
    vehicle_types
        Names of the vehicle types allowed to serve it; ``None`` allows every type.
    """

    lat: float
    lon: float
    windows: tuple[TimeWindow, ...]
    service: int = 0
    demand: tuple[int, ...] = ()
    kind: StopKind = StopKind.DELIVERY
    skills: frozenset[str] = frozenset()
    vehicle_types: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if not (-90.0 <= self.lat <= 90.0 and -180.0 <= self.lon <= 180.0):
            raise InvalidProblemError(
                f"candidate at ({self.lat}, {self.lon}) is not a WGS84 point — give latitude "
                "in [-90, 90] and longitude in [-180, 180]"
            )
        if not self.windows:
            raise InvalidProblemError("candidate has no window — give at least one to try")
        if self.service < 0:
            raise InvalidProblemError(f"candidate service {self.service} s must be >= 0")
        if any(d < 0 for d in self.demand):
            raise InvalidProblemError(f"candidate demand {self.demand} has a negative entry")
        if self.kind not in (StopKind.DELIVERY, StopKind.PICKUP):
            raise InvalidProblemError(
                f"candidate kind {self.kind!r}: only a delivery or a pickup can be inserted"
            )


@dataclass(frozen=True, slots=True)
class Insertion:
    """The cheapest way to serve a candidate in one window, or why there is none.

    ``route_id`` and ``position`` say where: the new stop becomes the ``position``-th stop of
    the route (0 = first). ``eta`` is when service would start. ``added_distance`` (metres),
    ``added_duration`` (seconds the route gets longer), ``cost`` (currency, including the
    vehicle's fixed cost when it was idle) and ``co2_g`` are marginal.
    """

    window: TimeWindow
    route_id: str | None
    position: int | None
    eta: int | None
    added_distance: int
    added_duration: int
    cost: float
    co2_g: float
    reason: UnservedReason | None = None

    @property
    def feasible(self) -> bool:
        """Whether the candidate fits in this window."""
        return self.route_id is not None


@dataclass(frozen=True, slots=True, eq=False)
class RouteSchedule:
    """One vehicle's route as a fixed sequence of nodes with their timing.

    Node 0 is where the vehicle starts, the last node where it ends (for an open route, a
    copy of the last stop reached with zero travel). Stops sit in between.

    Parameters
    ----------
    route_id
        The vehicle's id.
    vehicle_type
        Its type: capacity, profile, costs, range, emissions.
    stop_ids
        Ids of the stops in visiting order.
    lats, lons
        Coordinates of every node, degrees.
    arrivals, starts, services
        Arrival, start of service and service time at every node, seconds.
    earliest, latest
        The window each node's service must start in (the window that holds its planned
        start; for the end node, the shift end or the longest shift).
    leg_distance, leg_duration
        Metres and seconds driven into each node from the previous one (0 for node 0).
    gap
        Seconds on the leg into each node beyond driving: a break taken on the way.
    loads
        Load on board after each node, shape ``(nodes, dimensions)``.
    capacity
        Capacity per dimension.
    open_end
        Whether the route ends at its last stop (no drive back).
    fixed_prefix
        Leading stops already dispatched or done: nothing may be inserted before or between
        them.
    idle
        The vehicle has no stop yet; using it costs its fixed cost and it may leave later.
    """

    route_id: str
    vehicle_type: VehicleType
    stop_ids: tuple[str, ...]
    lats: np.ndarray
    lons: np.ndarray
    arrivals: np.ndarray
    starts: np.ndarray
    services: np.ndarray
    earliest: np.ndarray
    latest: np.ndarray
    leg_distance: np.ndarray
    leg_duration: np.ndarray
    gap: np.ndarray
    loads: np.ndarray
    capacity: np.ndarray
    open_end: bool = False
    fixed_prefix: int = 0
    idle: bool = False

    @property
    def distance(self) -> int:
        """Metres driven along the route."""
        return int(self.leg_distance.sum())

    @property
    def duration(self) -> int:
        """Seconds from leaving the start to reaching the end."""
        return int(self.starts[-1] - self.starts[0])


@dataclass(frozen=True, slots=True, eq=False)
class Timeline:
    """A planned day, ready for fast insertion checks.

    Build it with :meth:`from_solution`; query it with :meth:`best_insertions`; apply a choice
    with :meth:`insert`, which returns a new timeline.
    """

    routes: tuple[RouteSchedule, ...]
    _flat: _Flat = field(init=False, repr=False)
    _by_lat: tuple[np.ndarray, np.ndarray] | None = field(init=False, repr=False, default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_flat", _Flat.of(self.routes))

    @classmethod
    def from_solution(
        cls,
        problem: Problem,
        solution: Solution,
        *,
        include_idle: bool = True,
        fixed_prefix: Mapping[str, int] | None = None,
    ) -> Timeline:
        """The timeline of a solved day.

        Parameters
        ----------
        problem, solution
            The day and its plan.
        include_idle
            Also offer the vehicles the plan leaves unused (at their fixed cost).
        fixed_prefix
            Per vehicle id, how many leading stops are fixed (default: its locked stops).
        """
        fixed = dict(fixed_prefix or {})
        used = {r.vehicle_id: r for r in solution.routes}
        routes = []
        for vehicle in problem.vehicles:
            route = used.get(vehicle.id)
            if route is None and not include_idle:
                continue
            prefix = fixed.get(vehicle.id, len(vehicle.locked))
            routes.append(_schedule(problem, vehicle.id, route, prefix))
        return cls(tuple(routes))

    def route(self, route_id: str) -> RouteSchedule:
        """The schedule of one route."""
        for r in self.routes:
            if r.route_id == route_id:
                return r
        raise InvalidProblemError(f"no route {route_id!r} in this timeline — check the id")

    @property
    def stop_count(self) -> int:
        """Stops planned over all routes."""
        return sum(len(r.stop_ids) for r in self.routes)

    def stops_near(self, lat: float, lon: float, radius_m: float) -> int:
        """How many planned stops lie within ``radius_m`` great-circle metres of a point."""
        by_lat = self._by_lat
        if by_lat is None:
            flat = self._flat
            order = np.argsort(flat.lats[flat.is_stop], kind="stable")
            by_lat = (flat.lats[flat.is_stop][order], flat.lons[flat.is_stop][order])
            object.__setattr__(self, "_by_lat", by_lat)
        lats, lons = by_lat
        # No stop further in latitude than the radius (plus a metre against rounding) can be
        # within it: a great circle is never shorter than the meridian arc between latitudes.
        band = np.degrees((radius_m + 1.0) / EARTH_RADIUS_M)
        lo, hi = np.searchsorted(lats, (lat - band, lat + band))
        d = haversine_m(lats[lo:hi], lons[lo:hi], lat, lon)
        return int(np.count_nonzero(d <= radius_m))

    def best_insertions(self, candidate: Candidate, travel: LegTravel) -> tuple[Insertion, ...]:
        """The cheapest feasible insertion for each of the candidate's windows.

        Parameters
        ----------
        candidate
            The stop to place.
        travel
            Gives the legs between every node and the candidate.

        Returns
        -------
        tuple[Insertion, ...]
            One per window of ``candidate.windows``, in that order; an infeasible one carries
            the reason.
        """
        return _best(self._flat, self.routes, candidate, travel)

    def insert(
        self, candidate: Candidate, insertion: Insertion, stop_id: str, travel: LegTravel
    ) -> Timeline:
        """The timeline with ``candidate`` inserted where ``insertion`` says, re-timed.

        Raises
        ------
        InvalidProblemError
            If the insertion is not feasible (any more) on this timeline.
        """
        if not insertion.feasible or insertion.route_id is None or insertion.position is None:
            raise InvalidProblemError(
                f"cannot insert {stop_id!r}: the insertion is infeasible ({insertion.reason})"
            )
        target = self.route(insertion.route_id)
        new = _inserted(target, candidate, insertion, stop_id, travel)
        return Timeline(tuple(new if r is target else r for r in self.routes))


# --- building schedules -------------------------------------------------------------------


def _schedule(problem: Problem, vehicle_id: str, route: Route | None, prefix: int) -> RouteSchedule:
    vehicle = next(v for v in problem.vehicles if v.id == vehicle_id)
    vtype = next(t for t in problem.vehicle_types if t.name == vehicle.type)
    matrix = problem.matrices[vtype.profile]
    dims = len(problem.dimensions)
    capacity = np.array(_padded(vtype.capacity, dims), dtype=np.int64)
    shift_end = vehicle.shift.end
    visits = route.visits if route is not None else ()
    start_time = route.start_time if route is not None else vehicle.shift.start
    if vtype.max_shift is not None:
        shift_end = min(shift_end, start_time + vtype.max_shift)
    locs = [vehicle.start]
    arrivals = [start_time]
    starts = [start_time]
    services = [0]
    earliest = [start_time]
    latest = [start_time]
    leg = [0]
    loads = [_padded(route.load_at_start if route is not None else (), dims)]
    for visit in visits:
        stop = problem.stops[problem.stop_index(visit.stop_id)]
        window = _window_holding(stop.windows, visit.start)
        locs.append(visit.location)
        arrivals.append(visit.arrival)
        starts.append(visit.start)
        services.append(visit.departure - visit.start)
        earliest.append(window[0] if window else visit.start)
        latest.append(window[1] if window else shift_end)
        leg.append(visit.distance)
        loads.append(_padded(visit.load, dims))
    open_end = vehicle.end is None
    end_time = route.end_time if route is not None else start_time
    locs.append(locs[-1] if vehicle.end is None else vehicle.end)
    arrivals.append(end_time)
    starts.append(end_time)
    services.append(0)
    earliest.append(start_time)
    latest.append(shift_end)
    last_leg = 0 if open_end else int(matrix.distances[locs[-2], locs[-1]])
    leg.append(last_leg if route is not None else 0)
    loads.append(loads[-1])
    arrivals_a = np.array(arrivals, dtype=np.int64)
    starts_a = np.array(starts, dtype=np.int64)
    services_a = np.array(services, dtype=np.int64)
    travel = np.zeros(len(locs), dtype=np.int64)
    idx = np.array(locs, dtype=np.int64)
    travel[1:] = matrix.durations[idx[:-1], idx[1:]]
    if open_end:
        travel[-1] = 0
    gap = np.zeros(len(locs), dtype=np.int64)
    gap[1:] = np.maximum(arrivals_a[1:] - (starts_a[:-1] + services_a[:-1]) - travel[1:], 0)
    if route is None:
        gap[:] = 0
    coords = problem.locations
    return RouteSchedule(
        route_id=vehicle_id,
        vehicle_type=vtype,
        stop_ids=tuple(v.stop_id for v in visits),
        lats=np.array([coords[i].lat for i in locs], dtype=np.float64),
        lons=np.array([coords[i].lon for i in locs], dtype=np.float64),
        arrivals=arrivals_a,
        starts=starts_a,
        services=services_a,
        earliest=np.array(earliest, dtype=np.int64),
        latest=np.array(latest, dtype=np.int64),
        leg_distance=np.array(leg, dtype=np.int64),
        leg_duration=travel,
        gap=gap,
        loads=np.array(loads, dtype=np.int64).reshape(len(locs), dims),
        capacity=capacity,
        open_end=open_end,
        fixed_prefix=min(prefix, len(visits)),
        idle=route is None,
    )


def _padded(values: Sequence[int], n: int) -> tuple[int, ...]:
    return tuple(values[:n]) + (0,) * max(0, n - len(values))


def _window_holding(windows: Sequence[TimeWindow], t: int) -> tuple[int, int] | None:
    if not windows:
        return None
    for w in windows:
        if w.start <= t <= w.end:
            return (w.start, w.end)
    # Planned outside every window (a locked stop served late): it may not get any later.
    return (t, t)


# --- the flattened day ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class _Flat:
    """Every insertion position of every route as parallel arrays (one entry per edge p→n)."""

    route: np.ndarray  # index of the route in Timeline.routes
    position: np.ndarray  # stops before the new one (p's index in its route)
    prev_node: np.ndarray  # global node index of p
    next_node: np.ndarray  # global node index of n
    departure: np.ndarray  # when the vehicle leaves p
    gap: np.ndarray  # break time on the leg into n, kept after the new stop
    next_start: np.ndarray
    next_earliest: np.ndarray
    next_slack: np.ndarray  # how late n's start may be pushed
    wait_after_next: np.ndarray  # waiting from n (excluded) to the end, absorbs pushes
    leg_distance: np.ndarray  # metres p→n today
    last_edge_open: np.ndarray  # n is the virtual end of an open route
    peak_before: np.ndarray  # (edges, dims) peak load up to p
    peak_after: np.ndarray  # (edges, dims) peak load from p on
    allowed: np.ndarray  # not inside a fixed prefix
    lats: np.ndarray  # per global node
    lons: np.ndarray
    node_profile: np.ndarray  # per global node, index into profiles
    is_stop: np.ndarray  # per global node: a planned stop (not a start or an end)
    profiles: tuple[str, ...]
    # Per route (index as in Timeline.routes):
    types: tuple[VehicleType, ...]  # the distinct vehicle types
    route_type: np.ndarray  # index into types
    capacity: np.ndarray  # (routes, dims)
    distance: np.ndarray
    range_m: np.ndarray
    idle: np.ndarray
    per_type: np.ndarray  # (4, types): cost per km, per hour, fixed, grams CO2 per km

    @classmethod
    def of(cls, routes: Sequence[RouteSchedule]) -> _Flat:
        profiles = tuple(sorted({r.vehicle_type.profile for r in routes}))
        per_node = (
            "route", "position", "prev_node", "next_node", "departure", "gap", "next_start",
            "next_earliest", "next_slack", "wait_after_next", "leg_distance", "last_edge_open",
            "peak_before", "peak_after", "allowed", "lats", "lons", "node_profile", "is_stop",
        )  # fmt: skip
        cols: dict[str, list[np.ndarray]] = {k: [] for k in per_node}
        offset = 0
        for ri, r in enumerate(routes):
            n = len(r.starts)
            edges = n - 1
            wait = r.starts - r.arrivals
            cum_wait = np.cumsum(wait)
            # slack_i = min over k >= i of (latest_k - start_k + waits i+1..k)
            margin = r.latest - r.starts + cum_wait
            suffix_min = np.minimum.accumulate(margin[::-1])[::-1]
            slack = suffix_min - cum_wait
            peak_before = np.maximum.accumulate(r.loads, axis=0)
            peak_after = np.maximum.accumulate(r.loads[::-1], axis=0)[::-1]
            p = np.arange(edges)
            cols["route"].append(np.full(edges, ri, dtype=np.int64))
            cols["position"].append(p)
            cols["prev_node"].append(offset + p)
            cols["next_node"].append(offset + p + 1)
            cols["departure"].append(r.starts[:-1] + r.services[:-1])
            cols["gap"].append(r.gap[1:])
            cols["next_start"].append(r.starts[1:])
            cols["next_earliest"].append(r.earliest[1:])
            cols["next_slack"].append(slack[1:])
            cols["wait_after_next"].append(cum_wait[-1] - cum_wait[1:])
            cols["leg_distance"].append(r.leg_distance[1:])
            last_open = np.zeros(edges, dtype=bool)
            last_open[-1] = r.open_end
            cols["last_edge_open"].append(last_open)
            cols["peak_before"].append(peak_before[:-1])
            cols["peak_after"].append(peak_after[:-1])
            cols["allowed"].append(p >= r.fixed_prefix)
            cols["lats"].append(r.lats)
            cols["lons"].append(r.lons)
            cols["node_profile"].append(
                np.full(n, profiles.index(r.vehicle_type.profile), dtype=np.int64)
            )
            is_stop = np.ones(n, dtype=bool)
            is_stop[[0, -1]] = False
            cols["is_stop"].append(is_stop)
            offset += n
        if not routes:
            empty = np.zeros((0,), dtype=np.int64)
            return cls(
                **dict.fromkeys(cols, empty),
                profiles=(),
                types=(),
                route_type=empty,
                capacity=empty.reshape(0, 0),
                distance=empty,
                range_m=empty,
                idle=empty.astype(bool),
                per_type=_per_type(()),
            )
        types = tuple(dict.fromkeys(r.vehicle_type for r in routes))
        dims = routes[0].loads.shape[1]
        return cls(
            **{k: np.concatenate(v) for k, v in cols.items()},
            profiles=profiles,
            types=types,
            route_type=np.array([types.index(r.vehicle_type) for r in routes], dtype=np.int64),
            capacity=np.array([_cap(r, dims) for r in routes], dtype=np.int64).reshape(-1, dims),
            distance=np.array([r.distance for r in routes], dtype=np.int64),
            range_m=np.array(
                [
                    _NEVER if r.vehicle_type.range_m is None else r.vehicle_type.range_m
                    for r in routes
                ],
                dtype=np.int64,
            ),
            idle=np.array([r.idle for r in routes], dtype=bool),
            per_type=_per_type(types),
        )


def _per_type(types: Sequence[VehicleType]) -> np.ndarray:
    rows = [(t.cost_per_km, t.cost_per_hour, t.fixed_cost, t.co2_g_per_km) for t in types]
    return np.array(rows, dtype=np.float64).reshape(-1, 4).T.copy()


def _node_legs(flat: _Flat, candidate: Candidate, travel: LegTravel) -> Legs:
    """Legs between every node and the candidate, each node on its own route's profile."""
    if len(flat.profiles) == 1:  # one profile, the usual day: no masks to merge
        return travel.legs(flat.lats, flat.lons, candidate.lat, candidate.lon, flat.profiles[0])
    n = flat.lats.shape[0]
    out = [np.zeros(n, dtype=np.int64) for _ in range(4)]
    for pi, profile in enumerate(flat.profiles):
        mask = flat.node_profile == pi
        legs = travel.legs(flat.lats[mask], flat.lons[mask], candidate.lat, candidate.lon, profile)
        for arr, part in zip(
            out,
            (legs.to_distance, legs.to_duration, legs.from_distance, legs.from_duration),
            strict=True,
        ):
            arr[mask] = part
    return Legs(*out)


def _best(
    flat: _Flat, routes: Sequence[RouteSchedule], candidate: Candidate, travel: LegTravel
) -> tuple[Insertion, ...]:
    """The cheapest feasible edge per window (the first of equal cost), or why there is none.

    The legs come from ``travel`` as arrays; the scan over edges × windows is
    :func:`routing._insertion_scan.scan`, compiled.
    """
    windows = candidate.windows
    if not routes:
        return tuple(_none(w, UnservedReason.NO_VEHICLE_WITH_SKILLS) for w in windows)
    type_ok = np.array(
        [
            candidate.skills <= t.skills
            and (candidate.vehicle_types is None or t.name in candidate.vehicle_types)
            for t in flat.types
        ],
        dtype=np.bool_,
    )
    if not type_ok.any():
        return tuple(_none(w, UnservedReason.NO_VEHICLE_WITH_SKILLS) for w in windows)
    legs = _node_legs(flat, candidate, travel)
    per_type = flat.per_type
    dims = flat.capacity.shape[1]
    demand = np.array(_padded(candidate.demand, dims), dtype=np.int64)
    peak = flat.peak_before if candidate.kind is StopKind.DELIVERY else flat.peak_after
    n = len(windows)
    edge = np.empty(n, dtype=np.int64)
    eta = np.empty(n, dtype=np.int64)
    cost = np.empty(n, dtype=np.float64)
    duration = np.empty(n, dtype=np.int64)
    added = np.empty(n, dtype=np.int64)
    reached = scan(
        flat.route, flat.prev_node, flat.next_node, flat.departure, flat.gap, flat.next_start,
        flat.next_earliest, flat.next_slack, flat.wait_after_next, flat.leg_distance,
        flat.last_edge_open, peak, flat.allowed, flat.route_type, flat.capacity, flat.distance,
        flat.range_m, flat.idle, type_ok, per_type[0], per_type[1], per_type[2],
        legs.to_distance, legs.to_duration, legs.from_distance, legs.from_duration,
        int(candidate.service), demand,
        np.array([w.start for w in windows], dtype=np.int64),
        np.array([w.end for w in windows], dtype=np.int64),
        edge, eta, cost, duration, added,
    )  # fmt: skip
    reason = _REASONS[reached]
    out = []
    for wi, window in enumerate(windows):
        e = int(edge[wi])
        if e < 0:
            out.append(_none(window, reason))
            continue
        route = routes[int(flat.route[e])]
        out.append(
            Insertion(
                window=window,
                route_id=route.route_id,
                position=int(flat.position[e]),
                eta=int(eta[wi]),
                added_distance=int(added[wi]),
                added_duration=int(duration[wi]),
                cost=float(cost[wi]),
                co2_g=float(added[wi] / 1000.0 * per_type[3][flat.route_type[flat.route[e]]]),
            )
        )
    return tuple(out)


_REASONS = (
    UnservedReason.NO_VEHICLE_WITH_SKILLS,
    UnservedReason.DEMAND_EXCEEDS_CAPACITY,
    UnservedReason.BEYOND_RANGE,
    UnservedReason.WINDOW_UNREACHABLE,
)
"""Why no window fits, by how far :func:`scan` got."""


def _cap(route: RouteSchedule, dims: int) -> tuple[int, ...]:
    return _padded(tuple(int(c) for c in route.capacity), dims)


def _none(window: TimeWindow, reason: UnservedReason) -> Insertion:
    return Insertion(window, None, None, None, 0, 0, 0.0, 0.0, reason)


# --- applying an insertion ----------------------------------------------------------------


def _inserted(
    r: RouteSchedule, candidate: Candidate, ins: Insertion, stop_id: str, travel: LegTravel
) -> RouteSchedule:
    p = ins.position
    assert p is not None  # checked by the caller
    profile = r.vehicle_type.profile
    legs = travel.legs(r.lats, r.lons, candidate.lat, candidate.lon, profile)
    dims = r.loads.shape[1]
    demand = np.array(_padded(candidate.demand, dims), dtype=np.int64)
    window = ins.window
    # The new node goes between node p and node p + 1.
    loads = r.loads.copy()
    if candidate.kind is StopKind.DELIVERY:
        loads[: p + 1] += demand
        new_load = loads[p] - demand
    else:
        loads[p + 1 :] += demand
        new_load = loads[p] + demand
    last_open = r.open_end and p + 1 == len(r.starts) - 1
    d_out = 0 if last_open else int(legs.from_distance[p + 1])
    t_out = 0 if last_open else int(legs.from_duration[p + 1])
    starts = r.starts.copy()
    arrivals = r.arrivals.copy()
    if r.idle:
        # Leave the start just in time for the window.
        starts[0] = arrivals[0] = max(int(r.starts[0]), window.start - int(legs.to_duration[0]))
    new_arrival = int(starts[p] + r.services[p] + legs.to_duration[p])
    new_start = max(new_arrival, window.start)
    if new_start > window.end:
        raise InvalidProblemError(f"cannot insert {stop_id!r}: it would start after its window")
    arrivals = np.insert(arrivals, p + 1, new_arrival)
    starts = np.insert(starts, p + 1, new_start)
    services = np.insert(r.services, p + 1, candidate.service)
    earliest = np.insert(r.earliest, p + 1, window.start)
    latest = np.insert(r.latest, p + 1, window.end)
    earliest[0] = latest[0] = starts[0]  # the start is fixed once the vehicle has a stop
    gap = np.insert(r.gap, p + 1, 0)
    leg_distance = np.insert(r.leg_distance, p + 1, int(legs.to_distance[p]))
    leg_distance[p + 2] = d_out
    lats = np.insert(r.lats, p + 1, candidate.lat)
    lons = np.insert(r.lons, p + 1, candidate.lon)
    loads = np.insert(loads, p + 1, new_load, axis=0)
    leg_duration = np.insert(r.leg_duration, p + 1, int(legs.to_duration[p]))
    leg_duration[p + 2] = t_out
    # Re-time every node after the new one; waiting absorbs what it can of the push.
    for k in range(p + 2, len(starts)):
        arrivals[k] = starts[k - 1] + services[k - 1] + leg_duration[k] + gap[k]
        starts[k] = max(int(arrivals[k]), int(earliest[k]))
        if starts[k] > latest[k]:
            raise InvalidProblemError(
                f"cannot insert {stop_id!r}: a later stop would start after its window"
            )
    stop_ids = (*r.stop_ids[:p], stop_id, *r.stop_ids[p:])
    if (loads > r.capacity[None, :]).any():
        raise InvalidProblemError(f"cannot insert {stop_id!r}: the vehicle would be overloaded")
    return RouteSchedule(
        route_id=r.route_id,
        vehicle_type=r.vehicle_type,
        stop_ids=stop_ids,
        lats=lats,
        lons=lons,
        arrivals=arrivals,
        starts=starts,
        services=services,
        earliest=earliest,
        latest=latest,
        leg_distance=leg_distance,
        leg_duration=leg_duration,
        gap=gap,
        loads=loads,
        capacity=r.capacity,
        open_end=r.open_end,
        fixed_prefix=r.fixed_prefix,
        idle=False,
    )
