"""Webhooks through the real app: subscriptions for planner and admin keys only, bad input
named, events of the concierge delivered by the app's own worker to a real loopback receiver
that refuses the first three attempts, and a ``lastmile serve`` killed with SIGKILL while
events wait in the outbox delivering them after its restart (with two worker processes)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.app import create_app
from orchestrator.access.keys import create_api_key
from orchestrator.concierge.offers import clear_caches
from orchestrator.intake.orders import register_order
from orchestrator.models import OrderEventKind
from orchestrator.notifications.signing import verify
from orchestrator.settings import Settings
from orchestrator.store import events
from orchestrator.store.engine import create_engine, ensure_schema
from tests.api.conftest import Keys, bearer
from tests.api.test_concierge_api import new_order, pick
from tests.api.test_serve import free_port, lastmile
from tests.orchestrator.conftest import make_world, order_data
from tests.orchestrator.test_outbox import Receiver

FAST = {
    "webhook_backoff_s": 0.1,
    "webhook_backoff_max_s": 0.4,
    "webhook_poll_s": 0.05,
    "webhook_timeout_s": 2.0,
}
"""Back-off of a tenth of a second and a worker looking twenty times a second."""
DEADLINE_S = 60.0
STARTUP_S = 60.0


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    """The app on an empty SQLite file of its own, retrying webhooks within a second."""
    return create_app(Settings(database_url=f"sqlite:///{tmp_path / 'api.db'}", **FAST))


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    """Each test has its own store: no timeline may survive it."""
    clear_caches()
    yield
    clear_caches()


def until(what: str, check: Callable[[], Any], *, deadline_s: float = DEADLINE_S) -> Any:
    """Call ``check`` every 0.05 s until it returns something true; that value."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {deadline_s:g} s")


SUBSCRIPTION = {
    "url": "https://shop.example/hooks/lastmile",
    "events": ["order.options_ready", "order.confirmed"],
    "eta_moved_min": 10,
}


# -- subscriptions --------------------------------------------------------------------------


def test_customer_and_analyst_keys_get_403(client: TestClient, keys: Keys) -> None:
    made = client.post("/webhooks", json=SUBSCRIPTION, headers=bearer(keys.planner))
    assert made.status_code == 201, made.text
    hook = made.json()["id"]
    calls = [
        ("POST", "/webhooks", SUBSCRIPTION),
        ("GET", "/webhooks", None),
        ("GET", f"/webhooks/{hook}", None),
        ("DELETE", f"/webhooks/{hook}", None),
        ("GET", f"/webhooks/{hook}/deliveries", None),
    ]
    for key in (keys.customer, keys.other, keys.analyst):
        for method, path, body in calls:
            answer = client.request(method, path, json=body, headers=bearer(key))
            assert answer.status_code == 403, (method, path, answer.text)
    for method, path, body in calls:
        assert client.request(method, path, json=body).status_code == 401
    assert client.get(f"/webhooks/{hook}", headers=bearer(keys.planner)).status_code == 200


def test_the_secret_is_shown_once_and_delete_is_final(client: TestClient, keys: Keys) -> None:
    admin = bearer(keys.admin)
    made = client.post("/webhooks", json=SUBSCRIPTION, headers=admin)
    assert made.status_code == 201, made.text
    created = made.json()
    assert created["secret"].startswith("whsec_")
    assert created["events"] == SUBSCRIPTION["events"] and created["eta_moved_min"] == 10
    listed = client.get("/webhooks", headers=bearer(keys.planner)).json()
    assert [w["id"] for w in listed] == [created["id"]]
    one = client.get(f"/webhooks/{created['id']}", headers=admin).json()
    assert "secret" not in one and "secret" not in listed[0]
    assert created["secret"] not in json.dumps(listed) + json.dumps(one)
    assert client.get(f"/webhooks/{created['id']}/deliveries", headers=admin).json() == []
    assert client.delete(f"/webhooks/{created['id']}", headers=admin).status_code == 204
    assert client.get(f"/webhooks/{created['id']}", headers=admin).status_code == 404
    assert client.delete(f"/webhooks/{created['id']}", headers=admin).status_code == 404
    assert client.get(f"/webhooks/{created['id']}/deliveries", headers=admin).status_code == 404


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"url": "ftp://shop.example/hooks"}, "url"),  # not http(s)
        ({"url": "shop.example/hooks"}, "url"),  # not absolute
        ({"url": "x" * 2_001}, "url"),  # too long
        ({"events": []}, "events"),  # nothing wanted
        ({"events": ["order.lost"]}, "events"),  # no such event
        ({"events": ["order.confirmed", "order.confirmed"]}, "events"),  # twice
        ({"eta_moved_min": 0}, "eta_moved_min"),  # below a minute
    ],
)
def test_bad_subscriptions_are_422_naming_the_field(
    client: TestClient, keys: Keys, changes: dict[str, Any], field: str
) -> None:
    answer = client.post(
        "/webhooks", json={**SUBSCRIPTION, **changes}, headers=bearer(keys.planner)
    )
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["field"].split(".")[:2] == ["body", field], body
    assert body["message"]
    assert client.get("/webhooks", headers=bearer(keys.planner)).json() == []


# -- delivery by the app's worker -----------------------------------------------------------


