"""``GET /retailers/{id}/shares?day=``: each retailer's fair share of the day's pooled plan.

Retailers A and B (one order each, a street apart) planned together by the carrier's planner
through the API on its vans of 120 EUR a day: together one van, alone one each — both save.
A real app on its SQLite file, a real plan job and real stand-alone solves (two stops).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.api.conftest import Keys, bearer
from tests.api.test_plans import wait_for
from tests.api.test_resources import DAY
from tests.api.test_tenancy import Tenant, _tenant

FIELDS = {"retailer_id", "day", "rule", "cost_eur", "km", "co2_kg", "stand_alone_cost_eur",
          "saving_eur", "saving_pct", "retailers_on_day", "plan_ids",
          "day_total_cost_eur"}  # fmt: skip


@pytest.fixture
def pair(session: Session, world: dict[str, Any]) -> tuple[Tenant, Tenant]:
    """Retailers A and B on the fleet of ``world``, each with its keys and an order of DAY."""
    return _tenant(session, "A", world, 60.1755), _tenant(session, "B", world, 60.1800)


def _planned(client: TestClient, keys: Keys, world: dict[str, Any]) -> dict[str, Any]:
    """The day planned by the carrier's planner; the current plan."""
    body = {"depot_id": world["depot"]["id"], "service_day": DAY, "time_limit_s": 1}
    accepted = client.post("/plans", json=body, headers=bearer(keys.planner))
    assert accepted.status_code == 202, accepted.text
    job = wait_for(client, accepted.headers["Location"], keys.planner)
    assert job["status"] == "succeeded", job
    assert job["plan"]["status"] == "current" and job["plan"]["n_served"] == 2, job
    plan: dict[str, Any] = job["plan"]
    return plan


def _shares(client: TestClient, retailer: int, key: str, day: str = DAY) -> Any:
    return client.get(f"/retailers/{retailer}/shares", params={"day": day}, headers=bearer(key))


def test_each_retailer_sees_its_share_and_the_two_add_up_to_the_plan(
    client: TestClient, keys: Keys, world: dict[str, Any], pair: tuple[Tenant, Tenant]
) -> None:
    a, b = pair
    plan = _planned(client, keys, world)
    mine = _shares(client, a.retailer, a.planner)
    assert mine.status_code == 200, mine.text
    theirs = _shares(client, b.retailer, keys.analyst)  # the carrier's analyst: any retailer
    assert theirs.status_code == 200, theirs.text
    one, two = mine.json(), theirs.json()
    assert set(one) == FIELDS and one["retailer_id"] == a.retailer and one["day"] == DAY
    assert one["rule"] == "proportional" and one["plan_ids"] == [plan["id"]] == two["plan_ids"]
    assert one["retailers_on_day"] == 2 and one["day_total_cost_eur"] == round(plan["cost"], 2)
    assert round(one["cost_eur"] * 100) + round(two["cost_eur"] * 100) == round(plan["cost"] * 100)
    assert round(one["km"] * 1000) + round(two["km"] * 1000) == plan["distance_m"]
    assert round(one["co2_kg"] * 1000) + round(two["co2_kg"] * 1000) == round(plan["co2_g"])
    for share in (one, two):
        assert share["saving_eur"] > 0 and share["saving_pct"] > 0, share  # one van, not two
        assert share["stand_alone_cost_eur"] >= 120  # alone: a van's day rate of its own
    assert _shares(client, a.retailer, a.analyst).json() == one  # read back from the cache


def test_keys_see_only_their_own_retailers_shares(
    client: TestClient, keys: Keys, world: dict[str, Any], pair: tuple[Tenant, Tenant]
) -> None:
    a, b = pair
    _planned(client, keys, world)
    mine = _shares(client, b.retailer, a.planner)
    assert mine.status_code == 404 and f"retailer {b.retailer} not found" in mine.text
    # A customer's key: not for its own retailer's shares (403); another retailer's is 404.
    assert _shares(client, a.retailer, a.customer_key).status_code == 403
    assert _shares(client, 1, keys.customer).status_code == 403  # the default retailer's
    assert _shares(client, b.retailer, a.customer_key).status_code == 404


@pytest.mark.parametrize("day", [None, "2025-13-01", "monday"])
def test_a_missing_or_bad_day_is_422_naming_it(
    client: TestClient, keys: Keys, day: str | None
) -> None:
    params = {} if day is None else {"day": day}
    answer = client.get("/retailers/1/shares", params=params, headers=bearer(keys.planner))
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == "query.day"


def test_a_day_without_a_plan_is_404_saying_so(
    client: TestClient, keys: Keys, world: dict[str, Any], pair: tuple[Tenant, Tenant]
) -> None:
    a, _b = pair
    answer = _shares(client, a.retailer, a.planner)
    assert answer.status_code == 404
    assert "no depot has a current plan on 2025-03-03" in answer.json()["detail"]
    assert "POST /plans" in answer.json()["detail"]
