"""Holds cannot oversell: two customers choosing the last free slot at once, on SQLite and
PostgreSQL, in real threads with sessions of their own (issue #13: both got their hold and
both confirmed, 6 of 6 tries on SQLite)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from orchestrator.concierge.offers import (
    choose_option,
    clear_caches,
    confirm_hold,
    options_for_order,
)
from orchestrator.errors import Conflict
from orchestrator.intake.catalog import create_vehicle_type
from orchestrator.intake.orders import register_order
from orchestrator.models import HoldStatus, OptionHold, Order
from orchestrator.planning.travel import StraightLineTravel
from tests.orchestrator.conftest import World, order_data

NOW = datetime(2025, 3, 2, 18, 0, tzinfo=ZoneInfo("Europe/Helsinki"))
TRAVEL = StraightLineTravel(detour_factor=1.3)
TRIES = 4


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    """Ids restart between tests on PostgreSQL: no timeline may survive a test."""
    clear_caches()
    yield
    clear_caches()


def _one_slot_left(session: Session, world: World) -> None:
    """One van that carries one parcel: the day has room for a single order."""
    tiny = create_vehicle_type(
        session,
        {"name": "tiny", "kind": "van", "profile": "car", "capacity_weight_g": 100_000,
         "capacity_volume_ml": 1_000_000, "capacity_parcels": 1, "cost_per_km": 0.3},
    )  # fmt: skip
    world.fleet.vehicle_type_id = tiny.id or 0
    world.fleet.count = 1
    session.add(world.fleet)
    session.commit()


def _race(engine: Engine, calls: list[Any]) -> list[object]:
    """Run each call with a session of its own, all released at the same moment."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(k: int) -> None:
        with Session(engine) as own:
            barrier.wait()
            try:
                results[k] = calls[k](own)
            except Exception as exc:  # the outcome is what the test looks at
                results[k] = exc

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.parametrize("attempt", range(TRIES))  # a race may pass by luck: try it a few times
def test_two_customers_cannot_both_hold_the_last_slot(
    engine: Engine, session: Session, world: World, attempt: int
) -> None:
    _one_slot_left(session, world)
    orders = [
        register_order(session, order_data(world, place_id=None, mode=None), f"o{attempt}-{k}")
        for k in range(2)
    ]
    offered = options_for_order(session, orders[0].id or 0, now=NOW, travel=TRAVEL).options
    assert offered, "the empty day offers the slot"
    first = offered[0]
    picked = {
        "place_id": first.place_id,
        "service_level": first.service_level,
        "window_start": first.window_start,
        "window_end": first.window_end,
    }

    def chooser(order_id: int) -> Any:
        def choose_and_confirm(own: Session) -> object:
            hold = choose_option(own, order_id, picked, now=NOW, travel=TRAVEL)
            return confirm_hold(own, hold.id, now=NOW)

        return choose_and_confirm

    results = _race(engine, [chooser(o.id or 0) for o in orders])
    won = [r for r in results if not isinstance(r, Exception)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(won) == 1, results
    assert len(lost) == 1 and isinstance(lost[0], Conflict), results
    assert "no longer fits" in str(lost[0])
    session.expire_all()
    confirmed = session.exec(
        select(OptionHold).where(OptionHold.status == HoldStatus.CONFIRMED)
    ).all()
    assert len(confirmed) == 1
    placed = session.exec(select(Order).where(Order.window_start.is_not(None))).all()  # type: ignore[union-attr]  # SQLModel types the column as its value
    assert len(placed) == 1