def test_concierge_events_reach_a_receiver_down_for_three_attempts(
    client: TestClient, keys: Keys, world: dict[str, Any]
) -> None:
    receiver = Receiver([503, 503, 503])
    try:
        made = client.post(
            "/webhooks", json={**SUBSCRIPTION, "url": receiver.url}, headers=bearer(keys.planner)
        )
        hook = made.json()
        me = bearer(keys.customer)
        o = new_order(client, keys, world, "o1")
        options = client.get(f"/orders/{o['id']}/options", headers=me).json()["options"]
        client.get(f"/orders/{o['id']}/options", headers=me)  # the second offer tells nothing
        held = client.post(f"/orders/{o['id']}/options", json=pick(options[0]), headers=me)
        assert client.post(f"/holds/{held.json()['id']}/confirm", headers=me).status_code == 200

        deliveries = f"/webhooks/{hook['id']}/deliveries"

        def all_delivered() -> list[dict[str, Any]] | None:
            rows = client.get(deliveries, headers=bearer(keys.planner)).json()
            done = len(rows) == 2 and all(r["status"] == "delivered" for r in rows)
            return rows if done else None

        rows = until("both events delivered", all_delivered)
    finally:
        receiver.close()
    assert [r["event_type"] for r in rows] == ["order.confirmed", "order.options_ready"]
    assert sum(r["attempts"] for r in rows) == 3 + 2
    assert all(r["next_attempt_at"] is None and r["last_status"] == 200 for r in rows)
    got = receiver.delivered()
    assert sorted(h["Webhook-Id"] for h, _ in got) == sorted(r["event_id"] for r in rows)
    for headers, body in got:
        assert verify(hook["secret"], body, headers["Webhook-Signature"])
        event = json.loads(body)
        assert event["id"] == headers["Webhook-Id"] and event["order_id"] == o["id"]
        assert event["occurred_at"].endswith(("+02:00", "+03:00"))  # Helsinki's offset
    refused = [h["Webhook-Id"] for h, _, code in receiver.requests if code == 503]
    assert len(refused) == 3 and set(refused) <= {r["event_id"] for r in rows}


# -- a killed server ------------------------------------------------------------------------


def _call(base: str, path: str, key: str, body: object = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{base}{path}", data=data,
                                     method="GET" if data is None else "POST")  # fmt: skip
    request.add_header("Authorization", f"Bearer {key}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _start(database_url: str, log: Path, *, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    """``lastmile serve`` on the store, retrying webhooks fast; the process and its URL."""
    port = free_port()
    env = {**os.environ, "LASTMILE_DATABASE_URL": database_url}
    env |= {f"LASTMILE_{name.upper()}": str(value) for name, value in FAST.items()}
    command = [*lastmile(), "serve", "--port", str(port), "--workers", str(workers),
               "--log-level", "warning"]  # fmt: skip
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=env, cwd=log.parent, stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}"

    def health() -> bool:
        assert process.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=5) as answer:
                return bool(answer.status == 200)
        except (urllib.error.URLError, ConnectionError):
            return False

    until("the server answering", health, deadline_s=STARTUP_S)
    return process, base


def _stop(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    process.send_signal(sig)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


def test_a_server_killed_with_events_in_the_outbox_delivers_them_after_restart(
    tmp_path: Path,
) -> None:
    database_url = f"sqlite:///{tmp_path / 'served.db'}"
    engine = create_engine(database_url)
    ensure_schema(engine)
    with Session(engine) as session:
        planner = create_api_key(session, "planner")
        an_order = order_data(make_world(session))  # its ids, read while the session is open
    port = free_port()  # where the receiver will listen; nothing does yet
    url = f"http://127.0.0.1:{port}/hooks"
    log = tmp_path / "serve.log"

    process, base = _start(database_url, log, workers=1)
    try:
        wanted = {"url": url, "events": ["order.delivered", "order.failed_attempt"]}
        status, hook = _call(base, "/webhooks", planner, wanted)
        assert status == 201, hook
        with Session(engine) as session:  # twelve events, committed with their changes
            for k in range(12):
                order = register_order(session, dict(an_order), f"o{k}")
                kind = OrderEventKind.DELIVERED if k % 3 else OrderEventKind.FAILED
                events.record(session, order.id or 0, kind, detail=f"stop {k}")
                session.commit()

        def all_tried() -> bool:
            rows = _call(base, f"/webhooks/{hook['id']}/deliveries", planner)[1]
            return len(rows) == 12 and all(r["last_error"] for r in rows)

        until("every event tried against the receiver that is down", all_tried)
        status, rows = _call(base, f"/webhooks/{hook['id']}/deliveries", planner)
        assert {r["status"] for r in rows} == {"pending"}
        assert all(r["last_error"].startswith("could not post") for r in rows)
    finally:
        _stop(process, signal.SIGKILL)  # no shutdown: whatever it held is left as it was
    assert process.returncode == -signal.SIGKILL

    receiver = Receiver(port=port)
    try:
        process, base = _start(database_url, log, workers=2)
        try:

            def all_delivered() -> list[dict[str, Any]] | None:
                rows = _call(base, f"/webhooks/{hook['id']}/deliveries", planner)[1]
                return rows if all(r["status"] == "delivered" for r in rows) else None

            rows = until("every event delivered after the restart", all_delivered)
        finally:
            _stop(process, signal.SIGTERM)
    finally:
        receiver.close()
        engine.dispose()
    got = receiver.delivered()
    ids = [h["Webhook-Id"] for h, _ in got]
    assert sorted(set(ids)) == sorted(r["event_id"] for r in rows)  # every event arrived
    assert len(ids) == 12  # once each: two worker processes never sent one row twice
    for headers, body in got:
        assert verify(hook["secret"], body, headers["Webhook-Signature"])
        assert json.loads(body)["id"] == headers["Webhook-Id"]
