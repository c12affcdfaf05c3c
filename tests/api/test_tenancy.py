"""Several retailers on one fleet: a retailer's key sees and writes only its retailer's rows.

The walk (:func:`test_another_retailers_id_is_404_on_every_endpoint`) is made from the app's
own routes: every operation taking an id of a retailer-owned row
(:data:`orchestrator.access.tenancy.OWNED_IDS`) is called with retailer A's key and retailer
B's ids, and must answer 404 with the words of an id that does not exist. A path parameter of a
new name fails :func:`test_every_path_id_is_owned_or_the_carriers` until it is classed, so a
new endpoint cannot be left out of the walk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.deps import carrier_only, key_roles
from api.pages.session import BOARD_COOKIE
from orchestrator.access.keys import create_api_key
from orchestrator.access.tenancy import CARRIER_ONLY, OWNED_IDS
from orchestrator.intake.catalog import add_place, create_customer, create_store
from orchestrator.intake.orders import order_items, register_order
from orchestrator.intake.retailers import create_retailer
from orchestrator.models import DEFAULT_RETAILER_ID, ItemReturn, OptionHold, Order, Role
from orchestrator.returns_flow.catalog import put_product
from tests.api.conftest import Keys, bearer
from tests.api.test_plans import wait_for
from tests.api.test_resources import DAY

CARRIER_IDS = {
    "trip_id",  # a commuter's trip, offer and job: the carrier's couriers
    "offer_id",
    "job_id",
    "plan_id",
    "route_id",
    "stop_id",
    "depot_id",
    "fleet_id",
    "vehicle_type_id",
    "simulation_id",
    "webhook_id",
    "name",  # a simulation's plot
}
"""Path parameters naming the carrier's rows (or none at all): not a retailer's to hide."""
ALWAYS_CARRIERS = {"plan_id", "route_id", "stop_id", "simulation_id", "webhook_id", "trip_id",
                   "offer_id", "job_id"}  # fmt: skip
"""Path parameters whose every endpoint is the carrier's alone (403 for a retailer's key)."""


@dataclass(frozen=True)
class Tenant:
    """One retailer's keys and rows."""

    retailer: int
    planner: str
    analyst: str
    customer_key: str
    ids: dict[str, Any]


def _tenant(session: Session, name: str, world: dict[str, Any], lat: float) -> Tenant:
    """A retailer with a customer at home, an order, a store, a product, a hold, a return."""
    retailer = create_retailer(session, {"name": name}).id or 0
    customer = create_customer(session, {"name": f"{name} customer"}, retailer_id=retailer)
    assert customer.id is not None
    home = add_place(session, customer.id, {"kind": "home", "name": "home", "lat": lat,
                                            "lon": 24.9310})  # fmt: skip
    order = register_order(
        session,
        {"customer_id": customer.id, "depot_id": world["depot"]["id"], "service_day": DAY,
         "place_id": home.id, "items": [{"description": "shoes", "weight_g": 1_200,
                                         "volume_ml": 9_000, "sku": f"{name}-SKU"}]},
        f"{name}-1",
    )  # fmt: skip
    assert order.id is not None and order.retailer_id == retailer
    store = create_store(session, {"code": f"{name}-S", "name": f"{name} store", "lat": lat,
                                   "lon": 24.95, "accepts_returns": True},
                         retailer_id=retailer)  # fmt: skip
    shoe = {"style": "S", "category": "shoes", "size": "42", "colour": "black",
            "list_price_cents": 5_000}  # fmt: skip
    product = put_product(session, f"{name}-SKU", shoe, retailer_id=retailer)
    at = datetime(2025, 3, 3, 9, tzinfo=UTC)
    hold = OptionHold(order_id=order.id, customer_id=customer.id, depot_id=order.depot_id,
                      service_day=order.service_day, place_id=home.id or 0, window_start=at,
                      window_end=at + timedelta(hours=2), service_level="standard",
                      vehicle_type="van", vehicle_id="van-1", eta_start=at, eta_end=at,
                      price_eur=0.0, marginal_cost_eur=1.0, co2_g=10.0,
                      expires_at=at + timedelta(days=1000))  # fmt: skip
    (line,) = order_items(session, order.id)
    ret = ItemReturn(customer_id=customer.id, order_id=order.id, order_item_id=line.id or 0,
                     depot_id=order.depot_id, sku=product.sku, condition="A",
                     reason="too_large", destination_kind="store",
                     destination_id=f"store-{store.id}", destination_store_id=store.id,
                     destination_name=store.name, expected_recovery_eur=40.0,
                     resale_probability=0.8, explanation="sells there", transfer_km=1.0,
                     transfer_co2_kg=0.01, retailer_id=retailer)  # fmt: skip
    session.add_all([hold, ret])
    session.commit()
    return Tenant(
        retailer=retailer,
        planner=create_api_key(session, "planner", retailer_id=retailer),
        analyst=create_api_key(session, "analyst", retailer_id=retailer),
        customer_key=create_api_key(session, "customer", customer.id),
        ids={
            "customer_id": customer.id,
            "order_id": order.id,
            "store_id": store.id,
            "sku": product.sku,
            "hold_id": hold.id,
            "return_id": ret.id,
            "retailer_id": retailer,
            "place_id": home.id,
        },
    )


