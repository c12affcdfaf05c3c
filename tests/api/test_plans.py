"""Plans as jobs: 202 with a Location, polling to the result, routes as JSON and GeoJSON."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import Keys, bearer
from tests.api.test_resources import DAY, order, post_order

WAIT_S = 60.0  # a 1 s solve plus the pool's start; bounded so a stuck job fails the test


def wait_for(client: TestClient, location: str, key: str) -> dict[str, Any]:
    """Poll the job at ``location`` until it has finished."""
    deadline = time.monotonic() + WAIT_S
    while True:
        job: dict[str, Any] = client.get(location, headers=bearer(key)).json()
        if job["status"] in ("succeeded", "failed"):
            return job
        assert 0 <= job["progress"] < 1
        assert time.monotonic() < deadline, f"job still {job['status']} after {WAIT_S} s"
        time.sleep(0.1)


def plan(client: TestClient, keys: Keys, world: dict[str, Any]) -> dict[str, Any]:
    """Two orders of the day, planned through the API; the finished job."""
    for n in range(2):
        assert post_order(client, keys.planner, order(world, keys), f"o{n}").status_code == 201
    body = {"depot_id": world["depot"]["id"], "service_day": DAY, "time_limit_s": 1}
    accepted = client.post("/plans", json=body, headers=bearer(keys.planner))
    assert accepted.status_code == 202, accepted.text
    job = accepted.json()
    assert job["id"].startswith("job_")
    assert job["status"] in ("queued", "running", "succeeded")
    assert accepted.headers["Location"] == f"/plans/{job['id']}"
    return wait_for(client, accepted.headers["Location"], keys.planner)


def test_plan_job_succeeds_with_the_plan(
    client: TestClient, keys: Keys, world: dict[str, Any]
) -> None:
    job = plan(client, keys, world)
    assert job["status"] == "succeeded", job
    assert job["progress"] == 1
    assert job["plan"]["status"] == "current"
    assert job["plan"]["n_served"] == 2
    stored = client.get(f"/plans/{job['plan_id']}", headers=bearer(keys.analyst)).json()
    assert stored["status"] == "succeeded"
    assert stored["plan"] == job["plan"]


def test_routes_as_json_and_geojson(client: TestClient, keys: Keys, world: dict[str, Any]) -> None:
    job = plan(client, keys, world)
    h = bearer(keys.planner)
    routes = client.get(f"/plans/{job['id']}/routes", headers=h)
    assert routes.status_code == 200
    body = routes.json()
    (route,) = body["routes"]
    assert [s["sequence"] for s in route["stops"]] == [0, 1]
    home = world["homes"]["aino"]
    assert route["stops"][0]["location"] == [home["lon"], home["lat"]]
    assert route["stops"][0]["arrival_at"].startswith(DAY)
    assert route["distance_m"] > 0 and route["co2_g"] >= 0 and route["cost"] > 0
    assert body["unserved"] == []
    assert client.get(f"/routes/{route['id']}", headers=h).json() == route

    geo = client.get(f"/plans/{job['plan_id']}/routes.geojson", headers=h)
    assert geo.headers["content-type"].startswith("application/geo+json")
    negotiated = client.get(
        f"/plans/{job['plan_id']}/routes", headers={**h, "Accept": "application/geo+json"}
    )
    assert negotiated.json() == geo.json()
    features = geo.json()["features"]
    kinds = [f["properties"]["kind"] for f in features]
    assert kinds.count("stop") == 2 and kinds.count("route") == 1 and kinds[0] == "depot"
    line = next(f for f in features if f["properties"]["kind"] == "route")["geometry"]
    depot = [world["depot"]["lon"], world["depot"]["lat"]]
    assert line["coordinates"][0] == line["coordinates"][-1] == depot


def test_unknown_depot_is_422_before_any_job(client: TestClient, keys: Keys) -> None:
    body = {"depot_id": 999, "service_day": DAY}
    response = client.post("/plans", json=body, headers=bearer(keys.planner))
    assert response.status_code == 422
    assert response.json()["field"] == "body.depot_id"


def test_replan_of_a_superseded_plan_is_409(
    client: TestClient, keys: Keys, world: dict[str, Any]
) -> None:
    first = plan(client, keys, world)
    h = bearer(keys.planner)
    again = client.post(f"/plans/{first['plan_id']}/replan", json={"time_limit_s": 1}, headers=h)
    assert again.status_code == 202
    second = wait_for(client, again.headers["Location"], keys.planner)
    assert second["status"] == "succeeded", second
    assert second["plan"]["replan_of_id"] == first["plan_id"]
    stale = client.post(f"/plans/{first['plan_id']}/replan", headers=h)
    assert stale.status_code == 409
    assert "superseded" in stale.json()["detail"]


def test_dispatch_and_outcome(client: TestClient, keys: Keys, world: dict[str, Any]) -> None:
    job = plan(client, keys, world)
    h = bearer(keys.planner)
    (route,) = client.get(f"/plans/{job['plan_id']}/routes", headers=h).json()["routes"]
    stop = route["stops"][0]
    early = client.post(
        f"/routes/{route['id']}/stops/{stop['id']}/outcome",
        json={"outcome": "delivered"},
        headers=h,
    )
    assert early.status_code == 409  # not dispatched yet
    dispatched = client.post(f"/routes/{route['id']}/dispatch", json={"stops": 1}, headers=h)
    assert dispatched.json()["status"] == "dispatched"
    done = client.post(
        f"/routes/{route['id']}/stops/{stop['id']}/outcome",
        json={"outcome": "delivered"},
        headers=h,
    )
    assert done.status_code == 200 and done.json()["status"] == "delivered"
    bad = client.post(
        f"/routes/{route['id']}/stops/{stop['id']}/outcome", json={"outcome": "lost"}, headers=h
    )
    assert bad.status_code == 422 and bad.json()["field"] == "body.outcome"
