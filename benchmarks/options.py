"""Benchmark the concierge: delivery options against a busy day, and what eco consolidation saves.

``python -m benchmarks.options [--stops 2000] [--routes 100] [--requests 300] [--no-http]
[--clients 32] [--per-client 40] [--workers 2] [--think-ms 0] [--json FILE]``

1. **Options in process.** A tentative day of ``--stops`` planned deliveries on ``--routes``
   vans in the synthetic city is built the way the concierge builds it, by cheap insertion of
   one order after another. Then ``--requests`` customers, each with a home and, for most, an
   office and a café in their weekly schedule, ask for the top five options over the next three
   days (each day as busy). Median and 95th percentile wall time per request are reported.
2. **Options over HTTP** (on by default; ``--no-http`` skips it): a temporary SQLite store is
   seeded with a depot, the van fleet and the same busy day *as the current plan* of each of
   the three days (2,000 orders with their places, windows, routes and stops with ETAs), and
   ``--clients`` customers with a home, an office and a café, a weekly schedule, a customer
   key and ``--per-client`` open orders each. A real server (``lastmile serve --workers``,
   2 processes by default, each listening on the port, in a subprocess) serves the app on a
   free loopback port. ``--clients`` threads each open a kept-alive connection and ask once
   (the worker behind it builds the days' timelines from the store then), then, all at once,
   ask ``GET /orders/{id}/options?days=3&k=5`` for each of their orders, one after the other:
   a closed loop of ``--clients`` concurrent requests (``--think-ms`` adds exponential pauses
   of that mean between a client's requests, a person reading the answer, and spreads the
   clients' starts). The 95th percentile wall time, the median, the throughput and the
   errors (any answer but 200) are reported. The server does all of each answer's work (no
   answer is cached): in a closed loop the latency is the number of clients over the
   throughput, and the load generator shares the machine's cores with the server.
3. **Eco consolidation.** Several days of orders on the synthetic city; a share of customers
   (``--eco-share``, 40 % by default) accept a wait of ``--eco-wait`` days. Each day is solved
   with the van fleet twice: every order on its first day, and with the accepting orders moved
   by :func:`orchestrator.concierge.consolidation.consolidate`. Kilometres and CO2 over all days are
   compared.

With ``--json FILE`` the figures are written under the keys the issue names:
``inprocess_median_ms``, ``inprocess_p95_ms``, ``http_p95_ms``, ``http_errors``,
``planned_stops``, ``consolidation_km_saved_pct``, ``consolidation_co2_saved_pct``.
"""

from __future__ import annotations

import argparse
import gc
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

import numpy as np
from sqlmodel import Session

from orchestrator.access.keys import create_api_key
from orchestrator.concierge.consolidation import Deferrable, consolidate
from orchestrator.concierge.learning import SlotStats
from orchestrator.concierge.options import (
    DayPlan,
    OptionRequest,
    ParcelSize,
    PlaceInfo,
    delivery_options,
)
from orchestrator.concierge.profiles import put_profile
from orchestrator.concierge.schedule import ScheduleRule, WeeklySchedule
from orchestrator.intake.catalog import (
    add_fleet,
    add_place,
    create_customer,
    create_depot,
    create_vehicle_type,
)
from orchestrator.models import (
    Order,
    OrderItem,
    OrderStatus,
    Place,
    PlaceKind,
    Plan,
    PlanKind,
    PlanStatus,
    Route,
    RouteStop,
    StopStatus,
)
from orchestrator.planning.problem import local_midnight
from orchestrator.planning.travel import PROFILE_SPEEDS_KMH
from orchestrator.store.engine import create_engine, ensure_schema
from routing import Limits, Location, Problem, Stop, TimeWindow, Vehicle, VehicleType, solve
from routing.insertion import Candidate, StraightLineLegs, Timeline
from routing.matrix import straight_line_matrix
from simulation.cities.synthetic import generate_city

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
    http_median_ms: float | None
    http_requests: int | None
    http_rps: float | None
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


# -- options over HTTP ------------------------------------------------------------------------

_PARCEL_G, _PARCEL_ML = 1_000, 3_000
"""Weight and volume of each planned parcel, grams and millilitres."""
_SERVER_CODE = """
import sys
from api.runtime.serve import serve
sys.exit(serve("127.0.0.1", int(sys.argv[1]), workers=int(sys.argv[2]), log_level="warning"))
"""


@dataclass(frozen=True, slots=True)
class Seeded:
    """What :func:`seed_store` made: each client's key and the orders it asks about."""

    first_day: date
    clients: tuple[tuple[str, tuple[int, ...]], ...]
    stops_per_day: int


