"""Routing benchmark: lastmile's solver (and optionally PyVRP) on public VRPTW / CVRP instances.

Run from the repository root::

    python -m benchmarks.routing --suite solomon --time-limit 2 --instances C101,R101
    python -m benchmarks.routing --suite x --time-limit 10 --compare pyvrp --csv out/x.csv
    python -m benchmarks.routing --suite solomon --time-limit 5 --data-dir ~/my-instances

One solve per instance and solver, one after the other (never two at once, so timings are
not disturbed). Every solution is re-checked by :mod:`benchmarks.checker` on the instance's
own integer data; the distance shown is the checker's, in the convention of the BKS
(DIMACS objective / 10 for VRPTW, the integer objective for X). The gap is only given for
checker-feasible solutions, and the summary's mean / max gap only averages those; a run
with no solution, an unserved customer or any violation counts as infeasible.

The table goes to stdout, progress and diagnostics (violations, a solver whose reported
distance disagrees with the checker, a run that overshoots its time limit) to stderr.

PyVRP (``--compare pyvrp``) gets the same data: ``.vrp`` files are read with
``pyvrp.read(path, round_func="dimacs")`` (VRPTW) or ``"round"`` (X), with the X fleet set
to the benchmark's ``K``; the result is cross-checked against our reader and the run stops
with an error if they differ. ``.txt`` files, which PyVRP cannot read, are converted: the
``ProblemData`` is built from the very integers our reader produced. PyVRP scales demands
and capacity by 10 under ``"dimacs"``; that changes nothing.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from benchmarks.checker import check
from benchmarks.instances import (
    DEFAULT_DATA_DIR,
    SUITES,
    Instance,
    InstanceError,
    Kind,
    bks_table_for,
    find_instances,
    read_instance,
    to_problem,
)

__all__ = [
    "CSV_COLUMNS",
    "Row",
    "SolverRun",
    "main",
    "pyvrp_data",
    "run_lastmile",
    "run_pyvrp",
    "summarise",
]

CSV_COLUMNS: tuple[str, ...] = (
    "suite",
    "instance",
    "solver",
    "customers",
    "vehicles",
    "distance",
    "bks",
    "gap_pct",
    "seconds",
)
SEED_MODES: tuple[str, ...] = ("none", "pyvrp", "auto")
_OVERSHOOT_S = 1.0
"""A run this much past its time limit is reported on stderr (model building included)."""


@dataclass(frozen=True, slots=True)
class SolverRun:
    """What one solver returned: routes as customer numbers, or why there are none.

    ``reported_distance`` is the solver's own total in matrix units, kept only to flag a
    disagreement with the checker; it never enters the table.
    """

    solver: str
    routes: tuple[tuple[int, ...], ...] | None
    seconds: float
    error: str | None = None
    reported_distance: int | None = None


@dataclass(frozen=True, slots=True)
class Row:
    """One (instance, solver) line of the table, CSV and JSON.

    ``distance`` and ``bks`` are in the BKS convention; ``gap_pct`` is ``None`` when the
    solution is not checker-feasible or the BKS is unknown.
    """

    suite: str
    instance: str
    solver: str
    customers: int
    vehicles: int | None
    distance: float | int | None
    bks: float | int | None
    gap_pct: float | None
    seconds: float
    feasible: bool
    violations: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        """The row as a JSON-ready dict: the CSV columns plus ``feasible`` and ``violations``."""
        out = asdict(self)
        out["violations"] = list(self.violations)
        return out

    def as_csv(self) -> dict[str, Any]:
        """The CSV columns, ``""`` for unknown values."""
        return {c: "" if getattr(self, c) is None else getattr(self, c) for c in CSV_COLUMNS}


def _in_convention(inst: Instance, value: float) -> float | int:
    return round(value, 1) if inst.kind is Kind.VRPTW else round(value)


def evaluate(suite: str, inst: Instance, run: SolverRun) -> Row:
    """Check a run with :func:`benchmarks.checker.check` and turn it into a :class:`Row`."""
    bks = None if inst.bks is None else _in_convention(inst, inst.bks.distance)
    if run.routes is None:
        return Row(
            suite=suite,
            instance=inst.name,
            solver=run.solver,
            customers=inst.customers,
            vehicles=None,
            distance=None,
            bks=bks,
            gap_pct=None,
            seconds=round(run.seconds, 2),
            feasible=False,
            violations=(f"no solution: {run.error or 'the solver returned nothing'}",),
        )
    result = check(inst, run.routes)
    distance = inst.reported(result.distance)
    gap = None
    if result.feasible and inst.bks is not None and inst.bks.distance > 0:
        gap = round(100.0 * (distance - inst.bks.distance) / inst.bks.distance, 2)
    if run.reported_distance is not None and run.reported_distance != result.distance:
        _note(
            f"{inst.name} {run.solver}: the solver reports distance {run.reported_distance}, "
            f"the checker {result.distance} (matrix units)"
        )
    return Row(
        suite=suite,
        instance=inst.name,
        solver=run.solver,
        customers=inst.customers,
        vehicles=result.routes,
        distance=_in_convention(inst, distance),
        bks=bks,
        gap_pct=gap,
        seconds=round(run.seconds, 2),
        feasible=result.feasible,
        violations=result.violations,
    )


# -- solvers ----------------------------------------------------------------------------------


def _lastmile_name(seed_with: str, workers: int) -> str:
    return f"lastmile[seed={seed_with}]" + (f"[workers={workers}]" if workers > 1 else "")


def run_lastmile(inst: Instance, time_limit: float, seed_with: str, workers: int = 1) -> SolverRun:
    """Solve with :func:`routing.solve.solve`; the wall time includes building the model.

    A solver exception becomes a run without solution (with the traceback on stderr), so one
    broken instance does not end the benchmark.
    """
    from routing.solve import Limits, solve  # late: the CLI and readers work without it

    name = _lastmile_name(seed_with, workers)
    problem = to_problem(inst)
    customer_of = {s.id: s.location for s in problem.stops}
    start = time.perf_counter()
    try:
        limits = Limits(time_limit=time_limit, seed_with=seed_with, workers=workers)  # type: ignore[arg-type]
        solution = solve(problem, limits, seed=0)
    except Exception as exc:  # reported as "no solution", the benchmark goes on
        seconds = time.perf_counter() - start
        traceback.print_exc(file=sys.stderr)
        return SolverRun(name, None, seconds, error=f"{type(exc).__name__}: {exc}")
    seconds = time.perf_counter() - start
    routes = tuple(tuple(customer_of[sid] for sid in route.stop_ids) for route in solution.routes)
    if not any(routes):
        return SolverRun(name, None, seconds, error=f"status {solution.status}, no route")
    return SolverRun(name, routes, seconds, reported_distance=int(solution.distance))


def pyvrp_data(inst: Instance) -> Any:
    """PyVRP ``ProblemData`` with exactly the instance's integers (see the module docstring)."""
    import pyvrp

    if inst.path.suffix.lower() == ".vrp":
        data = pyvrp.read(inst.path, round_func="dimacs" if inst.kind is Kind.VRPTW else "round")
        if inst.kind is Kind.CVRP:
            (vtype,) = data.vehicle_types()
            data = data.replace(vehicle_types=[vtype.replace(num_available=inst.fleet)])
        _same_data_or_raise(inst, data)
        return data
    clients = [
        pyvrp.Client(
            location=i,
            delivery=[int(inst.demand[i])],
            service_duration=int(inst.service[i]),
            tw_early=int(inst.ready[i]),
            tw_late=int(inst.due[i]),
        )
        for i in range(1, inst.customers + 1)
    ]
    vehicle_type = pyvrp.VehicleType(
        num_available=inst.fleet,
        capacity=[inst.capacity],
        tw_early=int(inst.ready[0]),
        tw_late=int(inst.due[0]),
    )
    matrix = np.asarray(inst.matrix, dtype=np.int64)
    return pyvrp.ProblemData(
        locations=[pyvrp.Location(x=float(x), y=float(y)) for x, y in inst.coords],
        clients=clients,
        depots=[pyvrp.Depot(location=0)],
        vehicle_types=[vehicle_type],
        distance_matrices=[matrix],
        duration_matrices=[matrix],
    )


