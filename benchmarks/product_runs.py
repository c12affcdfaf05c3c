"""The product suite: lastmile, PyVRP alone and VROOM on :mod:`benchmarks.product` days.

Run from the repository root::

    python -m benchmarks.routing --suite product --sizes 200,400,1000 --time-limit 10 \\
        --compare pyvrp,vroom [--variant base|pairs|breaks|reloads] [--seed 0] \\
        [--json out/p.json]

Per instance (``product-200-s0``: 200 base stops, instance seed 0) each solver runs once, one
after the other (never two at once), with the same wall-clock budget:

* **lastmile**: ``routing.solve(problem, Limits(time_limit, workers=2), seed=0)`` (2 processes
  for its PyVRP seed portfolio when the problem allows one).
* **pyvrp**: ``routing._pyvrp.solve_alone(problem, time_limit=..., seed=0)``, PyVRP alone in
  one thread. It cannot keep breaks: such a row is "not run" and stays out of the ratios.
  With reloads its plan's reloads (``AloneResult.reloads``) go to the checker.
* **vroom**: pyvroom on the same matrices (per profile: durations and distances), exploration
  level 5, 2 threads, ``timeout`` = the time limit. VROOM prices ``per_hour`` on *travel*
  time only (our common cost prices the whole route duration); its costs are integers, so EUR
  are scaled by :data:`VROOM_COST_SCALE`. VROOM has no reloads (several trips a day): on a
  day where a vehicle may reload its row is "not run" (a one-trip plan would be judged on
  another problem).

Every plan goes through :func:`benchmarks.product_checker.check_plan` (the independent checker
and the common cost in EUR). ``seconds`` is wall clock including building the solver's model;
``first plan s`` is when the solver had its first complete plan, where it says so; a row whose
plan reloads ends with the number of reloads. The summary gives lastmile's cost over PyVRP's
(mean and max) and over VROOM's (mean), on instances where both plans are feasible and
complete.
"""

from __future__ import annotations

import functools
import json
import resource
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import routing
from benchmarks.product import generate, instance_name
from benchmarks.product_checker import PlanCheck, check_plan

__all__ = [
    "COMPARABLE",
    "LASTMILE_WORKERS",
    "OVERSHOOT_S",
    "VROOM_COST_SCALE",
    "VROOM_EXPLORATION",
    "VROOM_THREADS",
    "PlanRun",
    "ProductRow",
    "evaluate",
    "format_row",
    "peak_rss_mb",
    "run_lastmile",
    "run_pyvrp",
    "run_suite",
    "run_vroom",
    "summarise",
    "vroom_input",
]

COMPARABLE: tuple[str, ...] = ("pyvrp", "vroom")
"""Solvers ``--compare`` accepts on the product suite."""
LASTMILE_WORKERS = 2
"""Processes lastmile may use (both cores of the reference machine)."""
VROOM_EXPLORATION = 5
"""VROOM's exploration level (0-5; 5 searches most)."""
VROOM_THREADS = 2
"""Threads VROOM may use."""
VROOM_COST_SCALE = 1_000
"""VROOM cost units per EUR (its costs are integers: 0.05 EUR/km becomes 50)."""
OVERSHOOT_S = 1.0
"""A run this much past its time limit is reported on stderr (model building included)."""
_PREVIEW = 5
"""Violations echoed to stderr per row."""


@dataclass(frozen=True, slots=True)
class PlanRun:
    """What one solver returned on one instance.

    ``routes``: vehicle id -> stop ids (``None`` when the solver gave no plan); ``breaks``:
    vehicle id -> break starts (s) for the vehicles whose breaks the solver scheduled;
    ``reloads``: vehicle id -> ``(before, location)`` per reload (``before``: index in that
    vehicle's stop ids of the first stop after the reload);
    ``seconds``: wall clock including model building; ``first_plan_seconds``: when its first
    plan existed, if it says; ``not_run``: why the solver could not take the instance at all.
    """

    solver: str
    routes: dict[str, list[str]] | None
    seconds: float | None
    first_plan_seconds: float | None = None
    breaks: dict[str, list[int]] = field(default_factory=dict)
    reloads: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    not_run: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ProductRow:
    """One (instance, solver) line: the checker's verdict and the common cost in EUR;
    ``reloads`` counts the reloads of the plan (not in the JSON row)."""

    instance: str
    stops: int
    solver: str
    served: int | None = None
    vehicles: int | None = None
    cost: float | None = None
    km: float | None = None
    feasible: bool | None = None
    seconds: float | None = None
    first_plan_seconds: float | None = None
    note: str = ""
    violations: tuple[str, ...] = ()
    missing: int = 0
    reloads: int = 0

    def as_json(self) -> dict[str, Any]:
        """The JSON row: instance, stops, solver, served, cost, feasible, seconds, first plan."""
        return {
            "instance": self.instance,
            "stops": self.stops,
            "solver": self.solver,
            "served": self.served,
            "cost": self.cost,
            "feasible": self.feasible,
            "seconds": self.seconds,
            "first_plan_seconds": self.first_plan_seconds,
        }