def seed_store(
    url: str,
    timeline: Timeline,
    places: Sequence[Location],
    *,
    first_day: date,
    days: int,
    clients: int,
    per_client: int,
    seed: int,
) -> Seeded:
    """A store whose ``days`` days from ``first_day`` each have ``timeline`` as current plan,
    and ``clients`` customers with a schedule, a key and ``per_client`` open orders."""
    engine = create_engine(url)
    ensure_schema(engine)
    rng = np.random.default_rng(seed + 3)
    depot_lat, depot_lon = float(timeline.routes[0].lats[0]), float(timeline.routes[0].lons[0])
    capacity = int(max(int(r.capacity[0]) for r in timeline.routes))
    with Session(engine) as s:
        depot = create_depot(
            s,
            {
                "code": "BENCH",
                "name": "bench",
                "lat": depot_lat,
                "lon": depot_lon,
                "timezone": ZONE.key,
            },
        )
        van = create_vehicle_type(
            s,
            {
                "name": "van",
                "kind": "van",
                "profile": "car",
                "capacity_weight_g": 10_000_000,
                "capacity_volume_ml": 100_000_000,
                "capacity_parcels": capacity,
                "fixed_cost": VAN.fixed_cost,
                "cost_per_km": VAN.cost_per_km,
                "cost_per_hour": VAN.cost_per_hour,
                "co2_g_per_km": VAN.co2_g_per_km,
            },
        )
        fleet = add_fleet(
            s,
            {
                "depot_id": depot.id,
                "vehicle_type_id": van.id,
                "count": len(timeline.routes),
                "shift_start_s": 7 * HOUR,
                "shift_end_s": 21 * HOUR,
            },
        )
        assert depot.id is not None and fleet.id is not None
        shop = create_customer(s, {"name": "planned recipients"})
        stop_places: dict[tuple[float, float], int] = {}
        for r in timeline.routes:
            for k in range(1, len(r.starts) - 1):
                stop_places.setdefault((float(r.lats[k]), float(r.lons[k])), 0)
        rows = [
            Place(customer_id=shop.id or 0, kind=PlaceKind.HOME, name=f"p{i}", lat=lat, lon=lon)
            for i, (lat, lon) in enumerate(stop_places)
        ]
        s.add_all(rows)
        s.flush()
        for row in rows:
            stop_places[(row.lat, row.lon)] = row.id or 0
        for d in range(days):
            _seed_plan(
                s,
                timeline,
                stop_places,
                depot.id,
                fleet.id,
                shop.id or 0,
                first_day + timedelta(days=d),
                local_midnight(depot, first_day + timedelta(days=d)),
            )
        s.commit()
        out = []
        for c in range(clients):
            request = customer(c, places, rng)
            who = create_customer(s, {"name": f"client {c}"})
            assert who.id is not None
            ids = {
                name: add_place(
                    s, who.id, {"kind": info.kind, "name": name, "lat": info.lat, "lon": info.lon}
                ).id
                for name, info in request.places.items()
            }
            put_profile(
                s,
                who.id,
                {
                    "timezone": ZONE.key,
                    "default_place_id": ids["home"],
                    "schedule": [
                        {
                            "place_id": ids[r.place],
                            "weekdays": [_DAY_NAMES[w] for w in sorted(r.weekdays)],
                            "start": r.start.isoformat(),
                            "end": r.end.isoformat(),
                        }
                        for r in request.schedule.rules
                    ],
                    "accepts_robot": True,
                    "eco_max_wait_days": request.eco_max_wait_days,
                },
            )
            orders = [
                Order(
                    customer_id=who.id,
                    depot_id=depot.id,
                    service_day=first_day,
                    idempotency_key=f"client-{c}-{k}",
                    content_hash="0" * 64,
                )
                for k in range(per_client)
            ]
            s.add_all(orders)
            s.flush()
            s.add_all(
                OrderItem(order_id=o.id or 0, weight_g=_PARCEL_G, volume_ml=_PARCEL_ML)
                for o in orders
            )
            key = create_api_key(s, "customer", who.id)  # commits
            out.append((key, tuple(o.id or 0 for o in orders)))
    engine.dispose()
    return Seeded(first_day, tuple(out), timeline.stop_count)


