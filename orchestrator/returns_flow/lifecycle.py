"""A return's life: started by the customer, seen, and advanced until its store receives it.

* :func:`start_return` — the customer's own delivered order and line only (anything else is
  :class:`~orchestrator.errors.NotFound`, so ids cannot be probed); the destination is decided
  (:mod:`~orchestrator.returns_flow.decision`) and stored with its explanation;
* :func:`advance_return` — picked up, in transit, received."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, overload

import sqlalchemy as sa
from sqlmodel import Session, col, select

from orchestrator._validation import validated
from orchestrator.errors import Conflict, InvalidInput, NotFound
from orchestrator.intake.orders import get_order
from orchestrator.models import (
    Depot,
    ItemReturn,
    OrderEventKind,
    OrderItem,
    OrderStatus,
    Place,
    ReturnCreate,
    ReturnCustomerPublic,
    ReturnPublic,
    ReturnStatus,
    ReturnStop,
    ReturnStopKind,
    Route,
    UnservedReturn,
)
from orchestrator.models.columns import utcnow
from orchestrator.models.retailers import owned_by
from orchestrator.planning.plans import current_plan
from orchestrator.returns_flow.decision import (
    customer_explanation,
    decide_destination,
    decision_fields,
    local_today,
    product_of,
)
from orchestrator.returns_flow.policy import ReturnsPolicy
from orchestrator.store import events
from returns import (
    Point,
)

__all__ = [
    "advance_return",
    "check_changeable",
    "get_return",
    "list_returns",
    "return_public",
    "start_return",
    "visible_return",
]

_CHANGEABLE = (ReturnStatus.REQUESTED, ReturnStatus.SCHEDULED)


_ORDER = list(ReturnStatus)


def get_return(
    session: Session, return_id: int, *, customer_id: int | None = None
) -> ItemReturn | None:
    """The return, or ``None`` when it does not exist or — given ``customer_id`` — is not theirs."""
    ret = session.get(ItemReturn, return_id)
    if ret is None or (customer_id is not None and ret.customer_id != customer_id):
        return None
    return ret


def list_returns(
    session: Session,
    *,
    customer_id: int | None = None,
    retailer_id: int | None = None,
    depot_id: int | None = None,
    status: ReturnStatus | None = None,
    offset: int = 0,
    limit: int = 100,
) -> Sequence[ItemReturn]:
    """Returns in id order, filtered by whatever is given (``retailer_id``: that retailer's)."""
    query = owned_by(select(ItemReturn), ItemReturn, retailer_id)
    if customer_id is not None:
        query = query.where(ItemReturn.customer_id == customer_id)
    if depot_id is not None:
        query = query.where(ItemReturn.depot_id == depot_id)
    if status is not None:
        query = query.where(ItemReturn.status == status)
    return session.exec(query.order_by(col(ItemReturn.id)).offset(offset).limit(limit)).all()


@overload
def return_public(
    session: Session, ret: ItemReturn, *, for_customer: Literal[False] = ...
) -> ReturnPublic: ...
@overload
def return_public(
    session: Session, ret: ItemReturn, *, for_customer: Literal[True]
) -> ReturnCustomerPublic: ...
@overload
def return_public(
    session: Session, ret: ItemReturn, *, for_customer: bool
) -> ReturnPublic | ReturnCustomerPublic: ...
def return_public(
    session: Session, ret: ItemReturn, *, for_customer: bool = False
) -> ReturnPublic | ReturnCustomerPublic:
    """The return as shown: with its pickup's ETA and vehicle in the day's current plan, or
    the reason that plan leaves the pickup out.

    ``for_customer``: as its customer sees it (:class:`ReturnCustomerPublic`) — status,
    destination, pickup and a plain explanation, without the retailer's figures (stores'
    sales and stock, expected recovery, the options weighed), which staff see."""
    extra: dict[str, Any] = {}
    if ret.pickup_day is not None:
        plan = current_plan(session, ret.depot_id, ret.pickup_day)
        if plan is not None:
            planned = session.exec(
                select(ReturnStop, Route)
                .join(Route, col(Route.id) == ReturnStop.route_id)
                .where(
                    Route.plan_id == plan.id,
                    ReturnStop.return_id == ret.id,
                    ReturnStop.kind == ReturnStopKind.PICKUP,
                )
            ).first()
            if planned is not None:
                extra["pickup_eta"] = planned[0].service_start_at
                extra["pickup_vehicle"] = planned[1].vehicle_id
            unserved = session.exec(
                select(UnservedReturn).where(
                    UnservedReturn.plan_id == plan.id, UnservedReturn.return_id == ret.id
                )
            ).first()
            if unserved is not None:
                extra["unserved_reason"] = unserved.reason
                extra["unserved_detail"] = unserved.detail
    if for_customer:
        shown = {name: getattr(ret, name, None) for name in ReturnCustomerPublic.model_fields}
        shown.update(
            extra, explanation=customer_explanation(ret.destination_kind, ret.destination_name)
        )
        return ReturnCustomerPublic.model_validate(shown)
    return ReturnPublic.model_validate(ret, update=extra)


def start_return(
    session: Session,
    data: ReturnCreate | Mapping[str, Any],
    *,
    customer_id: int | None = None,
    now: datetime | None = None,
    policy: ReturnsPolicy | None = None,
) -> ItemReturn:
    """Start the return of one unit of a delivered order line and decide where it goes.

    Parameters
    ----------
    session
        The store.
    data
        Order, order line, condition grade (A, B or C) and reason.
    customer_id
        The caller's customer (a customer's key); ``None`` for staff, who may start a return
        for any customer.
    now
        The moment of asking (aware; default now): the sales history ends the day before.
    policy
        Settings (default :class:`ReturnsPolicy`).

    Returns
    -------
    ItemReturn
        The return, ``requested``, with its destination, expected recovery and explanation.

    Raises
    ------
    NotFound
        No such order or line — or not the caller's.
    Conflict
        The order is not delivered yet, or every unit of the line is already being returned.
    InvalidInput
        A bad field (``condition``, ``reason``); a line without a SKU or with a SKU not in
        the catalogue (``order_item_id``); no sales history at all to judge the stores on
        (``sales_history``).
    """
    policy = policy or ReturnsPolicy()
    payload = validated(ReturnCreate, data)
    order = get_order(session, payload.order_id, customer_id=customer_id)
    if order is None:
        raise NotFound("order", payload.order_id)
    item = session.get(OrderItem, payload.order_item_id)
    if item is None or item.order_id != order.id:
        raise NotFound("order item", payload.order_item_id)
    if order.status is not OrderStatus.DELIVERED:
        raise Conflict(
            f"order {order.id} is {order.status.value}, not delivered — a return can start "
            "once the order has been delivered"
        )
    product = product_of(session, item)
    returning = session.exec(
        select(sa.func.count()).select_from(ItemReturn).where(ItemReturn.order_item_id == item.id)
    ).one()
    if returning >= item.quantity:
        raise Conflict(
            f"all {item.quantity} unit(s) of order line {item.id} are already being returned "
            "— follow the existing return instead"
        )
    depot = session.get(Depot, order.depot_id)
    assert depot is not None and order.id is not None and item.id is not None
    place = session.get(Place, order.place_id) if order.place_id is not None else None
    at = Point(place.lon, place.lat) if place is not None else Point(depot.lon, depot.lat)
    today = local_today(depot, now)
    decision, stores = decide_destination(
        session, depot, product, payload.condition, at, today, policy, pending_line=item.id
    )
    ret = ItemReturn(
        customer_id=order.customer_id,
        order_id=order.id,
        order_item_id=item.id,
        retailer_id=order.retailer_id,  # a return is its order's retailer's
        depot_id=depot.id or 0,
        sku=product.sku,
        condition=payload.condition,
        reason=payload.reason,
        note=payload.note,
        status=ReturnStatus.REQUESTED,
        **decision_fields(decision, stores),
    )
    session.add(ret)
    session.commit()
    session.refresh(ret)
    return ret


def visible_return(session: Session, return_id: int, customer_id: int | None) -> ItemReturn:
    ret = get_return(session, return_id, customer_id=customer_id)
    if ret is None:
        raise NotFound("return", return_id)
    return ret


def check_changeable(ret: ItemReturn) -> None:
    if ret.status not in _CHANGEABLE:
        raise Conflict(f"return {ret.id} is {ret.status.value} — its pickup can no longer change")


def advance_return(session: Session, return_id: int, status: ReturnStatus | str) -> ItemReturn:
    """Record that a return moved on: ``picked_up``, ``in_transit`` or ``received``.

    Raises
    ------
    NotFound
        No such return.
    InvalidInput
        Not one of those statuses (``status``).
    Conflict
        No pickup chosen yet, or the return is already that far or further.
    """
    ret = session.get(ItemReturn, return_id)
    if ret is None:
        raise NotFound("return", return_id)
    try:
        target = ReturnStatus(status)
    except ValueError:
        target = ReturnStatus.REQUESTED  # refused just below
    if target in _CHANGEABLE:
        raise InvalidInput("status", "give 'picked_up', 'in_transit' or 'received'")
    if ret.status is ReturnStatus.REQUESTED:
        raise Conflict(f"return {return_id} has no pickup chosen yet — choose one first")
    if _ORDER.index(target) <= _ORDER.index(ret.status):
        raise Conflict(f"return {return_id} is already {ret.status.value}")
    collected = ret.status is ReturnStatus.SCHEDULED  # it leaves the customer now
    ret.status, ret.updated_at = target, utcnow()
    session.add(ret)
    if collected:
        events.record(
            session, ret.order_id, OrderEventKind.RETURN_COLLECTED,
            detail=f"return {return_id}: {target.value}", return_id=return_id,
        )  # fmt: skip
    session.commit()
    session.refresh(ret)
    return ret
