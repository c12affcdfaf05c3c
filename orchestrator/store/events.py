"""The append-only log of what happened to each order.

Rows are only ever added (:func:`record`); the ORM refuses to update or delete one (see
:mod:`orchestrator.models`). The log is written in the same transaction as the change it
records, so it never claims something that was rolled back.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from orchestrator.models import OrderEvent, OrderEventKind

__all__ = ["order_events", "record"]


def record(
    session: Session,
    order_id: int,
    kind: OrderEventKind,
    *,
    plan_id: int | None = None,
    detail: str = "",
) -> OrderEvent:
    """Add an event to the session (not committed: it belongs to the caller's transaction)."""
    event = OrderEvent(order_id=order_id, kind=kind, plan_id=plan_id, detail=detail[:1_000])
    session.add(event)
    return event


def order_events(session: Session, order_id: int) -> Sequence[OrderEvent]:
    """The order's events, oldest first."""
    return session.exec(
        select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(col(OrderEvent.id))
    ).all()