_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _seed_plan(
    s: Session,
    timeline: Timeline,
    place_ids: dict[tuple[float, float], int],
    depot_id: int,
    fleet_id: int,
    customer_id: int,
    day: date,
    epoch: datetime,
) -> None:
    """``timeline`` stored as the current plan of ``day``: orders, routes, stops with ETAs."""

    def at(seconds: int) -> datetime:
        return (epoch + timedelta(seconds=int(seconds))).astimezone(UTC)

    now = datetime.now(UTC)
    plan = Plan(
        depot_id=depot_id,
        service_day=day,
        status=PlanStatus.CURRENT,
        kind=PlanKind.DAY,
        created_at=now,
        started_at=now,
        finished_at=now,
        time_limit_s=0.0,
        n_routes=sum(1 for r in timeline.routes if r.stop_ids),
        n_served=timeline.stop_count,
        stats={"built_by": "insertion"},
    )
    s.add(plan)
    s.flush()
    for n, r in enumerate(timeline.routes):
        if not r.stop_ids:
            continue
        stops = len(r.starts) - 2
        orders = [
            Order(
                customer_id=customer_id,
                depot_id=depot_id,
                service_day=day,
                place_id=place_ids[(float(r.lats[k]), float(r.lons[k]))],
                window_start=at(r.earliest[k]),
                window_end=at(r.latest[k]),
                status=OrderStatus.PLANNED,
                idempotency_key=f"{day}-{r.route_id}-{k}",
                content_hash="0" * 64,
            )
            for k in range(1, stops + 1)
        ]
        s.add_all(orders)
        s.flush()
        s.add_all(
            OrderItem(order_id=o.id or 0, weight_g=_PARCEL_G, volume_ml=_PARCEL_ML) for o in orders
        )
        km = r.distance / 1000
        route = Route(
            plan_id=plan.id or 0,
            fleet_id=fleet_id,
            vehicle_id=f"van-{fleet_id}-{n + 1}",
            vehicle_type="van",
            start_at=at(r.starts[0]),
            end_at=at(r.starts[-1]),
            distance_m=r.distance,
            duration_s=r.duration,
            cost=VAN.fixed_cost + km * VAN.cost_per_km + r.duration / 3600 * VAN.cost_per_hour,
            co2_g=km * VAN.co2_g_per_km,
            load_at_start=[_PARCEL_G * stops, _PARCEL_ML * stops, stops],
        )
        s.add(route)
        s.flush()
        s.add_all(
            RouteStop(
                route_id=route.id or 0,
                order_id=o.id or 0,
                sequence=k - 1,
                status=StopStatus.PLANNED,
                arrival_at=at(r.arrivals[k]),
                service_start_at=at(r.starts[k]),
                departure_at=at(r.starts[k] + r.services[k]),
                wait_s=int(r.starts[k] - r.arrivals[k]),
                leg_distance_m=int(r.leg_distance[k]),
                load_after=[
                    _PARCEL_G * int(r.loads[k][0]),
                    _PARCEL_ML * int(r.loads[k][0]),
                    int(r.loads[k][0]),
                ],
            )
            for k, o in zip(range(1, stops + 1), orders, strict=True)
        )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(conn: http.client.HTTPConnection, path: str, key: str) -> tuple[int, bytes]:
    """GET ``path`` on a kept-alive connection. When the server has closed the connection
    while it was idle (uvicorn does after 5 s), reconnect and send again, as HTTP clients do
    for an idempotent request; any other failure is the caller's."""
    for attempt in (1, 2):
        try:
            conn.request("GET", path, headers={"Authorization": f"Bearer {key}"})
            response = conn.getresponse()
            return response.status, response.read()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            conn.close()  # the next request opens a new connection
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def measure_http(
    seeded: Seeded, url: str, *, workers: int, think_ms: float = 0.0, timeout_s: float = 120.0
) -> tuple[list[float], int, float]:
    """Serve ``url`` with uvicorn in a subprocess and load it: (latencies ms, errors, seconds).

    Each client sends its next request as soon as the last one is answered, or ``think_ms``
    later (a person reading the answer)."""
    port = _free_port()
    env = {**os.environ, "LASTMILE_DATABASE_URL": url}
    # The server's stderr goes to a file (a pipe nobody reads could fill up and stall it).
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            [sys.executable, "-c", _SERVER_CODE, str(port), str(workers)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            deadline = time.monotonic() + timeout_s
            while True:
                if server.poll() is not None:
                    log.seek(0)
                    tail = log.read().decode(errors="replace")[-2_000:]
                    raise RuntimeError(f"the server stopped: {tail}")
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"the server did not start in {timeout_s:g} s") from None
                    time.sleep(0.1)
            path = "/orders/{}/options?days=3&k=5"
            # Each client opens its connection and asks once before the clock runs (the
            # server's worker for that connection builds the days' timelines then); all start
            # timing together.
            latencies: list[float] = []
            errors = [0]
            warm: list[tuple[int, bytes]] = []
            lock = threading.Lock()
            start = threading.Barrier(len(seeded.clients) + 1)

            def client(n: int, key: str, ids: Sequence[int]) -> None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
                mine, bad = [], 0
                # People do not click in step: pauses are exponential, the starts spread.
                pause = np.random.default_rng(n).exponential(think_ms / 1000, len(ids) + 1)
                try:
                    first = _get(conn, path.format(ids[0]), key)
                except (OSError, http.client.HTTPException) as exc:
                    first = (0, str(exc).encode())
                with lock:
                    warm.append(first)
                start.wait()
                if think_ms:
                    time.sleep(float(pause[-1]))
                for order_id in ids:
                    t0 = time.perf_counter()
                    try:
                        status, _ = _get(conn, path.format(order_id), key)
                    except (OSError, http.client.HTTPException):
                        status = 0
                        conn.close()
                        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
                    mine.append((time.perf_counter() - t0) * 1000)
                    bad += status != 200
                    if think_ms:
                        time.sleep(float(pause[len(mine) - 1]))
                conn.close()
                with lock:
                    latencies.extend(mine)
                    errors[0] += bad

            threads = [
                threading.Thread(target=client, args=(n, *c), daemon=True)
                for n, c in enumerate(seeded.clients)
            ]
            # The load generator's own garbage collector would pause every client thread at
            # once (this process holds the benchmark's big days) and count as server latency.
            gc.collect()
            gc.freeze()
            gc.disable()
            try:
                for t in threads:
                    t.start()
                start.wait()
                t0 = time.perf_counter()
                for t in threads:
                    t.join()
                elapsed = time.perf_counter() - t0
            finally:
                gc.enable()
                gc.unfreeze()
            bad_warm = [(status, body[:200]) for status, body in warm if status != 200]
            if bad_warm:
                raise RuntimeError(f"warm-up failed: {bad_warm[:1]!r}")
            return latencies, errors[0], elapsed
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def run_http(
    args: argparse.Namespace, timeline: Timeline, places: Sequence[Location], out: IO[str]
) -> tuple[list[float], int, float]:
    """Seed a temporary store, serve it, load it; the store is removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="lastmile-bench-") as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        t0 = time.perf_counter()
        first = datetime.now(ZONE).date() + timedelta(days=1)
        seeded = seed_store(
            url,
            timeline,
            places,
            first_day=first,
            days=3,
            clients=args.clients,
            per_client=args.per_client,
            seed=args.seed,
        )
        print(
            f"store seeded in {time.perf_counter() - t0:.1f} s: 3 days from {first} with "
            f"{seeded.stops_per_day} planned stops each, {args.clients} customers with "
            f"{args.per_client} open orders each",
            file=out,
            flush=True,
        )
        return measure_http(seeded, url, workers=args.workers, think_ms=args.think_ms)


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
    p.add_argument("--no-http", dest="http", action="store_false",
                   help="skip the options over HTTP")  # fmt: skip
    p.add_argument("--clients", type=int, default=32, help="concurrent HTTP clients")
    p.add_argument("--per-client", type=int, default=40, help="requests per HTTP client")
    p.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    p.add_argument("--think-ms", type=float, default=0.0,
                   help="mean pause of an HTTP client between requests (default none)")  # fmt: skip
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
    http_ms: list[float] = []
    http_errors: int | None = None
    http_s = 0.0
    if args.http:
        http_ms, http_errors, http_s = run_http(args, timeline, places, out)
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
        http_p95_ms=round(float(np.percentile(http_ms, 95)), 2) if http_ms else None,
        http_errors=http_errors,
        http_median_ms=round(float(np.median(http_ms)), 2) if http_ms else None,
        http_requests=len(http_ms) if args.http else None,
        http_rps=round(len(http_ms) / http_s, 1) if http_ms and http_s > 0 else None,
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
    ]
    if f.http_requests is not None:
        rows += [
            (
                f"options over HTTP, {args.clients} clients x {args.per_client}, "
                f"{args.workers} worker{'s' if args.workers > 1 else ''}"
                + (f" (think {args.think_ms:g} ms)" if args.think_ms else "")
                + ", p95",
                f"{f.http_p95_ms:.1f} ms (target <= 100)",
            ),
            ("options over HTTP, median", f"{f.http_median_ms:.1f} ms"),
            ("options over HTTP, throughput", f"{f.http_rps:.1f} requests/s"),
            ("options over HTTP, errors", f"{f.http_errors} of {f.http_requests} (target 0)"),
        ]
    rows += [
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
    for name in ("stops", "routes", "requests", "days", "orders_per_day", "clients", "per_client",
                 "workers"):  # fmt: skip
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
