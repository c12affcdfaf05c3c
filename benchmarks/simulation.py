"""What-if simulator benchmark: a busy simulated day, the SimPy core, a sweep on 1 and 2 workers.

Run from the repository root::

    python -m benchmarks.simulation                       # the targets below
    python -m benchmarks.simulation --orders 200 --agents 20 --sweep-scenarios 2 \\
        --replications 1 --json out/simulation.json       # a quick look

Three measurements:

* **One simulated day** of ``--orders`` orders (default 2,000) with ``--agents`` agents
  (default 100: vans, e-vans, cargo bikes and robots at two hubs, and a pool of crowdsourced
  couriers, a quarter of the agents), planning waves and re-plans included, one replication in
  this process (one core). Target: <= 60 s.
* **Events per second** of the SimPy core in that day: events processed over the seconds the
  event loop ran outside planning and the concierge's options.
* **A sweep** of ``--sweep-scenarios`` scenarios (default 12: robots x concierge x
  consolidation on a small synthetic city) x ``--replications`` replications (default 3), on 1
  process and then on ``--workers`` local processes (default 2), each with a fresh, empty cache
  folder so nothing is reused. Both must give the same reports; the speed-up is the ratio of
  their wall times (spawning the workers included). Target: >= 1.7 with 2 workers.

The table goes to stdout. ``--json FILE`` writes ``{"orders", "agents", "day_seconds",
"events_per_second", "sweep_workers", "sweep_speedup"}`` and a few more figures
(``plan_seconds``, ``events``, ``sweep_points``, ``sweep_replications``,
``sweep_seconds_1``, ``sweep_seconds_n``, ``cpus``, ``load_average_before_sweep``: the
speed-up is only meaningful on an otherwise idle machine).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from simulation.report import run
from simulation.scenario import Scenario
from simulation.sweep import SweepPoint, grid, sweep

__all__ = ["day_scenario", "main", "sweep_points"]

#: Share of each hub's agents by vehicle type; couriers take the rest (a quarter).
_MIX = {"van": 0.3, "e-van": 0.15, "cargo-bike": 0.15, "robot": 0.4}
_COURIER_SHARE = 0.25


def day_scenario(orders: int, agents: int, *, seed: int = 1) -> Scenario:
    """One replication of one day: ``orders`` orders, ``agents`` vehicles and couriers.

    Parameters
    ----------
    orders
        Orders of the day.
    agents
        Vehicles at two hubs plus crowdsourced couriers (a quarter of them), at least 2.
    seed
        Seed of the run.
    """
    couriers = int(agents * _COURIER_SHARE)
    vehicles = max(agents - couriers, 2)
    counts = _split(vehicles, _MIX)
    hubs = []
    for h, name in enumerate(("north", "south")):
        hub_counts = {t: n // 2 + (n % 2 if h == 0 else 0) for t, n in counts.items()}
        hubs.append({"name": name, "vehicles": {t: n for t, n in hub_counts.items() if n},
                     "chargers": max(hub_counts.get("robot", 0) // 2, 1)})  # fmt: skip
    data: dict[str, Any] = {
        "name": f"benchmark day: {orders} orders, {agents} agents",
        "city": {"kind": "synthetic", "seed": 5, "blocks": 24, "block_m": 250.0},
        "demand": {"orders_per_day": orders},
        "fleet": {"hubs": hubs, "couriers": {"size": couriers}},
        "policies": {"solver_iterations": 100},
        "replications": 1,
        "seed": seed,
    }
    return Scenario.from_dict(data)


def sweep_points(count: int, replications: int, *, seed: int = 3) -> list[SweepPoint]:
    """``count`` points of a grid over robots, the concierge and consolidation on a small
    synthetic city, each with ``replications`` replications."""
    base = Scenario.from_dict(
        {
            "name": "benchmark sweep",
            "city": {"kind": "synthetic", "seed": 4, "blocks": 10},
            "demand": {"orders_per_day": 300},
            "fleet": {
                "hubs": [
                    {
                        "name": "hub",
                        "vehicles": {"van": 3, "cargo-bike": 2, "robot": 0},
                        "chargers": 2,
                    }
                ],
                "couriers": {"size": 6},
            },
            "policies": {"solver_iterations": 100},
            "replications": replications,
            "seed": seed,
        }
    )
    axes = {
        "fleet.hubs.0.vehicles.robot": [0, 4, 8],
        "policies.concierge": [True, False],
        "policies.consolidation": [False, True],
    }
    points = grid(base, axes)
    if count > len(points):  # more points: vary the number of vans too
        extra = grid(base, {**axes, "fleet.hubs.0.vehicles.van": list(range(2, 2 + count))})
        points = extra
    return points[:count]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the table; write ``--json``."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.simulation", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--orders", type=int, default=2000, help="orders of the simulated day")
    parser.add_argument("--agents", type=int, default=100, help="vehicles and couriers")
    parser.add_argument("--sweep-scenarios", type=int, default=12, help="points of the sweep")
    parser.add_argument("--replications", type=int, default=3, help="replications per point")
    parser.add_argument("--workers", type=int, default=2, help="local processes of the sweep")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args(argv)
    if args.orders < 1 or args.agents < 2 or args.sweep_scenarios < 1 or args.replications < 1:
        parser.error("--orders, --sweep-scenarios and --replications must be >= 1, --agents >= 2")
    if args.workers < 2:
        parser.error("--workers must be >= 2 (the sweep compares them with 1)")

    scenario = day_scenario(args.orders, args.agents)
    t0 = time.perf_counter()
    report = run(scenario)
    day_seconds = time.perf_counter() - t0
    perf = report.performance

    points = sweep_points(args.sweep_scenarios, args.replications)
    load = os.getloadavg()[0]  # other work on the machine steals the second worker's core
    with tempfile.TemporaryDirectory(prefix="lastmile-bench-sim-") as tmp:
        t0 = time.perf_counter()
        one = sweep(points, workers=1, cache_dir=Path(tmp) / "one", progress=False)
        seconds_1 = time.perf_counter() - t0
        t0 = time.perf_counter()
        many = sweep(points, workers=args.workers, cache_dir=Path(tmp) / "many", progress=False)
        seconds_n = time.perf_counter() - t0
    if one.to_csv() != many.to_csv():
        print("the sweep on several workers differs from the one on 1 worker", file=sys.stderr)
        return 1

    figures: dict[str, Any] = {
        "orders": args.orders,
        "agents": args.agents,
        "day_seconds": round(day_seconds, 2),
        "events_per_second": perf.events_per_second,
        "sweep_workers": args.workers,
        "sweep_speedup": round(seconds_1 / seconds_n, 2),
        "plan_seconds": perf.plan_seconds,
        "option_seconds": perf.option_seconds,
        "events": perf.events,
        "delivered": report.summary["delivered"].mean,
        "sweep_points": len(points),
        "sweep_replications": args.replications,
        "sweep_seconds_1": round(seconds_1, 2),
        "sweep_seconds_n": round(seconds_n, 2),
        "cpus": os.cpu_count(),
        "load_average_before_sweep": round(load, 2),
    }
    rows = [
        ("simulated day", f"{args.orders} orders, {args.agents} agents, 1 core",
         f"{day_seconds:.1f} s (planning {perf.plan_seconds:.1f} s, options "
         f"{perf.option_seconds:.1f} s)", "<= 60 s"),
        ("SimPy core", f"{perf.events} events", f"{perf.events_per_second:,.0f} events/s", ""),
        ("sweep, 1 worker", f"{len(points)} scenarios x {args.replications} replications",
         f"{seconds_1:.1f} s", ""),
        (f"sweep, {args.workers} workers", "same, fresh cache", f"{seconds_n:.1f} s", ""),
        ("speed-up", f"{args.workers} workers over 1", f"{seconds_1 / seconds_n:.2f}x",
         ">= 1.7 (2 workers)"),
        ("machine", f"{os.cpu_count()} CPUs", f"load {load:.2f} before the sweep", ""),
    ]  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    header = ("measure", "what", "figure", "target")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
    for line in (header, tuple("-" * w for w in widths), *rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


def _split(total: int, shares: dict[str, float]) -> dict[str, int]:
    """``total`` split by ``shares`` (largest remainders), each type at least 0."""
    raw = {t: total * s for t, s in shares.items()}
    counts = {t: int(v) for t, v in raw.items()}
    rest = total - sum(counts.values())
    for t in itertools.islice(sorted(raw, key=lambda t: counts[t] - raw[t]), rest):
        counts[t] += 1
    return counts


if __name__ == "__main__":
    raise SystemExit(main())
