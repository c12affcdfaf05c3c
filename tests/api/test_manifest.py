"""The driver's manifest over HTTP: opened with the route's signed link or the board's cookie,
as HTML and CSV, its buttons recording outcomes through the stop-outcome service; and the
route JSON's stops carrying the customer's language and hand-off instructions."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from api.deps import _settings_secret
from api.pages.manifest import CSV_COLUMNS, csv_cell
from api.pages.session import BOARD_COOKIE
from orchestrator.access.links import make_link_token
from orchestrator.concierge.profiles import put_profile
from orchestrator.intake.catalog import add_fleet, add_place, create_vehicle_type
from orchestrator.intake.orders import register_order
from orchestrator.models import OrderEvent, OrderEventKind, Route, RouteStop
from orchestrator.operations.dispatch import dispatch_route
from orchestrator.planning.plans import plan_day, plan_routes
from orchestrator.planning.travel import StraightLineTravel
from routing import Limits
from tests.api.conftest import Keys, bearer

ZONE = ZoneInfo("Europe/Helsinki")
POINTS = [(60.1755, 24.9310), (60.1640, 24.9460), (60.1810, 24.9520), (60.1590, 24.9230)]
SITE = {"Origin": "http://testserver"}


def _routes(session: Session, keys: Keys, world: dict[str, Any], n: int = 4) -> list[Route]:
    """``n`` orders of Aino tomorrow, the first with an address that looks like a formula,
    planned on the world's vans."""
    tomorrow = datetime.now(ZONE).date() + timedelta(days=1)
    put_profile(
        session,
        keys.customer_id,
        {"language": "sv", "handoff_instructions": "ring twice; leave with the concierge"},
    )
    for k in range(n):
        lat, lon = POINTS[k % len(POINTS)]
        place = add_place(
            session,
            keys.customer_id,
            {"name": f"p{k}", "lat": lat, "lon": lon, "instructions": "gate B" if k else None,
             "address": "=HYPERLINK(\"http://evil\")" if k == 0 else f"Katu {k}"},
        )  # fmt: skip
        data = {
            "customer_id": keys.customer_id,
            "depot_id": world["depot"]["id"],
            "service_day": tomorrow.isoformat(),
            "place_id": place.id,
            "window_start": datetime.combine(tomorrow, time(9), ZONE).isoformat(),
            "window_end": datetime.combine(tomorrow, time(17), ZONE).isoformat(),
            "fragile": k == 1,
            "items": [{"weight_g": 1_200, "volume_ml": 9_000, "parcels": 2}],
        }
        register_order(session, data, f"m-{k}")
    limits = Limits(time_limit=1.0, solution_limit=10, seed_with="none")
    plan = plan_day(
        session, world["depot"]["id"], tomorrow, limits=limits, travel=StraightLineTravel()
    )
    return list(plan_routes(session, plan.id or 0))


def _token(client: TestClient, route_id: int) -> str:
    secret = _settings_secret(client.app.state.settings)  # type: ignore[attr-defined]
    return make_link_token(secret, "route", route_id)


def _stops(session: Session, route_id: int) -> list[RouteStop]:
    return list(
        session.exec(
            select(RouteStop)
            .where(RouteStop.route_id == route_id)
            .order_by(col(RouteStop.sequence))
        )
    )


@pytest.fixture
def route(client: TestClient, keys: Keys, world: dict[str, Any], session: Session) -> Route:
    """A planned route of four stops of Aino's (language sv, hand-off instructions)."""
    routes = _routes(session, keys, world)
    return max(routes, key=lambda r: len(_stops(session, r.id or 0)))


def test_the_link_opens_the_manifest_with_every_stop(
    client: TestClient, session: Session, route: Route
) -> None:
    answer = client.get(
        f"/routes/{route.id}/manifest", params={"token": _token(client, route.id or 0)}
    )
    assert answer.status_code == 200, answer.text
    html = answer.text
    stops = _stops(session, route.id or 0)
    assert html.count('data-testid="stop"') == len(stops)
    assert "ring twice; leave with the concierge" in html and "gate B" in html
    assert "Swedish (sv)" in html  # the language named, in the page's language
    assert "Fragile" in html and 'data-testid="delivered"' in html
    assert answer.headers["Referrer-Policy"] == "same-origin"
    assert answer.headers["Cache-Control"] == "private, no-store"


def test_the_page_speaks_the_drivers_language(client: TestClient, route: Route) -> None:
    answer = client.get(
        f"/routes/{route.id}/manifest",
        params={"token": _token(client, route.id or 0)},
        headers={"Accept-Language": "fi-FI,fi;q=0.9"},
    )
    assert answer.headers["Content-Language"] == "fi"
    assert "ruotsi (sv)" in answer.text and "Toimitettu" in answer.text


