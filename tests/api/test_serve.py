"""End to end over real HTTP: ``lastmile keys create`` and ``lastmile serve`` as subprocesses.

The server listens on 127.0.0.1 only, on a port the OS reported free, with an empty SQLite
file as its store; every wait is bounded and the server is stopped at the end, pass or fail.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.routes.vroom import EXAMPLE

STARTUP_S = 60.0  # importing the solvers and migrating the schema takes a few seconds
REQUEST_S = 30.0


def lastmile() -> list[str]:
    """The installed ``lastmile`` script, or the module when the package is not installed."""
    script = shutil.which("lastmile", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "api.cli"]


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def call(url: str, *, key: str | None = None, body: object = None) -> tuple[int, Any]:
    """One HTTP request; returns the status and the decoded JSON body."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if data is None else "POST")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if key is not None:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_S) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of the subprocesses: an empty SQLite store in ``tmp_path``."""
    return {**os.environ, "LASTMILE_DATABASE_URL": f"sqlite:///{tmp_path / 'served.db'}"}


@pytest.fixture
def server(tmp_path: Path, env: dict[str, str]) -> Iterator[str]:
    """``lastmile serve`` on a free loopback port; yields its base URL, stops it afterwards."""
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [*lastmile(), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"lastmile serve exited: {(tmp_path / 'serve.log').read_text()}")
            try:
                if call(f"{base}/health")[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"lastmile serve did not answer within {STARTUP_S:g} s")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        log.close()


def test_serve_and_keys_create_over_real_http(server: str, env: dict[str, str]) -> None:
    created = subprocess.run(
        [*lastmile(), "keys", "create", "--role", "planner"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("lmk_")

    assert call(f"{server}/health") == (200, {"status": "ok", "database": "ok"})
    assert call(f"{server}/solve/vroom", body=EXAMPLE)[0] == 401
    status, output = call(f"{server}/solve/vroom?time_limit=1", key=key, body=EXAMPLE)
    assert status == 200, output
    assert output["code"] == 0
    assert output["summary"]["unassigned"] == 0
