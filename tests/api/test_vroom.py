"""``POST /solve/vroom``: VROOM JSON in, VROOM JSON out; bad input is a 422 naming the field."""

from __future__ import annotations

import copy
import itertools
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.app import create_app
from api.routes.vroom import EXAMPLE, MAX_TIME_LIMIT_S, OUTPUT_EXAMPLE
from orchestrator.settings import Settings
from tests.api.conftest import Keys, Live, bearer, make_keys

SOLVE_S = 3.0  # long enough to ask for /health several times while it runs
STALL_S = SOLVE_S * 2 / 3
"""At most between two answers while a solve runs. A solve in the server's process would hold
the GIL for the whole SOLVE_S; a loaded machine (2 shared cores) delays one answer by well
over a second now and then, so the bound sits between the two."""
EVERY_S = 0.5
"""At least one answer per this many seconds of the solve, on average."""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """One app for the whole module: a VROOM solve leaves nothing in the store, so the tests
    share its solver process, started once (1-3 s) instead of once per test."""
    url = f"sqlite:///{tmp_path_factory.mktemp('vroom') / 'api.db'}"
    return create_app(Settings(database_url=url))


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    """A client of the module's app, its lifespan running for the whole module."""
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def keys(app: FastAPI, client: TestClient) -> Keys:
    """Keys of every role on the module's app."""
    with Session(app.state.engine) as session:
        return make_keys(session)


def solve(client: TestClient, key: str, payload: object) -> Any:
    """POST ``payload`` to /solve/vroom with a short time limit."""
    return client.post("/solve/vroom", params={"time_limit": 1}, json=payload, headers=bearer(key))


@pytest.mark.parametrize("role", ["planner", "admin"])
def test_round_trip_serves_every_job(client: TestClient, keys: Keys, role: str) -> None:
    response = solve(client, getattr(keys, role), EXAMPLE)
    assert response.status_code == 200, response.text
    output = response.json()
    assert output["code"] == 0
    assert output["unassigned"] == []
    (route,) = output["routes"]
    served = [s["id"] for s in route["steps"] if s["type"] == "job"]
    assert sorted(served) == [1, 2, 3]
    assert output["summary"]["routes"] == 1
    assert route["steps"][0]["type"] == "start"
    assert route["steps"][-1]["type"] == "end"


def test_the_documented_answer_is_the_real_one(client: TestClient, keys: Keys) -> None:
    output = solve(client, keys.planner, EXAMPLE).json()
    output["summary"]["computing_times"] = OUTPUT_EXAMPLE["summary"]["computing_times"]
    assert output == OUTPUT_EXAMPLE


def test_unassigned_carry_a_reason(client: TestClient, keys: Keys) -> None:
    payload = copy.deepcopy(EXAMPLE)
    payload["jobs"][0]["delivery"] = [50]  # more than the van's capacity of 10
    output = solve(client, keys.planner, payload).json()
    (unassigned,) = output["unassigned"]
    assert unassigned["id"] == 1
    assert unassigned["reason"]
    assert unassigned["detail"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        # a latitude beyond the pole: coordinates are [lon, lat]
        (lambda p: p["jobs"][1].update(location=[24.9, 95.0]), "jobs[1].location"),
        # a window that ends before it starts
        (lambda p: p["jobs"][1].update(time_windows=[[39_600, 32_400]]), "jobs[1].time_windows"),
        # a negative quantity
        (lambda p: p["jobs"][2].update(delivery=[-3]), "jobs[2].delivery"),
        # no vehicles at all
        (lambda p: p.pop("vehicles"), "vehicles"),
    ],
)
def test_bad_input_is_422_with_the_field_path(
    client: TestClient, keys: Keys, change: Any, field: str
) -> None:
    payload = copy.deepcopy(EXAMPLE)
    change(payload)
    response = solve(client, keys.planner, payload)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == 2  # VROOM's input-error code
    assert body["field"].startswith(field)
    assert body["message"]
    (detail,) = body["detail"]
    assert detail["loc"][0] == "body"
    assert detail["type"] == "vroom_input"


def test_not_json_is_422_not_500(client: TestClient, keys: Keys) -> None:
    response = client.post(
        "/solve/vroom",
        content=b"{not json",
        headers={**bearer(keys.planner), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    body = response.json()
    assert isinstance(body["detail"], list)
    assert body["field"].startswith("body")


def test_a_list_instead_of_an_object_is_422(client: TestClient, keys: Keys) -> None:
    response = solve(client, keys.planner, [1, 2, 3])
    assert response.status_code == 422
    assert response.json()["field"] == "body"


def test_openapi_has_the_example_request(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/solve/vroom"]["post"]
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    assert examples["helsinki"]["value"] == EXAMPLE


def test_health_answers_while_a_solve_runs(live: Live) -> None:
    # Over real sockets: the solve runs in a worker process, so the server (and this test's
    # own thread) keep running; solved in the server's process it would hold the GIL.
    answer: dict[str, Any] = {}

    def solve_over_http() -> None:
        with httpx.Client(base_url=live.url, timeout=SOLVE_S + 60) as http:
            answer["response"] = http.post(
                "/solve/vroom",
                params={"time_limit": SOLVE_S},
                json=EXAMPLE,
                headers=bearer(live.planner),
            )

    with httpx.Client(base_url=live.url, timeout=10) as http:
        assert http.get("/health").status_code == 200  # connected before the clock starts
        started = time.monotonic()
        solving = threading.Thread(target=solve_over_http)
        solving.start()
        answered = [started]
        while solving.is_alive():
            assert http.get("/health").json() == {"status": "ok", "database": "ok"}
            answered.append(time.monotonic())
            time.sleep(0.1)
            # Bounded: the solve's client gives up after SOLVE_S + 60 s.
    solving.join()
    took = time.monotonic() - started

    response = answer["response"]
    assert response.status_code == 200, response.text
    assert response.json()["summary"]["unassigned"] == 0
    assert took >= SOLVE_S  # the health checks overlapped the whole search
    gaps = [b - a for a, b in itertools.pairwise(answered)]
    assert len(gaps) >= SOLVE_S / EVERY_S and max(gaps) < STALL_S, gaps


@pytest.mark.parametrize("time_limit", [0, -1, MAX_TIME_LIMIT_S + 1])
def test_time_limit_is_bounded(client: TestClient, keys: Keys, time_limit: float) -> None:
    response = client.post(
        "/solve/vroom",
        params={"time_limit": time_limit},
        json=EXAMPLE,
        headers=bearer(keys.planner),
    )
    assert response.status_code == 422
    assert response.json()["field"] == "query.time_limit"


def test_every_422_carries_vrooms_error_fields(client: TestClient, keys: Keys) -> None:
    """The 422 of a body that is not even an object is VROOM's too (code 2, error), as the
    OpenAPI document promises (found by benchmarks.fuzz)."""
    for content in (b"[1, 2]", b"{not json"):
        response = client.post(
            "/solve/vroom",
            content=content,
            headers={**bearer(keys.planner), "Content-Type": "application/json"},
        )
        assert response.status_code == 422
        body = response.json()
        assert body["code"] == 2 and body["error"] == body["message"]


@pytest.mark.parametrize(
    ("where", "value", "field"),
    [
        ("vehicle", {"description": "\ud800"}, "vehicles[0].description"),
        ("vehicle", {"description": "a\x00b"}, "vehicles[0].description"),
        ("vehicle", {"id": 2**70}, "vehicles[0].id"),
        ("job", {"id": 2**70}, "jobs[0].id"),
    ],
)
def test_text_and_integers_a_store_cannot_hold_are_422(
    client: TestClient, keys: Keys, where: str, value: dict[str, Any], field: str
) -> None:
    """A lone surrogate answered 500 (the answer could not be written as JSON), and ids beyond
    64 bits were not refused."""
    problem = copy.deepcopy(EXAMPLE)
    target = problem["vehicles"][0] if where == "vehicle" else problem["jobs"][0]
    target.update(value)
    response = client.post(
        "/solve/vroom",
        content=json.dumps(problem),
        headers={**bearer(keys.planner), "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
