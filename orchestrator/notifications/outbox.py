"""The outbox: one row per event and subscription, written in the caller's transaction.

:func:`enqueue` is called by :func:`orchestrator.store.events.record` for every order event,
so a webhook's row is committed with the change it tells about — a rolled-back change leaves
none, and a committed one never lacks it; a delivery worker
(:mod:`orchestrator.notifications.delivery`) posts the rows afterwards. An event nobody
subscribed to costs one query per transaction (the subscriptions are read once per
transaction), events that become no webhook cost none.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from orchestrator.models import (
    DeliveryStatus,
    Depot,
    ItemReturn,
    Order,
    Place,
    PlaceKind,
    Route,
    RouteStop,
    Webhook,
    WebhookDelivery,
    WebhookDeliveryPublic,
    WebhookEvent,
)
from orchestrator.notifications.payloads import (
    EventFacts,
    OrderFacts,
    event_body,
    moved_minutes,
    webhook_event,
)

__all__ = ["delivery_public", "enqueue", "new_event_id", "recent_deliveries"]

_CACHE_KEY = "lastmile.webhook_subscriptions"


@dataclass(frozen=True, slots=True)
class _Subscriber:
    id: int
    events: frozenset[str]
    eta_moved_min: int


def new_event_id() -> str:
    """A fresh event id (``evt_`` and 32 hex digits): the body's ``id`` and the
    ``Webhook-Id`` header, the same on every attempt and for every subscription."""
    return "evt_" + uuid.uuid4().hex


def enqueue(session: Session, facts: EventFacts) -> list[WebhookDelivery]:
    """Add the outbox rows of an order event to the session (not committed: they belong to
    the caller's transaction); the rows added, none when nobody subscribed.

    ``order.eta_moved`` goes only to subscriptions whose ``eta_moved_min`` the move exceeds
    (strictly); an event of a kind that becomes no webhook reads nothing."""
    event_type = webhook_event(facts.kind)
    if event_type is None:
        return []
    moved = moved_minutes(facts.eta, facts.previous_eta)
    if event_type is WebhookEvent.ORDER_ETA_MOVED and moved is None:
        return []
    subscribers = [s for s in _subscribers(session) if event_type.value in s.events]
    if event_type is WebhookEvent.ORDER_ETA_MOVED:
        assert facts.eta is not None and facts.previous_eta is not None
        exact_min = abs((facts.eta - facts.previous_eta).total_seconds()) / 60
        subscribers = [s for s in subscribers if exact_min > s.eta_moved_min]
    if not subscribers:
        return []
    order = _order_facts(session, facts)
    if order is None:
        return []
    if event_type is WebhookEvent.ORDER_OUT_FOR_DELIVERY and facts.eta is None:
        facts = EventFacts(
            order_id=facts.order_id,
            kind=facts.kind,
            at=facts.at,
            plan_id=facts.plan_id,
            detail=facts.detail,
            eta=_planned_arrival(session, facts),
            return_id=facts.return_id,
        )
    event_id = new_event_id()
    body = event_body(event_id, event_type, facts, order)
    rows = [
        WebhookDelivery(
            subscription_id=s.id,
            event_id=event_id,
            event_type=event_type,
            order_id=facts.order_id,
            return_id=facts.return_id,
            body=body,
            next_attempt_at=facts.at,
        )
        for s in subscribers
    ]
    session.add_all(rows)
    return rows


def recent_deliveries(
    session: Session,
    subscription_id: int,
    *,
    limit: int = 50,
    status: DeliveryStatus | None = None,
) -> Sequence[WebhookDelivery]:
    """The subscription's most recent outbox rows (newest first), of one ``status`` if given."""
    query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    return session.exec(query.order_by(col(WebhookDelivery.id).desc()).limit(limit)).all()


def delivery_public(row: WebhookDelivery) -> WebhookDeliveryPublic:
    """An outbox row as shown (``next_attempt_at`` only while it is pending)."""
    public = WebhookDeliveryPublic.model_validate(row)
    if row.status is DeliveryStatus.PENDING:
        return public
    return public.model_copy(update={"next_attempt_at": None})


def _subscribers(session: Session) -> list[_Subscriber]:
    """The subscriptions, read once per transaction of ``session`` (a plan records an event
    per stop; one query serves them all)."""
    transaction = session.get_transaction()
    cached = session.info.get(_CACHE_KEY)
    if cached is not None and transaction is not None and cached[0] is transaction:
        subscribers: list[_Subscriber] = cached[1]
        return subscribers
    rows = session.exec(
        select(Webhook.id, Webhook.events, Webhook.eta_moved_min).order_by(col(Webhook.id))
    ).all()
    subscribers = [
        _Subscriber(id=i, events=frozenset(events), eta_moved_min=m)
        for i, events, m in rows
        if i is not None
    ]
    session.info[_CACHE_KEY] = (session.get_transaction(), subscribers)
    return subscribers


def _order_facts(session: Session, facts: EventFacts) -> OrderFacts | None:
    order = session.get(Order, facts.order_id)
    if order is None:
        return None
    depot = session.get(Depot, order.depot_id)
    if depot is None:
        return None
    window = None
    if order.window_start is not None and order.window_end is not None:
        window = (order.window_start, order.window_end)
    return_status = None
    if facts.return_id is not None:
        item_return = session.get(ItemReturn, facts.return_id)
        return_status = None if item_return is None else item_return.status.value
    return OrderFacts(
        reference=order.reference,
        status=order.status.value,
        service_day=order.service_day,
        timezone=depot.timezone,
        window=window,
        return_status=return_status,
        locker_place_id=_locker(session, order) if facts.kind == "promise_at_risk" else None,
    )


def _locker(session: Session, order: Order) -> int | None:
    """The customer's first locker that is not the order's place (a choice left to them)."""
    return session.exec(
        select(Place.id)
        .where(Place.customer_id == order.customer_id, Place.kind == PlaceKind.LOCKER)
        .where(Place.id != (order.place_id or 0))
        .order_by(col(Place.id))
    ).first()


def _planned_arrival(session: Session, facts: EventFacts) -> datetime | None:
    """The order's planned arrival in the event's plan, if it has a stop there."""
    if facts.plan_id is None:
        return None
    return session.exec(
        select(RouteStop.arrival_at)
        .join(Route, col(Route.id) == RouteStop.route_id)
        .where(Route.plan_id == facts.plan_id, RouteStop.order_id == facts.order_id)
    ).first()
