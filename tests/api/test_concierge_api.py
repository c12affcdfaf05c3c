"""The concierge through the real app: profiles, export and delete, an order's options, holds
and their confirmation — with customer keys that reach only their own data (404 otherwise),
analysts kept out (403), bad input answered 422 with the field, an expired hold 409, and
choices through the API that move the ranking."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from orchestrator.concierge.offers import clear_caches
from orchestrator.models import OptionHold
from tests.api.conftest import Keys, bearer

OFFSET = re.compile(r"[+-]\d\d:\d\d$")


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    """Each test has its own store: no timeline may survive it."""
    clear_caches()


def next_monday() -> date:
    """A Monday at least a day ahead (the options' clock is the real one)."""
    today = datetime.now(UTC).date()
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7)


def new_order(
    client: TestClient, keys: Keys, world: dict[str, Any], key: str, *, day: date | None = None
) -> dict[str, Any]:
    """An order of Aino's, registered with her own key, no place or window chosen."""
    body = {
        "customer_id": keys.customer_id,
        "depot_id": world["depot"]["id"],
        "service_day": (day or next_monday()).isoformat(),
        "items": [{"description": "book", "weight_g": 600, "volume_ml": 1_500}],
    }
    made = client.post(
        "/orders", json=body, headers={**bearer(keys.customer), "Idempotency-Key": key}
    )
    assert made.status_code == 201, made.text
    return made.json()


@pytest.fixture
def office(client: TestClient, keys: Keys, world: dict[str, Any]) -> dict[str, Any]:
    """Aino's office, and a profile: office Mon-Fri 09-17, home otherwise."""
    place = {"kind": "office", "name": "office", "lat": 60.1640, "lon": 24.9460}
    made = client.post(f"/customers/{keys.customer_id}/places", json=place,
                       headers=bearer(keys.customer))  # fmt: skip
    assert made.status_code == 201, made.text
    profile = {
        "default_place_id": world["homes"]["aino"]["id"],
        "schedule": [{"place": "office", "weekdays": ["mon", "tue", "wed", "thu", "fri"],
                      "start": "09:00", "end": "17:00"}],
        "handoff_instructions": "ring twice",
    }  # fmt: skip
    put = client.put(f"/customers/{keys.customer_id}/profile", json=profile,
                     headers=bearer(keys.customer))  # fmt: skip
    assert put.status_code == 200, put.text
    return dict(made.json())


def pick(option: dict[str, Any]) -> dict[str, Any]:
    return {k: option[k] for k in ("place_id", "service_level", "window_start", "window_end")}


# -- profiles -----------------------------------------------------------------------------------


def test_a_customer_reads_and_writes_their_own_profile(
    client: TestClient, keys: Keys, world: dict[str, Any], office: dict[str, Any]
) -> None:
    got = client.get(f"/customers/{keys.customer_id}/profile", headers=bearer(keys.customer))
    assert got.status_code == 200
    body = got.json()
    assert body["schedule"][0]["place_id"] == office["id"]
    assert body["schedule"][0]["start"] == "09:00:00"
    assert body["default_place"] == "home" and body["handoff_instructions"] == "ring twice"
    # Planner and admin see it too.
    for key in (keys.planner, keys.admin):
        assert (
            client.get(f"/customers/{keys.customer_id}/profile", headers=bearer(key)).json() == body
        )


def test_other_customers_get_404_and_analysts_403(
    client: TestClient, keys: Keys, world: dict[str, Any], office: dict[str, Any]
) -> None:
    path = f"/customers/{keys.customer_id}"
    them = bearer(keys.other)
    assert client.get(f"{path}/profile", headers=them).status_code == 404
    assert client.put(f"{path}/profile", json={}, headers=them).status_code == 404
    assert client.delete(f"{path}/profile", headers=them).status_code == 404
    assert client.get(f"{path}/export", headers=them).status_code == 404
    # Unchanged by the attempts.
    mine = client.get(f"{path}/profile", headers=bearer(keys.customer)).json()
    assert mine["schedule"] and mine["handoff_instructions"] == "ring twice"
    assert client.get(f"{path}/profile", headers=bearer(keys.analyst)).status_code == 403
    assert client.get(f"{path}/profile").status_code == 401


