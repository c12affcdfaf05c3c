"""Authentication and roles: 401 without or with a bad key, 403 for the wrong role, both before
the input is judged; failed keys limited per client address (429 with ``Retry-After``)."""

from __future__ import annotations

import collections
import hashlib
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.app import create_app
from benchmarks.loopback import serve_in_thread
from orchestrator.access.keys import create_api_key, revoke_api_key
from orchestrator.access.lockout import Lockout
from orchestrator.models import ApiKey
from orchestrator.settings import Settings
from tests.api.conftest import Keys, Live, bearer


def test_health_needs_no_key(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_docs_need_no_key(client: TestClient) -> None:
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},  # no Authorization header at all
        {"Authorization": "Bearer lmk_not-a-real-key"},  # well-formed but unknown
        {"Authorization": "Bearer "},  # empty key
        {"Authorization": "Basic dXNlcjpwYXNz"},  # another scheme
    ],
)
def test_missing_or_bad_key_is_401_with_bearer_challenge(
    client: TestClient, keys: Keys, headers: dict[str, str]
) -> None:
    response = client.post("/solve/vroom", json={}, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "key" in response.json()["detail"]


def test_revoked_key_is_401(client: TestClient, session: Session, keys: Keys) -> None:
    planner = session.exec(select(ApiKey).where(ApiKey.role == "planner")).one()
    assert planner.id is not None
    revoke_api_key(session, planner.id)
    response = client.post("/solve/vroom", json={}, headers=bearer(keys.planner))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("role", ["customer", "analyst"])
def test_wrong_role_is_403(client: TestClient, keys: Keys, role: str) -> None:
    response = client.post("/solve/vroom", json={}, headers=bearer(getattr(keys, role)))
    assert response.status_code == 403
    assert "planner" in response.json()["detail"]


def test_openapi_declares_the_bearer_scheme(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"


# --- The key is judged before the input ------------------------------------------------------

_BAD_BODY = b'{"not json'
_BAD_PATH_VALUE = "99999999999999999999"  # beyond 64 bits, and not an id of anything


def _secured_operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Every operation the OpenAPI document says needs a key: (method, path, operation)."""
    return [
        (method, path, operation)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if operation.get("security")
    ]


def _hostile_request(path: str, operation: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """The path with every parameter out of range, and every query parameter garbled."""
    url = re.sub(r"\{[^}]+\}", _BAD_PATH_VALUE, path)
    query = {p["name"]: "-1e999" for p in operation.get("parameters", []) if p["in"] == "query"}
    return url, query


@pytest.fixture
def unlimited(tmp_path: Path) -> Iterator[TestClient]:
    """A client of an app without the failed-key limit (its tests fail keys by the hundred)."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'open.db'}", auth_failure_limit=0)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    "headers",
    [
        {},  # no key at all
        {"Authorization": "Bearer lmk_" + "x" * 43},  # a wrong key
        {"Authorization": "Basic dXNlcjpwYXNz"},  # another scheme
    ],
)
def test_every_keyed_operation_judges_the_key_before_the_input(
    unlimited: TestClient, headers: dict[str, str]
) -> None:
    client = unlimited
    operations = _secured_operations(client.get("/openapi.json").json())
    assert len(operations) >= 60  # every operation but /health
    wrong = {}
    for method, path, operation in operations:
        url, query = _hostile_request(path, operation)
        response = client.request(
            method.upper(),
            url,
            params=query,
            content=_BAD_BODY,
            headers={**headers, "Content-Type": "application/json"},
        )
        if response.status_code != 401 or response.headers.get("WWW-Authenticate") != "Bearer":
            wrong[f"{method.upper()} {path}"] = response.status_code
    assert wrong == {}


