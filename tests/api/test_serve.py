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


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as f:
        return [int(c) for c in f.read().split()]


def _sockets(port: int, state: str) -> set[str]:
    """Inodes of the IPv4 TCP sockets on local ``port`` in ``state`` (0A listen, 01 open)."""
    inodes = set()
    with open("/proc/net/tcp", encoding="ascii") as f:
        next(f)
        for line in f:
            fields = line.split()
            if int(fields[1].split(":")[1], 16) == port and fields[3] == state:
                inodes.add(fields[9])
    return inodes


def _owned(pid: int, inodes: set[str]) -> set[str]:
    owned = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            owned.add(target[8:-1])
    return owned


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc")
def test_two_workers_each_listen_share_the_clients_and_stop_together(
    tmp_path: Path, env: dict[str, str]
) -> None:
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [*lastmile(), "serve", "--port", str(port), "--workers", "2", "--log-level", "warning"],
        env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    connections: list[socket.socket] = []
    try:
        deadline = time.monotonic() + STARTUP_S
        while len(_sockets(port, "0A")) < 2:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "two workers did not listen in time"
            time.sleep(0.2)
        workers = [
            pid for pid in _children(process.pid)
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]  # fmt: skip
        assert len(workers) == 2
        listening = _sockets(port, "0A")
        assert all(len(_owned(pid, listening)) == 1 for pid in workers)
        # Sixteen kept-alive clients land on both workers (all on one: p = 2^-15).
        for _ in range(16):
            conn = socket.create_connection(("127.0.0.1", port), timeout=REQUEST_S)
            conn.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert conn.recv(4096).startswith(b"HTTP/1.1 200")
            connections.append(conn)
        served = _sockets(port, "01")
        assert all(_owned(pid, served) for pid in workers)
    finally:
        for conn in connections:
            conn.close()
        process.terminate()
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        finally:
            log.close()
    assert code == 0
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]


def test_serve_names_a_taken_port_in_one_line(tmp_path: Path, env: dict[str, str]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = subprocess.run(
            [*lastmile(), "serve", "--port", str(port), "--workers", "2"],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr
