"""A customer sees only what is theirs and what they need (issue #13): through the app, a
customer key meets no other customer's order, place or window — in a refused or granted
redirect, in an order's events — no store's sales or stock and no recovery figure in a
return, and no trace of another customer's idempotency keys; planner keys still see the
detail."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.routes.whereabouts import WhereaboutsOut
from orchestrator.intake.catalog import add_place
from orchestrator.intake.orders import register_order
from orchestrator.models import ReturnCustomerPublic, ReturnPublic, RouteStop
from orchestrator.operations.dispatch import dispatch_route, mark_stop_outcome
from orchestrator.planning.plans import plan_day, plan_routes, route_stops
from orchestrator.planning.travel import StraightLineTravel
from routing import Limits
from tests.api.conftest import Keys, bearer
from tests.api.test_resources import order, post_order
from tests.api.test_returns import delivered_dress, load_sales, shop, start
from tests.orchestrator.conftest import POINTS

__all__ = ["shop"]  # the fixture, re-used from the returns tests

ZONE = ZoneInfo("Europe/Helsinki")
"""The timezone of the test depot (``api.routes.depots.EXAMPLE``)."""
PATH = "/orders/{}/whereabouts"
BUSINESS = ("expected_recovery_eur", "resale_probability", "expected_days", "options",
            "transfer_km", "transfer_co2_kg", "onward_km", "onward_co2_kg")  # fmt: skip
"""The retailer's figures in a staff view of a return."""


@dataclass(frozen=True)
class Route:
    """Tomorrow's one dispatched route: its stops in order, whose each is, Aino's café."""

    day: date
    stops: list[RouteStop]
    owner: dict[int, str]
    cafe_id: int

    def of(self, who: str) -> list[int]:
        """The order ids of ``who`` ("aino" or "bert") on the route, in route order."""
        return [s.order_id for s in self.stops if self.owner[s.order_id] == who]

    def at(self, hour: float) -> datetime:
        """``hour`` local on the route's day."""
        return datetime.combine(self.day, time(0), ZONE) + timedelta(hours=hour)


def _route(
    session: Session, keys: Keys, world: dict[str, Any], windows: list[tuple[str, int, int]]
) -> Route:
    """One order per ``(who, start hour, end hour)`` tomorrow, at places of their own around
    the centre, planned (one van) and dispatched."""
    tomorrow = datetime.now(ZONE).date() + timedelta(days=1)
    customers = {"aino": keys.customer_id, "bert": keys.other_customer_id}
    owner = {}
    for k, ((who, opens, closes), (lat, lon)) in enumerate(zip(windows, POINTS, strict=False)):
        customer = customers[who]
        place = add_place(session, customer, {"name": f"{who}-{k}", "lat": lat, "lon": lon})
        data = {
            "customer_id": customer,
            "depot_id": world["depot"]["id"],
            "service_day": tomorrow.isoformat(),
            "place_id": place.id,
            "window_start": datetime.combine(tomorrow, time(opens), ZONE).isoformat(),
            "window_end": datetime.combine(tomorrow, time(closes), ZONE).isoformat(),
            "items": [{"weight_g": 1_200, "volume_ml": 9_000}],
        }
        owner[register_order(session, data, f"{who}-{k}").id or 0] = who
    cafe_at = {"kind": "cafe", "name": "Café Rosa", "lat": 60.169, "lon": 24.95}
    cafe = add_place(session, keys.customer_id, cafe_at)
    limits = Limits(time_limit=1.0, solution_limit=10, seed_with="none")
    plan = plan_day(session, world["depot"]["id"], tomorrow, limits=limits,
                    travel=StraightLineTravel())  # fmt: skip
    (route,) = plan_routes(session, plan.id or 0)
    stops = list(route_stops(session, route.id or 0))
    assert len(stops) == len(windows)
    dispatch_route(session, route.id or 0)
    return Route(tomorrow, stops, owner, cafe.id or 0)


def _named(text: str, order_ids: list[int]) -> list[int]:
    """Which of ``order_ids`` ``text`` names (as ``order 17``)."""
    return [oid for oid in order_ids if re.search(rf"\border {oid}\b", text)]


def test_a_refused_redirect_names_no_other_customers_order_or_window(
    client: TestClient, keys: Keys, world: dict[str, Any], session: Session
) -> None:
    # Bertil's four orders are due 09:00-12:00, Aino's 13:00-17:00: hers comes last.
    route = _route(session, keys, world, [("bert", 9, 12)] * 4 + [("aino", 13, 17)])
    (mine,) = route.of("aino")
    theirs = route.of("bert")
    assert route.stops[-1].order_id == mine
    # The van is late: its first stop is only done at 13:00, Bertil's windows have closed.
    mark_stop_outcome(session, route.stops[0].id or 0, "delivered", at=route.at(13))
    body = {"place_id": route.cafe_id}

    customer = client.put(PATH.format(mine), json=body, headers=bearer(keys.customer))
    planner = client.put(PATH.format(mine), json=body, headers=bearer(keys.planner))

    assert customer.status_code == planner.status_code == 409, customer.text
    told = customer.json()["detail"]
    assert _named(told, theirs) == [], told
    assert "09:00" not in told and "12:00" not in told and "bert-" not in told
    assert "2 other stop(s) of the route would be missed" in told
    assert f"order {mine}" in told  # their own order, named
    # Staff keep every order and its window.
    staff = planner.json()["detail"]
    assert _named(staff, theirs) == theirs[2:] and "09:00-12:00" in staff


