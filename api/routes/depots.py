"""``/depots``: where vehicles load and routes start."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, status

from api.deps import CARRIER, PlannerDep, SessionDep, StaffDep
from api.errors import error_responses
from orchestrator.errors import NotFound
from orchestrator.intake.catalog import create_depot, depot_fleets
from orchestrator.models import Depot, DepotCreate, DepotPublic, FleetPublic, Int64
from orchestrator.store.queries import list_depots

__all__ = ["EXAMPLE", "router"]

router = APIRouter(prefix="/depots", tags=["depots"], responses=error_responses(401))

EXAMPLE = {
    "code": "HEL1",
    "name": "Helsinki central depot",
    "lat": 60.1699,
    "lon": 24.9384,
    "timezone": "Europe/Helsinki",
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a depot",
    responses=error_responses(403, 409, 422),
    dependencies=[CARRIER],  # the fleet is the carrier's
)
def create(
    _caller: PlannerDep,
    session: SessionDep,
    depot: Annotated[
        DepotCreate, Body(openapi_examples={"helsinki": {"summary": "A depot", "value": EXAMPLE}})
    ],
) -> DepotPublic:
    """Store a depot; 409 when its ``code`` is taken."""
    return DepotPublic.model_validate(create_depot(session, depot))


@router.get("", summary="List depots", responses=error_responses(403, 422))
def read_all(
    _caller: StaffDep,
    session: SessionDep,
    offset: Annotated[Int64, Query(ge=0)] = 0,
    limit: Annotated[Int64, Query(ge=1, le=1_000)] = 100,
) -> list[DepotPublic]:
    """Depots in id order."""
    return [DepotPublic.model_validate(d) for d in list_depots(session, offset=offset, limit=limit)]


@router.get("/{depot_id}", summary="Read a depot", responses=error_responses(403, 404, 422))
def read(depot_id: Int64, _caller: StaffDep, session: SessionDep) -> DepotPublic:
    """The depot; 404 for an unknown id."""
    depot = session.get(Depot, depot_id)
    if depot is None:
        raise NotFound("depot", depot_id)
    return DepotPublic.model_validate(depot)


@router.get(
    "/{depot_id}/fleets",
    summary="The depot's fleets",
    responses=error_responses(403, 404, 422),
)
def fleets(depot_id: Int64, _caller: StaffDep, session: SessionDep) -> list[FleetPublic]:
    """The vehicles based at the depot, one entry per fleet."""
    if session.get(Depot, depot_id) is None:
        raise NotFound("depot", depot_id)
    return [FleetPublic.model_validate(f) for f, _ in depot_fleets(session, depot_id)]
