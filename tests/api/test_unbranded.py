"""Unbranded: two retailers' orders on one van. The driver's manifest and the board name no
retailer; each customer's page names the customer's own retailer and nothing of the other
retailer (its name, its customers, their addresses); the default retailer is never named."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from orchestrator.access.keys import create_api_key
from orchestrator.intake.catalog import add_place, create_customer
from orchestrator.intake.retailers import create_retailer
from tests.api.conftest import Keys, bearer
from tests.api.test_board import board as board  # the fixture, re-used
from tests.api.test_board import day_url, sign_in
from tests.api.test_customer_page import token
from tests.api.test_manifest import _token as route_token
from tests.api.test_plans import wait_for
from tests.api.test_resources import DAY, post_order

SHOPS = {
    "A": ("Kauppa Oy", "Aino Kauppalainen", "Kauppakatu 1", 60.1755),
    "B": ("Butiikki Ab", "Bertil Butiikkinen", "Butiikkitie 2", 60.1760),
}
"""Each retailer's name, its customer and the customer's address: none may leak."""


@pytest.fixture
def shared_route(
    client: TestClient, session: Session, keys: Keys, world: dict[str, Any]
) -> dict[str, Any]:
    """One order of each retailer's customer, a few hundred metres apart, planned by the
    carrier onto one van; the orders and customers by retailer, and the route's id."""
    orders, customers = {}, {}
    for shop, (retailer_name, customer_name, address, lat) in SHOPS.items():
        retailer = create_retailer(session, {"name": retailer_name}).id
        customer = create_customer(session, {"name": customer_name}, retailer_id=retailer).id
        assert customer is not None
        customers[shop] = customer
        home = add_place(session, customer, {"name": "home", "lat": lat, "lon": 24.9310,
                                             "address": address})  # fmt: skip
        data = {"customer_id": customer, "depot_id": world["depot"]["id"], "service_day": DAY,
                "place_id": home.id,
                "items": [{"weight_g": 1_200, "volume_ml": 9_000}]}  # fmt: skip
        made = post_order(client, keys.planner, data, f"{shop}-1")
        assert made.status_code == 201, made.text
        orders[shop] = made.json()["id"]
    body = {"depot_id": world["depot"]["id"], "service_day": DAY, "time_limit_s": 1}
    accepted = client.post("/plans", json=body, headers=bearer(keys.planner))
    job = wait_for(client, accepted.headers["Location"], keys.planner)
    assert job["status"] == "succeeded", job
    plan = client.get(f"/plans/{job['id']}/routes", headers=bearer(keys.planner)).json()
    (route,) = [r for r in plan["routes"] if r["stops"]]  # both on one van
    assert {s["order_id"] for s in route["stops"]} == set(orders.values())
    return {"orders": orders, "customers": customers, "route": route["id"]}


def _names_no_retailer(text: str) -> None:
    for retailer_name, *_ in SHOPS.values():
        assert retailer_name not in text
    assert "Default retailer" not in text


def test_the_manifest_and_the_board_name_no_retailer(
    board: TestClient, keys: Keys, world: dict[str, Any], shared_route: dict[str, Any]
) -> None:
    route = shared_route["route"]
    manifest = board.get(f"/routes/{route}/manifest", params={"token": route_token(board, route)})
    assert manifest.status_code == 200
    assert all(customer in manifest.text for _, customer, _, _ in SHOPS.values())  # the driver's
    _names_no_retailer(manifest.text)
    csv = board.get(f"/routes/{route}/manifest.csv", params={"token": route_token(board, route)})
    assert csv.status_code == 200
    _names_no_retailer(csv.text)
    assert sign_in(board, keys.planner).status_code == 303
    day = board.get(day_url(world))
    assert day.status_code == 200
    _names_no_retailer(day.text)


@pytest.mark.parametrize(("shop", "other"), [("A", "B"), ("B", "A")])
def test_a_customers_page_names_only_their_own_retailer(
    app: FastAPI,
    client: TestClient,
    session: Session,
    shared_route: dict[str, Any],
    shop: str,
    other: str,
) -> None:
    order = shared_route["orders"][shop]
    page = client.get(f"/t/{token(app, order)}")
    assert page.status_code == 200
    assert SHOPS[shop][0] in page.text  # the customer's own retailer
    for leaked in SHOPS[other]:
        if isinstance(leaked, str):
            assert leaked not in page.text
    # The page's JSON twin, with the customer's own key: the same.
    key = create_api_key(session, "customer", shared_route["customers"][shop])
    tracking = client.get(f"/orders/{order}/tracking", headers=bearer(key))
    assert tracking.status_code == 200 and tracking.json()["retailer"] == SHOPS[shop][0]
    for leaked in SHOPS[other]:
        if isinstance(leaked, str):
            assert leaked not in tracking.text


def test_the_default_retailer_is_never_named(
    app: FastAPI, client: TestClient, keys: Keys, world: dict[str, Any]
) -> None:
    data = {"customer_id": keys.customer_id, "depot_id": world["depot"]["id"], "service_day": DAY,
            "place_id": world["homes"]["aino"]["id"],
            "items": [{"weight_g": 1_200, "volume_ml": 9_000}]}  # fmt: skip
    order = post_order(client, keys.planner, data, "d-1").json()["id"]
    page = client.get(f"/t/{token(app, order)}")
    assert page.status_code == 200
    _names_no_retailer(page.text)
    tracking = client.get(f"/orders/{order}/tracking", headers=bearer(keys.customer))
    assert tracking.json()["retailer"] is None
