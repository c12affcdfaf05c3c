"""VROOM (pyvroom) against lastmile on the same VROOM-format inputs, costs on the same matrix.

Run from the repository root (needs ``pip install pyvroom``, part of the ``bench`` extra)::

    python -m benchmarks.vroom_compare
    python -m benchmarks.vroom_compare --instances C101,R101,RC101 --customers 50 --time-limit 5

Each Solomon instance (read by :mod:`benchmarks.instances`, DIMACS integers: travel time =
distance = ``floor(10 * euclid)``) is written as one VROOM input with a ``matrices.car.durations``
matrix, the file's fleet, capacity, windows and service times. VROOM solves it (``exploration
level`` and threads as given; it stops on its own) and lastmile solves the very same JSON
through :mod:`orchestrator.vroom` within ``--time-limit`` seconds. Both answers are judged
here,
on the instance's matrix alone: the travel cost of the routes as sequenced (VROOM's objective
with default costs), the number of routes, unassigned tasks, and time-window or capacity
violations recomputed from the data. ``--customers N`` keeps the first N customers for a quick
run. The table goes to stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.instances import DEFAULT_DATA_DIR, Instance, find_instances, read_instance
from orchestrator.vroom import solve_vroom
from routing import Limits

__all__ = ["Judged", "judge", "main", "vroom_input"]

DEFAULT_INSTANCES = ("C101", "R101", "RC101", "C201", "R201", "RC201")


def vroom_input(inst: Instance, customers: int | None = None) -> dict[str, Any]:
    """The instance as a VROOM input with a custom durations matrix (row 0 is the depot)."""
    n = inst.customers if customers is None else min(customers, inst.customers)
    keep = list(range(n + 1))
    matrix = inst.matrix[keep][:, keep]
    return {
        "vehicles": [
            {
                "id": k,
                "start_index": 0,
                "end_index": 0,
                "capacity": [int(inst.capacity)],
                "time_window": [int(inst.ready[0]), int(inst.due[0])],
            }
            for k in range(1, inst.fleet + 1)
        ],
        "jobs": [
            {
                "id": i,
                "location_index": i,
                "service": int(inst.service[i]),
                "delivery": [int(inst.demand[i])],
                "time_windows": [[int(inst.ready[i]), int(inst.due[i])]],
            }
            for i in range(1, n + 1)
        ],
        "matrices": {"car": {"durations": matrix.tolist()}},
    }


@dataclass(frozen=True, slots=True)
class Judged:
    """An answer recomputed on the input's own data: travel cost, routes, unassigned, faults."""

    cost: int
    routes: int
    unassigned: int
    violations: int
    seconds: float


def judge(payload: dict[str, Any], answer: dict[str, Any], seconds: float) -> Judged:
    """Recompute an answer's travel cost and count its violations from the input alone."""
    matrix = payload["matrices"]["car"]["durations"]
    jobs = {j["id"]: j for j in payload["jobs"]}
    vehicles = {v["id"]: v for v in payload["vehicles"]}
    cost = violations = 0
    seen: set[int] = set()
    for route in answer["routes"]:
        v = vehicles[route["vehicle"]]
        t = v["time_window"][0]
        load = 0
        where = v["start_index"]
        for step in route["steps"]:
            if step["type"] != "job":
                continue
            job = jobs[step["id"]]
            seen.add(job["id"])
            cost += matrix[where][job["location_index"]]
            t += matrix[where][job["location_index"]]
            start, end = job["time_windows"][0]
            t = max(t, start)
            violations += t > end
            t += job["service"]
            load += job["delivery"][0]
            where = job["location_index"]
        cost += matrix[where][v["end_index"]]
        t += matrix[where][v["end_index"]]
        violations += t > v["time_window"][1]
        violations += load > v["capacity"][0]
    unassigned = len(jobs) - len(seen)
    return Judged(cost, len(answer["routes"]), unassigned, violations, seconds)


def _solve_vroom(payload: dict[str, Any], exploration: int, threads: int) -> dict[str, Any]:
    import vroom  # optional: the ``bench`` extra

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "input.json"
        path.write_text(json.dumps(payload), encoding="utf-8")
        problem = vroom.Input.from_json(str(path))
    return problem.solve(exploration_level=exploration, nb_threads=threads).to_dict()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the comparison and print the table; 0 on success, 2 without pyvroom."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", default=",".join(DEFAULT_INSTANCES))
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--customers", type=int, default=None, help="first N customers only")
    parser.add_argument("--time-limit", type=float, default=5.0, help="lastmile, seconds")
    parser.add_argument("--exploration", type=int, default=5, help="VROOM level 0-5")
    parser.add_argument("--threads", type=int, default=2, help="VROOM threads")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        import vroom  # noqa: F401
    except ImportError:
        print("pyvroom is not installed: pip install pyvroom (the 'bench' extra)", file=sys.stderr)
        return 2

    paths = find_instances(args.data_dir, "solomon", args.instances.split(","))
    header = (
        f"{'instance':10} {'n':>4} | {'vroom cost':>10} {'rt':>3} {'un':>3} {'viol':>4} "
        f"{'s':>6} | {'lastmile':>10} {'rt':>3} {'un':>3} {'viol':>4} {'s':>6} | {'gap %':>6}"
    )
    print(header)
    print("-" * len(header))
    for path in paths:
        inst = read_instance(path)
        payload = vroom_input(inst, args.customers)
        t0 = time.perf_counter()
        ours_vroom = _solve_vroom(payload, args.exploration, args.threads)
        vr = judge(payload, ours_vroom, time.perf_counter() - t0)
        t0 = time.perf_counter()
        ours = solve_vroom(payload, Limits(time_limit=args.time_limit), seed=args.seed)
        lm = judge(payload, ours, time.perf_counter() - t0)
        if lm.cost != ours["summary"]["cost"] or vr.cost != ours_vroom["summary"]["cost"]:
            print(f"{inst.name}: reported cost differs from the recomputed one", file=sys.stderr)
        gap = 100.0 * (lm.cost - vr.cost) / vr.cost if vr.cost else 0.0
        print(
            f"{inst.name:10} {len(payload['jobs']):>4} | {vr.cost:>10} {vr.routes:>3} "
            f"{vr.unassigned:>3} {vr.violations:>4} {vr.seconds:>6.2f} | {lm.cost:>10} "
            f"{lm.routes:>3} {lm.unassigned:>3} {lm.violations:>4} {lm.seconds:>6.2f} | "
            f"{gap:>+6.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
