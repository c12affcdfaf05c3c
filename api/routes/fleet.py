"""``/vehicle-types`` and ``/fleets``: kinds of vehicles, and how many of each a depot has."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, status

from api.deps import CARRIER, PlannerDep, SessionDep, StaffDep
from api.errors import error_responses
from orchestrator.errors import NotFound
from orchestrator.intake.catalog import add_fleet, create_vehicle_type
from orchestrator.models import (
    Fleet,
    FleetCreate,
    FleetPublic,
    Int64,
    VehicleType,
    VehicleTypeCreate,
    VehicleTypePublic,
)
from orchestrator.store.queries import list_vehicle_types

__all__ = ["FLEET_EXAMPLE", "VEHICLE_TYPE_EXAMPLE", "router"]

router = APIRouter(tags=["vehicle types and fleets"], responses=error_responses(401))

VEHICLE_TYPE_EXAMPLE = {
    "name": "e-van",
    "kind": "van",
    "profile": "car",
    "capacity_weight_g": 800_000,
    "capacity_volume_ml": 10_000_000,
    "capacity_parcels": 120,
    "fixed_cost": 120.0,
    "cost_per_km": 0.12,
    "cost_per_hour": 30.0,
    "co2_g_per_km": 0.0,
    "skills": ["fragile", "signature"],
}
FLEET_EXAMPLE = {
    "depot_id": 1,
    "vehicle_type_id": 1,
    "count": 4,
    "shift_start_s": 28_800,
    "shift_end_s": 64_800,
    "break_duration_s": 1_800,
    "break_earliest_s": 41_400,
    "break_latest_s": 48_600,
}


@router.post(
    "/vehicle-types",
    status_code=status.HTTP_201_CREATED,
    summary="Create a vehicle type",
    responses=error_responses(403, 409, 422),
    dependencies=[CARRIER],  # the fleet is the carrier's
)
def create_type(
    _caller: PlannerDep,
    session: SessionDep,
    vehicle_type: Annotated[
        VehicleTypeCreate,
        Body(openapi_examples={"e-van": {"summary": "An e-van", "value": VEHICLE_TYPE_EXAMPLE}}),
    ],
) -> VehicleTypePublic:
    """Store a vehicle type; 409 when its ``name`` is taken."""
    return VehicleTypePublic.model_validate(create_vehicle_type(session, vehicle_type))


@router.get("/vehicle-types", summary="List vehicle types", responses=error_responses(403, 422))
def read_types(
    _caller: StaffDep,
    session: SessionDep,
    offset: Annotated[Int64, Query(ge=0)] = 0,
    limit: Annotated[Int64, Query(ge=1, le=1_000)] = 100,
) -> list[VehicleTypePublic]:
    """Vehicle types in id order."""
    rows = list_vehicle_types(session, offset=offset, limit=limit)
    return [VehicleTypePublic.model_validate(v) for v in rows]


@router.get(
    "/vehicle-types/{vehicle_type_id}",
    summary="Read a vehicle type",
    responses=error_responses(403, 404, 422),
)
def read_type(vehicle_type_id: Int64, _caller: StaffDep, session: SessionDep) -> VehicleTypePublic:
    """The vehicle type; 404 for an unknown id."""
    found = session.get(VehicleType, vehicle_type_id)
    if found is None:
        raise NotFound("vehicle type", vehicle_type_id)
    return VehicleTypePublic.model_validate(found)


@router.post(
    "/fleets",
    status_code=status.HTTP_201_CREATED,
    summary="Base vehicles at a depot",
    responses=error_responses(403, 422),
    dependencies=[CARRIER],  # the fleet is the carrier's
)
def create_fleet(
    _caller: PlannerDep,
    session: SessionDep,
    fleet: Annotated[
        FleetCreate,
        Body(openapi_examples={"vans": {"summary": "Four e-vans, 08-18", "value": FLEET_EXAMPLE}}),
    ],
) -> FleetPublic:
    """Base ``count`` vehicles of a type at a depot (shift and break in seconds since local
    midnight); 422 naming ``depot_id`` or ``vehicle_type_id`` when either is unknown."""
    return FleetPublic.model_validate(add_fleet(session, fleet))


@router.get("/fleets/{fleet_id}", summary="Read a fleet", responses=error_responses(403, 404, 422))
def read_fleet(fleet_id: Int64, _caller: StaffDep, session: SessionDep) -> FleetPublic:
    """The fleet; 404 for an unknown id."""
    found = session.get(Fleet, fleet_id)
    if found is None:
        raise NotFound("fleet", fleet_id)
    return FleetPublic.model_validate(found)
