"""Stores, their sales and stock, and the product catalogue through the HTTP API: planners
write, staff read, customers neither; 404 for unknown ids, 409 for a taken code or a store
returns head to, 422 with the field path for every bad record."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.routes.stores import PRODUCT_EXAMPLE, STORE_EXAMPLE
from tests.api.conftest import Keys, bearer


@pytest.fixture
def store(client: TestClient, keys: Keys, world: dict[str, Any]) -> dict[str, Any]:
    """Store Kallio of the world's depot, taking returns, and the dress in two sizes."""
    h = bearer(keys.planner)
    made = client.post("/stores", json={**STORE_EXAMPLE, "depot_id": world["depot"]["id"]},
                       headers=h)  # fmt: skip
    assert made.status_code == 201, made.text
    for size in ("S", "M"):
        product = client.put(f"/products/DRS-BLK-{size}", json={**PRODUCT_EXAMPLE, "size": size},
                             headers=h)  # fmt: skip
        assert product.status_code == 200, product.text
    return made.json()


def test_stores_are_created_read_changed_and_deleted(
    client: TestClient, keys: Keys, store: dict[str, Any]
) -> None:
    h = bearer(keys.planner)
    url = f"/stores/{store['id']}"
    assert client.get(url, headers=bearer(keys.analyst)).json() == store
    assert [s["code"] for s in client.get("/stores?accepts_returns=true", headers=h).json()] == [
        "KAL"
    ]
    assert client.get("/stores?accepts_returns=false", headers=h).json() == []
    changed = client.patch(url, json={"name": "Kallio flagship"}, headers=h)
    assert changed.status_code == 200 and changed.json()["name"] == "Kallio flagship"
    assert changed.json()["accepts_returns"] is True
    assert client.delete(url, headers=h).status_code == 204
    assert client.get(url, headers=h).status_code == 404
    assert client.delete(url, headers=h).status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/stores", STORE_EXAMPLE),
        ("patch", "/stores/{id}", {"name": "x"}),
        ("delete", "/stores/{id}", None),
        ("post", "/stores/{id}/sales", {"sales": [{"sku": "DRS-BLK-S", "day": "2025-03-01"}]}),
        ("put", "/stores/{id}/stock", {"stock": []}),
        ("put", "/products/DRS-BLK-L", PRODUCT_EXAMPLE),
    ],
)
@pytest.mark.parametrize("role", ["analyst", "customer"])
def test_only_planners_and_admins_write(
    client: TestClient,
    keys: Keys,
    store: dict[str, Any],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    role: str,
) -> None:
    url = path.format(id=store["id"])
    kwargs: dict[str, Any] = {"headers": bearer(getattr(keys, role))}
    if body is not None:
        kwargs["json"] = body
    response = client.request(method.upper(), url, **kwargs)
    assert response.status_code == 403, response.text
    assert "planner" in response.json()["detail"]


def test_customers_read_no_store_data(
    client: TestClient, keys: Keys, store: dict[str, Any]
) -> None:
    h = bearer(keys.customer)
    for url in ("/stores", f"/stores/{store['id']}", f"/stores/{store['id']}/stock",
                "/products", "/products/DRS-BLK-S"):  # fmt: skip
        assert client.get(url, headers=h).status_code == 403, url


def test_a_taken_code_is_a_conflict_and_an_unknown_depot_is_named(
    client: TestClient, keys: Keys, store: dict[str, Any]
) -> None:
    h = bearer(keys.planner)
    again = client.post("/stores", json=STORE_EXAMPLE, headers=h)
    assert again.status_code == 409 and "KAL" in again.json()["detail"]
    nowhere = client.post("/stores", json={**STORE_EXAMPLE, "code": "X", "depot_id": 999},
                          headers=h)  # fmt: skip
    assert nowhere.status_code == 422 and nowhere.json()["field"] == "body.depot_id"
    moved = client.patch(f"/stores/{store['id']}", json={"depot_id": 999}, headers=h)
    assert moved.status_code == 422 and moved.json()["field"] == "body.depot_id"


def test_sales_load_and_replace_days(client: TestClient, keys: Keys, store: dict[str, Any]) -> None:
    h = bearer(keys.planner)
    url = f"/stores/{store['id']}/sales"
    first = client.post(url, json={"sales": [{"sku": "DRS-BLK-S", "day": "2025-03-01", "units": 2},
                                             {"sku": "DRS-BLK-M", "day": "2025-03-02"}]},
                        headers=h)  # fmt: skip
    assert first.status_code == 200, first.text
    assert first.json() == {
        "store_id": store["id"], "records": 2, "units": 3,
        "first_day": "2025-03-01", "last_day": "2025-03-02",
    }  # fmt: skip
    again = client.post(url, json={"sales": [{"sku": "DRS-BLK-S", "day": "2025-03-01"}]},
                        headers=h)  # fmt: skip
    assert again.status_code == 200 and again.json()["units"] == 1


