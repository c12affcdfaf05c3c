"""``PUT /orders/{id}/whereabouts`` through the app: who may redirect, what the answer says,
and the errors a customer meets (404 for another's order, 422 with the field, 409 too late)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.errors import ErrorMessage, InvalidInputBody
from api.routes.whereabouts import WhereaboutsOut
from orchestrator.intake.catalog import add_place
from orchestrator.intake.orders import register_order
from orchestrator.models import Order, RouteStop
from orchestrator.operations.dispatch import dispatch_route, mark_stop_outcome
from orchestrator.planning.plans import plan_day, plan_routes, route_stops
from orchestrator.planning.travel import StraightLineTravel
from routing import Limits
from tests.api.conftest import Keys, bearer
from tests.orchestrator.conftest import POINTS

ZONE = ZoneInfo("Europe/Helsinki")
"""The timezone of the test depot (``api.routes.depots.EXAMPLE``)."""
"""Delivery points of the day (lat, lon)."""
PATH = "/orders/{}/whereabouts"


@dataclass(frozen=True)
class Day:
    """Tomorrow at the depot: one route dispatched, its first stop delivered."""

    day: date
    stops: list[RouteStop]
    cafe_id: int
    bert_place_id: int

    def window(self) -> tuple[datetime, datetime]:
        """Every order's promised window, 09:00-17:00 local."""
        return (
            datetime.combine(self.day, time(9), ZONE),
            datetime.combine(self.day, time(17), ZONE),
        )


@pytest.fixture
def day(session: Session, keys: Keys, world: dict[str, Any]) -> Day:
    """Tomorrow (so that the vehicle's day is still ahead whenever the test runs): four of
    Aino's orders on one dispatched route, the first delivered."""
    tomorrow = datetime.now(ZONE).date() + timedelta(days=1)
    start, end = (datetime.combine(tomorrow, time(h), ZONE).isoformat() for h in (9, 17))
    for k, (lat, lon) in enumerate(POINTS[:4]):
        place = add_place(session, keys.customer_id, {"name": f"p{k}", "lat": lat, "lon": lon})
        data = {
            "customer_id": keys.customer_id,
            "depot_id": world["depot"]["id"],
            "service_day": tomorrow.isoformat(),
            "place_id": place.id,
            "window_start": start,
            "window_end": end,
            "items": [{"weight_g": 1_200, "volume_ml": 9_000}],
        }
        register_order(session, data, f"o{k}")
    cafe = add_place(
        session, keys.customer_id, {"kind": "cafe", "name": "Café Rosa", "lat": 60.169,
                                    "lon": 24.95},
    )  # fmt: skip
    limits = Limits(time_limit=0.5, solution_limit=5, seed_with="none")
    plan = plan_day(session, world["depot"]["id"], tomorrow, limits=limits,
                    travel=StraightLineTravel())  # fmt: skip
    (route,) = plan_routes(session, plan.id or 0)
    stops = list(route_stops(session, route.id or 0))
    assert len(stops) == 4
    dispatch_route(session, route.id or 0)
    mark_stop_outcome(session, stops[0].id or 0, "delivered", at=stops[0].departure_at)
    return Day(tomorrow, stops, cafe.id or 0, world["homes"]["bert"]["id"])


def test_a_customer_redirects_their_own_order(
    client: TestClient, keys: Keys, day: Day, session: Session
) -> None:
    last = day.stops[-1].order_id
    response = client.put(
        PATH.format(last), json={"place_id": day.cafe_id}, headers=bearer(keys.customer)
    )

    assert response.status_code == 200, response.text
    body = response.json()
    WhereaboutsOut.model_validate(body)
    assert body["order_id"] == last and body["changed"] and body["place"]["id"] == day.cafe_id
    assert body["route_stops"] is None  # other customers' stops are not theirs to see
    start, end = day.window()
    eta = datetime.fromisoformat(body["service_start_at"])
    assert eta.utcoffset() == start.utcoffset()  # the depot's offset, ISO 8601
    low = datetime.fromisoformat(body["eta_window_start"])
    high = datetime.fromisoformat(body["eta_window_end"])
    assert start <= low <= eta <= high <= end
    assert datetime.fromisoformat(body["window_start"]) == start
    assert body["departs_from"] == f"order {day.stops[0].order_id}"
    session.expire_all()
    assert session.get(Order, last).place_id == day.cafe_id  # type: ignore[union-attr]


