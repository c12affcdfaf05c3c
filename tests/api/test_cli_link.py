"""``lastmile link ORDER_ID [--route] [--hours H] [--base-url URL]``: the printed link opens the
order's page (or the route's manifest) on a server of the same store, expires when it says,
and an unknown id or a bad option is a clear one-line error."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.app import create_app
from orchestrator.access.links import read_link_token
from orchestrator.access.secret import key_secret
from orchestrator.intake.orders import register_order
from orchestrator.planning.plans import plan_day, plan_routes
from orchestrator.settings import Settings
from orchestrator.store.engine import create_engine, ensure_schema
from routing import Limits
from tests.api.test_cli_keys import run
from tests.orchestrator.conftest import DAY, TRAVEL, make_world, order_data

QUICK = Limits(time_limit=0.5, solution_limit=5, seed_with="none")
"""One order: any solution will do."""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A store with one planned order (id 1) on one route (id 1), made once."""
    database = f"sqlite:///{tmp_path_factory.mktemp('link') / 'link.db'}"
    engine = create_engine(database)
    ensure_schema(engine)
    with Session(engine) as session:
        world = make_world(session, vans=1)
        register_order(session, order_data(world), "o1")
        plan = plan_day(session, world.depot.id or 0, DAY, limits=QUICK, travel=TRAVEL)
        assert [r.id for r in plan_routes(session, plan.id or 0)] == [1]
    engine.dispose()
    return database


@pytest.fixture
def url(store: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """``LASTMILE_DATABASE_URL`` naming :func:`store`, its secret in the file beside it."""
    monkeypatch.setenv("LASTMILE_DATABASE_URL", store)
    monkeypatch.delenv("LASTMILE_KEY_SECRET", raising=False)
    return store


def test_the_link_opens_the_orders_page(url: str) -> None:
    code, out, err = run(["link", "1", "--base-url", "http://testserver/"])

    assert (code, err) == (0, "")
    link = out.strip().splitlines()[-1]
    assert re.fullmatch(r"http://testserver/t/o\.1\.\d+\.[A-Za-z0-9_-]{22}", link)
    with TestClient(create_app(Settings(database_url=url))) as client:
        page = client.get(link)
    assert page.status_code == 200 and 'data-testid="tracking"' in page.text


def test_hours_set_the_expiry(url: str) -> None:
    code, out, _ = run(["link", "1", "--hours", "2"])

    assert code == 0
    link = out.strip().splitlines()[-1]
    assert link.startswith("http://127.0.0.1:8000/t/")  # where `lastmile serve` listens
    target = read_link_token(key_secret(url), link.rsplit("/", 1)[1], purpose="order")
    assert target is not None and target.id == 1
    left = target.expires_at - datetime.now(UTC)
    assert timedelta(hours=1, minutes=58) < left <= timedelta(hours=2)
    assert "valid until" in out


def test_a_route_link_is_its_manifest(url: str) -> None:
    code, out, _ = run(["link", "1", "--route"])

    assert code == 0
    link = out.strip().splitlines()[-1]
    found = re.fullmatch(r"http://127\.0\.0\.1:8000/routes/1/manifest\?token=(r\.1\.\S+)", link)
    assert found is not None
    assert read_link_token(key_secret(url), found[1], purpose="route") is not None


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["link", "99"], "no order 99 in"),
        (["link", "7", "--route"], "no route 7 in"),
        (["link", "0"], "out of range"),
        (["link", "x"], "is not a whole number"),
        (["link", "1", "--hours", "0"], "out of range"),
        (["link", "1", "--base-url", "ftp://x"], "is not a base URL"),
        (["link"], "Missing argument 'ORDER_ID'"),
    ],
)
def test_bad_input_is_a_clear_error(url: str, argv: list[str], says: str) -> None:
    code, out, err = run(argv)

    assert code == 2 and out == ""
    assert err.startswith("error: lastmile link: ") and says in err
    assert len(err.strip().splitlines()) == 1
