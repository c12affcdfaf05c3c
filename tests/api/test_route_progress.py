"""``POST /routes/{id}/progress`` through the app: a driver's report on a late route tells the
customers whose window it will likely miss — once, with the event, the webhook and their
tracking — and no one else; bad reports are 422 naming the field."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.deps import _settings_secret
from orchestrator.access.links import make_link_token
from orchestrator.intake.catalog import add_place
from orchestrator.intake.orders import register_order
from orchestrator.operations.dispatch import dispatch_route, mark_stop_outcome
from orchestrator.planning.plans import plan_day, plan_routes, route_stops
from orchestrator.planning.travel import StraightLineTravel
from routing import Limits
from tests.api.conftest import Keys, bearer

ZONE = ZoneInfo("Europe/Helsinki")
PATH = "/routes/{}/progress"


@dataclass(frozen=True)
class Day:
    """Tomorrow: Aino's A (10:00-10:30) and B (11:00-11:10), Bert's C (09:00-17:00), the
    route that carries A dispatched."""

    day: date
    route_id: int
    orders: dict[str, int]

    def at(self, hhmm: str) -> str:
        h, m = (int(x) for x in hhmm.split(":"))
        return datetime.combine(self.day, time(h, m), ZONE).isoformat()


@pytest.fixture
def day(session: Session, keys: Keys, world: dict[str, Any]) -> Day:
    """Tomorrow (the report's clock is then before every window whenever the test runs)."""
    tomorrow = datetime.now(ZONE).date() + timedelta(days=1)
    specs = {
        "A": (keys.customer_id, (60.2300, 24.9384), ("10:00", "10:30")),
        "B": (keys.customer_id, (60.1710, 24.9400), ("11:00", "11:10")),
        "C": (keys.other_customer_id, (60.1600, 24.9000), ("09:00", "17:00")),
    }
    orders = {}
    for name, (customer_id, (lat, lon), window) in specs.items():
        place = add_place(session, customer_id, {"name": name, "lat": lat, "lon": lon})
        start, end = (
            datetime.combine(tomorrow, time(*map(int, t.split(":"))), ZONE).isoformat()
            for t in window
        )
        data = {
            "customer_id": customer_id, "depot_id": world["depot"]["id"],
            "service_day": tomorrow.isoformat(), "place_id": place.id,
            "window_start": start, "window_end": end,
            "items": [{"weight_g": 1_200, "volume_ml": 9_000}],
        }  # fmt: skip
        orders[name] = register_order(session, data, f"k{name}").id or 0
    limits = Limits(time_limit=0.5, solution_limit=5, seed_with="none")
    plan = plan_day(
        session, world["depot"]["id"], tomorrow, limits=limits, travel=StraightLineTravel()
    )
    (route,) = [
        r
        for r in plan_routes(session, plan.id or 0)
        if orders["A"] in {s.order_id for s in route_stops(session, r.id or 0)}
    ]
    dispatch_route(session, route.id or 0)
    return Day(tomorrow, route.id or 0, orders)


def _subscribe(client: TestClient, keys: Keys) -> int:
    made = client.post(
        "/webhooks",
        json={"url": "https://shop.example/hooks", "events": ["order.promise_at_risk"]},
        headers=bearer(keys.planner),
    )
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def test_a_late_report_tells_each_customer_at_risk_once(
    client: TestClient, keys: Keys, day: Day
) -> None:
    hook = _subscribe(client, keys)
    report = {"at": day.at("09:00"), "late_min": 90}

    first = client.post(PATH.format(day.route_id), json=report, headers=bearer(keys.planner))

    assert first.status_code == 200, first.text
    body = first.json()
    assert body["behind_min"] == 90
    assert sorted(body["announced"]) == sorted([day.orders["A"], day.orders["B"]])
    at_risk = {s["order_id"] for s in body["stops"] if s["at_risk"]}
    assert at_risk == {day.orders["A"], day.orders["B"]}  # not Bert's wide window
    stop_b = next(s for s in body["stops"] if s["order_id"] == day.orders["B"])
    assert stop_b["late_min"] > 0 and stop_b["window_end"] == day.at("11:10")

    again = client.post(
        PATH.format(day.route_id),
        json={"at": day.at("09:10"), "late_min": 95},
        headers=bearer(keys.planner),
    )
    assert again.status_code == 200, again.text
    assert again.json()["announced"] == []
    assert sorted(again.json()["announced_before"]) == sorted(body["announced"])

    rows = client.get(f"/webhooks/{hook}/deliveries", headers=bearer(keys.planner)).json()
    assert sorted(r["order_id"] for r in rows) == sorted(body["announced"])  # once each
    events = client.get(f"/orders/{day.orders['B']}/events", headers=bearer(keys.planner))
    kinds = [e["kind"] for e in events.json()]
    assert kinds.count("promise_at_risk") == 1


def test_a_customer_sees_only_their_own_notice(
    client: TestClient, keys: Keys, day: Day, session: Session
) -> None:
    hook = _subscribe(client, keys)
    client.post(
        PATH.format(day.route_id),
        json={"at": day.at("09:00"), "late_min": 90},
        headers=bearer(keys.planner),
    ).raise_for_status()

    mine = client.get(f"/orders/{day.orders['B']}/tracking", headers=bearer(keys.customer))
    assert mine.status_code == 200, mine.text
    risk = mine.json()["promise_at_risk"]
    assert risk is not None and "running late" in risk["message"]
    assert datetime.fromisoformat(risk["sent_at"]) < datetime.fromisoformat(day.at("11:00"))
    assert [c["choice"] for c in risk["choices"]] == []  # on board, no locker
    theirs = client.get(f"/orders/{day.orders['B']}/tracking", headers=bearer(keys.other))
    assert theirs.status_code == 404, theirs.text
    bert = client.get(f"/orders/{day.orders['C']}/tracking", headers=bearer(keys.other))
    assert bert.status_code == 200 and bert.json()["promise_at_risk"] is None
    rows = client.get(f"/webhooks/{hook}/deliveries", headers=bearer(keys.planner)).json()
    assert rows and day.orders["C"] not in {r["order_id"] for r in rows}
    customer_report = client.post(
        PATH.format(day.route_id),
        json={"at": day.at("09:00"), "late_min": 90},
        headers=bearer(keys.customer),
    )
    assert customer_report.status_code == 403, customer_report.text


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"late_min": 10}, "body.at"),  # no clock time
        ({"at": "2030-01-01T09:00:00", "late_min": 10}, "body.at"),  # no offset
        ({"at": "2030-01-01T09:00:00+02:00"}, "stop"),  # neither stop nor late_min
        ({"at": "2030-01-01T09:00:00+02:00", "stop": 1, "late_min": 3}, "stop"),  # both
        ({"at": "2030-01-01T09:00:00+02:00", "stop": 0}, "body.stop"),  # numbers start at 1
        ({"at": "2030-01-01T09:00:00+02:00", "late_min": 100_000}, "body.late_min"),
        ({"at": "2030-01-01T09:00:00+02:00", "stop": 9}, "stop"),  # not a stop of the route
    ],
)
def test_a_bad_report_names_the_field(
    client: TestClient, keys: Keys, day: Day, payload: dict[str, Any], field: str
) -> None:
    response = client.post(PATH.format(day.route_id), json=payload, headers=bearer(keys.planner))
    assert response.status_code == 422, response.text
    assert response.json()["field"].endswith(field), response.json()


