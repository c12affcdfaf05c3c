"""Heavy requests against a real server: a 5,000-job VROOM problem, and many clients at once.

Both run ``lastmile serve`` as a child process on a loopback port over a SQLite file seeded
here (a depot in Helsinki with a van fleet, customers with homes, open orders for tomorrow),
as a deployment would, and watch it from outside:

* :func:`vroom_big` — ``POST /solve/vroom?time_limit=5`` with 5,000 jobs and 50 vans: the
  seconds until an answer (a plan, or a limit error) and the peak resident memory of the server
  and all its children (MB), sampled every 0.1 s;
* :func:`mixed_load` — 32 clients for 60 s, each looping over reads (``GET /orders``,
  ``GET /orders/{id}``), writes (``POST /orders``) and the concierge (``GET`` then ``POST
  /orders/{id}/options``) while ``lastmile import`` registers 10,000 rows: answers other than
  the documented ones (2xx, 404, 409, 429, 503) are errors; latencies give the p95 (ms).
"""

from __future__ import annotations

import csv
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import httpx2 as httpx
import numpy as np
import psutil
from sqlmodel import Session

from benchmarks.loopback import free_port
from orchestrator.access.keys import create_api_key
from orchestrator.intake.catalog import (
    add_fleet,
    add_place,
    create_customer,
    create_depot,
    create_vehicle_type,
)
from orchestrator.intake.orders import register_order
from orchestrator.store import create_engine, ensure_schema

__all__ = ["LoadResult", "VroomResult", "mixed_load", "seed_depot", "served", "vroom_big"]

CENTRE = (60.1699, 24.9384)
"""Helsinki's centre (lat, lon): the depot, and the middle of every generated point."""
STARTUP_S = 60.0
OK_STATUSES = frozenset({404, 409, 429, 503})
"""Non-2xx answers the API documents for a busy or contested moment, not errors."""


@dataclass(frozen=True)
class Served:
    """A running server: its base URL, process, and a planner's and customers' keys."""

    url: str
    process: subprocess.Popen[bytes]
    planner: str
    customers: tuple[tuple[str, int, int], ...]
    """(key, customer id, one of their order ids) per customer."""
    day: date
    store: Path


@dataclass
class VroomResult:
    """What the 5,000-job problem met."""

    status: int | None
    seconds: float
    peak_rss_mb: float
    detail: str = ""


@dataclass
class LoadResult:
    """What the clients met."""

    requests: int = 0
    errors: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    p95_ms: float = 0.0
    import_seconds: float = 0.0
    import_exit: int | None = None
    error_samples: list[str] = field(default_factory=list)


def seed_depot(session: Session, *, vans: int, shift_end_s: int) -> int:
    """Depot ``HEL1`` at :data:`CENTRE` (Europe/Helsinki) with one fleet of ``vans`` vans
    (120 parcels, 0.50 EUR/km, 30 EUR/h) on shift from 08:00 to ``shift_end_s`` (seconds since
    local midnight); its id."""
    depot = create_depot(
        session,
        {"code": "HEL1", "name": "Helsinki", "lat": CENTRE[0], "lon": CENTRE[1],
         "timezone": "Europe/Helsinki"},
    )  # fmt: skip
    van = create_vehicle_type(
        session,
        {"name": "van", "capacity_weight_g": 800_000, "capacity_volume_ml": 10_000_000,
         "capacity_parcels": 120, "cost_per_km": 0.5, "cost_per_hour": 30.0},
    )  # fmt: skip
    assert depot.id is not None and van.id is not None
    add_fleet(
        session,
        {"depot_id": depot.id, "vehicle_type_id": van.id, "count": vans,
         "shift_start_s": 8 * 3_600, "shift_end_s": shift_end_s},
    )  # fmt: skip
    return depot.id


def _seed(store: Path, customers: int, day: date) -> tuple[str, list[tuple[str, int, int]]]:
    """The store's world; a planner's key and (key, customer id, order id) per customer."""
    engine = create_engine(f"sqlite:///{store}")
    ensure_schema(engine)
    rng = random.Random(0)
    with Session(engine) as session:
        depot_id = seed_depot(session, vans=8, shift_end_s=20 * 3_600)
        out = []
        for k in range(customers):
            customer = create_customer(session, {"name": f"Customer {k}"})
            assert customer.id is not None
            lat = CENTRE[0] + rng.uniform(-0.02, 0.02)
            lon = CENTRE[1] + rng.uniform(-0.04, 0.04)
            add_place(
                session, customer.id, {"kind": "home", "name": "home", "lat": lat, "lon": lon}
            )
            order = register_order(
                session,
                {"customer_id": customer.id, "depot_id": depot_id,
                 "service_day": day.isoformat(),
                 "items": [{"weight_g": 2_000, "volume_ml": 5_000, "parcels": 1}]},
                f"load-{k}",
            )  # fmt: skip
            assert order.id is not None
            out.append((create_api_key(session, "customer", customer.id), customer.id, order.id))
        planner = create_api_key(session, "planner")
    engine.dispose()
    return planner, out


@contextmanager
def served(folder: Path, *, customers: int = 32) -> Iterator[Served]:
    """``lastmile serve`` over a seeded SQLite file in ``folder``; stopped afterwards."""
    store = folder / "stress.db"
    day = date.today() + timedelta(days=1)
    planner, keys = _seed(store, customers, day)
    port = free_port()
    env = {**os.environ, "LASTMILE_DATABASE_URL": f"sqlite:///{store}"}
    command = [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port",
               str(port), "--log-level", "warning"]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start within {STARTUP_S:g} s")
            time.sleep(0.2)
        yield Served(url, process, planner, tuple(keys), day, store)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, MB."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            continue
    return total / 1e6


