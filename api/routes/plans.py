"""``/plans``: solving a depot's day is a job, and the job is the plan.

``POST /plans`` (and ``POST /plans/{id}/replan``) stores the request as a queued plan and
answers 202 with its id and a ``Location`` to poll; a worker process solves it
(:mod:`api.runtime.jobs`). ``GET /plans/{id}`` shows the job's status (queued, running, succeeded,
failed), progress and — once done — the plan; the same id then serves
``/plans/{id}/routes`` (JSON; GeoJSON with ``Accept: application/geo+json``; CSV and .xlsx
by ``Accept``, as :mod:`api.routes.plan_exports` serves them) and
``/plans/{id}/routes.geojson`` (its route lines along the streets when the app plans on a
road graph, kept per plan id; times in the depot's zone). Job state is kept in the store: a
restart forgets nothing, and jobs a stopped server left unfinished show as failed with the
reason.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Header, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CARRIER, PlannerDep, SessionDep, StaffDep
from api.errors import error_responses
from api.geo import GEOJSON_MEDIA_TYPE, GeoJSONResponse, plan_geojson, route_lines
from api.routes.plan_exports import EXPORT_CONTENT, EXPORT_MEDIA_TYPES, export, negotiate
from api.runtime.jobs import PlanJobs
from api.zones import Zones, in_zone
from orchestrator.errors import Conflict, InvalidInput, NotFound
from orchestrator.intake.catalog import depot_fleets
from orchestrator.jobs.plans import JobState, job_progress, job_state, submit_plan, submit_replan
from orchestrator.models import (
    PLAN_EXAMPLE,
    ROUTE_EXAMPLE,
    ROUTE_STOP_EXAMPLE,
    UNSERVED_EXAMPLE,
    Day,
    Depot,
    Fleet,
    Int64,
    Plan,
    PlanKind,
    PlanPublic,
    PlanStatus,
    RoutePublic,
    RouteStopPublic,
    UnservedOrderPublic,
)
from orchestrator.planning.board_view import day_plans
from orchestrator.planning.plans import make_current, plan_routes, plan_unserved
from orchestrator.store.queries import stops_with_places, unserved_with_places
from routing.solve import Limits

__all__ = ["PlanJobPublic", "PlanListed", "PlanRequest", "PlanRoutes", "ReplanRequest", "router"]

router = APIRouter(
    prefix="/plans",
    tags=["plans"],
    responses=error_responses(401, 403),
    dependencies=[CARRIER],  # the carrier's own resources: a retailer's key is 403
)

_UNFINISHED = (PlanStatus.QUEUED, PlanStatus.RUNNING)
_STOP_EXAMPLE: dict[str, Any] = {**ROUTE_STOP_EXAMPLE, "location": [24.931, 60.1755]}
_ROUTE_EXAMPLE: dict[str, Any] = {**ROUTE_EXAMPLE, "stops": [_STOP_EXAMPLE]}
_GEOJSON_EXAMPLE: dict[str, Any] = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [24.9384, 60.1699]},
            "properties": {"kind": "depot", "code": "HEL1", "name": "Helsinki central depot"},
        },
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [24.931, 60.1755]},
            "properties": {
                "kind": "stop",
                "route_id": 5,
                "vehicle": "e-van-1-1",
                "sequence": 1,
                "order_id": 1,
                "eta": "2025-03-03T08:41:00+00:00",
                "service_start": "2025-03-03T08:41:00+00:00",
                "status": "planned",
            },
        },
        {
            "type": "Feature",
            "geometry": {
                "type": "LineString",
                "coordinates": [[24.9384, 60.1699], [24.931, 60.1755], [24.9384, 60.1699]],
            },
            "properties": {
                "kind": "route",
                "route_id": 5,
                "vehicle": "e-van-1-1",
                "type": "e-van",
                "stops": 1,
                "distance_m": 1_938,
                "duration_s": 1_100,
                "start": "2025-03-03T08:35:00+00:00",
                "end": "2025-03-03T08:53:20+00:00",
                "co2_g": 0.0,
                "cost": 129.4,
            },
        },
    ],
    "plan": {"id": 3, "depot_id": 1, "status": "current"},
}
_LOCATION: dict[int | str, dict[str, Any]] = {
    202: {"headers": {"Location": {"description": "Where to poll the job."}}}
}


class ReplanRequest(BaseModel):
    """How long to search, the seed, and when the new plan becomes current."""

    time_limit_s: float = Field(
        default=10.0, gt=0, le=600, description="Solver time limit, seconds."
    )
    seed: Int64 = Field(default=0, ge=0, description="Same data and seed, same plan.")
    make_current: Literal["if_better", "always"] = Field(
        default="if_better",
        description=(
            "``if_better``: a plan serving fewer orders than the day's current plan, or as many "
            "at a cost more than LASTMILE_PLAN_WORSE_MARGIN_PCT percent above it, is stored "
            "but not made current (``plan.stats.comparison`` says by how much; "
            "``POST /plans/{id}/current`` chooses it later). ``always``: it becomes current."
        ),
    )

    model_config = {"json_schema_extra": {"examples": [{"time_limit_s": 5, "seed": 0}]}}


class PlanRequest(ReplanRequest):
    """Plan a depot's service day from its open orders."""

    depot_id: Int64 = Field(description="The depot whose day is planned.")
    service_day: Day = Field(description="The depot's local date.")

    model_config = {
        "json_schema_extra": {
            "examples": [
                {"depot_id": 1, "service_day": "2025-03-03", "time_limit_s": 10, "seed": 0}
            ]
        }
    }


class PlanJobPublic(BaseModel):
    """A plan job: its state and, once it has finished, the plan."""

    id: int = Field(description="The job's id, which is also its plan's id.")
    status: JobState
    progress: float = Field(
        ge=0, le=1, description="Estimated share done: of the time limit while running."
    )
    depot_id: int
    service_day: date
    kind: PlanKind = Field(description="``day`` (from scratch) or ``replan``.")
    replan_of_id: int | None = None
    time_limit_s: float = Field(description="Solver time limit, seconds.")
    seed: int
    created_at: datetime = Field(description="When the job was submitted.")
    started_at: datetime | None = None
    finished_at: datetime | None = None
    plan: PlanPublic | None = Field(default=None, description="Once the job has finished.")
    unserved: list[UnservedOrderPublic] = []
    error: str | None = None

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "id": 3,
                    "status": "succeeded",
                    "progress": 1.0,
                    "depot_id": 1,
                    "service_day": "2025-03-03",
                    "kind": "day",
                    "replan_of_id": None,
                    "time_limit_s": 10.0,
                    "seed": 0,
                    "created_at": PLAN_EXAMPLE["created_at"],
                    "started_at": PLAN_EXAMPLE["started_at"],
                    "finished_at": PLAN_EXAMPLE["finished_at"],
                    "plan": PLAN_EXAMPLE,
                    "unserved": [UNSERVED_EXAMPLE],
                    "error": None,
                },
                {
                    "id": 4,
                    "status": "running",
                    "progress": 0.42,
                    "depot_id": 1,
                    "service_day": "2025-03-03",
                    "kind": "replan",
                    "replan_of_id": 3,
                    "time_limit_s": 10.0,
                    "seed": 0,
                    "created_at": "2025-03-03T09:30:00+02:00",
                    "started_at": "2025-03-03T09:30:01+02:00",
                    "finished_at": None,
                    "plan": None,
                    "unserved": [],
                    "error": None,
                },
            ]
        }
    }


class PlanListed(PlanPublic):
    """A plan of a depot's day as listed: the plan, its job's state and whether it is current."""

    current: bool = Field(description="Whether this is the day's current plan (one at most).")
    job_status: JobState = Field(description="Its job: queued, running, succeeded or failed.")
    progress: float = Field(
        ge=0, le=1, description="Estimated share done: of the time limit while running."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {**PLAN_EXAMPLE, "current": True, "job_status": "succeeded", "progress": 1.0}
            ]
        }
    )


