"""Returns through the HTTP API: a customer starts a return of their own delivered order only
(another customer's order is 404), picks a pickup option, and the planner sees the flows;
bad input answers 422 with the field, the wrong state 409."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.routes.stores import PRODUCT_EXAMPLE, STORE_EXAMPLE
from orchestrator.operations.dispatch import dispatch_route, mark_stop_outcome
from orchestrator.planning.plans import plan_day, plan_routes, route_stops
from orchestrator.planning.travel import StraightLineTravel
from routing import Limits
from tests.api.conftest import Keys, bearer
from tests.api.test_resources import order, post_order

LIMITS = Limits(time_limit=1.0, solution_limit=5, seed_with="none")
"""A few dresses to deliver: any solution will do, quickly."""


def today() -> date:
    """Today at the depot (Helsinki), the day the API's returns start."""
    return datetime.now(ZoneInfo("Europe/Helsinki")).date()


@pytest.fixture
def shop(client: TestClient, keys: Keys, world: dict[str, Any]) -> dict[str, Any]:
    """Kallio, taking returns, that sold the black dress in size S every other day of the last
    eight weeks; the catalogue has sizes S and M."""
    h = bearer(keys.planner)
    store = client.post("/stores", json={**STORE_EXAMPLE, "depot_id": world["depot"]["id"]},
                        headers=h).json()  # fmt: skip
    for size in ("S", "M"):
        client.put(f"/products/DRS-BLK-{size}", json={**PRODUCT_EXAMPLE, "size": size}, headers=h)
    return store


def load_sales(client: TestClient, keys: Keys, store: dict[str, Any]) -> None:
    """Kallio's sales of size S, every other day of the 56 days before today."""
    sales = [
        {"sku": "DRS-BLK-S", "day": (today() - timedelta(days=d)).isoformat()}
        for d in range(1, 57, 2)
    ]
    loaded = client.post(f"/stores/{store['id']}/sales", json={"sales": sales},
                         headers=bearer(keys.planner))  # fmt: skip
    assert loaded.status_code == 200, loaded.text


def delivered_dress(
    client: TestClient, keys: Keys, world: dict[str, Any], session: Session, *skus: str | None
) -> list[dict[str, Any]]:
    """Orders of the first customer, one dress each, delivered yesterday (planned, dispatched
    and closed through the planning services)."""
    day = today() - timedelta(days=1)
    made = []
    for k, code in enumerate(skus):
        item: dict[str, Any] = {"description": "dress", "weight_g": 600, "volume_ml": 3_000}
        if code is not None:
            item["sku"] = code
        data = order(world, keys, service_day=day.isoformat(), items=[item],
                     window_start=None, window_end=None)  # fmt: skip
        posted = post_order(client, keys.customer, data, f"dress-{k}")
        assert posted.status_code == 201, posted.text
        made.append(posted.json())
    plan = plan_day(session, world["depot"]["id"], day, limits=LIMITS,
                    travel=StraightLineTravel(detour_factor=1.3))  # fmt: skip
    for route in plan_routes(session, plan.id or 0):
        dispatch_route(session, route.id or 0)
        for stop in route_stops(session, route.id or 0):
            mark_stop_outcome(session, stop.id or 0, "delivered")
    return made


def start(client: TestClient, key: str, placed: dict[str, Any], **changes: Any) -> Any:
    """POST /returns for the order's first line."""
    body = {"order_id": placed["id"], "order_item_id": placed["items"][0]["id"],
            "condition": "A", "reason": "too_large", **changes}  # fmt: skip
    return client.post("/returns", json=body, headers=bearer(key))


