"""A customer key sees only its own customer's data: other customers' resources are 404."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Keys, bearer
from tests.api.test_resources import order, post_order


@pytest.fixture
def orders(client: TestClient, keys: Keys, world: dict[str, Any]) -> dict[str, int]:
    """One order of each customer, registered by the planner."""
    mine = post_order(client, keys.planner, order(world, keys), "aino-1").json()
    theirs = order(
        world, keys, customer_id=keys.other_customer_id, place_id=world["homes"]["bert"]["id"]
    )
    other = post_order(client, keys.planner, theirs, "bert-1").json()
    return {"mine": mine["id"], "theirs": other["id"]}


@pytest.mark.parametrize(
    "path",
    [
        "/orders/{theirs}",
        "/orders/{theirs}/events",
        "/customers/{other}",
        "/customers/{other}/places",
    ],
)
def test_other_customers_data_is_404_not_403(
    client: TestClient, keys: Keys, orders: dict[str, int], path: str
) -> None:
    url = path.format(theirs=orders["theirs"], other=keys.other_customer_id)
    response = client.get(url, headers=bearer(keys.customer))
    assert response.status_code == 404
    # The very same answer as for an id that does not exist.
    unknown = client.get(path.format(theirs=999_999, other=999_999), headers=bearer(keys.customer))
    assert unknown.status_code == 404
    assert response.json()["detail"].split()[0] == unknown.json()["detail"].split()[0]


def test_own_data_is_visible(client: TestClient, keys: Keys, orders: dict[str, int]) -> None:
    h = bearer(keys.customer)
    assert client.get(f"/orders/{orders['mine']}", headers=h).status_code == 200
    assert client.get(f"/customers/{keys.customer_id}", headers=h).json()["name"] == "Aino Virtanen"
    places = client.get(f"/customers/{keys.customer_id}/places", headers=h).json()
    assert [p["customer_id"] for p in places] == [keys.customer_id]


def test_order_list_holds_only_own_orders(
    client: TestClient, keys: Keys, orders: dict[str, int]
) -> None:
    mine = client.get("/orders", headers=bearer(keys.customer)).json()
    assert [o["id"] for o in mine] == [orders["mine"]]
    theirs = client.get("/orders", headers=bearer(keys.other)).json()
    assert [o["id"] for o in theirs] == [orders["theirs"]]
    everyone = client.get("/orders", headers=bearer(keys.analyst)).json()
    assert {o["id"] for o in everyone} == set(orders.values())


def test_customer_may_not_order_for_another_customer(
    client: TestClient, keys: Keys, world: dict[str, Any]
) -> None:
    data = order(world, keys, customer_id=keys.other_customer_id, place_id=None)
    response = post_order(client, keys.customer, data, "sneaky")
    assert response.status_code == 422
    assert response.json()["field"] == "body.customer_id"
    own = post_order(client, keys.customer, order(world, keys), "fine")
    assert own.status_code == 201


def test_customer_may_not_use_another_customers_place(
    client: TestClient, keys: Keys, world: dict[str, Any]
) -> None:
    data = order(world, keys, place_id=world["homes"]["bert"]["id"])
    response = post_order(client, keys.customer, data, "their-place")
    assert response.status_code == 422
    assert response.json()["field"] == "body.place_id"


def test_customer_key_conflict_names_no_other_order(
    client: TestClient, keys: Keys, world: dict[str, Any], orders: dict[str, int]
) -> None:
    response = post_order(client, keys.customer, order(world, keys, value_cents=7), "aino-1")
    assert response.status_code == 409
    assert str(orders["mine"]) not in response.json()["detail"]


def test_customer_may_add_own_place_only(client: TestClient, keys: Keys) -> None:
    place = {"kind": "cafe", "name": "cafe", "lat": 60.17, "lon": 24.94}
    h = bearer(keys.customer)
    assert (
        client.post(f"/customers/{keys.customer_id}/places", json=place, headers=h).status_code
        == 201
    )
    other = client.post(f"/customers/{keys.other_customer_id}/places", json=place, headers=h)
    assert other.status_code == 404
