"""A plan's routes and stops as CSV and as an .xlsx workbook, over HTTP: the rows of a real
planned day (SQLite, and PostgreSQL when LASTMILE_TEST_POSTGRES_URL is set) in the depot's
zone, the formula guard in both files, the workbook's form read back with openpyxl, the
``Accept`` negotiation of ``GET /plans/{id}/routes`` (406 naming what it answers), 404, 409
and who may read them."""

from __future__ import annotations

import csv
import io
import time as time_module
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session, col, select

from api.app import create_app
from api.routes.plan_exports import ROUTES_MEDIA_TYPES, negotiate
from api.tabular import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, csv_cell, xlsx_cell
from benchmarks.pages import build_day
from orchestrator.access.keys import create_api_key
from orchestrator.concierge.profiles import put_profile
from orchestrator.intake.catalog import add_place
from orchestrator.intake.orders import register_order
from orchestrator.models import (
    Plan,
    PlanKind,
    PlanStatus,
    ReturnStop,
    Route,
    RouteStop,
    UnservedOrder,
)
from orchestrator.operations.dispatch import dispatch_route
from orchestrator.operations.manifest import record_manifest_outcome
from orchestrator.operations.plan_sheets import ROUTE_COLUMNS, STOP_COLUMNS, UNSERVED_COLUMNS
from orchestrator.planning.plans import plan_day
from orchestrator.planning.travel import StraightLineTravel
from orchestrator.returns_flow import choose_pickup, start_return
from orchestrator.settings import Settings
from routing import Limits
from tests.api.conftest import Keys, bearer
from tests.orchestrator.conftest import make_world, order_data
from tests.orchestrator.returns_world import (
    LIMITS,
    NOW,
    PICKUP_DAY,
    TRAVEL,
    catalogue,
    delivered,
    return_of,
    shops,
    sku,
)

ZONE = ZoneInfo("Europe/Helsinki")
POINTS = [(60.1755, 24.9310), (60.1640, 24.9460), (60.1810, 24.9520), (60.1590, 24.9230)]
EVIL = '=HYPERLINK("http://evil.example","click")'


@dataclass(frozen=True)
class Planned:
    """A planned day: the plan's id, its day, and the store's stops of it."""

    plan_id: int
    day: date


def plan_a_day(session: Session, customer_id: int, depot_id: int, n: int = 5) -> Planned:
    """``n`` orders of the customer tomorrow (one with a formula for an address, one fragile,
    one with a control character in its address) and one whose window closes before any van
    leaves; planned on straight lines, its largest route dispatched and its first stop
    delivered."""
    day = datetime.now(ZONE).date() + timedelta(days=1)
    put_profile(session, customer_id, {"handoff_instructions": "ring twice"})
    for k in range(n + 1):
        lat, lon = POINTS[k % len(POINTS)]
        address = EVIL if k == 0 else "Katu\x0b 2" if k == 2 else f"Katu {k}"
        place = add_place(
            session,
            customer_id,
            {"name": f"p{k}", "lat": lat, "lon": lon, "address": address,
             "instructions": "gate B" if k == 1 else None},
        )  # fmt: skip
        opens, closes = (time(6), time(6, 30)) if k == n else (time(9), time(17))
        register_order(
            session,
            {
                "customer_id": customer_id,
                "depot_id": depot_id,
                "service_day": day.isoformat(),
                "place_id": place.id,
                "window_start": datetime.combine(day, opens, ZONE).isoformat(),
                "window_end": datetime.combine(day, closes, ZONE).isoformat(),
                "fragile": k == 1,
                "reference": f"SHOP-{100 + k}",
                "items": [{"weight_g": 1_200, "volume_ml": 9_000, "parcels": 2}],
            },
            f"x-{k}",
        )
    limits = Limits(time_limit=1.0, solution_limit=10, seed_with="none")
    plan = plan_day(session, depot_id, day, limits=limits, travel=StraightLineTravel())
    assert plan.id is not None
    routes = session.exec(select(Route).where(Route.plan_id == plan.id)).all()
    largest = max(routes, key=lambda r: len(stops_of(session, r.id or 0)))
    dispatch_route(session, largest.id or 0)
    first = stops_of(session, largest.id or 0)[0]
    record_manifest_outcome(session, largest.id or 0, first.id or 0, "delivered", recipient="Aino")
    return Planned(plan.id, day)


