"""``/returns``: a customer sends a delivered item back, picks how it leaves them, and the
planner sees where returns are heading.

A customer key starts, reads and schedules only its own customer's returns; another
customer's order or return answers 404, exactly as an id that does not exist. Planners and
admins may act for any customer; analysts read. A customer key sees a return as
:class:`~orchestrator.models.ReturnCustomerPublic` (status, destination, pickup, a plain
explanation); staff see :class:`~orchestrator.models.ReturnPublic`, with the stores' sales and
stock behind the decision and the expected recovery.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query, status
from pydantic import BaseModel, Field

from api.deps import CARRIER, Caller, CurrentKeyDep, PlannerDep, SessionDep, StaffDep, TravelDep
from api.errors import error_responses
from api.zones import Zones, in_zone
from orchestrator.access.tenancy import check_ids
from orchestrator.errors import InvalidInput, NotFound
from orchestrator.models import (
    Day,
    Int64,
    ItemReturn,
    PickupChoice,
    PickupOptionPublic,
    ReturnCreate,
    ReturnCustomerPublic,
    ReturnFlowsPublic,
    ReturnPublic,
    ReturnStatus,
    Role,
)
from orchestrator.returns_flow import (
    advance_return,
    choose_pickup,
    get_return,
    list_returns,
    pickup_options,
    return_flows,
    return_public,
    start_return,
)

__all__ = ["EXAMPLE", "PICKUP_EXAMPLE", "ProgressRequest", "router"]

router = APIRouter(prefix="/returns", tags=["returns"], responses=error_responses(401))

EXAMPLE: dict[str, Any] = {
    "order_id": 1,
    "order_item_id": 1,
    "condition": "A",
    "reason": "too_large",
    "note": "tags still on",
}
PICKUP_EXAMPLE: dict[str, Any] = {
    "method": "pickup",
    "place_id": 1,
    "window_start": "2025-03-05T18:00:00+02:00",
    "window_end": "2025-03-05T20:00:00+02:00",
}


_PROGRESS_EXAMPLE = {"status": "picked_up"}

ReturnView = ReturnPublic | ReturnCustomerPublic
"""A return as staff see it, or as its customer does."""


def _views(code: int, description: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI answer ``code`` of a route showing a return: one example per view."""
    examples = {
        view: {"summary": summary, "value": model.model_config["json_schema_extra"]["examples"][0]}
        for view, summary, model in (
            ("staff", "A planner's, admin's or analyst's key", ReturnPublic),
            ("customer", "The customer's key", ReturnCustomerPublic),
        )
    }
    return {
        code: {"description": description, "content": {"application/json": {"examples": examples}}}
    }


def _for_customer(caller: Caller) -> bool:
    """Whether the caller sees returns as their customer (without the retailer's figures)."""
    return caller.customer_scope is not None


class ProgressRequest(BaseModel):
    """How far a return has come."""

    status: ReturnStatus = Field(description="picked_up, in_transit or received.")

    model_config = {"json_schema_extra": {"examples": [{"status": "picked_up"}]}}


def _shown(session: SessionDep, ret: ItemReturn, caller: Caller) -> ReturnView:
    """The return as ``caller`` sees it, times in its depot's zone."""
    view = return_public(session, ret, for_customer=_for_customer(caller))
    return in_zone(view, Zones(session).depot(ret.depot_id))


def _acting(caller: Caller) -> int | None:
    """The customer a writer acts within (``None`` for staff); analysts may not write."""
    if caller.role is Role.ANALYST:
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail="an analyst key may not do this — use a key of role admin, customer, planner",
        )
    return caller.customer_scope


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Start a return",
    responses={**_views(201, "The return started."), **error_responses(403, 404, 409, 422)},
)
def create(
    caller: CurrentKeyDep,
    session: SessionDep,
    data: Annotated[
        ReturnCreate,
        Body(openapi_examples={"dress": {"summary": "A dress too large", "value": EXAMPLE}}),
    ],
) -> ReturnView:
    """Return one unit of a delivered order line (a customer key: its own orders only — any
    other order answers 404). The returns engine decides at once where it goes and says why.
    409 when the order is not delivered or every unit is already being returned; 422 for a
    line without a catalogued SKU, a bad condition or reason, or no sales history at all."""
    check_ids(session, caller.retailer_id, {"order_id": data.order_id})  # the body's order
    ret = start_return(session, data, customer_id=_acting(caller))
    return _shown(session, ret, caller)