def test_a_valid_key_still_gets_the_validation_error(client: TestClient, keys: Keys) -> None:
    response = client.post(
        "/orders",
        content=_BAD_BODY,
        headers={**bearer(keys.planner), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    response = client.get("/orders/1/options?days=0", headers=bearer(keys.customer))
    assert response.status_code == 422
    assert response.json()["field"] == "query.days"


def test_a_key_of_a_refused_role_is_403_before_the_input(client: TestClient, keys: Keys) -> None:
    headers = {**bearer(keys.customer), "Content-Type": "application/json"}
    response = client.post("/depots", content=_BAD_BODY, headers=headers)
    assert response.status_code == 403
    assert "planner" in response.json()["detail"]
    response = client.get("/orders/1/options?days=0", headers=bearer(keys.analyst))
    assert response.status_code == 403


def test_a_body_too_large_without_a_key_is_401(unlimited: TestClient) -> None:
    """No key: 401 before the size is judged. With a key (right or wrong) the size limit
    answers at once, before routing, and its 413 stands — it is quick on purpose."""
    too_large = b"x" * (2 * 1_048_576)
    assert unlimited.post("/orders", content=too_large).status_code == 401
    wrong = unlimited.post("/orders", content=too_large, headers=bearer("lmk_" + "w" * 43))
    assert wrong.status_code == 413


def test_a_body_without_a_key_is_never_read(live: Live) -> None:
    """A keyless request is answered before its (announced, never sent) body arrives."""
    host, port = live.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(
            b"POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000000\r\n\r\n{"
        )
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 401"), answer[:80]


# --- Failed authentications are limited per client address ----------------------------------


# The app is served by uvicorn, which trusts X-Forwarded-For from 127.0.0.1 (its default): the
# tests play several clients behind a local proxy with it.


@dataclass(frozen=True)
class Limited:
    """A served app with a failure limit: its URL, a planner's key and the limit."""

    url: str
    planner: str
    limit: int
    window_s: float


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[Limited]:
    """The app with at most 5 failed keys per address within 2 s, served on loopback."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'limited.db'}",
        auth_failure_limit=5,
        auth_failure_window_s=2.0,
    )
    app = create_app(settings)
    with serve_in_thread(app) as url:
        with Session(app.state.engine) as session:
            key = create_api_key(session, "planner")
        yield Limited(url, key, 5, 2.0)


def _as(address: str, key: str | None = None) -> dict[str, str]:
    """Headers of a client at ``address`` (through the trusted local proxy) sending ``key``."""
    headers = {"X-Forwarded-For": address}
    return headers | (bearer(key) if key else {})


def test_the_default_limit_is_20_failures_a_minute() -> None:
    settings = Settings(database_url="sqlite://")
    assert (settings.auth_failure_limit, settings.auth_failure_window_s) == (20, 60.0)


def test_failed_keys_beyond_the_limit_are_429_with_retry_after(limited: Limited) -> None:
    wrong = "lmk_" + "w" * 43
    with httpx.Client(base_url=limited.url, timeout=10) as http:
        codes = [
            http.get("/orders", headers=_as("203.0.113.7", wrong)).status_code
            for _ in range(limited.limit)
        ]
        assert codes == [401] * limited.limit
        blocked = http.get("/orders", headers=_as("203.0.113.7", wrong))
        assert blocked.status_code == 429
        assert 1 <= int(blocked.headers["Retry-After"]) <= limited.window_s
        assert "Retry-After" in blocked.json()["detail"]
        # The address is held off whatever it sends, a right key or a bad body included: no
        # answer tells a right guess from a wrong one while it waits.
        assert http.get("/orders", headers=_as("203.0.113.7", limited.planner)).status_code == 429
        assert http.post("/orders", headers=_as("203.0.113.7"), content=b"{").status_code == 429
        # Other addresses, and what needs no key, are untouched.
        assert http.get("/orders", headers=_as("203.0.113.8", limited.planner)).status_code == 200
        assert http.get("/health", headers=_as("203.0.113.7")).status_code == 200
        # Once the oldest failure leaves the window, the address may try again.
        time.sleep(float(blocked.headers["Retry-After"]) + 0.1)
        assert http.get("/orders", headers=_as("203.0.113.7", limited.planner)).status_code == 200


def test_successes_are_never_limited(limited: Limited) -> None:
    with httpx.Client(base_url=limited.url, timeout=10) as http:
        for _ in range(limited.limit * 4):
            response = http.get("/orders", headers=_as("198.51.100.1", limited.planner))
            assert response.status_code == 200
        # Failures below the limit, between successes, leave the address its requests.
        for _ in range(limited.limit - 1):
            assert http.get("/orders", headers=_as("198.51.100.1", "lmk_x")).status_code == 401
            ok = http.get("/orders", headers=_as("198.51.100.1", limited.planner))
            assert ok.status_code == 200


def test_300_wrong_keys_in_a_burst_meet_the_limit(tmp_path: Path) -> None:
    """The issue's probe: 300 wrong keys from one address as fast as it can send them."""
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'burst.db'}"))
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=10) as http:
        started = time.perf_counter()
        codes = collections.Counter(
            http.get("/orders", headers=bearer(f"lmk_{n:043d}")).status_code for n in range(300)
        )
        elapsed = time.perf_counter() - started
    assert codes == {401: 20, 429: 280}, codes
    print(f"300 wrong keys: {dict(codes)} in {elapsed:.2f} s")


def test_lockout_counts_within_the_window_and_forgets_old_addresses() -> None:
    now = [0.0]
    lockout = Lockout(3, 10.0, 100, clock=lambda: now[0])
    for _ in range(3):
        assert lockout.retry_after("a") is None
        lockout.record_failure("a")
        now[0] += 1.0
    assert lockout.retry_after("a") == pytest.approx(7.0)  # the first failure leaves at 10 s
    assert lockout.retry_after("b") is None
    now[0] = 10.5
    assert lockout.retry_after("a") is None
    lockout.record_failure("a")  # failures 2, 3 and this one: within 10 s again
    assert lockout.retry_after("a") == pytest.approx(0.5)
    for n in range(10_000):  # many addresses: memory stays bounded
        lockout.record_failure(f"10.0.{n // 256}.{n % 256}")
    assert len(lockout) == 100
    assert lockout.retry_after("a") is None  # forgotten: the least recently failing


def test_a_limit_of_zero_turns_the_lockout_off() -> None:
    lockout = Lockout(0, 60.0, 10)
    for _ in range(100):
        lockout.record_failure("a")
    assert lockout.retry_after("a") is None and len(lockout) == 0


def test_a_key_stored_before_the_secret_keeps_working(client: TestClient, session: Session) -> None:
    """A key an older server stored as a plain sha256 is accepted and re-hashed on first use."""
    key = "lmk_" + "o" * 43
    legacy = hashlib.sha256(key.encode()).hexdigest()
    session.add(ApiKey(prefix=key[:12], key_hash=legacy, role="planner"))
    session.commit()
    assert client.get("/orders", headers=bearer(key)).status_code == 200
    session.expire_all()
    assert session.exec(select(ApiKey.key_hash)).one() != legacy
    assert client.get("/orders", headers=bearer(key)).status_code == 200