def stops_of(session: Session, route_id: int) -> list[RouteStop]:
    """A route's stops in visiting order."""
    return list(
        session.exec(
            select(RouteStop)
            .where(RouteStop.route_id == route_id)
            .order_by(col(RouteStop.sequence))
        )
    )


def plan_stops(session: Session, plan_id: int) -> list[RouteStop]:
    """The plan's stops, routes in id order and stops in visiting order (the CSV's order)."""
    return list(
        session.exec(
            select(RouteStop)
            .join(Route, col(Route.id) == RouteStop.route_id)
            .where(Route.plan_id == plan_id)
            .order_by(col(Route.id), col(RouteStop.sequence))
        )
    )


def csv_rows(text: str) -> list[dict[str, str]]:
    """The CSV's rows by column name."""
    return list(csv.DictReader(io.StringIO(text)))


def local(instant: datetime) -> str:
    """An instant as the exports show it: ISO 8601 in Helsinki's time, with the offset."""
    return instant.astimezone(ZONE).isoformat()


@pytest.fixture
def planned(session: Session, keys: Keys, world: dict[str, Any]) -> Planned:
    """Aino's day planned on the world's vans, one order left out, a route on its way."""
    return plan_a_day(session, keys.customer_id, world["depot"]["id"])


def test_the_csv_has_a_row_per_stop_in_the_depots_zone(
    client: TestClient, session: Session, keys: Keys, planned: Planned
) -> None:
    answer = client.get(f"/plans/{planned.plan_id}/routes.csv", headers=bearer(keys.planner))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    name = f"plan-{planned.plan_id}-{planned.day.isoformat()}-routes.csv"
    assert answer.headers["content-disposition"] == f'attachment; filename="{name}"'
    assert answer.headers["cache-control"] == "private, no-store"
    assert answer.text.splitlines()[0].split(",") == [c.name for c in STOP_COLUMNS]
    rows = csv_rows(answer.text)
    stored = plan_stops(session, planned.plan_id)
    assert len(stored) == 5 and [int(r["stop_id"]) for r in rows] == [s.id for s in stored]
    for row, stop in zip(rows, stored, strict=True):
        assert int(row["order_id"]) == stop.order_id
        assert int(row["sequence"]) == stop.sequence + 1
        assert row["eta"] == local(stop.arrival_at) and row["eta"].endswith("+02:00")
        assert row["service_start"] == local(stop.service_start_at)
        assert row["departure"] == local(stop.departure_at)
        assert int(row["wait_s"]) == stop.wait_s
        assert int(row["leg_distance_m"]) == stop.leg_distance_m
        assert [int(row[c]) for c in ("load_weight_g", "load_volume_ml", "load_parcels")] == (
            stop.load_after
        )
        assert row["status"] == stop.status.value and row["kind"] == "delivery"
        assert row["parcels"] == "2" and row["reference"].startswith("SHOP-")
        assert row["window_start"].endswith("T09:00:00+02:00")
    by_ref = {r["reference"]: r for r in rows}
    assert by_ref["SHOP-101"]["handling"] == "fragile"
    assert by_ref["SHOP-101"]["handoff_instructions"] == "ring twice; gate B"
    assert by_ref["SHOP-101"]["place_name"] == "p1"
    assert (float(by_ref["SHOP-101"]["lat"]), float(by_ref["SHOP-101"]["lon"])) == POINTS[1]
    closed = [r for r in rows if r["status"] == "delivered"]
    assert len(closed) == 1 and closed[0]["outcome"] == "received by Aino"
    assert closed[0]["closed_at"].endswith("+02:00")
    assert "SHOP-105" not in by_ref  # left out: the unserved sheet's