# -- solvers ----------------------------------------------------------------------------------


def _failed(solver: str, started: float, exc: Exception) -> PlanRun:
    """A solver exception becomes a run without plan (traceback on stderr); the suite goes on."""
    traceback.print_exc(file=sys.stderr)
    return PlanRun(
        solver, None, time.perf_counter() - started, error=f"{type(exc).__name__}: {exc}"
    )


def run_lastmile(problem: routing.Problem, time_limit: float) -> PlanRun:
    """``routing.solve`` with ``Limits(time_limit, workers=2)`` and seed 0.

    Break starts are passed on for every used vehicle that has breaks, so a vehicle whose
    breaks the solver left out is caught by the checker; so are the routes' reloads.
    """
    started = time.perf_counter()
    try:
        limits = routing.Limits(time_limit=time_limit, workers=LASTMILE_WORKERS)
        solution = routing.solve(problem, limits, seed=0)
    except Exception as exc:
        return _failed("lastmile", started, exc)
    seconds = time.perf_counter() - started
    with_breaks = {v.id for v in problem.vehicles if v.breaks}
    first = solution.stats.get("first_plan_seconds")
    return PlanRun(
        "lastmile",
        {r.vehicle_id: list(r.stop_ids) for r in solution.routes},
        seconds,
        first_plan_seconds=None if first is None else float(first),  # type: ignore[arg-type]
        breaks={
            r.vehicle_id: [b.start for b in r.breaks]
            for r in solution.routes
            if r.vehicle_id in with_breaks
        },
        reloads={
            r.vehicle_id: [(rl.before, rl.location) for rl in r.reloads]
            for r in solution.routes
            if r.reloads
        },
    )


def run_pyvrp(problem: routing.Problem, time_limit: float) -> PlanRun:
    """PyVRP alone (one thread) through ``routing._pyvrp.solve_alone``.

    A problem PyVRP cannot express (``NotExpressible``: breaks) is a "not run" row, as is a
    checkout where ``solve_alone`` does not exist yet. The reloads of its plan come from
    ``AloneResult.reloads`` (none on a checkout without them).
    """
    from routing import _pyvrp  # late: importing PyVRP costs a second

    solve_alone = getattr(_pyvrp, "solve_alone", None)
    if solve_alone is None:
        return PlanRun("pyvrp", None, None, not_run="routing._pyvrp.solve_alone does not exist")
    not_expressible: type[Exception] = getattr(_pyvrp, "NotExpressible", routing.RoutingError)
    started = time.perf_counter()
    try:
        result = solve_alone(problem, time_limit=time_limit, seed=0)
    except not_expressible as exc:
        return PlanRun("pyvrp", None, None, not_run=str(exc))
    except Exception as exc:
        return _failed("pyvrp", started, exc)
    seconds = time.perf_counter() - started
    routes = None if result.routes is None else {v: list(s) for v, s in result.routes.items()}
    reloads = getattr(result, "reloads", None) or {}
    return PlanRun(
        "pyvrp",
        routes,
        seconds,
        first_plan_seconds=result.first_feasible_seconds,
        reloads={v: [(int(b), int(loc)) for b, loc in r] for v, r in reloads.items()},
        error=None if routes is not None else "PyVRP found no feasible plan",
    )


