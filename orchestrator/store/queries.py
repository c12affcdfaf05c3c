"""Read-only queries: lists, pages and joined look-ups the API and the CLI show.

Like the other persistence helpers of :mod:`orchestrator`, they return rows (or ``None``),
never raise for a missing row and never write. Pages are in id order; ``offset`` and
``limit`` count rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from orchestrator.models import (
    Customer,
    Depot,
    Order,
    OrderStatus,
    Place,
    RouteStop,
    UnservedOrder,
    VehicleType,
)
from orchestrator.models.retailers import owned_by

__all__ = [
    "customer_place",
    "list_customers",
    "list_depots",
    "list_orders",
    "list_vehicle_types",
    "stops_with_places",
    "unserved_with_places",
]


def _page(session: Session, model: Any, offset: int, limit: int) -> Sequence[Any]:
    return session.exec(select(model).order_by(model.id).offset(offset).limit(limit)).all()


def list_depots(session: Session, *, offset: int = 0, limit: int = 100) -> Sequence[Depot]:
    """Depots in id order."""
    return _page(session, Depot, offset, limit)


def list_vehicle_types(
    session: Session, *, offset: int = 0, limit: int = 100
) -> Sequence[VehicleType]:
    """Vehicle types in id order."""
    return _page(session, VehicleType, offset, limit)


def list_customers(
    session: Session, *, retailer_id: int | None = None, offset: int = 0, limit: int = 100
) -> Sequence[Customer]:
    """Customers in id order; given ``retailer_id``, only that retailer's."""
    query = owned_by(select(Customer), Customer, retailer_id)
    return session.exec(query.order_by(col(Customer.id)).offset(offset).limit(limit)).all()


def customer_place(session: Session, customer_id: int, place_id: int) -> Place | None:
    """The customer's place, or ``None`` when it does not exist or is another customer's."""
    place = session.get(Place, place_id)
    return place if place is not None and place.customer_id == customer_id else None


def list_orders(
    session: Session,
    *,
    customer_id: int | None = None,
    retailer_id: int | None = None,
    depot_id: int | None = None,
    service_day: date | None = None,
    status: OrderStatus | None = None,
    offset: int = 0,
    limit: int = 100,
) -> Sequence[Order]:
    """Orders in id order, filtered by whatever is given (``retailer_id``: that retailer's)."""
    query = owned_by(select(Order), Order, retailer_id)
    if customer_id is not None:
        query = query.where(Order.customer_id == customer_id)
    if depot_id is not None:
        query = query.where(Order.depot_id == depot_id)
    if service_day is not None:
        query = query.where(Order.service_day == service_day)
    if status is not None:
        query = query.where(Order.status == status)
    return session.exec(query.order_by(col(Order.id)).offset(offset).limit(limit)).all()


def stops_with_places(session: Session, route_id: int) -> list[tuple[RouteStop, Place | None]]:
    """The route's stops in visiting order, each with its order's delivery place."""
    rows = session.exec(
        select(RouteStop, Place)
        .join(Order, col(Order.id) == RouteStop.order_id)
        .join(Place, col(Place.id) == Order.place_id, isouter=True)
        .where(RouteStop.route_id == route_id)
        .order_by(col(RouteStop.sequence))
    ).all()
    return [(stop, place) for stop, place in rows]


def unserved_with_places(
    session: Session, plan_id: int
) -> list[tuple[UnservedOrder, Place | None]]:
    """The plan's unserved orders, each with its delivery place when one was chosen."""
    rows = session.exec(
        select(UnservedOrder, Place)
        .join(Order, col(Order.id) == UnservedOrder.order_id)
        .join(Place, col(Place.id) == Order.place_id, isouter=True)
        .where(UnservedOrder.plan_id == plan_id)
        .order_by(col(UnservedOrder.order_id))
    ).all()
    return [(u, place) for u, place in rows]
