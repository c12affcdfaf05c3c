"""``POST /solve/vroom``: a standalone problem in VROOM's JSON format, answered in VROOM's.

Users of VROOM, openrouteservice and Fleetbase switch by changing a URL. The supported subset
and the choices made are documented in :mod:`orchestrator.vroom.format`; an invalid or unsupported
input is a 422 naming the field (``jobs[3].time_windows[0]``) with VROOM's ``code`` 2.

The answer comes in the response, as VROOM's clients expect, but the solve runs in a worker
process (:class:`api.runtime.jobs.SolverPool`, two at a time; more requests wait their turn): the
server keeps answering meanwhile. ``time_limit`` bounds the search like VROOM's
``-l``/``--limit``: :data:`DEFAULT_TIME_LIMIT_S` by default, :data:`MAX_TIME_LIMIT_S` at most.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request

from api.deps import PlannerDep
from api.errors import error_responses
from api.runtime.jobs import SolverPool
from orchestrator.models import Int64
from orchestrator.vroom import solve_vroom
from routing.solve import Limits

__all__ = [
    "DEADLINE_MARGIN_S",
    "DEADLINE_SHARE",
    "DEFAULT_TIME_LIMIT_S",
    "EXAMPLE",
    "MAX_TIME_LIMIT_S",
    "OUTPUT_EXAMPLE",
    "deadline",
    "router",
]

DEFAULT_TIME_LIMIT_S = 5.0
"""Search time of a request that names none, seconds."""
MAX_TIME_LIMIT_S = 60.0
"""Longest search a request may ask for, seconds (HTTP clients and proxies often give up
after a minute; plan longer days as jobs with ``POST /plans``)."""

DEADLINE_SHARE = 1.25
"""The search may overrun its limit by this factor before it is stopped (large problems are
solved zone by zone, and a zone's search ends between moves, not on the dot)."""
DEADLINE_MARGIN_S = 3.0
"""Seconds added to every deadline: parsing, matrices, the answer, and a busy machine."""

router = APIRouter(prefix="/solve", tags=["solve"])


def _step(
    kind: str,
    arrival: int,
    duration: int,
    location: list[float],
    load: int,
    distance: int,
    *,
    service: int = 0,
    job: int | None = None,
) -> dict[str, Any]:
    """One step of a route in VROOM's output (for the documented example)."""
    ids = {} if job is None else {"id": job, "job": job}
    return {
        "type": kind,
        "arrival": arrival,
        "duration": duration,
        "location": location,
        **ids,
        "setup": 0,
        "service": service,
        "waiting_time": 0,
        "load": [load],
        "distance": distance,
        "violations": [],
    }


EXAMPLE: dict[str, Any] = {
    "vehicles": [
        {
            "id": 1,
            "profile": "car",
            "start": [24.9384, 60.1699],
            "end": [24.9384, 60.1699],
            "capacity": [10],
            "time_window": [28_800, 64_800],
        }
    ],
    "jobs": [
        {"id": 1, "location": [24.9310, 60.1755], "service": 300, "delivery": [2]},
        {
            "id": 2,
            "location": [24.9460, 60.1640],
            "service": 300,
            "delivery": [1],
            "time_windows": [[32_400, 39_600]],
        },
        {"id": 3, "location": [24.9520, 60.1710], "service": 180, "delivery": [3]},
    ],
}
"""Three deliveries in central Helsinki for one van; coordinates are ``[lon, lat]``."""

OUTPUT_EXAMPLE: dict[str, Any] = {
    "code": 0,
    "summary": {
        "cost": 428,
        "routes": 1,
        "unassigned": 0,
        "setup": 0,
        "service": 780,
        "duration": 428,
        "waiting_time": 0,
        "priority": 0,
        "violations": [],
        "delivery": [6],
        "amount": [6],
        "pickup": [0],
        "computing_times": {"loading": 1, "solving": 1009},
        "distance": 4726,
    },
    "unassigned": [],
    "routes": [
        {
            "vehicle": 1,
            "cost": 428,
            "setup": 0,
            "service": 780,
            "duration": 428,
            "waiting_time": 0,
            "priority": 0,
            "delivery": [6],
            "amount": [6],
            "pickup": [0],
            "violations": [],
            "steps": [
                _step("start", 31_584, 0, [24.9384, 60.1699], 6, 0),
                _step("job", 31_672, 88, [24.9310, 60.1755], 4, 969, service=300, job=1),
                _step("job", 32_120, 236, [24.9520, 60.1710], 1, 2613, service=180, job=3),
                _step("job", 32_400, 336, [24.9460, 60.1640], 0, 3713, service=300, job=2),
                _step("end", 32_792, 428, [24.9384, 60.1699], 0, 4726),
            ],
            "distance": 4726,
        }
    ],
    "notes": [
        "no matrices given: straight-line travel computed from coordinates (great-circle "
        "distance x 1.3, speeds in km/h: car 40)"
    ],
}
"""lastmile's answer to :data:`EXAMPLE` with a one-second search (VROOM's output format)."""

_DESCRIPTION = (
    "Solve a problem given in [VROOM's input format](https://github.com/VROOM-Project/vroom/"
    "blob/master/docs/API.md) and answer in VROOM's output format.\n\n"
    "Supported: `jobs` (delivery/pickup/amount, service, setup, skills, priority, several "
    "`time_windows`), `shipments`, `vehicles` (start/end or indices, capacity, skills, "
    "time_window, breaks, costs, speed_factor, max_tasks, max_travel_time, max_distance), "
    "`matrices` per profile (durations, distances, costs) or `location` coordinates "
    "(`[lon, lat]`; lastmile then computes straight-line matrices). Each `unassigned` entry "
    "carries a `reason` and a `detail` (our extension); `notes` lists what was ignored or "
    "approximated.\n\n"
    "Rejected with a 422 naming the field: `service_per_type`, `setup_per_type`, break "
    "`max_load`, a job with both `delivery` and `pickup`, matrices missing for a profile in "
    "use. Times are seconds, distances metres.\n\n"
    f"`time_limit` bounds the search like VROOM's `-l`: {DEFAULT_TIME_LIMIT_S:g} s by default, "
    f"at most {MAX_TIME_LIMIT_S:g} s. The answer arrives after about that long (the first "
    "request also starts a solver process, about a second); the solve runs in a worker "
    "process, two at a time, so the server keeps answering meanwhile.\n\n"
    f"A solve still running {DEADLINE_SHARE:g} x `time_limit` + {DEADLINE_MARGIN_S:g} s "
    "after it started, one that needs more memory than a solver process may use, or one "
    "that finds every solver busy with others already waiting is stopped and answered 503 "
    "with `Retry-After`; a solve whose client disconnects is stopped."
)


@router.post(
    "/vroom",
    summary="Solve a VROOM problem (VROOM JSON in, VROOM JSON out)",
    description=_DESCRIPTION,
    responses={
        200: {
            "description": "VROOM's output; `unassigned` entries carry `reason` and `detail`.",
            "content": {"application/json": {"example": OUTPUT_EXAMPLE}},
        },
        **error_responses(401, 403, 503),
        **error_responses(422, vroom=True),
    },
)
async def solve(
    request: Request,
    _caller: PlannerDep,
    problem: Annotated[
        dict[str, Any],
        Body(
            description="The problem in VROOM's JSON input format.",
            openapi_examples={
                "helsinki": {
                    "summary": "Three deliveries, one van, coordinates",
                    "value": EXAMPLE,
                }
            },
        ),
    ],
    time_limit: Annotated[
        float,
        Query(
            gt=0,
            le=MAX_TIME_LIMIT_S,
            description=f"Search time, seconds (like VROOM's `-l`; at most {MAX_TIME_LIMIT_S:g}).",
        ),
    ] = DEFAULT_TIME_LIMIT_S,
    seed: Annotated[Int64, Query(ge=0, description="Search seed (same seed, same answer).")] = 0,
) -> dict[str, Any]:
    """Parse, solve and answer in VROOM's output format (``code`` 0, ``summary``, ``routes``)."""
    solver: SolverPool = request.app.state.solver
    return await solver.run(
        solve_vroom,
        problem,
        Limits(time_limit=time_limit),
        seed=seed,
        deadline_s=deadline(time_limit),
        gone=request.is_disconnected,
    )


def deadline(time_limit: float) -> float:
    """Seconds a solve of ``time_limit`` may run before it is stopped with a 503: the limit
    with :data:`DEADLINE_SHARE` more and :data:`DEADLINE_MARGIN_S` to read the problem and
    write the answer."""
    return time_limit * DEADLINE_SHARE + DEADLINE_MARGIN_S