def vroom_input(problem: routing.Problem) -> Any:
    """The problem as a ``vroom.Input``.

    Ids: job / shipment step = stop index + 1, vehicle = vehicle index + 1, break = its index
    + 1. Skills are numbered in sorted order. Locations are the problem's own indices, one
    durations and one distances matrix per profile. ``max_shift`` becomes VROOM's
    ``max_travel_time`` (VROOM bounds travel only; the generator sets no ``max_shift``) and
    ``range_m`` its ``max_distance``.
    """
    import vroom  # the ``bench`` extra

    skills = sorted({s for vt in problem.vehicle_types for s in vt.skills})
    skill_no = {name: k + 1 for k, name in enumerate(skills)}
    inp = vroom.Input()
    for profile in sorted({problem.vehicle_type(v.type).profile for v in problem.vehicles}):
        matrix = problem.matrices[profile]
        inp.set_durations_matrix(profile, matrix.durations)
        inp.set_distances_matrix(profile, matrix.distances)

    for vi, v in enumerate(problem.vehicles):
        vt = problem.vehicle_type(v.type)
        inp.add_vehicle(
            vroom.Vehicle(
                vi + 1,
                start=v.start,
                end=v.end,
                profile=vt.profile,
                capacity=list(problem.capacity(vt)),
                skills={skill_no[s] for s in vt.skills},
                time_window=vroom.TimeWindow(v.shift.start, v.shift.end),
                breaks=[
                    vroom.Break(
                        k + 1,
                        time_windows=[vroom.TimeWindow(b.window.start, b.window.end)],
                        service=b.duration,
                    )
                    for k, b in enumerate(v.breaks)
                ],
                costs=vroom.VehicleCosts(
                    fixed=round(vt.fixed_cost * VROOM_COST_SCALE),
                    per_hour=round(vt.cost_per_hour * VROOM_COST_SCALE),
                    per_km=round(vt.cost_per_km * VROOM_COST_SCALE),
                ),
                max_travel_time=vt.max_shift,
                **({} if vt.range_m is None else {"max_distance": vt.range_m}),
            )
        )

    def windows(stop: routing.Stop) -> list[Any]:
        return [vroom.TimeWindow(w.start, w.end) for w in stop.windows]

    paired = {p.pickup for p in problem.shipments} | {p.delivery for p in problem.shipments}
    zero = [0] * len(problem.dimensions)
    for si, s in enumerate(problem.stops):
        if s.id in paired:
            continue
        demand = list(problem.demand(s))
        pickup = s.kind is routing.StopKind.PICKUP
        inp.add_job(
            vroom.Job(
                si + 1,
                location=s.location,
                default_service=s.service,
                delivery=zero if pickup else demand,
                pickup=demand if pickup else zero,
                skills={skill_no[k] for k in s.skills},
                time_windows=windows(s),
            )
        )
    for pd in problem.shipments:
        p, d = problem.stop(pd.pickup), problem.stop(pd.delivery)
        inp.add_shipment(
            vroom.ShipmentStep(
                problem.stop_index(p.id) + 1,
                location=p.location,
                default_service=p.service,
                time_windows=windows(p),
            ),
            vroom.ShipmentStep(
                problem.stop_index(d.id) + 1,
                location=d.location,
                default_service=d.service,
                time_windows=windows(d),
            ),
            amount=vroom.Amount(list(problem.demand(p))),
            skills={skill_no[k] for k in p.skills | d.skills},
        )
    return inp


def run_vroom(problem: routing.Problem, time_limit: float) -> PlanRun:
    """pyvroom at exploration level 5 on 2 threads, stopped by ``timeout`` = ``time_limit``.

    Break starts come from VROOM's break steps (arrival + waiting time). A day where a vehicle
    may reload is a "not run" row: VROOM plans one trip per vehicle.
    """
    reloading = [v.id for v in problem.vehicles if v.reloads]
    if reloading:
        return PlanRun(
            "vroom",
            None,
            None,
            not_run=f"VROOM cannot express reloads (several trips a day; {len(reloading)} "
            f"vehicle(s) may reload, e.g. {reloading[0]})",
        )
    started = time.perf_counter()
    try:
        answer = (
            vroom_input(problem)
            .solve(
                exploration_level=VROOM_EXPLORATION,
                nb_threads=VROOM_THREADS,
                timeout=timedelta(seconds=time_limit),
            )
            .to_dict()
        )
    except Exception as exc:
        return _failed("vroom", started, exc)
    seconds = time.perf_counter() - started
    routes: dict[str, list[str]] = {}
    breaks: dict[str, list[int]] = {}
    for route in answer.get("routes", []):
        vehicle = problem.vehicles[int(route["vehicle"]) - 1]
        stops = []
        for step in route["steps"]:
            if step["type"] in ("job", "pickup", "delivery"):
                stops.append(problem.stops[int(step["id"]) - 1].id)
            elif step["type"] == "break":
                breaks.setdefault(vehicle.id, []).append(
                    int(step["arrival"]) + int(step.get("waiting_time", 0))
                )
        routes[vehicle.id] = stops
    return PlanRun("vroom", routes, seconds, breaks=breaks)


# -- rows and summary -------------------------------------------------------------------------


def evaluate(instance: str, problem: routing.Problem, run: PlanRun) -> ProductRow:
    """Check a run with :func:`check_plan` and turn it into a row (cost in EUR, km)."""
    row = functools.partial(ProductRow, instance, len(problem.stops), run.solver)
    if run.not_run is not None:
        return row(note=f"not run: {run.not_run}")
    seconds = None if run.seconds is None else round(run.seconds, 2)
    first = None if run.first_plan_seconds is None else round(run.first_plan_seconds, 2)
    if run.routes is None:
        note = f"no plan: {run.error or 'the solver returned nothing'}"
        return row(served=0, feasible=False, seconds=seconds, note=note)
    check: PlanCheck = check_plan(problem, run.routes, run.breaks, run.reloads)
    return row(
        served=check.served,
        vehicles=check.cost.vehicles,
        cost=round(check.cost.cost, 2),
        km=round(check.cost.distance_m / 1000.0, 1),
        feasible=check.feasible,
        seconds=seconds,
        first_plan_seconds=first,
        violations=check.violations,
        missing=len(check.missing),
        reloads=sum(r.reloads for r in check.routes),
    )


def _ratios(rows: Sequence[ProductRow], other: str) -> list[float]:
    """lastmile cost / ``other``'s cost per instance where both are feasible (and complete)."""
    ours = {r.instance: r for r in rows if r.solver == "lastmile" and r.feasible}
    theirs = {r.instance: r for r in rows if r.solver == other and r.feasible}
    return [
        ours[name].cost / theirs[name].cost  # type: ignore[operator]
        for name in ours
        if name in theirs and theirs[name].cost
    ]


def peak_rss_mb() -> float:
    """Peak resident memory of this process plus its largest finished child, MB (an upper
    bound of the peak at any one moment; Linux reports kilobytes)."""
    kb = (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    )
    return round(kb / 1024.0, 1)


def summarise(variant: str, time_limit: float, rows: Sequence[ProductRow]) -> dict[str, Any]:
    """The JSON document: rows and lastmile's cost ratios to PyVRP (mean, max) and VROOM.

    A ratio is ``None`` when no instance has both plans feasible and complete; a "not run"
    row has ``served``, ``cost``, ``feasible``, ``seconds`` and ``first_plan_seconds`` null.
    """
    to_pyvrp, to_vroom = _ratios(rows, "pyvrp"), _ratios(rows, "vroom")
    return {
        "suite": "product",
        "variant": variant,
        "time_limit": time_limit,
        "rows": [r.as_json() for r in rows],
        "mean_ratio_pyvrp": _mean(to_pyvrp),
        "max_ratio_pyvrp": round(max(to_pyvrp), 4) if to_pyvrp else None,
        "mean_ratio_vroom": _mean(to_vroom),
        "peak_rss_mb": peak_rss_mb(),
    }


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


# -- output -----------------------------------------------------------------------------------

_HEADER = (
    f"{'instance':<22} {'stops':>5} {'solver':<9} {'served':>11} {'veh':>4} {'cost EUR':>10} "
    f"{'km':>8} {'feasible':<10} {'secs':>7} {'first s':>7}"
)