def test_formulas_are_neutralised_in_both_files(
    client: TestClient, keys: Keys, planned: Planned
) -> None:
    h = bearer(keys.planner)
    rows = csv_rows(client.get(f"/plans/{planned.plan_id}/routes.csv", headers=h).text)
    (evil,) = [r for r in rows if r["reference"] == "SHOP-100"]
    assert evil["address"] == "'" + EVIL
    book = load_workbook(
        io.BytesIO(client.get(f"/plans/{planned.plan_id}/routes.xlsx", headers=h).content)
    )
    stops = book["stops"]
    header = [c.value for c in stops[1]]
    addresses = {row[header.index("reference")]: row[header.index("address")]
                 for row in stops.iter_rows(min_row=2, values_only=True)}  # fmt: skip
    assert addresses["SHOP-100"] == "'" + EVIL
    assert not any(c.data_type == "f" for row in stops.iter_rows() for c in row)
    # a control character an .xlsx cannot hold is left out there, kept in the CSV
    assert addresses["SHOP-102"] == "Katu 2"
    assert [r["address"] for r in rows if r["reference"] == "SHOP-102"] == ["Katu\x0b 2"]


def test_the_workbook_has_routes_stops_and_unserved_sheets(
    client: TestClient, session: Session, keys: Keys, planned: Planned
) -> None:
    h = bearer(keys.planner)
    answer = client.get(f"/plans/{planned.plan_id}/routes.xlsx", headers=h)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == XLSX_MEDIA_TYPE
    name = f"plan-{planned.plan_id}-{planned.day.isoformat()}-routes.xlsx"
    assert answer.headers["content-disposition"] == f'attachment; filename="{name}"'
    book = load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames == ["routes", "stops", "unserved"]
    columns = {"routes": ROUTE_COLUMNS, "stops": STOP_COLUMNS, "unserved": UNSERVED_COLUMNS}
    for sheet_name, expected in columns.items():
        sheet = book[sheet_name]
        assert [c.value for c in sheet[1]] == [c.name for c in expected]
        assert all(c.font.b for c in sheet[1])  # the header row bold...
        assert sheet.freeze_panes == "A2"  # ...and frozen
        widths = [sheet.column_dimensions[c.column_letter].width for c in sheet[1]]
        assert all(8 <= w <= 60 for w in widths) and len(set(widths)) > 1
    # stops: the CSV's rows, instants as Excel date-times in Helsinki's wall-clock time
    stops = list(book["stops"].iter_rows(min_row=2, values_only=True))
    stored = plan_stops(session, planned.plan_id)
    header = [c.name for c in STOP_COLUMNS]
    assert [r[header.index("stop_id")] for r in stops] == [s.id for s in stored]
    for row, stop in zip(stops, stored, strict=True):
        eta = row[header.index("eta")]
        assert isinstance(eta, datetime) and eta.tzinfo is None
        assert eta == stop.arrival_at.astimezone(ZONE).replace(tzinfo=None)
        assert row[header.index("lat")] == pytest.approx(POINTS[stop.sequence % 4][0], abs=1)
    eta_cell = book["stops"].cell(row=2, column=header.index("eta") + 1)
    assert eta_cell.number_format == "yyyy-mm-dd hh:mm:ss" and eta_cell.is_date
    # routes: a row per route with its totals
    routes = session.exec(
        select(Route).where(Route.plan_id == planned.plan_id).order_by(col(Route.id))
    ).all()
    rheader = [c.name for c in ROUTE_COLUMNS]
    rows = list(book["routes"].iter_rows(min_row=2, values_only=True))
    assert [r[rheader.index("route_id")] for r in rows] == [r.id for r in routes]
    for row, route in zip(rows, routes, strict=True):
        assert row[rheader.index("distance_m")] == route.distance_m
        assert row[rheader.index("duration_s")] == route.duration_s
        assert row[rheader.index("cost_eur")] == pytest.approx(route.cost, abs=0.01)
        assert row[rheader.index("stops")] == len(stops_of(session, route.id or 0))
        assert row[rheader.index("parcels")] == 2 * row[rheader.index("stops")]
        assert row[rheader.index("timezone")] == "Europe/Helsinki"
        assert row[rheader.index("start")] == route.start_at.astimezone(ZONE).replace(tzinfo=None)
    # unserved: the order left out, its reason and what to change
    (left_out,) = book["unserved"].iter_rows(min_row=2, values_only=True)
    uheader = [c.name for c in UNSERVED_COLUMNS]
    stored_unserved = session.exec(
        select(UnservedOrder).where(UnservedOrder.plan_id == planned.plan_id)
    ).one()
    assert left_out[uheader.index("order_id")] == stored_unserved.order_id
    assert left_out[uheader.index("reference")] == "SHOP-105"
    assert left_out[uheader.index("reason")] == stored_unserved.reason
    assert left_out[uheader.index("detail")] == stored_unserved.detail != ""
    assert left_out[uheader.index("window_start")] == datetime.combine(planned.day, time(6))