class StopOut(RouteStopPublic):
    """A stop with where it is."""

    location: list[float] | None = Field(description="``[lon, lat]`` of the delivery place.")

    model_config = ConfigDict(json_schema_extra={"examples": [_STOP_EXAMPLE]})


class RouteOut(RoutePublic):
    """A route with its stops in visiting order."""

    stops: list[StopOut]

    model_config = ConfigDict(json_schema_extra={"examples": [_ROUTE_EXAMPLE]})


class PlanRoutes(BaseModel):
    """A plan's routes (ETAs per stop, loads, metres, CO2 grams, cost EUR) and unserved orders."""

    plan: PlanPublic
    routes: list[RouteOut]
    unserved: list[UnservedOrderPublic]

    model_config = {
        "json_schema_extra": {
            "examples": [
                {"plan": PLAN_EXAMPLE, "routes": [_ROUTE_EXAMPLE], "unserved": [UNSERVED_EXAMPLE]}
            ]
        }
    }


def _jobs(request: Request) -> PlanJobs:
    jobs: PlanJobs = request.app.state.jobs
    return jobs


def _job_public(session: SessionDep, plan: Plan) -> PlanJobPublic:
    assert plan.id is not None
    finished = plan.status not in _UNFINISHED
    job = PlanJobPublic(
        id=plan.id,
        status=job_state(plan),
        progress=job_progress(plan),
        depot_id=plan.depot_id,
        service_day=plan.service_day,
        kind=plan.kind,
        replan_of_id=plan.replan_of_id,
        time_limit_s=plan.time_limit_s,
        seed=plan.seed,
        created_at=plan.created_at,
        started_at=plan.started_at,
        finished_at=plan.finished_at,
        plan=PlanPublic.model_validate(plan) if finished else None,
        unserved=[UnservedOrderPublic.model_validate(u) for u in plan_unserved(session, plan.id)],
        error=plan.error,
    )
    return in_zone(job, Zones(session).depot(plan.depot_id))


def _accepted(
    request: Request, response: Response, session: SessionDep, job: Plan
) -> PlanJobPublic:
    assert job.id is not None
    _jobs(request).enqueue(job.id)
    response.headers["Location"] = f"/plans/{job.id}"
    return _job_public(session, job)


def _plan(session: SessionDep, plan_id: Int64) -> Plan:
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFound("plan", plan_id)
    return plan


def _finished_plan(session: SessionDep, plan_id: Int64) -> Plan:
    """The plan ``plan_id`` once its job has finished; 409 while it is queued or running."""
    plan = _plan(session, plan_id)
    if plan.status in _UNFINISHED:
        raise Conflict(
            f"plan job {plan_id} is {plan.status.value} and has no routes yet — poll "
            f"GET /plans/{plan_id} until it succeeds"
        )
    return plan


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Plan a depot's day (a job)",
    responses={**_LOCATION, **error_responses(403, 409, 422)},
)
def create(
    request: Request,
    response: Response,
    _caller: PlannerDep,
    session: SessionDep,
    plan: Annotated[PlanRequest, Body()],
) -> PlanJobPublic:
    """Queue a plan of the depot's open orders for the day; answers at once with the job.

    The new plan becomes the day's current plan when the solve succeeds — unless it is worse
    than the current one and ``make_current`` is ``if_better`` (the default): then it is
    stored ``superseded`` and ``plan.stats.comparison`` says which is better and by how much
    (``POST /plans/{id}/current`` chooses it). A failed solve leaves the previous plan current
    and the job ``failed`` with the error. 422 for an unknown depot, 409 when a route of the
    day is dispatched (re-plan instead).
    """
    job = submit_plan(
        session,
        plan.depot_id,
        plan.service_day,
        limits=Limits(time_limit=plan.time_limit_s),
        seed=plan.seed,
    )
    return _accepted(request, response, session, _choice(session, job, plan.make_current))


