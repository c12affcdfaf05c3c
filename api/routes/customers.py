"""``/customers`` and their named places.

A customer key sees only its own customer: any other customer id answers 404, exactly as an
id that does not exist, so ids cannot be probed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, Query, status

from api.deps import Caller, CurrentKeyDep, PlannerDep, SessionDep, StaffDep, WriteRetailerDep
from api.errors import error_responses
from api.zones import Zones, in_zone
from orchestrator.errors import NotFound
from orchestrator.intake.catalog import add_place, create_customer, customer_places
from orchestrator.models import (
    Customer,
    CustomerCreate,
    CustomerPublic,
    Int64,
    PlaceCreate,
    PlacePublic,
    Role,
)
from orchestrator.store.queries import list_customers

__all__ = ["CUSTOMER_EXAMPLE", "PLACE_EXAMPLE", "router", "visible_customer"]

router = APIRouter(prefix="/customers", tags=["customers"], responses=error_responses(401))

CUSTOMER_EXAMPLE = {"name": "Aino Virtanen", "email": "aino@example.org", "phone": "+358401234567"}
PLACE_EXAMPLE = {
    "kind": "office",
    "name": "office",
    "lat": 60.1640,
    "lon": 24.9460,
    "address": "Mannerheimintie 1, Helsinki",
    "instructions": "Reception, 2nd floor",
}


def visible_customer(session: SessionDep, caller: Caller, customer_id: Int64) -> Customer:
    """The customer if the caller may see it; :class:`NotFound` otherwise (never 403)."""
    scope = caller.customer_scope
    customer = session.get(Customer, customer_id)
    if customer is None or (scope is not None and scope != customer_id):
        raise NotFound("customer", customer_id)
    return customer


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a customer",
    responses=error_responses(403, 422),
)
def create(
    _caller: PlannerDep,
    session: SessionDep,
    owner: WriteRetailerDep,
    customer: Annotated[
        CustomerCreate,
        Body(openapi_examples={"aino": {"summary": "A customer", "value": CUSTOMER_EXAMPLE}}),
    ],
) -> CustomerPublic:
    """Store a customer of the key's retailer (a carrier key: ``retailer_id``, or the default
    retailer)."""
    made = create_customer(session, customer, retailer_id=owner)
    return in_zone(CustomerPublic.model_validate(made), Zones(session).customer(made.id or 0))


@router.get("", summary="List customers (staff keys)", responses=error_responses(403, 422))
def read_all(
    caller: StaffDep,
    session: SessionDep,
    offset: Annotated[Int64, Query(ge=0)] = 0,
    limit: Annotated[Int64, Query(ge=1, le=1_000)] = 100,
) -> list[CustomerPublic]:
    """Customers in id order; a retailer's key lists only its retailer's."""
    rows = list_customers(session, retailer_id=caller.retailer_id, offset=offset, limit=limit)
    zones = Zones(session)
    return [in_zone(CustomerPublic.model_validate(c), zones.customer(c.id or 0)) for c in rows]


@router.get("/{customer_id}", summary="Read a customer", responses=error_responses(404, 422))
def read(customer_id: Int64, caller: CurrentKeyDep, session: SessionDep) -> CustomerPublic:
    """The customer; 404 for an unknown id or, with a customer key, another customer."""
    found = CustomerPublic.model_validate(visible_customer(session, caller, customer_id))
    return in_zone(found, Zones(session).customer(customer_id))


@router.get(
    "/{customer_id}/places",
    summary="The customer's places",
    responses=error_responses(404, 422),
)
def places(customer_id: Int64, caller: CurrentKeyDep, session: SessionDep) -> list[PlacePublic]:
    """The customer's named places, oldest first."""
    visible_customer(session, caller, customer_id)
    return [PlacePublic.model_validate(p) for p in customer_places(session, customer_id)]


@router.post(
    "/{customer_id}/places",
    status_code=status.HTTP_201_CREATED,
    summary="Add a place to a customer",
    responses=error_responses(403, 404, 409, 422),
)
def create_place(
    customer_id: Int64,
    caller: CurrentKeyDep,
    session: SessionDep,
    place: Annotated[
        PlaceCreate,
        Body(openapi_examples={"office": {"summary": "An office", "value": PLACE_EXAMPLE}}),
    ],
) -> PlacePublic:
    """Add a named place (planner, admin, or the customer's own key); 409 for a taken name."""
    visible_customer(session, caller, customer_id)
    if caller.role is Role.ANALYST:
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail="an analyst key may not do this — use a key of role admin, customer, planner",
        )
    return PlacePublic.model_validate(add_place(session, customer_id, place))
