"""PyVRP on lastmile's problems: a seed for OR-Tools, and the "PyVRP alone" baseline.

PyVRP's iterated local search finds near-best plans on vehicle routing problems much faster
than OR-Tools' own heuristics. PyVRP 0.14 expresses most of what a delivery day holds, and
this module translates all of it:

* **skills** as routing *profiles*: one profile per (travel matrix, vehicle skill set), in
  which every stop needing a skill the vehicles lack is unreachable (its arcs cost
  ``pyvrp.constants.MAX_VALUE``). Each stop therefore gets a location of its own;
* **several windows** as a required, mutually exclusive *client group*: one copy of the stop
  per window, exactly one of which is visited;
* **pickup-and-delivery pairs** as PyVRP *shipments* (each half with at most one window);
* **optional stops** with their drop penalty as a *prize*; several depots; open routes (an
  extra end depot that every stop reaches for free);
* **breaks**, which PyVRP cannot express, are *relaxed*: each driver's route may last its
  shift less its breaks, so that OR-Tools, which schedules the breaks, can repair the plan.

What it cannot express — a locked (dispatched) prefix, a pair whose half has several windows
— :func:`why_not` names. Its routes are only a seed: they are handed to OR-Tools as initial
routes, and the final plan is an OR-Tools assignment with every side constraint checked — or,
when OR-Tools cannot read the seed back within the time limit, the seed as the cautious replay
of :mod:`routing._replay` schedules it (which keeps the same constraints).
:func:`solve_alone` runs PyVRP by itself on the same translation, the baseline the routing
benchmarks measure lastmile against. This is the only module that imports PyVRP.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyvrp
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.search import NeighbourhoodParams
from pyvrp.stop import MaxIterations, MaxRuntime

from routing._ortools import COST_SCALE
from routing._reloads import location_of, marker
from routing.diagnose import diagnose
from routing.errors import RoutingError
from routing.model import Problem, Stop, StopKind, VehicleType

__all__ = [
    "AloneResult",
    "NotExpressible",
    "SeedResult",
    "Translation",
    "can_express",
    "seed_routes",
    "solve_alone",
    "translate",
    "why_not",
]

_INF = np.iinfo(np.int64).max

SCALE = 1_000_000
"""PyVRP cost units per unit of currency. PyVRP prices a metre and a second with integers, so
0.05 EUR/km at OR-Tools' scale (10,000) would round to 0 per metre and 0.15 EUR/km to 2
(+33 %); at a million units per EUR they are 50 and 150, exact. A day of 10,000 stops stays
far below 2**63."""

MAX_PENALTY = 10_000_000.0
"""PyVRP's cap on a penalty per unit of excess load or time warp, a hundred times its default
of 100,000 because costs are a hundred times finer than at 10,000 units per EUR; at the
default cap an overloaded van was cheaper than another vehicle and runs ended infeasible
(measured: product day of 200 stops at 10 s, PyVRP alone 1,890 EUR at the default cap, 1,650
at this one; 1,686 at 10,000 units per EUR)."""


def _objective_units(cost: int) -> int:
    """A PyVRP cost in OR-Tools objective units (:data:`routing._ortools.COST_SCALE`)."""
    return round(cost * COST_SCALE / SCALE)


class NotExpressible(RoutingError):
    """The problem holds something PyVRP cannot express (the message says what)."""


@dataclass(frozen=True, slots=True)
class SeedResult:
    """Routes as vehicle index -> stop indices, or ``None`` when PyVRP found nothing usable."""

    routes: dict[int, list[int]] | None
    stats: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AloneResult:
    """PyVRP's own plan: vehicle id -> stop ids, or ``None`` when it found no feasible plan.

    ``seconds`` is the wall-clock time of the whole call (translation included);
    ``first_feasible_seconds`` when PyVRP first held a plan serving every required stop.
    """

    routes: dict[str, list[str]] | None
    seconds: float
    first_feasible_seconds: float | None
    stats: dict[str, object] = field(default_factory=dict)
    reloads: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    """Vehicle id -> (stops served before it, location) per reload."""


def why_not(problem: Problem) -> str | None:
    """Why PyVRP cannot express the problem, or ``None`` when it can."""
    if any(v.locked for v in problem.vehicles):
        return "a vehicle has a locked prefix"
    for pd in problem.shipments:
        for sid in (pd.pickup, pd.delivery):
            if len(problem.stop(sid).windows) > 1:
                return f"stop {sid!r} of a pickup-and-delivery pair has several time windows"
    return None


def can_express(problem: Problem) -> bool:
    """Whether :func:`seed_routes` can run on the problem."""
    return why_not(problem) is None


@dataclass(frozen=True, slots=True)
class Translation:
    """A problem as PyVRP data, and the way back.

    ``client_stop[c]`` is the problem stop index of PyVRP client ``c`` (copies of a stop with
    several windows map to the same stop); ``shipment_stops[k]`` the (pickup, delivery) stop
    indices of shipment ``k``; ``members[t]`` the problem vehicle indices of PyVRP vehicle
    type ``t``; ``relaxed`` what the translation left out (breaks).
    """

    data: pyvrp.ProblemData
    client_stop: tuple[int, ...]
    shipment_stops: tuple[tuple[int, int], ...]
    members: tuple[tuple[int, ...], ...]
    relaxed: tuple[str, ...] = ()
    depot_place: tuple[int, ...] = ()
    """The problem location of each PyVRP depot (reload depots included)."""
    wait_scale: float = 1.0
    """How much PyVRP's weight of waiting in its neighbourhoods is scaled (:func:`_wait_scale`)."""


