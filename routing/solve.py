"""``solve(problem, limits) -> Solution``: the one entry point of the routing engine.

The steps: diagnose stops no vehicle could serve (typed reasons, before any search); when
asked and when the problem fits it, seed the search with a PyVRP solution; search with
OR-Tools, which keeps every side constraint (skills, several windows, breaks, locked
prefixes, pickup-and-delivery, range); read the ETAs from its time dimension; and report
every stop it dropped.
"""

from __future__ import annotations

import itertools
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from routing import _pyvrp, _repair
from routing._ortools import OrToolsModel, RawPlan, RawRoute
from routing.diagnose import Eligibility, diagnose
from routing.errors import InvalidProblemError, RoutingWarning
from routing.model import Problem, StopKind
from routing.solution import (
    Reload,
    Route,
    ScheduledBreak,
    Solution,
    SolveStatus,
    Unserved,
    UnservedReason,
    Visit,
)

__all__ = ["Limits", "solve"]

SeedMode = Literal["none", "pyvrp", "auto"]


@dataclass(frozen=True, slots=True)
class Limits:
    """How long and how to search.

    Parameters
    ----------
    time_limit
        Wall-clock seconds for the whole solve (seeding included), > 0. Steps that cannot be
        cut short — the PyVRP seed's translation and last iteration, building and closing the
        OR-Tools model (about 1.5 s at 900 stops) — may run past it by a second or two on a
        loaded machine; reading the seed back and the search stop at it. Measured on the
        shared-fleet days with breaks (2 cores, load 6-8): 900 stops at 40 s took 40.1-41.8 s,
        600 stops at 6 s 6.3 s (it was 115-173 s and 51 s, with nothing served at worst).
    solution_limit
        Stop OR-Tools after this many improving solutions. With ``seed_iterations`` (or no
        seed) this makes a solve repeatable on the same machine, independent of timing.
    seed_with
        ``"pyvrp"``: build a first solution with PyVRP and hand it to OR-Tools as initial
        routes; ``"none"``: OR-Tools alone; ``"auto"``: PyVRP when the problem fits what
        PyVRP can express (everything but locked prefixes; see :func:`routing._pyvrp.why_not`)
        and has more than a handful of stops.
    seed_share
        Fraction of ``time_limit`` given to the seed; the rest, but at least
        :data:`SEARCH_MIN_SECONDS` when the limit allows, goes to OR-Tools. On product days
        OR-Tools' local search left a PyVRP seed of 400 or 1,000 stops unchanged (or nearly:
        -0.4 % at 400 stops) in the 6-12 s that 80 % left it, so the seed gets 95 %: at 400
        stops and 30 s that gave 2,560 EUR against 2,575 at 80 %, at 1,000 stops and 60 s
        5,617 against 5,671. (95 % once failed at 1,000 stops, when reading a seed back into
        OR-Tools still took its whole time limit; reads now stop at their first solution.)
    seed_iterations
        Stop the seed after this many PyVRP iterations instead of by time (repeatable).
    workers
        Processes for the seed search (a portfolio of seeds; the best is kept), or for the
        zones of a day above :data:`DECOMPOSE_ABOVE` stops. 2 uses both cores of a small
        machine; 1 keeps the solve in this process.
    scheduler
        Address of a Dask ``distributed`` scheduler (``"tcp://10.0.0.5:8786"``) on whose
        workers the zones of a large day are solved; ``None``: local processes.
    """

    time_limit: float = 10.0
    solution_limit: int | None = None
    seed_with: SeedMode = "auto"
    seed_share: float = 0.95
    seed_iterations: int | None = None
    workers: int = 1
    scheduler: str | None = None

    def __post_init__(self) -> None:
        if not self.time_limit > 0:
            raise InvalidProblemError(f"time_limit {self.time_limit} s must be positive")
        if self.solution_limit is not None and self.solution_limit < 1:
            raise InvalidProblemError(f"solution_limit {self.solution_limit} must be >= 1")
        if self.seed_with not in ("none", "pyvrp", "auto"):
            raise InvalidProblemError(
                f"seed_with {self.seed_with!r} must be 'none', 'pyvrp' or 'auto'"
            )
        if self.workers < 1:
            raise InvalidProblemError(f"workers {self.workers} must be >= 1")
        if not 0.0 < self.seed_share < 1.0:
            raise InvalidProblemError(f"seed_share {self.seed_share} must be in (0, 1)")


