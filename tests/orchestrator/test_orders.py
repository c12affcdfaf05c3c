"""Registering orders: idempotency, validation with field paths, the created event."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from orchestrator.errors import Conflict, InvalidInput
from orchestrator.intake.orders import get_order, order_public, register_order
from orchestrator.models import Order, OrderEventKind, OrderStatus
from orchestrator.store.events import order_events
from tests.orchestrator.conftest import World, order_data


def _count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Order)).one()


def test_same_key_twice_gives_one_order(session: Session, world: World) -> None:
    first = register_order(session, order_data(world), "key-1")
    again = register_order(session, order_data(world), "key-1")
    assert again.id == first.id
    assert _count(session) == 1
    assert [e.kind for e in order_events(session, first.id or 0)] == [OrderEventKind.CREATED]


def test_same_instant_in_another_offset_is_the_same_content(session: Session, world: World) -> None:
    helsinki = {"window_start": "2025-03-03T17:00:00+02:00",
                "window_end": "2025-03-03T19:00:00+02:00"}  # fmt: skip
    utc = {"window_start": "2025-03-03T15:00:00Z", "window_end": "2025-03-03T17:00:00Z"}
    first = register_order(session, order_data(world, **helsinki), "key-1")
    assert register_order(session, order_data(world, **utc), "key-1").id == first.id
    stored = get_order(session, first.id or 0)
    assert stored is not None
    assert stored.window_start == datetime(2025, 3, 3, 15, 0, tzinfo=UTC)


def test_same_key_with_other_content_is_a_conflict(session: Session, world: World) -> None:
    register_order(session, order_data(world), "key-1")
    with pytest.raises(Conflict, match="key-1"):
        register_order(session, order_data(world, value_cents=1), "key-1")
    assert _count(session) == 1


def test_new_order_is_open_with_its_lines(session: Session, world: World) -> None:
    order = register_order(session, order_data(world), "key-1")
    assert order.status is OrderStatus.OPEN
    shown = order_public(session, order)
    assert [i.weight_g for i in shown.items] == [1_200]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        # a negative quantity
        ({"items": [{"weight_g": -5, "volume_ml": 1}]}, ("items", 0, "weight_g")),
        # no lines at all
        ({"items": []}, ("items",)),
        # a window that ends before it starts
        (
            {"window_start": "2025-03-03T12:00:00Z", "window_end": "2025-03-03T10:00:00Z"},
            (),
        ),
        # an unknown depot
        ({"depot_id": 999}, ("depot_id",)),
        # an unknown customer
        ({"customer_id": 999}, ("customer_id",)),
        # a place that is not the customer's
        ({"place_id": 999}, ("place_id",)),
    ],
)
def test_bad_input_names_the_field(
    session: Session, world: World, changes: dict[str, object], field: tuple[object, ...]
) -> None:
    with pytest.raises(InvalidInput) as caught:
        register_order(session, order_data(world, **changes), "key-1")
    if field:
        assert caught.value.field == field
    assert _count(session) == 0


def test_empty_key_is_refused(session: Session, world: World) -> None:
    with pytest.raises(InvalidInput) as caught:
        register_order(session, order_data(world), "  ")
    assert caught.value.field == ("idempotency_key",)


def test_customer_sees_only_their_orders(session: Session, world: World) -> None:
    order = register_order(session, order_data(world), "key-1")
    assert get_order(session, order.id or 0, customer_id=world.customer.id) is not None
    assert get_order(session, order.id or 0, customer_id=(world.customer.id or 0) + 1) is None


def test_events_are_append_only(session: Session, world: World) -> None:
    order = register_order(session, order_data(world), "key-1")
    event = order_events(session, order.id or 0)[0]
    event.detail = "rewritten"
    session.add(event)
    with pytest.raises(ValueError, match="append-only"):
        session.commit()


def test_key_registered_concurrently_returns_the_winner(
    session: Session, world: World, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another request stores the same key between this one's look-up and its insert.
    from orchestrator.intake import orders

    real = orders._by_key

    def late_look_up(s: Session, customer_id: int, key: str) -> Order | None:
        monkeypatch.setattr(orders, "_by_key", real)
        with Session(engine) as other:
            register_order(other, order_data(world), key)
        return None

    monkeypatch.setattr(orders, "_by_key", late_look_up)
    order = register_order(session, order_data(world), "key-1")
    assert _count(session) == 1 and order.idempotency_key == "key-1"
