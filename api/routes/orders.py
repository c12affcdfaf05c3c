"""``/orders``: registered once per ``Idempotency-Key``, read by staff or their own customer.

A customer key registers and reads only its own customer's orders; any other order answers
404 (as an unknown id) and an order for another customer is refused as an unknown customer.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, HTTPException, Query, status
from pydantic import ValidationInfo, field_validator

from api.deps import Caller, CurrentKeyDep, SessionDep
from api.errors import error_responses
from api.zones import Zones, in_zone
from orchestrator.errors import Conflict, InvalidInput, NotFound
from orchestrator.intake.orders import MAX_KEY_LENGTH, get_order, order_public, register_order
from orchestrator.models import (
    Day,
    Int64,
    OrderCreate,
    OrderEventPublic,
    OrderPublic,
    OrderStatus,
    Role,
)
from orchestrator.store.events import order_events
from orchestrator.store.queries import list_orders

__all__ = ["EXAMPLE", "OrderIn", "router"]

router = APIRouter(prefix="/orders", tags=["orders"], responses=error_responses(401))

EXAMPLE: dict[str, Any] = {
    "customer_id": 1,
    "depot_id": 1,
    "service_day": "2025-03-03",
    "place_id": 1,
    "window_start": "2025-03-03T10:00:00+02:00",
    "window_end": "2025-03-03T12:00:00+02:00",
    "mode": "hand_over",
    "value_cents": 4990,
    "signature_required": True,
    "reference": "SHOP-10042",
    "items": [{"description": "shoes", "quantity": 1, "weight_g": 1200, "volume_ml": 9000}],
}


class OrderIn(OrderCreate):
    """An order as the API takes it: :class:`OrderCreate`, with the window checked per field
    so that a window ending before it starts is reported at ``body.window_end``."""

    @field_validator("window_end")
    @classmethod
    def _ends_after_start(cls, end: Any, info: ValidationInfo) -> Any:
        start = info.data.get("window_start")
        if start is not None and end is not None and start.tzinfo and end.tzinfo and end <= start:
            raise ValueError(
                f"window ends at {end.isoformat()} before it starts at {start.isoformat()} "
                "— swap window_start and window_end"
            )
        return end


def _writer(caller: Caller, order: OrderIn) -> None:
    """Planner and admin register any order; a customer only its own; analysts none."""
    if caller.role is Role.ANALYST:
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail="an analyst key may not do this — use a key of role admin, customer, planner",
        )
    scope = caller.customer_scope
    if scope is not None and order.customer_id != scope:
        # The same answer as for a customer that does not exist: nothing to probe.
        raise InvalidInput("customer_id", f"no customer {order.customer_id} — create it first")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Register an order",
    responses=error_responses(403, 409, 422),
)
def create(
    caller: CurrentKeyDep,
    session: SessionDep,
    order: Annotated[
        OrderIn,
        Body(openapi_examples={"shoes": {"summary": "One pair of shoes", "value": EXAMPLE}}),
    ],
    idempotency_key: Annotated[
        str,
        Header(
            min_length=1,
            max_length=MAX_KEY_LENGTH,
            description="Unique per order of the customer (a UUID will do); keys are the "
            "customer's own, so another customer's orders never clash with them. Sending the "
            "same order again with the same key returns the stored order instead of a second "
            "one.",
        ),
    ],
) -> OrderPublic:
    """Register an order once per ``Idempotency-Key``; the same key with different content
    is a 409. 422 names the field: unknown ``depot_id`` or ``customer_id``, a ``place_id`` of
    another customer, ``window_end`` before ``window_start``, negative sizes."""
    _writer(caller, order)
    try:
        stored = register_order(session, order, idempotency_key, retailer_id=caller.retailer_id)
    except Conflict:
        if caller.customer_scope is None:
            raise
        # Staff may see which order holds the key; a customer must not learn other ids.
        raise Conflict(
            "this Idempotency-Key was already used for a different order — use a new key"
        ) from None
    return in_zone(order_public(session, stored), Zones(session).depot(stored.depot_id))


@router.get("", summary="List orders", responses=error_responses(422))
def read_all(
    caller: CurrentKeyDep,
    session: SessionDep,
    depot_id: Int64 | None = None,
    service_day: Day | None = None,
    order_status: Annotated[OrderStatus | None, Query(alias="status")] = None,
    offset: Annotated[Int64, Query(ge=0)] = 0,
    limit: Annotated[Int64, Query(ge=1, le=1_000)] = 100,
) -> list[OrderPublic]:
    """Orders in id order; a customer key lists only its own customer's, a retailer's key
    only its retailer's."""
    rows = list_orders(
        session,
        customer_id=caller.customer_scope,
        retailer_id=caller.retailer_id,
        depot_id=depot_id,
        service_day=service_day,
        status=order_status,
        offset=offset,
        limit=limit,
    )
    zones = Zones(session)
    return [in_zone(order_public(session, o), zones.depot(o.depot_id)) for o in rows]


@router.get("/{order_id}", summary="Read an order", responses=error_responses(404, 422))
def read(order_id: Int64, caller: CurrentKeyDep, session: SessionDep) -> OrderPublic:
    """The order with its lines; 404 for an unknown id or another customer's order."""
    found = get_order(session, order_id, customer_id=caller.customer_scope)
    if found is None:
        raise NotFound("order", order_id)
    return in_zone(order_public(session, found), Zones(session).depot(found.depot_id))


@router.get(
    "/{order_id}/events",
    summary="What happened to an order",
    responses=error_responses(404, 422),
)
def events(order_id: Int64, caller: CurrentKeyDep, session: SessionDep) -> list[OrderEventPublic]:
    """The order's events (created, planned, dispatched, ...), oldest first."""
    if get_order(session, order_id, customer_id=caller.customer_scope) is None:
        raise NotFound("order", order_id)
    zone = Zones(session).order(order_id)
    return [
        in_zone(OrderEventPublic.model_validate(e), zone) for e in order_events(session, order_id)
    ]
