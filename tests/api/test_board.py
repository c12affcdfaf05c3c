"""The planner's board over HTTP: signing in (cookie, wrong keys, the shared lockout,
same-origin posts), the day page (plans, routes, stops in the depot's zone, unserved orders
with what to change), planning, re-planning and dispatching from it, the JSON its script and
map fetch, and a 2,000-stop day rendered in one query per table within 100 ms."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from api.app import create_app
from api.pages.session import BOARD_COOKIE
from api.routes.depots import EXAMPLE as DEPOT
from api.routes.fleet import FLEET_EXAMPLE, VEHICLE_TYPE_EXAMPLE
from api.routes.stores import PRODUCT_EXAMPLE, STORE_EXAMPLE
from orchestrator.access.keys import create_api_key
from orchestrator.intake.catalog import create_customer
from orchestrator.models import (
    Order,
    Place,
    Plan,
    PlanStatus,
    Route,
    RouteStop,
    UnservedOrder,
)
from orchestrator.planning.board_view import day_view
from orchestrator.settings import Settings
from tests.api.conftest import Keys, bearer
from tests.api.test_plans import WAIT_S
from tests.api.test_resources import DAY, order, post_order
from tests.api.test_returns import delivered_dress, load_sales, start

HOST = "https://testserver"
SAME_ORIGIN = {"Origin": HOST}
PAGE_BUDGET_S = 0.5  # a hang guard; the 100 ms target is `python -m benchmarks.pages`


@pytest.fixture
def board(client: TestClient) -> TestClient:
    """The API's client over HTTPS, so that it sends the board's Secure cookie back."""
    client.base_url = client.base_url.copy_with(scheme="https")
    return client


def sign_in(client: TestClient, key: str) -> Any:
    """POST the sign-in form from the board's own page."""
    return client.post(
        "/board/sign-in", data={"key": key}, headers=SAME_ORIGIN, follow_redirects=False
    )


def day_url(world: dict[str, Any], day: str = DAY) -> str:
    return f"/board/depots/{world['depot']['id']}/{day}"


def count(html: str, testid: str) -> int:
    return html.count(f'data-testid="{testid}"')


def wait_done(client: TestClient, plan_id: int) -> dict[str, Any]:
    """Poll the board's progress JSON until the job has finished."""
    deadline = time.monotonic() + WAIT_S
    while True:
        answer = client.get(f"/board/plans/{plan_id}/progress.json")
        assert answer.status_code == 200, answer.text
        job: dict[str, Any] = answer.json()
        if job["done"]:
            return job
        assert 0 <= job["progress"] < 1 and job["status"] in ("queued", "running")
        assert time.monotonic() < deadline, f"job still {job['status']} after {WAIT_S} s"
        time.sleep(0.1)


@pytest.fixture
def day_orders(board: TestClient, keys: Keys, world: dict[str, Any]) -> dict[str, int]:
    """Three orders that fit and three that cannot: no place chosen, a window before every
    shift, a cold-chain parcel no van can carry; their ids by name."""
    made = {}
    cases: dict[str, dict[str, Any]] = {
        "fits-1": {},
        "fits-2": {"reference": "SHOP-2"},
        "fits-3": {"place_id": world["homes"]["bert"]["id"], "customer_id": keys.other_customer_id},
        "no-place": {"place_id": None, "window_start": None, "window_end": None},
        "too-early": {
            "window_start": f"{DAY}T06:00:00+02:00",
            "window_end": f"{DAY}T06:20:00+02:00",
        },
        "cold": {"cold_chain": True},
    }
    for name, changes in cases.items():
        answer = post_order(board, keys.planner, order(world, keys, **changes), name)
        assert answer.status_code == 201, answer.text
        made[name] = answer.json()["id"]
    return made


