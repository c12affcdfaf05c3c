"""``/customers/{id}/profile`` and ``/customers/{id}/export``: a customer's delivery preferences,
seen, corrected, exported and deleted.

A customer key reaches only its own customer (any other answers 404, as an unknown id);
planner and admin keys reach every customer; analysts none (403): preferences are personal.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends

from api.deps import Caller, SessionDep, require_role
from api.errors import error_responses
from api.routes.customers import visible_customer
from api.zones import Zones, in_zone
from orchestrator.concierge.profiles import (
    delete_profile,
    export_customer,
    get_profile,
    put_profile,
)
from orchestrator.models import (
    CustomerExport,
    Int64,
    ProfileDeleted,
    ProfilePublic,
    ProfileUpdate,
    Role,
)

__all__ = ["PROFILE_EXAMPLE", "ConciergeDep", "router"]

router = APIRouter(prefix="/customers", tags=["concierge"], responses=error_responses(401))

ConciergeDep = Annotated[Caller, Depends(require_role(Role.CUSTOMER, Role.PLANNER, Role.ADMIN))]
"""The customer themself (their own data only), a planner or an administrator."""

PROFILE_EXAMPLE = ProfileUpdate.model_config["json_schema_extra"]["examples"][0]  # type: ignore[index]  # a dict here


@router.get(
    "/{customer_id}/profile",
    summary="A customer's delivery preferences",
    responses=error_responses(403, 404, 422),
)
def read_profile(customer_id: Int64, caller: ConciergeDep, session: SessionDep) -> ProfilePublic:
    """Where the customer is by weekday, the times they prefer, what may bring their parcels,
    how green and patient they are, and what their choices and deliveries taught (the
    defaults, with ``updated_at`` null, when nothing is stored)."""
    visible_customer(session, caller, customer_id)
    return in_zone(get_profile(session, customer_id), Zones(session).customer(customer_id))


@router.put(
    "/{customer_id}/profile",
    summary="Set a customer's delivery preferences",
    responses=error_responses(403, 404, 422),
)
def write_profile(
    customer_id: Int64,
    caller: ConciergeDep,
    session: SessionDep,
    profile: Annotated[
        ProfileUpdate,
        Body(
            openapi_examples={"aino": {"summary": "Office on weekdays", "value": PROFILE_EXAMPLE}}
        ),
    ],
) -> ProfilePublic:
    """Replace the preferences (what was learned stays). Schedule rules name the customer's own
    places by ``place_id`` or ``place`` name; 422 names the field of an unknown place
    (``body.schedule.0.place_id``), a window outside the day (``body.preferred_windows.0``),
    an unknown time zone or a field the profile does not keep."""
    visible_customer(session, caller, customer_id)
    stored = put_profile(session, customer_id, profile)
    return in_zone(stored, Zones(session).customer(customer_id))


@router.delete(
    "/{customer_id}/profile",
    summary="Delete a customer's preferences and history",
    responses=error_responses(403, 404, 422),
)
def remove_profile(customer_id: Int64, caller: ConciergeDep, session: SessionDep) -> ProfileDeleted:
    """Delete the profile, what was learned, the holds on delivery options and every place
    no order still to be delivered needs. Kept: the customer record, orders still to be
    delivered with their places, delivered and failed orders for bookkeeping without their
    place. The answer counts what went and what stayed."""
    visible_customer(session, caller, customer_id)
    return delete_profile(session, customer_id)


@router.get(
    "/{customer_id}/export",
    summary="Everything stored about a customer",
    responses=error_responses(403, 404, 422),
)
def export(customer_id: Int64, caller: ConciergeDep, session: SessionDep) -> CustomerExport:
    """One JSON document: the customer, the profile with what was learned, their places,
    orders with lines, the orders' events and the holds on delivery options."""
    visible_customer(session, caller, customer_id)
    document = export_customer(session, customer_id)
    return in_zone(document, Zones(session).customer(customer_id))