def translate(problem: Problem, servable: Sequence[int]) -> Translation:
    """Translate the problem restricted to the ``servable`` stop indices.

    Raises :class:`NotExpressible` when :func:`why_not` names a reason.
    """
    reason = why_not(problem)
    if reason is not None:
        raise NotExpressible(f"PyVRP cannot express this problem: {reason}")
    stops = problem.stops
    keep = set(servable)
    pairs = [
        (problem.stop_index(pd.pickup), problem.stop_index(pd.delivery)) for pd in problem.shipments
    ]
    paired = {s for pair in pairs for s in pair}
    pairs = [(p, d) for p, d in pairs if p in keep and d in keep]
    singles = [s for s in servable if s not in paired]

    # -- locations: the depots, an open end if needed, then one per stop --------------------
    depot_locs = sorted(
        {v.start for v in problem.vehicles} | {v.end for v in problem.vehicles if v.end is not None}
    )
    depot_of = {loc: k for k, loc in enumerate(depot_locs)}
    has_open = any(v.end is None for v in problem.vehicles)
    open_depot = len(depot_locs) if has_open else -1
    n_depots = len(depot_locs) + (1 if has_open else 0)
    # Reload places not already a depot get a location of their own, before the stops.
    hubs = sorted({p for v in problem.vehicles if v.reloads for p in v.reload_at} - set(depot_locs))
    place_loc = {**depot_of, **{p: n_depots + j for j, p in enumerate(hubs)}}
    n_fixed = n_depots + len(hubs)
    stop_order = singles + [s for pair in pairs for s in pair]
    loc_of_stop = {s: n_fixed + k for k, s in enumerate(stop_order)}
    problem_loc = depot_locs + ([depot_locs[0]] if has_open else []) + hubs
    problem_loc += [stops[s].location for s in stop_order]
    index = np.array(problem_loc, dtype=np.int64)
    locations = [pyvrp.Location(problem.locations[i].lon, problem.locations[i].lat) for i in index]
    depots = [pyvrp.Depot(k) for k in range(n_depots)]
    depot_place = [*depot_locs, *([depot_locs[0]] if has_open else [])]
    # A reload depot per (place, reload time): the reload's time is the depot's service.
    reload_depot: dict[tuple[int, int], int] = {}
    for v in problem.vehicles:
        for p in v.reload_at if v.reloads else ():
            if (p, v.reload_time) not in reload_depot:
                reload_depot[(p, v.reload_time)] = len(depots)
                depots.append(pyvrp.Depot(place_loc[p], service_duration=v.reload_time))
                depot_place.append(p)

    # -- clients, client groups (several windows) and shipments ------------------------------
    n_dim = len(problem.dimensions)
    zero = [0] * n_dim
    clients: list[pyvrp.Client] = []
    client_stop: list[int] = []
    groups: list[pyvrp.ClientGroup] = []
    for s in singles:
        stop = stops[s]
        demand = list(problem.demand(stop))
        delivery = demand if stop.kind is StopKind.DELIVERY else zero
        pickup = demand if stop.kind is StopKind.PICKUP else zero
        windows = stop.windows or None
        if windows is None or len(windows) == 1:
            early, late = (windows[0].start, windows[0].end) if windows else (0, _INF)
            clients.append(
                pyvrp.Client(
                    loc_of_stop[s],
                    service_duration=stop.service,
                    tw_early=early,
                    tw_late=late,
                    prize=_prize(stop),
                    required=stop.penalty is None,
                    name=stop.id,
                    delivery=delivery,
                    pickup=pickup,
                )
            )
            client_stop.append(s)
            continue
        group = pyvrp.ClientGroup(required=stop.penalty is None, name=stop.id)
        for w in windows:
            group.add_client(len(clients))
            clients.append(
                pyvrp.Client(
                    loc_of_stop[s],
                    service_duration=stop.service,
                    tw_early=w.start,
                    tw_late=w.end,
                    prize=_prize(stop),
                    required=False,
                    group=len(groups),
                    name=stop.id,
                    delivery=delivery,
                    pickup=pickup,
                )
            )
            client_stop.append(s)
        groups.append(group)

    shipments = []
    for p, d in pairs:
        pick, drop = stops[p], stops[d]
        pw = pick.windows[0] if pick.windows else None
        dw = drop.windows[0] if drop.windows else None
        shipments.append(
            pyvrp.Shipment(
                loc_of_stop[p],
                loc_of_stop[d],
                pickup_tw_early=pw.start if pw else 0,
                pickup_tw_late=pw.end if pw else _INF,
                pickup_service_duration=pick.service,
                delivery_tw_early=dw.start if dw else 0,
                delivery_tw_late=dw.end if dw else _INF,
                delivery_service_duration=drop.service,
                amount=list(problem.demand(pick)),
                prize=_prize(pick),
                required=pick.penalty is None or drop.penalty is None,
                name=f"{pick.id}->{drop.id}",
            )
        )

    # -- profiles: one per (travel matrix, vehicle skills) -----------------------------------
    sub = np.ix_(index, index)
    # An arc a profile may not use: longer than any shift (so it always means time warp) and
    # costlier than any route. PyVRP's own "missing edge" value (2**44) slows its search to a
    # crawl through the penalties it induces, so a bound from the data is used instead.
    horizon = max(problem.horizon, 1)
    far_m = 10 * int(max(m.distances.max(initial=0) for m in problem.matrices.values())) + 10**6
    far_s = 2 * horizon
    profile_keys: list[tuple[str, frozenset[str]]] = []
    distances: list[np.ndarray] = []
    durations: list[np.ndarray] = []
    speed: dict[str, float] = {}  # metres per second on each travel matrix, arcs in use
    for vt_name in sorted({v.type for v in problem.vehicles}):
        vt = problem.vehicle_type(vt_name)
        key = (vt.profile, vt.skills)
        if key in profile_keys:
            continue
        profile_keys.append(key)
        m = problem.matrices[vt.profile]
        dist = np.ascontiguousarray(m.distances[sub])
        dur = np.ascontiguousarray(m.durations[sub])
        if vt.profile not in speed:  # before open ends and banned arcs change the copies
            total_s = float(dur.sum())
            speed[vt.profile] = float(dist.sum()) / total_s if total_s > 0 else 0.0
        if has_open:
            dist[:, open_depot] = 0
            dur[:, open_depot] = 0
            dist[open_depot, :] = far_m
            dur[open_depot, :] = far_s
            dist[open_depot, open_depot] = dur[open_depot, open_depot] = 0
        banned = [loc_of_stop[s] for s in stop_order if not stops[s].skills <= vt.skills]
        if banned:
            for arr, far in ((dist, far_m), (dur, far_s)):
                arr[banned, :] = far
                arr[:, banned] = far
                arr[banned, banned] = 0
        distances.append(dist)
        durations.append(dur)

    # -- vehicle types: vehicles alike in type, depots and shift ---------------------------
    # (type, start, end, shift start, shift end, break time, reload depots, max reloads)
    kinds: dict[tuple[str, int, int | None, int, int, int, tuple[int, ...], int], list[int]] = {}
    for vi, v in enumerate(problem.vehicles):
        breaks = sum(b.duration for b in v.breaks)
        reloads = tuple(reload_depot[(p, v.reload_time)] for p in v.reload_at) if v.reloads else ()
        kind = (v.type, v.start, v.end, v.shift.start, v.shift.end, breaks, reloads)
        kinds.setdefault(kind + ((v.max_reloads,) if reloads else (0,)), []).append(vi)
    vehicle_types = []
    members: list[tuple[int, ...]] = []
    relaxed: set[str] = set()
    for (
        type_name,
        start,
        end,
        shift_start,
        shift_end,
        breaks,
        reloads,
        max_reloads,
    ), vis in kinds.items():
        vt = problem.vehicle_type(str(type_name))
        longest = int(shift_end) - int(shift_start)
        if vt.max_shift is not None:
            longest = min(longest, vt.max_shift)
        if breaks:
            # Relaxed: the driver works the shift less its breaks; OR-Tools places them.
            longest -= int(breaks)
            relaxed.add("breaks")
        vehicle_types.append(
            pyvrp.VehicleType(
                len(vis),
                capacity=list(problem.capacity(vt)),
                start_depot=depot_of[start],
                end_depot=open_depot if end is None else depot_of[end],
                fixed_cost=round(vt.fixed_cost * SCALE),
                tw_early=int(shift_start),
                tw_late=int(shift_end),
                shift_duration=longest,
                max_distance=vt.range_m if vt.range_m is not None else _INF,
                unit_distance_cost=round(vt.cost_per_km * SCALE / 1000.0),
                unit_duration_cost=round(vt.cost_per_hour * SCALE / 3600.0),
                profile=profile_keys.index((vt.profile, vt.skills)),
                reload_depots=list(reloads),
                max_reloads=int(max_reloads) if reloads else 0,
                name=str(type_name),
            )
        )
        members.append(tuple(vis))

    data = pyvrp.ProblemData(
        locations,
        clients,
        depots,
        vehicle_types,
        distances,  # type: ignore[arg-type]  # pyvrp's stubs want np.ndarray[int], which no array is
        durations,  # type: ignore[arg-type]  # (the same)
        groups,
        shipments,
    )
    return Translation(
        data,
        tuple(client_stop),
        tuple(pairs),
        tuple(members),
        tuple(relaxed),
        tuple(depot_place),
        _wait_scale(
            [problem.vehicle_type(str(key[0])) for key in kinds],
            speed,
        ),
    )