def test_the_board_cookie_opens_it_and_an_analyst_gets_no_buttons(
    client: TestClient, keys: Keys, route: Route
) -> None:
    planner = client.get(
        f"/routes/{route.id}/manifest", headers={"Cookie": f"{BOARD_COOKIE}={keys.planner}"}
    )
    assert planner.status_code == 200 and 'data-testid="delivered"' in planner.text
    analyst = client.get(
        f"/routes/{route.id}/manifest", headers={"Cookie": f"{BOARD_COOKIE}={keys.analyst}"}
    )
    assert analyst.status_code == 200 and 'data-testid="delivered"' not in analyst.text
    customer = client.get(
        f"/routes/{route.id}/manifest",
        headers={"Cookie": f"{BOARD_COOKIE}={keys.customer}"},
        follow_redirects=False,
    )
    assert customer.status_code == 303 and customer.headers["location"] == "/board"


def test_no_credentials_redirect_to_the_board(client: TestClient, route: Route) -> None:
    for path in (f"/routes/{route.id}/manifest", f"/routes/{route.id}/manifest.csv"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/board"


def test_a_bad_token_or_another_routes_token_is_the_404_page(
    client: TestClient, session: Session, route: Route
) -> None:
    token = _token(client, route.id or 0)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    other = _token(client, (route.id or 0) + 1)
    order_token = make_link_token(
        _settings_secret(client.app.state.settings),  # type: ignore[attr-defined]
        "order",
        route.id or 0,
    )
    for bad in (forged, other, order_token, "nonsense"):
        for path in (f"/routes/{route.id}/manifest", f"/routes/{route.id}/manifest.csv"):
            answer = client.get(path, params={"token": bad})
            assert answer.status_code == 404, (bad, path)
            assert 'data-testid="manifest-missing"' in answer.text
            assert "Aino" not in answer.text
    # A route that does not exist, with its own (valid) token.
    missing = client.get("/routes/9999/manifest", params={"token": _token(client, 9999)})
    assert missing.status_code == 404


def test_the_csv_has_a_header_a_row_per_stop_and_no_formula(
    client: TestClient, session: Session, route: Route
) -> None:
    answer = client.get(
        f"/routes/{route.id}/manifest.csv", params={"token": _token(client, route.id or 0)}
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert (
        answer.headers["content-disposition"]
        == f'attachment; filename="route-{route.id}-manifest.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    stops = _stops(session, route.id or 0)
    assert [int(r["sequence"]) for r in rows] == [s.sequence + 1 for s in stops]
    assert all(r["language"] == "Swedish (sv)" and r["parcels"] == "2" for r in rows)
    assert all(r["window"] == "09:00–17:00" for r in rows)
    assert all(re.fullmatch(r"\d\d:\d\d", r["eta"]) for r in rows)
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@")), value
    (evil,) = [r for r in rows if "HYPERLINK" in r["address"]]
    assert evil["address"] == '\'=HYPERLINK("http://evil")'


# Each dangerous first character, and text that is left alone.
@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+358 40", "'+358 40"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("Katu 1", "Katu 1"),
        (None, ""),
        (3, "3"),
    ],
)
def test_csv_cells_are_formula_safe(value: object, cell: str) -> None:
    assert csv_cell(value) == cell


def test_an_outcome_from_the_form_closes_the_stop_and_records_the_event(
    client: TestClient, session: Session, route: Route
) -> None:
    token = _token(client, route.id or 0)
    first = _stops(session, route.id or 0)[0]
    path = f"/routes/{route.id}/manifest/stops/{first.id}/outcome"
    form = {"token": token, "outcome": "delivered", "recipient": "Aino"}

    early = client.post(path, data=form, headers=SITE)
    assert early.status_code == 409 and "dispatch its route first" in early.text
    dispatch_route(session, route.id or 0)

    done = client.post(path, data=form, headers=SITE, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"].startswith(f"/routes/{route.id}/manifest?token=")
    session.expire_all()
    assert session.get(RouteStop, first.id).status.value == "delivered"  # type: ignore[union-attr]
    event = session.exec(
        select(OrderEvent)
        .where(OrderEvent.order_id == first.order_id)
        .order_by(col(OrderEvent.id).desc())
    ).first()
    assert event is not None and event.kind is OrderEventKind.DELIVERED
    assert event.detail == "received by Aino"

    page = client.get(done.headers["location"]).text
    row = page.split(f'id="stop-{first.id}"')[1].split("</tr>")[0]
    assert "received by Aino" in row and 'data-testid="delivered"' not in row
    again = client.post(path, data={**form, "outcome": "refused"}, headers=SITE)
    assert again.status_code == 409 and "already delivered" in again.text


def test_the_board_cookie_records_too_and_refused_is_a_failure(
    client: TestClient, keys: Keys, session: Session, route: Route
) -> None:
    dispatch_route(session, route.id or 0)
    second = _stops(session, route.id or 0)[1]
    path = f"/routes/{route.id}/manifest/stops/{second.id}/outcome"
    analyst = client.post(
        path,
        data={"outcome": "refused"},
        headers={**SITE, "Cookie": f"{BOARD_COOKIE}={keys.analyst}"},
    )
    assert analyst.status_code == 403
    planner = client.post(
        path,
        data={"outcome": "refused"},
        headers={**SITE, "Cookie": f"{BOARD_COOKIE}={keys.planner}"},
        follow_redirects=False,
    )
    assert planner.status_code == 303 and planner.headers["location"].endswith(f"#stop-{second.id}")
    session.expire_all()
    assert session.get(RouteStop, second.id).status.value == "failed"  # type: ignore[union-attr]


def test_outcome_refusals(client: TestClient, session: Session, route: Route) -> None:
    token = _token(client, route.id or 0)
    dispatch_route(session, route.id or 0)
    stop = _stops(session, route.id or 0)[0]
    path = f"/routes/{route.id}/manifest/stops/{stop.id}/outcome"
    form = {"token": token, "outcome": "delivered"}
    # Another site's page, or none named: refused, nothing recorded.
    assert (
        client.post(path, data=form, headers={"Origin": "http://evil.example"}).status_code == 403
    )
    assert client.post(path, data=form, headers={"Origin": "null"}).status_code == 403
    assert client.post(path, data=form).status_code == 403
    referer = {"Referer": f"http://testserver/routes/{route.id}/manifest"}
    assert client.post(path, data={**form, "outcome": "lost"}, headers=referer).status_code == 422
    assert "not_at_home" in client.post(path, data={**form, "outcome": "x"}, headers=SITE).text
    assert client.post(path, data={**form, "token": "bad"}, headers=SITE).status_code == 404
    other = client.post(
        f"/routes/{route.id}/manifest/stops/999999/outcome", data=form, headers=SITE
    )
    assert other.status_code == 404
    # A form of more than 20 fields is not read: no token in it, so off to the board.
    crowded = {**form, **{f"f{k}": "x" for k in range(30)}}
    refused = client.post(path, data=crowded, headers=SITE, follow_redirects=False)
    assert refused.status_code == 303 and refused.headers["location"] == "/board"
    not_utf8 = client.post(
        f"{path}?token={token}",
        content=b"outcome=\xff",
        headers={**SITE, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert not_utf8.status_code == 422
    json_body = client.post(path, json=form, headers=SITE)
    assert json_body.status_code == 415
    session.expire_all()
    assert session.get(RouteStop, stop.id).status.value == "dispatched"  # type: ignore[union-attr]


def test_route_json_stops_carry_language_and_handoff(
    client: TestClient, keys: Keys, session: Session, route: Route
) -> None:
    answer = client.get(f"/routes/{route.id}", headers=bearer(keys.planner))
    assert answer.status_code == 200, answer.text
    stops = answer.json()["stops"]
    assert stops and all(s["language"] == "sv" for s in stops)
    assert {s["handoff_instructions"] for s in stops} <= {
        "ring twice; leave with the concierge",
        "ring twice; leave with the concierge; gate B",
    }
    put_profile(session, keys.customer_id, {})
    unknown = client.get(f"/routes/{route.id}", headers=bearer(keys.planner)).json()["stops"]
    assert all(s["language"] is None for s in unknown)
    assert all(s["handoff_instructions"] in (None, "gate B") for s in unknown)


def test_a_robots_manifest_greets_in_the_customers_language(
    client: TestClient, session: Session, world: dict[str, Any], route: Route
) -> None:
    robot = create_vehicle_type(
        session,
        {"name": "robot", "kind": "robot", "profile": "walk", "capacity_weight_g": 30_000,
         "capacity_volume_ml": 60_000, "capacity_parcels": 4},
    )  # fmt: skip
    fleet = add_fleet(
        session,
        {"depot_id": world["depot"]["id"], "vehicle_type_id": robot.id, "count": 1,
         "shift_start_s": 8 * 3_600, "shift_end_s": 18 * 3_600},
    )  # fmt: skip
    route.fleet_id = fleet.id or 0  # the set-up's shortcut: the same stops on a robot
    session.add(route)
    session.commit()
    token = {"token": _token(client, route.id or 0)}
    html = client.get(f"/routes/{route.id}/manifest", params=token).text
    greeting = "Hej Aino, ditt paket är här. Ange koden för att öppna locket."  # Aino speaks sv
    assert html.count(greeting) == len(_stops(session, route.id or 0))
    assert "Virtanen" not in greeting
    rows = csv.DictReader(
        io.StringIO(client.get(f"/routes/{route.id}/manifest.csv", params=token).text)
    )
    assert {r["greeting"] for r in rows} == {greeting}
