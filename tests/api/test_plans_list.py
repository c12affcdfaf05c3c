"""``GET /plans?depot_id&service_day``: a depot's day's plans, newest first, the current one
marked; filtered by status, paged, for staff keys only; a clear 422 for what is missing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Keys, bearer
from tests.api.test_plans import wait_for
from tests.api.test_resources import DAY, order, post_order


@pytest.fixture
def two_plans(client: TestClient, keys: Keys, world: dict[str, Any]) -> list[int]:
    """The day planned twice through the API (the second supersedes the first); their ids."""
    assert post_order(client, keys.planner, order(world, keys), "o1").status_code == 201
    ids = []
    for _ in range(2):
        body = {"depot_id": world["depot"]["id"], "service_day": DAY, "time_limit_s": 1}
        accepted = client.post("/plans", json=body, headers=bearer(keys.planner))
        assert accepted.status_code == 202, accepted.text
        job = wait_for(client, accepted.headers["Location"], keys.planner)
        assert job["status"] == "succeeded", job
        ids.append(job["id"])
    return ids


def listed(client: TestClient, key: str, **query: Any) -> Any:
    """GET /plans with ``query``."""
    return client.get("/plans", params=query, headers=bearer(key))


def test_the_days_plans_newest_first_the_current_one_marked(
    client: TestClient, keys: Keys, world: dict[str, Any], two_plans: list[int]
) -> None:
    first, second = two_plans
    answer = listed(client, keys.analyst, depot_id=world["depot"]["id"], service_day=DAY)
    assert answer.status_code == 200, answer.text
    plans = answer.json()
    assert [p["id"] for p in plans] == [second, first]
    assert [p["current"] for p in plans] == [True, False]
    assert [p["status"] for p in plans] == ["current", "superseded"]
    assert [p["job_status"] for p in plans] == ["succeeded", "succeeded"]
    assert plans[0]["n_served"] == 1 and plans[0]["progress"] == 1
    # the same plan as GET /plans/{id} shows it
    single = client.get(f"/plans/{second}", headers=bearer(keys.analyst)).json()["plan"]
    assert {k: plans[0][k] for k in single} == single


def test_filtered_by_status_and_paged(
    client: TestClient, keys: Keys, world: dict[str, Any], two_plans: list[int]
) -> None:
    first, second = two_plans
    day = {"depot_id": world["depot"]["id"], "service_day": DAY}
    superseded = listed(client, keys.planner, **day, status="superseded").json()
    assert [p["id"] for p in superseded] == [first]
    assert [p["id"] for p in listed(client, keys.planner, **day, limit=1).json()] == [second]
    assert [p["id"] for p in listed(client, keys.planner, **day, offset=1).json()] == [first]
    assert listed(client, keys.planner, **day, status="failed").json() == []


def test_another_day_has_no_plans(
    client: TestClient, keys: Keys, world: dict[str, Any], two_plans: list[int]
) -> None:
    answer = listed(client, keys.admin, depot_id=world["depot"]["id"], service_day="2025-03-04")
    assert answer.status_code == 200 and answer.json() == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"service_day": DAY}, "depot_id"),  # the depot is required
        ({"depot_id": 1}, "service_day"),  # so is the day
        ({"depot_id": 1, "service_day": "2025-02-30"}, "service_day"),  # no such date
        ({"depot_id": 1, "service_day": DAY, "status": "done"}, "status"),  # no such status
        ({"depot_id": 1, "service_day": DAY, "limit": 0}, "limit"),  # a page holds >= 1
        ({"depot_id": 999, "service_day": DAY}, "depot_id"),  # an unknown depot
    ],
)
def test_bad_queries_are_422_naming_the_field(
    client: TestClient, keys: Keys, world: dict[str, Any], query: dict[str, Any], field: str
) -> None:
    answer = listed(client, keys.planner, **query)
    assert answer.status_code == 422, answer.text
    assert field in answer.text


def test_staff_only(client: TestClient, keys: Keys, world: dict[str, Any]) -> None:
    day = {"depot_id": world["depot"]["id"], "service_day": DAY}
    assert listed(client, keys.customer, **day).status_code == 403
    assert client.get("/plans", params=day).status_code == 401
    assert listed(client, keys.planner, **day).json() == []