DECOMPOSE_ABOVE = 1200
"""Above this many servable stops a day is solved by zones (:mod:`routing.decompose`). One
model over 2,000 product stops did not even finish its first plan in 60 s (220 s, nothing
served); by zones of 500 it served all 2,000 in 59 s; 1,000 stops still solve whole (60 s:
every stop served, within 0.4 % of PyVRP alone)."""

SEARCH_MIN_SECONDS = 1.0
"""What OR-Tools gets at least after a seed, when the time limit is 2 s or more: to read the
seed back, check every side constraint and try its own moves."""

BREAKS_SEED_SHARE = 0.8
"""The seed's share at most when drivers take breaks: OR-Tools then places the breaks in a seed
planned without them, and reading such a plan back can take seconds. On the 200-stop product
day with breaks at 30 s, 80 % served all 200 stops in time; 95 % left 1.5 s, the read timed
out, and the route-by-route repair served 199 and overran by 3.9 s."""

AUTO_SEED_MIN_STOPS = 30
"""Below this many stops OR-Tools alone is as good, and a seed is not worth its start-up."""


def solve(
    problem: Problem,
    limits: Limits | None = None,
    *,
    initial_routes: Mapping[str, Sequence[str]] | None = None,
    seed: int = 0,
) -> Solution:
    """Plan routes for the problem.

    Parameters
    ----------
    problem
        The problem (validated on construction).
    limits
        Time and search settings; defaults to ``Limits()`` (10 s).
    initial_routes
        Vehicle id -> stop ids: a previous plan to start from (re-planning). Unknown or
        unservable stops in it are skipped; a vehicle's locked prefix is put first.
    seed
        Random seed of the PyVRP seed search.

    Returns
    -------
    Solution
        Routes with ETAs (seconds), loads, distances (metres), durations (seconds), cost and
        CO2 (grams) per route, and every unserved stop with its reason.
    """
    limits = limits or Limits()
    t0 = time.perf_counter()
    eligibility = diagnose(problem)
    unserved = list(eligibility.unserved)
    servable = eligibility.servable
    stats: dict[str, object] = {"diagnosed_unserved": len(unserved)}
    if not servable:
        return Solution(
            (), tuple(unserved), SolveStatus.NO_STOPS, 0, time.perf_counter() - t0, stats
        )
    if len(servable) > DECOMPOSE_ABOVE and initial_routes is None:
        from routing import decompose  # late: it solves its zones with solve()

        remaining = max(0.05, limits.time_limit - (time.perf_counter() - t0))
        return decompose.solve_by_zones(
            problem,
            replace(limits, time_limit=remaining),
            seed=seed,
            scheduler=limits.scheduler,
            workers=limits.workers,
            eligibility=eligibility,
            # Zones (and the groups re-solved across their borders) stay below the threshold,
            # so their solves never decompose again.
            zone_stops=max(
                decompose.MIN_ZONE_STOPS, min(decompose.ZONE_STOPS, DECOMPOSE_ABOVE // 2)
            ),
        )

    start_routes = _initial_routes(problem, initial_routes) if initial_routes else None
    remaining = limits.time_limit - (time.perf_counter() - t0)
    use_seed = _wants_seed(problem, limits, len(servable)) and start_routes is None
    seed_started = time.perf_counter()
    if use_seed:
        share = limits.seed_share
        if any(v.breaks for v in problem.vehicles):
            share = min(share, BREAKS_SEED_SHARE)
        seed_budget = min(remaining * share, max(remaining / 2, remaining - SEARCH_MIN_SECONDS))
        seeded = _pyvrp.seed_routes(
            problem,
            servable,
            time_limit=seed_budget,
            iterations=limits.seed_iterations,
            seed=seed,
            workers=limits.workers,
        )
        stats["seed"] = seeded.stats
        if seeded.routes is not None:
            start_routes = seeded.routes
            if seeded.stats.get("relaxed"):
                t_repair = time.perf_counter()
                fixed = _repair.repair(problem, seeded.routes, eligibility.allowed)
                start_routes = fixed.routes
                stats["seed_repair"] = {
                    "cut": fixed.cut,
                    "reinserted": fixed.reinserted,
                    "seconds": round(time.perf_counter() - t_repair, 3),
                }
    stats["seed_with"] = "pyvrp" if use_seed else "none"

    model = OrToolsModel(problem, eligibility)
    search_started = time.perf_counter()
    remaining = max(0.05, limits.time_limit - (time.perf_counter() - t0))
    raw = model.search(
        time_limit=remaining,
        solution_limit=limits.solution_limit,
        initial_routes=start_routes,
        repair=bool(use_seed and stats.get("seed_repair")),
    )
    warm_start = raw.stats.get("warm_start", "")  # a sentence when it had routes to start from
    replayed = bool(raw.stats.get("replayed"))  # the routes stood after all: nothing to warn of
    if (
        initial_routes
        and not replayed
        and isinstance(warm_start, str)
        and warm_start.startswith("rejected")
    ):
        warnings.warn(
            "the initial routes could not be used as a warm start (they break a constraint); "
            "solved from scratch",
            RoutingWarning,
            stacklevel=2,
        )
    stats.update(raw.stats)
    first = _first_plan_seconds(stats, seed_started, search_started, t0)
    if first is not None:
        stats["first_plan_seconds"] = first
    routes = tuple(_route(problem, r) for r in raw.routes)
    dropped = _dropped(problem, raw, eligibility, routes)
    unserved.extend(dropped)
    short = any(u.reason is UnservedReason.SEARCH_TIME_EXHAUSTED for u in dropped)
    return Solution(
        routes=routes,
        unserved=tuple(sorted(unserved, key=lambda u: problem.stop_index(u.stop_id))),
        status=SolveStatus.TIME_EXHAUSTED if short else SolveStatus.FEASIBLE,
        objective=raw.objective,
        wall_time=time.perf_counter() - t0,
        stats=stats,
    )


def _wants_seed(problem: Problem, limits: Limits, n_servable: int) -> bool:
    if limits.seed_with == "none":
        return False
    fits = _pyvrp.can_express(problem)
    if limits.seed_with == "pyvrp":
        if not fits:
            warnings.warn(
                f"seed_with='pyvrp' ignored: {_pyvrp.why_not(problem)}",
                RoutingWarning,
                stacklevel=3,
            )
        return fits
    return fits and n_servable >= AUTO_SEED_MIN_STOPS


def _initial_routes(problem: Problem, given: Mapping[str, Sequence[str]]) -> dict[int, list[int]]:
    by_id = {v.id: i for i, v in enumerate(problem.vehicles)}
    out: dict[int, list[int]] = {}
    for vid, stop_ids in given.items():
        if vid not in by_id:
            raise InvalidProblemError(f"initial route for unknown vehicle {vid!r}")
        vi = by_id[vid]
        locked = list(problem.vehicles[vi].locked)
        rest = [s for s in stop_ids if s not in locked]
        unknown = [s for s in rest if s not in problem._stop_index]
        if unknown:
            raise InvalidProblemError(
                f"initial route of vehicle {vid!r} names unknown stop(s) {unknown}"
            )
        out[vi] = [problem.stop_index(s) for s in locked + rest]
    for vi, v in enumerate(problem.vehicles):
        if v.locked and vi not in out:
            out[vi] = [problem.stop_index(s) for s in v.locked]
    return out


def _first_plan_seconds(
    stats: Mapping[str, object], seed_started: float, search_started: float, t0: float
) -> float | None:
    """Seconds from the call to the first plan that served every stop it could.

    With a seed, when PyVRP first held a complete feasible plan; without one, when OR-Tools
    found its first solution.
    """
    seed = stats.get("seed")
    if isinstance(seed, Mapping) and seed.get("first_feasible_seconds") is not None:
        return round(seed_started - t0 + float(seed["first_feasible_seconds"]), 3)
    first = stats.get("first_solution_seconds")
    if not isinstance(first, int | float):  # None: no first solution was timed
        return None
    return round(search_started - t0 + float(first), 3)


def _dropped(
    problem: Problem, raw: RawPlan, eligibility: Eligibility, routes: Sequence[Route]
) -> list[Unserved]:
    """Typed reasons for the stops the search left out.

    A mandatory stop that some vehicle left idle could serve on its own was dropped only
    because the search ran out of time (its penalty outweighs any route): more time, not
    another vehicle, is the fix. So is every stop when the time ran out before a first plan.
    """
    used = {r.vehicle_id for r in routes}
    idle = {vi for vi, v in enumerate(problem.vehicles) if v.id not in used}
    out = []
    timed_out = bool(raw.stats.get("timed_out"))
    # A plan replayed from the seed (OR-Tools could not read it back in time) left a required
    # stop out because there was no time to place it.
    replayed = bool(raw.stats.get("replayed"))
    for s in raw.dropped:
        stop = problem.stops[s]
        if (
            timed_out
            or (replayed and stop.penalty is None)
            or (stop.penalty is None and idle.intersection(eligibility.allowed[s]))
        ):
            out.append(
                Unserved(
                    stop.id,
                    UnservedReason.SEARCH_TIME_EXHAUSTED,
                    "the search ran out of time before placing it"
                    + ("" if timed_out else " (an idle vehicle could serve it)")
                    + "; allow the plan more time",
                )
            )
            continue
        if stop.penalty is None:
            detail = (
                "it fits a vehicle on its own but not together with the other stops "
                "(capacity, time windows or shift length); add a vehicle, widen its window "
                "or allow the plan more time"
            )
        else:
            detail = (
                f"serving it would cost more than its drop penalty {stop.penalty:g} "
                f"(priority {stop.priority})"
            )
        out.append(Unserved(stop.id, UnservedReason.DROPPED_BY_OPTIMISER, detail))
    return out


def _route(problem: Problem, raw: RawRoute) -> Route:
    vehicle = problem.vehicles[raw.vehicle]
    vt = problem.vehicle_type(vehicle.type)
    m = problem.matrices[vt.profile]
    stops = [problem.stops[s] for s in raw.stops]
    paired = {p.delivery for p in problem.shipments}
    n_dim = len(problem.dimensions)
    # Where each trip begins (the start, then each reload) and what it carries out.
    reload_at = {before: (place, start) for before, place, start in raw.reloads}
    cuts = [0, *sorted(reload_at), len(stops)]
    trip_load: dict[int, list[int]] = {}
    for a, b in itertools.pairwise(cuts):
        load = [0] * n_dim
        for s in stops[a:b]:
            if s.kind is StopKind.DELIVERY and s.id not in paired:
                load = [x + y for x, y in zip(load, problem.demand(s), strict=True)]
        trip_load[a] = load
    load_at_start = tuple(trip_load[0])

    breaks = tuple(ScheduledBreak(start, duration) for start, duration in raw.breaks)
    visits: list[Visit] = []
    reloads: list[Reload] = []
    prev_loc, prev_departure = vehicle.start, raw.start_time
    distance = 0
    load = list(load_at_start)

    def arrive(at: int, start: int) -> int:
        """Arrival at ``at`` leaving ``prev_loc`` at ``prev_departure``, with any break taken
        on the way, no later than the service start."""
        arrival = prev_departure + int(m.durations[prev_loc, at])
        on_break = sum(b.duration for b in breaks if prev_departure <= b.start < start)
        return min(arrival + on_break, start) if on_break else arrival

    for k, (s, start) in enumerate(zip(stops, raw.starts, strict=True)):
        if k in reload_at:
            place, begin = reload_at[k]
            leg = int(m.distances[prev_loc, place])
            load = list(trip_load[k])
            departure = begin + vehicle.reload_time
            reloads.append(
                Reload(place, arrive(place, begin), begin, departure, k, tuple(load), leg)
            )
            distance += leg
            prev_loc, prev_departure = place, departure
        leg = int(m.distances[prev_loc, s.location])
        arrival = arrive(s.location, start)
        sign = 1 if s.kind is StopKind.PICKUP else -1
        load = [a + sign * b for a, b in zip(load, problem.demand(s), strict=True)]
        departure = start + s.service
        visits.append(
            Visit(
                stop_id=s.id,
                location=s.location,
                arrival=arrival,
                start=start,
                departure=departure,
                wait=start - arrival,
                load=tuple(load),
                distance=leg,
            )
        )
        distance += leg
        prev_loc, prev_departure = s.location, departure
    if vehicle.end is not None:
        distance += int(m.distances[prev_loc, vehicle.end])
        end_time = raw.end_time
    else:
        # An open route ends at its last departure, unless a break is taken after it.
        end_time = max(prev_departure, raw.end_time)
    duration = end_time - raw.start_time
    km = distance / 1000.0
    cost = vt.fixed_cost + vt.cost_per_km * km + vt.cost_per_hour * duration / 3600.0
    return Route(
        vehicle_id=vehicle.id,
        vehicle_type=vt.name,
        visits=tuple(visits),
        start_time=raw.start_time,
        end_time=end_time,
        load_at_start=load_at_start,
        distance=distance,
        duration=duration,
        cost=round(cost, 4),
        co2_g=round(vt.co2_g_per_km * km, 3),
        breaks=breaks,
        reloads=tuple(reloads),
    )
