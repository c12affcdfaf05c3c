"""``/simulations``: the what-if simulator as a job, for analysts.

``POST /simulations`` takes a scenario (the JSON form of a scenario file, see
:func:`simulation.scenario_json_schema`) or the name of a shipped example, and optional sweep
axes; it answers 202 with the job's id and a ``Location``. The run happens in a process of
its own beside the server (:class:`api.runtime.jobs.SimulationJobs`; the simulator plans with the
solvers, which hold the GIL), so the server keeps answering. ``GET /simulations/{id}`` shows
the status (queued, running, succeeded, failed), the progress (points of a sweep done) and,
once done, the KPIs of every scenario; ``/simulations/{id}/report.html``, ``/report.csv``,
``/report.json``, ``/report.parquet`` and ``/plots/{name}.png`` serve the files
:mod:`api.runtime.simulation_runs` wrote.

Jobs are kept **in the store** (:mod:`orchestrator.jobs.simulations`, table
``simulation_jobs``) and their files in a folder of their own under the lasting simulations
folder (``LASTMILE_SIMULATIONS_DIR``, default ``./var/simulations``). So any process of
``lastmile serve --workers N`` answers for any job, whichever process took it, and a
restart loses nothing: jobs a stopped server left queued or running are resumed by the next
one, a sweep from the points it had finished (they are cached in the job's folder).

Scenarios with a ``graphml`` city are refused, in the scenario and in every point of a sweep
(an axis may set ``city``): the path would name a file on the server
(:meth:`simulation.scenario.Scenario.server_files`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Request, Response, status
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse
from pydantic import BaseModel, Field, model_validator
from sqlmodel import Session

from api.deps import CARRIER, Caller, SessionDep, require_role
from api.errors import error_responses
from api.runtime.jobs import SimulationJobs
from api.runtime.simulation_runs import KPI_COLUMNS, PLOTS
from orchestrator.errors import Conflict, InvalidInput, NotFound
from orchestrator.jobs.simulations import create_job, get_job
from orchestrator.models import Int64, Role, Simulation, SimulationStatus

__all__ = ["EXAMPLES_DIR", "SimulationJob", "SimulationRequest", "router"]

AnalystDep = Annotated[Caller, Depends(require_role(Role.ANALYST, Role.ADMIN))]

router = APIRouter(
    prefix="/simulations",
    tags=["simulations"],
    responses=error_responses(401, 403),
    dependencies=[CARRIER],  # the carrier's own resources: a retailer's key is 403
)

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples" / "scenarios"
"""The shipped example scenarios (``POST /simulations`` with ``{"example": NAME}``)."""

_MAX_POINTS = 64
_LOCATION: dict[int | str, dict[str, Any]] = {
    202: {"headers": {"Location": {"description": "Where to poll the job."}}}
}
_TINY: dict[str, Any] = {
    "name": "tiny",
    "city": {"kind": "synthetic", "seed": 3, "blocks": 6},
    "demand": {"orders_per_day": 40},
    "fleet": {"hubs": [{"name": "hub", "vehicles": {"van": 1, "robot": 2}}]},
    "replications": 1,
}
_KPIS_EXAMPLE: dict[str, Any] = {
    "label": "robot=2",
    "delivered": 34.0,
    "on_time_share": 0.795,
    "first_attempt_success": 0.912,
    "cost_per_parcel": 7.11,
    "co2_g_per_parcel": 39.3,
    "km": 28.1,
    "utilisation": 0.0987,
    "unserved": 6.0,
}


class SimulationRequest(BaseModel):
    """A scenario (or a shipped example) and, for a sweep, the axes to vary."""

    scenario: dict[str, Any] | None = Field(
        default=None,
        description="A scenario in the JSON form of a scenario file (the same fields, units "
        "and checks as `simulation.scenario_json_schema()`); give this or `example`.",
    )
    example: str | None = Field(
        default=None,
        description="Name of a shipped example scenario (a file of examples/scenarios without "
        "`.toml`, e.g. `sparse_suburb`); give this or `scenario`.",
    )
    axes: dict[str, list[Any]] = Field(
        default_factory=dict,
        description="Sweep axes: a dotted path of the scenario and its values "
        '(`{"fleet.hubs.0.vehicles.robot": [0, 4]}`); empty runs the scenario alone. At most '
        f"{_MAX_POINTS} combinations.",
    )
    seed: int | None = Field(default=None, ge=0, description="Seed (default: the scenario's).")

    model_config = {
        "extra": "forbid",
        "json_schema_extra": {
            "examples": [
                {"scenario": _TINY, "axes": {"fleet.hubs.0.vehicles.robot": [0, 2]}, "seed": 7},
                {"example": "sparse_suburb", "axes": {}, "seed": None},
            ]
        },
    }

    @model_validator(mode="after")
    def _one_source(self) -> SimulationRequest:
        if (self.scenario is None) == (self.example is None):
            raise ValueError("give either scenario or example (one of them)")
        return self


JobState = Literal["queued", "running", "succeeded", "failed"]


class SimulationJob(BaseModel):
    """A simulation job: its state, progress and, once done, the KPIs of every scenario."""

    id: int = Field(description="The job's id.")
    status: JobState
    progress: float = Field(ge=0, le=1, description="Share of the scenarios (sweep points) done.")
    scenario: str = Field(description="The scenario's name.")
    points: int = Field(description="Scenarios run: 1, or the sweep's combinations.")
    replications: int = Field(description="Replications per scenario.")
    created_at: datetime = Field(description="When the job was submitted.")
    finished_at: datetime | None = None
    kpis: list[dict[str, Any]] = Field(
        default_factory=list,
        description=f"Once succeeded: per scenario its label and the means of {list(KPI_COLUMNS)}"
        " (shares 0-1, EUR, grams CO2, km).",
    )
    files: dict[str, str] = Field(
        default_factory=dict, description="Once succeeded: where the report and plots are."
    )
    error: str | None = Field(default=None, description="Why the job failed.")

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "id": 1,
                    "status": "succeeded",
                    "progress": 1.0,
                    "scenario": "tiny",
                    "points": 1,
                    "replications": 1,
                    "created_at": "2026-03-02T08:00:00Z",
                    "finished_at": "2026-03-02T08:00:03Z",
                    "kpis": [_KPIS_EXAMPLE],
                    "files": {
                        "report.html": "/simulations/1/report.html",
                        "report.csv": "/simulations/1/report.csv",
                        "report.json": "/simulations/1/report.json",
                        "report.parquet": "/simulations/1/report.parquet",
                        "cost_co2": "/simulations/1/plots/cost_co2.png",
                    },
                    "error": None,
                }
            ]
        }
    }


def _runner(request: Request) -> SimulationJobs:
    runner: SimulationJobs = request.app.state.simulations
    return runner


def _job(session: Session, simulation_id: Int64) -> Simulation:
    job = get_job(session, simulation_id)
    if job is None:
        raise NotFound("simulation", simulation_id)
    return job


def _public(job: Simulation, root: Path) -> SimulationJob:
    assert job.id is not None
    folder = root / job.folder
    kpis: list[dict[str, Any]] = []
    files: dict[str, str] = {}
    state = SimulationStatus(job.status)
    if state in (SimulationStatus.QUEUED, SimulationStatus.RUNNING):
        # A sweep caches each point as it ends (a resumed job starts from the ones done).
        done = len(list((folder / "cache").glob("*.json"))) if job.points > 1 else 0
        progress = min(done / job.points, 0.99)
    else:
        progress = 1.0
    if state is SimulationStatus.SUCCEEDED:
        kpis = list(job.kpis or [])
        base = f"/simulations/{job.id}"
        reports = ("report.html", "report.csv", "report.json", "report.parquet")
        files = {name: f"{base}/{name}" for name in reports if (folder / name).exists()}
        files |= {name: f"{base}/plots/{name}.png" for name in PLOTS}
    return SimulationJob(
        id=job.id,
        status=state.value,
        progress=round(progress, 3),
        scenario=job.scenario,
        points=job.points,
        replications=job.replications,
        created_at=job.created_at,
        finished_at=job.finished_at,
        kpis=kpis,
        files=files,
        error=job.error if state is SimulationStatus.FAILED else None,
    )


def _load(body: SimulationRequest) -> Any:
    """The validated scenario of the request; :class:`InvalidInput` naming the field."""
    from simulation import ScenarioError, load_scenario
    from simulation.scenario import Scenario
    from simulation.sweep import grid

    try:
        if body.example is not None:
            names = sorted(p.stem for p in EXAMPLES_DIR.glob("*.toml"))
            if body.example not in names:
                raise InvalidInput(
                    "example", f"unknown example {body.example!r} — use one of {names}"
                )
            scenario = load_scenario(EXAMPLES_DIR / f"{body.example}.toml")
        else:
            assert body.scenario is not None
            city = body.scenario.get("city")
            if isinstance(city, dict) and city.get("kind") == "graphml":
                raise InvalidInput(("scenario", "city", "kind"), f"is {_SERVER_FILE}")
            scenario = Scenario.from_dict(body.scenario)
    except ScenarioError as exc:
        raise InvalidInput(("scenario", *exc.field.split(".")) if exc.field else "scenario",
                           exc.message) from None  # fmt: skip
    points = 1
    for values in body.axes.values():
        points *= max(len(values), 1)
    if points > _MAX_POINTS:
        raise InvalidInput("axes", f"{points} combinations — give at most {_MAX_POINTS}")
    try:
        sweep_points = grid(scenario, body.axes)  # every point validates before the job is queued
    except ScenarioError as exc:
        raise InvalidInput(("axes", exc.field), exc.message) from None
    for point in sweep_points:  # the axes may name a file as well as the scenario
        if point.scenario.server_files():
            axis = _axis_of(point.changes)
            raise InvalidInput(("axes", axis), f"a value of this axis sets {_SERVER_FILE}")
    return scenario


_SERVER_FILE = (
    "a graphml city, whose path names a file on the server — use 'synthetic' or 'helsinki' "
    "over the API (or `lastmile simulate` with your file)"
)


def _axis_of(changes: Mapping[str, Any]) -> str:
    """The axis of a sweep point that brings in a city read from a file."""
    return next((axis for axis in changes if axis.split(".")[0] == "city"), next(iter(changes)))


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Run a what-if scenario or a sweep (a job)",
    responses={**_LOCATION, **error_responses(403, 422)},
)
def create(
    request: Request,
    response: Response,
    session: SessionDep,
    _caller: AnalystDep,
    body: Annotated[SimulationRequest, Body()],
) -> SimulationJob:
    """Queue a simulation of the scenario (or of a shipped example), or of every combination
    of the sweep axes; answers at once with the job. 422 names the scenario field or axis
    that is wrong and what to put there; only analyst and admin keys may simulate."""
    scenario = _load(body)
    points = 1
    for values in body.axes.values():
        points *= len(values)
    job = create_job(
        session,
        scenario=scenario.name,
        # Axes as pairs: their order orders the sweep's points, whatever the JSON column.
        request={
            "scenario": scenario.model_dump(mode="json"),
            "axes": [[path, list(values)] for path, values in body.axes.items()],
            "seed": body.seed,
        },
        points=points,
        replications=scenario.replications,
    )
    assert job.id is not None
    runner = _runner(request)
    runner.enqueue(job.id)
    response.headers["Location"] = f"/simulations/{job.id}"
    return _public(job, runner.root)


@router.get(
    "/{simulation_id}",
    summary="A simulation job's status, progress and KPIs",
    responses=error_responses(403, 404, 422),
)
def read(
    simulation_id: Int64, request: Request, session: SessionDep, _caller: AnalystDep
) -> SimulationJob:
    """The job: ``queued``, ``running`` (with the share of sweep points done), ``succeeded``
    (with the KPIs of every scenario and the links to its files) or ``failed`` (with why)."""
    return _public(_job(session, simulation_id), _runner(request).root)


def _file(request: Request, session: Session, simulation_id: Int64, relative: str) -> Path:
    job = _job(session, simulation_id)
    if job.status is SimulationStatus.FAILED:
        raise Conflict(f"simulation {simulation_id} failed, so it has no report — see "
                       f"GET /simulations/{simulation_id} for why")  # fmt: skip
    if job.status is not SimulationStatus.SUCCEEDED:
        raise Conflict(f"simulation {simulation_id} has not finished — poll "
                       f"GET /simulations/{simulation_id} until it succeeds")  # fmt: skip
    return _runner(request).root / job.folder / relative


class _CSVResponse(PlainTextResponse):
    media_type = "text/csv"


_Responses = dict[int | str, dict[str, Any]]  # the OpenAPI ``responses`` of a route
_HTML: _Responses = {200: {"content": {"text/html": {"example": "<!doctype html><html>…</html>"}}}}
_CSV: _Responses = {
    200: {"content": {"text/csv": {"example": "label,robot,delivered\nrobot=2,2,34.0\n"}}}
}
_PARQUET_TYPE = "application/vnd.apache.parquet"
_PARQUET: _Responses = {200: {"content": {_PARQUET_TYPE: {"example": "(Parquet bytes)"}}}}
_PNG: _Responses = {200: {"content": {"image/png": {"example": "(PNG bytes)"}}}}
_JSON: _Responses = {
    200: {"content": {"application/json": {"example": {"scenario": "tiny", "seed": 7}}}}
}
_FILE_ERRORS = error_responses(401, 403, 404, 409, 422, non_json_route=True)


@router.get(
    "/{simulation_id}/report.html",
    summary="The self-contained HTML report",
    response_class=HTMLResponse,
    responses={**_HTML, **_FILE_ERRORS},
)
def report_html(
    simulation_id: Int64, request: Request, session: SessionDep, _caller: AnalystDep
) -> FileResponse:
    """One page with the plots (cost vs CO2 per parcel with the Pareto front, on-time share,
    utilisation) and the KPI table with 95 % CIs; 409 until the job has succeeded."""
    return FileResponse(
        _file(request, session, simulation_id, "report.html"), media_type="text/html"
    )


@router.get(
    "/{simulation_id}/report.csv",
    summary="The KPI table as CSV",
    response_class=_CSVResponse,
    responses={**_CSV, **_FILE_ERRORS},
)
def report_csv(
    simulation_id: Int64, request: Request, session: SessionDep, _caller: AnalystDep
) -> FileResponse:
    """One scenario: a row per replication and vehicle type; a sweep: a row per scenario
    with the means and 95 % CIs of the summary KPIs. 409 until the job has succeeded."""
    return FileResponse(_file(request, session, simulation_id, "report.csv"), media_type="text/csv")


@router.get(
    "/{simulation_id}/report.parquet",
    summary="The KPI table as Parquet",
    response_class=FileResponse,
    responses={**_PARQUET, **_FILE_ERRORS},
)
def report_parquet(
    simulation_id: Int64, request: Request, session: SessionDep, _caller: AnalystDep
) -> FileResponse:
    """The rows and columns of ``report.csv``, typed, for pandas, Polars, DuckDB or Spark;
    409 until the job has succeeded."""
    path = _file(request, session, simulation_id, "report.parquet")
    return FileResponse(path, media_type=_PARQUET_TYPE)


@router.get(
    "/{simulation_id}/report.json",
    summary="The full report as JSON",
    responses={**_JSON, **_FILE_ERRORS},
)
def report_json(
    simulation_id: Int64, request: Request, session: SessionDep, _caller: AnalystDep
) -> FileResponse:
    """The report as ``lastmile simulate`` writes it (same scenario and seed, same bytes);
    409 until the job has succeeded."""
    path = _file(request, session, simulation_id, "report.json")
    return FileResponse(path, media_type="application/json")


@router.get(
    "/{simulation_id}/plots/{name}.png",
    summary="One plot as PNG",
    response_class=FileResponse,
    responses={**_PNG, **_FILE_ERRORS},
)
def plot(
    simulation_id: Int64, name: str, request: Request, session: SessionDep, _caller: AnalystDep
) -> FileResponse:
    """``cost_co2`` (cost vs CO2 per parcel, Pareto front), ``on_time`` or ``utilisation``;
    404 for another name, 409 until the job has succeeded."""
    if name not in PLOTS:
        raise NotFound("plot", name)
    return FileResponse(
        _file(request, session, simulation_id, f"plots/{name}.png"), media_type="image/png"
    )