def _prize(stop: Stop) -> int:
    return round((stop.penalty or 0) * SCALE * (1 + stop.priority))


def seed_routes(
    problem: Problem,
    servable: Sequence[int],
    *,
    time_limit: float,
    iterations: int | None = None,
    seed: int = 0,
    workers: int = 1,
) -> SeedResult:
    """Solve the problem restricted to the ``servable`` stops with PyVRP.

    Parameters
    ----------
    time_limit
        Wall-clock seconds for PyVRP, translation included (ignored when ``iterations`` is
        given).
    iterations
        Stop after this many iterations instead (repeatable, independent of timing).
    seed
        PyVRP's random seed (worker ``k`` uses ``seed + k``).
    workers
        Processes to run PyVRP in, each with its own seed; the best result is kept.

    ``stats["first_feasible_seconds"]`` is when the first complete feasible plan existed
    (in whichever worker found one first), counted from the call.
    """
    t0, wall0 = time.perf_counter(), time.time()
    tr = translate(problem, servable)
    deadline = time.time() + max(0.01, time_limit - (time.perf_counter() - t0))
    runs: list[_Run] = []
    # A portfolio: other seeds in fresh interpreters (``python -m routing._pyvrp``; unlike
    # multiprocessing this never re-imports the caller's main script), the first seed in this
    # process; the best feasible result wins.
    children = [
        _start_worker(tr.data, deadline, iterations, seed + k, tr.wait_scale)
        for k in range(1, workers)
    ]
    runs.append(_run(tr.data, deadline, iterations, seed, tr.wait_scale))
    for child in children:
        assert child.stdout is not None
        with child.stdout:
            out = child.stdout.read()
        if child.wait() == 0:
            runs.append(pickle.loads(out))
    feasible = [r for r in runs if r.feasible]
    best = min(feasible, key=lambda r: r.cost) if feasible else runs[0]
    firsts = [r.first_feasible_at for r in runs if r.first_feasible_at is not None]
    stats: dict[str, object] = {
        "seconds": round(time.perf_counter() - t0, 3),
        "iterations": sum(r.iterations for r in runs),
        "workers": len(runs),
        "feasible": best.feasible,
        "cost": _objective_units(best.cost) if best.feasible else None,
        "costs": [_objective_units(r.cost) if r.feasible else None for r in runs],
        "first_feasible_seconds": (round(min(firsts) - wall0, 3) if firsts else None),
        "client_groups": len(tr.data.groups()),
        "shipments": len(tr.shipment_stops),
        "profiles": tr.data.num_profiles,
    }
    if tr.relaxed:
        stats["relaxed"] = list(tr.relaxed)
    if not best.feasible:
        return SeedResult(None, stats)
    return SeedResult(_by_vehicle_index(tr, best.routes), stats)


