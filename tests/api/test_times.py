"""Every time the API answers is ISO 8601 with the offset of the zone its reader is in
(:mod:`api.zones`): the depot's for orders, events, options, holds, plans, routes, stops and
returns; the customer's profile zone for the customer's own records — and an explanation's
clock time is the ETA's local time.

The depot here is in Tokyo (+09:00, no daylight saving) and the customer's profile in
Helsinki (+02:00 or +03:00), so that neither UTC nor the other zone can pass for the right one.
Every string of every answer that holds an ISO 8601 time — fields and sentences alike — is
checked.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlmodel import Session

from api.routes.depots import EXAMPLE as DEPOT
from api.routes.fleet import FLEET_EXAMPLE, VEHICLE_TYPE_EXAMPLE
from api.zones import in_zone
from orchestrator.concierge.offers import clear_caches
from tests.api.conftest import Keys, bearer
from tests.api.test_returns import delivered_dress, load_sales, shop, start

__all__ = ["shop"]  # a fixture the returns test below uses

DEPOT_ZONE = ZoneInfo("Asia/Tokyo")
CUSTOMER_ZONE = ZoneInfo("Europe/Helsinki")
INSTANT = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)?")
"""An ISO 8601 time, with its offset if it has one, anywhere in a string."""
WAIT_S = 60.0  # a 1 s solve plus a worker's start; bounded so that a stuck job fails the test


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    """Each test has its own store: no timeline may survive it."""
    clear_caches()


@pytest.fixture
def world(client: TestClient, keys: Keys) -> dict[str, Any]:
    """A depot in Tokyo's zone with four vans, a home for each customer, and Aino's profile
    in Helsinki's zone."""
    h = bearer(keys.planner)
    depot = client.post("/depots", json={**DEPOT, "timezone": DEPOT_ZONE.key}, headers=h).json()
    van = client.post("/vehicle-types", json=VEHICLE_TYPE_EXAMPLE, headers=h).json()
    fleet_in = {**FLEET_EXAMPLE, "depot_id": depot["id"], "vehicle_type_id": van["id"]}
    assert client.post("/fleets", json=fleet_in, headers=h).status_code == 201
    homes = {}
    owners = (("aino", keys.customer_id, 60.1755), ("bert", keys.other_customer_id, 60.1800))
    for who, customer_id, lat in owners:
        place = {"kind": "home", "name": "home", "lat": lat, "lon": 24.9310}
        made = client.post(f"/customers/{customer_id}/places", json=place, headers=h)
        assert made.status_code == 201, made.text
        homes[who] = made.json()
    profile = {"timezone": CUSTOMER_ZONE.key, "default_place_id": homes["aino"]["id"]}
    put = client.put(f"/customers/{keys.customer_id}/profile", json=profile, headers=h)
    assert put.status_code == 200, put.text
    return {"depot": depot, "homes": homes}


def strings(body: Any) -> Iterator[str]:
    """Every string in a JSON answer, keys left out."""
    if isinstance(body, str):
        yield body
    elif isinstance(body, list):
        for item in body:
            yield from strings(item)
    elif isinstance(body, dict):
        for item in body.values():
            yield from strings(item)


def times(body: Any) -> list[str]:
    """Every ISO 8601 time written in a JSON answer."""
    return [m.group(0) for s in strings(body) for m in INSTANT.finditer(s)]


def assert_in_zone(what: str, body: Any, zone: ZoneInfo) -> int:
    """Every time in ``body`` carries ``zone``'s offset at that instant; how many there are."""
    found = times(body)
    for text in found:
        assert not text.endswith("Z"), f"{what}: {text} is in UTC, not {zone.key}"
        moment = datetime.fromisoformat(text)
        assert moment.tzinfo is not None, f"{what}: {text} has no offset"
        expected = moment.astimezone(zone).utcoffset()
        assert moment.utcoffset() == expected, f"{what}: {text} is not in {zone.key}"
    return len(found)


def ok(response: Any, code: int = 200) -> Any:
    assert response.status_code == code, response.text
    return response.json()


