"""``/plans``: solving a depot's day is a job.

``POST /plans`` answers 202 with a job id (``job_...``) and a ``Location`` to poll;
``GET /plans/{id}`` shows the job's status, progress and — once done — the plan. ``{id}`` is
either a job id or a stored plan's integer id (a stored plan shows as a finished job), and
so is the ``{id}`` of ``/plans/{id}/routes`` (JSON; GeoJSON with
``Accept: application/geo+json``) and ``/plans/{id}/routes.geojson``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.deps import PlannerDep, SessionDep, StaffDep
from api.geo import GEOJSON_MEDIA_TYPE, plan_geojson
from api.jobs import JOB_PREFIX, JobState, PlanJob, PlanJobs
from orchestrator.errors import Conflict, InvalidInput, NotFound
from orchestrator.models import (
    Depot,
    Fleet,
    Plan,
    PlanPublic,
    PlanStatus,
    RoutePublic,
    RouteStopPublic,
    UnservedOrderPublic,
)
from orchestrator.planning import plan_routes, plan_unserved
from orchestrator.queries import stops_with_places, unserved_with_places
from routing.solve import Limits

__all__ = ["PlanJobPublic", "PlanRequest", "PlanRoutes", "ReplanRequest", "router"]

router = APIRouter(prefix="/plans", tags=["plans"])


class ReplanRequest(BaseModel):
    """How long to search, and the seed."""

    time_limit_s: float = Field(
        default=10.0, gt=0, le=600, description="Solver time limit, seconds."
    )
    seed: int = Field(default=0, ge=0, description="Same data and seed, same plan.")

    model_config = {"json_schema_extra": {"examples": [{"time_limit_s": 5, "seed": 0}]}}


class PlanRequest(ReplanRequest):
    """Plan a depot's service day from its open orders."""

    depot_id: int = Field(description="The depot whose day is planned.")
    service_day: date = Field(description="The depot's local date.")

    model_config = {
        "json_schema_extra": {
            "examples": [
                {"depot_id": 1, "service_day": "2025-03-03", "time_limit_s": 10, "seed": 0}
            ]
        }
    }


class PlanJobPublic(BaseModel):
    """A plan job: its state and, once it succeeded, the plan."""

    id: str = Field(description="Job id (``job_...``) or the stored plan's id.")
    status: JobState
    progress: float = Field(ge=0, le=1, description="Estimated share done.")
    depot_id: int
    service_day: date
    replan_of_id: int | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    plan_id: int | None = Field(default=None, description="The plan made (or the failed one).")
    plan: PlanPublic | None = None
    unserved: list[UnservedOrderPublic] = []
    error: str | None = None


class StopOut(RouteStopPublic):
    """A stop with where it is."""

    location: list[float] | None = Field(description="``[lon, lat]`` of the delivery place.")


class RouteOut(RoutePublic):
    """A route with its stops in visiting order."""

    stops: list[StopOut]


class PlanRoutes(BaseModel):
    """A plan's routes (ETAs per stop, loads, metres, CO2 grams, cost EUR) and unserved orders."""

    plan: PlanPublic
    routes: list[RouteOut]
    unserved: list[UnservedOrderPublic]


def _jobs(request: Request) -> PlanJobs:
    jobs: PlanJobs = request.app.state.jobs
    return jobs


def _job_public(session: SessionDep, job: PlanJob) -> PlanJobPublic:
    plan = session.get(Plan, job.plan_id) if job.plan_id is not None else None
    return PlanJobPublic(
        id=job.id,
        status=job.state,
        progress=job.progress(),
        depot_id=job.depot_id,
        service_day=job.service_day,
        replan_of_id=job.replan_of_id,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        plan_id=job.plan_id,
        plan=PlanPublic.model_validate(plan) if plan is not None else None,
        unserved=_unserved(session, plan),
        error=job.error,
    )


def _unserved(session: SessionDep, plan: Plan | None) -> list[UnservedOrderPublic]:
    if plan is None or plan.id is None:
        return []
    return [UnservedOrderPublic.model_validate(u) for u in plan_unserved(session, plan.id)]


def _plan_as_job(session: SessionDep, plan: Plan) -> PlanJobPublic:
    failed = plan.status is PlanStatus.FAILED
    return PlanJobPublic(
        id=str(plan.id),
        status=JobState.FAILED if failed else JobState.SUCCEEDED,
        progress=1.0,
        depot_id=plan.depot_id,
        service_day=plan.service_day,
        replan_of_id=plan.replan_of_id,
        created_at=plan.created_at,
        plan_id=plan.id,
        plan=PlanPublic.model_validate(plan),
        unserved=_unserved(session, plan),
        error=plan.error,
    )


def _accepted(response: Response, job: PlanJob, session: SessionDep) -> PlanJobPublic:
    response.headers["Location"] = f"/plans/{job.id}"
    return _job_public(session, job)