def _same_data_or_raise(inst: Instance, data: Any) -> None:
    """Fail loudly when ``pyvrp.read`` and our reader disagree on the instance."""
    problems: list[str] = []
    if not np.array_equal(np.asarray(data.distance_matrix(0)), inst.matrix):
        problems.append("distance matrix")
    if data.num_clients != inst.customers or data.num_vehicles != inst.fleet:
        problems.append("customers or fleet size")
    # pyvrp's "dimacs" rounding also multiplies demands and capacities by 10: same constraint.
    factor = inst.scale
    (vtype,) = data.vehicle_types()
    if list(vtype.capacity) != [inst.capacity * factor]:
        problems.append("capacity")
    if inst.kind is Kind.VRPTW and (vtype.tw_early, vtype.tw_late) != (
        int(inst.ready[0]),
        int(inst.due[0]),
    ):
        problems.append("depot window")
    for c in data.clients():
        i = c.location
        if list(c.delivery) != [int(inst.demand[i]) * factor]:
            problems.append(f"demand of {i}")
        elif c.service_duration != int(inst.service[i]):
            problems.append(f"service of {i}")
        elif inst.kind is Kind.VRPTW and (c.tw_early, c.tw_late) != (
            int(inst.ready[i]),
            int(inst.due[i]),
        ):
            problems.append(f"window of {i}")
        if len(problems) > 5:
            break
    if problems:
        raise InstanceError(
            f"{inst.path}: pyvrp.read and benchmarks.instances disagree on {', '.join(problems)}"
        )


