"""A city's day (thousands of stops) solved by zones: ``solve_by_zones(problem, limits)``.

:func:`routing.solve` builds one OR-Tools model (and a PyVRP seed) over every stop. Its size
and its search time grow faster than the stop count, so a day of 10,000 stops is out of its
reach. :func:`solve_by_zones` cuts the day into parts small enough for it and solves them
in parallel worker processes (or on a Dask cluster):

1. **Zones.** The servable stops (:func:`routing.diagnose.diagnose`; the others keep their
   typed reasons) are grouped into atoms that must stay together — a pickup-and-delivery
   pair, a vehicle's locked prefix — and swept by polar angle around the fleet's mean depot
   into sectors of about ``zone_stops`` stops.
2. **Fleet.** Each vehicle class (type, depots, shift, breaks) is shared among the zones by
   their estimated needs (work time and load, spread over the classes able to serve each
   stop, nearer depots first), with some slack; every zone gets a vehicle able to serve each
   of its stops; the rest is a reserve. A vehicle with locked stops goes with them.
3. **Parts.** Each zone becomes a :class:`~routing.model.Problem` of its own locations only
   (the parent matrices' rows and columns, fancy-indexed), shipped as plain data and solved
   by :func:`routing.solve` in a worker.
4. **Second round.** Stops a zone left out (its share of the fleet fell short) are planned
   again with every vehicle left idle anywhere.
5. **Improvement.** With the time left, groups of routes whose centroids are close in angle
   — first across the zone borders — are re-solved together with their vehicles (and a few
   idle ones), warm-started from the current routes; a group's new routes are kept when they
   serve more mandatory stops or cost less.

The result is one :class:`~routing.solution.Solution` over the parent problem. Every decision
outside the parts is deterministic, and the parts are solved in a fixed order, so with
repeatable solves (``Limits(solution_limit=..., seed_iterations=...)``) and enough time the
plan is the same on local processes and on Dask.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import time
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from routing import _zones
from routing._ortools import COST_SCALE
from routing.diagnose import Eligibility, diagnose
from routing.errors import RoutingWarning
from routing.model import Problem
from routing.solution import Route, Solution, SolveStatus, Unserved, UnservedReason
from routing.solve import Limits, solve

__all__ = ["ZONE_STOPS", "solve_by_zones"]

ZONE_STOPS = 500
"""Default stops per zone. Measured on 2,000-stop product days (``benchmarks.product``, two
seeds, 60 s, two workers): zones of 250 stops cost 0.8 % more than zones of 500, zones of 400
about the same (within the run-to-run noise of 1 %); 500 keeps fewer borders on a 10,000-stop
day (20 zones, each solved in about 25 s of a 300 s limit)."""

MIN_ZONE_STOPS = 10
"""Smaller zones would cut routes into pieces: ``zone_stops`` must be at least this."""

FIRST_ROUND_SHARE = 0.85
"""Share of the time (after the set-up) for the zones; the rest for the second round and the
improvement across borders. On the 2,000-stop days at 60 s, 0.6 cost 1.0 % more than 0.85,
0.75 0.4 % more, 0.95 the same: time in the zones pays more than time on the borders, but
the borders and the second round need some."""

FLEET_SLACK = 1.5
"""A zone gets this many times its estimated need of each vehicle class..."""

FLEET_SPARE = 1.0
"""...plus this many vehicles, when the fleet has them (see :func:`routing._zones.allocate`)."""

SECOND_ROUND_SLACK = 3.0
"""Fleet slack of the second round: few stops, so vehicles are cheap to offer."""

MIN_PART_SECONDS = 1.0
"""No part is given less time than this (model building and a first plan need it)."""

IMPROVE_PASSES = 8
"""Improvement passes at most; it also stops after two passes in a row change nothing."""

IMPROVE_SHARE_OF_ZONE = 0.5
"""An improvement group holds about this share of ``zone_stops`` stops (two routes at least)."""

IDLE_PER_CLASS = 1
"""Idle vehicles of each useful class added to an improvement group (two when it also holds
unserved stops), so that it may move a route to another vehicle type or open one."""

MAX_OVERRUN = 2.0
"""Parts that ran longer than their time (solve's own overheads, a busy machine) shorten
the next parts' time by that ratio, up to this factor."""

TAIL_SECONDS = 0.5
"""Kept back from the time limit for assembling the plan."""

_SEED_STRIDE = 10_007
"""Part ``j`` of round ``r`` solves with seed ``seed + r * _SEED_STRIDE + j``."""


# -- work shipped to a worker ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Task:
    """One sub-problem to solve, as it travels to a worker (everything in it pickles)."""

    part: _zones.Part
    limits: Limits
    seed: int
    initial_routes: dict[str, list[str]] | None = None


@dataclass(frozen=True, slots=True)
class _Outcome:
    """A worker's answer: the part's solution, its seconds, the worker's peak RSS (KiB)."""

    solution: Solution
    seconds: float
    peak_rss_kib: int
    warnings: tuple[str, ...] = ()


def _solve_task(task: _Task) -> _Outcome:
    """Solve one part (runs in a worker process, or here with one worker)."""
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RoutingWarning)
        solution = solve(
            task.part.problem(), task.limits, initial_routes=task.initial_routes, seed=task.seed
        )
        if any(r.reloads for r in solution.routes):
            # Reload places back at the parent's location indices (stops are found by id).
            index = task.part.parent_index
            solution = replace(
                solution,
                routes=tuple(
                    replace(
                        r,
                        reloads=tuple(replace(x, location=index[x.location]) for x in r.reloads),
                    )
                    for r in solution.routes
                ),
            )
    said = tuple(str(w.message) for w in caught if issubclass(w.category, RoutingWarning))
    return _Outcome(solution, time.perf_counter() - t0, _peak_rss_kib(), said)