def test_accept_on_routes_answers_csv_or_the_workbook_as_the_paths_do(
    client: TestClient, keys: Keys, planned: Planned
) -> None:
    h = bearer(keys.planner)
    base = f"/plans/{planned.plan_id}/routes"
    csv_path = client.get(f"{base}.csv", headers=h)
    by_accept = client.get(base, headers={**h, "Accept": "text/csv"})
    assert by_accept.status_code == 200, by_accept.text
    assert by_accept.content == csv_path.content
    assert by_accept.headers["content-disposition"] == csv_path.headers["content-disposition"]
    book = client.get(base, headers={**h, "Accept": XLSX_MEDIA_TYPE})
    assert book.headers["content-type"] == XLSX_MEDIA_TYPE
    assert load_workbook(io.BytesIO(book.content)).sheetnames == ["routes", "stops", "unserved"]
    # JSON stays the default, and wins where the client prefers it
    for accept in (None, "*/*", "application/json", "text/csv;q=0.5, application/json"):
        headers = h if accept is None else {**h, "Accept": accept}
        answer = client.get(base, headers=headers)
        assert answer.headers["content-type"] == "application/json", accept
        assert answer.json()["plan"]["id"] == planned.plan_id
    assert client.get(base, headers={**h, "Accept": "text/*"}).content == csv_path.content
    geo = client.get(base, headers={**h, "Accept": "application/geo+json"})
    assert geo.json()["type"] == "FeatureCollection"


@pytest.mark.parametrize(
    "accept",
    [
        "text/html",  # a type it does not answer in
        "application/xml, image/*",  # none of them
        "text/csv;q=0, application/json;q=0",  # both refused
    ],
)
def test_an_accept_that_cannot_be_met_is_406_naming_what_can(
    client: TestClient, keys: Keys, planned: Planned, accept: str
) -> None:
    answer = client.get(
        f"/plans/{planned.plan_id}/routes", headers={**bearer(keys.planner), "Accept": accept}
    )
    assert answer.status_code == 406, answer.text
    detail = answer.json()["detail"]
    assert all(media in detail for media in ROUTES_MEDIA_TYPES), detail


def test_an_unknown_plan_is_404_and_an_unfinished_one_409(
    client: TestClient, session: Session, keys: Keys, world: dict[str, Any]
) -> None:
    h = bearer(keys.planner)
    for path, accept in (("routes.csv", None), ("routes.xlsx", None), ("routes", "text/csv")):
        headers = h if accept is None else {**h, "Accept": accept}
        answer = client.get(f"/plans/999/{path}", headers=headers)
        assert answer.status_code == 404, (path, answer.text)
        assert answer.json()["detail"].startswith("plan 999 not found")
    queued = Plan(
        depot_id=world["depot"]["id"],
        service_day=date(2026, 12, 4),
        status=PlanStatus.QUEUED,
        kind=PlanKind.DAY,
        time_limit_s=1.0,
    )
    session.add(queued)
    session.commit()
    answer = client.get(f"/plans/{queued.id}/routes.xlsx", headers=h)
    assert answer.status_code == 409 and "poll" in answer.json()["detail"]


def test_staff_keys_read_the_exports_and_a_customer_key_is_refused(
    client: TestClient, keys: Keys, planned: Planned
) -> None:
    base = f"/plans/{planned.plan_id}/routes"
    for key in (keys.analyst, keys.admin):
        assert client.get(f"{base}.csv", headers=bearer(key)).status_code == 200
    # the customer whose orders they are, too: a plan is the depot's, not theirs
    for path, accept in ((f"{base}.csv", None), (f"{base}.xlsx", None), (base, "text/csv")):
        headers = bearer(keys.customer) | ({"Accept": accept} if accept else {})
        answer = client.get(path, headers=headers)
        assert answer.status_code == 403, (path, answer.text)
        assert "ring twice" not in answer.text and "Katu" not in answer.text
        assert client.get(path).status_code == 401


