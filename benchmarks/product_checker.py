"""One independent checker and one common cost for plans on a ``routing.Problem``.

Every solver in the product benchmark (lastmile, PyVRP, VROOM) hands back the same thing —
vehicle id -> stop ids in visiting order, and optionally the break start times it chose and
the reloads it made — and :func:`check_plan` judges it on the problem's own matrices, trusting
nothing the solver says.

The rules (times in seconds since midnight, distances in metres):

* **ids**: every vehicle id and stop id is known; a stop is on at most one route, once;
  a vehicle with a locked prefix starts its route with it.
* **time**: a route leaves its start at the shift start (waiting is allowed anywhere); it
  drives on its type's profile matrix; service starts at the earliest moment inside one of the
  stop's windows — the earliest window that can still be met — and never after that window's
  end (a stop without windows may be served any time in the shift); it leaves after the
  service time; it is back at its end (or, on an open route, leaves its last stop) no later
  than the shift end.
* **breaks**: a break lies between two services (or between the start and the first stop, or
  the last stop and the end), starts inside its window and takes its duration; the drive of
  that leg continues around it, so the leg needs travel + breaks. Given break starts are
  checked as given; without them each break is placed greedily in the earliest leg where it
  fits with the rest of the route still on time, as early as its window allows.
* **load**, per capacity dimension: deliveries not in a pair are loaded at the start; a
  paired pickup rides until its delivery; an unpaired pickup rides to the end; the load never
  exceeds the vehicle type's capacity.
* **reloads** (several trips a day), given per vehicle as ``(before, location)`` pairs:
  ``before`` is the index in the vehicle's stop list of the first stop after the reload
  (0..len; equal ``before`` means reloads in a row), ``location`` a problem location. The
  location must be one of the vehicle's ``reload_at``, and there are at most ``max_reloads``.
  The leg around a reload drives from the previous stop (or the start) to the hub on the
  profile matrix, spends ``reload_time`` seconds there (no window: any wait happens at the
  next stop) and drives on to the next stop (or the end); its metres count in the distance,
  the range and the cost. The load binds per trip: the start loads the first trip's
  deliveries, each reload the next trip's; a reload unloads unpaired pickups (the hub is a
  depot) while paired pickups ride on to their delivery.
* **skills**: a stop's skills are a subset of its vehicle type's skills.
* **limits**: ``range_m`` (route metres) and ``max_shift`` (the route's minimal duration).
* **pairs**: pickup and delivery on the same route, the pickup first; half a pair served is
  a violation.
* **completeness**: mandatory stops not served are listed in ``missing``; they make the plan
  incomplete, which is reported apart from the violations. ``feasible`` means no violation and
  nothing missing.

The **common cost** of a plan, whatever solver made it: per used vehicle ``fixed_cost +
cost_per_km * km + cost_per_hour * hours`` (EUR), where hours is the route's *minimal*
duration: from the latest departure that still achieves the earliest possible return, to that
return. A forward pass gives the earliest times (service as early as the windows allow); a
backward pass from the earliest return gives the latest start of every event that still keeps
that return, and so the latest departure. With several windows per stop this is exact: the
end time is a non-decreasing function of the departure, and the backward pass takes, at each
stop, the latest moment of any of its windows.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from routing import Problem, Stop, StopKind, TravelMatrix, Vehicle
from routing.model import fmt_time

__all__ = ["PlanCheck", "PlanCost", "RouteCheck", "check_plan", "plan_cost"]

Reloads = Mapping[str, Sequence[tuple[int, int]]]
"""Vehicle id -> ``(before, location)`` per reload (see the module docstring)."""

_MAX_LISTED = 50
"""Violations listed one by one before the rest is summarised (a broken plan can have 1000s)."""


@dataclass(frozen=True, slots=True)
class RouteCheck:
    """One used vehicle's route as the checker replayed it.

    ``departure`` is the latest departure (s) that still achieves ``end_time``, the earliest
    return (or last departure on an open route); ``duration_s = end_time - departure``.
    ``breaks`` are the break starts (s) of the checked schedule, given or placed.
    ``cost`` in EUR, ``co2_g`` in grams, ``distance_m`` in metres (hub legs included);
    ``reloads`` how many reloads were replayed.
    """

    vehicle_id: str
    stop_ids: tuple[str, ...]
    distance_m: int
    departure: int
    end_time: int
    duration_s: int
    breaks: tuple[int, ...]
    cost: float
    co2_g: float
    reloads: int = 0


@dataclass(frozen=True, slots=True)
class PlanCost:
    """The common cost of a plan: EUR, metres, seconds (minimal durations), grams CO2."""

    cost: float
    distance_m: int
    duration_s: int
    co2_g: float
    vehicles: int


@dataclass(frozen=True, slots=True)
class PlanCheck:
    """The verdict on a plan.

    Parameters
    ----------
    violations
        One sentence per broken rule (capped at 50, then summarised).
    served
        Distinct known stops on some route.
    total
        Stops in the problem.
    missing
        Mandatory stops on no route (they make the plan incomplete, not a violation).
    cost
        The common cost, computed whatever the violations.
    routes
        The used routes as replayed.
    """

    violations: tuple[str, ...]
    served: int
    total: int
    missing: tuple[str, ...]
    cost: PlanCost
    routes: tuple[RouteCheck, ...]

    @property
    def complete(self) -> bool:
        """Every mandatory stop is served."""
        return not self.missing

    @property
    def feasible(self) -> bool:
        """No rule is broken and every mandatory stop is served."""
        return not self.violations and not self.missing


def plan_cost(
    problem: Problem,
    routes: Mapping[str, Sequence[str]],
    breaks: Mapping[str, Sequence[int]] | None = None,
    reloads: Reloads | None = None,
) -> PlanCost:
    """The common cost of a plan (module docstring); the arguments of :func:`check_plan`."""
    return check_plan(problem, routes, breaks, reloads).cost


def check_plan(
    problem: Problem,
    routes: Mapping[str, Sequence[str]],
    breaks: Mapping[str, Sequence[int]] | None = None,
    reloads: Reloads | None = None,
) -> PlanCheck:
    """Replay a plan on the problem and list every broken rule.

    Parameters
    ----------
    problem
        The problem; only its own matrices, stops and fleet are used.
    routes
        Vehicle id -> stop ids in visiting order. Vehicles with an empty list are unused.
    breaks
        Optionally vehicle id -> break start times (s), one per break of the vehicle, in any
        order (matched to the vehicle's breaks by time). Vehicles missing here get their
        breaks placed by the checker.
    reloads
        Optionally vehicle id -> ``(before, location)`` per reload, ``before`` indexing the
        vehicle's list in ``routes`` (the index of the first stop after the reload). Vehicles
        missing here make one trip.
    """
    breaks = breaks or {}
    reloads = reloads or {}
    violations: list[str] = []
    vehicles = {v.id: v for v in problem.vehicles}
    known = {s.id for s in problem.stops}
    where: dict[str, tuple[str, int]] = {}
    checked: list[RouteCheck] = []

    for vid, given in routes.items():
        sequence = [str(s) for s in given]
        if not sequence:
            continue
        vehicle = vehicles.get(vid)
        if vehicle is None:
            violations.append(
                f"vehicle {vid!r} is not in the problem's fleet — use one of its vehicle ids"
            )
            continue
        unknown = [s for s in sequence if s not in known]
        if unknown:
            violations.append(f"{vid}: unknown stop id(s) {_short(unknown)}")
        stops: list[Stop] = []
        kept_before: list[int] = []  # stops kept before each index of ``sequence``
        for sid in sequence:
            kept_before.append(len(stops))
            if sid not in known:
                continue
            if sid in where:
                other, _ = where[sid]
                place = "twice on this route" if other == vid else f"also on {other}"
                violations.append(f"{vid}: stop {sid} is served more than once ({place})")
                continue
            where[sid] = (vid, len(stops))
            stops.append(problem.stop(sid))
        if vehicle.locked and tuple(s.id for s in stops[: len(vehicle.locked)]) != vehicle.locked:
            violations.append(
                f"{vid}: the route must begin with its locked stops {list(vehicle.locked)}"
            )
        trips, reload_faults = _reload_specs(
            problem, vehicle, reloads.get(vid, ()), [*kept_before, len(stops)]
        )
        violations.extend(reload_faults)
        route = _Route(problem, vehicle, stops, trips)
        violations.extend(route.skill_violations())
        violations.extend(route.load_violations())
        report, time_violations = route.replay(breaks.get(vid))
        violations.extend(time_violations)
        checked.append(report)

    for vid in sorted(set(vehicles) - {v for v, r in routes.items() if r}):
        if vehicles[vid].locked:
            violations.append(f"{vid}: has locked stops but no route")
    violations.extend(_pair_violations(problem, where))
    missing = tuple(s.id for s in problem.stops if s.penalty is None and s.id not in where)
    if len(violations) > _MAX_LISTED:
        extra = len(violations) - _MAX_LISTED
        violations = [*violations[:_MAX_LISTED], f"... and {extra} more violation(s)"]
    cost = PlanCost(
        cost=round(sum(r.cost for r in checked), 4),
        distance_m=sum(r.distance_m for r in checked),
        duration_s=sum(r.duration_s for r in checked),
        co2_g=round(sum(r.co2_g for r in checked), 3),
        vehicles=len(checked),
    )
    return PlanCheck(
        violations=tuple(violations),
        served=len(where),
        total=len(problem.stops),
        missing=missing,
        cost=cost,
        routes=tuple(checked),
    )


def _pair_violations(problem: Problem, where: Mapping[str, tuple[str, int]]) -> list[str]:
    out = []
    for pd in problem.shipments:
        p, d = where.get(pd.pickup), where.get(pd.delivery)
        if p is None and d is None:
            continue
        if p is None or d is None:
            served, other = (pd.pickup, pd.delivery) if d is None else (pd.delivery, pd.pickup)
            out.append(f"pair {pd.pickup} -> {pd.delivery}: {served} is served but {other} is not")
        elif p[0] != d[0]:
            out.append(
                f"pair {pd.pickup} -> {pd.delivery}: pickup on {p[0]}, delivery on {d[0]} — "
                "both halves must ride on the same route"
            )
        elif p[1] > d[1]:
            out.append(f"pair {pd.pickup} -> {pd.delivery}: {p[0]} delivers before it picks up")
    return out


def _reload_specs(
    problem: Problem,
    vehicle: Vehicle,
    given: Sequence[tuple[int, int]],
    kept_before: Sequence[int],
) -> tuple[list[tuple[int, int]], list[str]]:
    """The reloads as (stops kept before it, location), sorted by that index (stable), and
    the faults: an index outside the route or an unknown location (that reload is left out),
    a place not in ``reload_at``, more than ``max_reloads``."""
    vid, n = vehicle.id, len(kept_before) - 1
    names = problem.locations
    specs: list[tuple[int, int]] = []
    faults: list[str] = []
    for k, (before, location) in enumerate(given):
        before, location = int(before), int(location)
        if not 0 <= before <= n:
            faults.append(
                f"{vid}: reload #{k} before index {before} is outside the route's 0..{n} — "
                "give the index of the first stop after the reload"
            )
            continue
        if not 0 <= location < len(names):
            faults.append(
                f"{vid}: reload #{k} at location {location} is outside 0..{len(names) - 1}"
            )
            continue
        if location not in vehicle.reload_at:
            allowed = [f"{i} ({names[i].id})" for i in vehicle.reload_at] or "none"
            faults.append(
                f"{vid}: reload #{k} at location {location} ({names[location].id}) is not one of "
                f"its reload places (reload_at: {allowed})"
            )
        specs.append((kept_before[before], location))
    if vehicle.reload_at and len(given) > vehicle.max_reloads:
        faults.append(f"{vid}: {len(given)} reloads, more than max_reloads {vehicle.max_reloads}")
    specs.sort(key=lambda spec: spec[0])
    return specs, faults


def _short(values: Sequence[str]) -> str:
    shown = ", ".join(values[:10])
    return shown + (f", ... ({len(values)} in all)" if len(values) > 10 else "")


# -- one route --------------------------------------------------------------------------------


@dataclass(slots=True)
class _Break:
    """A break in the replay: allowed start ``[lo, hi]``, its leg (``gap``; None: by time)."""

    index: int
    lo: int
    hi: int
    duration: int
    gap: int | None


@dataclass(slots=True)
class _Pass:
    """One forward pass: service starts, break starts by break index, end time, faults."""

    starts: list[int]
    break_starts: dict[int, int]
    break_gaps: dict[int, int]
    end: int
    faults: list[str]


@dataclass(slots=True)
class _Leg:
    """The leg being replayed: left the previous stop at ``t_dep``, drives ``tau`` seconds;
    ``free`` is when the last break taken in it ends, ``taken`` the break seconds so far."""

    t_dep: int
    tau: int
    free: int
    taken: int

    @property
    def ready(self) -> int:
        """When the next service (or the end) can start: drive and breaks both done."""
        return max(self.free, self.t_dep + self.tau + self.taken)


class _Route:
    """A vehicle's stop sequence on the problem, replayed by the rules of the module.

    ``reloads`` are (index of the first stop after it, location), sorted by the index.
    """

    def __init__(
        self,
        problem: Problem,
        vehicle: Vehicle,
        stops: list[Stop],
        reloads: Sequence[tuple[int, int]] = (),
    ) -> None:
        self.problem = problem
        self.vehicle = vehicle
        self.vtype = problem.vehicle_type(vehicle.type)
        self.matrix: TravelMatrix = problem.matrices[self.vtype.profile]
        self.stops = stops
        self.shift = vehicle.shift
        self.reloads = list(reloads)
        # Leg g (0..n) runs from the start or stop g-1 through its hubs to stop g or the end
        # (an open route ends at its last stop, or at its last hub).
        n = len(stops)
        stop_locs = [s.location for s in stops]
        self.travel: list[int] = []
        self.distance = 0
        for g in range(n + 1):
            hubs = [loc for before, loc in self.reloads if before == g]
            waypoints = [vehicle.start if g == 0 else stop_locs[g - 1], *hubs]
            if g < n:
                waypoints.append(stop_locs[g])
            elif vehicle.end is not None:
                waypoints.append(vehicle.end)
            pairs = list(itertools.pairwise(waypoints))
            self.travel.append(
                sum(int(self.matrix.durations[a, b]) for a, b in pairs)
                + vehicle.reload_time * len(hubs)
            )
            self.distance += sum(int(self.matrix.distances[a, b]) for a, b in pairs)

    # -- static rules -------------------------------------------------------------------------

    def skill_violations(self) -> list[str]:
        have = self.vtype.skills
        return [
            f"{self.vehicle.id}: stop {s.id} needs skill(s) {sorted(s.skills - have)} that "
            f"type {self.vtype.name!r} lacks"
            for s in self.stops
            if not s.skills <= have
        ]

    def load_violations(self) -> list[str]:
        """The first moment the load exceeds the capacity: at the start, out of a reload, or
        after a stop (one report per route)."""
        problem = self.problem
        paired_delivery = {p.delivery: p.pickup for p in problem.shipments}
        paired_pickup = {p.pickup for p in problem.shipments}
        capacity = np.array(problem.capacity(self.vtype), dtype=np.int64)
        zero = np.zeros(len(problem.dimensions), dtype=np.int64)
        # What each trip loads: its deliveries not in a pair.
        n_trips = len(self.reloads) + 1
        trip_loads = [zero.copy() for _ in range(n_trips)]
        for i, s in enumerate(self.stops):
            if s.kind is StopKind.DELIVERY and s.id not in paired_delivery:
                trip_loads[sum(before <= i for before, _ in self.reloads)] += problem.demand(s)
        # On board: this trip's deliveries still to make, unpaired pickups (unloaded at a
        # reload) and paired pickups (riding to their delivery).
        loaded, returns, riding = trip_loads[0], zero.copy(), zero.copy()
        picked: set[str] = set()
        trip = 0

        def over(where: str) -> list[str]:
            load = loaded + returns + riding
            dims = [
                f"{problem.dimensions[k]} {int(load[k])} > {int(capacity[k])}"
                for k in np.flatnonzero(load > capacity)
            ]
            if not dims:
                return []
            return [f"{self.vehicle.id}: load {where} exceeds capacity ({', '.join(dims)})"]

        out = over("at the start")
        for i in range(len(self.stops) + 1):
            while not out and trip < len(self.reloads) and self.reloads[trip][0] == i:
                hub = problem.locations[self.reloads[trip][1]].id
                trip += 1
                loaded, returns = trip_loads[trip], zero.copy()
                out = over(f"out of reload #{trip - 1} at {hub}")
            if out or i == len(self.stops):
                return out  # one report per route is enough
            s = self.stops[i]
            demand = np.array(problem.demand(s), dtype=np.int64)
            if s.kind is StopKind.PICKUP:
                picked.add(s.id)
                if s.id in paired_pickup:
                    riding = riding + demand
                else:
                    returns = returns + demand
            elif s.id not in paired_delivery:
                loaded = loaded - demand
            elif paired_delivery[s.id] in picked:
                riding = riding - demand
            out = over(f"after {s.id}")
        return out

    # -- time -----------------------------------------------------------------------------------

    def _windows(self, stop: Stop) -> Sequence[tuple[int, int]]:
        return [(w.start, w.end) for w in stop.windows] or [(self.shift.start, self.shift.end)]

    def forward(self, departure: int, breaks: Sequence[_Break]) -> _Pass:
        """Earliest times from ``departure``; breaks with a ``gap`` go in that leg, breaks
        without one (given starts) go in the leg during which their start falls, or before a
        service that could not end before they start when waiting for them keeps the service
        in a window."""
        run = _Pass([], {}, {}, departure, [])
        by_time = sorted((b for b in breaks if b.gap is None), key=lambda b: b.lo)
        n = len(self.stops)
        t_dep = departure
        for g in range(n + 1):
            leg = _Leg(t_dep, self.travel[g], t_dep, 0)
            stop = self.stops[g] if g < n else None
            for b in sorted((b for b in breaks if b.gap == g), key=lambda b: b.lo):
                self._take(b, g, leg, run)
            while by_time and (
                stop is None
                or by_time[0].lo < self._service_start(stop, leg.ready)[0]
                or self._waits_for(by_time[0], leg, stop)
            ):
                self._take(by_time.pop(0), g, leg, run)
            if stop is None:
                run.end = leg.ready
                break
            start, late = self._service_start(stop, leg.ready)
            if late is not None:
                run.faults.append(
                    f"{self.vehicle.id}: stop {stop.id} can start service at "
                    f"{fmt_time(leg.ready)} at the earliest, after its last window ends at "
                    f"{fmt_time(late)}"
                )
            run.starts.append(start)
            t_dep = start + stop.service
        if run.end > self.shift.end:
            where = "leaves its last stop" if self.vehicle.end is None else "is back"
            run.faults.append(
                f"{self.vehicle.id}: {where} at {fmt_time(run.end)}, after its shift ends at "
                f"{fmt_time(self.shift.end)}"
            )
        return run

    def _take(self, b: _Break, gap: int, leg: _Leg, run: _Pass) -> None:
        """Take break ``b`` in leg ``gap`` as early as allowed; note what it breaks."""
        vid = self.vehicle.id
        if b.gap is None and b.lo < leg.free:
            what = "the shift start" if gap == 0 else f"the service at {self.stops[gap - 1].id}"
            run.faults.append(
                f"{vid}: break #{b.index} given at {fmt_time(b.lo)} is before {what} ends or "
                f"overlaps another break (free from {fmt_time(leg.free)})"
            )
        start = max(leg.free, b.lo)
        if start > b.hi:
            run.faults.append(
                f"{vid}: break #{b.index} must start by {fmt_time(b.hi)} but can start at "
                f"{fmt_time(start)} at the earliest"
            )
        run.break_starts[b.index], run.break_gaps[b.index] = start, gap
        leg.free = start + b.duration
        leg.taken += b.duration

    def _waits_for(self, b: _Break, leg: _Leg, stop: Stop) -> bool:
        """Whether a break given to start while ``stop``'s earliest service would still be on
        is taken before that service instead: the driver waits for the break, then serves,
        and the service still starts within a window. (Served first, the two would overlap.)
        """
        start, _ = self._service_start(stop, leg.ready)
        if not b.lo < start + stop.service or b.lo < leg.free:
            return False
        after = max(leg.free, b.lo) + b.duration
        ready = max(after, leg.t_dep + leg.tau + leg.taken + b.duration)
        return self._service_start(stop, ready)[1] is None

    def _service_start(self, stop: Stop, ready: int) -> tuple[int, int | None]:
        """Service start from ``ready``: the earliest window still open; else ``ready`` and the
        last window's end (a violation)."""
        windows = self._windows(stop)
        for lo, hi in windows:
            if ready <= hi:
                return max(ready, lo), None
        return ready, windows[-1][1]

    def latest_departure(self, end: int, breaks: Sequence[_Break]) -> int | None:
        """The latest departure from the start that still reaches the end by ``end``, with
        each break flexible in its window in its leg; ``None`` when there is none."""
        n = len(self.stops)
        latest = end
        for g in range(n, -1, -1):
            in_gap = [b for b in breaks if b.gap == g]
            bound = latest
            for b in reversed(in_gap):
                bound = min(b.hi, bound - b.duration)
                if bound < b.lo:
                    return None
            dep = latest - self.travel[g] - sum(b.duration for b in in_gap)
            if in_gap:
                dep = min(dep, bound)
            if g == 0:
                return dep
            stop = self.stops[g - 1]
            bound = dep - stop.service
            candidates = [min(hi, bound) for lo, hi in self._windows(stop) if lo <= bound]
            if not candidates:
                return None
            latest = max(candidates)
        return None  # unreachable: the loop returns at g == 0

    def _break_specs(self, given: Sequence[int] | None) -> tuple[list[_Break], list[str]]:
        """Breaks as replay specs: given starts pinned (leg by time), or greedy placement."""
        vbreaks = sorted(enumerate(self.vehicle.breaks), key=lambda kb: kb[1].window.start)
        if given is None:
            return self._place_breaks(), []
        faults: list[str] = []
        if len(given) != len(vbreaks):
            faults.append(
                f"{self.vehicle.id}: {len(given)} break start(s) given for "
                f"{len(vbreaks)} break(s) — give one start per break"
            )
            return self._place_breaks(), faults
        specs = []
        for (k, b), start in zip(vbreaks, sorted(int(t) for t in given), strict=True):
            if not b.window.contains(start):
                faults.append(
                    f"{self.vehicle.id}: break #{k} given at {fmt_time(start)}, outside its "
                    f"window {fmt_time(b.window.start)}-{fmt_time(b.window.end)}"
                )
            specs.append(_Break(k, start, start, b.duration, None))
        return specs, faults

    def _place_breaks(self) -> list[_Break]:
        """Each break (by window start) in the earliest leg where the whole route stays on
        time; if there is none, in the earliest leg where the break meets its window."""
        placed: list[_Break] = []
        order = sorted(enumerate(self.vehicle.breaks), key=lambda kb: kb[1].window.start)
        first_gap = 0
        for k, b in order:
            chosen: _Break | None = None
            fallback: _Break | None = None
            for g in range(first_gap, len(self.stops) + 1):
                spec = _Break(k, b.window.start, b.window.end, b.duration, g)
                run = self.forward(self.shift.start, [*placed, spec])
                if not run.faults:
                    chosen = spec
                    break
                if fallback is None and run.break_starts[k] <= b.window.end:
                    fallback = spec
            spec = (
                chosen or fallback or _Break(k, b.window.start, b.window.end, b.duration, first_gap)
            )
            placed.append(spec)
            first_gap = spec.gap or 0
        return placed

    def replay(self, given: Sequence[int] | None) -> tuple[RouteCheck, list[str]]:
        """Check the route's times and compute its cost on the minimal duration."""
        specs, faults = self._break_specs(given)
        checked = self.forward(self.shift.start, specs)
        faults.extend(checked.faults)
        # The cost: breaks flexible in the legs where the checked schedule put them.
        flexible = sorted(
            (
                _Break(k, b.window.start, b.window.end, b.duration, checked.break_gaps[k])
                for k, b in enumerate(self.vehicle.breaks)
                if k in checked.break_gaps
            ),
            key=lambda b: b.lo,
        )
        earliest = self.forward(self.shift.start, flexible)
        departure = self.latest_departure(earliest.end, flexible)
        if departure is None or departure < self.shift.start:
            departure = self.shift.start
        duration = earliest.end - departure
        vt = self.vtype
        if vt.max_shift is not None and duration > vt.max_shift:
            faults.append(
                f"{self.vehicle.id}: the route takes {duration} s at least, more than "
                f"max_shift {vt.max_shift} s of type {vt.name!r}"
            )
        if vt.range_m is not None and self.distance > vt.range_m:
            faults.append(
                f"{self.vehicle.id}: the route drives {self.distance} m, beyond the range "
                f"{vt.range_m} m of type {vt.name!r}"
            )
        km = self.distance / 1000.0
        cost = vt.fixed_cost + vt.cost_per_km * km + vt.cost_per_hour * duration / 3600.0
        report = RouteCheck(
            vehicle_id=self.vehicle.id,
            stop_ids=tuple(s.id for s in self.stops),
            distance_m=self.distance,
            departure=departure,
            end_time=earliest.end,
            duration_s=duration,
            breaks=tuple(checked.break_starts[k] for k in sorted(checked.break_starts)),
            cost=round(cost, 4),
            co2_g=round(vt.co2_g_per_km * km, 3),
            reloads=len(self.reloads),
        )
        return report, faults
