"""The customer's page ``/t/{token}`` and its JSON twin ``GET /orders/{id}/tracking`` through
the app: a link opens one order's page and nothing else (any bad token is the same plain 404),
the page shows nothing of another customer, plain form posts work without JavaScript but only
from the page's own origin, and every string is in the Finnish and Swedish catalogues."""

from __future__ import annotations

import ast
import html
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.messages.extract import extract
from babel.messages.pofile import read_po
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.deps import _settings_secret
from orchestrator.access.links import make_link_token
from orchestrator.concierge.profiles import get_profile, put_profile
from orchestrator.intake.catalog import add_place
from orchestrator.intake.orders import register_order
from orchestrator.models import RouteStop
from orchestrator.operations.dispatch import dispatch_route, mark_stop_outcome
from orchestrator.planning.plans import plan_day, plan_routes, route_stops
from orchestrator.planning.travel import StraightLineTravel
from routing import Limits
from tests.api.conftest import Keys, bearer
from tests.api.test_returns import delivered_dress, load_sales, shop

__all__ = ["shop"]  # the fixture, re-used from the returns tests

ZONE = ZoneInfo("Europe/Helsinki")
"""The test depot's zone (``api.routes.depots.EXAMPLE``)."""
PAGES = Path(__file__).resolve().parents[2] / "api" / "pages"
SAME_ORIGIN = {"Origin": "http://testserver"}
"""What a browser sends with a form posted from the page (TestClient's host)."""
BERT_SECRETS = ("Bertil", "Salainen piilo", "Kuusitie 9", "BERT-ORDER-77")
"""What Aino must never see of Bertil: his name, place, address, order reference."""


@dataclass(frozen=True)
class Day:
    """Tomorrow: Aino's three orders and one of Bertil's, planned on the one van route."""

    day: date
    aino: list[int]
    bert: int
    stops: list[RouteStop]
    cafe_id: int


def token(app: FastAPI, order_id: int, **kwargs: Any) -> str:
    """A link token of ``app`` for the order."""
    return make_link_token(_settings_secret(app.state.settings), "order", order_id, **kwargs)


def _order(session: Session, customer_id: int, depot_id: int, day: date, place_id: int,
           key: str, **extra: Any) -> int:  # fmt: skip
    start, end = (datetime.combine(day, time(h), ZONE).isoformat() for h in (9, 17))
    data = {
        "customer_id": customer_id,
        "depot_id": depot_id,
        "service_day": day.isoformat(),
        "place_id": place_id,
        "window_start": start,
        "window_end": end,
        "items": [{"description": "shoes", "weight_g": 1_200, "volume_ml": 9_000}],
        **extra,
    }
    order = register_order(session, data, key)
    assert order.id is not None
    return order.id


@pytest.fixture
def day(session: Session, keys: Keys, world: dict[str, Any]) -> Day:
    """Tomorrow (every window still ahead), planned: three of Aino's orders and one of
    Bertil's, whose place, address and reference are secrets to Aino."""
    tomorrow = datetime.now(ZONE).date() + timedelta(days=1)
    depot = world["depot"]["id"]
    aino = []
    for k, (lat, lon) in enumerate([(60.1755, 24.9310), (60.1640, 24.9460), (60.1810, 24.9520)]):
        place = add_place(session, keys.customer_id, {"name": f"p{k}", "lat": lat, "lon": lon})
        aino.append(_order(session, keys.customer_id, depot, tomorrow, place.id or 0, f"a{k}"))
    secret = add_place(
        session, keys.other_customer_id,
        {"name": "Salainen piilo", "lat": 60.1702, "lon": 24.9612, "address": "Kuusitie 9"},
    )  # fmt: skip
    bert = _order(session, keys.other_customer_id, depot, tomorrow, secret.id or 0, "b1",
                  reference="BERT-ORDER-77")  # fmt: skip
    cafe = add_place(session, keys.customer_id, {"kind": "cafe", "name": "Café Rosa",
                                                 "lat": 60.169, "lon": 24.95})  # fmt: skip
    limits = Limits(time_limit=0.5, solution_limit=5, seed_with="none")
    plan = plan_day(session, depot, tomorrow, limits=limits, travel=StraightLineTravel())
    (route,) = plan_routes(session, plan.id or 0)
    stops = list(route_stops(session, route.id or 0))
    assert len(stops) == 4
    return Day(tomorrow, aino, bert, stops, cafe.id or 0)