@pytest.mark.parametrize(
    ("profile", "field"),
    [
        # a place that is not hers
        ({"schedule": [{"place_id": 999, "weekdays": ["mon"], "start": "09:00", "end": "10:00"}]},
         "body.schedule.0.place_id"),
        # a window outside the day
        ({"preferred_windows": [{"start": "23:00", "end": "01:00"}]}, "body.preferred_windows.0"),
        # a weekday that does not exist
        ({"schedule": [{"place": "home", "weekdays": ["funday"], "start": "09:00",
                        "end": "10:00"}]}, "body.schedule.0.weekdays.0"),
        # an unknown time zone
        ({"timezone": "Europe/Atlantis"}, "body.timezone"),
        # more than the profile keeps
        ({"shoe_size": 38}, "body.shoe_size"),
    ],
)  # fmt: skip
def test_bad_profiles_are_422_with_the_field(
    client: TestClient, keys: Keys, world: dict[str, Any], profile: dict[str, Any], field: str
) -> None:
    answer = client.put(f"/customers/{keys.customer_id}/profile", json=profile,
                        headers=bearer(keys.customer))  # fmt: skip
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == field


def test_another_customers_place_cannot_be_named(
    client: TestClient, keys: Keys, world: dict[str, Any]
) -> None:
    theirs = world["homes"]["bert"]["id"]
    rule = {"place_id": theirs, "weekdays": ["mon"], "start": "09:00", "end": "10:00"}
    answer = client.put(f"/customers/{keys.customer_id}/profile", json={"schedule": [rule]},
                        headers=bearer(keys.customer))  # fmt: skip
    assert answer.status_code == 422
    assert answer.json()["field"] == "body.schedule.0.place_id"
    assert "bert" not in answer.text.lower()


def test_export_is_only_her_own_and_delete_removes_it(
    client: TestClient, keys: Keys, world: dict[str, Any], office: dict[str, Any]
) -> None:
    mine = new_order(client, keys, world, "mine")
    options = client.get(f"/orders/{mine['id']}/options", headers=bearer(keys.customer)).json()
    held = client.post(f"/orders/{mine['id']}/options", json=pick(options["options"][0]),
                       headers=bearer(keys.customer))  # fmt: skip
    assert held.status_code == 201, held.text
    body = {
        "customer_id": keys.other_customer_id,
        "depot_id": world["depot"]["id"],
        "service_day": next_monday().isoformat(),
        "items": [{"weight_g": 1, "volume_ml": 1}],
    }
    theirs = client.post("/orders", json=body,
                         headers={**bearer(keys.other), "Idempotency-Key": "theirs"})  # fmt: skip
    assert theirs.status_code == 201

    export = client.get(f"/customers/{keys.customer_id}/export", headers=bearer(keys.customer))
    assert export.status_code == 200
    data = export.json()
    assert data["customer"]["id"] == keys.customer_id
    assert [o["id"] for o in data["orders"]] == [mine["id"]]
    assert {e["order_id"] for e in data["events"]} == {mine["id"]}
    assert [h["id"] for h in data["holds"]] == [held.json()["id"]]
    assert {p["name"] for p in data["places"]} == {"home", "office"}
    assert data["profile"]["learned"]  # the choice taught something
    assert theirs.json()["id"] not in {o["id"] for o in data["orders"]}
    assert "Bertil" not in export.text

    gone = client.delete(f"/customers/{keys.customer_id}/profile", headers=bearer(keys.customer))
    assert gone.status_code == 200, gone.text
    assert gone.json()["deleted"] == {"profile": 1, "holds": 1, "places": 2}
    after = client.get(f"/customers/{keys.customer_id}/export", headers=bearer(keys.customer))
    data = after.json()
    assert data["profile"]["updated_at"] is None and data["profile"]["learned"] == []
    assert data["places"] == [] and data["holds"] == []
    assert [o["place_id"] for o in data["orders"]] == [None]
    # Bert's data is untouched.
    bert = client.get(f"/customers/{keys.other_customer_id}/export", headers=bearer(keys.other))
    assert [p["name"] for p in bert.json()["places"]] == ["home"]