@pytest.fixture
def tenants(session: Session, world: dict[str, Any]) -> tuple[Tenant, Tenant]:
    """Retailers A and B on the one fleet of ``world``, each with its keys and rows."""
    return _tenant(session, "A", world, 60.1755), _tenant(session, "B", world, 60.1800)


def _api_routes(app: FastAPI) -> list[APIRoute]:
    """Every route of the app that needs a key (the included routers' too)."""
    routes, pending = [], list(app.routes)
    while pending:
        route = pending.pop(0)
        included = getattr(route, "original_router", None)  # an included router (FastAPI 0.16x)
        if included is not None:
            pending.extend(included.routes)
        elif isinstance(route, APIRoute) and key_roles(route) is not None:
            routes.append(route)
    return routes


def _params(route: APIRoute) -> list[str]:
    return re.findall(r"{(\w+)(?::\w+)?}", route.path)


def _is_carriers(route: APIRoute) -> bool:
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        if dependency.call is carrier_only:
            return True
        pending.extend(dependency.dependencies)
    return False


def _owned_operations(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    found = []
    for route in _api_routes(app):
        if set(_params(route)) & set(OWNED_IDS):
            found += [(method, route.path, route) for method in sorted(route.methods)]
    return found


def _example(app: FastAPI, method: str, path: str) -> Any:
    """The operation's documented request body (every body has one), or ``None``."""
    operation = app.openapi()["paths"][path][method.lower()]
    body = operation.get("requestBody")
    if body is None:
        return None
    media = body["content"]["application/json"]
    if "examples" in media:
        return next(iter(media["examples"].values()))["value"]
    schema = media["schema"]
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = app.openapi()["components"]["schemas"][name]
    return schema.get("examples", [schema.get("example")])[0]


def _key_for(route: APIRoute, tenant: Tenant) -> str:
    """A key of ``tenant`` of a role the route admits (planner first)."""
    roles = key_roles(route) or frozenset()
    for role, key in ((Role.PLANNER, tenant.planner), (Role.ANALYST, tenant.analyst),
                      (Role.CUSTOMER, tenant.customer_key)):  # fmt: skip
        if role in roles:
            return key
    raise AssertionError(f"{route.path}: no retailer's key of roles {sorted(roles)}")


def _call(client: TestClient, method: str, url: str, key: str, body: Any) -> Any:
    headers = {**bearer(key), "Idempotency-Key": "walk"}
    return client.request(method, url, headers=headers, json=body)


def test_every_path_id_is_owned_or_the_carriers(app: FastAPI) -> None:
    names = {name for route in _api_routes(app) for name in _params(route)}
    unclassed = names - set(OWNED_IDS) - CARRIER_IDS
    assert not unclassed, (
        f"path parameters {sorted(unclassed)}: add them to OWNED_IDS "
        "(orchestrator.access.tenancy) when they name a retailer's rows, else to CARRIER_IDS"
    )
    # Every endpoint of the carrier's own resources refuses a retailer's key.
    loose = [r.path for r in _api_routes(app) if set(_params(r)) & ALWAYS_CARRIERS
             and not _is_carriers(r)]  # fmt: skip
    assert loose == []
    assert len(_owned_operations(app)) >= 25  # the walk below is not empty


def _walk(app: FastAPI) -> list[Any]:
    return [pytest.param(m, p, id=f"{m} {p}") for m, p, _ in _owned_operations(app)]


def _app_for_walk() -> FastAPI:
    from api.app import create_app
    from orchestrator.settings import Settings

    return create_app(Settings(database_url="sqlite://"))


@pytest.mark.parametrize(("method", "path"), _walk(_app_for_walk()))
def test_another_retailers_id_is_404_on_every_endpoint(
    app: FastAPI, client: TestClient, tenants: tuple[Tenant, Tenant], method: str, path: str
) -> None:
    mine, theirs = tenants
    (route,) = [r for m, p, r in _owned_operations(app) if (m, p) == (method, path)]
    key = _key_for(route, mine)
    body = _example(app, method, path)
    # Every id of the path B's; a parameter not owned by a retailer (a stop, a plot) anything.
    values = {name: theirs.ids.get(name, 1) for name in _params(route)}
    response = _call(client, method, path.format(**values), key, body)
    assert response.status_code == 404, response.text
    # The very words of an id that does not exist: nothing tells B's rows from no rows.
    unknown = {name: ("NO-SUCH-SKU" if name == "sku" else 999_999_999) for name in values}
    owned = next(n for n in values if n in OWNED_IDS)
    resource = OWNED_IDS[owned].resource
    assert response.json()["detail"] == (f"{resource} {values[owned]!r} not found — check the id")
    missing = _call(client, method, path.format(**{**values, **{owned: unknown[owned]}}), key,
                    body)  # fmt: skip
    if missing.status_code == 404:
        assert missing.json()["detail"].replace(repr(unknown[owned]), "X") == response.json()[
            "detail"
        ].replace(repr(values[owned]), "X")
    # And the same call with A's own ids is not refused as unknown.
    own = {name: mine.ids.get(name, 1) for name in values}
    assert _call(client, method, path.format(**own), key, body).status_code != 404 or (
        "stop" in path or "plots" in path
    )


def test_carrier_resources_are_403_for_a_retailers_key(
    app: FastAPI, client: TestClient, tenants: tuple[Tenant, Tenant], world: dict[str, Any]
) -> None:
    mine, _ = tenants
    carriers = [r for r in _api_routes(app) if _is_carriers(r)]
    paths = {(m, r.path) for r in carriers for m in r.methods}
    for expected in (("POST", "/plans"), ("GET", "/plans"), ("GET", "/plans/{plan_id}"),
                     ("GET", "/routes/{route_id}"), ("POST", "/depots"),
                     ("POST", "/fleets"), ("POST", "/vehicle-types"),
                     ("GET", "/depots/{depot_id}/kpis"), ("GET", "/returns/flows"),
                     ("POST", "/retailers"), ("GET", "/webhooks"),
                     ("POST", "/simulations")):  # fmt: skip
        assert expected in paths
    for route in carriers:
        for method in route.methods:
            key = mine.analyst if Role.PLANNER not in (key_roles(route) or ()) else mine.planner
            url = route.path.format(**{n: 1 for n in _params(route)})
            answer = _call(client, method, url, key, _example(app, method, route.path))
            assert answer.status_code == 403, (method, route.path, answer.text)
            assert answer.json()["detail"] == CARRIER_ONLY
    # Reading the depots to place orders is fine.
    depots = client.get("/depots", headers=bearer(mine.planner))
    assert [d["id"] for d in depots.json()] == [world["depot"]["id"]]


def test_lists_hold_only_the_retailers_rows(
    client: TestClient, keys: Keys, tenants: tuple[Tenant, Tenant]
) -> None:
    mine, theirs = tenants
    for path, field, name in (("/customers", "id", "customer_id"), ("/orders", "id", "order_id"),
                              ("/stores", "id", "store_id"), ("/products", "sku", "sku"),
                              ("/returns", "id", "return_id"),
                              ("/retailers", "id", "retailer_id")):  # fmt: skip
        listed = client.get(path, headers=bearer(mine.planner))
        assert listed.status_code == 200, (path, listed.text)
        assert [row[field] for row in listed.json()] == [mine.ids[name]], path
        everyone = {row[field] for row in client.get(path, headers=bearer(keys.analyst)).json()}
        assert {mine.ids[name], theirs.ids[name]} <= everyone, path
    # A retailer's customer sees its own order only, as before.
    orders = client.get("/orders", headers=bearer(mine.customer_key)).json()
    assert [o["id"] for o in orders] == [mine.ids["order_id"]]


def test_writes_are_the_keys_retailers(
    client: TestClient, session: Session, tenants: tuple[Tenant, Tenant], world: dict[str, Any]
) -> None:
    mine, theirs = tenants
    h = bearer(mine.planner)
    made = client.post("/customers", json={"name": "Cai"}, headers=h)
    assert made.status_code == 201, made.text
    listed = {c["id"] for c in client.get("/customers", headers=h).json()}
    assert made.json()["id"] in listed
    assert made.json()["id"] not in {
        c["id"] for c in client.get("/customers", headers=bearer(theirs.planner)).json()
    }
    # Naming another retailer for a write is answered as a retailer that does not exist.
    other = client.post(f"/customers?retailer_id={theirs.retailer}", json={"name": "X"}, headers=h)
    assert other.status_code == 422 and other.json()["field"] == "query.retailer_id"
    store = {"code": "A-2", "name": "A two", "lat": 60.17, "lon": 24.94}
    assert client.post("/stores", json=store, headers=h).status_code == 201
    assert {s["code"] for s in client.get("/stores", headers=h).json()} == {"A-S", "A-2"}
    product = {"style": "S", "category": "shoes", "size": "42", "colour": "red",
               "list_price_cents": 100}  # fmt: skip
    assert client.put("/products/A-NEW", json=product, headers=h).status_code == 200
    assert "A-NEW" not in {
        p["sku"] for p in client.get("/products", headers=bearer(theirs.analyst)).json()
    }
    # An order for B's customer is refused as for a customer that does not exist; A's own is A's.
    line = {"description": "x", "weight_g": 1, "volume_ml": 1}
    order = {"customer_id": theirs.ids["customer_id"], "depot_id": world["depot"]["id"],
             "service_day": DAY, "items": [line]}  # fmt: skip
    refused = client.post("/orders", json=order, headers={**h, "Idempotency-Key": "B-1"})
    assert refused.status_code == 422 and refused.json()["field"] == "body.customer_id"
    assert str(theirs.ids["order_id"]) not in refused.text  # B's key "B-1" found nothing
    order["customer_id"] = mine.ids["customer_id"]
    placed = client.post("/orders", json=order, headers={**h, "Idempotency-Key": "A-2"})
    assert placed.status_code == 201, placed.text
    stored = session.get(Order, placed.json()["id"])
    assert stored is not None and stored.retailer_id == mine.retailer
    # A return of B's order (named in the body) is 404.
    ret = {"order_id": theirs.ids["order_id"], "order_item_id": 1, "condition": "A",
           "reason": "too_large"}  # fmt: skip
    assert client.post("/returns", json=ret, headers=h).status_code == 404
    # The carrier writes for the retailer it names, or for the default retailer.
    carrier = create_api_key(session, "planner")
    for query, owner in ((f"?retailer_id={theirs.retailer}", theirs.retailer),
                         ("", DEFAULT_RETAILER_ID)):  # fmt: skip
        made = client.post(f"/customers{query}", json={"name": "Dee"}, headers=bearer(carrier))
        assert made.status_code == 201
        reader = bearer(theirs.planner if owner == theirs.retailer else carrier)
        assert client.get(f"/customers/{made.json()['id']}", headers=reader).status_code == 200
    assert client.post("/retailers", json={"name": "C"}, headers=bearer(carrier)).json()["id"] > 3


def test_a_carrier_planner_plans_every_retailers_orders(
    client: TestClient, keys: Keys, tenants: tuple[Tenant, Tenant], world: dict[str, Any]
) -> None:
    mine, theirs = tenants
    body = {"depot_id": world["depot"]["id"], "service_day": DAY, "time_limit_s": 1}
    accepted = client.post("/plans", json=body, headers=bearer(keys.planner))
    assert accepted.status_code == 202, accepted.text
    job = wait_for(client, accepted.headers["Location"], keys.planner)
    assert job["status"] == "succeeded", job
    plan = client.get(f"/plans/{job['id']}/routes", headers=bearer(keys.planner)).json()
    served = {stop["order_id"] for route in plan["routes"] for stop in route["stops"]}
    assert {mine.ids["order_id"], theirs.ids["order_id"]} <= served


def test_the_board_refuses_a_retailers_key(
    client: TestClient, keys: Keys, tenants: tuple[Tenant, Tenant]
) -> None:
    client.base_url = client.base_url.copy_with(scheme="https")  # the board's Secure cookie
    form = {"key": tenants[0].planner}
    refused = client.post("/board/sign-in", data=form, headers={"Origin": "https://testserver"},
                          follow_redirects=False)  # fmt: skip
    assert refused.status_code == 403 and "carrier key" in refused.text
    assert "set-cookie" not in refused.headers
    # A retailer's key in the cookie opens neither the board nor a manifest.
    client.cookies.set(BOARD_COOKIE, tenants[0].planner)
    assert 'data-testid="sign-in"' in client.get("/board").text
    manifest = client.get("/routes/1/manifest", follow_redirects=False)
    assert manifest.status_code in (303, 307) and "/board" in manifest.headers["location"]