def _stored_plan(request: Request, session: SessionDep, plan_ref: str) -> Plan:
    """The stored plan ``plan_ref`` names (a plan id, or a finished job's id)."""
    if plan_ref.startswith(JOB_PREFIX):
        job = _jobs(request).get(plan_ref)
        if job is None:
            raise NotFound("plan job", plan_ref)
        if job.plan_id is None:
            raise Conflict(
                f"plan job {plan_ref} is {job.state.value} and has no plan yet — poll "
                f"GET /plans/{plan_ref} until it succeeds"
            )
        plan_id = job.plan_id
    elif plan_ref.isdigit():
        plan_id = int(plan_ref)
    else:
        raise NotFound("plan", plan_ref)
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFound("plan", plan_ref)
    return plan


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Plan a depot's day (a job)",
    responses={202: {"headers": {"Location": {"description": "Where to poll the job."}}}},
)
def create(
    request: Request,
    response: Response,
    _caller: PlannerDep,
    session: SessionDep,
    plan: Annotated[PlanRequest, Body()],
) -> PlanJobPublic:
    """Queue a plan of the depot's open orders for the day; answers at once with the job.

    The new plan becomes the day's current plan when the solve succeeds; a failed solve
    leaves the previous plan current and the job ``failed`` with the error.
    """
    if session.get(Depot, plan.depot_id) is None:
        raise InvalidInput("depot_id", f"no depot {plan.depot_id} — check the depot id")
    job = _jobs(request).submit(
        plan.depot_id, plan.service_day, Limits(time_limit=plan.time_limit_s), seed=plan.seed
    )
    return _accepted(response, job, session)


@router.post(
    "/{plan_id}/replan",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Re-plan a day in progress (a job)",
)
def replan(
    plan_id: int,
    request: Request,
    response: Response,
    _caller: PlannerDep,
    session: SessionDep,
    options: Annotated[ReplanRequest | None, Body()] = None,
) -> PlanJobPublic:
    """Queue a re-plan of the current plan ``plan_id``: dispatched stops stay in place, new
    orders are added; 404 for an unknown plan, 409 when it is no longer current."""
    options = options or ReplanRequest()
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFound("plan", plan_id)
    if plan.status is not PlanStatus.CURRENT:
        raise Conflict(
            f"plan {plan_id} is {plan.status.value}, not current — re-plan the day's current plan"
        )
    job = _jobs(request).submit(
        plan.depot_id,
        plan.service_day,
        Limits(time_limit=options.time_limit_s),
        seed=options.seed,
        replan_of_id=plan_id,
    )
    return _accepted(response, job, session)


@router.get("/{plan_ref}", summary="A plan job's status, progress and result")
def read(plan_ref: str, request: Request, _caller: StaffDep, session: SessionDep) -> PlanJobPublic:
    """The job (``job_...``) or the stored plan (integer id) with its status and result."""
    if plan_ref.startswith(JOB_PREFIX):
        job = _jobs(request).get(plan_ref)
        if job is None:
            raise NotFound("plan job", plan_ref)
        return _job_public(session, job)
    return _plan_as_job(session, _stored_plan(request, session, plan_ref))


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


_GEOJSON_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {GEOJSON_MEDIA_TYPE: {"schema": {"type": "object"}}}}
}


@router.get(
    "/{plan_ref}/routes",
    summary="A plan's routes (JSON, or GeoJSON by Accept)",
    responses=_GEOJSON_RESPONSE,
    response_model=PlanRoutes,
)
def routes(
    plan_ref: str,
    request: Request,
    _caller: StaffDep,
    session: SessionDep,
    accept: Annotated[str | None, Header()] = None,
) -> Any:
    """Routes with per-stop ETAs (``arrival_at``), loads, metres, CO2 and cost, and the
    unserved orders with their reasons; ``Accept: application/geo+json`` gives GeoJSON."""
    body, geojson = _routes(session, _stored_plan(request, session, plan_ref))
    if accept and GEOJSON_MEDIA_TYPE in accept:
        return JSONResponse(geojson, media_type=GEOJSON_MEDIA_TYPE)
    return body


@router.get(
    "/{plan_ref}/routes.geojson",
    summary="A plan's routes as GeoJSON",
    responses=_GEOJSON_RESPONSE,
    response_class=JSONResponse,
)
def routes_geojson(
    plan_ref: str, request: Request, _caller: StaffDep, session: SessionDep
) -> JSONResponse:
    """The plan as an RFC 7946 ``FeatureCollection`` (coordinates ``[lon, lat]``)."""
    _, geojson = _routes(session, _stored_plan(request, session, plan_ref))
    return JSONResponse(geojson, media_type=GEOJSON_MEDIA_TYPE)
