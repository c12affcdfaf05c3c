"""A first solution from PyVRP, for OR-Tools to start from.

PyVRP's iterated local search finds near-best-known solutions on plain VRPTW/CVRP much
faster than OR-Tools' own first-solution heuristics. It cannot express everything lastmile
needs (skills, several windows per stop, breaks, locked prefixes, pickup-and-delivery pairs
with our semantics, open routes), so it is only a seed: its routes are handed to OR-Tools as
initial routes, and the final plan is always an OR-Tools assignment with every side
constraint checked. This is the only module that imports PyVRP.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyvrp
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.stop import MaxIterations, MaxRuntime

from routing._ortools import COST_SCALE
from routing.model import Problem, StopKind

__all__ = ["SeedResult", "can_express", "seed_routes", "why_not"]

_INF = np.iinfo(np.int64).max


@dataclass(frozen=True, slots=True)
class SeedResult:
    """Routes as vehicle index -> stop indices, or ``None`` when PyVRP found nothing usable."""

    routes: dict[int, list[int]] | None
    stats: dict[str, object] = field(default_factory=dict)


def why_not(problem: Problem) -> str | None:
    """Why PyVRP cannot express the problem, or ``None`` when it can."""
    if problem.shipments:
        return "the problem has pickup-and-delivery pairs"
    if any(v.breaks for v in problem.vehicles):
        return "a vehicle has breaks"
    if any(v.locked for v in problem.vehicles):
        return "a vehicle has a locked prefix"
    if any(v.end is None for v in problem.vehicles):
        return "a vehicle has an open route"
    if any(len(s.windows) > 1 for s in problem.stops):
        return "a stop has several time windows"
    if any(s.skills for s in problem.stops):
        return "a stop requires skills"
    return None


def can_express(problem: Problem) -> bool:
    """Whether :func:`seed_routes` can run on the problem."""
    return why_not(problem) is None


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
        Wall-clock seconds for PyVRP (ignored when ``iterations`` is given).
    iterations
        Stop after this many iterations instead (repeatable, independent of timing).
    seed
        PyVRP's random seed (worker ``k`` uses ``seed + k``).
    workers
        Processes to run PyVRP in, each with its own seed; the best result is kept.
    """
    t0 = time.perf_counter()
    groups: dict[tuple[object, ...], list[int]] = {}
    for vi, v in enumerate(problem.vehicles):
        key = (v.type, v.start, v.end, v.shift.start, v.shift.end)
        groups.setdefault(key, []).append(vi)

    depot_locs = sorted({v.start for v in problem.vehicles} | {v.end for v in problem.vehicles})
    depot_of = {loc: k for k, loc in enumerate(depot_locs)}
    stop_locs = [problem.stops[s].location for s in servable]
    loc_index = np.array(depot_locs + stop_locs, dtype=np.int64)
    locations = [
        pyvrp.Location(problem.locations[i].lon, problem.locations[i].lat) for i in loc_index
    ]
    depots = [pyvrp.Depot(k) for k in range(len(depot_locs))]

    n_dim = len(problem.dimensions)
    clients = []
    for k, s in enumerate(servable):
        stop = problem.stops[s]
        demand = list(problem.demand(stop))
        zero = [0] * n_dim
        window = stop.windows[0] if stop.windows else None
        clients.append(
            pyvrp.Client(
                len(depot_locs) + k,
                delivery=demand if stop.kind is StopKind.DELIVERY else zero,
                pickup=demand if stop.kind is StopKind.PICKUP else zero,
                service_duration=stop.service,
                tw_early=window.start if window else 0,
                tw_late=window.end if window else _INF,
                prize=round((stop.penalty or 0) * COST_SCALE * (1 + stop.priority)),
                required=stop.penalty is None,
            )
        )

    profiles = sorted({problem.vehicle_type(v.type).profile for v in problem.vehicles})
    profile_of = {p: k for k, p in enumerate(profiles)}
    sub = np.ix_(loc_index, loc_index)
    distances = [np.ascontiguousarray(problem.matrices[p].distances[sub]) for p in profiles]
    durations = [np.ascontiguousarray(problem.matrices[p].durations[sub]) for p in profiles]

    vehicle_types = []
    members: list[list[int]] = []
    for (type_name, start, end, shift_start, shift_end), vis in groups.items():
        vt = problem.vehicle_type(str(type_name))
        vehicle_types.append(
            pyvrp.VehicleType(
                len(vis),
                capacity=list(problem.capacity(vt)),
                start_depot=depot_of[start],  # type: ignore[index]
                end_depot=depot_of[end],  # type: ignore[index]
                fixed_cost=round(vt.fixed_cost * COST_SCALE),
                tw_early=int(shift_start),  # type: ignore[call-overload]
                tw_late=int(shift_end),  # type: ignore[call-overload]
                shift_duration=vt.max_shift if vt.max_shift is not None else _INF,
                max_distance=vt.range_m if vt.range_m is not None else _INF,
                unit_distance_cost=round(vt.cost_per_km * COST_SCALE / 1000.0),
                unit_duration_cost=round(vt.cost_per_hour * COST_SCALE / 3600.0),
                profile=profile_of[vt.profile],
            )
        )
        members.append(vis)

    data = pyvrp.ProblemData(locations, clients, depots, vehicle_types, distances, durations)
    deadline = time.time() + time_limit
    runs: list[_Run] = []
    # A portfolio: other seeds in fresh interpreters (``python -m routing._pyvrp``; unlike
    # multiprocessing this never re-imports the caller's main script), the first seed in this
    # process; the best feasible result wins.
    children = [_start_worker(data, deadline, iterations, seed + k) for k in range(1, workers)]
    runs.append(_run(data, deadline, iterations, seed))
    for child in children:
        assert child.stdout is not None
        with child.stdout:
            out = child.stdout.read()
        if child.wait() == 0:
            runs.append(pickle.loads(out))
    feasible = [r for r in runs if r.feasible]
    best = min(feasible, key=lambda r: r.cost) if feasible else runs[0]
    stats: dict[str, object] = {
        "seconds": round(time.perf_counter() - t0, 3),
        "iterations": sum(r.iterations for r in runs),
        "workers": len(runs),
        "feasible": best.feasible,
        "cost": best.cost if best.feasible else None,
        "costs": [r.cost if r.feasible else None for r in runs],
    }
    if not best.feasible:
        return SeedResult(None, stats)

    routes: dict[int, list[int]] = {}
    used = [0] * len(members)
    for t, clients_of_route in best.routes:
        vi = members[t][used[t]]
        used[t] += 1
        routes[vi] = [servable[c] for c in clients_of_route]
    return SeedResult(routes, stats)


