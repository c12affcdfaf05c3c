"""``lastmile keys create`` (works on an empty store, prints the key as the last line),
``lastmile keys list`` (never the key), ``lastmile keys revoke`` and ``lastmile plan``."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.app import create_app
from api.cli import main
from orchestrator.access.keys import authenticate
from orchestrator.intake.catalog import create_customer
from orchestrator.intake.orders import register_order
from orchestrator.intake.retailers import create_retailer
from orchestrator.models import Role
from orchestrator.settings import Settings
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
    assert code == 0, err
    assert "error" not in err  # stderr: the day's work and the solve's progress
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


# --- lastmile keys list / revoke -------------------------------------------------------------


def _created(role: str, *more: str) -> str:
    """A key made with ``lastmile keys create``."""
    code, out, err = run(["keys", "create", "--role", role, *more])
    assert (code, err) == (0, "")
    return out.strip().splitlines()[-1]


def test_list_shows_every_key_but_never_the_key(url: str) -> None:
    engine = create_engine(url)
    ensure_schema(engine)
    with Session(engine) as session:
        customer = create_customer(session, {"name": "Aino"})
    planner = _created("planner")
    mine = _created("customer", "--customer", str(customer.id))
    rider = _created("courier", "--courier-name", "Ville")
    code, out, err = run(["keys", "list"])
    assert (code, err) == (0, "")
    lines = out.strip().splitlines()
    assert lines[0].split() == [
        "ID", "PREFIX", "ROLE", "CUSTOMER", "COURIER", "RETAILER", "CREATED", "REVOKED"
    ]  # fmt: skip
    rows = [line.split() for line in lines[1:]]
    assert (
        [r[:6] for r in rows]
        == [
            ["1", planner[:12], "planner", "-", "-", "-"],  # the carrier's
            ["2", mine[:12], "customer", str(customer.id), "-", "1"],  # its customer's retailer's
            ["3", rider[:12], "courier", "-", "1", "-"],  # the courier's own
        ]
    )
    assert all(r[6].endswith("Z") and r[7] == "-" for r in rows)
    assert planner not in out and mine not in out and rider not in out
    assert planner[12:20] not in out  # nothing of the key beyond its prefix
    engine.dispose()


def test_list_of_an_empty_store_says_how_to_make_a_key(url: str) -> None:
    code, out, _ = run(["keys", "list"])
    assert code == 0
    assert "no API keys" in out and "lastmile keys create" in out


@pytest.mark.parametrize("by", ["prefix", "id"])
def test_revoke_by_prefix_or_id_stops_the_key(url: str, by: str) -> None:
    key = _created("admin")
    other = _created("analyst")
    code, out, err = run(["keys", "revoke", key[:12] if by == "prefix" else "1"])
    assert (code, err) == (0, "")
    assert "revoked admin key 1" in out and key[:12] in out
    engine = create_engine(url)
    with Session(engine) as session:
        assert authenticate(session, key) is None
        assert authenticate(session, other) is not None  # only the one named
    engine.dispose()
    listed = run(["keys", "list"])[1].splitlines()
    assert listed[1].split()[7].endswith("Z") and listed[2].split()[7] == "-"
    again = run(["keys", "revoke", "1"])
    assert again[0] == 0 and "already revoked" in again[1]


def test_revoke_over_http_answers_401_at_once(url: str) -> None:
    """Revoked from the command line while a server runs: its next request is refused."""
    key = _created("planner")
    with TestClient(create_app(Settings(database_url=url))) as client:
        assert client.get("/orders", headers={"Authorization": f"Bearer {key}"}).status_code == 200
        assert run(["keys", "revoke", key[:12]])[0] == 0
        assert client.get("/orders", headers={"Authorization": f"Bearer {key}"}).status_code == 401


@pytest.mark.parametrize(
    ("argv", "mentions"),
    [
        (["keys", "revoke"], "PREFIX_OR_ID"),  # which key?
        (["keys", "revoke", "7"], "PREFIX_OR_ID"),  # no such id
        (["keys", "revoke", "lmk_nothere"], "PREFIX_OR_ID"),  # no such prefix
        (["keys", "revoke", "planner"], "PREFIX_OR_ID"),  # neither an id nor a prefix
        (["keys", "list", "--all"], "--all"),  # no such option
    ],
)
def test_revoke_and_list_bad_arguments_exit_2(url: str, argv: list[str], mentions: str) -> None:
    _created("planner")
    code, out, err = run(argv)
    assert code == 2
    assert out == ""
    assert mentions in err and "\n" not in err.strip()


def test_a_retailers_key_is_made_with_retailer_and_checked(url: str) -> None:
    engine = create_engine(url)
    ensure_schema(engine)
    with Session(engine) as session:
        kauppa = create_retailer(session, {"name": "Kauppa Oy"}).id
        theirs = create_customer(session, {"name": "Bertil"}, retailer_id=kauppa).id
    key = _created("planner", "--retailer", str(kauppa))
    with Session(engine) as session:
        found = authenticate(session, key)
        assert found is not None and found.retailer_id == kauppa
    code, out, _ = run(["keys", "list"])
    assert code == 0 and out.strip().splitlines()[1].split()[5] == str(kauppa)
    # An unknown retailer, an admin of a retailer, a customer of another retailer: named.
    for args, words in (
        (["--role", "planner", "--retailer", "99"], "no retailer 99"),
        (["--role", "admin", "--retailer", str(kauppa)], "admin keys are the carrier's"),
        (["--role", "customer", "--customer", str(theirs), "--retailer", "1"], "not retailer 1"),
    ):
        code, _, err = run(["keys", "create", *args])
        assert code == 2 and "'--retailer'" in err and words in err, err
    engine.dispose()