def _warm_up() -> int:
    """Nothing but importing the solvers: run once per worker while the parent prepares."""
    return os.getpid()


def _peak_rss_kib() -> int:
    """Peak resident memory of this process, KiB; 0 where the platform does not say.

    Read from ``/proc/self/status`` (``VmHWM``) where there is one: ``ru_maxrss`` of a
    spawned worker would include the parent's size at the moment it was forked.
    """
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return 0
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


class _Runner:
    """Runs tasks on ``slots`` workers and returns the outcomes in the order of the tasks."""

    def __init__(self, kind: str, slots: int, executor: Executor | None) -> None:
        self.kind = kind
        self.slots = slots
        self.executor = executor

    def run(self, tasks: Sequence[_Task]) -> list[_Outcome]:
        """Solve every task; the largest are started first, the answers come back in order."""
        if self.executor is None:
            return [_solve_task(t) for t in tasks]
        order = sorted(range(len(tasks)), key=lambda i: (-len(tasks[i].part.stops), i))
        futures: dict[int, Future[_Outcome]] = {}
        for i in order:
            futures[i] = self.executor.submit(_solve_task, tasks[i])
        return [futures[i].result() for i in range(len(tasks))]


@contextlib.contextmanager
def _runner(scheduler: str | None, workers: int, warm: bool) -> Iterator[_Runner]:
    """Local spawned processes, a Dask cluster (given its scheduler's address), or this
    process when ``workers`` is 1. ``warm`` starts the local workers at once."""
    if scheduler is not None:
        with _dask_client(scheduler) as client:
            slots = max(1, sum(client.nthreads().values()))
            yield _Runner("dask", slots, client.get_executor(pure=False))
        return
    if workers <= 1:
        yield _Runner("in-process", 1, None)
        return
    # Spawned, not forked: OR-Tools and PyVRP hold threads a fork would copy half-way.
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        if warm:
            for _ in range(workers):
                pool.submit(_warm_up)
        yield _Runner("processes", workers, pool)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def _dask_client(address: str) -> Iterator[Any]:
    """A Dask ``distributed`` client on ``address``, closed on exit (Dask imported here only)."""
    from distributed import Client

    try:
        client = Client(address, set_as_default=False)  # type: ignore[no-untyped-call]  # distributed leaves Client() unannotated
    except (OSError, TimeoutError, ValueError) as exc:
        raise ConnectionError(
            f"cannot reach the Dask scheduler at {address!r} ({exc}) — start one (`dask "
            "scheduler`, then `dask worker ADDRESS` with lastmile installed) or check the "
            "address"
        ) from None
    try:
        yield client
    finally:
        client.close()  # type: ignore[no-untyped-call]  # distributed leaves close() unannotated