def vroom_problem(jobs: int = 5_000, vehicles: int = 50, seed: int = 0) -> dict[str, object]:
    """A VROOM problem of ``jobs`` deliveries around Helsinki for ``vehicles`` vans."""
    rng = np.random.default_rng(seed)
    lat = CENTRE[0] + rng.uniform(-0.05, 0.05, jobs)
    lon = CENTRE[1] + rng.uniform(-0.1, 0.1, jobs)
    return {
        "vehicles": [
            {
                "id": v + 1,
                "profile": "car",
                "start": [CENTRE[1], CENTRE[0]],
                "end": [CENTRE[1], CENTRE[0]],
                "capacity": [120],
                "time_window": [28_800, 72_000],
            }
            for v in range(vehicles)
        ],
        "jobs": [
            {
                "id": j + 1,
                "location": [float(lon[j]), float(lat[j])],
                "delivery": [1],
                "service": 120,
            }
            for j in range(jobs)
        ],
    }


def vroom_big(server: Served, *, time_limit: float = 5.0, timeout: float = 120.0) -> VroomResult:
    """Post the 5,000-job problem and watch the server's memory until it answers."""
    body = vroom_problem()
    peak = [_tree_rss_mb(server.process.pid)]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss_mb(server.process.pid))
            time.sleep(0.1)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    started = time.perf_counter()
    status: int | None = None
    detail = ""
    try:
        response = httpx.post(
            f"{server.url}/solve/vroom",
            params={"time_limit": time_limit},
            json=body,
            headers={"Authorization": f"Bearer {server.planner}"},
            timeout=timeout,
        )
        status, detail = response.status_code, response.text[:300]
    except httpx.HTTPError as exc:
        detail = repr(exc)
    seconds = time.perf_counter() - started
    done.set()
    watcher.join()
    return VroomResult(status, seconds, peak[0], detail)


def _import_file(path: Path, rows: int, day: date) -> None:
    """An orders CSV of ``rows`` one-item orders for new customers at points around the centre."""
    rng = random.Random(1)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["order_key", "depot", "service_day", "customer_email", "customer_name",
                         "lat", "lon", "weight_g", "volume_ml", "parcels"])  # fmt: skip
        for k in range(rows):
            writer.writerow([
                f"imp-{k}", "HEL1", day.isoformat(), f"imp{k % 2_000}@example.org",
                f"Imported {k % 2_000}", f"{CENTRE[0] + rng.uniform(-0.03, 0.03):.6f}",
                f"{CENTRE[1] + rng.uniform(-0.06, 0.06):.6f}", 1_500, 4_000, 1,
            ])  # fmt: skip


def mixed_load(
    server: Served, *, clients: int = 32, seconds: float = 60.0, import_rows: int = 10_000
) -> LoadResult:
    """``clients`` threads for ``seconds`` against the server while an import runs."""
    result = LoadResult()
    lock = threading.Lock()
    latencies: list[float] = []
    csv_path = server.store.parent / "import.csv"
    _import_file(csv_path, import_rows, server.day)
    env = {**os.environ, "LASTMILE_DATABASE_URL": f"sqlite:///{server.store}"}
    started = time.monotonic()
    importer = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "import", str(csv_path)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    stop_at = time.monotonic() + seconds

    def client(n: int) -> None:
        rng = random.Random(n)
        key, _, order_id = server.customers[n % len(server.customers)]
        staff = {"Authorization": f"Bearer {server.planner}"}
        mine = {"Authorization": f"Bearer {key}"}
        k = 0
        with httpx.Client(base_url=server.url, timeout=30) as http:
            while time.monotonic() < stop_at:
                k += 1
                roll = rng.random()
                t0 = time.perf_counter()
                try:
                    if roll < 0.3:
                        response = http.get("/orders", params={"limit": 50}, headers=staff)
                    elif roll < 0.5:
                        response = http.get(f"/orders/{order_id}", headers=mine)
                    elif roll < 0.7:
                        _, customer_id, _ = server.customers[n % len(server.customers)]
                        order = {
                            "customer_id": customer_id,
                            "depot_id": 1,
                            "service_day": server.day.isoformat(),
                            "items": [{"weight_g": 900, "volume_ml": 2_000, "parcels": 1}],
                        }
                        write = {**staff, "Idempotency-Key": f"c{n}-{k}"}
                        response = http.post("/orders", json=order, headers=write)
                    else:
                        response = http.get(f"/orders/{order_id}/options", headers=mine)
                        offered = response.json().get("options") if response.is_success else None
                        if offered and roll > 0.9:
                            best = offered[0]
                            fields = ("place_id", "service_level", "window_start", "window_end")
                            choice = {name: best[name] for name in fields}
                            response = http.post(
                                f"/orders/{order_id}/options", json=choice, headers=mine
                            )
                    status = response.status_code
                    text = response.text[:200]
                except httpx.HTTPError as exc:
                    status, text = 0, repr(exc)
                elapsed = (time.perf_counter() - t0) * 1_000
                with lock:
                    result.requests += 1
                    result.by_status[status] = result.by_status.get(status, 0) + 1
                    latencies.append(elapsed)
                    if not (200 <= status < 300 or status in OK_STATUSES):
                        result.errors += 1
                        if len(result.error_samples) < 10:
                            result.error_samples.append(f"{status} {text}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.import_exit = importer.wait(timeout=600)
    result.import_seconds = time.monotonic() - started
    if latencies:
        result.p95_ms = float(np.percentile(latencies, 95))
    return result