# -- options and holds --------------------------------------------------------------------------


def test_options_hold_and_confirm(
    client: TestClient, keys: Keys, world: dict[str, Any], office: dict[str, Any]
) -> None:
    o = new_order(client, keys, world, "o1")
    me = bearer(keys.customer)
    answer = client.get(f"/orders/{o['id']}/options?days=2&k=5", headers=me)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["order_id"] == o["id"] and len(body["days"]) == 2
    options = body["options"]
    assert 1 <= len(options) <= 5
    assert sum(x["greenest"] for x in options) == 1
    fields = {"place_id", "place", "service_level", "window_start", "window_end", "eta_start",
              "eta_end", "vehicle_type", "price_eur", "marginal_cost_eur", "co2_g", "greenest",
              "score", "explanation", "service_day", "confidence"}  # fmt: skip
    for x in options:
        assert set(x) == fields
        assert round(x["confidence"], 2) >= 0.9 and x["confidence"] <= 1  # promise_confidence
        for t in ("window_start", "window_end", "eta_start", "eta_end"):
            assert OFFSET.search(x[t]), x[t]  # ISO 8601 with the offset
        assert x["place"] in ("home", "office") and x["explanation"]

    chosen = options[0]
    held = client.post(f"/orders/{o['id']}/options", json=pick(chosen), headers=me)
    assert held.status_code == 201, held.text
    hold = held.json()
    assert hold["status"] == "held" and hold["price_eur"] == chosen["price_eur"]
    expires = datetime.fromisoformat(hold["expires_at"]) - datetime.fromisoformat(
        hold["created_at"]
    )
    assert expires == timedelta(minutes=15)
    assert client.get(f"/holds/{hold['id']}", headers=me).json()["status"] == "held"

    done = client.post(f"/holds/{hold['id']}/confirm", headers=me)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "confirmed"
    stored = client.get(f"/orders/{o['id']}", headers=me).json()
    assert stored["place_id"] == chosen["place_id"]
    assert datetime.fromisoformat(stored["window_start"]) == datetime.fromisoformat(
        chosen["window_start"]
    )
    assert client.delete(f"/holds/{hold['id']}", headers=me).status_code == 409  # confirmed


def test_other_customers_cannot_see_or_choose_for_her_order(
    client: TestClient, keys: Keys, world: dict[str, Any], office: dict[str, Any]
) -> None:
    o = new_order(client, keys, world, "o1")
    me, them = bearer(keys.customer), bearer(keys.other)
    option = client.get(f"/orders/{o['id']}/options", headers=me).json()["options"][0]
    assert client.get(f"/orders/{o['id']}/options", headers=them).status_code == 404
    assert (
        client.post(f"/orders/{o['id']}/options", json=pick(option), headers=them).status_code
        == 404
    )
    hold = client.post(f"/orders/{o['id']}/options", json=pick(option), headers=me).json()
    assert client.get(f"/holds/{hold['id']}", headers=them).status_code == 404
    assert client.post(f"/holds/{hold['id']}/confirm", headers=them).status_code == 404
    assert client.delete(f"/holds/{hold['id']}", headers=them).status_code == 404
    assert client.get(f"/holds/{hold['id']}", headers=me).json()["status"] == "held"
    assert client.get(f"/orders/{o['id']}/options", headers=bearer(keys.analyst)).status_code == 403
    # A planner may act for any customer.
    assert client.get(f"/holds/{hold['id']}", headers=bearer(keys.planner)).status_code == 200