# Each line: the Accept header, and what it gets of (JSON, GeoJSON, CSV, .xlsx).
@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, "application/json"),  # no header: the default
        ("", "application/json"),
        ("*/*", "application/json"),  # anything: the default
        ("*", "application/json"),  # an old client's "anything"
        ("text/csv", CSV_MEDIA_TYPE),
        ("TEXT/CSV; charset=utf-8", CSV_MEDIA_TYPE),  # case and parameters do not matter
        ("text/csv, */*;q=0.1", CSV_MEDIA_TYPE),
        ("text/csv, */*", CSV_MEDIA_TYPE),  # named beats matched by a wildcard
        ("text/*", CSV_MEDIA_TYPE),
        ("application/json, text/csv", "application/json"),  # equal: the client's first
        ("text/csv, application/json", CSV_MEDIA_TYPE),
        ("application/json;q=0.4, text/csv;q=0.9", CSV_MEDIA_TYPE),  # the higher quality
        ("application/geo+json", "application/geo+json"),
        ("application/*", "application/json"),  # the server's first of the family
        ("text/csv;q=0, */*", "application/json"),  # q=0 refuses that type
        ("text/csv;q=x, application/json", "application/json"),  # a bad q refuses it too
        ("nonsense, text/csv", CSV_MEDIA_TYPE),  # not a media range: passed over
        (XLSX_MEDIA_TYPE, XLSX_MEDIA_TYPE),
        (
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "application/json",
        ),  # a browser's
    ],
)
def test_negotiation(accept: str | None, chosen: str) -> None:
    assert negotiate(accept) == chosen


def test_negotiation_refuses_what_it_cannot_answer() -> None:
    with pytest.raises(HTTPException) as refused:
        negotiate("nonsense")
    assert refused.value.status_code == 406


# The one formula guard, both writers: text that a spreadsheet would run, and what is left.
@pytest.mark.parametrize(
    ("value", "cell", "held"),
    [
        ("=1+1", "'=1+1", "'=1+1"),
        ("+358 40", "'+358 40", "'+358 40"),
        ("-2", "'-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx", "'\tx"),
        ("Katu 1", "Katu 1", "Katu 1"),
        (None, "", None),
        (3, "3", 3),
        (-0.1278, "-0.1278", -0.1278),  # a number is no formula: a longitude west of Greenwich
        ("a\x07b", "a\x07b", "ab"),  # a bell an .xlsx cannot hold
    ],
)
def test_cells_are_formula_safe_in_both_writers(value: object, cell: str, held: object) -> None:
    assert csv_cell(value) == cell
    assert xlsx_cell(value) == held


def test_an_instant_is_iso_in_csv_and_wall_clock_in_the_workbook() -> None:
    instant = datetime(2026, 12, 4, 9, 30, tzinfo=ZONE)
    assert csv_cell(instant) == "2026-12-04T09:30:00+02:00"
    assert xlsx_cell(instant) == datetime(2026, 12, 4, 9, 30)


def test_the_exports_read_the_stored_day_on_either_backend(store_url: str) -> None:
    app = create_app(Settings(database_url=store_url))
    with TestClient(app) as client, Session(app.state.engine) as session:
        h = bearer(create_api_key(session, "planner"))
        world = make_world(session)
        assert world.customer.id is not None and world.depot.id is not None
        planned = plan_a_day(session, world.customer.id, world.depot.id, n=3)
        rows = csv_rows(client.get(f"/plans/{planned.plan_id}/routes.csv", headers=h).text)
        stored = plan_stops(session, planned.plan_id)
        assert [(int(r["stop_id"]), r["eta"]) for r in rows] == [
            (s.id, local(s.arrival_at)) for s in stored
        ]
        book = load_workbook(
            io.BytesIO(client.get(f"/plans/{planned.plan_id}/routes.xlsx", headers=h).content)
        )
        assert book["stops"].max_row == len(stored) + 1
        assert book["unserved"].max_row == 2


