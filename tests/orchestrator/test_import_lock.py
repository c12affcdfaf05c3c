"""A long CSV import does not lock other writers out for its whole duration, and stays all or
nothing (issue #13: while ``lastmile import`` wrote, ``POST /orders`` answered 500 "database
is locked" after 10 s). Real SQLite file and real PostgreSQL, a real writer thread."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from orchestrator.intake import importer
from orchestrator.intake.catalog import create_customer
from orchestrator.intake.importer import ImportRejected, import_orders
from orchestrator.models import Customer, Order
from tests.orchestrator.conftest import World
from tests.orchestrator.test_importer import count, row, write

ORDERS = 600
"""Enough orders for an import of a few seconds on a busy two-core machine."""


def _longest_write_while(engine: Engine, importing: threading.Thread) -> tuple[float, int]:
    """Write a customer again and again while ``importing`` runs: the longest a write took,
    seconds, and how many were written."""
    longest, written = 0.0, 0
    while importing.is_alive():
        t0 = time.monotonic()
        with Session(engine) as session:
            create_customer(session, {"name": f"Walk-in {written}"})
        longest = max(longest, time.monotonic() - t0)
        written += 1
        time.sleep(0.05)
    return longest, written


def test_other_writers_get_in_while_a_long_import_runs(
    engine: Engine, session: Session, world: World, tmp_path: Path
) -> None:
    source = write(tmp_path / "big.csv", [row(f"K{k}") for k in range(ORDERS)])
    took: dict[str, float] = {}

    def run() -> None:
        t0 = time.monotonic()
        import_orders(engine, source)
        took["import"] = time.monotonic() - t0

    importing = threading.Thread(target=run)
    importing.start()
    time.sleep(0.3)  # the import has begun writing
    longest, written = _longest_write_while(engine, importing)
    importing.join()
    assert "import" in took, "the import failed"
    assert count(session, Order) == ORDERS
    assert written >= 3, f"only {written} writes during an import of {took['import']:.1f} s"
    # A write waits for one of the import's transactions (0.5 s), not for the import: at most
    # 1.5 s, or a third of the import when a loaded machine stretches it (a write missing the
    # pauses between transactions waits a few). Registering in one transaction, the bug, holds
    # writes for the import's second half, its check on a copy of the store being the first.
    bound = max(1.5, took["import"] / 3)
    assert longest < bound, (
        f"a write waited {longest:.1f} s during an import of {took['import']:.1f} s"
    )


BAD_LAST = 40
"""Good rows before the bad one: each would be a transaction of its own (no hold, below)."""


def test_a_long_import_with_a_bad_last_row_still_writes_nothing(
    engine: Engine, session: Session, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An import committing as it went would have written the rows before the bad one. With no
    # hold each order would be committed on its own, so 40 rows prove what 600 rows in 0.5 s
    # transactions proved, in a tenth of the time.
    monkeypatch.setattr(importer, "PUBLISH_HOLD_S", 0.0)
    monkeypatch.setattr(importer, "PUBLISH_PAUSE_S", 0.0)
    rows = [row(f"K{k}") for k in range(BAD_LAST)]
    rows.append(row("BAD", weight_g="heavy"))
    source = write(tmp_path / "bad.csv", rows)
    customers = count(session, Customer)
    with pytest.raises(ImportRejected) as caught:
        import_orders(engine, source)
    assert [e.field for e in caught.value.errors] == [("row", BAD_LAST + 2, "weight_g")]
    session.expire_all()
    assert count(session, Order) == 0
    assert count(session, Customer) == customers
