"""Bad input answers a clear 422 naming the field, never a 500 (issue #13).

Every value must fit what the store holds: 64-bit integers, finite floats, strings that
encode as UTF-8 (no lone surrogates, no NUL), datetimes every time zone can convert to UTC.
The 422 body echoes at most a short prefix of a bad value. Bodies are sent as raw JSON text,
since Python's encoder would refuse ``NaN`` or a lone surrogate before the server sees it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.errors import ECHO_PREFIX
from api.routes.fleet import VEHICLE_TYPE_EXAMPLE
from orchestrator.models import MAX_ITEMS_PER_ORDER
from tests.api.conftest import Keys, bearer

HUGE = "99999999999999999999"  # > 2**64


def _post(client: TestClient, path: str, raw: str, key: str, **headers: str) -> Any:
    return client.post(
        path,
        content=raw.encode("utf-8", "surrogatepass"),
        headers={**bearer(key), "Content-Type": "application/json", **headers},
    )


def _order(world: dict[str, Any], keys: Keys, **over: Any) -> dict[str, Any]:
    order: dict[str, Any] = {
        "customer_id": keys.customer_id,
        "depot_id": world["depot"]["id"],
        "service_day": "2025-03-03",
        "place_id": world["homes"]["aino"]["id"],
        "window_start": "2025-03-03T10:00:00+02:00",
        "window_end": "2025-03-03T12:00:00+02:00",
        "items": [{"description": "shoes", "weight_g": 1200, "volume_ml": 9000}],
    }
    return {**order, **over}


def _unprocessable(response: Any, field: str) -> dict[str, Any]:
    assert response.status_code == 422, (response.status_code, response.text[:500])
    body: dict[str, Any] = response.json()
    assert body["field"] == field, body
    assert body["message"].startswith(field), body
    return body


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (f"/orders/{HUGE}", "path.order_id"),
        (f"/orders/{HUGE}/events", "path.order_id"),
        (f"/customers/{HUGE}", "path.customer_id"),
        (f"/customers/{HUGE}/places", "path.customer_id"),
        (f"/depots/{HUGE}", "path.depot_id"),
        (f"/depots/{HUGE}/fleets", "path.depot_id"),
        (f"/vehicle-types/{HUGE}", "path.vehicle_type_id"),
        (f"/fleets/{HUGE}", "path.fleet_id"),
        (f"/plans/{HUGE}", "path.plan_id"),
        (f"/plans/{HUGE}/routes", "path.plan_id"),
        (f"/routes/{HUGE}", "path.route_id"),
        (f"/returns/{HUGE}", "path.return_id"),
        (f"/stores/{HUGE}", "path.store_id"),
        (f"/simulations/{HUGE}", "path.simulation_id"),
        ("/orders?depot_id=" + HUGE, "query.depot_id"),
        ("/returns?depot_id=" + HUGE, "query.depot_id"),
        ("/orders?offset=" + HUGE, "query.offset"),
    ],
)
def test_integers_beyond_64_bits_in_paths_and_queries_answer_422(
    client: TestClient, keys: Keys, path: str, field: str
) -> None:
    key = keys.analyst if path.startswith("/simulations") else keys.admin
    response = client.get(path, headers=bearer(key))
    body = _unprocessable(response, field)
    assert "9223372036854775807" in body["message"]


def test_integers_beyond_64_bits_in_bodies_answer_422(
    client: TestClient, keys: Keys, world: dict[str, Any]
) -> None:
    raw = json.dumps(_order(world, keys, value_cents=0)).replace(
        '"value_cents": 0', f'"value_cents": {HUGE}'
    )
    _unprocessable(
        _post(client, "/orders", raw, keys.planner, **{"Idempotency-Key": "a"}), "body.value_cents"
    )
    raw = json.dumps({**VEHICLE_TYPE_EXAMPLE, "capacity_parcels": 1}).replace(
        '"capacity_parcels": 1', f'"capacity_parcels": {HUGE}'
    )
    _unprocessable(_post(client, "/vehicle-types", raw, keys.planner), "body.capacity_parcels")
    raw = json.dumps(_order(world, keys, customer_id=0)).replace(
        '"customer_id": 0', f'"customer_id": {HUGE}'
    )
    _unprocessable(
        _post(client, "/orders", raw, keys.planner, **{"Idempotency-Key": "b"}), "body.customer_id"
    )


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_floats_in_bodies_answer_422(
    client: TestClient, keys: Keys, number: str
) -> None:
    raw = json.dumps({**VEHICLE_TYPE_EXAMPLE, "cost_per_km": 0.5}).replace(
        '"cost_per_km": 0.5', f'"cost_per_km": {number}'
    )
    body = _unprocessable(_post(client, "/vehicle-types", raw, keys.planner), "body.cost_per_km")
    assert "finite" in body["message"]
    listed = client.get("/vehicle-types", headers=bearer(keys.planner)).json()
    assert listed == []


@pytest.mark.parametrize("number", ["NaN", "Infinity", "1e400"])
def test_non_finite_numbers_where_integers_belong_do_not_crash_the_422(
    client: TestClient, keys: Keys, world: dict[str, Any], number: str
) -> None:
    order = _order(world, keys)
    order["items"][0]["weight_g"] = 5
    raw = json.dumps(order).replace('"weight_g": 5', f'"weight_g": {number}')
    body = _unprocessable(
        _post(client, "/orders", raw, keys.planner, **{"Idempotency-Key": number}),
        "body.items.0.weight_g",
    )
    json.loads(json.dumps(body, allow_nan=False))
    # A route's own body model (not a store model) too: the 422 handler serialises it.
    raw = json.dumps(
        {"depot_id": world["depot"]["id"], "service_day": "2025-03-03", "time_limit_s": 1.5}
    ).replace("1.5", number)
    response = _post(client, "/plans", raw, keys.planner)
    assert response.status_code == 422, response.text[:300]
    assert response.json()["field"] == "body.time_limit_s"


@pytest.mark.parametrize(
    "when", ["0001-01-01T00:00+14:00", "9999-12-31T23:59-12:00", "0001-01-01T00:00:00Z"]
)
def test_datetimes_a_zone_cannot_convert_answer_422(
    client: TestClient, keys: Keys, world: dict[str, Any], when: str
) -> None:
    order = _order(world, keys, window_start=when)
    response = _post(
        client, "/orders", json.dumps(order), keys.planner, **{"Idempotency-Key": when}
    )
    _unprocessable(response, "body.window_start")


def test_a_lone_surrogate_or_nul_in_a_string_answers_422(
    client: TestClient, keys: Keys, world: dict[str, Any]
) -> None:
    for bad in ("\\ud800", "Aino \\udfff", "nul\\u0000"):
        raw = '{"name": "' + bad + '"}'
        body = _unprocessable(_post(client, "/customers", raw, keys.planner), "body.name")
        assert any(w in body["message"] for w in ("UTF-8", "unicode", "NUL")), body["message"]
    order = _order(world, keys, reference="R")
    raw = json.dumps(order).replace('"reference": "R"', '"reference": "\\udc80"')
    _unprocessable(
        _post(client, "/orders", raw, keys.planner, **{"Idempotency-Key": "s"}), "body.reference"
    )
    raw = json.dumps({**VEHICLE_TYPE_EXAMPLE, "skills": ["x"]}).replace('["x"]', '["\\ud800"]')
    _unprocessable(_post(client, "/vehicle-types", raw, keys.planner), "body.skills")


def test_a_window_must_overlap_the_service_day_at_the_depot(
    client: TestClient, keys: Keys, world: dict[str, Any]
) -> None:
    late = _order(
        world,
        keys,
        window_start="2025-03-07T10:00:00+02:00",
        window_end="2025-03-07T12:00:00+02:00",
    )
    response = _post(client, "/orders", json.dumps(late), keys.planner, **{"Idempotency-Key": "l"})
    body = _unprocessable(response, "body.window_start")
    assert "service day 2025-03-03" in body["message"]
    # Just before the Helsinki day starts (22:00 UTC the day before is 00:00 local): refused,
    # though it overlaps the day in UTC.
    early = _order(
        world,
        keys,
        window_start="2025-03-02T20:00:00Z",
        window_end="2025-03-02T21:59:00Z",
    )
    response = _post(client, "/orders", json.dumps(early), keys.planner, **{"Idempotency-Key": "e"})
    body = _unprocessable(response, "body.window_start")
    assert "Europe/Helsinki" in body["message"]
    assert "2025-03-03T00:00:00+02:00" in body["message"], body["message"]
    # A window reaching into the day is fine.
    edge = _order(
        world, keys, window_start="2025-03-02T21:00:00Z", window_end="2025-03-02T23:00:00Z"
    )
    response = _post(client, "/orders", json.dumps(edge), keys.planner, **{"Idempotency-Key": "d"})
    assert response.status_code == 201, response.text


def test_a_422_echoes_only_a_short_prefix_of_a_huge_value(client: TestClient, keys: Keys) -> None:
    huge = "x" * 900_000  # under the body limit (413 above it), 4,500 times the field's
    response = _post(client, "/customers", json.dumps({"name": huge}), keys.planner)
    body = _unprocessable(response, "body.name")
    assert len(response.content) < 4_000, len(response.content)
    echoed = body["detail"][0]["input"]
    assert echoed.startswith("xxxx")
    assert len(echoed) <= ECHO_PREFIX + 40
    # A bad value that is not a string (a long list) is cut the same way.
    raw = json.dumps({**VEHICLE_TYPE_EXAMPLE, "name": list(range(100_000))})
    response = _post(client, "/vehicle-types", raw, keys.planner)
    _unprocessable(response, "body.name")
    assert len(response.content) < 4_000, len(response.content)


def test_an_order_holds_a_bounded_number_of_items(
    client: TestClient, keys: Keys, world: dict[str, Any]
) -> None:
    line = {"weight_g": 10, "volume_ml": 10}
    many = _order(world, keys, items=[line] * (MAX_ITEMS_PER_ORDER + 1))
    response = _post(client, "/orders", json.dumps(many), keys.planner, **{"Idempotency-Key": "m"})
    body = _unprocessable(response, "body.items")
    assert str(MAX_ITEMS_PER_ORDER) in body["message"]
    assert len(response.content) < 4_000
    enough = _order(world, keys, items=[line] * MAX_ITEMS_PER_ORDER)
    response = _post(
        client, "/orders", json.dumps(enough), keys.planner, **{"Idempotency-Key": "n"}
    )
    assert response.status_code == 201, response.text[:300]


@pytest.mark.parametrize(
    ("method", "path", "raw", "field"),
    [
        ("POST", "/plans", f'{{"depot_id": {HUGE}, "service_day": "2025-03-03"}}', "body.depot_id"),
        (
            "POST",
            "/plans",
            f'{{"depot_id": 1, "service_day": "2025-03-03", "seed": {HUGE}}}',
            "body.seed",
        ),
        ("POST", "/plans", '{"depot_id": 1, "service_day": "0001-01-01"}', "body.service_day"),
        ("POST", "/plans", '{"depot_id": 1, "service_day": "9999-12-31"}', "body.service_day"),
        ("POST", "/routes/1/dispatch", f'{{"stops": {HUGE}}}', "body.stops"),
        (
            "POST",
            "/routes/1/stops/1/outcome",
            '{"outcome": "failed", "at": "0001-01-01T00:00+14:00"}',
            "body.at",
        ),
        ("PUT", "/orders/1/whereabouts", f'{{"place_id": {HUGE}}}', "body.place_id"),
        ("GET", "/returns/flows?depot=1&day=0001-01-01", None, "query.day"),
        ("GET", "/returns/flows?depot=1&day=9999-12-31", None, "query.day"),
        ("GET", "/orders?service_day=0001-01-01", None, "query.service_day"),
    ],
)
def test_route_bodies_and_query_days_hold_only_what_the_store_can(
    client: TestClient,
    keys: Keys,
    world: dict[str, Any],
    method: str,
    path: str,
    raw: str | None,
    field: str,
) -> None:
    response = client.request(
        method,
        path,
        content=raw,
        headers={**bearer(keys.admin), "Content-Type": "application/json"},
    )
    _unprocessable(response, field)