def test_a_route_at_the_depot_or_unknown(client: TestClient, keys: Keys, day: Day) -> None:
    report = {"at": day.at("09:00"), "late_min": 10}
    missing = client.post(PATH.format(999_999), json=report, headers=bearer(keys.planner))
    assert missing.status_code == 404, missing.text
    read = client.get(PATH.format(day.route_id), headers=bearer(keys.planner))
    assert read.status_code == 200 and read.json()["behind_min"] == 0


def test_the_customers_page_says_running_late_with_the_choices(
    app: FastAPI, client: TestClient, keys: Keys, day: Day, session: Session
) -> None:
    locker = add_place(
        session, keys.customer_id,
        {"kind": "locker", "name": "Kamppi locker", "lat": 60.169, "lon": 24.932},
    )  # fmt: skip
    client.post(
        PATH.format(day.route_id),
        json={"at": day.at("09:00"), "late_min": 90},
        headers=bearer(keys.planner),
    ).raise_for_status()
    secret = _settings_secret(app.state.settings)
    page = client.get(f"/t/{make_link_token(secret, 'order', day.orders['B'])}?lang=en")
    assert page.status_code == 200, page.text
    assert 'data-testid="promise-at-risk"' in page.text
    assert "11:00–11:10" in page.text
    card = page.text.split('data-testid="promise-at-risk"')[1].split("</section>")[0]
    assert f'name="place_id" value="{locker.id}"' in card  # the locker, a button away
    assert 'data-testid="risk-locker"' in card
    bert = client.get(f"/t/{make_link_token(secret, 'order', day.orders['C'])}?lang=en")
    assert bert.status_code == 200 and 'data-testid="promise-at-risk"' not in bert.text


def test_the_board_shows_a_route_behind_and_its_stops_at_risk(
    client: TestClient, keys: Keys, day: Day, session: Session, world: dict[str, Any]
) -> None:
    first, *_ = route_stops(session, day.route_id)
    late = first.departure_at + timedelta(minutes=75)
    mark_stop_outcome(session, first.id or 0, "delivered", at=late)  # 75 min behind
    client.base_url = client.base_url.copy_with(scheme="https")  # the board's Secure cookie
    signed = client.post(
        "/board/sign-in", data={"key": keys.planner}, headers={"Origin": "https://testserver"},
        follow_redirects=False,
    )  # fmt: skip
    assert signed.status_code in (302, 303), signed.text
    page = client.get(f"/board/depots/{world['depot']['id']}/{day.day.isoformat()}")
    assert page.status_code == 200, page.text
    section = page.text.split(f'data-route-id="{day.route_id}"')[1].split("</h3>")[0]
    assert 'data-testid="behind"' in section and "75 min behind" in section
    at_risk = section.split('data-testid="at-risk">')[1].split("<")[0]
    numbers = {int(n) for n in at_risk.removeprefix("stops at risk: ").split(", ")}
    b_number = next(
        s.sequence + 1 for s in route_stops(session, day.route_id) if s.order_id == day.orders["B"]
    )
    assert b_number in numbers