def _last_of_aino(day: Day) -> int:
    """Aino's order served last (so Bertil's stop may come before it)."""
    return max((s for s in day.stops if s.order_id in day.aino), key=lambda s: s.sequence).order_id


def _hidden(page: str, form_action: str) -> dict[str, str]:
    """The hidden fields of the first form posting to ``form_action``."""
    start = page.index(f'action="{form_action}"')
    form = page[start : page.index("</form>", start)]
    return {
        html.unescape(name): html.unescape(value)
        for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', form)
    }


# -- the page ------------------------------------------------------------------------------------


def test_the_page_ranks_the_options_and_marks_the_greenest(
    app: FastAPI, client: TestClient, day: Day
) -> None:
    response = client.get(f"/t/{token(app, day.aino[0])}")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "private, no-store"
    page = response.text
    assert page.count('data-testid="option"') >= 2
    assert page.count('data-testid="greenest"') == 1
    assert 'data-testid="eta"' in page  # planned already: its ETA beside the options
    assert "/assets/app/customer.js" in page


@pytest.mark.parametrize(
    "bad",
    [
        "forged",  # the signature of another id
        "expired",
        "route",  # a driver's manifest token
        "unknown",  # signed, but no such order
        "garbage",
    ],
)
def test_a_bad_link_is_one_plain_not_found_page(
    app: FastAPI, client: TestClient, day: Day, bad: str
) -> None:
    secret = _settings_secret(app.state.settings)
    good = token(app, day.aino[0])
    tokens = {
        "forged": good.replace(f"o.{day.aino[0]}.", f"o.{day.bert}.", 1),
        "expired": token(app, day.aino[0], now=datetime.now(UTC) - timedelta(days=30)),
        "route": make_link_token(secret, "route", day.stops[0].route_id),
        "unknown": token(app, 987_654),
        "garbage": "not-a-token",
    }
    reference = client.get("/t/o.1.1.x")

    response = client.get(f"/t/{tokens[bad]}")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == reference.text  # nothing tells one refusal from another
    assert 'data-testid="missing"' in response.text
    assert client.get(f"/t/{tokens[bad]}/status.json").status_code == 404
    posted = client.post(f"/t/{tokens[bad]}/handoff", data={"handoff_instructions": "x"},
                         headers=SAME_ORIGIN)  # fmt: skip
    assert posted.status_code == 404


def test_the_page_shows_nothing_of_another_customer(
    app: FastAPI, client: TestClient, day: Day
) -> None:
    order_id = _last_of_aino(day)
    page = client.get(f"/t/{token(app, order_id)}").text
    status = client.get(f"/t/{token(app, order_id)}/status.json").text

    for secret in BERT_SECRETS:
        assert secret not in page and secret not in status
    assert f'value="{day.bert}"' not in page
    mine = next(s for s in day.stops if s.order_id == order_id)
    before = sum(1 for s in day.stops if s.sequence < mine.sequence)
    assert 'data-testid="stops-before"' in page
    if before:  # "stops before yours" is a count, not a list
        assert f"{before} stop" in page


def test_a_post_from_elsewhere_is_refused(app: FastAPI, client: TestClient, day: Day) -> None:
    path = f"/t/{token(app, day.aino[0])}/handoff"
    form = {"handoff_instructions": "Leave it at the back door"}

    for headers in (
        {},  # neither Origin nor Referer
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/t/x"},
    ):
        refused = client.post(path, data=form, headers=headers, follow_redirects=False)
        assert refused.status_code == 403, headers
    customer_id = _customer_of(client, app, day.aino[0])
    assert customer_id is None  # nothing was written

    for headers in (SAME_ORIGIN, {"Referer": f"http://testserver/t/{token(app, day.aino[0])}"}):
        done = client.post(path, data=form, headers=headers, follow_redirects=False)
        assert done.status_code == 303
        assert done.headers["location"].endswith("?done=handoff")
    page = client.get(done.headers["location"]).text
    assert "Leave it at the back door" in page and 'data-testid="done"' in page


def _customer_of(client: TestClient, app: FastAPI, order_id: int) -> str | None:
    """The hand-off instructions the page shows for the order (``None``: none stored)."""
    page = client.get(f"/t/{token(app, order_id)}").text
    found = re.search(r'data-testid="handoff-text">([^<]*)<', page)
    assert found is not None
    return None if "None yet" in found.group(1) else found.group(1)


def test_choose_and_confirm_with_plain_forms(
    app: FastAPI, client: TestClient, day: Day, session: Session
) -> None:
    link = f"/t/{token(app, day.aino[0])}"
    page = client.get(link).text
    choice = _hidden(page, f"{link}/choose")
    assert set(choice) == {"place_id", "service_level", "window_start", "window_end", "lang"}

    held = client.post(f"{link}/choose", data=choice, headers=SAME_ORIGIN, follow_redirects=False)
    assert held.status_code == 303, held.text
    page = client.get(held.headers["location"]).text
    assert 'data-testid="held"' in page and 'data-testid="option"' not in page
    hold = _hidden(page, f"{link}/confirm")

    confirmed = client.post(f"{link}/confirm", data=hold, headers=SAME_ORIGIN)
    assert confirmed.status_code == 200  # followed to the page
    page = confirmed.text
    assert "your delivery is confirmed" in page
    assert 'data-testid="option"' not in page and 'data-testid="change"' in page
    eta = re.search(r'data-testid="eta"[^>]*>(.*?)</p>', page, re.S)
    assert eta is not None and re.search(r"\d\d:\d\d–\d\d:\d\d", eta.group(1))
    start = datetime.fromisoformat(choice["window_start"])
    assert start.strftime("%H:%M") in page  # the promised window, in the customer's zone

    # another customer's hold cannot be confirmed through this link
    other = client.post(f"{link}/confirm", data={"hold_id": "999"}, headers=SAME_ORIGIN)
    assert other.status_code == 404


def test_a_refused_choice_says_so_on_the_page(app: FastAPI, client: TestClient, day: Day) -> None:
    link = f"/t/{token(app, day.aino[0])}"
    choice = _hidden(client.get(link).text, f"{link}/choose")
    choice["window_start"] = "2020-01-01T09:00:00+02:00"  # not offered

    refused = client.post(f"{link}/choose", data=choice, headers=SAME_ORIGIN)

    assert refused.status_code == 422
    assert 'data-testid="error"' in refused.text and "not offered" in refused.text
    incomplete = client.post(f"{link}/confirm", data={}, headers=SAME_ORIGIN)
    assert incomplete.status_code == 422 and "incomplete" in incomplete.text


def test_i_am_at_the_cafe_moves_the_order(app: FastAPI, client: TestClient, day: Day) -> None:
    order_id = _last_of_aino(day)
    link = f"/t/{token(app, order_id)}"
    page = client.get(link).text
    assert f'name="place_id" value="{day.cafe_id}"' in page

    moved = client.post(f"{link}/here", data={"place_id": str(day.cafe_id)}, headers=SAME_ORIGIN)

    assert moved.status_code == 200, moved.text
    assert 'data-testid="done"' in moved.text
    place = re.search(r'data-testid="place">(.*?)</li>', moved.text, re.S)
    assert place is not None and "Café Rosa" in place.group(1)


def test_a_delivered_order_without_skus_says_why_no_return(
    app: FastAPI, client: TestClient, day: Day, session: Session
) -> None:
    first = day.stops[0]
    dispatch_route(session, first.route_id)
    mark_stop_outcome(session, first.id or 0, "delivered", at=first.departure_at)

    page = client.get(f"/t/{token(app, first.order_id)}").text

    assert 'data-testid="start-return"' not in page
    assert 'data-testid="return-blocked"' in page and "(SKUs)" in page
    assert "Delivered at" in page


def test_the_language_is_the_profiles_else_the_browsers(
    app: FastAPI, client: TestClient, day: Day, session: Session, keys: Keys
) -> None:
    link = f"/t/{token(app, day.aino[0])}"
    finnish = client.get(link, headers={"Accept-Language": "fi-FI,fi;q=0.9,en;q=0.5"})
    assert finnish.headers["content-language"] == "fi" and "Valitse aika ja paikka" in finnish.text
    assert client.get(f"{link}?lang=sv").headers["content-language"] == "sv"

    put_profile(session, keys.customer_id, {"language": "sv", "timezone": "Europe/Stockholm"})
    swedish = client.get(link, headers={"Accept-Language": "fi"})
    assert swedish.headers["content-language"] == "sv" and "Välj när och var" in swedish.text
    assert "Europe/Stockholm" in swedish.text  # the customer's zone, not the depot's
    assert get_profile(session, keys.customer_id).language == "sv"


