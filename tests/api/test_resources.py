"""Depots, vehicle types, fleets, customers, places and orders through the HTTP API:
creation, 404 for unknown ids, 409 for conflicts, 422 with the field path for bad input."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.routes.depots import EXAMPLE as DEPOT
from api.routes.fleet import FLEET_EXAMPLE, VEHICLE_TYPE_EXAMPLE
from tests.api.conftest import Keys, bearer

DAY = "2025-03-03"


def order(world: dict[str, Any], keys: Keys, **changes: Any) -> dict[str, Any]:
    """A valid order of the first customer to their home, overridden by ``changes``."""
    data: dict[str, Any] = {
        "customer_id": keys.customer_id,
        "depot_id": world["depot"]["id"],
        "service_day": DAY,
        "place_id": world["homes"]["aino"]["id"],
        "window_start": f"{DAY}T10:00:00+02:00",
        "window_end": f"{DAY}T14:00:00+02:00",
        "items": [{"description": "shoes", "weight_g": 1_200, "volume_ml": 9_000}],
    }
    data.update(changes)
    return data


def post_order(client: TestClient, key: str, data: dict[str, Any], idem: str) -> Any:
    """POST /orders with an Idempotency-Key."""
    return client.post("/orders", json=data, headers={**bearer(key), "Idempotency-Key": idem})


def test_created_resources_read_back(client: TestClient, keys: Keys, world: dict[str, Any]) -> None:
    h = bearer(keys.analyst)
    depot_id = world["depot"]["id"]
    assert client.get(f"/depots/{depot_id}", headers=h).json() == world["depot"]
    assert [d["code"] for d in client.get("/depots", headers=h).json()] == ["HEL1"]
    assert client.get(f"/depots/{depot_id}/fleets", headers=h).json() == [world["fleet"]]
    assert client.get(f"/vehicle-types/{world['van']['id']}", headers=h).json() == world["van"]
    assert client.get(f"/fleets/{world['fleet']['id']}", headers=h).json() == world["fleet"]
    assert len(client.get("/customers", headers=h).json()) == 2


def test_order_registration_is_idempotent(
    client: TestClient, keys: Keys, world: dict[str, Any]
) -> None:
    first = post_order(client, keys.planner, order(world, keys), "order-1")
    again = post_order(client, keys.planner, order(world, keys), "order-1")
    assert first.status_code == again.status_code == 201, first.text
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["window_start"] == f"{DAY}T10:00:00+02:00"  # the depot's zone
    listed = client.get("/orders", headers=bearer(keys.planner)).json()
    assert [o["id"] for o in listed] == [first.json()["id"]]
    events = client.get(f"/orders/{first.json()['id']}/events", headers=bearer(keys.planner))
    assert [e["kind"] for e in events.json()] == ["created"]


@pytest.mark.parametrize(
    ("path", "role"),
    [
        ("/depots/999", "planner"),
        ("/vehicle-types/999", "analyst"),
        ("/fleets/999", "admin"),
        ("/customers/999", "planner"),
        ("/customers/999/places", "planner"),
        ("/orders/999", "planner"),
        ("/orders/999/events", "analyst"),
        ("/plans/999", "planner"),
        ("/plans/999/routes", "planner"),
        ("/plans/999/routes.geojson", "analyst"),
        ("/routes/999", "planner"),
    ],
)
def test_unknown_ids_are_404(
    client: TestClient, keys: Keys, world: dict[str, Any], path: str, role: str
) -> None:
    response = client.get(path, headers=bearer(getattr(keys, role)))
    assert response.status_code == 404, response.text
    assert "not found" in response.json()["detail"]


def test_conflicts_are_409(client: TestClient, keys: Keys, world: dict[str, Any]) -> None:
    h = bearer(keys.planner)
    taken = client.post("/depots", json=DEPOT, headers=h)
    assert taken.status_code == 409
    assert "HEL1" in taken.json()["detail"]
    assert post_order(client, keys.planner, order(world, keys), "k").status_code == 201
    reused = post_order(client, keys.planner, order(world, keys, value_cents=1), "k")
    assert reused.status_code == 409
    assert "idempotency key" in reused.json()["detail"]
    place = {"name": "home", "lat": 60.17, "lon": 24.93}
    again = client.post(f"/customers/{keys.customer_id}/places", json=place, headers=h)
    assert again.status_code == 409


def _bad_depot(change: dict[str, Any]) -> dict[str, Any]:
    return {**DEPOT, "code": "X", **change}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        # a latitude beyond the pole
        ("/depots", _bad_depot({"lat": 95.0}), "body.lat"),
        # not a number of degrees at all
        ("/depots", _bad_depot({"lon": "east"}), "body.lon"),
        # an unknown timezone
        ("/depots", _bad_depot({"timezone": "Mars/Olympus"}), "body.timezone"),
        # a negative capacity
        ("/vehicle-types", {**VEHICLE_TYPE_EXAMPLE, "capacity_parcels": -1},
         "body.capacity_parcels"),
        # a fleet at an unknown depot
        ("/fleets", {**FLEET_EXAMPLE, "depot_id": 999}, "body.depot_id"),
        # a place off the map
        ("/customers/{customer}/places", {"name": "x", "lat": 0.0, "lon": 200.0}, "body.lon"),
    ],
)  # fmt: skip
def test_bad_standing_data_is_422_with_the_field(
    client: TestClient, keys: Keys, world: dict[str, Any], path: str, body: Any, field: str
) -> None:
    url = path.format(customer=keys.customer_id)
    response = client.post(url, json=body, headers=bearer(keys.planner))
    assert response.status_code == 422, response.text
    payload = response.json()
    assert payload["field"] == field
    assert payload["message"].startswith(field)
    assert isinstance(payload["detail"], list) and payload["detail"][0]["loc"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        # a window that ends before it starts
        ({"window_start": f"{DAY}T14:00:00+02:00", "window_end": f"{DAY}T10:00:00+02:00"},
         "body.window_end"),
        # a negative weight
        ({"items": [{"weight_g": -5, "volume_ml": 10}]}, "body.items.0.weight_g"),
        # a negative quantity
        ({"items": [{"quantity": -2, "weight_g": 5, "volume_ml": 10}]}, "body.items.0.quantity"),
        # no lines at all
        ({"items": []}, "body.items"),
        # an unknown depot
        ({"depot_id": 999}, "body.depot_id"),
        # an unknown customer
        ({"customer_id": 999}, "body.customer_id"),
        # another customer's place
        ({"place_id": "bert"}, "body.place_id"),
        # not a date
        ({"service_day": "monday"}, "body.service_day"),
    ],
)  # fmt: skip
def test_bad_orders_are_422_with_the_field(
    client: TestClient, keys: Keys, world: dict[str, Any], changes: dict[str, Any], field: str
) -> None:
    if changes.get("place_id") == "bert":
        changes = {"place_id": world["homes"]["bert"]["id"]}
    response = post_order(client, keys.planner, order(world, keys, **changes), "bad")
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["field"] == field
    assert "—" in body["message"] or body["detail"][0]["type"] != "invalid_input"


def test_missing_idempotency_key_is_422(
    client: TestClient, keys: Keys, world: dict[str, Any]
) -> None:
    response = client.post("/orders", json=order(world, keys), headers=bearer(keys.planner))
    assert response.status_code == 422
    assert response.json()["field"] == "header.idempotency-key"


@pytest.mark.parametrize(
    ("method", "path", "role"),
    [
        ("get", "/depots", "customer"),  # customers see no depots
        ("post", "/depots", "analyst"),  # analysts only read
        ("get", "/customers", "customer"),  # nor the customer list
        ("post", "/customers", "customer"),
        ("post", "/plans", "analyst"),
        ("get", "/plans/1", "customer"),
    ],
)
def test_wrong_role_is_403(
    client: TestClient, keys: Keys, world: dict[str, Any], method: str, path: str, role: str
) -> None:
    response = getattr(client, method)(path, headers=bearer(getattr(keys, role)))
    assert response.status_code == 403, response.text


def test_analyst_may_not_register_orders(
    client: TestClient, keys: Keys, world: dict[str, Any]
) -> None:
    assert post_order(client, keys.analyst, order(world, keys), "a").status_code == 403


def test_bad_order_body_never_500(client: TestClient, keys: Keys, world: dict[str, Any]) -> None:
    for body in (None, [], "x", {"items": "many"}, copy.deepcopy(order(world, keys)) | {"mode": 3}):
        response = post_order(client, keys.planner, body, "z")  # type: ignore[arg-type]
        assert response.status_code == 422, (body, response.text)