def test_an_expired_hold_is_409(
    client: TestClient, keys: Keys, world: dict[str, Any], office: dict[str, Any], session: Session
) -> None:
    o = new_order(client, keys, world, "o1")
    me = bearer(keys.customer)
    option = client.get(f"/orders/{o['id']}/options", headers=me).json()["options"][0]
    hold = client.post(f"/orders/{o['id']}/options", json=pick(option), headers=me).json()
    row = session.get(OptionHold, hold["id"])
    assert row is not None
    row.created_at -= timedelta(minutes=20)
    row.expires_at -= timedelta(minutes=20)
    session.add(row)
    session.commit()
    answer = client.post(f"/holds/{hold['id']}/confirm", headers=me)
    assert answer.status_code == 409
    assert "expired" in answer.json()["detail"]
    assert client.get(f"/holds/{hold['id']}", headers=me).json()["status"] == "expired"
    # Choosing again works: the expired hold blocks nothing.
    again = client.post(f"/orders/{o['id']}/options", json=pick(option), headers=me)
    assert again.status_code == 201, again.text


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"place_id": 999}, "body.place_id"),  # not her place
        ({"service_level": "rocket"}, "body.service_level"),  # no such level
        ({"window_end": "+1d"}, "body.window_end"),  # outside the day
        ({"window_start": "+30m", "window_end": "+30m"}, "body.window_start"),  # not offered
    ],
)
def test_bad_choices_are_422_with_the_field(
    client: TestClient,
    keys: Keys,
    world: dict[str, Any],
    office: dict[str, Any],
    change: dict[str, Any],
    field: str,
) -> None:
    o = new_order(client, keys, world, "o1")
    me = bearer(keys.customer)
    option = pick(client.get(f"/orders/{o['id']}/options", headers=me).json()["options"][0])
    for name, value in change.items():
        if isinstance(value, str) and value.startswith("+"):
            shift = timedelta(days=1) if value == "+1d" else timedelta(minutes=30)
            value = (datetime.fromisoformat(option[name]) + shift).isoformat()
        option[name] = value
    answer = client.post(f"/orders/{o['id']}/options", json=option, headers=me)
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == field


def test_bad_query_is_422(client: TestClient, keys: Keys, world: dict[str, Any]) -> None:
    o = new_order(client, keys, world, "o1")
    answer = client.get(f"/orders/{o['id']}/options?days=0", headers=bearer(keys.customer))
    assert answer.status_code == 422
    assert answer.json()["field"] == "query.days"


def test_choices_through_the_api_move_the_ranking(
    client: TestClient, keys: Keys, world: dict[str, Any], office: dict[str, Any]
) -> None:
    """Choosing an option the ranking put last, a few times, moves it up."""
    me = bearer(keys.customer)
    probe = new_order(client, keys, world, "probe")

    def ranking() -> list[tuple[str, str, str]]:
        clear_caches()
        found = client.get(f"/orders/{probe['id']}/options?days=1&k=20", headers=me).json()
        return [(x["place"], x["service_level"], x["window_start"]) for x in found["options"]]

    def slot(entry: tuple[str, str, str]) -> tuple[str, int]:
        return entry[0], datetime.fromisoformat(entry[2]).hour // 5

    before = ranking()
    target = next(x for x in reversed(before) if slot(x) != slot(before[0]))
    option = next(
        x
        for x in client.get(f"/orders/{probe['id']}/options?days=1&k=20", headers=me).json()[
            "options"
        ]
        if (x["place"], x["service_level"], x["window_start"]) == target
    )
    for n in range(4):
        other = new_order(client, keys, world, f"w{n}")
        made = client.post(f"/orders/{other['id']}/options", json=pick(option), headers=me)
        assert made.status_code == 201, made.text
    after = ranking()
    assert after.index(target) < before.index(target)
