"""The tour ``lastmile demo`` prints, run as printed against a fresh demo store.

Everything is real: the demo seeds a SQLite file and plans it, ``lastmile serve`` runs as a
subprocess on a loopback port with the printed environment, the printed commands run in one
``bash`` (curl included, so variables set by one command serve the next), and every printed
link is fetched over HTTP. Each command must exit 0 (``curl --fail-with-body`` exits non-zero
on any 4xx or 5xx) and each link answer 2xx.

The one change to the printed text: the what-if scenario (about 30 s) is swapped for a small
copy of it (a few seconds); ``test_the_printed_simulation_runs`` (slow) runs it verbatim.
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from api.cli.demo import TOUR_SCENARIO, next_working_day, run_demo
from api.cli.tour import Redirect, Step, TourFacts, build_tour, parse_tour, render_tour

pytestmark = pytest.mark.skipif(
    shutil.which("curl") is None or shutil.which("bash") is None,
    reason="the tour's commands use bash and curl",
)

ORDERS = 30
TIME_LIMIT_S = 2.0
# The demo's default day, the next working day: its windows are all ahead, and the stores'
# sales the returns engine reads run up to today.
DAY = next_working_day()
STARTUP_S = 30.0
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Tour:
    """The demo's printed text, its steps, and the folder it ran in."""

    text: str
    steps: tuple[Step, ...]
    folder: Path
    port: int