@router.post(
    "/{plan_id}/replan",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Re-plan a day in progress (a job)",
    responses={**_LOCATION, **error_responses(403, 404, 409, 422)},
)
def replan(
    plan_id: Int64,
    request: Request,
    response: Response,
    _caller: PlannerDep,
    session: SessionDep,
    options: Annotated[ReplanRequest | None, Body()] = None,
) -> PlanJobPublic:
    """Queue a re-plan of the current plan ``plan_id``: dispatched stops stay in place, new
    orders are added; 404 for an unknown plan, 409 when it is not the day's current plan."""
    options = options or ReplanRequest()
    job = submit_replan(
        session, plan_id, limits=Limits(time_limit=options.time_limit_s), seed=options.seed
    )
    return _accepted(request, response, session, _choice(session, job, options.make_current))


def _choice(session: SessionDep, job: Plan, make_current: str) -> Plan:
    """The queued job with the request's ``make_current`` (read by the planner when it runs)."""
    job.stats = {**job.stats, "make_current": make_current}
    session.add(job)
    session.commit()
    session.refresh(job)
    return job


@router.post(
    "/{plan_id}/current",
    summary="Make a plan kept aside the day's current plan",
    responses=error_responses(403, 404, 409, 422),
)
def choose(plan_id: Int64, _caller: PlannerDep, session: SessionDep) -> PlanPublic:
    """The planner's choice: a plan that was not made current because it was worse than the
    day's current plan (``stats.comparison.made_current`` false) becomes current, its orders
    planned on it; 404 for an unknown plan, 409 when it was not kept aside, the day was
    re-planned since, or a route was dispatched since (re-plan then)."""
    plan = make_current(session, plan_id)
    return in_zone(PlanPublic.model_validate(plan), Zones(session).depot(plan.depot_id))


@router.get(
    "",
    summary="List a depot's plans of a day",
    responses=error_responses(403, 422),
)
def read_all(
    _caller: StaffDep,
    session: SessionDep,
    depot_id: Annotated[Int64, Query(description="The depot.")],
    service_day: Annotated[Day, Query(description="The depot's local date.")],
    plan_status: Annotated[
        PlanStatus | None, Query(alias="status", description="Only plans of this status.")
    ] = None,
    offset: Annotated[Int64, Query(ge=0)] = 0,
    limit: Annotated[Int64, Query(ge=1, le=1_000)] = 100,
) -> list[PlanListed]:
    """The depot's plans of the day, newest first; ``current`` marks the day's current plan
    and ``job_status`` each plan's job. 422 for an unknown depot."""
    if session.get(Depot, depot_id) is None:
        raise InvalidInput(("query", "depot_id"), f"no depot {depot_id} — check the depot id")
    plans = day_plans(
        session, depot_id, service_day, status=plan_status, offset=offset, limit=limit
    )
    listed = [
        PlanListed.model_validate(
            plan,
            update={
                "current": plan.status is PlanStatus.CURRENT,
                "job_status": job_state(plan),
                "progress": job_progress(plan),
            },
        )
        for plan in plans
    ]
    return in_zone(listed, Zones(session).depot(depot_id))


@router.get(
    "/{plan_id}",
    summary="A plan job's status, progress and result",
    responses=error_responses(403, 404, 422),
)
def read(plan_id: Int64, _caller: StaffDep, session: SessionDep) -> PlanJobPublic:
    """The plan as a job: status, progress and, once finished, the plan and its unserved
    orders; a failed job carries its error."""
    return _job_public(session, _plan(session, plan_id))