def service_day() -> date:
    """A weekday two to four days ahead, whatever the clock says in Tokyo or Helsinki."""
    day = datetime.now(UTC).date() + timedelta(days=2)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def wait_for(client: TestClient, location: str, key: str) -> dict[str, Any]:
    """Poll the job at ``location`` until it has finished."""
    deadline = time.monotonic() + WAIT_S
    while True:
        job: dict[str, Any] = ok(client.get(location, headers=bearer(key)))
        if job["status"] in ("succeeded", "failed"):
            return job
        assert time.monotonic() < deadline, f"job still {job['status']} after {WAIT_S} s"
        time.sleep(0.1)


def test_the_times_of_a_delivery_are_in_the_depots_zone(
    client: TestClient, keys: Keys, world: dict[str, Any]
) -> None:
    day = service_day()
    me, planner = bearer(keys.customer), bearer(keys.planner)
    answers: dict[str, Any] = {}
    orders = []
    for n in range(2):
        body = {
            "customer_id": keys.customer_id,
            "depot_id": world["depot"]["id"],
            "service_day": day.isoformat(),
            "place_id": world["homes"]["aino"]["id"],
            "items": [{"description": "book", "weight_g": 600, "volume_ml": 1_500}],
        }
        made = client.post("/orders", json=body, headers={**me, "Idempotency-Key": f"k{n}"})
        orders.append(ok(made, 201))
    first = orders[0]["id"]
    answers["POST /orders"] = orders
    answers["GET /orders/{id}"] = ok(client.get(f"/orders/{first}", headers=me))
    answers["GET /orders"] = ok(client.get("/orders", headers=planner))

    options = ok(client.get(f"/orders/{first}/options?days=1", headers=me))
    assert options["options"], options
    answers["GET /orders/{id}/options"] = options
    chosen = options["options"][0]
    choice = {k: chosen[k] for k in ("place_id", "service_level", "window_start", "window_end")}
    hold = ok(client.post(f"/orders/{first}/options", json=choice, headers=me), 201)
    answers["POST /orders/{id}/options"] = hold
    answers["GET /holds/{id}"] = ok(client.get(f"/holds/{hold['id']}", headers=me))
    answers["POST /holds/{id}/confirm"] = ok(
        client.post(f"/holds/{hold['id']}/confirm", headers=me)
    )
    answers["GET /orders/{id} (confirmed)"] = ok(client.get(f"/orders/{first}", headers=me))

    request = {"depot_id": world["depot"]["id"], "service_day": day.isoformat(),
               "time_limit_s": 1}  # fmt: skip
    accepted = client.post("/plans", json=request, headers=planner)
    answers["POST /plans"] = ok(accepted, 202)
    job = wait_for(client, accepted.headers["Location"], keys.planner)
    assert job["status"] == "succeeded", job
    answers["GET /plans/{id}"] = job
    routes = ok(client.get(f"/plans/{job['id']}/routes", headers=planner))
    answers["GET /plans/{id}/routes"] = routes
    answers["GET /plans/{id}/routes.geojson"] = ok(
        client.get(f"/plans/{job['id']}/routes.geojson", headers=planner)
    )
    query = {"depot_id": world["depot"]["id"], "service_day": day.isoformat()}
    listed = client.get("/plans", params=query, headers=planner)
    answers["GET /plans"] = ok(listed)
    route = routes["routes"][0]
    answers["GET /routes/{id}"] = ok(client.get(f"/routes/{route['id']}", headers=planner))
    dispatched = ok(client.post(f"/routes/{route['id']}/dispatch", headers=planner))
    answers["POST /routes/{id}/dispatch"] = dispatched
    stop = dispatched["stops"][0]
    outcome = {"outcome": "delivered", "at": stop["departure_at"]}
    closed = client.post(
        f"/routes/{route['id']}/stops/{stop['id']}/outcome", json=outcome, headers=planner
    )
    answers["POST /routes/{id}/stops/{id}/outcome"] = ok(closed)
    for order in orders:
        events = ok(client.get(f"/orders/{order['id']}/events", headers=me))
        assert {"created", "planned", "dispatched"} <= {e["kind"] for e in events}
        answers[f"GET /orders/{order['id']}/events"] = events

    for what, body in answers.items():
        assert assert_in_zone(what, body, DEPOT_ZONE) > 0, f"{what} holds no time: {body}"
    # The planned event says when, in words: the depot's clock, as the stop's ETA.
    planned = next(e for e in answers[f"GET /orders/{first}/events"] if e["kind"] == "planned")
    assert "ETA" in planned["detail"] and times(planned["detail"])