def free_port() -> int:
    """A TCP port nobody listens on now (loopback)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def demo_text(folder: Path, port: int) -> str:
    """Run the demo into ``folder``; what it printed on standard output."""
    printed = io.StringIO()

    def say(text: str = "", /, *, end: str = "\n") -> None:
        printed.write(text + end)

    code = run_demo(
        orders=ORDERS,
        time_limit=TIME_LIMIT_S,
        out_dir=folder / "out",
        database_url=f"sqlite:///{folder / 'demo.db'}",
        port=port,
        say=say,
        progress=io.StringIO(),
    )
    assert code == 0, printed.getvalue()
    return printed.getvalue()


@pytest.fixture(scope="module")
def tour(tmp_path_factory: pytest.TempPathFactory) -> Tour:
    """A demo store of 30 orders and the tour it printed (about 5 s)."""
    folder = tmp_path_factory.mktemp("tour")
    port = free_port()
    text = demo_text(folder, port)
    return Tour(text, parse_tour(text), folder, port)


@pytest.fixture(scope="module")
def server(tour: Tour) -> Iterator[str]:
    """The tour's first command, ``lastmile serve``, running as printed; its base URL."""
    (first, *_) = tour.steps
    assert first.serves and len(first.commands) == 1
    log = (tour.folder / "serve.log").open("wb")
    process = subprocess.Popen(
        ["bash", "-c", first.commands[0]],
        cwd=tour.folder,
        env=shell_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{tour.port}"
    deadline = time.monotonic() + STARTUP_S
    try:
        while True:
            try:
                if fetch(f"{base}/health", timeout=1.0)[0] == 200:
                    break
            except OSError:  # not listening yet
                pass
            assert process.poll() is None, (tour.folder / "serve.log").read_text()
            assert time.monotonic() < deadline, "lastmile serve did not answer in time"
            time.sleep(0.2)
        yield base
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()


def shell_env() -> dict[str, str]:
    """A newcomer's environment: no LASTMILE_* setting but those the tour prints."""
    return {k: v for k, v in os.environ.items() if not k.startswith("LASTMILE_")}


def gist(step: Step) -> str:
    """A step's first words with numbers left out (ids differ from one run to the next)."""
    return re.sub(r"\d+", "N", " ".join(step.title.split()[:3]))


def fetch(url: str, *, timeout: float) -> tuple[int, str]:
    """GET ``url``: the status code and the body (an error status too, not raised)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status, answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def small_scenario(folder: Path) -> Path:
    """The tour's scenario with 25 orders and one replication: the same command, in seconds."""
    text = (ROOT / TOUR_SCENARIO).read_text(encoding="utf-8")
    text = re.sub(r"(?m)^orders_per_day = \d+", "orders_per_day = 25", text)
    text = re.sub(r"(?m)^replications = \d+", "replications = 1", text)
    path = folder / "small.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run_commands(tour: Tour, commands: list[str]) -> subprocess.CompletedProcess[str]:
    """The commands in one bash, in order, stopping at the first that fails; each success
    prints a marker ``@@ok N``."""
    script = ["set -eo pipefail"]
    for n, command in enumerate(commands):
        script += [command, f"echo; echo '@@ok {n}'"]
    return subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=tour.folder,
        env=shell_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_tour_names_every_feature(tour: Tour) -> None:
    titles = " | ".join(step.title for step in tour.steps)
    for what in (
        "serve",
        "planner's key",
        "board",
        "page of order",
        "manifest of route",
        "options",
        "confirm",
        "find me at the café",
        "return",
        "re-plan",
        "simulation",
        "CSV of orders",
    ):
        assert what in titles, what
    assert tour.text.splitlines()[0].startswith(f"lastmile demo: {ORDERS} orders for {DAY}")


def test_every_printed_command_and_link_works(tour: Tour, server: str) -> None:
    commands = [c for step in tour.steps[1:] for c in step.commands]
    small = small_scenario(tour.folder)
    commands = [c.replace(str(ROOT / TOUR_SCENARIO), str(small)) for c in commands]
    assert any(str(small) in c for c in commands)  # the simulation step is there
    done = run_commands(tour, commands)
    passed = re.findall(r"(?m)^@@ok (\d+)$", done.stdout)
    failed = commands[len(passed)] if len(passed) < len(commands) else None
    assert done.returncode == 0 and len(passed) == len(commands), (
        f"failed: {failed}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    # What the redirect, the confirmation and the return answered.
    assert '"status":"confirmed"' in done.stdout
    assert "Café round the corner" in done.stdout
    assert (tour.folder / "out" / "simulation" / "report.html").is_file()

    links = [link for step in tour.steps for link in step.links]
    assert len(links) >= 3  # the board, a customer's page, a manifest
    for link in links:
        code, body = fetch(link, timeout=30.0)
        assert 200 <= code < 300, (link, code, body[:300])


def test_the_demo_runs_again_on_the_toured_store(tour: Tour, server: str) -> None:
    # After the tour (a hold confirmed, an order redirected, a return started, a re-plan),
    # the demo runs again on the same store and prints a tour of what is still to try.
    again = demo_text(tour.folder, tour.port)
    assert "the day is under way" in again or "re-planning around" in again
    steps = parse_tour(again)
    assert [s.title.split(" ")[0] for s in steps][:3] == ["serve", "in", "the"]
    # Every step of the first tour is offered again (the demo's own CSV included).
    assert [gist(s) for s in steps] == [gist(s) for s in tour.steps]


@pytest.mark.slow
def test_the_printed_simulation_runs(tour: Tour) -> None:
    (step,) = [s for s in tour.steps if "simulation" in s.title]
    done = run_commands(tour, list(step.commands))
    assert done.returncode == 0, done.stderr[-2000:]


# -- the tour as data (no server) ---------------------------------------------------------------


def facts(**changes: object) -> TourFacts:
    """Facts of a store with everything to show; ``changes`` override them."""
    base = TourFacts(
        lastmile="/opt/my venv/bin/lastmile",
        env={"LASTMILE_DATABASE_URL": "sqlite:////tmp/a b/demo.db", "LASTMILE_ROAD_GRAPH": "/g"},
        base_url="http://127.0.0.1:8000",
        port=8000,
        depot_id=1,
        day=DAY,
        plan_id=7,
        route_id=3,
        route_vehicle="van-1-1",
        route_stops=9,
        route_delivered=2,
        manifest_link="http://127.0.0.1:8000/routes/3/manifest?token=r.3",
        page_order_id=12,
        page_customer_id=12,
        page_link="http://127.0.0.1:8000/t/o.12",
        choice={"place_id": 4, "service_level": "standard"},
        redirect=Redirect(15, {"point": [24.9, 60.2], "label": "Café"}, 5, "van-1-1"),
        returnable=(40, 41),
        csv_export=True,
        scenario="/x/sparse suburb.toml",
        orders_csv="/out/orders.csv",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]  # test overrides


def test_the_printed_tour_reads_back_as_built() -> None:
    steps = build_tour(facts())
    assert parse_tour("\n".join(["some heading", *render_tour(steps), "trailing words"])) == steps
    assert steps[0].serves and not any(s.serves for s in steps[1:])
    # Paths with spaces are quoted for the shell; the store's URL too.
    assert "'/x/sparse suburb.toml'" in steps[-2].commands[0]
    assert "LASTMILE_DATABASE_URL='sqlite:////tmp/a b/demo.db'" in steps[0].commands[0]


def test_steps_without_their_facts_are_left_out() -> None:
    # No route on its way, nothing returnable, no export, no examples installed.
    bare = facts(
        route_id=None, manifest_link=None, redirect=None, returnable=None, csv_export=False,
        scenario=None, orders_csv=None, page_order_id=None, page_customer_id=None,
        page_link=None, choice=None,
    )  # fmt: skip
    titles = " ".join(s.title for s in build_tour(bare))
    for gone in ("manifest", "café", "return", "CSV", "simulation", "options", "page of"):
        assert gone not in titles
    assert "CUSTOMER_KEY" not in "\n".join(render_tour(build_tour(bare)))
