"""The solver cannot take the host down: deadlines, a memory cap, cancellation, no orphans.

Issue #13: ``POST /solve/vroom`` with 5,000 jobs at ``time_limit=5`` had no answer after 200 s
while its worker grew to 13.7 GB; closing the client did not stop it; a killed server left its
workers running. These run real worker processes (:class:`api.runtime.jobs.SolverPool`) and a
real server on a loopback port.
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from sqlmodel import Session

from api.app import create_app
from api.routes.vroom import deadline
from api.runtime.jobs import SolverPool, SolverUnavailable
from benchmarks.loopback import serve_in_thread
from orchestrator.access.keys import create_api_key
from orchestrator.settings import Settings
from orchestrator.vroom import solve_vroom
from routing import Limits

ROOT = Path(__file__).resolve().parents[2]


def _problem(jobs: int, vehicles: int, seed: int = 1) -> dict[str, Any]:
    """``jobs`` deliveries around central Helsinki for ``vehicles`` vans (VROOM's format)."""
    rng = random.Random(seed)
    return {
        "vehicles": [
            {
                "id": v + 1,
                "start": [24.94, 60.17],
                "end": [24.94, 60.17],
                "capacity": [200],
                "time_window": [28_800, 64_800],
            }
            for v in range(vehicles)
        ],
        "jobs": [
            {
                "id": j + 1,
                "location": [24.9 + rng.random() * 0.2, 60.15 + rng.random() * 0.1],
                "service": 300,
                "delivery": [1],
            }
            for j in range(jobs)
        ],
    }


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def _gone_within(pids: list[int], seconds: float) -> bool:
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        if not any(_alive(pid) for pid in pids):
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def big_problems(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server takes problems of 10,000 tasks (its default refuses 5,000 before solving);
    the solver workers, started later, read the same environment."""
    monkeypatch.setenv("LASTMILE_MAX_VROOM_TASKS", "10000")


@pytest.fixture
def pool() -> Iterator[SolverPool]:
    """A one-worker pool with a small memory cap, stopped afterwards."""
    solver = SolverPool(1, memory_mb=1000)
    yield solver
    solver.shutdown(cancel_running=True)


def _started(pool: SolverPool, future: Future[Any]) -> list[int]:
    """The worker pids once ``future``'s call runs."""
    ends = time.monotonic() + 30
    while pool.running == 0 and not future.done():
        assert time.monotonic() < ends, "the solve did not start"
        time.sleep(0.05)
    return pool.pids()


def test_a_call_past_its_deadline_is_stopped(pool: SolverPool) -> None:
    future = pool.submit(time.sleep, 60, deadline_s=1.0)
    pids = _started(pool, future)
    t0 = time.monotonic()
    exc = future.exception(timeout=10)
    assert isinstance(exc, SolverUnavailable), exc
    assert time.monotonic() - t0 < 1.0 + 1.0
    assert "did not finish within 1 s" in exc.detail and exc.retry_after >= 1
    assert _gone_within(pids, 2)
    assert pool.submit(len, "abc").result(timeout=30) == 3  # a fresh worker takes the next


def test_a_call_over_the_memory_cap_fails_and_the_worker_is_replaced(pool: SolverPool) -> None:
    future = pool.submit(bytearray, 3 * 2**30)  # 3 GB, over the pool's 1,000 MB
    exc = future.exception(timeout=30)
    assert isinstance(exc, SolverUnavailable), exc
    assert "1000 MB" in exc.detail
    assert pool.submit(len, "abcd").result(timeout=30) == 4


@pytest.mark.usefixtures("big_problems")
def test_matrices_that_cannot_fit_are_refused_before_they_are_built(
    pool: SolverPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With the size limits raised (they refuse 5,000 jobs with a 422 first), memory is the
    # backstop; the worker, spawned on the first call, inherits the environment.
    monkeypatch.setenv("LASTMILE_MAX_VROOM_TASKS", "100000")
    future = pool.submit(solve_vroom, _problem(5000, 50), Limits(time_limit=5))
    _started(pool, future)
    t0 = time.monotonic()
    exc = future.exception(timeout=30)
    assert isinstance(exc, SolverUnavailable), exc
    assert "memory" in exc.detail
    assert time.monotonic() - t0 < 1.0  # refused, not found out by running out


def test_shutdown_stops_a_running_call() -> None:
    solver = SolverPool(1)
    future = solver.submit(time.sleep, 60)
    pids = _started(solver, future)
    t0 = time.monotonic()
    solver.shutdown(cancel_running=True)
    assert time.monotonic() - t0 < 3
    assert isinstance(future.exception(timeout=1), SolverUnavailable)
    assert _gone_within(pids, 2)


def test_a_full_queue_is_refused_at_once() -> None:
    solver = SolverPool(1, max_waiting=1)
    try:
        running = solver.submit(time.sleep, 60)
        _started(solver, running)
        solver.submit(time.sleep, 0)  # waits its turn
        with pytest.raises(SolverUnavailable, match="busy"):
            solver.submit(time.sleep, 0)
    finally:
        solver.shutdown(cancel_running=True)


_ORPHAN_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from api.runtime.jobs import SolverPool
    if __name__ == "__main__":
        pool = SolverPool(1)
        pool.submit(time.sleep, 120)
        while not pool.pids() or not pool.running:
            time.sleep(0.05)
        print(pool.pids()[0], flush=True)
        time.sleep(120)
    """
)


_SIMULATION_SCRIPT = textwrap.dedent(
    """
    import multiprocessing, os, time
    from api.runtime.jobs import _orphan_safe
    if __name__ == "__main__":
        run = multiprocessing.get_context("spawn").Process(
            target=_orphan_safe, args=(time.sleep, os.getpid(), 120), daemon=True
        )
        run.start()
        print(run.pid, flush=True)
        time.sleep(120)
    """
)


# A solver worker, and a simulation run as SimulationJobs starts it.
@pytest.mark.parametrize("server_script", [_ORPHAN_SCRIPT, _SIMULATION_SCRIPT])
def test_workers_die_with_a_server_killed_by_sigkill(tmp_path: Path, server_script: str) -> None:
    script = tmp_path / "server.py"
    script.write_text(server_script)
    with subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    ) as server:
        try:
            assert server.stdout is not None
            worker = int(server.stdout.readline())
            assert _alive(worker)
            server.kill()  # SIGKILL: no clean-up runs in the server
            server.wait(timeout=10)
            # A worker killed before it armed PR_SET_PDEATHSIG (after its imports: seconds on a
            # loaded machine) ends on its own parent check once armed; one outliving its server
            # would sleep its 120 s.
            assert _gone_within([worker], 30), f"solver worker {worker} outlived its server"
        finally:
            if server.poll() is None:
                server.kill()


# -- through a real server ----------------------------------------------------------------


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str, FastAPI]]:
    """The app on a loopback port: base URL, a planner's key, the app."""
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'solver.db'}"))
    with serve_in_thread(app) as url:
        with Session(app.state.engine) as session:
            key = create_api_key(session, "planner")
        yield url, key, app


@pytest.mark.usefixtures("big_problems")
def test_the_5000_job_problem_answers_within_10_s(served: tuple[str, str, FastAPI]) -> None:
    url, key, app = served
    t0 = time.monotonic()
    response = httpx.post(
        f"{url}/solve/vroom",
        params={"time_limit": 5},
        json=_problem(5000, 50),
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
    )
    seconds = time.monotonic() - t0
    assert response.status_code in (200, 503), response.text[:300]
    if response.status_code == 503:
        assert int(response.headers["Retry-After"]) >= 1
    assert seconds < deadline(5) + 1.0, f"answered after {seconds:.1f} s"
    # The solve is given up with the answer; the pool's bookkeeping (a killed worker reaped on
    # its own thread) may trail the answer by a moment on a loaded machine, never for seconds.
    freed_by = time.monotonic() + 5.0
    while app.state.solver.running and time.monotonic() < freed_by:
        time.sleep(0.05)
    assert app.state.solver.running == 0


def test_a_client_that_goes_away_stops_its_solve(served: tuple[str, str, FastAPI]) -> None:
    url, key, app = served
    host, port = url.removeprefix("http://").split(":")
    body = json.dumps(_problem(300, 5)).encode()
    request = (
        f"POST /solve/vroom?time_limit=40 HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    solver: SolverPool = app.state.solver
    with socket.create_connection((host, int(port))) as client:
        client.sendall(request)
        ends = time.monotonic() + 30
        while solver.running == 0:
            assert time.monotonic() < ends, "the solve did not start"
            time.sleep(0.05)
        pids = solver.pids()
    t0 = time.monotonic()  # the client has closed its connection
    while solver.running:
        assert time.monotonic() - t0 < 3, "the solve went on after its client left"
        time.sleep(0.05)
    assert _gone_within(pids, 2)
