"""``/routes``: one vehicle's day in a plan; dispatching it and closing its stops."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body
from pydantic import BaseModel, ConfigDict, Field

from api.deps import PlannerDep, SessionDep, StaffDep
from api.errors import error_responses
from api.routes.plans import RouteOut, StopOut
from api.zones import Zones, in_zone
from orchestrator.errors import NotFound
from orchestrator.models import (
    ROUTE_EXAMPLE,
    ROUTE_STOP_EXAMPLE,
    Instant,
    Int64,
    Route,
    RouteStop,
    RouteStopPublic,
)
from orchestrator.operations.dispatch import dispatch_route, mark_stop_outcome
from orchestrator.operations.manifest import Handoff, stop_handoffs
from orchestrator.store.queries import stops_with_places

__all__ = ["DispatchRequest", "OutcomeRequest", "RouteDetail", "RouteStopDetail", "router"]

router = APIRouter(prefix="/routes", tags=["routes"], responses=error_responses(401))


class DispatchRequest(BaseModel):
    """How much of the route left the depot."""

    stops: Int64 | None = Field(
        default=None, ge=0, description="The first this many stops are on board (default all)."
    )

    model_config = {"json_schema_extra": {"examples": [{"stops": 12}]}}


class OutcomeRequest(BaseModel):
    """What happened at a dispatched stop."""

    outcome: Literal["delivered", "failed"]
    at: Instant | None = Field(default=None, description="When (ISO 8601 with offset); now.")
    detail: str = Field(default="", max_length=1_000, description="Why it failed, a note.")

    model_config = {
        "json_schema_extra": {
            "examples": [{"outcome": "failed", "detail": "nobody home, card left"}]
        }
    }


_STOP_DETAIL_EXAMPLE = {
    **ROUTE_STOP_EXAMPLE,
    "location": [24.946, 60.164],
    "language": "fi",
    "handoff_instructions": "ring twice; leave with the concierge; Reception, 2nd floor",
}


class RouteStopDetail(StopOut):
    """A stop with where it is and how the parcel changes hands there."""

    language: str | None = Field(
        default=None,
        description="The customer's language as their profile stores it (e.g. 'fi'); "
        "null when unknown.",
    )
    handoff_instructions: str | None = Field(
        default=None,
        description="The customer's hand-off instructions, then the place's own; null when "
        "neither says anything.",
    )

    model_config = ConfigDict(json_schema_extra={"examples": [_STOP_DETAIL_EXAMPLE]})


class RouteDetail(RouteOut):
    """A route with its stops in visiting order, each with the customer's language and
    hand-off instructions."""

    stops: list[RouteStopDetail]  # type: ignore[assignment]  # a narrower kind of stop

    model_config = ConfigDict(
        json_schema_extra={"examples": [{**ROUTE_EXAMPLE, "stops": [_STOP_DETAIL_EXAMPLE]}]}
    )


def _route_out(session: SessionDep, route: Route) -> RouteDetail:
    assert route.id is not None
    handoffs = stop_handoffs(session, route.id)
    unknown = Handoff(language=None, instructions=None)
    stops = []
    for s, p in stops_with_places(session, route.id):
        handoff = handoffs.get(s.id or 0, unknown)
        location = None if p is None else [round(p.lon, 6), round(p.lat, 6)]
        stops.append(
            RouteStopDetail.model_validate(
                s,
                update={
                    "location": location,
                    "language": handoff.language,
                    "handoff_instructions": handoff.instructions,
                },
            )
        )
    out = RouteDetail.model_validate(route, update={"stops": stops})
    return in_zone(out, Zones(session).route(route.id))


@router.get(
    "/{route_id}",
    summary="Read a route with its stops",
    responses=error_responses(403, 404, 422),
)
def read(route_id: Int64, _caller: StaffDep, session: SessionDep) -> RouteDetail:
    """The route with its stops in visiting order (ETAs, loads, ``[lon, lat]``, the customer's
    language and hand-off instructions)."""
    route = session.get(Route, route_id)
    if route is None:
        raise NotFound("route", route_id)
    return _route_out(session, route)


@router.post(
    "/{route_id}/dispatch",
    summary="The route's vehicle left",
    responses=error_responses(403, 404, 409, 422),
)
def dispatch(
    route_id: Int64,
    _caller: PlannerDep,
    session: SessionDep,
    request: Annotated[DispatchRequest | None, Body()] = None,
) -> RouteDetail:
    """Its first ``stops`` stops (all by default) are on board and locked in any re-plan;
    409 when the route's plan is no longer current."""
    route = dispatch_route(session, route_id, stops=(request or DispatchRequest()).stops)
    return _route_out(session, route)


@router.post(
    "/{route_id}/stops/{stop_id}/outcome",
    summary="A stop was delivered or failed",
    responses=error_responses(403, 404, 409, 422),
)
def outcome(
    route_id: Int64,
    stop_id: Int64,
    _caller: PlannerDep,
    session: SessionDep,
    request: OutcomeRequest,
) -> RouteStopPublic:
    """Close a dispatched stop; 409 when it is not dispatched or already closed."""
    stop = session.get(RouteStop, stop_id)
    if stop is None or stop.route_id != route_id:
        raise NotFound("route stop", stop_id)
    closed = mark_stop_outcome(
        session, stop_id, request.outcome, at=request.at, detail=request.detail
    )
    return in_zone(RouteStopPublic.model_validate(closed), Zones(session).route(route_id))
