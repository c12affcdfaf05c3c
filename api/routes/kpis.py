"""``/depots/{id}/kpis``: a depot's day measured — promises kept, minutes late, notices, cost.

Thin: :func:`orchestrator.operations.promise_kpis.promise_kpis` measures; the answer's times are
in the depot's zone (:mod:`api.zones`). Planners and staff only (a customer key: 403).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CARRIER, SessionDep, StaffDep
from api.errors import error_responses
from api.zones import Zones, in_zone
from orchestrator.models import Day, Int64
from orchestrator.operations.promise_kpis import PromisesOfDay, promise_kpis

__all__ = ["router"]

router = APIRouter(
    prefix="/depots",
    tags=["depots"],
    responses=error_responses(401, 403),
    dependencies=[CARRIER],  # the carrier's own resources: a retailer's key is 403
)


@router.get(
    "/{depot_id}/kpis",
    summary="Promises kept on a day",
    responses=error_responses(403, 404, 422),
)
def read(
    depot_id: Int64,
    _caller: StaffDep,
    session: SessionDep,
    day: Annotated[Day, Query(description="The service day, the depot's local date (YYYY-MM-DD).")],
) -> PromisesOfDay:
    """The day's confirmed promises (holds confirmed for the depot and day) and what became of
    them: kept (delivered at the promised place inside the promised window), late, early,
    elsewhere, failed, not delivered or pending; the share kept over those with an outcome,
    minutes late (p50, p90, max), notices sent (``eta_moved`` events) and the missed promises
    announced before their window, and the current plan's cost per parcel per vehicle type.
    404 for an unknown depot, 422 for a bad ``day``."""
    return in_zone(promise_kpis(session, depot_id, day), Zones(session).depot(depot_id))