def test_a_redirect_departs_from_the_previous_stop_and_logs_no_other_order(
    client: TestClient, keys: Keys, world: dict[str, Any], session: Session
) -> None:
    # Bertil, Bertil, then Aino, then Bertil twice: her redirect re-times his later stops.
    windows = [("bert", 9, 11)] * 2 + [("aino", 11, 14)] + [("bert", 14, 17)] * 2
    route = _route(session, keys, world, windows)
    (mine,) = route.of("aino")
    theirs = route.of("bert")
    assert [route.owner[s.order_id] for s in route.stops] == [w[0] for w in windows]
    first = route.stops[0]
    mark_stop_outcome(session, first.id or 0, "delivered", at=first.departure_at)

    answer = client.put(PATH.format(mine), json={"place_id": route.cafe_id},
                        headers=bearer(keys.customer))  # fmt: skip

    assert answer.status_code == 200, answer.text
    WhereaboutsOut.model_validate(answer.json())
    assert answer.json()["changed"] and answer.json()["departs_from"] == "previous stop"
    assert _named(answer.text, theirs) == [] and answer.json()["route_stops"] is None
    later = theirs[2:]
    logged = []
    for oid in later:
        events = client.get(f"/orders/{oid}/events", headers=bearer(keys.other))
        assert events.status_code == 200, events.text
        replanned = [e for e in events.json() if e["kind"] == "replanned"]
        logged += replanned
        assert all(_named(e["detail"], [mine]) == [] for e in replanned), replanned
    assert logged, "the redirect re-timed none of Bertil's later stops"
    export = client.get(f"/customers/{keys.other_customer_id}/export", headers=bearer(keys.other))
    assert export.status_code == 200 and _named(export.text, [mine]) == []
    # A planner still learns where the van leaves from.
    staff = client.put(PATH.format(mine), json={"point": [24.9512, 60.1688]},
                       headers=bearer(keys.planner))  # fmt: skip
    assert staff.status_code == 200 and staff.json()["departs_from"] == f"order {first.order_id}"


def test_a_customers_return_shows_no_sales_stock_or_recovery(
    client: TestClient, keys: Keys, world: dict[str, Any], shop: dict[str, Any], session: Session
) -> None:
    load_sales(client, keys, shop)
    [placed] = delivered_dress(client, keys, world, session, "DRS-BLK-S")

    started = start(client, keys.customer, placed)

    assert started.status_code == 201, started.text
    ret = started.json()
    ReturnCustomerPublic.model_validate(ret)
    assert ret["status"] == "requested" and ret["destination_name"] == "Store Kallio"
    assert ret["explanation"] == "Your item goes to Store Kallio, where it will be sold again."
    h = bearer(keys.customer)
    seen = [
        ret,
        client.get(f"/returns/{ret['id']}", headers=h).json(),
        *client.get("/returns", headers=h).json(),
    ]
    for shown in seen:
        assert not set(BUSINESS) & set(shown), shown
        assert not re.search(r"\bsold \d|\bholds \d|EUR", str(shown)), shown
    # Staff still see the decision: the store's sales and stock, the expected recovery.
    staff = client.get(f"/returns/{ret['id']}", headers=bearer(keys.planner)).json()
    ReturnPublic.model_validate(staff)
    assert staff["explanation"].startswith("Store Kallio sold 14 of this style in size S")
    assert staff["expected_recovery_eur"] > 0 and staff["options"]
    listed = client.get("/returns", headers=bearer(keys.analyst)).json()
    assert listed[0]["expected_recovery_eur"] == staff["expected_recovery_eur"]
    # Choosing a pickup answers in the customer's view too.
    options = client.get(f"/returns/{ret['id']}/pickup-options", headers=h).json()
    store = next(o for o in options if o["method"] == "store")
    chosen = client.post(f"/returns/{ret['id']}/pickup", headers=h,
                         json={"method": "store", "store_id": store["store_id"],
                               "day": store["day"]})  # fmt: skip
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["status"] == "scheduled" and not set(BUSINESS) & set(chosen.json())


@pytest.mark.parametrize("first", ["customer", "planner"])  # who used the key first
def test_idempotency_keys_are_the_customers_own(
    client: TestClient, keys: Keys, world: dict[str, Any], first: str
) -> None:
    aino = order(world, keys)
    used = post_order(client, getattr(keys, first), aino, "checkout-1")
    assert used.status_code == 201, used.text

    bert = order(world, keys, customer_id=keys.other_customer_id,
                 place_id=world["homes"]["bert"]["id"])  # fmt: skip
    theirs = post_order(client, keys.other, bert, "checkout-1")

    # Bertil's key is his own: a new order, nothing learnt about Aino's.
    assert theirs.status_code == 201, theirs.text
    assert theirs.json()["id"] != used.json()["id"]
    assert theirs.json()["customer_id"] == keys.other_customer_id
    again = post_order(client, keys.other, bert, "checkout-1")
    assert again.status_code == 201 and again.json()["id"] == theirs.json()["id"]
    # Within one customer the key still guards against a second, different order.
    changed = post_order(client, keys.other, {**bert, "value_cents": 1}, "checkout-1")
    assert changed.status_code == 409
    assert str(used.json()["id"]) not in changed.json()["detail"]
