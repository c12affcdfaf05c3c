"""Simulation jobs across server processes and restarts, over real HTTP with ``lastmile
serve`` as a subprocess: any worker of ``--workers 2`` answers for a job another took, and a
server stopped in the middle of a sweep leaves it queued for the next, which finishes it
without running again the points already done.

Every request opens a fresh connection (``urllib``), so the kernel places each one on either
worker afresh.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.app import create_app
from orchestrator.access.keys import create_api_key
from orchestrator.jobs.simulations import claim_job, create_job, get_job
from orchestrator.models import Simulation, SimulationStatus
from orchestrator.settings import Settings
from orchestrator.store.engine import create_engine, ensure_schema
from tests.api.conftest import bearer
from tests.api.test_serve import STARTUP_S, free_port, lastmile
from tests.simulation.conftest import tiny_dict

REQUEST_S = 30.0
DEADLINE_S = 90.0


def fetch(url: str, *, key: str, body: object = None) -> tuple[int, bytes]:
    """One request on a new connection; the status and the raw body."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if data is None else "POST")
    request.add_header("Authorization", f"Bearer {key}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_S) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def until(what: str, check: Callable[[], Any], *, deadline_s: float = DEADLINE_S) -> Any:
    """Call ``check`` every 0.1 s until it returns something true; that value."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {deadline_s:g} s")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A SQLite file and a simulations folder in ``tmp_path``, migrated."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'served.db'}", simulations_dir=tmp_path / "sims"
    )
    engine = create_engine(settings.database_url)
    ensure_schema(engine)
    engine.dispose()
    return settings


@pytest.fixture
def analyst(settings: Settings) -> str:
    """An analyst's key in the store of ``settings``."""
    engine = create_engine(settings.database_url)
    try:
        with Session(engine) as session:
            return create_api_key(session, "analyst")
    finally:
        engine.dispose()


@contextmanager
def served(settings: Settings, log: Path, *, workers: int = 1) -> Iterator[str]:
    """``lastmile serve`` on the store and folder of ``settings``; its base URL. Stopped
    with SIGTERM (as a service manager stops it) on leaving."""
    port = free_port()
    env = {
        **os.environ,
        "LASTMILE_DATABASE_URL": settings.database_url,
        "LASTMILE_SIMULATIONS_DIR": str(settings.simulations_dir),
    }
    command = [*lastmile(), "serve", "--port", str(port), "--workers", str(workers),
               "--log-level", "warning"]  # fmt: skip
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=env, cwd=log.parent, stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}"

    def health() -> bool:
        assert process.poll() is None, log.read_text()
        try:
            return fetch(f"{base}/health", key="")[0] == 200
        except (urllib.error.URLError, ConnectionError):
            return False

    try:
        until("the server answering", health, deadline_s=STARTUP_S)
        yield base
    finally:
        process.terminate()
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
            raise
        # uvicorn alone re-raises the SIGTERM it handled; the supervisor of several exits 0.
        assert code in ((0,) if workers > 1 else (0, -signal.SIGTERM)), log.read_text()


def poll(base: str, job_id: int, key: str) -> dict[str, Any]:
    """The job, on a new connection; every answer must be 200."""
    status, body = fetch(f"{base}/simulations/{job_id}", key=key)
    assert status == 200, body
    job: dict[str, Any] = json.loads(body)
    return job


def test_any_worker_answers_for_a_job_and_serves_its_files(
    settings: Settings, analyst: str, tmp_path: Path
) -> None:
    body = {"scenario": tiny_dict(), "axes": {"policies.concierge": [True, False]}, "seed": 7}
    with served(settings, tmp_path / "serve.log", workers=2) as base:
        status, answer = fetch(f"{base}/simulations", key=analyst, body=body)
        assert status == 202, answer
        job_id = json.loads(answer)["id"]
        polls = 0

        def done() -> dict[str, Any] | None:
            nonlocal polls
            polls += 1
            job = poll(base, job_id, analyst)
            return job if job["status"] in ("succeeded", "failed") else None

        job = until(f"simulation {job_id} ending", done)
        # More polls, each on a connection of its own: both workers answer (all on one
        # worker: p = 2^-(n-1)).
        for _ in range(max(0, 12 - polls)):
            assert poll(base, job_id, analyst) == job
        assert job["status"] == "succeeded", job["error"]
        assert [k["label"] for k in job["kpis"]] == ["concierge=True", "concierge=False"]
        reports = [fetch(base + job["files"]["report.csv"], key=analyst) for _ in range(8)]
        assert {status for status, _ in reports} == {200}
        assert len({content for _, content in reports}) == 1
        assert reports[0][1].decode().startswith("label,policies.concierge,")
    row = _row(settings, job_id)
    assert row.attempts == 1  # run once, by one of the two processes
    assert (settings.simulations_dir / row.folder / "report.csv").read_bytes() == reports[0][1]


Fetch = Callable[..., tuple[int, bytes]]
"""``fetch(path, body=None)``: one request to a server as an analyst; status and body."""