def test_a_delivered_dress_is_returned_from_the_page(
    app: FastAPI,
    client: TestClient,
    keys: Keys,
    world: dict[str, Any],
    shop: dict[str, Any],
    session: Session,
) -> None:
    load_sales(client, keys, shop)
    [placed] = delivered_dress(client, keys, world, session, "DRS-BLK-S")
    link = f"/t/{token(app, placed['id'])}"
    assert 'data-testid="start-return"' in client.get(link).text
    form = {"order_item_id": str(placed["items"][0]["id"]), "reason": "too_large", "condition": "A"}

    done = client.post(f"{link}/return", data=form, headers=SAME_ORIGIN)

    assert done.status_code == 200 and 'data-testid="done"' in done.text
    assert 'data-testid="return"' in done.text and "Store Kallio" in done.text
    # its one unit is on its way back: no form any more, and the page says why
    assert 'data-testid="start-return"' not in done.text
    assert "already on its way back" in done.text
    again = client.post(f"{link}/return", data=form, headers=SAME_ORIGIN)
    assert again.status_code == 409 and "already being returned" in again.text


# -- the JSON twin -------------------------------------------------------------------------------


def test_a_customer_key_reads_its_own_tracking_only(
    client: TestClient, keys: Keys, day: Day
) -> None:
    order_id = _last_of_aino(day)
    own = client.get(f"/orders/{order_id}/tracking", headers=bearer(keys.customer))

    assert own.status_code == 200, own.text
    body = own.json()
    assert body["stage"] == "planned" and body["vehicle_kind"] == "van"
    low = datetime.fromisoformat(body["eta_window_start"])
    high = datetime.fromisoformat(body["eta_window_end"])
    eta = datetime.fromisoformat(body["eta"])
    assert low.utcoffset() == datetime.combine(day.day, time(12), ZONE).utcoffset()
    assert low <= eta <= high
    for secret in BERT_SECRETS:
        assert secret not in own.text

    for other in (day.bert, 987_654):
        refused = client.get(f"/orders/{other}/tracking", headers=bearer(keys.customer))
        assert refused.status_code == 404
    assert client.get(f"/orders/{day.bert}/tracking", headers=bearer(keys.other)).status_code == 200
    for staff in (keys.planner, keys.analyst, keys.admin):
        assert client.get(f"/orders/{day.bert}/tracking", headers=bearer(staff)).status_code == 200
    assert client.get(f"/orders/{day.bert}/tracking").status_code == 401


# -- the catalogues ------------------------------------------------------------------------------


def _messages() -> set[str]:
    """Every message of the customer's templates and of api/pages/customer.py's refusals."""
    found: set[str] = set()
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2)}
    for template in sorted((PAGES / "templates").glob("customer*.html")):
        with template.open("rb") as fh:
            for _, message, _, _ in extract("jinja2.ext:babel_extract", fh, keywords=keywords):
                found.add(message if isinstance(message, str) else message[0])
    source = (PAGES / "customer.py").read_text(encoding="utf-8")
    for call in re.finditer(r"_Refused\(\s*((?:\"[^\"]*\"\s*)+),", source):
        found.add("".join(ast.literal_eval(part) for part in re.findall(r'"[^"]*"', call[1])))
    return found


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_every_string_is_translated(language: str) -> None:
    messages = _messages()
    assert len(messages) > 60
    with (PAGES / "locales" / language / "LC_MESSAGES" / "customer.po").open("rb") as fh:
        catalog = read_po(fh, locale=language)
    missing = []
    for message in messages:
        entry = catalog.get(message)
        texts = [] if entry is None else (
            list(entry.string) if isinstance(entry.string, tuple) else [entry.string]
        )  # fmt: skip
        if not texts or not all(texts):
            missing.append(message)
    assert missing == []
