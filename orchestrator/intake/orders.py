"""Registering orders, idempotently.

A client (a shop's checkout, an import job) sends each order with its own idempotency key.
Sending the same order again with the same key — after a timeout, say — returns the order
already stored instead of creating a second one; the same key with *different* content is a
:class:`~orchestrator.errors.Conflict` (the client reused a key by mistake).

Keys are scoped to the order's customer: the same key sent for two customers makes two
orders, so that no customer can learn from a refusal which keys another has used (the store
holds ``(customer_id, idempotency_key)`` unique). A customer's key registers only that
customer's orders, so its keys are its own; staff keys share each customer's.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from orchestrator._validation import validated
from orchestrator.errors import Conflict, InvalidInput
from orchestrator.models import (
    Customer,
    Depot,
    Order,
    OrderCreate,
    OrderEventKind,
    OrderItem,
    OrderItemPublic,
    OrderPublic,
    Place,
    window_off_day,
)
from orchestrator.store import events

__all__ = ["MAX_KEY_LENGTH", "get_order", "order_items", "order_public", "register_order"]

MAX_KEY_LENGTH = 200
"""Longest idempotency key accepted, in characters."""


def _content_hash(order: OrderCreate) -> str:
    canonical = json.dumps(order.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _by_key(session: Session, customer_id: int, key: str) -> Order | None:
    return session.exec(
        select(Order).where(Order.customer_id == customer_id, Order.idempotency_key == key)
    ).first()


def _same_or_conflict(existing: Order, content_hash: str, key: str) -> Order:
    if existing.content_hash != content_hash:
        raise Conflict(
            f"idempotency key {key!r} was already used for order {existing.id} with different "
            "content — use a new key for a new order, or resend exactly the same order"
        )
    return existing


def register_order(
    session: Session,
    data: OrderCreate | Mapping[str, Any],
    idempotency_key: str,
    *,
    retailer_id: int | None = None,
) -> Order:
    """Store an order once per idempotency key.

    Parameters
    ----------
    session
        The store.
    data
        The order and its lines (:class:`~orchestrator.models.OrderCreate` or a mapping of
        its fields).
    idempotency_key
        Client-chosen key, 1 to :data:`MAX_KEY_LENGTH` characters, unique per order of the
        customer (another customer's order may use the same key).
    retailer_id
        The caller's retailer, for a retailer's key: the customer must be that retailer's
        (another retailer's customer is answered as one that does not exist). ``None``: any
        customer (the carrier's keys, the command line). The order always belongs to its
        customer's retailer.

    Returns
    -------
    Order
        The new order (status ``open``, with a ``created`` event), or the order already
        registered under the key for the same customer when the content is the same.

    Raises
    ------
    InvalidInput
        Bad fields, an unknown customer or depot, or a place of another customer.
    Conflict
        The key was used before, for the same customer, with different content.
    """
    key = idempotency_key.strip() if isinstance(idempotency_key, str) else ""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(
            "idempotency_key",
            f"give a key of 1 to {MAX_KEY_LENGTH} characters, unique per order (a UUID will do)",
        )
    order_in = validated(OrderCreate, data)
    content_hash = _content_hash(order_in)
    customer = session.get(Customer, order_in.customer_id)
    if customer is None or (retailer_id is not None and customer.retailer_id != retailer_id):
        # Before the key is looked up: another retailer's orders are not even found by key.
        raise InvalidInput("customer_id", f"no customer {order_in.customer_id} — create it first")
    existing = _by_key(session, order_in.customer_id, key)
    if existing is not None:
        return _same_or_conflict(existing, content_hash, key)

    depot = session.get(Depot, order_in.depot_id)
    if depot is None:
        raise InvalidInput("depot_id", f"no depot {order_in.depot_id} — check the depot id")
    if order_in.window_start is not None and order_in.window_end is not None:
        zone = ZoneInfo(depot.timezone)
        off_day = window_off_day(
            order_in.window_start, order_in.window_end, order_in.service_day, zone
        )
        if off_day is not None:
            raise InvalidInput("window_start", off_day)
    if order_in.place_id is not None:
        place = session.get(Place, order_in.place_id)
        if place is None or place.customer_id != order_in.customer_id:
            raise InvalidInput(
                "place_id",
                f"customer {order_in.customer_id} has no place {order_in.place_id} — "
                "add the place to the customer first",
            )

    order = Order.model_validate(
        order_in.model_dump(exclude={"items"}),
        update={
            "idempotency_key": key,
            "content_hash": content_hash,
            "retailer_id": customer.retailer_id,  # an order is its customer's retailer's
        },
    )
    try:
        session.add(order)
        session.flush()
        assert order.id is not None
        for item in order_in.items:
            session.add(OrderItem.model_validate(item, update={"order_id": order.id}))
        events.record(session, order.id, OrderEventKind.CREATED)
        session.commit()
    except sa.exc.IntegrityError:
        # Another request registered the same key between our look-up and our insert.
        session.rollback()
        existing = _by_key(session, order_in.customer_id, key)
        if existing is None:
            raise
        return _same_or_conflict(existing, content_hash, key)
    session.refresh(order)
    return order


def get_order(session: Session, order_id: int, *, customer_id: int | None = None) -> Order | None:
    """The order, or ``None`` when it does not exist or — given ``customer_id`` — is not theirs."""
    order = session.get(Order, order_id)
    if order is None or (customer_id is not None and order.customer_id != customer_id):
        return None
    return order


def order_items(session: Session, order_id: int) -> Sequence[OrderItem]:
    """The order's lines, in the order they were given."""
    return session.exec(
        select(OrderItem).where(OrderItem.order_id == order_id).order_by(col(OrderItem.id))
    ).all()


def order_public(session: Session, order: Order) -> OrderPublic:
    """The order as shown, with its lines."""
    assert order.id is not None
    items = [OrderItemPublic.model_validate(i) for i in order_items(session, order.id)]
    return OrderPublic.model_validate(order, update={"items": items})
