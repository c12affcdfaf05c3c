"""``lastmile keys create`` (works on an empty store, prints the key as the last line) and
``lastmile plan``."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
from sqlmodel import Session

from api.cli import main
from orchestrator.access.keys import authenticate
from orchestrator.intake.catalog import create_customer
from orchestrator.intake.orders import register_order
from orchestrator.models import Role
from orchestrator.store.engine import create_engine, ensure_schema
from tests.orchestrator.conftest import DAY, make_world, order_data


def run(argv: list[str]) -> tuple[int, str, str]:
    """``main(argv)`` with stdout and stderr captured."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(argv)
    return code, stdout.getvalue(), stderr.getvalue()


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """``LASTMILE_DATABASE_URL`` pointing at a file that does not exist yet."""
    database = f"sqlite:///{tmp_path / 'nested' / 'keys.db'}"
    monkeypatch.setenv("LASTMILE_DATABASE_URL", database)
    return database


@pytest.mark.parametrize("role", ["planner", "analyst", "admin"])
def test_creates_a_working_key_on_an_empty_store(url: str, role: str) -> None:
    code, out, err = run(["keys", "create", "--role", role])
    assert (code, err) == (0, "")
    key = out.strip().splitlines()[-1]
    engine = create_engine(url)
    with Session(engine) as session:
        found = authenticate(session, key)
        assert found is not None and found.role is Role(role)
    engine.dispose()


def test_customer_key_belongs_to_the_customer(url: str) -> None:
    engine = create_engine(url)
    ensure_schema(engine)
    with Session(engine) as session:
        customer = create_customer(session, {"name": "Aino"})
    code, out, _ = run(["keys", "create", "--role", "customer", "--customer", str(customer.id)])
    assert code == 0
    with Session(engine) as session:
        found = authenticate(session, out.strip().splitlines()[-1])
        assert found is not None and found.customer_id == customer.id
    engine.dispose()


@pytest.mark.parametrize(
    ("argv", "mentions"),
    [
        (["keys", "create", "--role", "customer"], "--customer"),  # whose key?
        (["keys", "create", "--role", "customer", "--customer", "99"], "--customer"),  # unknown
        (["keys", "create", "--role", "planner", "--customer", "1"], "--customer"),  # not theirs
        (["keys", "create", "--role", "boss"], "--role"),  # unknown role
        (["keys", "create"], "--role"),  # role missing
        (["keys"], "ACTION"),  # no action
        (["serve", "--port", "70000"], "--port"),  # not a TCP port
    ],
)
def test_bad_arguments_exit_2_with_one_line(url: str, argv: list[str], mentions: str) -> None:
    code, out, err = run(argv)
    assert code == 2
    assert out == ""
    assert "\n" not in err.strip()
    assert err.startswith("error: lastmile")
    assert mentions in err


def test_plan_plans_a_depots_day_from_the_store(url: str) -> None:
    engine = create_engine(url)
    ensure_schema(engine)
    with Session(engine) as session:
        world = make_world(session)
        register_order(session, order_data(world), "cli-1")
        depot_id = world.depot.id
    engine.dispose()
    argv = ["plan", "--depot", str(depot_id), "--day", DAY.isoformat(), "--time-limit", "1"]
    code, out, err = run(argv)
    assert (code, err) == (0, "")
    assert "1 orders on 1 routes" in out
    assert "0 unserved" in out


@pytest.mark.parametrize(
    ("argv", "mentions"),
    [
        (["plan", "--depot", "1", "--day", "monday"], "--day"),  # not a date
        (["plan", "--day", "2025-03-03"], "--depot"),  # which depot?
        (["plan", "--depot", "42", "--day", "2025-03-03"], "--depot"),  # unknown depot
    ],
)
def test_plan_bad_arguments_exit_2(url: str, argv: list[str], mentions: str) -> None:
    code, out, err = run(argv)
    assert code == 2
    assert out == ""
    assert mentions in err and "\n" not in err.strip()