def run_pyvrp(inst: Instance, time_limit: float) -> SolverRun:
    """Solve with ``pyvrp.solve(data, stop=MaxRuntime(time_limit), seed=0)``.

    The wall time counts the solve only, as for lastmile (reading the file is excluded).
    """
    import pyvrp
    from pyvrp.stop import MaxRuntime

    data = pyvrp_data(inst)
    start = time.perf_counter()
    try:
        result = pyvrp.solve(data, stop=MaxRuntime(time_limit), seed=0)
    except Exception as exc:  # reported as "no solution", the benchmark goes on
        seconds = time.perf_counter() - start
        traceback.print_exc(file=sys.stderr)
        return SolverRun("pyvrp", None, seconds, error=f"{type(exc).__name__}: {exc}")
    seconds = time.perf_counter() - start
    clients = data.clients()
    routes = tuple(
        tuple(clients[a.idx].location for a in route if a.is_client())
        for route in result.best.routes()
    )
    if not any(routes):
        return SolverRun("pyvrp", None, seconds, error="no route in the best solution")
    return SolverRun("pyvrp", routes, seconds, reported_distance=int(result.best.distance()))


# -- output -----------------------------------------------------------------------------------

_HEADER = (
    f"{'instance':<12} {'solver':<31} {'n':>5} {'veh':>4} {'distance':>10} {'bks':>10} "
    f"{'gap %':>7} {'secs':>7}  feasible"
)


def _fmt(value: float | int | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def format_row(row: Row) -> str:
    """One fixed-width table line."""
    dist_spec = ".1f" if isinstance(row.distance, float) else "d"
    bks_spec = ".1f" if isinstance(row.bks, float) else "d"
    feasible = "yes" if row.feasible else "NO"
    return (
        f"{row.instance:<12} {row.solver:<31} {row.customers:>5d} {_fmt(row.vehicles, 'd'):>4} "
        f"{_fmt(row.distance, dist_spec):>10} {_fmt(row.bks, bks_spec):>10} "
        f"{_fmt(row.gap_pct, '.2f'):>7} {row.seconds:>7.2f}  {feasible}"
    )


def summarise(suite: str, time_limit: float, rows: Sequence[Row]) -> dict[str, Any]:
    """JSON-ready summary of one solver's rows: mean / max gap over feasible rows with a BKS."""
    gaps = [r.gap_pct for r in rows if r.gap_pct is not None]
    return {
        "suite": suite,
        "time_limit": time_limit,
        "mean_gap_pct": round(sum(gaps) / len(gaps), 3) if gaps else None,
        "max_gap_pct": max(gaps) if gaps else None,
        "infeasible": sum(not r.feasible for r in rows),
        "rows": [r.as_json() for r in rows],
    }


def _summary_line(solver: str, summary: dict[str, Any]) -> str:
    n = len(summary["rows"])
    gapped = sum(r["gap_pct"] is not None for r in summary["rows"])
    mean, worst = summary["mean_gap_pct"], summary["max_gap_pct"]
    gap_text = (
        f"mean gap {mean:.2f} %, max gap {worst:.2f} % (over {gapped})"
        if mean is not None
        else "no gap (no feasible run with a known BKS)"
    )
    return (
        f"{solver}: {n} instance(s), {gap_text}, "
        f"infeasible or without solution: {summary['infeasible']}"
    )


def _note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _write_csv(path: Path, rows: Sequence[Row]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(CSV_COLUMNS))
        writer.writeheader()
        writer.writerows(r.as_csv() for r in rows)


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


# -- CLI --------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.routing",
        description="Benchmark lastmile's routing solver on public VRPTW/CVRP instances "
        "against distance-only best-known solutions.",
    )
    p.add_argument("--suite", required=True, choices=sorted(SUITES), help="instance family")
    p.add_argument("--time-limit", type=float, required=True, help="seconds per solve (wall clock)")
    p.add_argument("--instances", help="comma-separated instance names (default: the whole suite)")
    p.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help="benchmark data folder, or any folder of .txt/.vrp files (default: %(default)s)",
    )
    p.add_argument(
        "--format",
        dest="fmt",
        default="auto",
        choices=("auto", "vrplib", "txt"),
        help="which files to read when both exist (default: auto = VRPLIB first)",
    )
    p.add_argument("--compare", choices=("pyvrp",), help="also run this solver on each instance")
    p.add_argument(
        "--seed-with",
        default="auto",
        choices=SEED_MODES,
        help="lastmile's initial solution: none, pyvrp or auto (default: %(default)s)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=2,
        help="processes for lastmile's seed portfolio (default: %(default)s, both cores of "
        "the reference machine; PyVRP in --compare always runs single-threaded)",
    )
    p.add_argument("--csv", type=Path, help="write every row to this CSV file")
    p.add_argument("--json", type=Path, help="write rows and summary to this JSON file")
    return p