@pytest.mark.parametrize(
    ("sales", "field"),
    [
        ([{"sku": "HAT-RED-L", "day": "2025-03-01"}], "body.sales.0.sku"),  # unknown SKU
        ([{"sku": "DRS-BLK-S", "day": "2025-03-01", "units": -2}], "body.sales.0.units"),
        ([{"sku": "DRS-BLK-S", "day": "31.3.2025"}], "body.sales.0.day"),  # ISO dates
        ([{"sku": "DRS-BLK-S", "day": "2025-03-01"}] * 2, "body.sales.1"),  # twice
    ],
)
def test_bad_sales_are_422_with_the_record(
    client: TestClient, keys: Keys, store: dict[str, Any], sales: list[Any], field: str
) -> None:
    response = client.post(
        f"/stores/{store['id']}/sales", json={"sales": sales}, headers=bearer(keys.planner)
    )
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert response.json()["message"].startswith(field)


def test_unknown_sku_says_what_to_do(client: TestClient, keys: Keys, store: dict[str, Any]) -> None:
    response = client.post(
        f"/stores/{store['id']}/sales",
        json={"sales": [{"sku": "HAT-RED-L", "day": "2025-03-01"}]},
        headers=bearer(keys.planner),
    )
    assert "'HAT-RED-L' is not in the product catalogue" in response.json()["message"]
    assert "add the product first" in response.json()["message"]


def test_stock_is_replaced_and_read(client: TestClient, keys: Keys, store: dict[str, Any]) -> None:
    h = bearer(keys.planner)
    url = f"/stores/{store['id']}/stock"
    put = client.put(url, json={"stock": [{"sku": "DRS-BLK-S", "units": 2}]}, headers=h)
    assert put.status_code == 200 and put.json() == [{"sku": "DRS-BLK-S", "units": 2}]
    assert client.get(url, headers=bearer(keys.analyst)).json() == put.json()
    bad = client.put(url, json={"stock": [{"sku": "DRS-BLK-S", "units": -1}]}, headers=h)
    assert bad.status_code == 422 and bad.json()["field"] == "body.stock.0.units"
    unknown = client.put(url, json={"stock": [{"sku": "nope", "units": 1}]}, headers=h)
    assert unknown.status_code == 422 and unknown.json()["field"] == "body.stock.0.sku"
    assert client.get(url, headers=h).json() == put.json()
    assert client.get("/stores/999/stock", headers=h).status_code == 404
    assert client.put("/stores/999/stock", json={"stock": []}, headers=h).status_code == 404


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"list_price_cents": -500}, "body.list_price_cents"),  # a negative price
        ({"list_price_cents": "cheap"}, "body.list_price_cents"),  # cents, a whole number
        ({"category": ""}, "body.category"),  # empty
    ],
)
def test_bad_products_are_422_with_the_field(
    client: TestClient, keys: Keys, changes: dict[str, Any], field: str
) -> None:
    response = client.put(
        "/products/DRS-BLK-L", json={**PRODUCT_EXAMPLE, **changes}, headers=bearer(keys.planner)
    )
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field


def test_products_read_back(client: TestClient, keys: Keys, store: dict[str, Any]) -> None:
    h = bearer(keys.analyst)
    assert client.get("/products/DRS-BLK-S", headers=h).json() == {
        **PRODUCT_EXAMPLE, "sku": "DRS-BLK-S", "retailer_id": 1,  # the default retailer's
    }  # fmt: skip
    assert [p["sku"] for p in client.get("/products", headers=h).json()] == [
        "DRS-BLK-M", "DRS-BLK-S",
    ]  # fmt: skip
    assert client.get("/products?category=jeans", headers=h).json() == []
    missing = client.get("/products/NOPE", headers=h)
    assert missing.status_code == 404 and "product" in missing.json()["detail"]
    too_long = client.put("/products/" + "X" * 65, json=PRODUCT_EXAMPLE,
                          headers=bearer(keys.planner))  # fmt: skip
    assert too_long.status_code == 422 and too_long.json()["field"] == "path.sku"