def solve_alone(problem: Problem, *, time_limit: float, seed: int = 0) -> AloneResult:
    """PyVRP alone, one thread, on the same translation as the seed: the benchmark baseline.

    Unservable stops (see :func:`routing.diagnose.diagnose`) are left out as for lastmile.
    Breaks cannot be kept by PyVRP, so a problem with breaks raises :class:`NotExpressible`,
    as does anything :func:`why_not` names.
    """
    t0, wall0 = time.perf_counter(), time.time()
    if any(v.breaks for v in problem.vehicles):
        raise NotExpressible("PyVRP cannot express this problem: a vehicle has breaks")
    servable = diagnose(problem).servable
    tr = translate(problem, servable)
    deadline = time.time() + max(0.01, time_limit - (time.perf_counter() - t0))
    run = _run(tr.data, deadline, None, seed, tr.wait_scale)
    first = None if run.first_feasible_at is None else round(run.first_feasible_at - wall0, 3)
    seconds = time.perf_counter() - t0
    stats: dict[str, object] = {"iterations": run.iterations, "cost": run.cost / SCALE}
    if not run.feasible:
        return AloneResult(None, seconds, first, stats)
    routes: dict[str, list[str]] = {}
    reloads: dict[str, list[tuple[int, int]]] = {}
    for vi, plain in _by_vehicle_index(tr, run.routes).items():
        vid = problem.vehicles[vi].id
        ids = routes[vid] = []
        for entry in plain:
            place = location_of(entry)
            if place is None:
                ids.append(problem.stops[entry].id)
            elif ids:  # a reload before the first stop loads nothing new
                reloads.setdefault(vid, []).append((len(ids), place))
    return AloneResult(routes, seconds, first, stats, reloads)


def _by_vehicle_index(
    tr: Translation, routes: Sequence[tuple[int, list[tuple[str, int]]]]
) -> dict[int, list[int]]:
    """PyVRP routes (type, [(activity kind, index)]) as vehicle index -> stop indices."""
    out: dict[int, list[int]] = {}
    used = [0] * len(tr.members)
    for t, activities in routes:
        vi = tr.members[t][used[t]]
        used[t] += 1
        seq: list[int] = []
        for kind, idx in activities:
            if kind == "client":
                seq.append(tr.client_stop[idx])
            elif kind == "depot":
                seq.append(marker(tr.depot_place[idx]))
            else:
                seq.append(tr.shipment_stops[idx][0 if kind == "pickup" else 1])
        out[vi] = seq
    return out


@dataclass(frozen=True, slots=True)
class _Run:
    """One PyVRP run, as plain data that crosses process boundaries.

    ``routes`` lists (vehicle type, [(activity kind, index)]) with kinds ``"client"``,
    ``"pickup"`` and ``"delivery"``; ``first_feasible_at`` is a ``time.time()`` stamp.
    """

    feasible: bool
    cost: int
    iterations: int
    routes: list[tuple[int, list[tuple[str, int]]]]
    first_feasible_at: float | None = None


class _Watch:
    """A stopping criterion that also notes when the best plan first became feasible."""

    def __init__(self, inner: MaxIterations | MaxRuntime) -> None:
        self.inner = inner
        self.first_feasible_at: float | None = None

    def __call__(self, best_cost: int) -> bool:
        if self.first_feasible_at is None and best_cost < _INF:
            self.first_feasible_at = time.time()
        return bool(self.inner(best_cost))