def _fmt(value: float | int | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def format_row(row: ProductRow) -> str:
    """One fixed-width table line (a "not run" row carries its reason instead of numbers; a
    plan with reloads ends with their number)."""
    head = f"{row.instance:<22} {row.stops:>5d} {row.solver:<9}"
    if row.note.startswith("not run"):
        return f"{head} {row.note}"
    feasible = (
        "yes" if row.feasible else ("incomplete" if row.missing and not row.violations else "NO")
    )
    served = "—" if row.served is None else f"{row.served}/{row.stops}"
    return (
        f"{head} {served:>11} {_fmt(row.vehicles, 'd'):>4} {_fmt(row.cost, '.2f'):>10} "
        f"{_fmt(row.km, '.1f'):>8} {feasible:<10} {_fmt(row.seconds, '.2f'):>7} "
        f"{_fmt(row.first_plan_seconds, '.2f'):>7}"
        + (f" {row.reloads} reloads" if row.reloads else "")
    )


def _note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _summary_lines(
    summary: dict[str, Any], rows: Sequence[ProductRow], compare: Sequence[str]
) -> list[str]:
    lines = []
    for solver in ("lastmile", *compare):
        mine = [r for r in rows if r.solver == solver]
        ran = [r for r in mine if not r.note.startswith("not run")]
        lines.append(
            f"{solver}: {len(ran)} of {len(mine)} instance(s) run, "
            f"{sum(bool(r.feasible) for r in ran)} feasible and complete, "
            f"{sum(bool(r.missing) for r in ran)} incomplete, "
            f"{sum(bool(r.violations) or r.note.startswith('no plan') for r in ran)} with "
            "violations or no plan"
            + (f", {sum(r.reloads for r in ran)} reloads" if any(r.reloads for r in ran) else "")
        )
    if "pyvrp" in compare:
        mean, worst = summary["mean_ratio_pyvrp"], summary["max_ratio_pyvrp"]
        lines.append(
            "lastmile / pyvrp cost: "
            + (
                f"mean {mean:.4f}, max {worst:.4f}"
                if mean is not None
                else "no instance where both are feasible"
            )
        )
    if "vroom" in compare:
        mean = summary["mean_ratio_vroom"]
        lines.append(
            "lastmile / vroom cost: "
            + (f"mean {mean:.4f}" if mean is not None else "no instance where both are feasible")
        )
    lines.append(f"peak RSS {summary['peak_rss_mb']:.0f} MB (this process + largest child)")
    return lines


def run_suite(
    sizes: Sequence[int],
    *,
    time_limit: float,
    compare: Sequence[str] = (),
    variant: str = "base",
    seed: int = 0,
    json_path: Path | None = None,
    out: IO[str] | None = None,
) -> int:
    """Generate, solve, check and print every instance; returns the exit code (0)."""
    out = sys.stdout if out is None else out
    runners: list[tuple[str, Callable[[routing.Problem, float], PlanRun]]] = [
        ("lastmile", run_lastmile)
    ]
    runners += [(name, {"pyvrp": run_pyvrp, "vroom": run_vroom}[name]) for name in compare]
    print(
        f"product suite, variant {variant}, {time_limit:g} s per solve, one solve at a time: "
        f"lastmile {LASTMILE_WORKERS} processes"
        + (", pyvrp 1 thread" if "pyvrp" in compare else "")
        + (
            f", vroom {VROOM_THREADS} threads (exploration {VROOM_EXPLORATION})"
            if "vroom" in compare
            else ""
        ),
        file=out,
    )
    print(_HEADER, file=out, flush=True)
    rows: list[ProductRow] = []
    for k, size in enumerate(sizes, start=1):
        name = instance_name(size, seed, variant)
        problem = generate(size, seed=seed, variant=variant)
        for solver, runner in runners:
            _note(f"[{k}/{len(sizes)}] {name} ({len(problem.stops)} stops): {solver} ...")
            row = evaluate(name, problem, runner(problem, time_limit))
            rows.append(row)
            print(format_row(row), file=out, flush=True)
            for v in row.violations[:_PREVIEW]:
                _note(f"  {name} {solver}: {v}")
            if len(row.violations) > _PREVIEW:
                _note(f"  {name} {solver}: ... {len(row.violations) - _PREVIEW} more")
            if row.missing:
                _note(f"  {name} {solver}: {row.missing} mandatory stop(s) not served")
            if row.note and not row.note.startswith("not run"):
                _note(f"  {name} {solver}: {row.note}")
            if row.seconds is not None and row.seconds > time_limit + OVERSHOOT_S:
                _note(f"  {name} {solver}: took {row.seconds:.1f} s for a {time_limit:g} s limit")
    summary = summarise(variant, time_limit, rows)
    print(file=out)
    for line in _summary_lines(summary, rows, compare):
        print(line, file=out)
    out.flush()
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 0