@contextmanager
def subprocess_server(settings: Settings, key: str, log: Path, workers: int) -> Iterator[Fetch]:
    """``lastmile serve`` (:func:`served`) behind a :data:`Fetch`."""
    with served(settings, log, workers=workers) as base:
        yield lambda path, body=None: fetch(base + path, key=key, body=body)


@contextmanager
def app_server(settings: Settings, key: str) -> Iterator[Fetch]:
    """The app in this process, its lifespan run from start-up to shutdown, behind a
    :data:`Fetch` (the runs are processes all the same)."""
    with TestClient(create_app(settings)) as client:

        def call(path: str, body: object = None) -> tuple[int, bytes]:
            answer = (
                client.get(path, headers=bearer(key))
                if body is None
                else client.post(path, json=body, headers=bearer(key))
            )
            return answer.status_code, answer.content

        yield call


def stop_mid_sweep_and_resume(
    settings: Settings, first: Callable[[], Any], second: Callable[[], Any]
) -> None:
    """Submit a sweep on server ``first``, stop it once a point is done and before the last
    is, then see server ``second`` finish the job without running the done points again."""
    # Three points: the first quick, the other two several times longer, so the server is
    # stopped after the first and before the last.
    axes = {"policies.solver_iterations": [50, 200, 250]}
    body = {"scenario": tiny_dict(demand={"orders_per_day": 120}), "axes": axes, "seed": 7}

    def job_of(call: Fetch) -> dict[str, Any]:
        status, answer = call(f"/simulations/{job_id}")
        assert status == 200, answer
        job: dict[str, Any] = json.loads(answer)
        return job

    with first() as call:
        status, answer = call("/simulations", body)
        assert status == 202, answer
        job_id = json.loads(answer)["id"]
        until("the first point done", lambda: job_of(call)["progress"] > 0)
    # Stopped: the running job went back to the queue with the points it had finished.
    job = _row(settings, job_id)
    assert job.status is SimulationStatus.QUEUED and job.attempts == 1, job
    cache = settings.simulations_dir / job.folder / "cache"
    before = {p.name: p.stat().st_mtime_ns for p in cache.glob("*.json")}
    assert 1 <= len(before) < 3
    assert not (settings.simulations_dir / job.folder / "report.csv").exists()

    with second() as call:
        resumed = until(
            f"simulation {job_id} ending",
            lambda: (j := job_of(call))["status"] in ("succeeded", "failed") and j,
        )
        assert resumed["status"] == "succeeded", resumed["error"]
        labels = [k["label"] for k in resumed["kpis"]]
        assert labels == [f"solver_iterations={n}" for n in (50, 200, 250)]
        status, csv_bytes = call(resumed["files"]["report.csv"])
        assert status == 200 and len(csv_bytes.decode().splitlines()) == 4
    after = {p.name: p.stat().st_mtime_ns for p in cache.glob("*.json")}
    assert len(after) == 3
    assert {name: after[name] for name in before} == before  # not run again
    assert _row(settings, job_id).attempts == 2


def test_a_sweep_stopped_by_a_restart_resumes_without_running_its_done_points_again(
    settings: Settings, analyst: str
) -> None:
    server = functools.partial(app_server, settings, analyst)
    stop_mid_sweep_and_resume(settings, server, server)


@pytest.mark.slow  # two servers started and stopped: 20-60 s
def test_lastmile_serve_stopped_mid_sweep_is_resumed_by_the_next(
    settings: Settings, analyst: str, tmp_path: Path
) -> None:
    log = tmp_path / "serve.log"
    stop_mid_sweep_and_resume(
        settings,
        functools.partial(subprocess_server, settings, analyst, log, 2),
        functools.partial(subprocess_server, settings, analyst, log, 1),
    )


def test_a_job_a_killed_server_left_running_is_run_by_the_next(settings: Settings) -> None:
    # A server that died mid-run (no chance to release its job) leaves it running under a
    # claim nobody holds; the next app's start-up queues it again and runs it.
    engine = create_engine(settings.database_url)
    try:
        with Session(engine) as session:
            scenario = tiny_dict(demand={"orders_per_day": 10})
            request = {"scenario": scenario, "axes": [], "seed": None}
            job = create_job(session, scenario="tiny", request=request, points=1,
                             replications=1)  # fmt: skip
            job_id = job.id
            assert job_id is not None and claim_job(session, job_id) is not None
            key = create_api_key(session, "analyst")
    finally:
        engine.dispose()
    with TestClient(create_app(settings)) as client:
        done = until(
            "the interrupted job ending",
            lambda: (
                (j := client.get(f"/simulations/{job_id}", headers=bearer(key)).json())["status"]
                in ("succeeded", "failed")
                and j
            ),
        )
        assert done["status"] == "succeeded", done["error"]
        assert done["kpis"][0]["label"] == "tiny"
        report = client.get(done["files"]["report.json"], headers=bearer(key))
        assert report.status_code == 200 and report.json()["scenario"] == "tiny"
    assert _row(settings, job_id).attempts == 2


def _row(settings: Settings, job_id: int) -> Simulation:
    engine = create_engine(settings.database_url)
    try:
        with Session(engine) as session:
            job = get_job(session, job_id)
            assert job is not None
            session.expunge(job)
            return job
    finally:
        engine.dispose()
