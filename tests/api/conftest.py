"""Fixtures of the API tests: an app on a SQLite file of its own, a client, and keys per role.

Every request goes through a real HTTP client (Starlette's ``TestClient``) into the ASGI app,
its lifespan included. The file is a copy of one migrated once per session, so start-up
finds the schema at head, as a restarted server does (tests that make their own app on a new
file see the schema created on start-up, as a first start does). ``live`` serves
an app with uvicorn on a loopback port, in a thread, for tests that need real sockets and
concurrent requests.
"""

from __future__ import annotations

import copy
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from api.app import create_app
from api.routes.depots import EXAMPLE as DEPOT
from api.routes.fleet import FLEET_EXAMPLE, VEHICLE_TYPE_EXAMPLE
from benchmarks.loopback import serve_in_thread
from orchestrator.access.keys import create_api_key
from orchestrator.intake.catalog import create_customer
from orchestrator.settings import Settings
from orchestrator.store.engine import create_engine, ensure_schema
from tests.orchestrator.conftest import POSTGRES_ENV, World, _postgres_database, make_world

_RAW_OPENAPI: list[dict[str, Any]] = []
"""FastAPI's own OpenAPI document of the first app the fixtures made (before the app's
additions: the 413 and 415 answers, which depend on its settings and are added on every call)."""


def with_cached_openapi(app: FastAPI) -> FastAPI:
    """``app``, handed a copy of FastAPI's OpenAPI document of an earlier app of
    :func:`create_app` (the same routes, so the same document).

    Why: the key check reads the document on an app's first request, and FastAPI takes about
    a second (more on a loaded machine) to make it; most API tests make an app of their own.
    Tests that make their apps otherwise still generate it, as a server does.
    """
    if not _RAW_OPENAPI:
        _RAW_OPENAPI.append(copy.deepcopy(FastAPI.openapi(app)))
        return app
    app.openapi_schema = copy.deepcopy(_RAW_OPENAPI[0])
    # FastAPI makes the document again when the routes changed since (its own check).
    app._openapi_routes_version = app.router._get_routes_version()
    return app


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once for the session, with no rows.

    Why: migrating an empty file takes about 0.4 s (more on a loaded machine) and most API
    tests make an app of their own; an app started on a copy finds the schema at head and
    moves on, as a restarted server does. Tests that make their apps on a new file still
    create the schema on start-up.
    """
    path = tmp_path_factory.mktemp("template") / "migrated.db"
    engine = create_engine(f"sqlite:///{path}")
    try:
        ensure_schema(engine)
    finally:
        engine.dispose()  # the last connection closed: the write-ahead log is in the file
    return path


@pytest.fixture
def app(tmp_path: Path, migrated_sqlite: Path) -> FastAPI:
    """The app on a SQLite file of its own, its schema at head and no rows."""
    shutil.copyfile(migrated_sqlite, tmp_path / "api.db")
    return with_cached_openapi(
        create_app(Settings(database_url=f"sqlite:///{tmp_path / 'api.db'}"))
    )


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A client of ``app`` with the lifespan running (schema created, job pool up)."""
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def session(app: FastAPI, client: TestClient) -> Iterator[Session]:
    """A session on the app's store, for setting up data directly through the services."""
    with Session(app.state.engine) as store_session:
        yield store_session


@dataclass(frozen=True)
class Live:
    """A served app: its base URL and a planner's key."""

    url: str
    planner: str


LIVE_STARTUP_S = 30.0


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    """The app served by uvicorn on a free loopback port in a thread; stopped afterwards."""
    app = with_cached_openapi(
        create_app(Settings(database_url=f"sqlite:///{tmp_path / 'live.db'}"))
    )
    with serve_in_thread(app, startup_s=LIVE_STARTUP_S) as url:
        with Session(app.state.engine) as session:
            key = create_api_key(session, "planner")
        yield Live(url, key)


@dataclass(frozen=True)
class Keys:
    """One key per role; ``customer`` belongs to customer ``customer_id``, ``other`` to
    ``other_customer_id``."""

    planner: str
    analyst: str
    admin: str
    customer: str
    other: str
    customer_id: int
    other_customer_id: int


def bearer(key: str) -> dict[str, str]:
    """The header that sends ``key``."""
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def keys(session: Session) -> Keys:
    """Keys of every role, and two customers each with a customer key."""
    return make_keys(session)


def make_keys(session: Session) -> Keys:
    """Keys of every role, and two customers each with a customer key, made in ``session``'s
    store (for module-scoped fixtures that share one app between tests that only read)."""
    aino = create_customer(session, {"name": "Aino Virtanen"})
    bert = create_customer(session, {"name": "Bertil Lindqvist"})
    assert aino.id is not None and bert.id is not None
    return Keys(
        planner=create_api_key(session, "planner"),
        analyst=create_api_key(session, "analyst"),
        admin=create_api_key(session, "admin"),
        customer=create_api_key(session, "customer", aino.id),
        other=create_api_key(session, "customer", bert.id),
        customer_id=aino.id,
        other_customer_id=bert.id,
    )


@pytest.fixture
def world(client: TestClient, keys: Keys) -> dict[str, Any]:
    """A depot with four vans and a home for each of the two customers, made through the API."""
    h = bearer(keys.planner)
    depot = client.post("/depots", json=DEPOT, headers=h).json()
    van = client.post("/vehicle-types", json=VEHICLE_TYPE_EXAMPLE, headers=h).json()
    fleet_in = {**FLEET_EXAMPLE, "depot_id": depot["id"], "vehicle_type_id": van["id"]}
    fleet = client.post("/fleets", json=fleet_in, headers=h)
    assert fleet.status_code == 201, fleet.text
    homes = {}
    owners = (("aino", keys.customer_id, 60.1755), ("bert", keys.other_customer_id, 60.1800))
    for who, customer_id, lat in owners:
        place = {"kind": "home", "name": "home", "lat": lat, "lon": 24.9310}
        made = client.post(f"/customers/{customer_id}/places", json=place, headers=h)
        assert made.status_code == 201, made.text
        homes[who] = made.json()
    return {"depot": depot, "van": van, "fleet": fleet.json(), "homes": homes}


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty store on SQLite, and on the PostgreSQL server of LASTMILE_TEST_POSTGRES_URL
    (a database of its own, dropped afterwards; skipped when the variable is unset)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'view.db'}"
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set (.ci/run starts a PostgreSQL server and sets it)")
    yield from _postgres_database(base)


def rows_in(url: str, model: type) -> int:
    """Rows of ``model``'s table in the store at ``url`` — what a command left behind (an
    engine of its own, disposed afterwards)."""
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            return int(session.exec(select(func.count()).select_from(model)).one())
    finally:
        engine.dispose()


def world_store(
    path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fill: Callable[[Session, World], object] | None = None,
) -> str:
    """A SQLite store at ``path`` for a command to work on: migrated, the depot HEL1 with two
    vans and a customer (:func:`~tests.orchestrator.conftest.make_world`), then what ``fill``
    adds; set as ``LASTMILE_DATABASE_URL``. Its URL."""
    url = f"sqlite:///{path}"
    monkeypatch.setenv("LASTMILE_DATABASE_URL", url)
    engine = create_engine(url)
    try:
        ensure_schema(engine)
        with Session(engine) as session:
            world = make_world(session)
            if fill is not None:
                fill(session, world)
    finally:
        engine.dispose()
    return url