def main(argv: Sequence[str] | None = None, out: IO[str] | None = None) -> int:
    """Run the benchmark; returns the process exit code (2 on a usage or data error)."""
    args = _parser().parse_args(argv)
    out = sys.stdout if out is None else out
    if not (math.isfinite(args.time_limit) and args.time_limit > 0):
        _note(f"error: --time-limit must be a positive number of seconds, got {args.time_limit}")
        return 2
    if args.workers < 1:
        _note(f"error: --workers must be 1 or more, got {args.workers}")
        return 2
    names = [n.strip() for n in (args.instances or "").split(",") if n.strip()] or None
    try:
        paths = find_instances(args.data_dir, args.suite, names, args.fmt)
        bks_table = bks_table_for(paths[0].parent)
    except InstanceError as exc:
        _note(f"error: {exc}")
        return 2

    lastmile_rows: list[Row] = []
    pyvrp_rows: list[Row] = []
    print(_HEADER, file=out, flush=True)
    for k, path in enumerate(paths, start=1):
        try:
            inst = read_instance(path, bks_table)
        except InstanceError as exc:
            if names is not None:
                _note(f"error: {exc}")
                return 2
            # A whole-folder run may meet a stray .txt (a README): skip it, say so.
            _note(f"skipping {path.name}: {exc}")
            continue
        runs: list[tuple[str, list[Row], Callable[[], SolverRun]]] = [
            (
                _lastmile_name(args.seed_with, args.workers),
                lastmile_rows,
                lambda i=inst: run_lastmile(i, args.time_limit, args.seed_with, args.workers),
            )
        ]
        if args.compare == "pyvrp":
            runs.append(("pyvrp", pyvrp_rows, lambda i=inst: run_pyvrp(i, args.time_limit)))
        for solver, rows, runner in runs:
            _note(f"[{k}/{len(paths)}] {inst.name} ({inst.customers} customers): {solver} ...")
            try:
                run = runner()
            except InstanceError as exc:
                _note(f"error: {exc}")
                return 2
            row = evaluate(args.suite, inst, run)
            rows.append(row)
            print(format_row(row), file=out, flush=True)
            for v in row.violations:
                _note(f"  {inst.name} {row.solver}: {v}")
            if run.seconds > args.time_limit + _OVERSHOOT_S:
                _note(
                    f"  {inst.name} {row.solver}: took {run.seconds:.1f} s for a "
                    f"{args.time_limit:g} s limit"
                )

    if not lastmile_rows:
        _note("error: no readable instance")
        return 2
    summary = summarise(args.suite, args.time_limit, lastmile_rows)
    print(file=out)
    print(_summary_line(lastmile_rows[0].solver, summary), file=out)
    if args.compare == "pyvrp":
        summary["pyvrp"] = summarise(args.suite, args.time_limit, pyvrp_rows)
        print(_summary_line("pyvrp", summary["pyvrp"]), file=out)
    out.flush()
    if args.csv is not None:
        _write_csv(args.csv, lastmile_rows + pyvrp_rows)
    if args.json is not None:
        _write_json(args.json, summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
