"""``lastmile keys create``: works on an empty store and prints the key as the last line."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
from sqlmodel import Session

from api.cli import main
from orchestrator.catalog import create_customer
from orchestrator.keys import authenticate
from orchestrator.models import Role
from orchestrator.store import create_engine, ensure_schema


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