@dataclass(frozen=True, slots=True)
class _Run:
    """One PyVRP run, as plain data that crosses process boundaries."""

    feasible: bool
    cost: int
    iterations: int
    routes: list[tuple[int, list[int]]]


def _run(data: pyvrp.ProblemData, deadline: float, iterations: int | None, seed: int) -> _Run:
    """Run PyVRP until the wall-clock ``deadline`` (or for ``iterations``)."""
    if iterations is not None:
        stop: MaxIterations | MaxRuntime = MaxIterations(iterations)
    else:
        stop = MaxRuntime(max(0.01, deadline - time.time()))
    with warnings.catch_warnings():
        # Our drop penalties for mandatory stops are deliberately huge; PyVRP warns that its
        # penalty bounds are then loose. Harmless for a seed that OR-Tools re-checks.
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        result = pyvrp.solve(data, stop=stop, seed=seed, collect_stats=False, display=False)
    routes = [
        (r.vehicle_type(), [a.idx for a in r.schedule() if a.is_client()])
        for r in result.best.routes()
    ]
    feasible = result.is_feasible()
    return _Run(feasible, int(result.cost()) if feasible else 0, result.num_iterations, routes)


def _start_worker(
    data: pyvrp.ProblemData, deadline: float, iterations: int | None, seed: int
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
    child.stdin.write(pickle.dumps((data, deadline, iterations, seed)))
    child.stdin.close()
    return child


if __name__ == "__main__":
    # Worker mode: read (data, deadline, iterations, seed), write the pickled _Run.
    # Import by name so the result pickles as routing._pyvrp._Run, not __main__._Run.
    from routing._pyvrp import _run as run_in_worker

    args = pickle.loads(sys.stdin.buffer.read())
    sys.stdout.buffer.write(pickle.dumps(run_in_worker(*args)))