@router.get(
    "",
    summary="List returns",
    responses={**_views(200, "The returns, in id order."), **error_responses(422)},
)
def read_all(
    caller: CurrentKeyDep,
    session: SessionDep,
    depot_id: Int64 | None = None,
    return_status: Annotated[ReturnStatus | None, Query(alias="status")] = None,
    offset: Annotated[Int64, Query(ge=0)] = 0,
    limit: Annotated[Int64, Query(ge=1, le=1_000)] = 100,
) -> list[ReturnView]:
    """Returns in id order; a customer key lists only its own."""
    rows = list_returns(
        session,
        customer_id=caller.customer_scope,
        retailer_id=caller.retailer_id,
        depot_id=depot_id,
        status=return_status,
        offset=offset,
        limit=limit,
    )
    return [_shown(session, r, caller) for r in rows]


@router.get(
    "/flows",
    summary="Where a depot's returns are heading",
    responses=error_responses(403, 422),
    dependencies=[CARRIER],  # flows across every retailer's returns
)
def flows(
    _caller: StaffDep,
    session: SessionDep,
    depot: Annotated[Int64, Query(description="The depot (origin warehouse).")],
    day: Annotated[
        Day | None,
        Query(description="Pickup day; leave out for every return not yet received."),
    ] = None,
) -> ReturnFlowsPublic:
    """Per destination (stores first, busiest first): items incoming, their status, expected
    recovery in EUR, transfer km and CO2, and how many a route brings to the depot first."""
    try:
        found = return_flows(session, depot, day)
    except NotFound:
        raise InvalidInput(("query", "depot"), f"no depot {depot} — check the depot id") from None
    return in_zone(found, Zones(session).depot(depot))


@router.get(
    "/{return_id}",
    summary="Read a return",
    responses={**_views(200, "The return."), **error_responses(404, 422)},
)
def read(return_id: Int64, caller: CurrentKeyDep, session: SessionDep) -> ReturnView:
    """The return with its destination, explanation and, once planned, the pickup's ETA (or
    why the day's plan leaves it out); 404 for an unknown id or another customer's."""
    ret = get_return(session, return_id, customer_id=caller.customer_scope)
    if ret is None:
        raise NotFound("return", return_id)
    return _shown(session, ret, caller)


@router.get(
    "/{return_id}/pickup-options",
    summary="How the item may leave the customer",
    responses=error_responses(404, 409, 422),
)
def options(
    return_id: Int64, caller: CurrentKeyDep, session: SessionDep, travel: TravelDep
) -> list[PickupOptionPublic]:
    """Pickup windows at the customer's places and days at their lockers over the next days,
    each checked against that day's plan (with what collecting it adds), then the nearest
    stores taking returns, for a drop-off. 409 once the item has left the customer."""
    found = pickup_options(session, return_id, customer_id=caller.customer_scope, travel=travel)
    ret = session.get(ItemReturn, return_id)
    return in_zone(found, Zones(session).depot(ret.depot_id if ret else None))


@router.post(
    "/{return_id}/pickup",
    summary="Choose how the item leaves the customer",
    responses={**_views(200, "The return, scheduled."), **error_responses(403, 404, 409, 422)},
)
def pickup(
    return_id: Int64,
    caller: CurrentKeyDep,
    session: SessionDep,
    travel: TravelDep,
    choice: Annotated[
        PickupChoice,
        Body(
            openapi_examples={
                "pickup": {"summary": "Collected at home", "value": PICKUP_EXAMPLE},
                "store": {
                    "summary": "Handed in at a store",
                    "value": {"method": "store", "store_id": 2, "day": "2025-03-05"},
                },
            }
        ),
    ],
) -> ReturnView:
    """A pickup (``place_id`` and a window), a locker (``place_id`` and ``day``) or a store
    (``store_id``, ``day``); the return is then scheduled and its destination decided again
    from where the item starts. 409 when no vehicle can collect it then any more or it has
    left already; 422 names the missing or wrong field."""
    ret = choose_pickup(session, return_id, choice, customer_id=_acting(caller), travel=travel)
    return _shown(session, ret, caller)


@router.post(
    "/{return_id}/progress",
    summary="A return moved on",
    responses=error_responses(403, 404, 409, 422),
)
def progress(
    return_id: Int64,
    _caller: PlannerDep,
    session: SessionDep,
    request: Annotated[
        ProgressRequest,
        Body(openapi_examples={"picked": {"summary": "Collected", "value": _PROGRESS_EXAMPLE}}),
    ],
) -> ReturnPublic:
    """Record ``picked_up``, ``in_transit`` or ``received``; 409 when it has no pickup yet or
    is already that far."""
    ret = advance_return(session, return_id, request.status)
    return in_zone(return_public(session, ret), Zones(session).depot(ret.depot_id))