def test_a_customer_returns_their_dress_and_picks_a_pickup(
    client: TestClient, keys: Keys, world: dict[str, Any], shop: dict[str, Any], session: Session
) -> None:
    load_sales(client, keys, shop)
    [placed] = delivered_dress(client, keys, world, session, "DRS-BLK-S")
    assert placed["items"][0]["sku"] == "DRS-BLK-S"

    started = start(client, keys.customer, placed)

    assert started.status_code == 201, started.text
    ret = started.json()
    assert ret["status"] == "requested" and ret["destination_name"] == "Store Kallio"
    assert ret["explanation"] == "Your item goes to Store Kallio, where it will be sold again."
    assert ret["customer_id"] == keys.customer_id and ret["pickup_eta"] is None
    h = bearer(keys.customer)
    assert client.get(f"/returns/{ret['id']}", headers=h).json() == ret
    assert [r["id"] for r in client.get("/returns", headers=h).json()] == [ret["id"]]

    options = client.get(f"/returns/{ret['id']}/pickup-options", headers=h)
    assert options.status_code == 200, options.text
    pickups = [o for o in options.json() if o["method"] == "pickup"]
    stores = [o for o in options.json() if o["method"] == "store"]
    assert pickups and [s["store_id"] for s in stores] == [shop["id"]]
    first = pickups[0]
    assert first["place_id"] == world["homes"]["aino"]["id"]
    times = [datetime.fromisoformat(first[k]) for k in
             ("window_start", "eta_start", "eta_end", "window_end")]  # fmt: skip
    assert times == sorted(times) and times[0] >= datetime.now(ZoneInfo("UTC"))

    chosen = client.post(
        f"/returns/{ret['id']}/pickup",
        json={"method": "pickup", "place_id": first["place_id"],
              "window_start": first["window_start"], "window_end": first["window_end"]},
        headers=h,
    )  # fmt: skip
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["status"] == "scheduled"
    assert chosen.json()["pickup_day"] == first["day"]

    flows = client.get(
        f"/returns/flows?depot={world['depot']['id']}&day={first['day']}",
        headers=bearer(keys.analyst),
    )
    assert flows.status_code == 200, flows.text
    (kallio,) = flows.json()["destinations"]
    assert kallio["store_id"] == shop["id"] and kallio["items"] == 1
    assert kallio["by_status"] == {"scheduled": 1}
    staff = client.get(f"/returns/{ret['id']}", headers=bearer(keys.planner)).json()
    assert kallio["expected_recovery_eur"] == staff["expected_recovery_eur"]

    moved = client.post(f"/returns/{ret['id']}/progress", json={"status": "picked_up"},
                        headers=bearer(keys.planner))  # fmt: skip
    assert moved.status_code == 200 and moved.json()["status"] == "picked_up"
    again = client.post(f"/returns/{ret['id']}/progress", json={"status": "picked_up"},
                        headers=bearer(keys.planner))  # fmt: skip
    assert again.status_code == 409 and "already picked_up" in again.json()["detail"]
    late = client.get(f"/returns/{ret['id']}/pickup-options", headers=h)
    assert late.status_code == 409


def test_a_customer_cannot_start_a_return_for_another_customers_order(
    client: TestClient, keys: Keys, world: dict[str, Any], shop: dict[str, Any], session: Session
) -> None:
    load_sales(client, keys, shop)
    [placed] = delivered_dress(client, keys, world, session, "DRS-BLK-S")

    theirs = start(client, keys.other, placed)
    unknown = start(client, keys.other, placed, order_id=999_999)

    assert theirs.status_code == unknown.status_code == 404, theirs.text
    assert theirs.json()["detail"].split()[0] == unknown.json()["detail"].split()[0] == "order"
    assert client.get("/returns", headers=bearer(keys.planner)).json() == []
    # Aino's own return is invisible to Bertil too.
    mine = start(client, keys.customer, placed).json()
    for path in ("/returns/{id}", "/returns/{id}/pickup-options"):
        response = client.get(path.format(id=mine["id"]), headers=bearer(keys.other))
        assert response.status_code == 404, path
    chosen = client.post(f"/returns/{mine['id']}/pickup", json={"method": "store",
                         "store_id": shop["id"]}, headers=bearer(keys.other))  # fmt: skip
    assert chosen.status_code == 404
    assert client.get("/returns", headers=bearer(keys.other)).json() == []


def test_staff_may_start_a_return_but_analysts_may_not(
    client: TestClient, keys: Keys, world: dict[str, Any], shop: dict[str, Any], session: Session
) -> None:
    load_sales(client, keys, shop)
    [placed] = delivered_dress(client, keys, world, session, "DRS-BLK-S")
    assert start(client, keys.analyst, placed).status_code == 403
    made = start(client, keys.planner, placed)
    assert made.status_code == 201 and made.json()["customer_id"] == keys.customer_id
    handed_in = client.post(f"/returns/{made.json()['id']}/pickup",
                            json={"method": "store", "store_id": shop["id"]},
                            headers=bearer(keys.analyst))  # fmt: skip
    assert handed_in.status_code == 403


def test_bad_input_names_the_field(
    client: TestClient, keys: Keys, world: dict[str, Any], shop: dict[str, Any], session: Session
) -> None:
    load_sales(client, keys, shop)
    [good, unknown, bare] = delivered_dress(
        client, keys, world, session, "DRS-BLK-S", "HAT-RED-L", None
    )
    cases = [
        (start(client, keys.customer, unknown), "body.order_item_id", "not in the product"),
        (start(client, keys.customer, bare), "body.order_item_id", "has no SKU"),
        (start(client, keys.customer, good, condition="Z"), "body.condition", ""),
        (start(client, keys.customer, good, reason=7), "body.reason", ""),
    ]
    for response, field, words in cases:
        assert response.status_code == 422, response.text
        assert response.json()["field"] == field
        assert words in response.json()["message"]
    ret = start(client, keys.customer, good).json()
    choice = client.post(f"/returns/{ret['id']}/pickup", json={"method": "pickup"},
                         headers=bearer(keys.customer))  # fmt: skip
    assert choice.status_code == 422 and choice.json()["field"] == "body.place_id"
    reversed_window = client.post(
        f"/returns/{ret['id']}/pickup",
        json={"method": "pickup", "place_id": world["homes"]["aino"]["id"],
              "window_start": "2099-03-05T14:00:00+02:00",
              "window_end": "2099-03-05T12:00:00+02:00"},
        headers=bearer(keys.customer),
    )  # fmt: skip
    assert reversed_window.status_code == 422
    assert reversed_window.json()["field"] == "body.window_end"
    again = start(client, keys.customer, good)
    assert again.status_code == 409 and "already being returned" in again.json()["detail"]


def test_missing_history_is_422(
    client: TestClient, keys: Keys, world: dict[str, Any], shop: dict[str, Any], session: Session
) -> None:
    # No store sales loaded; the only online sale is the dress coming back.
    [placed] = delivered_dress(client, keys, world, session, "DRS-BLK-S")
    response = start(client, keys.customer, placed)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "body.sales_history"
    assert "load the stores' daily sales" in response.json()["message"]


def test_an_order_not_yet_delivered_is_a_conflict(
    client: TestClient, keys: Keys, world: dict[str, Any], shop: dict[str, Any]
) -> None:
    placed = post_order(
        client, keys.customer,
        order(world, keys, items=[{"weight_g": 600, "volume_ml": 3_000, "sku": "DRS-BLK-S"}]),
        "open",
    ).json()  # fmt: skip
    response = start(client, keys.customer, placed)
    assert response.status_code == 409 and "not delivered" in response.json()["detail"]


def test_flows_are_for_staff_and_name_an_unknown_depot(
    client: TestClient, keys: Keys, world: dict[str, Any]
) -> None:
    depot = world["depot"]["id"]
    empty = client.get(f"/returns/flows?depot={depot}", headers=bearer(keys.planner))
    assert empty.status_code == 200
    assert empty.json() == {"depot_id": depot, "day": None, "items": 0,
                            "expected_recovery_eur": 0.0, "destinations": []}  # fmt: skip
    assert (
        client.get(f"/returns/flows?depot={depot}", headers=bearer(keys.customer)).status_code
        == 403
    )
    unknown = client.get("/returns/flows?depot=999", headers=bearer(keys.planner))
    assert unknown.status_code == 422 and unknown.json()["field"] == "query.depot"
    missing = client.get("/returns/flows", headers=bearer(keys.planner))
    assert missing.status_code == 422 and missing.json()["field"] == "query.depot"
    assert client.get("/returns/999", headers=bearer(keys.planner)).status_code == 404
    progress = client.post("/returns/999/progress", json={"status": "received"},
                           headers=bearer(keys.planner))  # fmt: skip
    assert progress.status_code == 404
