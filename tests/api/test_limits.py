"""Limits checked before work starts (issue #13): request bodies (413), the size of a VROOM
problem and of a plan (422 naming the setting that raises the limit), list pages; and the
paths a client names or a failed job shows.

The body limit is exercised over real sockets against uvicorn (``live``): a declared
``Content-Length`` over the limit is answered without the body being sent at all, and a
chunked body is answered while it is still arriving.
"""

from __future__ import annotations

import json
import os
import select
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.app import create_app
from api.routes.vroom import EXAMPLE
from api.runtime.jobs import SimulationJobs
from orchestrator.access.keys import create_api_key
from orchestrator.errors import InvalidInput
from orchestrator.intake.orders import register_order
from orchestrator.jobs.plans import interrupt_jobs, submit_plan
from orchestrator.jobs.redaction import public_error
from orchestrator.jobs.simulations import create_job
from orchestrator.models import Plan
from orchestrator.planning.plans import check_plan_size
from orchestrator.settings import MAX_PAGE_SIZE, Settings
from orchestrator.store.engine import create_engine, ensure_schema
from orchestrator.vroom import VroomInputError, parse_vroom
from tests.api.conftest import Keys, Live, bearer
from tests.api.test_plans import wait_for
from tests.api.test_resources import DAY, order, post_order
from tests.orchestrator.conftest import POSTGRES_ENV, _postgres_database, make_world, order_data
from tests.simulation.conftest import tiny_dict

ANSWER_S = 10.0  # every limit is answered well within this (a solver worker starts in ~1 s)
MIB = 1_048_576


# -- helpers ------------------------------------------------------------------------------------


def _connect(live: Live) -> socket.socket:
    address = urlsplit(live.url)
    assert address.hostname is not None and address.port is not None
    sock = socket.create_connection((address.hostname, address.port), timeout=ANSWER_S)
    return sock


def _head(live: Live, path: str, **headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json",
             f"Authorization: Bearer {live.planner}"]  # fmt: skip
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _response(sock: socket.socket) -> tuple[int, dict[str, Any]]:
    """Read one HTTP response (status and JSON body) within :data:`ANSWER_S`."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65_536)
        assert chunk, f"connection closed before an answer: {data!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(
        int(line.split(":")[1]) for line in lines if line.lower().startswith("content-length")
    )
    while len(rest) < length:
        chunk = sock.recv(65_536)
        assert chunk, "connection closed in the middle of the answer"
        rest += chunk
    return int(lines[0].split()[1]), json.loads(rest[:length])


def _jobs(n: int) -> list[dict[str, Any]]:
    """``n`` deliveries around central Helsinki, as VROOM jobs."""
    return [
        {"id": i, "location": [24.90 + (i % 100) / 1000, 60.15 + (i // 100) / 1000],
         "service": 120, "delivery": [1]}
        for i in range(n)
    ]  # fmt: skip


def _vans(n: int) -> list[dict[str, Any]]:
    van = EXAMPLE["vehicles"][0]
    return [{**van, "id": k + 1} for k in range(n)]


# -- request bodies -----------------------------------------------------------------------------


def test_a_declared_body_over_the_limit_is_413_before_a_byte_of_it_is_read(live: Live) -> None:
    # Only the head is sent: a server that waited for the body would never answer (the
    # socket's timeout, ANSWER_S, fails the test).
    with _connect(live) as sock:
        sock.sendall(_head(live, "/orders", Content_Length=str(50 * MIB)))
        status, body = _response(sock)
    assert status == 413, body
    assert body["limit_bytes"] == MIB and body["setting"] == "LASTMILE_MAX_BODY_BYTES"
    assert "LASTMILE_MAX_BODY_BYTES" in body["detail"] and str(MIB) in body["detail"]


def test_a_chunked_body_is_counted_while_it_arrives(live: Live) -> None:
    # No Content-Length: the server must count. It answers 413 once the body passes 1 MiB,
    # long before the 8 MiB this client would send (a server that read it all and then
    # parsed it would answer 422, bad JSON).
    chunk = b"x" * 65_536
    sent = 0
    with _connect(live) as sock:
        sock.sendall(_head(live, "/orders", Transfer_Encoding="chunked"))
        try:
            # Past the limit, a pause after each chunk gives a loaded server time to answer
            # (at most 112 x 50 ms): a client faster than the server could otherwise push all
            # 8 MiB into the socket buffers before the server reads them.
            wait_s = 0.0
            while sent < 8 * MIB and not select.select([sock], [], [], wait_s)[0]:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
                wait_s = 0.05 if sent > MIB else 0.0
            if sent >= 8 * MIB:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed while we were still sending
        status, body = _response(sock)
    assert status == 413, body
    assert body["setting"] == "LASTMILE_MAX_BODY_BYTES"
    assert sent < 8 * MIB, "the whole body went in before the answer"


def test_a_client_sending_its_whole_body_reads_the_413(live: Live) -> None:
    # urllib, like most clients, sends the whole body before it reads the answer: a server
    # that answered and closed mid-body would reset the connection under it.
    body = b'{"note": "' + b"x" * (4 * 1_000_000) + b'"}'  # under DRAIN_FACTOR x 1 MiB
    request = urllib.request.Request(f"{live.url}/orders", data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", f"Bearer {live.planner}")
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(request, timeout=ANSWER_S)
    assert answer.value.code == 413
    assert json.loads(answer.value.read())["setting"] == "LASTMILE_MAX_BODY_BYTES"


@pytest.fixture
def small_bodies(tmp_path: Path) -> FastAPI:
    """An app whose bodies may be 2 KiB, and 8 KiB for ``POST /solve/vroom``."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'small.db'}",
        max_body_bytes=2_048,
        max_vroom_body_bytes=8_192,
    )
    return create_app(settings)


def test_vroom_problems_have_a_larger_limit_of_their_own(small_bodies: FastAPI) -> None:
    with TestClient(small_bodies) as client, Session(small_bodies.state.engine) as session:
        h = bearer(create_api_key(session, "planner"))
        padded = {**EXAMPLE, "jobs": [{**EXAMPLE["jobs"][0], "description": "p" * 3_000}]}
        orders = client.post("/orders", json={"note": "p" * 3_000}, headers=h)
        assert orders.status_code == 413, orders.text
        assert orders.json()["setting"] == "LASTMILE_MAX_BODY_BYTES"
        # 3 KB is over the default limit but within the VROOM one: it is solved.
        solved = client.post("/solve/vroom?time_limit=0.5", json=padded, headers=h)
        assert solved.status_code == 200, solved.text
        huge = {**EXAMPLE, "jobs": [{**EXAMPLE["jobs"][0], "description": "p" * 9_000}]}
        refused = client.post("/solve/vroom", json=huge, headers=h)
        assert refused.status_code == 413, refused.text
        assert refused.json()["setting"] == "LASTMILE_MAX_VROOM_BODY_BYTES"
        assert refused.json()["limit_bytes"] == 8_192


def test_the_413_is_documented_on_every_operation_with_a_body(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    documented = {
        f"{method.upper()} {path}": operation["responses"].get("413")
        for path, operations in paths.items()
        for method, operation in operations.items()
        if "requestBody" in operation
    }
    assert documented and all(documented.values()), [k for k, v in documented.items() if not v]
    assert "LASTMILE_MAX_VROOM_BODY_BYTES" in documented["POST /solve/vroom"]["description"]
    assert "LASTMILE_MAX_BODY_BYTES" in documented["POST /orders"]["description"]
    assert "413" not in paths["/orders"]["get"]["responses"]


# -- the size of a VROOM problem ----------------------------------------------------------------


def test_a_vroom_problem_over_the_task_limit_is_422_before_any_search(
    client: TestClient, keys: Keys
) -> None:
    # The problem: 5,000 jobs with a 5 s search grew a worker to 13.7 GB and gave no
    # answer in 200 s. Now it is refused at once, naming the limit and the setting.
    problem = {"vehicles": _vans(5), "jobs": _jobs(5_000)}
    t0 = time.perf_counter()
    answer = client.post("/solve/vroom?time_limit=5", json=problem, headers=bearer(keys.planner))
    elapsed = time.perf_counter() - t0
    assert answer.status_code == 422, answer.text[:500]
    body = answer.json()
    assert body["field"] == "jobs"
    assert "LASTMILE_MAX_VROOM_TASKS" in body["message"] and "1000" in body["message"]
    assert elapsed < ANSWER_S


def test_a_vroom_problem_over_the_vehicle_limit_is_422(client: TestClient, keys: Keys) -> None:
    problem = {**EXAMPLE, "vehicles": _vans(51)}
    answer = client.post("/solve/vroom?time_limit=1", json=problem, headers=bearer(keys.planner))
    assert answer.status_code == 422, answer.text[:500]
    assert answer.json()["field"] == "vehicles"
    assert "LASTMILE_MAX_VROOM_VEHICLES" in answer.json()["message"]


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        (Settings(max_vroom_tasks=2), "jobs"),  # the example has three jobs
        (Settings(max_vroom_vehicles=1), None),  # one van: within the limit
    ],
)
def test_the_vroom_limits_are_settings(settings: Settings, field: str | None) -> None:
    if field is None:
        assert len(parse_vroom(EXAMPLE, settings=settings).tasks) == 3
        return
    with pytest.raises(VroomInputError) as caught:
        parse_vroom(EXAMPLE, settings=settings)
    assert caught.value.field_path == field