def test_a_planner_sees_the_routes_new_etas(client: TestClient, keys: Keys, day: Day) -> None:
    response = client.put(
        PATH.format(day.stops[-1].order_id),
        json={"point": [24.9512, 60.1688], "label": "Kahvila"},
        headers=bearer(keys.planner),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["place_created"] and body["place"]["name"] == "Kahvila"
    assert body["place"]["kind"] == "other" and body["place"]["lon"] == 24.9512
    stops = body["route_stops"]
    assert sorted(s["order_id"] for s in stops) == sorted(s.order_id for s in day.stops[1:])
    assert stops[0]["order_id"] == day.stops[1].order_id  # the next stop stays next


def test_another_customers_order_is_not_found(client: TestClient, keys: Keys, day: Day) -> None:
    response = client.put(
        PATH.format(day.stops[-1].order_id),
        json={"place_id": day.bert_place_id},
        headers=bearer(keys.other),
    )
    assert response.status_code == 404, response.text
    ErrorMessage.model_validate(response.json())
    unknown = client.put(PATH.format(9_999), json={"place_id": 1}, headers=bearer(keys.customer))
    assert unknown.status_code == 404


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"point": [200.0, 60.17]}, "body.point.0"),  # longitude off the globe
        ({"point": [24.94, 95.0]}, "body.point.1"),  # latitude off the globe
        ({"point": [24.94]}, "body.point"),  # one number
        ({"point": [18.0686, 59.3293]}, "body.point"),  # Stockholm: far from the depot
        ({"point": ["east", 60.17]}, "body.point.0"),  # not a number
        ({"lat": 60.17, "lon": 24.94}, "body.lat"),  # not how a point is given
        ({}, "body.place_id"),  # nothing
    ],
)
def test_bad_input_is_422_with_the_field(
    client: TestClient, keys: Keys, day: Day, payload: dict[str, Any], field: str
) -> None:
    response = client.put(
        PATH.format(day.stops[-1].order_id), json=payload, headers=bearer(keys.customer)
    )
    assert response.status_code == 422, response.text
    body = InvalidInputBody.model_validate(response.json())
    assert body.field == field, body


def test_another_customers_place_is_422(client: TestClient, keys: Keys, day: Day) -> None:
    response = client.put(
        PATH.format(day.stops[-1].order_id),
        json={"place_id": day.bert_place_id},
        headers=bearer(keys.customer),
    )
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "body.place_id"


def test_the_next_stop_is_too_late(client: TestClient, keys: Keys, day: Day) -> None:
    response = client.put(
        PATH.format(day.stops[1].order_id),
        json={"place_id": day.cafe_id},
        headers=bearer(keys.customer),
    )
    assert response.status_code == 409, response.text
    assert "too late" in response.json()["detail"]
    delivered = client.put(
        PATH.format(day.stops[0].order_id),
        json={"place_id": day.cafe_id},
        headers=bearer(keys.customer),
    )
    assert delivered.status_code == 409 and "already delivered" in delivered.json()["detail"]


def test_an_analyst_may_not_redirect(client: TestClient, keys: Keys, day: Day) -> None:
    response = client.put(
        PATH.format(day.stops[-1].order_id),
        json={"place_id": day.cafe_id},
        headers=bearer(keys.analyst),
    )
    assert response.status_code == 403
    assert client.put(PATH.format(1), json={"place_id": 1}).status_code == 401


def test_the_operation_is_documented(app: FastAPI) -> None:
    operation = app.openapi()["paths"]["/orders/{order_id}/whereabouts"]["put"]
    assert operation["summary"] and operation["description"]
    assert set(operation["requestBody"]["content"]["application/json"]["examples"]) == {
        "place",
        "point",
    }
    assert {code for code in operation["responses"] if code.startswith("4")} == {
        "401",
        "403",
        "404",
        "409",
        "413",  # a body over the size limit (api.limits)
        "415",  # a body not sent as JSON (api.errors)
        "422",
        "429",  # too many failed keys from one address (api.deps)
    }
    WhereaboutsOut.model_validate(WhereaboutsOut.model_config["json_schema_extra"]["examples"][0])  # type: ignore[index]
