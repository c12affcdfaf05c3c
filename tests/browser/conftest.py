"""Fixtures of the browser tests: Debian's headless Chromium driven by Playwright, with every
request that would leave loopback refused and recorded, against an app served by uvicorn.

* ``browser`` (session): Chromium from ``/usr/bin/chromium`` (``LASTMILE_CHROMIUM`` to point
  elsewhere) started with the flags that keep it from calling home; Playwright never
  downloads a browser here. The tests are skipped, saying why, when Chromium is missing;
  ``.ci/run`` installs it, so in CI they run.
* ``page``: a fresh context (no cookies) whose routes abort any request to a host other than
  127.0.0.1, ``localhost`` or ``[::1]``, or to a scheme other than http(s)/data/blob/file;
  after the test the fixture fails it if one was attempted (no request leaves loopback while a page
  loads). ``phone`` is the same at a phone's size and touch.
* ``demo_site`` (module): ``lastmile demo`` run on a small day into a fresh SQLite store with its
  street graph, then that store served by uvicorn in a thread, with a planner's key.
* :func:`shot` keeps a screenshot in ``out/screenshots/NAME.png`` (CI's artefacts).
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from api.app import create_app
from api.cli.demo import GRAPH_FILE, run_demo
from benchmarks.loopback import serve_in_thread
from orchestrator.access.keys import create_api_key
from orchestrator.models import Depot
from orchestrator.settings import Settings

SCREENSHOTS = Path(__file__).resolve().parents[2] / "out" / "screenshots"
"""Where :func:`shot` keeps its pictures (``out/`` is ignored by git; CI keeps it)."""

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
LOCAL_SCHEMES = frozenset({"data", "blob", "about", "file"})

CHROMIUM_FLAGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--metrics-recording-only",
]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


def chromium_path() -> str | None:
    """The Chromium binary the tests drive, or ``None`` when there is none."""
    configured = os.environ.get("LASTMILE_CHROMIUM")
    if configured:
        return configured if Path(configured).exists() else None
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test in this folder is a browser test."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium, started once for the session."""
    executable = chromium_path()
    if executable is None:
        pytest.skip(
            "no Chromium: install Debian's `chromium` (.ci/run does) or set LASTMILE_CHROMIUM"
        )
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class NetworkGuard:
    """The requests a page tried that would have left loopback."""

    refused: list[str]

    def assert_clean(self) -> None:
        assert not self.refused, f"requests leaving loopback: {self.refused[:5]}"


def _guarded_page(browser: Any, viewport: dict[str, int], *, mobile: bool) -> Iterator[Any]:
    options: dict[str, Any] = {"viewport": viewport, "locale": "en-GB"}
    if mobile:
        options.update(is_mobile=True, has_touch=True, device_scale_factor=2)
    context = browser.new_context(**options)
    guard = NetworkGuard(refused=[])

    def route(route: Any) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in LOCAL_SCHEMES or (
            parts.scheme in ("http", "https", "ws", "wss") and parts.hostname in LOOPBACK_HOSTS
        ):
            route.continue_()
        else:
            guard.refused.append(url)
            route.abort("blockedbyclient")

    context.route("**/*", route)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.guard = guard  # the test may look; the fixture asserts after it
    try:
        yield page
    finally:
        context.close()
    guard.assert_clean()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A desktop-sized page in a fresh context; fails the test if a request left loopback."""
    yield from _guarded_page(browser, DESKTOP, mobile=False)


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A phone-sized page (390 x 844, touch) in a fresh context, guarded like ``page``."""
    yield from _guarded_page(browser, PHONE, mobile=True)


def shot(page: Any, name: str) -> Path:
    """Keep a full-page screenshot of ``page`` as ``out/screenshots/NAME.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@dataclass(frozen=True)
class DemoSite:
    """A demo store served on loopback: its URL, a planner's key, the day and the depot."""

    url: str
    planner: str
    day: date
    depot_id: int
    settings: Settings
    app: Any

    def session(self) -> Session:
        """A session on the served store, for setting up or reading data directly."""
        return Session(self.app.state.engine)


DEMO_ORDERS = 40
DEMO_TIME_LIMIT_S = 2.0


def demo_day() -> date:
    """The day the browser tests plan: tomorrow in Helsinki, so no window has passed yet."""
    return datetime.now(ZoneInfo("Europe/Helsinki")).date() + timedelta(days=1)


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    """``lastmile demo`` on 40 orders for tomorrow, served by uvicorn on a loopback port."""
    folder = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{folder / 'demo.db'}"
    day = demo_day()
    said: list[str] = []
    code = run_demo(
        orders=DEMO_ORDERS,
        time_limit=DEMO_TIME_LIMIT_S,
        out_dir=folder,
        database_url=url,
        day=day,
        start_day=False,  # the tests dispatch and deliver themselves
        say=lambda text="", end="\n": said.append(text),
        progress=io.StringIO(),
    )
    assert code == 0, "\n".join(said)
    settings = Settings(database_url=url, road_graph=folder / GRAPH_FILE)
    app = create_app(settings)
    with serve_in_thread(app) as base:
        with Session(app.state.engine) as session:
            key = create_api_key(session, "planner")
        with Session(app.state.engine) as session:
            depot = session.exec(select(Depot)).first()
            assert depot is not None and depot.id is not None
            depot_id = depot.id
        yield DemoSite(base, key, day, depot_id, settings, app)