WAIT_WEIGHT = 0.2
"""PyVRP's default weight of waiting time in its granular neighbourhoods, calibrated for data
where one unit of time costs about one unit (as in Solomon's instances)."""


def _wait_scale(types: Sequence[VehicleType], speed: Mapping[str, float]) -> float:
    """How much PyVRP's weight of waiting in its neighbourhoods is scaled for this data.

    PyVRP weighs waiting (seconds) against edge costs (cost units) with a weight calibrated for
    one cost unit per unit of time. When time itself costs nothing (no vehicle type pays per
    hour), waiting is free in the objective and only the neighbourhoods keep stops of
    incompatible windows apart; in millionths of a EUR that term counted for nothing. The
    weight is then scaled by what driving costs per second (median over vehicle types). On
    Homberger's R1_10_1 (100 cost units per unit of distance and of time) the seed ended on 116
    routes, 56,337 in 30 s; scaled, 98 routes and 55,208 (PyVRP on its own reading of the
    instance: 98, 54,797); at 60 s R1_10_1 went from 5.00 % to 2.71 % above the best known,
    RC2_10_1 from 2.89 % to 0.56 %. Where time is paid for, waiting already costs in the
    objective: scaling there made the 400-stop product day 2 % dearer, so it is left at 1.
    """
    if not types or any(vt.cost_per_hour for vt in types):
        return 1.0
    rates = [round(vt.cost_per_km * SCALE / 1000.0) * speed[vt.profile] for vt in types]
    return max(1.0, float(np.median(rates)))


def _run(
    data: pyvrp.ProblemData,
    deadline: float,
    iterations: int | None,
    seed: int,
    wait_scale: float = 1.0,
) -> _Run:
    """Run PyVRP until the wall-clock ``deadline`` (or for ``iterations``)."""
    if iterations is not None:
        inner: MaxIterations | MaxRuntime = MaxIterations(iterations)
    else:
        inner = MaxRuntime(max(0.01, deadline - time.time()))
    stop = _Watch(inner)
    with warnings.catch_warnings():
        # Our drop penalties for mandatory stops are deliberately huge; PyVRP warns that its
        # penalty bounds are then loose. Harmless for a seed that OR-Tools re-checks.
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        params = pyvrp.SolveParams(
            penalty=pyvrp.PenaltyParams(max_penalty=MAX_PENALTY),
            neighbourhood=NeighbourhoodParams(weight_wait_time=WAIT_WEIGHT * wait_scale),
        )
        result = pyvrp.solve(
            data, stop=stop, seed=seed, collect_stats=False, display=False, params=params
        )
    routes = [(r.vehicle_type(), _activities(r)) for r in result.best.routes()]
    feasible = result.is_feasible()
    return _Run(
        feasible,
        int(result.cost()) if feasible else 0,
        result.num_iterations,
        routes,
        stop.first_feasible_at,
    )


def _activities(route: pyvrp.Route) -> list[tuple[str, int]]:
    """A PyVRP route as (kind, index) pairs: ``"client"``, ``"pickup"``, ``"delivery"``, and
    ``"depot"`` for a reload between two trips (the start and end depots are left out)."""
    schedule = list(route.schedule())
    out = []
    for k, a in enumerate(schedule):
        if a.is_depot():
            if 0 < k < len(schedule) - 1:
                out.append(("depot", a.idx))
            continue
        kind = "client" if a.is_client() else "pickup" if a.is_pickup() else "delivery"
        out.append((kind, a.idx))
    return out


def _start_worker(
    data: pyvrp.ProblemData, deadline: float, iterations: int | None, seed: int, wait_scale: float
) -> subprocess.Popen[bytes]:
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    child = subprocess.Popen(
        [sys.executable, "-m", "routing._pyvrp"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert child.stdin is not None
    child.stdin.write(pickle.dumps((data, deadline, iterations, seed, wait_scale)))
    child.stdin.close()
    return child


if __name__ == "__main__":
    # Worker mode: read (data, deadline, iterations, seed, wait_scale), write the pickled _Run.
    # Import by name so the result pickles as routing._pyvrp._Run, not __main__._Run.
    from routing._pyvrp import _run as run_in_worker

    args = pickle.loads(sys.stdin.buffer.read())
    sys.stdout.buffer.write(pickle.dumps(run_in_worker(*args)))