@pytest.fixture
def planned(
    board: TestClient, keys: Keys, world: dict[str, Any], day_orders: dict[str, int]
) -> int:
    """The day planned from the board by a signed-in planner; the plan's id."""
    assert sign_in(board, keys.planner).status_code == 303
    answer = board.post(
        day_url(world) + "/plan",
        data={"time_limit_s": "1"},
        headers=SAME_ORIGIN,
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    found = re.search(r"\?plan=(\d+)$", answer.headers["location"])
    assert found is not None and answer.headers["location"].startswith(day_url(world))
    plan_id = int(found.group(1))
    job = wait_done(board, plan_id)
    assert job["status"] == "succeeded" and job["progress"] == 1, job
    return plan_id


# -- signing in ------------------------------------------------------------------------


def test_without_a_cookie_the_board_asks_for_a_key(board: TestClient, world: Any) -> None:
    home = board.get("/board")
    assert home.status_code == 200 and count(home.text, "sign-in") == 1
    assert 'name="key"' in home.text and 'type="password"' in home.text
    day = board.get(day_url(world))
    assert day.status_code == 401 and count(day.text, "sign-in") == 1
    assert count(day.text, "route") == 0


def test_a_planner_signs_in_with_a_strict_http_only_cookie(
    board: TestClient, keys: Keys, world: dict[str, Any], day_orders: dict[str, int]
) -> None:
    answer = sign_in(board, keys.planner)
    assert answer.status_code == 303 and answer.headers["location"] == "/board"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{BOARD_COOKIE}={keys.planner};")
    for flag in ("HttpOnly", "Secure", "SameSite=strict", "Path=/"):
        assert flag in cookie
    home = board.get("/board")
    assert home.status_code == 200 and count(home.text, "depot") == 1
    assert f'href="{day_url(world)}"' in home.text
    # signing out forgets it
    out = board.post("/board/sign-out", headers=SAME_ORIGIN, follow_redirects=False)
    assert out.status_code == 303 and BOARD_COOKIE not in board.cookies
    assert count(board.get("/board").text, "sign-in") == 1


def test_a_wrong_key_shows_the_form_again_and_a_customer_key_is_refused(
    board: TestClient, keys: Keys
) -> None:
    wrong = sign_in(board, "lmk_not-a-key")
    assert wrong.status_code == 401 and count(wrong.text, "sign-in-error") == 1
    assert "unknown or revoked" in wrong.text and BOARD_COOKIE not in board.cookies
    customer = sign_in(board, keys.customer)
    assert customer.status_code == 403 and "customer" in customer.text
    assert BOARD_COOKIE not in board.cookies


@pytest.fixture
def strict_app(tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    """An app that locks an address out after 3 failed keys a minute; its client, a key."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'lock.db'}", auth_failure_limit=3)
    app = create_app(settings)
    with TestClient(app, base_url=HOST) as client:
        with Session(app.state.engine) as session:
            key = create_api_key(session, "planner")
        yield client, key


def test_wrong_keys_count_toward_the_apps_lockout(strict_app: tuple[TestClient, str]) -> None:
    client, key = strict_app
    for _ in range(3):
        assert sign_in(client, "lmk_guess").status_code == 401
    locked = sign_in(client, key)  # even the right key waits: it is not checked
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 1
    assert count(locked.text, "sign-in-error") == 1
    # the same count as the API's: its keyed operations are locked for this address too
    assert client.get("/depots", headers=bearer(key)).status_code == 429


def test_a_cookie_holding_a_wrong_key_counts_too(strict_app: tuple[TestClient, str]) -> None:
    client, key = strict_app
    for _ in range(3):
        client.cookies.set(BOARD_COOKIE, "lmk_guess")
        answer = client.get("/board")
        assert answer.status_code == 200 and count(answer.text, "sign-in") == 1
    client.cookies.set(BOARD_COOKIE, key)
    assert client.get("/board").status_code == 429


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://elsewhere.example"},  # another site's page
        {"Origin": "null"},  # an opaque origin (a sandboxed frame, a file)
        {"Referer": "https://elsewhere.example/board"},  # no Origin, a foreign Referer
        {},  # neither
    ],
)
def test_posts_from_another_origin_are_refused(
    board: TestClient, keys: Keys, world: dict[str, Any], headers: dict[str, str]
) -> None:
    answer = board.post("/board/sign-in", data={"key": keys.planner}, headers=headers)
    assert answer.status_code == 403 and BOARD_COOKIE not in board.cookies
    assert sign_in(board, keys.planner).status_code == 303
    plan = board.post(day_url(world) + "/plan", data={"time_limit_s": "1"}, headers=headers)
    assert plan.status_code == 403
    assert count(board.get(day_url(world)).text, "plan") == 0  # nothing was planned


def test_a_same_origin_referer_is_enough(board: TestClient, keys: Keys) -> None:
    answer = board.post(
        "/board/sign-in",
        data={"key": keys.planner},
        headers={"Referer": f"{HOST}/board"},
        follow_redirects=False,
    )
    assert answer.status_code == 303


# -- the day ---------------------------------------------------------------------------


def test_the_day_shows_routes_stops_and_unserved_with_what_to_change(
    board: TestClient, keys: Keys, world: dict[str, Any], day_orders: dict[str, int], planned: int
) -> None:
    page = board.get(day_url(world))
    assert page.status_code == 200, page.text
    html = page.text
    job = board.get(f"/plans/{planned}/routes", headers=bearer(keys.planner)).json()
    assert count(html, "route") == len(job["routes"]) >= 1
    assert count(html, "stop") == sum(len(r["stops"]) for r in job["routes"]) == 3
    assert count(html, "plan") == 1 and count(html, "current") >= 1
    # the map: the shared script's contract, the plan's GeoJSON fetched, not inlined
    assert f'data-routes-url="/board/plans/{planned}/routes.geojson"' in html
    assert 'data-streets-url="/streets.geojson"' in html and "/assets/app/map.js" in html
    assert "LineString" not in html
    # ETAs and windows in the depot's zone (Helsinki, +02:00 in March)
    assert "10:00–14:00" in html
    # the unserved orders, each with its reason and what to change
    reasons = dict(re.findall(r'data-order-id="(\d+)" data-reason="([a-z_]+)"', html))
    assert reasons == {
        str(day_orders["no-place"]): "no_place_chosen",
        str(day_orders["too-early"]): "window_unreachable",
        str(day_orders["cold"]): "no_vehicle_with_skills",
    }
    assert count(html, "remedy") == 3
    assert "widen the window" in html and "06:00–06:20" in html
    assert "add a vehicle with cold" in html
    assert "send them their link" in html
    # the planner's buttons and the driver's manifest
    assert count(html, "replan") == 1 and count(html, "dispatch") == len(job["routes"])
    route_id = job["routes"][0]["id"]
    assert f'href="/routes/{route_id}/manifest"' in html
    # in Finnish and Swedish too
    fi = board.get(day_url(world), headers={"Accept-Language": "fi-FI,fi;q=0.9"}).text
    assert 'lang="fi"' in fi and "Suunnittelijan taulu" in fi and "Reitit" in fi
    assert "laajenna aikaikkunaa" in fi
    sv = board.get(day_url(world), headers={"Accept-Language": "sv"}).text
    assert 'lang="sv"' in sv and "Planerarens tavla" in sv and "Rutter" in sv


def test_the_map_gets_what_the_api_answers_with_the_cookie(
    board: TestClient, keys: Keys, planned: int
) -> None:
    mine = board.get(f"/board/plans/{planned}/routes.geojson")
    assert mine.status_code == 200
    assert mine.headers["content-type"].startswith("application/geo+json")
    api = board.get(f"/plans/{planned}/routes.geojson", headers=bearer(keys.planner))
    assert mine.json() == api.json()
    board.cookies.clear()
    for path in ("progress.json", "routes.geojson"):
        answer = board.get(f"/board/plans/{planned}/{path}")
        assert answer.status_code == 401 and "sign in" in answer.json()["detail"]


def test_dispatch_and_replan_from_the_board(
    board: TestClient, keys: Keys, world: dict[str, Any], planned: int
) -> None:
    job = board.get(f"/plans/{planned}/routes", headers=bearer(keys.planner)).json()
    route_id = job["routes"][0]["id"]
    sent = board.post(
        f"/board/routes/{route_id}/dispatch", headers=SAME_ORIGIN, follow_redirects=False
    )
    assert sent.status_code == 303
    assert sent.headers["location"] == f"{day_url(world)}?plan={planned}#route-{route_id}"
    route = board.get(f"/routes/{route_id}", headers=bearer(keys.planner)).json()
    assert route["status"] == "dispatched"
    assert {s["status"] for s in route["stops"]} == {"dispatched"}
    html = board.get(day_url(world)).text
    assert count(html, "dispatched") == 1 and count(html, "dispatch") == len(job["routes"]) - 1
    # a dispatched day is only re-planned: the from-scratch button is gone, and refused
    assert count(html, "plan") == 1 and count(html, "plan-day") == 0
    refused = board.post(day_url(world) + "/plan", data={}, headers=SAME_ORIGIN)
    assert refused.status_code == 409 and count(refused.text, "error") == 1
    again = board.post(
        f"/board/plans/{planned}/replan",
        data={"time_limit_s": "1"},
        headers=SAME_ORIGIN,
        follow_redirects=False,
    )
    assert again.status_code == 303
    new_id = int(again.headers["location"].rsplit("=", 1)[1])
    assert new_id != planned
    running = board.get(again.headers["location"]).text
    assert count(running, "progress") == 1 or wait_done(board, new_id)["done"]
    assert wait_done(board, new_id)["status"] == "succeeded"
    html = board.get(day_url(world)).text
    assert f'data-plan-id="{new_id}" data-status="current"' in html
    assert f'data-plan-id="{planned}" data-status="superseded"' in html
    assert count(html, "dispatched") == 1  # the dispatched route stays as it left


def test_a_running_job_shows_a_progress_bar_and_refreshes_without_script(
    board: TestClient, keys: Keys, world: dict[str, Any], app: FastAPI, day_orders: Any
) -> None:
    assert sign_in(board, keys.planner).status_code == 303
    with Session(app.state.engine) as session:
        queued = Plan(
            depot_id=world["depot"]["id"],
            service_day=date.fromisoformat(DAY),
            status=PlanStatus.QUEUED,
            time_limit_s=5,
        )
        session.add(queued)
        session.commit()
        plan_id = queued.id
    html = board.get(day_url(world)).text
    assert count(html, "progress") == 1 and 'value="0.0"' in html
    assert f'data-progress-url="/board/plans/{plan_id}/progress.json"' in html
    assert '<noscript><meta http-equiv="refresh"' in html
    assert board.get(f"/board/plans/{plan_id}/progress.json").json() == {
        "id": plan_id,
        "status": "queued",
        "progress": 0.0,
        "done": False,
        "url": f"{day_url(world)}?plan={plan_id}",
    }


def test_an_analyst_looks_but_may_not_plan_or_dispatch(
    board: TestClient, keys: Keys, world: dict[str, Any], planned: int
) -> None:
    board.cookies.clear()
    assert sign_in(board, keys.analyst).status_code == 303
    html = board.get(day_url(world)).text
    assert count(html, "route") >= 1
    assert count(html, "dispatch") == count(html, "replan") == count(html, "actions") == 0
    plan = board.post(day_url(world) + "/plan", data={}, headers=SAME_ORIGIN)
    replan = board.post(f"/board/plans/{planned}/replan", data={}, headers=SAME_ORIGIN)
    route_id = board.get(f"/plans/{planned}/routes", headers=bearer(keys.analyst)).json()["routes"][
        0
    ]["id"]
    dispatch = board.post(f"/board/routes/{route_id}/dispatch", headers=SAME_ORIGIN)
    assert plan.status_code == replan.status_code == dispatch.status_code == 403
    assert "analyst" in plan.text


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/board/depots/999/2025-03-03", 404),  # no such depot
        ("/board/depots/{depot}/2025-03-03?plan=999", 404),  # not a plan of this day
        ("/board/depots/{depot}/2025-02-30", 422),  # no such date
        ("/board/depots/abc/2025-03-03", 422),  # not an id
    ],
)
def test_unknown_days_and_plans(
    board: TestClient, keys: Keys, world: dict[str, Any], path: str, code: int
) -> None:
    assert sign_in(board, keys.planner).status_code == 303
    answer = board.get(path.format(depot=world["depot"]["id"]))
    assert answer.status_code == code, answer.text


def test_a_bad_time_limit_is_422_naming_it(
    board: TestClient, keys: Keys, world: dict[str, Any], day_orders: Any
) -> None:
    assert sign_in(board, keys.planner).status_code == 303
    for bad in ("0", "601", "ten", "nan"):
        answer = board.post(day_url(world) + "/plan", data={"time_limit_s": bad},
                            headers=SAME_ORIGIN)  # fmt: skip
        assert answer.status_code == 422 and "time_limit_s" in answer.text, bad


def test_the_returns_heading_to_stores_that_day(
    board: TestClient, keys: Keys, world: dict[str, Any], session: Session
) -> None:
    h = bearer(keys.planner)
    store = board.post("/stores", json={**STORE_EXAMPLE, "depot_id": world["depot"]["id"]},
                       headers=h).json()  # fmt: skip
    for size in ("S", "M"):
        board.put(f"/products/DRS-BLK-{size}", json={**PRODUCT_EXAMPLE, "size": size}, headers=h)
    load_sales(board, keys, store)
    [placed] = delivered_dress(board, keys, world, session, "DRS-BLK-S")
    ret = start(board, keys.customer, placed).json()
    options = board.get(f"/returns/{ret['id']}/pickup-options", headers=bearer(keys.customer))
    first = next(o for o in options.json() if o["method"] == "pickup")
    chosen = board.post(
        f"/returns/{ret['id']}/pickup",
        json={k: first[k] for k in ("method", "place_id", "window_start", "window_end")},
        headers=bearer(keys.customer),
    )
    assert chosen.status_code == 200, chosen.text
    assert sign_in(board, keys.planner).status_code == 303
    html = board.get(day_url(world, first["day"])).text
    flows = board.get(
        "/returns/flows", params={"depot": world["depot"]["id"], "day": first["day"]}, headers=h
    ).json()
    (kallio,) = flows["destinations"]
    assert count(html, "flow") == 1 and f"{kallio['name']} " in html
    row = html.split('data-testid="flow"')[1].split("</tr>")[0]
    assert "scheduled 1" in row and f"{kallio['expected_recovery_eur']:.2f}" in row


# -- a 2,000-stop day ------------------------------------------------------------------

BIG_ROUTES = 40
BIG_STOPS = 50  # per route: 2,000 stops
BIG_UNSERVED = 25


def seed_big_day(
    session: Session,
    world: dict[str, Any],
    customer_id: int,
    *,
    routes: int = BIG_ROUTES,
    stops: int = BIG_STOPS,
    unserved: int = BIG_UNSERVED,
) -> int:
    """A stored plan of 40 routes x 50 stops and 25 unserved orders (by default), written
    straight to the tables (solving 2,000 stops would take minutes); its id."""
    depot_id, fleet_id = world["depot"]["id"], world["fleet"]["id"]
    day = date.fromisoformat(DAY)
    t0 = datetime(2025, 3, 3, 6, 0, tzinfo=UTC)
    places = [
        Place(customer_id=customer_id, name=f"p{i}", lat=60.16 + i * 1e-4, lon=24.93,
              address=f"Street {i}, Helsinki")
        for i in range(200)
    ]  # fmt: skip
    session.add_all(places)
    session.flush()
    n = routes * stops + unserved
    session.execute(
        sa.insert(Order),
        [
            {
                "customer_id": customer_id, "depot_id": depot_id, "service_day": day,
                "place_id": places[i % 200].id, "window_start": t0,
                "window_end": t0 + timedelta(hours=8), "idempotency_key": f"big-{i}",
                "content_hash": "0" * 64, "reference": f"BIG-{i}", "value_cents": 0,
                "fragile": False, "signature_required": False, "cold_chain": False,
                "status": "planned", "created_at": t0,
            }
            for i in range(n)
        ],
    )  # fmt: skip
    order_ids = [
        oid
        for (oid,) in session.execute(
            sa.select(col(Order.id))
            .where(col(Order.idempotency_key).like("big-%"))
            .order_by(col(Order.id))
        )
    ]
    plan = Plan(depot_id=depot_id, service_day=day, status=PlanStatus.CURRENT, time_limit_s=10,
                n_routes=routes, n_served=routes * stops, n_unserved=unserved,
                distance_m=400_000, cost=4_000.0, co2_g=12_000.0)  # fmt: skip
    session.add(plan)
    session.flush()
    assert plan.id is not None
    for r in range(routes):
        route = Route(plan_id=plan.id, fleet_id=fleet_id, vehicle_id=f"van-{r}",
                      vehicle_type="e-van", start_at=t0, end_at=t0 + timedelta(hours=9),
                      distance_m=10_000, duration_s=32_400, cost=100.0, co2_g=300.0,
                      load_at_start=[60_000, 500_000, stops])  # fmt: skip
        session.add(route)
        session.flush()
        session.execute(
            sa.insert(RouteStop),
            [
                {
                    "route_id": route.id, "order_id": order_ids[r * stops + s],
                    "sequence": s, "status": "planned",
                    "arrival_at": t0 + timedelta(minutes=10 * s),
                    "service_start_at": t0 + timedelta(minutes=10 * s),
                    "departure_at": t0 + timedelta(minutes=10 * s + 3), "wait_s": 0,
                    "leg_distance_m": 200, "load_after": [60_000 - 1_000 * s, 0, stops - s],
                }
                for s in range(stops)
            ],
        )  # fmt: skip
    session.add_all(
        UnservedOrder(plan_id=plan.id, order_id=oid, reason="window_unreachable",
                      detail="window closes before a vehicle can arrive")
        for oid in order_ids[routes * stops :]
    )  # fmt: skip
    session.commit()
    return plan.id


def test_a_2000_stop_day_in_one_query_per_table_within_100_ms(
    board: TestClient, keys: Keys, world: dict[str, Any], app: FastAPI, session: Session
) -> None:
    seed_big_day(session, world, keys.customer_id)
    assert sign_in(board, keys.planner).status_code == 303
    statements: list[str] = []

    def seen(*args: Any) -> None:
        statements.append(str(args[2]))

    board.get(day_url(world))  # the templates compile once per process
    sa.event.listen(app.state.engine, "before_cursor_execute", seen)
    try:
        page = board.get(day_url(world))
    finally:
        sa.event.remove(app.state.engine, "before_cursor_execute", seen)
    assert page.status_code == 200
    assert count(page.text, "stop") == BIG_ROUTES * BIG_STOPS
    assert count(page.text, "route") == BIG_ROUTES and count(page.text, "unserved") == BIG_UNSERVED
    # the key, the depot, its plans, the orders counted, routes, stops, unserved, returns
    assert len(statements) <= 10, statements
    assert sum("route_stops" in s for s in statements) == 1
    assert "coordinates" not in page.text and len(page.content) < 2_000_000
    times = []
    for _ in range(5):
        t = time.perf_counter()
        assert board.get(day_url(world)).status_code == 200
        times.append(time.perf_counter() - t)
    # the best of five: what the page costs, not what a busy shared machine adds
    assert min(times) <= PAGE_BUDGET_S, f"{min(times) * 1000:.0f} ms"


def test_the_days_stops_read_as_stored_on_either_backend(store_url: str) -> None:
    app = create_app(Settings(database_url=store_url))
    with TestClient(app) as client, Session(app.state.engine) as session:
        key = create_api_key(session, "planner")
        aino = create_customer(session, {"name": "Aino"})
        h = bearer(key)
        depot = client.post("/depots", json=DEPOT, headers=h).json()
        van = client.post("/vehicle-types", json=VEHICLE_TYPE_EXAMPLE, headers=h).json()
        fleet_in = {**FLEET_EXAMPLE, "depot_id": depot["id"], "vehicle_type_id": van["id"]}
        fleet = client.post("/fleets", json=fleet_in, headers=h).json()
        assert aino.id is not None
        seed_big_day(session, {"depot": depot, "fleet": fleet}, aino.id, routes=2, stops=3,
                     unserved=1)  # fmt: skip
        session.commit()
        view = day_view(session, depot["id"], date.fromisoformat(DAY))
        stored = session.exec(
            select(RouteStop, Order)
            .join(Order, col(Order.id) == RouteStop.order_id)
            .order_by(col(RouteStop.route_id), col(RouteStop.sequence))
        ).all()
        shown = [s for r in view.routes for s in r.stops]
        assert [(s.id, s.status, s.arrival_at, s.window_start, s.window_end) for s in shown] == [
            (stop.id, stop.status, stop.arrival_at, order.window_start, order.window_end)
            for stop, order in stored
        ]
        assert all(s.arrival_at.utcoffset() == timedelta(0) for s in shown)
        assert [u.reason for u in view.unserved] == ["window_unreachable"]
        # and the page shows them in Helsinki's time: 06:00 UTC is 08:00
        assert sign_in(client_https(client), key).status_code == 303
        html = client.get(f"/board/depots/{depot['id']}/{DAY}").text
        assert ">08:00<" in html and "08:00–16:00" in html


def client_https(client: TestClient) -> TestClient:
    """``client`` over HTTPS (the board's cookie is Secure)."""
    client.base_url = client.base_url.copy_with(scheme="https")
    return client
