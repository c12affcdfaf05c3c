"""End to end over real HTTP: ``lastmile keys create`` and ``lastmile serve`` as subprocesses;
the one table of environment variables (``serve --help``, the README's block).

The server listens on 127.0.0.1 only, on a port the OS reported free, with an empty SQLite
file as its store; every wait is bounded and the server is stopped at the end, pass or fail.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
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

from api.cli import main, settings_table
from api.routes.vroom import EXAMPLE
from orchestrator.settings import Settings, setting_name

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


# -- every environment variable in one table (api.cli.settings_table) ---------------------------

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("api", "orchestrator", "routing", "returns", "simulation", "benchmarks", "tests", ".ci")
"""Where the code that may read a ``LASTMILE_*`` variable lives (and the Makefile)."""
NOT_VARIABLES = {
    # benchmarks/product_runs.py: a constant's name (processes the benchmark gives lastmile)
    "LASTMILE_WORKERS",
}
NAME = re.compile(r"LASTMILE_[A-Z0-9_]+")


def names_in_code() -> set[str]:
    """Every ``LASTMILE_*`` name the code spells (``LASTMILE_WEBHOOK_`` as in ``_*`` included)."""
    files = [ROOT / "Makefile"]
    for folder in SCANNED:
        files += [p for p in (ROOT / folder).rglob("*") if p.is_file() and p.suffix != ".pyc"]
    found: set[str] = set()
    for path in files:
        try:
            found |= set(NAME.findall(path.read_text(encoding="utf-8")))
        except (UnicodeDecodeError, OSError):
            continue  # binary files (graphs, images) name no variable
    return found - NOT_VARIABLES


def test_every_variable_the_code_names_is_in_the_table() -> None:
    listed = {v.name for v in settings_table.variables()}
    found = names_in_code()
    assert "LASTMILE_DATABASE_URL" in found and "LASTMILE_TEST_POSTGRES_URL" in found
    missing = {n for n in found if n not in listed and not n.endswith("_")}
    # A prefix (``LASTMILE_AUTH_FAILURE_*``) must name variables of the table.
    missing |= {n for n in found if n.endswith("_") and not any(m.startswith(n) for m in listed)}
    assert not missing, f"add them to Settings (or TEST_VARIABLES): {sorted(missing)}"


def test_the_table_lists_every_setting_with_its_description() -> None:
    rows = {v.name: v for v in settings_table.variables()}
    for field, info in Settings.model_fields.items():
        variable = rows[setting_name(field)]
        assert variable.description == info.description and variable.description.endswith(".")
        assert not variable.tests_only
    assert rows["LASTMILE_MAX_BODY_BYTES"].default == "1,048,576"
    assert rows["LASTMILE_DETOUR_FACTOR"].default == "1.3"
    assert rows["LASTMILE_ROAD_GRAPH"].default == "unset"


def test_shown_defaults_are_the_real_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [v.name for v in settings_table.variables()]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    rows = {v.name: v.default for v in settings_table.variables()}
    assert rows["LASTMILE_DATABASE_URL"] == "sqlite:///./var/lastmile.db"
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / 'var' / 'lastmile.db'}"
    assert Path(rows["LASTMILE_SIMULATIONS_DIR"]).resolve() == settings.simulations_dir


def test_the_readme_holds_the_table_the_generator_makes_now() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert settings_table.readme_block(text) == settings_table.markdown(), (
        "README.md's environment table is out of date — run `python -m api.cli.settings_table`"
    )
    assert settings_table.main(["--check"]) == 0


def test_the_generator_replaces_only_its_block() -> None:
    text = f"# T\n\nbefore\n{settings_table.BEGIN}\n| stale |\n{settings_table.END}\nafter\n"
    new = settings_table.replace_block(text, settings_table.markdown())
    assert new.startswith(f"# T\n\nbefore\n{settings_table.BEGIN}\n| Variable | Default |")
    assert new.endswith(f"|\n{settings_table.END}\nafter\n")
    assert settings_table.replace_block(new, settings_table.markdown()) == new
    with pytest.raises(ValueError, match="env:begin"):
        settings_table.readme_block("no markers\n")


@pytest.mark.parametrize(
    ("text", "marker"),
    [
        ("no markers\n", "env:begin"),
        (
            f"{settings_table.BEGIN}\na\n{settings_table.END}\n{settings_table.BEGIN}\nb\n",
            "env:begin",
        ),
        (f"{settings_table.BEGIN}\na\n{settings_table.END}\nb\n{settings_table.END}\n", "env:end"),
        (f"{settings_table.END}\nreversed\n{settings_table.BEGIN}\n", "env:end"),
    ],
    ids=["missing", "two-begins", "two-ends", "reversed"],
)
def test_the_generator_refuses_a_readme_without_one_pair_of_markers(text: str, marker: str) -> None:
    # A second pair used to be written over silently (the first one found won).
    with pytest.raises(ValueError, match=f"docs/R.md.*<!-- {marker} -->") as caught:
        settings_table.replace_block(text, settings_table.markdown(), source="docs/R.md")
    assert "in that order" in str(caught.value)


def test_serve_help_lists_every_variable_of_the_program() -> None:
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        assert main(["serve", "--help"]) == 0
    text = stdout.getvalue()
    assert "Environment variables" in text
    for variable in settings_table.variables():
        assert (variable.name in text) is not variable.tests_only
    assert "Default: sqlite:///./var/lastmile.db." in " ".join(text.split())