# -- the plan as it grows ---------------------------------------------------------------------


@dataclass
class _Plan:
    """The routes so far (parent indices), and why each servable stop not on them is not."""

    problem: Problem
    eligibility: Eligibility
    routes: dict[int, Route] = field(default_factory=dict)
    reasons: dict[int, Unserved] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.vehicle_index = {v.id: vi for vi, v in enumerate(self.problem.vehicles)}
        self.servable = self.eligibility.servable

    def served(self) -> set[int]:
        """Indices of the stops on a route."""
        return {self.problem.stop_index(sid) for r in self.routes.values() for sid in r.stop_ids}

    def unserved(self) -> list[int]:
        """Servable stops on no route, in problem order."""
        served = self.served()
        return [s for s in self.servable if s not in served]

    def idle(self) -> list[int]:
        """Vehicles without a route, in problem order."""
        return [vi for vi in range(len(self.problem.vehicles)) if vi not in self.routes]

    def score(self, vehicles: Sequence[int], stops: Sequence[int]) -> tuple[int, float]:
        """(mandatory stops left out, cost with drop penalties) of these vehicles and stops."""
        routes = [self.routes[vi] for vi in vehicles if vi in self.routes]
        on = {sid for r in routes for sid in r.stop_ids}
        return _score(
            self.problem, routes, [s for s in stops if self.problem.stops[s].id not in on]
        )

    def apply(self, outcome: _Outcome, vehicles: Sequence[int], stops: Sequence[int]) -> None:
        """Replace the routes of ``vehicles`` by the part's, note why its other stops are out."""
        for vi in vehicles:
            self.routes.pop(vi, None)
        for route in outcome.solution.routes:
            self.routes[self.vehicle_index[route.vehicle_id]] = _in_parent(self.problem, route)
        for s in stops:
            self.reasons.pop(s, None)
        for u in outcome.solution.unserved:
            self.reasons[self.problem.stop_index(u.stop_id)] = u

    def outcome_score(self, outcome: _Outcome, stops: Sequence[int]) -> tuple[int, float]:
        """The score the part's answer would give ``stops``."""
        out = _ids(outcome.solution.unserved)
        return _score(
            self.problem,
            list(outcome.solution.routes),
            [s for s in stops if self.problem.stops[s].id in out],
        )


def _ids(unserved: Sequence[Unserved]) -> set[str]:
    return {u.stop_id for u in unserved}


def _score(problem: Problem, routes: Sequence[Route], out: Sequence[int]) -> tuple[int, float]:
    mandatory = sum(1 for s in out if problem.stops[s].penalty is None)
    penalties = sum(
        (problem.stops[s].penalty or 0.0) * (1 + problem.stops[s].priority) for s in out
    )
    return mandatory, round(sum(r.cost for r in routes) + penalties, 4)


def _in_parent(problem: Problem, route: Route) -> Route:
    """The part's route with visits at the parent's location indices."""
    visits = tuple(replace(v, location=problem.stop(v.stop_id).location) for v in route.visits)
    return replace(route, visits=visits)


# -- the entry point --------------------------------------------------------------------------


def solve_by_zones(
    problem: Problem,
    limits: Limits | None = None,
    *,
    seed: int = 0,
    scheduler: str | None = None,
    zone_stops: int = ZONE_STOPS,
    workers: int | None = None,
    eligibility: Eligibility | None = None,
) -> Solution:
    """Plan a large day by zones solved in parallel, then across their borders.

    Parameters
    ----------
    problem
        The whole day. Its matrices are only read, row and column blocks at a time.
    limits
        Time and search settings of the whole call (default ``Limits()``): ``time_limit``
        bounds the call (seconds, plus a fraction of a second); ``solution_limit``,
        ``seed_with``, ``seed_share`` and ``seed_iterations`` apply to every part, each part
        seeding in one process (``limits.workers`` is not used: the parts are the
        parallelism; ``limits.scheduler`` stands in for ``scheduler`` when that is not given).
    seed
        Random seed; each part solves with its own seed derived from it and from the part's
        place in the call (round, zone or group), so a call is repeatable.
    scheduler
        Address of a Dask ``distributed`` scheduler (``"tcp://10.0.0.5:8786"``): solve the
        parts on its workers (lastmile installed, one thread per worker process). ``None``
        (and no ``limits.scheduler``) solves them in local processes.
    zone_stops
        About how many stops a zone holds. A problem with no more servable stops than this
        is passed to :func:`routing.solve` whole.
    workers
        Local worker processes (default: the CPUs this process may use); 1 solves the parts
        one after the other in this process. Ignored with ``scheduler``.

    eligibility
        The problem's :func:`~routing.diagnose.diagnose`, when the caller has it already
        (:func:`routing.solve` does; 2.7 s at 10,000 stops).

    Returns
    -------
    Solution
        Routes of the parent's vehicles with visits at the parent's location indices; every
        stop not served with its reason (the diagnosed ones as :func:`diagnose` gives them;
        a servable mandatory stop an idle vehicle could have served as
        ``search_time_exhausted``, and then the status is ``time_exhausted``). ``objective``
        is the plan's cost plus drop penalties of optional stops left out, in units of
        ``1 / COST_SCALE`` of the currency. ``stats`` holds the zones, the rounds with each
        part's seconds, the improvement and the peak memory (MiB) of this process and of the
        workers.

    Raises
    ------
    ValueError
        ``zone_stops`` below :data:`MIN_ZONE_STOPS` or ``workers`` below 1.
    ConnectionError
        The Dask scheduler cannot be reached.
    """
    limits = limits or Limits()
    scheduler = scheduler if scheduler is not None else limits.scheduler
    if zone_stops < MIN_ZONE_STOPS:
        raise ValueError(
            f"zone_stops {zone_stops} is below {MIN_ZONE_STOPS}: zones that small cut routes "
            f"into pieces — use {MIN_ZONE_STOPS} or more (default {ZONE_STOPS})"
        )
    if workers is None:
        workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    if workers < 1:
        raise ValueError(f"workers {workers} must be 1 or more (1 solves the parts here)")
    t0 = time.perf_counter()
    deadline = t0 + limits.time_limit - TAIL_SECONDS
    big = len(problem.stops) > zone_stops
    with _runner(scheduler, workers, warm=big) if big else contextlib.nullcontext() as runner:
        if eligibility is None:
            eligibility = diagnose(problem)
        servable = eligibility.servable
        if not servable:
            return Solution(
                (),
                eligibility.unserved,
                SolveStatus.NO_STOPS,
                0,
                time.perf_counter() - t0,
                {"diagnosed_unserved": len(eligibility.unserved), "zones": 0},
            )
        if runner is None or len(servable) <= zone_stops:
            whole = solve(problem, limits, seed=seed)
            return replace(
                whole, wall_time=time.perf_counter() - t0, stats={**whole.stats, "zones": 1}
            )
        return _Decomposition(problem, eligibility, limits, seed, zone_stops, runner).run(
            t0, deadline
        )


def _zone_count(stops: int, zone_stops: int, slots: int) -> int:
    """Zones of at most ``zone_stops`` stops, as many as fill whole batches of ``slots``
    workers (3 zones on 2 workers would leave one idle for a third of the time)."""
    k = max(1, math.ceil(stops / zone_stops))
    return k if k <= slots else math.ceil(k / slots) * slots


