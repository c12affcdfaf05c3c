"""``/routes``: one vehicle's day in a plan; dispatching it and closing its stops."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CARRIER, PlannerDep, SessionDep, StaffDep, TravelDep
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
from orchestrator.operations.progress import (
    MAX_LATE_MIN,
    KeepResult,
    RouteForecast,
    checked_report,
    forecast_route,
    keep_promises,
)
from orchestrator.store.queries import stops_with_places

__all__ = [
    "DispatchRequest",
    "OutcomeRequest",
    "ProgressOut",
    "ProgressRequest",
    "RouteDetail",
    "RouteStopDetail",
    "router",
]

router = APIRouter(
    prefix="/routes",
    tags=["routes"],
    responses=error_responses(401, 403),
    dependencies=[CARRIER],  # the carrier's own resources: a retailer's key is 403
)


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


class ProgressRequest(BaseModel):
    """A driver's or planner's word on a dispatched route: where it is, or how late, and when."""

    at: Instant = Field(description="The clock time of the report (ISO 8601 with offset).")
    stop: Int64 | None = Field(
        default=None,
        ge=1,
        description="The vehicle is at this stop (numbered as the manifest, 1 first).",
    )
    late_min: Int64 | None = Field(
        default=None,
        ge=-MAX_LATE_MIN,
        le=MAX_LATE_MIN,
        description="Or: the route runs this many minutes late (negative: early).",
    )

    model_config = {
        "json_schema_extra": {"examples": [{"at": "2025-03-03T10:40:00+02:00", "late_min": 25}]}
    }


class StopProgressOut(BaseModel):
    """An open stop's projected hand-over."""

    route_stop_id: int
    order_id: int
    number: int = Field(description="The stop's number on the route, 1 first.")
    status: str
    planned_start: datetime
    expected_start: datetime = Field(description="At the median of the learned spread.")
    cautious_start: datetime = Field(description="At the production confidence.")
    window_start: datetime | None
    window_end: datetime | None
    late_min: int | None = Field(
        description="Whole minutes the expected hand-over is after the window's end."
    )
    keep_probability: float | None
    at_risk: bool


class MovedOut(BaseModel):
    """An order moved to another route to keep its window."""

    order_id: int
    route_id: int
    vehicle_id: str
    number: int
    service_start_at: datetime


_PROGRESS_EXAMPLE: dict[str, Any] = {
    "route_id": 3,
    "vehicle_id": "van-1-2",
    "as_of": "2025-03-03T10:40:00+02:00",
    "behind_min": 25,
    "confidence": 0.9,
    "stops": [
        {
            "route_stop_id": 17, "order_id": 12, "number": 4, "status": "dispatched",
            "planned_start": "2025-03-03T10:52:00+02:00",
            "expected_start": "2025-03-03T11:17:00+02:00",
            "cautious_start": "2025-03-03T11:24:00+02:00",
            "window_start": "2025-03-03T10:00:00+02:00",
            "window_end": "2025-03-03T11:00:00+02:00",
            "late_min": 17, "keep_probability": 0.0, "at_risk": True,
        }
    ],
    "moved": [],
    "announced": [12],
    "announced_before": [],
}  # fmt: skip


class ProgressOut(BaseModel):
    """A route's projection, and what was done about the promises at risk."""

    route_id: int
    vehicle_id: str
    as_of: datetime
    behind_min: int = Field(description="Minutes behind the plan (negative: ahead).")
    confidence: float
    stops: list[StopProgressOut]
    moved: list[MovedOut] = Field(default_factory=list)
    announced: list[int] = Field(
        default_factory=list, description="Orders whose customer was told now."
    )
    announced_before: list[int] = Field(
        default_factory=list, description="Orders at risk whose customer was told before."
    )

    model_config = ConfigDict(json_schema_extra={"examples": [_PROGRESS_EXAMPLE]})


def _progress_out(forecast: RouteForecast, kept: KeepResult | None = None) -> ProgressOut:
    return ProgressOut(
        route_id=forecast.route_id,
        vehicle_id=forecast.vehicle_id,
        as_of=forecast.as_of,
        behind_min=forecast.behind_s // 60,
        confidence=forecast.confidence,
        stops=[
            StopProgressOut(
                route_stop_id=s.route_stop_id,
                order_id=s.order_id,
                number=s.number,
                status=s.status.value,
                planned_start=s.planned_start,
                expected_start=s.expected_start,
                cautious_start=s.cautious_start,
                window_start=None if s.window is None else s.window[0],
                window_end=None if s.window is None else s.window[1],
                late_min=s.late_min,
                keep_probability=s.keep_probability,
                at_risk=s.at_risk,
            )
            for s in forecast.stops
        ],
        moved=[]
        if kept is None
        else [
            MovedOut(
                order_id=m.order_id,
                route_id=m.route_id,
                vehicle_id=m.vehicle_id,
                number=m.number,
                service_start_at=m.service_start_at,
            )
            for m in kept.moved
        ],
        announced=[] if kept is None else list(kept.announced),
        announced_before=[] if kept is None else list(kept.announced_before),
    )


@router.get(
    "/{route_id}/progress",
    summary="How far a route runs behind",
    responses=error_responses(403, 404, 422),
)
def read_progress(route_id: Int64, _caller: StaffDep, session: SessionDep) -> ProgressOut:
    """Each open stop's projected hand-over from the stops closed so far (read only)."""
    forecast = forecast_route(session, route_id)
    return in_zone(_progress_out(forecast), Zones(session).route(route_id))


@router.post(
    "/{route_id}/progress",
    summary="Report a route's progress: keep its promises",
    responses=error_responses(403, 404, 409, 422),
)
def report_progress(
    route_id: Int64,
    _caller: PlannerDep,
    session: SessionDep,
    travel: TravelDep,
    request: ProgressRequest,
) -> ProgressOut:
    """The vehicle is at stop ``stop``, or runs ``late_min`` minutes late, at ``at``: its open
    stops are projected from there; a stop whose promised window it will likely miss moves
    to a route not yet left that keeps it, or its customer is told now, before the window,
    with the choices left (the ``promise_at_risk`` event and ``order.promise_at_risk``
    webhook; once per promise). 409 when the route has not left or its plan is not current;
    422 names the field (give exactly one of ``stop`` and ``late_min``)."""
    report = checked_report(request.at, stop=request.stop, late_min=request.late_min)
    kept = keep_promises(session, route_id, report=report, travel=travel)
    return in_zone(_progress_out(kept.forecast, kept), Zones(session).route(route_id))
