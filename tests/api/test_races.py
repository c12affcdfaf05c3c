"""Races and locks through the API (issue #13): a write that meets a SQLite store locked by
another writer waits a bounded time, then answers 503 with ``Retry-After`` — never 500
"database is locked". (Two customers racing for the last slot: tests/orchestrator/test_races.py,
on SQLite and PostgreSQL.)"""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from orchestrator.store.engine import BUSY_TIMEOUT_S
from tests.api.conftest import Keys, bearer
from tests.api.test_resources import order


def _headers(keys: Keys, idem: str) -> dict[str, str]:
    return {**bearer(keys.planner), "Idempotency-Key": idem}


def _database(app: FastAPI) -> str:
    database = app.state.engine.url.database
    assert database
    return str(database)


def test_a_write_into_a_locked_store_is_503_with_retry_after(
    app: FastAPI, client: TestClient, keys: Keys, world: dict[str, Any]
) -> None:
    holder = sqlite3.connect(_database(app), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer (say, an import) holds the store
    try:
        t0 = time.monotonic()
        response = client.post("/orders", json=order(world, keys), headers=_headers(keys, "race-0"))
        waited = time.monotonic() - t0
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) >= 1
    assert "busy" in response.json()["detail"]
    assert BUSY_TIMEOUT_S - 0.5 <= waited < BUSY_TIMEOUT_S + 3
    again = client.post("/orders", json=order(world, keys), headers=_headers(keys, "race-1"))
    assert again.status_code == 201, again.text


def test_a_write_waits_for_a_short_lock_and_succeeds(
    app: FastAPI, client: TestClient, keys: Keys, world: dict[str, Any]
) -> None:
    holder = sqlite3.connect(_database(app), isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    releaser = threading.Timer(1.0, lambda: holder.execute("ROLLBACK"))
    releaser.start()
    try:
        response = client.post("/orders", json=order(world, keys), headers=_headers(keys, "race-2"))
    finally:
        releaser.join()
        holder.close()
    assert response.status_code == 201, response.text