class _Decomposition:
    """One call of :func:`solve_by_zones` on a problem that needs several zones."""

    def __init__(
        self,
        problem: Problem,
        eligibility: Eligibility,
        limits: Limits,
        seed: int,
        zone_stops: int,
        runner: _Runner,
    ) -> None:
        self.problem = problem
        self.eligibility = eligibility
        self.limits = limits
        self.seed = seed
        self.zone_stops = zone_stops
        self.runner = runner
        self.plan = _Plan(problem, eligibility)
        self.xy = _zones.planar(problem)
        self.centre = _zones.fleet_centre(problem, self.xy)
        self.rate = 0.0  # seconds of part time per stop, set by the first round
        self.overrun = 1.0  # the parts' longest time over their budget, so far
        self.worker_peak_kib = 0  # the highest peak memory of a worker, so far
        self.stats: dict[str, object] = {
            "diagnosed_unserved": len(eligibility.unserved),
            "executor": runner.kind,
            "workers": runner.slots,
            "zone_stops": zone_stops,
        }

    # -- the rounds ---------------------------------------------------------------------------

    def run(self, t0: float, deadline: float) -> Solution:
        """Zones, second round, improvement; then the plan as one solution."""
        self.stats["setup_seconds"] = round(time.perf_counter() - t0, 3)
        rounds: list[dict[str, object]] = []
        borders = self._first_round(deadline, rounds)
        left = self.plan.unserved()
        if left and time.perf_counter() < deadline - MIN_PART_SECONDS:
            self._second_round(left, deadline, rounds)
        self.stats["rounds"] = rounds
        self._improve(borders, deadline)
        return self._solution(t0)

    def _first_round(self, deadline: float, rounds: list[dict[str, object]]) -> tuple[float, ...]:
        """Cut every servable stop into zones, share the whole fleet, solve the zones."""
        servable = list(self.eligibility.servable)
        atoms = _zones.atoms(self.problem, servable, self.xy)
        k = _zone_count(len(servable), self.zone_stops, self.runner.slots)
        cut, zones, fleet = self._sweep_zones(
            atoms, k, range(len(self.problem.vehicles)), FLEET_SLACK
        )
        self.stats["zones"] = len(zones)
        self.stats["zone_sizes"] = [len(z) for z in zones]
        self.stats["zone_vehicles"] = [len(v) for v in fleet.zones]
        self.stats["zone_need"] = [round(x, 1) for x in fleet.need]
        self.stats["reserve"] = len(fleet.reserve)
        budget = FIRST_ROUND_SHARE * (deadline - time.perf_counter())
        rounds.append(self._round(1, zones, fleet.zones, budget))
        waves = math.ceil(len(zones) / self.runner.slots)
        self.rate = budget / waves / (len(servable) / len(zones))
        return cut.borders

    def _second_round(
        self, left: list[int], deadline: float, rounds: list[dict[str, object]]
    ) -> None:
        """Plan the stops the zones left out with every vehicle left idle."""
        idle = set(self.plan.idle())
        atoms = [
            a
            for a in _zones.atoms(self.problem, left, self.xy)
            if a.vehicle is None or a.vehicle in idle
        ]
        if not atoms:
            return
        n = sum(len(a.stops) for a in atoms)
        k = _zone_count(n, self.zone_stops, self.runner.slots)
        _, zones, fleet = self._sweep_zones(atoms, k, sorted(idle), SECOND_ROUND_SLACK)
        wanted = [max(MIN_PART_SECONDS, self.rate * len(z)) for z in zones]
        budget = 0.5 * (deadline - time.perf_counter())
        rounds.append(self._round(2, zones, fleet.zones, budget, wanted))

    def _sweep_zones(
        self, atoms: Sequence[_zones.Atom], k: int, pool: Sequence[int], slack: float
    ) -> tuple[_zones.Sweep, list[list[int]], _zones.Allocation]:
        """The atoms swept into ``k`` zones (stop lists), and the pool's vehicles shared."""
        points = np.array([a.xy for a in atoms], dtype=np.float64).reshape(-1, 2)
        cut = _zones.sweep(points, [len(a.stops) for a in atoms], self.centre, k)
        zones = [[s for a in z for s in atoms[a].stops] for z in cut.zones]
        pinned = {
            vi: z
            for z, members in enumerate(cut.zones)
            for a in members
            if (vi := atoms[a].vehicle) is not None
        }
        fleet = _zones.allocate(
            self.problem, self.eligibility, zones, pool, pinned, slack=slack, spare=FLEET_SPARE
        )
        return cut, zones, fleet

    def _round(
        self,
        number: int,
        zones: Sequence[Sequence[int]],
        fleets: Sequence[Sequence[int]],
        seconds: float,
        wanted: Sequence[float] | None = None,
    ) -> dict[str, object]:
        """Solve each zone with its fleet within about ``seconds``; keep every answer.

        The zones go in waves of one per worker, largest first. Each wave gets what is left
        of ``seconds`` over the waves left (a wave that overran shortens the next, so the
        round keeps its time whatever the parts or the machine do), or a part's ``wanted``
        seconds when fewer.
        """
        started = time.perf_counter()
        end = started + seconds
        jobs = [z for z, vehicles in enumerate(fleets) if vehicles]
        jobs.sort(key=lambda z: (-len(zones[z]), z))
        slots = self.runner.slots
        waves = [jobs[i : i + slots] for i in range(0, len(jobs), slots)]
        given: dict[int, float] = {}
        outcomes: dict[int, _Outcome] = {}
        for w, wave in enumerate(waves):
            share = max(0.05, (end - time.perf_counter()) / (len(waves) - w) / self.overrun)
            floor = min(MIN_PART_SECONDS, seconds / len(waves))
            tasks = []
            for z in wave:
                given[z] = max(floor, min(share, wanted[z] if wanted else share))
                part = _zones.part(self.problem, zones[z], fleets[z])
                seed = self.seed + number * _SEED_STRIDE + z
                tasks.append(_Task(part, self._limits(given[z]), seed))
            for z, outcome in zip(wave, self.runner.run(tasks), strict=True):
                outcomes[z] = outcome
                self._note_overrun(outcome, given[z])
        for z in sorted(outcomes):
            self.plan.apply(outcomes[z], fleets[z], zones[z])
        done = [outcomes[z] for z in sorted(outcomes)]
        self._note_memory(done)
        return {
            "round": number,
            "parts": len(done),
            "seconds": round(time.perf_counter() - started, 3),
            "part_budget_seconds": [round(given[z], 2) for z in sorted(outcomes)],
            "part_seconds": [round(o.seconds, 2) for o in done],
            "left_out": len(self.plan.unserved()),
            "warnings": [w for o in done for w in o.warnings],
        }

    def _limits(self, seconds: float) -> Limits:
        """The call's limits for one part of ``seconds``, solved whole in its own process."""
        return replace(self.limits, time_limit=max(0.05, seconds), workers=1, scheduler=None)

    # -- improvement across borders -----------------------------------------------------------

    def _improve(self, borders: Sequence[float], deadline: float) -> None:
        """Re-solve groups of neighbouring routes, warm-started, while time is left."""
        plan = self.plan
        before = _score(self.problem, list(plan.routes.values()), plan.unserved())
        started = time.perf_counter()
        tried = accepted = passes = quiet = 0
        widths = [
            (borders[(j + 1) % len(borders)] - b) % (2 * math.pi) or 2 * math.pi
            for j, b in enumerate(borders)
        ]
        fractions = (0.0, 0.5, 0.25, 0.75)
        group_stops = max(2, round(IMPROVE_SHARE_OF_ZONE * self.zone_stops))
        while passes < IMPROVE_PASSES and quiet < 2:
            left = deadline - time.perf_counter()
            if left < MIN_PART_SECONDS:
                break
            frac = fractions[passes % len(fractions)]
            seeds = [b + frac * w for b, w in zip(borders, widths, strict=True)]
            groups = self._groups(seeds, group_stops)
            if not groups:
                break
            times = self._schedule(
                [max(MIN_PART_SECONDS, self.rate * len(stops)) for _, stops in groups], left
            )
            groups = groups[: len(times)]
            if not groups:
                break
            tasks = [
                _Task(
                    _zones.part(self.problem, stops, vehicles),
                    self._limits(t),
                    self.seed + (3 + passes) * _SEED_STRIDE + g,
                    {
                        self.problem.vehicles[vi].id: list(plan.routes[vi].stop_ids)
                        for vi in vehicles
                        if vi in plan.routes
                    },
                )
                for g, ((vehicles, stops), t) in enumerate(zip(groups, times, strict=True))
            ]
            outcomes = self.runner.run(tasks)
            for outcome, t in zip(outcomes, times, strict=True):
                self._note_overrun(outcome, t)
            changed = 0
            for (vehicles, stops), outcome in zip(groups, outcomes, strict=True):
                if plan.outcome_score(outcome, stops) < plan.score(vehicles, stops):
                    plan.apply(outcome, vehicles, stops)
                    changed += 1
            self._note_memory(outcomes)
            tried += len(groups)
            accepted += changed
            passes += 1
            quiet = 0 if changed else quiet + 1
        after = _score(self.problem, list(plan.routes.values()), plan.unserved())
        self.stats["improvement"] = {
            "passes": passes,
            "groups": tried,
            "accepted": accepted,
            "seconds": round(time.perf_counter() - started, 3),
            "left_out_before": before[0],
            "left_out_after": after[0],
            "cost_before": before[1],
            "cost_after": after[1],
        }

    def _schedule(self, times: Sequence[float], left: float) -> list[float]:
        """Part times that fit in ``left`` seconds on the workers: all of them, shortened
        alike (not below :data:`MIN_PART_SECONDS`) when needed, and then the first ones
        that still fit. Parts have overrun their time by up to :attr:`overrun` so far."""
        left /= self.overrun
        scale = min(1.0, left / self._makespan(times)) if times else 1.0
        times = [max(MIN_PART_SECONDS, t * scale) for t in times]
        while times and self._makespan(times) > left:
            times.pop()
        return times

    def _makespan(self, times: Sequence[float]) -> float:
        """Seconds the parts take when each goes to the worker free first."""
        slots = [0.0] * self.runner.slots
        for t in times:
            slots[slots.index(min(slots))] += t
        return max(slots)

    def _groups(
        self, seeds: Sequence[float], group_stops: int
    ) -> list[tuple[list[int], list[int]]]:
        """Disjoint groups of routes nearest in angle to each seed (radians), each with the
        unserved stops nearest to it and a few idle vehicles: (vehicles, stops) lists."""
        plan, problem = self.plan, self.problem
        vehicles = sorted(plan.routes)
        if not vehicles:
            return []
        centroids = np.array(
            [self.xy[[v.location for v in plan.routes[vi].visits]].mean(axis=0) for vi in vehicles]
        )
        theta = _zones.angles(centroids, self.centre)
        free = np.ones(len(vehicles), dtype=bool)
        chosen: list[list[int]] = []
        means: list[float] = []
        for seed in seeds:
            gap = np.abs(np.angle(np.exp(1j * (theta - seed))))
            group: list[int] = []
            size = 0
            for k in np.lexsort((np.arange(len(vehicles)), gap)).tolist():
                if not free[k]:
                    continue
                if len(group) >= 2 and size >= group_stops:
                    break
                group.append(k)
                size += len(plan.routes[vehicles[k]].visits)
            if len(group) < 2:
                continue
            free[group] = False
            chosen.append([vehicles[k] for k in group])
            means.append(float(np.angle(np.exp(1j * theta[group]).mean())))
        if not chosen:
            return []

        # Each unserved atom joins the group nearest in angle that stays within a zone's size
        # (so that no group is ever large enough for solve() to decompose it again).
        extra: list[list[int]] = [[] for _ in chosen]
        sizes = [sum(len(plan.routes[vi].visits) for vi in vs) for vs in chosen]
        left_out = _zones.atoms(problem, plan.unserved(), self.xy)
        idle = set(plan.idle())
        left_out = [a for a in left_out if a.vehicle is None or a.vehicle in idle]
        if left_out:
            where = _zones.angles(np.array([a.xy for a in left_out]), self.centre)
            for a, angle in zip(left_out, where.tolist(), strict=True):
                gap = np.abs(np.angle(np.exp(1j * (np.array(means) - angle))))
                g = next(
                    (int(g) for g in np.argsort(gap, kind="stable")
                     if sizes[g] + len(a.stops) <= self.zone_stops),
                    None,
                )  # fmt: skip
                if g is None:
                    continue  # every group is full: it waits for the next pass
                extra[g].extend(a.stops)
                sizes[g] += len(a.stops)
                if a.vehicle is not None:
                    chosen[g].append(a.vehicle)
                    idle.discard(a.vehicle)

        classes = _zones.vehicle_classes(
            problem, [vi for vi in idle if not problem.vehicles[vi].locked]
        )
        spare = [list(c.members) for c in classes]
        groups = []
        for vs, more in zip(chosen, extra, strict=True):
            stops = sorted({problem.stop_index(sid) for vi in vs if vi in plan.routes
                            for sid in plan.routes[vi].stop_ids} | set(more))  # fmt: skip
            useful = self._useful_classes(classes, stops)
            per_class = IDLE_PER_CLASS * (2 if more else 1)
            added = []
            for c in useful:
                take = spare[c][:per_class]
                del spare[c][:per_class]
                added.extend(take)
            groups.append((sorted(vs + added), stops))
        return groups

    def _useful_classes(
        self, classes: Sequence[_zones.VehicleClass], stops: Sequence[int]
    ) -> list[int]:
        """Classes whose vehicles could serve one of the stops, in class order."""
        return [
            c
            for c, cls in enumerate(classes)
            if any(_zones.can_serve(self.eligibility, s, cls.members[0]) for s in stops)
        ]

    # -- the answer ---------------------------------------------------------------------------

    def _note_overrun(self, outcome: _Outcome, budget: float) -> None:
        """Remember how far past its time a part ran (at most :data:`MAX_OVERRUN` times;
        a budget under :data:`MIN_PART_SECONDS` counts as that, its overheads being fixed)."""
        ratio = outcome.seconds / max(budget, MIN_PART_SECONDS)
        self.overrun = min(MAX_OVERRUN, max(self.overrun, ratio))

    def _note_memory(self, outcomes: Sequence[_Outcome]) -> None:
        peak = max((o.peak_rss_kib for o in outcomes), default=0)
        self.worker_peak_kib = max(self.worker_peak_kib, peak)

    def _solution(self, t0: float) -> Solution:
        problem, plan = self.problem, self.plan
        routes = tuple(plan.routes[vi] for vi in sorted(plan.routes))
        idle = set(plan.idle())
        unserved = list(self.eligibility.unserved)
        short = False
        for s in plan.unserved():
            stop = problem.stops[s]
            given = plan.reasons.get(s)
            if stop.penalty is not None:
                if given is None or given.reason is not UnservedReason.DROPPED_BY_OPTIMISER:
                    given = Unserved(
                        stop.id,
                        UnservedReason.DROPPED_BY_OPTIMISER,
                        f"serving it would cost more than its drop penalty {stop.penalty:g} "
                        f"(priority {stop.priority})",
                    )
                unserved.append(given)
                continue
            could = idle.intersection(self.eligibility.allowed[s])
            if could or given is None or given.reason is UnservedReason.SEARCH_TIME_EXHAUSTED:
                short = True
                unserved.append(
                    Unserved(
                        stop.id,
                        UnservedReason.SEARCH_TIME_EXHAUSTED,
                        "the search by zones ran out of time before placing it"
                        + (" (an idle vehicle could serve it)" if could else "")
                        + "; allow the plan more time",
                    )
                )
            elif given.reason is UnservedReason.DROPPED_BY_OPTIMISER:
                unserved.append(given)
            else:
                unserved.append(
                    Unserved(
                        stop.id,
                        UnservedReason.DROPPED_BY_OPTIMISER,
                        "it fits a vehicle on its own but not together with the other stops "
                        "(capacity, time windows or shift length); add a vehicle, widen its "
                        "window or allow the plan more time",
                    )
                )
        unserved.sort(key=lambda u: problem.stop_index(u.stop_id))
        optional = sum(
            (problem.stop(u.stop_id).penalty or 0.0) * (1 + problem.stop(u.stop_id).priority)
            for u in unserved
            if u.reason is UnservedReason.DROPPED_BY_OPTIMISER
        )
        cost = sum(r.cost for r in routes)
        stats = dict(self.stats)
        worker_kib = self.worker_peak_kib
        stats["peak_rss_mb"] = {
            "parent": round(_peak_rss_kib() / 1024, 1),
            "workers": round(worker_kib / 1024, 1),
        }
        return Solution(
            routes=routes,
            unserved=tuple(unserved),
            status=SolveStatus.TIME_EXHAUSTED if short else SolveStatus.FEASIBLE,
            objective=round((cost + optional) * COST_SCALE),
            wall_time=time.perf_counter() - t0,
            stats=stats,
        )
