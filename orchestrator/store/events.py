"""The append-only log of what happened to each order, and the webhooks it sets off.

Rows are only ever added (:func:`record`); the ORM refuses to update or delete one (see
:mod:`orchestrator.models`). The log is written in the same transaction as the change it
records, so it never claims something that was rolled back. So are the outbox rows of the
webhooks subscribed to the event (:func:`orchestrator.notifications.outbox.enqueue`): a
committed change never lacks its webhook, a rolled-back one sends none.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from orchestrator.models import OrderEvent, OrderEventKind
from orchestrator.notifications.outbox import enqueue
from orchestrator.notifications.payloads import EventFacts

__all__ = ["order_events", "record", "record_once"]


def record(
    session: Session,
    order_id: int,
    kind: OrderEventKind,
    *,
    plan_id: int | None = None,
    detail: str = "",
    eta: datetime | None = None,
    previous_eta: datetime | None = None,
    return_id: int | None = None,
) -> OrderEvent:
    """Add an event, and the outbox rows of the webhooks subscribed to it, to the session (not
    committed: they belong to the caller's transaction).

    Parameters
    ----------
    eta, previous_eta
        The order's planned arrival after and before a re-plan or a redirect (aware): a move
        by more than a subscription's ``eta_moved_min`` is an ``order.eta_moved`` webhook.
        A dispatch's ETA is looked up in ``plan_id`` when not given.
    return_id
        The return an event of a return (``return_collected``) is about.
    """
    event = OrderEvent(order_id=order_id, kind=kind, plan_id=plan_id, detail=detail[:1_000])
    session.add(event)
    enqueue(
        session,
        EventFacts(
            order_id=order_id,
            kind=kind,
            at=event.at,
            plan_id=plan_id,
            detail=event.detail,
            eta=eta,
            previous_eta=previous_eta,
            return_id=return_id,
        ),
    )
    return event


def record_once(
    session: Session, order_id: int, kind: OrderEventKind, *, detail: str = ""
) -> OrderEvent | None:
    """:func:`record` an event of a kind the order has never had (``options_offered``: the
    first offer); ``None``, recording nothing, when it has one."""
    seen = session.exec(
        select(OrderEvent.id)
        .where(OrderEvent.order_id == order_id, OrderEvent.kind == kind)
        .limit(1)
    ).first()
    return None if seen is not None else record(session, order_id, kind, detail=detail)


def order_events(session: Session, order_id: int) -> Sequence[OrderEvent]:
    """The order's events, oldest first."""
    return session.exec(
        select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(col(OrderEvent.id))
    ).all()
