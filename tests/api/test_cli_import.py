"""``lastmile import ORDERS.CSV [--dry-run]``: the installed script on real files and a real
SQLite store, then ``lastmile plan`` on what it imported."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
from datetime import date
from pathlib import Path

import pytest

from api.cli import main
from orchestrator.models import Customer, Order
from tests.api.conftest import rows_in, world_store
from tests.api.test_serve import lastmile

SOURCE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "orders.csv"
EXAMPLE_DAY = date(2027, 3, 1)
"""The service day of every order of the example."""
TIMEOUT_S = 180  # a subprocess imports the solvers; a plan solves for a second


def run(argv: list[str]) -> tuple[int, str, str]:
    """``main(argv)`` in this process, with stdout and stderr captured."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(argv)
    return code, stdout.getvalue(), stderr.getvalue()


def script(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The installed ``lastmile`` script, run to completion."""
    return subprocess.run(
        [*lastmile(), *argv],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite store with the depot HEL1 (two vans) and one customer; also the env's URL."""
    return world_store(tmp_path / "store.db", monkeypatch)


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """The example file, written for the demo's depot, for the test store's HEL1 instead."""
    text = SOURCE.read_text(encoding="utf-8").replace(",DEMO-SYN-S0-N200,", ",HEL1,")
    assert ",HEL1," in text
    path = tmp_path / "in" / "orders.csv"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    return path


def test_import_twice_then_plan_with_the_installed_script(
    store: str, example: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "LASTMILE_DATABASE_URL": store}
    first = script(["import", str(example)], env, tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stderr.splitlines() == [
        f"checking {example.name}: 0% (0/10 rows)",
        f"checking {example.name}: 100% (10/10 rows)",
    ]
    assert first.stdout.startswith(f"imported {example} into sqlite:///")
    assert "10 rows, 8 orders: 8 created, 0 already present" in first.stdout
    assert "6 customers and 7 places created" in first.stdout

    again = script(["import", str(example)], env, tmp_path)
    assert again.returncode == 0, again.stderr
    assert "8 orders: 0 created, 8 already present" in again.stdout
    assert rows_in(store, Order) == 8

    day = EXAMPLE_DAY.isoformat()
    plan = script(["plan", "--depot", "1", "--day", day, "--time-limit", "1"], env, tmp_path)
    assert plan.returncode == 0, plan.stderr
    assert plan.stderr.splitlines()[0] == f"lastmile plan: depot 1 on {day} (Monday): 8 orders"
    assert "8 orders on" in plan.stdout
    assert "0 unserved" in plan.stdout


def test_a_bad_file_lists_every_error_and_imports_nothing(
    store: str, example: Path, tmp_path: Path
) -> None:
    good = example.read_text(encoding="utf-8").splitlines()
    bad = list(good)
    bad[1] = bad[1].replace(",60.1755,", ",95.0,")  # line 2: latitude beyond the pole
    bad[6] = bad[6].replace(",HEL1,", ",HEL9,")  # line 7: unknown depot
    bad[10] = bad[10].replace(",2100,", ",-2100,")  # line 11: negative weight
    source = tmp_path / "bad.csv"
    source.write_text("\n".join(bad) + "\n", encoding="utf-8")
    env = {**os.environ, "LASTMILE_DATABASE_URL": store}
    result = script(["import", str(source)], env, tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    bar, *lines = result.stderr.splitlines()[1:]  # after the bar's first line
    assert bar == "checking bad.csv: 100% (10/10 rows) — 3 errors"
    assert lines[0] == (
        f"error: lastmile import: {source}: 3 errors, so nothing was imported — fix them and "
        "import the file again"
    )
    assert [line.split(": ", 1)[0] for line in lines[1:]] == [
        f"{source}:2:lat",
        f"{source}:7:depot",
        f"{source}:11:weight_g",
    ]
    assert rows_in(store, Order) == 0


def test_a_dry_run_writes_nothing(store: str, example: Path) -> None:
    code, out, err = run(["import", str(example), "--dry-run"])
    assert code == 0
    assert err.splitlines()[-1] == f"checking {example.name}: 100% (10/10 rows)"
    assert out.startswith(f"dry run of {example} against sqlite:///")
    assert "8 would be created" in out and out.strip().endswith("nothing was written")
    assert rows_in(store, Order) == 0
    assert rows_in(store, Customer) == 1


def test_progress_of_checking_then_registering_goes_to_stderr(
    store: str, example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every 4 rows: the file is checked on a copy of the SQLite store, then registered.
    monkeypatch.setattr("orchestrator.intake.importer.PROGRESS_EVERY", 4)
    code, out, err = run(["import", str(example)])
    assert code == 0
    # Plain lines (not a terminal) at most every 5 s, and each bar's first and last.
    assert err.splitlines() == [
        "checking orders.csv: 0% (0/10 rows)",
        "checking orders.csv: 100% (10/10 rows)",
        "registering orders.csv: 40% (4/10 rows)",
        "registering orders.csv: 100% (10/10 rows)",
    ]
    assert "8 created" in out


@pytest.mark.parametrize(
    ("argv", "mentions"),
    [
        (["import"], "ORDERS.CSV"),  # which file?
        (["import", "no-such-file.csv"], "no-such-file.csv"),  # not there
        (["import", ".", "--dry-run"], "directory"),  # a folder
        (["import", "orders.csv", "--dry"], "--dry"),  # misspelt option
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str], mentions: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "orders.csv").write_text("order_key\n", encoding="utf-8")
    code, out, err = run(argv)
    assert code == 2
    assert out == ""
    assert "\n" not in err.strip()
    assert err.startswith("error: lastmile import:")
    assert mentions in err
    assert rows_in(store, Order) == 0