def test_the_customers_own_records_are_in_their_profiles_zone(
    client: TestClient, keys: Keys, world: dict[str, Any]
) -> None:
    me = bearer(keys.customer)
    path = f"/customers/{keys.customer_id}"
    for what, url in (("customer", path), ("profile", f"{path}/profile"),
                      ("export", f"{path}/export"), ("customers", "/customers")):  # fmt: skip
        body = ok(client.get(url, headers=bearer(keys.planner) if what == "customers" else me))
        assert assert_in_zone(what, body, CUSTOMER_ZONE) > 0, f"{what} holds no time: {body}"


def test_a_pickups_explanation_tells_the_etas_local_time(
    client: TestClient, keys: Keys, world: dict[str, Any], shop: dict[str, Any], session: Session
) -> None:
    load_sales(client, keys, shop)
    [placed] = delivered_dress(client, keys, world, session, "DRS-BLK-S")
    ret = ok(start(client, keys.customer, placed), 201)
    me = bearer(keys.customer)
    assert assert_in_zone("the return", ret, DEPOT_ZONE) > 0

    options = ok(client.get(f"/returns/{ret['id']}/pickup-options", headers=me))
    assert_in_zone("pickup options", options, DEPOT_ZONE)
    pickups = [o for o in options if o["method"] == "pickup"]
    assert pickups, options
    for option in pickups:
        said = re.search(r"at about (\d\d):(\d\d)", option["explanation"])
        assert said, option["explanation"]
        lo, hi = (datetime.fromisoformat(option[k]) for k in ("eta_start", "eta_end"))
        about = lo.replace(hour=int(said[1]), minute=int(said[2]), second=0, microsecond=0)
        # "about 18:36" lies in the ETA band the same answer gives, read on the same clock.
        assert lo.replace(second=0, microsecond=0) <= about <= hi, (option["explanation"], lo, hi)


def test_the_openapi_document_says_which_zone(client: TestClient) -> None:
    description = client.get("/openapi.json").json()["info"]["description"]
    assert "the depot's `timezone`" in description
    assert "the customer's profile `timezone`" in description


class _Inner(BaseModel):
    at: datetime
    note: str = "x"


class _Outer(BaseModel):
    inner: _Inner
    many: list[_Inner]
    by_name: dict[str, datetime | None]
    count: int = 0


def test_in_zone_converts_every_time_and_copies_only_what_changes() -> None:
    noon = datetime(2026, 3, 29, 12, 0, tzinfo=UTC)  # the day Helsinki moves to +03:00
    naive = datetime(2026, 1, 5, 8, 30)  # the store's UTC, as a naive value would mean
    answer = _Outer(inner=_Inner(at=noon), many=[_Inner(at=naive)],
                    by_name={"a": noon, "b": None})  # fmt: skip
    shown = in_zone(answer, CUSTOMER_ZONE)
    assert shown.inner.at == noon and shown.inner.at.isoformat() == "2026-03-29T15:00:00+03:00"
    assert shown.many[0].at.isoformat() == "2026-01-05T10:30:00+02:00"
    assert shown.by_name == {"a": noon, "b": None}
    assert shown.by_name["a"].utcoffset() == timedelta(hours=3)  # type: ignore[union-attr]  # "a" is set
    assert answer.inner.at.tzinfo is UTC  # the answer itself is not changed
    # What holds no time, or is already in the zone, is the same object.
    assert in_zone(shown, CUSTOMER_ZONE) is shown
    assert in_zone([1, "a"], CUSTOMER_ZONE) == [1, "a"]
