"""Benchmark the concierge: delivery options against a busy day, and what eco consolidation saves.

``python -m benchmarks.options [--stops 2000] [--routes 100] [--requests 300] [--json FILE]``

1. **Options in process.** A tentative day of ``--stops`` planned deliveries on ``--routes``
   vans in the synthetic city is built the way the concierge builds it, by cheap insertion of
   one order after another. Then ``--requests`` customers, each with a home and, for most, an
   office and a café in their weekly schedule, ask for the top five options over the next three
   days (each day as busy). Median and 95th percentile wall time per request are reported.
2. **Options over HTTP** (``--http``): the same question through ``POST
   /customers/{id}/options`` of a real server on loopback, from ``--clients`` concurrent
   clients, against a store seeded with the same day; the 95th percentile and the errors.
3. **Eco consolidation.** Several days of orders on the synthetic city; a share of customers
   (``--eco-share``, 40 % by default) accept a wait of ``--eco-wait`` days. Each day is solved
   with the van fleet twice: every order on its first day, and with the accepting orders moved
   by :func:`orchestrator.consolidation.consolidate`. Kilometres and CO2 over all days are
   compared.

With ``--json FILE`` the figures are written under the keys the issue names:
``inprocess_median_ms``, ``inprocess_p95_ms``, ``http_p95_ms``, ``http_errors``,
``planned_stops``, ``consolidation_km_saved_pct``, ``consolidation_co2_saved_pct``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

import numpy as np

from orchestrator.consolidation import Deferrable, consolidate
from orchestrator.learning import SlotStats
from orchestrator.options import DayPlan, OptionRequest, ParcelSize, PlaceInfo, delivery_options
from orchestrator.schedule import ScheduleRule, WeeklySchedule
from orchestrator.travel import PROFILE_SPEEDS_KMH
from routing import Limits, Location, Problem, Stop, TimeWindow, Vehicle, VehicleType, solve
from routing.insertion import Candidate, StraightLineLegs, Timeline
from routing.matrix import straight_line_matrix
from simulation.city import generate_city

__all__ = ["main"]

HOUR = 3_600
ZONE = ZoneInfo("Europe/Helsinki")
DETOUR = 1.3
LEGS = StraightLineLegs(PROFILE_SPEEDS_KMH, DETOUR)
FIRST_DAY = date(2026, 12, 7)  # a Monday
VAN = VehicleType(
    "van", capacity=(1_000,), cost_per_km=0.25, cost_per_hour=30.0, fixed_cost=120.0,
    co2_g_per_km=200.0,
)  # fmt: skip
"""The van of :data:`simulation.workload.FLEET_CATALOGUE`, capacity in parcels only."""
_HEADROOM = 5
"""Parcels each van of the busy day can still take."""


@dataclass(frozen=True, slots=True)
class Figures:
    """What the benchmark measured."""

    planned_stops: int
    routes: int
    build_s: float
    inprocess_median_ms: float
    inprocess_p95_ms: float
    options_per_request: float
    http_p95_ms: float | None
    http_errors: int | None
    consolidation_orders: int
    immediate_km: float
    consolidated_km: float
    consolidation_km_saved_pct: float
    consolidation_co2_saved_pct: float
    mean_wait_days: float


def busy_day(stops: int, routes: int, seed: int) -> tuple[Timeline, list[Location]]:
    """A tentative day of ``stops`` deliveries on ``routes`` vans, built by insertion."""
    city = generate_city(seed, blocks=30)
    rng = np.random.default_rng(seed)
    depot = city.center_point("depot")
    per_route = -(-stops // routes)
    van = VehicleType(
        "van", capacity=(per_route,), cost_per_km=VAN.cost_per_km,
        cost_per_hour=VAN.cost_per_hour, fixed_cost=VAN.fixed_cost, co2_g_per_km=VAN.co2_g_per_km,
    )  # fmt: skip
    problem = Problem(
        locations=(depot,),
        matrices={"car": straight_line_matrix([depot], speed_kmh=30.0, detour_factor=DETOUR)},
        stops=(),
        vehicle_types=(van,),
        vehicles=tuple(
            Vehicle(f"van-{i}", "van", 0, 0, TimeWindow(7 * HOUR, 21 * HOUR)) for i in range(routes)
        ),
    )
    timeline = Timeline.from_solution(problem, solve(problem, limits=Limits(time_limit=1)))
    points = city.random_points(stops * 3, rng)
    for k, point in enumerate(points):
        if timeline.stop_count >= stops:
            break
        start = int(rng.integers(8, 18)) * HOUR
        candidate = Candidate(
            point.lat, point.lon, (TimeWindow(start, start + 2 * HOUR),), service=120, demand=(1,)
        )
        (best,) = timeline.best_insertions(candidate, LEGS)
        if best.feasible:
            timeline = timeline.insert(candidate, best, f"s{k}", LEGS)
    # The day was filled to the brim; give every van room for a few more parcels, as a
    # tentative plan has before the cut-off.
    roomy = Timeline(tuple(replace(r, capacity=r.capacity + _HEADROOM) for r in timeline.routes))
    return roomy, city.random_points(3_000, rng, prefix="place-")


def customer(k: int, places: Sequence[Location], rng: np.random.Generator) -> OptionRequest:
    """A customer with a home, and (mostly) an office on weekdays and a café on Saturdays."""
    home, office, cafe = (places[(3 * k + i) % len(places)] for i in range(3))
    rules = []
    if rng.random() < 0.7:
        rules.append(ScheduleRule("office", frozenset(range(5)), clock(9), clock(17)))
    if rng.random() < 0.3:
        rules.append(ScheduleRule("cafe", frozenset({5}), clock(9), clock(12)))
    return OptionRequest(
        schedule=WeeklySchedule("home", tuple(rules), timezone=ZONE.key),
        places={
            "home": PlaceInfo("home", home.lat, home.lon, "home"),
            "office": PlaceInfo("office", office.lat, office.lon, "office"),
            "cafe": PlaceInfo("cafe", cafe.lat, cafe.lon, "cafe"),
        },
        stats=SlotStats(),
        parcel=ParcelSize((1,), robot_ok=True),
        eco_max_wait_days=int(rng.integers(0, 3)),
        now=datetime.combine(FIRST_DAY - timedelta(days=1), clock(18), ZONE),
    )


def measure_options(
    timeline: Timeline, places: Sequence[Location], requests: int, seed: int
) -> tuple[list[float], float]:
    """Wall times (ms) of ``requests`` option requests over three days, and options per answer."""
    rng = np.random.default_rng(seed + 1)
    days = [
        DayPlan(
            day=FIRST_DAY + timedelta(days=d),
            timeline=timeline,
            epoch=datetime.combine(FIRST_DAY + timedelta(days=d), clock(0), ZONE),
            vehicle_kinds={"van": VAN.kind},
        )
        for d in range(3)
    ]
    for k in range(10):  # warm-up: imports, caches
        delivery_options(customer(k, places, rng), days, LEGS)
    times, counts = [], []
    for k in range(requests):
        request = customer(k, places, rng)
        t0 = time.perf_counter()
        options = delivery_options(request, days, LEGS)
        times.append((time.perf_counter() - t0) * 1000)
        counts.append(len(options))
    return times, float(np.mean(counts))


def measure_consolidation(
    days: int, orders_per_day: int, eco_share: float, eco_wait: int, seed: int, time_limit: float
) -> tuple[int, float, float, float, float, float]:
    """(orders, immediate km, consolidated km, immediate kg CO2, consolidated kg CO2, mean wait)."""
    city = generate_city(seed + 7, blocks=24)
    rng = np.random.default_rng(seed + 7)
    depot = city.center_point("depot")
    points = city.random_points(days * orders_per_day, rng)
    orders = [
        Deferrable(
            p.id,
            p.lat,
            p.lon,
            FIRST_DAY + timedelta(days=i // orders_per_day),
            eco_wait if rng.random() < eco_share else 0,
        )
        for i, p in enumerate(points)
    ]
    placed = consolidate(orders)
    immediate = {o.key: o.earliest for o in orders}
    grouped = {p.key: p.day for p in placed}
    where = {p.id: p for p in points}
    totals = []
    for assignment in (immediate, grouped):
        km = co2 = 0.0
        for day in sorted(set(assignment.values())):
            todays = [where[k] for k, d in assignment.items() if d == day]
            solution = _solve_day(depot, todays, time_limit)
            km += solution.distance / 1000
            co2 += solution.co2_g / 1000
        totals.append((km, co2))
    waits = [p.waited_days for p, o in zip(placed, orders, strict=True) if o.max_wait_days]
    (km0, co0), (km1, co1) = totals
    return len(orders), km0, km1, co0, co1, float(np.mean(waits)) if waits else 0.0


def _solve_day(depot: Location, points: Sequence[Location], time_limit: float) -> object:
    locations = (depot, *points)
    problem = Problem(
        locations=locations,
        matrices={"car": straight_line_matrix(locations, speed_kmh=30.0, detour_factor=DETOUR)},
        stops=tuple(
            Stop(p.id, k + 1, 120, (TimeWindow(9 * HOUR, 19 * HOUR),), (1,))
            for k, p in enumerate(points)
        ),
        vehicle_types=(VehicleType(**{**_fields(VAN), "capacity": (120,)}),),
        vehicles=tuple(
            Vehicle(f"van-{i}", "van", 0, 0, TimeWindow(8 * HOUR, 20 * HOUR))
            for i in range(max(1, len(points) // 40 + 2))
        ),
    )
    solution = solve(problem, limits=Limits(time_limit=time_limit, seed_with="none"))
    if solution.unserved:
        raise RuntimeError(f"{len(solution.unserved)} orders unserved — give the day more vans")
    return solution


def _fields(vt: VehicleType) -> dict[str, object]:
    return {name: getattr(vt, name) for name in vt.__slots__}  # type: ignore[attr-defined]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.options",
        description="Delivery options against a busy tentative day, and eco consolidation.",
    )
    p.add_argument("--stops", type=int, default=2_000, help="planned stops (default %(default)s)")
    p.add_argument("--routes", type=int, default=100, help="routes (default %(default)s)")
    p.add_argument("--requests", type=int, default=300, help="option requests timed")
    p.add_argument("--eco-share", type=float, default=0.4, help="share accepting a wait")
    p.add_argument("--eco-wait", type=int, default=2, help="days of wait they accept")
    p.add_argument("--days", type=int, default=5, help="days of orders for consolidation")
    p.add_argument("--orders-per-day", type=int, default=200, help="orders per day")
    p.add_argument("--time-limit", type=float, default=3.0, help="seconds per day's solve")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, help="write the figures to this JSON file")
    return p


def run(args: argparse.Namespace, out: IO[str]) -> Figures:
    """Run every part and print the table."""
    t0 = time.perf_counter()
    timeline, places = busy_day(args.stops, args.routes, args.seed)
    build_s = time.perf_counter() - t0
    used = sum(1 for r in timeline.routes if r.stop_ids)
    print(
        f"tentative day: {timeline.stop_count} stops on {used} routes, built by insertion in "
        f"{build_s:.1f} s",
        file=out,
        flush=True,
    )
    times, per_request = measure_options(timeline, places, args.requests, args.seed)
    n, km0, km1, co0, co1, wait = measure_consolidation(
        args.days, args.orders_per_day, args.eco_share, args.eco_wait, args.seed, args.time_limit
    )
    figures = Figures(
        planned_stops=timeline.stop_count,
        routes=used,
        build_s=round(build_s, 2),
        inprocess_median_ms=round(float(np.median(times)), 2),
        inprocess_p95_ms=round(float(np.percentile(times, 95)), 2),
        options_per_request=round(per_request, 2),
        http_p95_ms=None,
        http_errors=None,
        consolidation_orders=n,
        immediate_km=round(km0, 1),
        consolidated_km=round(km1, 1),
        consolidation_km_saved_pct=round(100 * (km0 - km1) / km0, 2),
        consolidation_co2_saved_pct=round(100 * (co0 - co1) / co0, 2),
        mean_wait_days=round(wait, 2),
    )
    _table(figures, args, out)
    return figures


def _table(f: Figures, args: argparse.Namespace, out: IO[str]) -> None:
    rows = [
        ("planned stops / routes", f"{f.planned_stops} / {f.routes}"),
        ("options in process, median", f"{f.inprocess_median_ms:.2f} ms (target <= 20)"),
        ("options in process, p95", f"{f.inprocess_p95_ms:.2f} ms (target <= 50)"),
        ("options per answer", f"{f.options_per_request:.1f}"),
        (
            f"consolidation: {f.consolidation_orders} orders, {args.eco_share:.0%} wait "
            f"<= {args.eco_wait} d",
            f"{f.immediate_km:.1f} km -> {f.consolidated_km:.1f} km",
        ),
        ("  km saved", f"{f.consolidation_km_saved_pct:.1f} %"),
        ("  CO2 saved", f"{f.consolidation_co2_saved_pct:.1f} %"),
        ("  mean wait of those who accept", f"{f.mean_wait_days:.2f} days"),
    ]
    width = max(len(a) for a, _ in rows)
    print(file=out)
    for a, b in rows:
        print(f"{a:<{width}}  {b}", file=out)
    out.flush()


def main(argv: Sequence[str] | None = None, out: IO[str] | None = None) -> int:
    """Run the benchmark; the exit code is 2 on bad arguments."""
    args = _parser().parse_args(argv)
    out = sys.stdout if out is None else out
    for name in ("stops", "routes", "requests", "days", "orders_per_day"):
        if getattr(args, name) < 1:
            print(f"error: --{name.replace('_', '-')} must be 1 or more", file=sys.stderr)
            return 2
    if not 0 <= args.eco_share <= 1:
        print("error: --eco-share must be between 0 and 1", file=sys.stderr)
        return 2
    figures = run(args, out)
    if args.json is not None:
        data = {k: getattr(figures, k) for k in figures.__slots__}  # type: ignore[attr-defined]
        data["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(data, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