def _routes(session: SessionDep, plan: Plan) -> tuple[PlanRoutes, dict[str, Any]]:
    assert plan.id is not None
    depot = session.get(Depot, plan.depot_id)
    assert depot is not None
    routes_out: list[RouteOut] = []
    geo_routes = []
    for route in plan_routes(session, plan.id):
        assert route.id is not None
        stops = stops_with_places(session, route.id)
        fleet = session.get(Fleet, route.fleet_id)
        geo_routes.append((route, bool(fleet and fleet.open_route), stops))
        routes_out.append(
            RouteOut.model_validate(
                route,
                update={
                    "stops": [
                        StopOut.model_validate(
                            stop,
                            update={
                                "location": None
                                if place is None
                                else [round(place.lon, 6), round(place.lat, 6)]
                            },
                        )
                        for stop, place in stops
                    ]
                },
            )
        )
    unserved = unserved_with_places(session, plan.id)
    body = PlanRoutes(
        plan=PlanPublic.model_validate(plan),
        routes=routes_out,
        unserved=[UnservedOrderPublic.model_validate(u) for u, _ in unserved],
    )
    return body, plan_geojson(plan, depot, geo_routes, unserved)


_GEOJSON_CONTENT = {GEOJSON_MEDIA_TYPE: {"schema": {"type": "object"}, "example": _GEOJSON_EXAMPLE}}


@router.get(
    "/{plan_id}/routes",
    summary="A plan's routes (JSON; GeoJSON, CSV or .xlsx by Accept)",
    responses={
        200: {"content": {**_GEOJSON_CONTENT, **EXPORT_CONTENT}},
        **error_responses(403, 404, 406, 409, 422),
    },
    response_model=PlanRoutes,
)
def routes(
    plan_id: Int64,
    _caller: StaffDep,
    session: SessionDep,
    accept: Annotated[str | None, Header()] = None,
) -> Any:
    """Routes with per-stop ETAs (``arrival_at``), loads, metres, CO2 and cost, and the
    unserved orders with their reasons; ``Accept: application/geo+json`` gives GeoJSON,
    ``text/csv`` and the ``.xlsx`` type what ``routes.csv`` and ``routes.xlsx`` give
    (:mod:`api.routes.plan_exports`); 406 for an ``Accept`` none of these meets."""
    media_type = negotiate(accept)
    if media_type in EXPORT_MEDIA_TYPES:
        return export(session, plan_id, media_type)
    body, geojson = _routes(session, _finished_plan(session, plan_id))
    if media_type == GEOJSON_MEDIA_TYPE:
        return GeoJSONResponse(geojson)
    return in_zone(body, Zones(session).depot(body.plan.depot_id))


@router.get(
    "/{plan_id}/routes.geojson",
    summary="A plan's routes as GeoJSON",
    responses={
        200: {"content": _GEOJSON_CONTENT},
        **error_responses(401, 403, 404, 409, 422, non_json_route=True),
    },
    response_class=GeoJSONResponse,
)
def routes_geojson(
    plan_id: Int64, request: Request, _caller: StaffDep, session: SessionDep
) -> GeoJSONResponse:
    """The plan as an RFC 7946 ``FeatureCollection`` (coordinates ``[lon, lat]``, times in the
    depot's zone with its offset, a ``colour`` per route); when the app plans on a road graph
    the route lines follow the streets the plan was timed on."""
    plan = _finished_plan(session, plan_id)
    _, geojson = _routes(session, plan)
    return GeoJSONResponse(_along_streets(request, session, plan, geojson))


def _along_streets(
    request: Request, session: SessionDep, plan: Plan, geojson: dict[str, Any]
) -> dict[str, Any]:
    """``geojson`` with its route lines along the app's streets (:class:`api.geo.RouteLines`,
    kept per plan id); as it is when the app plans on straight lines."""
    lines = route_lines(request.app)
    if lines is None:
        return geojson
    assert plan.id is not None
    profiles = {f.id: vt.profile for f, vt in depot_fleets(session, plan.depot_id)}
    by_route = {r.id: profiles.get(r.fleet_id, "car") for r in plan_routes(session, plan.id)}
    return lines.draw(plan.id, geojson, {k: v for k, v in by_route.items() if k is not None})