def test_shipments_count_twice_against_the_task_limit() -> None:
    step = {"location": [24.93, 60.17]}
    shipments = [{"pickup": {**step, "id": k}, "delivery": {**step, "id": k}} for k in range(2)]
    problem = {"vehicles": _vans(1), "shipments": shipments}
    with pytest.raises(VroomInputError, match="4 tasks") as caught:
        parse_vroom(problem, settings=Settings(max_vroom_tasks=3))
    assert caught.value.field_path == "shipments"


# -- the size of a plan -------------------------------------------------------------------------


def test_a_day_over_the_stop_limit_is_422_and_nothing_is_queued(
    client: TestClient, keys: Keys, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(3):
        assert post_order(client, keys.planner, order(world, keys), f"o{n}").status_code == 201
    monkeypatch.setenv("LASTMILE_MAX_PLAN_STOPS", "2")
    body = {"depot_id": world["depot"]["id"], "service_day": DAY, "time_limit_s": 1}
    answer = client.post("/plans", json=body, headers=bearer(keys.planner))
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == "body.service_day"
    assert "3 orders" in answer.json()["message"]
    assert "LASTMILE_MAX_PLAN_STOPS" in answer.json()["message"]
    assert client.get("/plans/1", headers=bearer(keys.planner)).status_code == 404


def test_a_fleet_over_the_vehicle_limit_is_422(
    client: TestClient, keys: Keys, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    vans = world["fleet"]["count"]
    monkeypatch.setenv("LASTMILE_MAX_PLAN_VEHICLES", str(vans - 1))
    body = {"depot_id": world["depot"]["id"], "service_day": DAY, "time_limit_s": 1}
    answer = client.post("/plans", json=body, headers=bearer(keys.planner))
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == "body.depot_id"
    assert f"{vans} vehicles" in answer.json()["message"]
    assert "LASTMILE_MAX_PLAN_VEHICLES" in answer.json()["message"]


def test_a_replan_is_held_to_the_same_limits(
    client: TestClient, keys: Keys, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(2):
        assert post_order(client, keys.planner, order(world, keys), f"o{n}").status_code == 201
    body = {"depot_id": world["depot"]["id"], "service_day": DAY, "time_limit_s": 1}
    accepted = client.post("/plans", json=body, headers=bearer(keys.planner))
    assert accepted.status_code == 202, accepted.text
    job = wait_for(client, accepted.headers["Location"], keys.planner)
    assert job["status"] == "succeeded", job
    monkeypatch.setenv("LASTMILE_MAX_PLAN_STOPS", "1")
    again = client.post(f"/plans/{job['id']}/replan", json={"time_limit_s": 1},
                        headers=bearer(keys.planner))  # fmt: skip
    assert again.status_code == 422, again.text
    assert "LASTMILE_MAX_PLAN_STOPS" in again.json()["message"]


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Session]:
    """A migrated, empty store of each backend (PostgreSQL from LASTMILE_TEST_POSTGRES_URL)."""
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{tmp_path / 'store.db'}"])
    else:
        base = os.environ.get(POSTGRES_ENV)
        if not base:
            pytest.skip(f"{POSTGRES_ENV} is not set")
        urls = _postgres_database(base)
    url = next(urls)
    engine = create_engine(url)
    try:
        ensure_schema(engine)
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()
        next(urls, None)  # drops the PostgreSQL database


def test_the_plan_limits_count_orders_pickups_and_fleets_in_the_store(store: Session) -> None:
    world = make_world(store, vans=2)
    assert world.depot.id is not None
    for k in range(3):
        register_order(store, order_data(world), f"order-{k}")
    depot, day = world.depot.id, date.fromisoformat(DAY)
    check_plan_size(store, depot, day, settings=Settings(max_plan_stops=3, max_plan_vehicles=2))
    with pytest.raises(InvalidInput, match="3 orders and 0 return pickups") as stops:
        check_plan_size(store, depot, day, settings=Settings(max_plan_stops=2))
    assert stops.value.field == ("service_day",)
    with pytest.raises(InvalidInput, match="2 vehicles") as vehicles:
        check_plan_size(store, depot, day, settings=Settings(max_plan_vehicles=1))
    assert vehicles.value.field == ("depot_id",)
    # Another day of the same depot is not counted.
    check_plan_size(store, depot, date(2030, 1, 2), settings=Settings(max_plan_stops=1))


# -- list pages ---------------------------------------------------------------------------------


def test_every_list_page_is_bounded(app: FastAPI) -> None:
    # Every operation with a `limit` query parameter caps it at MAX_PAGE_SIZE (documented in
    # orchestrator.settings), so no single request reads a whole table.
    limits = {}
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and parameter["name"] == "limit":
                    limits[f"{method.upper()} {path}"] = parameter["schema"].get("maximum")
    assert "GET /orders" in limits and len(limits) >= 6
    assert all(maximum is not None and maximum <= MAX_PAGE_SIZE for maximum in limits.values()), (
        limits
    )


# -- paths a client names, paths a failed job shows ---------------------------------------------


@pytest.fixture
def sim_app(tmp_path: Path) -> FastAPI:
    """The app with its simulation files in ``tmp_path``."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'api.db'}", simulations_dir=tmp_path / "simulations"
    )
    return create_app(settings)


@pytest.mark.parametrize(
    ("axes", "axis"),
    [
        # The probe: the axis replaces the whole city.
        ({"city": [{"kind": "graphml", "path": "/etc/passwd"}]}, "body.axes.city"),
        # A relative path is read from the server's working directory: refused as well.
        ({"city": [{"kind": "synthetic"}, {"kind": "graphml", "path": "streets.graphml"}]},
         "body.axes.city"),
        # Among other axes, the one that brings the file in is named.
        ({"seed": [1, 2], "city": [{"kind": "graphml", "path": "/etc/hostname"}]},
         "body.axes.city"),
    ],
)  # fmt: skip
def test_a_sweep_axis_naming_a_server_file_is_422(
    sim_app: FastAPI, keys_for: Any, axes: dict[str, Any], axis: str
) -> None:
    client, h = keys_for
    answer = client.post("/simulations", json={"scenario": tiny_dict(), "axes": axes}, headers=h)
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == axis
    assert "file on the server" in answer.json()["message"]
    assert client.get("/simulations/1", headers=h).status_code == 404  # nothing was queued


@pytest.fixture
def keys_for(sim_app: FastAPI) -> Any:
    """A client of ``sim_app`` and an analyst's headers."""
    with TestClient(sim_app) as client, Session(sim_app.state.engine) as session:
        yield client, bearer(create_api_key(session, "analyst"))


def _wait_simulation(client: TestClient, job_id: int, h: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(f"/simulations/{job_id}", headers=h).json()
        if body["status"] in ("succeeded", "failed"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"simulation {job_id} did not finish")


def test_a_stored_job_with_a_file_axis_opens_no_file(
    sim_app: FastAPI, keys_for: Any, tmp_path: Path
) -> None:
    # A job stored before the API refused such axes (or by other means): its run refuses it
    # too, and never reads the file (here, one that would fail to parse with its path).
    client, h = keys_for
    secret = tmp_path / "secret.graphml"
    secret.write_text("not a graph", encoding="utf-8")
    runner: SimulationJobs = sim_app.state.simulations
    with Session(sim_app.state.engine) as session:
        job = create_job(session, scenario="tiny", points=1, replications=1, request={
            "scenario": tiny_dict(replications=1),
            "axes": [["city", [{"kind": "graphml", "path": str(secret)}]]],
            "seed": 1,
        })  # fmt: skip
        assert job.id is not None
    runner.enqueue(job.id)
    done = _wait_simulation(client, job.id, h)
    assert done["status"] == "failed", done
    assert "refused" in done["error"] and str(tmp_path) not in done["error"]


def test_a_failed_simulation_shows_no_server_path(tmp_path: Path) -> None:
    # The simulations folder cannot be made (a file is in its way): the job fails with the
    # OS's error, which names the folder — shown without the server's absolute path.
    blocker = tmp_path / "simulations"
    blocker.write_text("a file, not a folder", encoding="utf-8")
    app = create_app(
        Settings(database_url=f"sqlite:///{tmp_path / 'api.db'}", simulations_dir=blocker)
    )
    with TestClient(app) as client, Session(app.state.engine) as session:
        h = bearer(create_api_key(session, "analyst"))
        accepted = client.post("/simulations", json={"scenario": tiny_dict()}, headers=h)
        assert accepted.status_code == 202, accepted.text
        done = _wait_simulation(client, accepted.json()["id"], h)
    assert done["status"] == "failed", done
    assert "Not a directory" in done["error"], done["error"]
    assert str(tmp_path) not in done["error"] and "/tmp" not in done["error"], done["error"]


def test_an_interrupted_plan_job_loses_its_paths(session: Session, world: dict[str, Any]) -> None:
    job = submit_plan(session, world["depot"]["id"], date.fromisoformat(DAY))
    assert job.id is not None
    interrupt_jobs(session, [job.id], reason="cannot open '/etc/lastmile/graph.graphml'")
    session.expire_all()
    stored = session.get(Plan, job.id)
    assert stored is not None and stored.error == "cannot open '…/graph.graphml'"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("[Errno 2] No such file or directory: '/etc/passwd'", "[Errno 2] No such file or "
         "directory: '…/passwd'"),
        # API paths, URLs and units are not server files: they stay.
        ("see GET /simulations/3 for why", "see GET /simulations/3 for why"),
        ("https://example.com/etc/x at 40 km/h", "https://example.com/etc/x at 40 km/h"),
        # The end of a sentence is not part of the path.
        ("cannot read /etc/lastmile.toml.", "cannot read …/lastmile.toml."),
    ],
)  # fmt: skip
def test_public_error(text: str, shown: str) -> None:
    assert public_error(text) == shown
