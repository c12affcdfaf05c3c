"""``/retailers``: the retailers (shippers) the carrier's fleet serves.

The carrier creates them (a carrier's planner or admin key); a retailer's own keys are made
with ``lastmile keys create --role planner --retailer ID``. A retailer's key sees only its
own retailer here, as everywhere (:mod:`orchestrator.access.tenancy`).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Body, Query, status

from api.deps import CARRIER, PlannerDep, SessionDep, StaffDep, TravelDep
from api.errors import error_responses
from orchestrator.errors import NotFound
from orchestrator.intake.retailers import create_retailer, get_retailer, list_retailers
from orchestrator.models import Int64, RetailerCreate, RetailerPublic
from orchestrator.planning.day_shares import RetailerShares, retailer_day_shares

__all__ = ["EXAMPLE", "router"]

router = APIRouter(prefix="/retailers", tags=["retailers"], responses=error_responses(401))

EXAMPLE = {"name": "Kauppa Oy"}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a retailer (carrier keys)",
    responses=error_responses(403, 422),
    dependencies=[CARRIER],
)
def create(
    _caller: PlannerDep,
    session: SessionDep,
    retailer: Annotated[
        RetailerCreate,
        Body(openapi_examples={"kauppa": {"summary": "A retailer", "value": EXAMPLE}}),
    ],
) -> RetailerPublic:
    """A new retailer served by the fleet; its keys are made with ``lastmile keys create
    --retailer ID``, its customers, stores and products with ``?retailer_id=ID``."""
    return RetailerPublic.model_validate(create_retailer(session, retailer))


@router.get("", summary="List retailers", responses=error_responses(403, 422))
def read_all(
    caller: StaffDep,
    session: SessionDep,
    offset: Annotated[Int64, Query(ge=0)] = 0,
    limit: Annotated[Int64, Query(ge=1, le=1_000)] = 100,
) -> list[RetailerPublic]:
    """Retailers in id order; a retailer's key lists only its own."""
    rows = list_retailers(session, retailer_id=caller.retailer_id, offset=offset, limit=limit)
    return [RetailerPublic.model_validate(r) for r in rows]


@router.get("/{retailer_id}", summary="Read a retailer", responses=error_responses(403, 404, 422))
def read(retailer_id: Int64, _caller: StaffDep, session: SessionDep) -> RetailerPublic:
    """The retailer; 404 for an unknown id or, with a retailer's key, another retailer."""
    found = get_retailer(session, retailer_id)
    if found is None:
        raise NotFound("retailer", retailer_id)
    return RetailerPublic.model_validate(found)


@router.get(
    "/{retailer_id}/shares",
    summary="A retailer's fair share of a day's pooled plans",
    responses=error_responses(403, 404, 422),
)
def shares(
    retailer_id: Int64,
    _caller: StaffDep,
    session: SessionDep,
    travel: TravelDep,
    day: Annotated[date, Query(description="The service day, YYYY-MM-DD.")],
) -> RetailerShares:
    """The retailer's part of the cost, km and CO2 of every depot's current plan of ``day``
    carrying its orders, split proportionally to each retailer's stand-alone cost, and its
    saving against planning alone (:mod:`orchestrator.planning.day_shares`). The first call
    for a plan plans each retailer alone (seconds); later calls read the plan's cache. 404
    when no plan of the day carries its orders or, with a retailer's key, another retailer."""
    return retailer_day_shares(session, retailer_id, day, travel=travel)