def test_the_documentation_lists_every_column_in_order() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "exports.md").read_text("utf-8")
    for heading, columns in (
        ("#### routes", ROUTE_COLUMNS),
        ("#### stops", STOP_COLUMNS),
        ("#### unserved", UNSERVED_COLUMNS),
    ):
        table = text.split(heading, 1)[1].split("\n#", 1)[0]
        rows = [line for line in table.splitlines() if line.startswith("| `")]
        assert rows == [f"| `{c.name}` | {c.meaning} |" for c in columns], heading


def test_return_pickups_and_drop_offs_are_stops_too(client: TestClient, app: Any) -> None:
    with Session(app.state.engine) as session:
        h = bearer(create_api_key(session, "planner"))
        world = make_world(session)
        catalogue(session)
        kallio = shops(session, world).kallio
        [(order, line)] = delivered(session, world, sku("S"))
        ret = start_return(session, return_of(order, line), now=NOW)
        window = {"window_start": "2025-03-05T09:00:00+02:00",
                  "window_end": "2025-03-05T13:00:00+02:00"}  # fmt: skip
        choice = {"method": "pickup", "place_id": world.office.id, **window}
        choose_pickup(session, ret.id or 0, choice, now=NOW, travel=TRAVEL)
        day = PICKUP_DAY.isoformat()
        register_order(session, order_data(world, service_day=day), "day2-0")
        plan = plan_day(session, world.depot.id or 0, PICKUP_DAY, limits=LIMITS, travel=TRAVEL)
        returns = session.exec(select(ReturnStop).order_by(col(ReturnStop.sequence))).all()
        names = (world.office.name, kallio.name)
        ret_id, plan_id = ret.id, plan.id
    rows = csv_rows(client.get(f"/plans/{plan_id}/routes.csv", headers=h).text)
    assert [r["kind"] for r in rows if r["kind"] != "delivery"] == ["pickup", "dropoff"]
    assert len(rows) == 3 and [r["sequence"] for r in rows] == ["1", "2", "3"]
    pickup, dropoff = (next(r for r in rows if r["kind"] == k) for k in ("pickup", "dropoff"))
    assert pickup["return_id"] == dropoff["return_id"] == str(ret_id)
    assert (pickup["place_name"], dropoff["place_name"]) == names
    for row, stop in zip((pickup, dropoff), returns, strict=True):
        assert row["stop_id"] == str(stop.id) and row["eta"] == local(stop.arrival_at)
        assert row["service_start"] == local(stop.service_start_at)
        assert row["load_parcels"] == str(stop.load_after[2])


@pytest.mark.slow
def test_a_2000_stop_plan_exports_whole_and_bounded(tmp_path: Path) -> None:
    # The largest plan LASTMILE_MAX_PLAN_STOPS admits by default, as benchmarks.pages stores
    # it; the figures of docs/exports.md come from benchmarks on the same day.
    url = f"sqlite:///{tmp_path / 'big.db'}"
    day = datetime.now(ZONE).date() + timedelta(days=1)
    stored = build_day(url, stops=2_000, day=day)
    app = create_app(Settings(database_url=url))
    with TestClient(app) as client, Session(app.state.engine) as session:
        h = bearer(create_api_key(session, "planner"))
        plan_id = session.exec(select(Plan.id)).one()
        started = time_module.perf_counter()
        text = client.get(f"/plans/{plan_id}/routes.csv", headers=h).text
        book = client.get(f"/plans/{plan_id}/routes.xlsx", headers=h).content
        elapsed = time_module.perf_counter() - started
    assert len(csv_rows(text)) == stored.stops == 2_000
    workbook = load_workbook(io.BytesIO(book), read_only=True)
    sizes = {name: sum(1 for _ in workbook[name].iter_rows()) for name in ("routes", "stops")}
    assert sizes == {"routes": stored.routes + 1, "stops": 2_001}
    assert len(text.encode()) < 1_000_000 and len(book) < 500_000
    assert elapsed < 20, f"{elapsed:.1f} s for both"  # ~1.6 s on a quiet machine
