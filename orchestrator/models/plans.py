"""Plans: one solve of a depot's service day, its routes, their stops with ETAs, and the
orders it leaves out with a typed reason."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from orchestrator.models._fields import (
    StorableModel,
    created_at_field,
    enum_field,
    example_config,
    json_field,
    timestamp_field,
)

__all__ = [
    "PLAN_EXAMPLE",
    "ROUTE_EXAMPLE",
    "ROUTE_STOP_EXAMPLE",
    "UNSERVED_EXAMPLE",
    "Plan",
    "PlanKind",
    "PlanPublic",
    "PlanStatus",
    "Route",
    "RoutePublic",
    "RouteStatus",
    "RouteStop",
    "RouteStopPublic",
    "StopStatus",
    "UnservedOrder",
    "UnservedOrderPublic",
]


class PlanStatus(StrEnum):
    """Life of a plan: ``queued`` → ``running`` → ``current`` (later ``superseded``) or ``failed``.

    A plan requested as a job (:mod:`orchestrator.jobs.plans`) is stored ``queued`` at once and is
    ``running`` while it solves; a plan made in one call
    (:func:`orchestrator.planning.plans.plan_day`)
    is stored only when it is done. Exactly one ``current`` plan per depot and day at most.
    """

    QUEUED = "queued"
    RUNNING = "running"
    CURRENT = "current"
    SUPERSEDED = "superseded"
    FAILED = "failed"


class PlanKind(StrEnum):
    """What a plan was asked to do."""

    DAY = "day"
    """Plan the day from scratch (refused once a route of the day is dispatched)."""
    REPLAN = "replan"
    """Re-plan ``replan_of_id`` during the day: dispatched stops stay where they are."""


class RouteStatus(StrEnum):
    """A route is ``planned`` until its vehicle leaves, then ``dispatched``."""

    PLANNED = "planned"
    DISPATCHED = "dispatched"


class StopStatus(StrEnum):
    """A stop is ``planned``, then ``dispatched`` (on board), then ``delivered`` or ``failed``."""

    PLANNED = "planned"
    DISPATCHED = "dispatched"
    DELIVERED = "delivered"
    FAILED = "failed"


PLAN_EXAMPLE: dict[str, Any] = {
    "id": 3,
    "depot_id": 1,
    "service_day": "2025-03-03",
    "status": "current",
    "kind": "day",
    "replan_of_id": None,
    "created_at": "2025-03-02T19:59:58+02:00",
    "started_at": "2025-03-02T20:00:00+02:00",
    "finished_at": "2025-03-02T20:00:10+02:00",
    "time_limit_s": 10.0,
    "seed": 0,
    "wall_time_s": 9.87,
    "distance_m": 48_210,
    "duration_s": 24_780,
    "cost": 412.35,
    "co2_g": 0.0,
    "n_routes": 2,
    "n_served": 57,
    "n_unserved": 1,
    "stats": {"status": "feasible", "seed_with": "pyvrp", "diagnosed_unserved": 1},
    "error": None,
}
"""An example plan, for the documentation of the API."""


ROUTE_EXAMPLE: dict[str, Any] = {
    "id": 5,
    "plan_id": 3,
    "vehicle_id": "e-van-1-1",
    "vehicle_type": "e-van",
    "status": "planned",
    "start_at": "2025-03-03T08:00:00+02:00",
    "end_at": "2025-03-03T14:52:00+02:00",
    "distance_m": 24_105,
    "duration_s": 24_720,
    "cost": 208.1,
    "co2_g": 0.0,
    "load_at_start": [41_300, 310_000, 29],
}
"""An example route, for the documentation of the API."""


ROUTE_STOP_EXAMPLE: dict[str, Any] = {
    "id": 11,
    "route_id": 5,
    "order_id": 1,
    "sequence": 3,
    "status": "planned",
    "arrival_at": "2025-03-03T10:41:00+02:00",
    "service_start_at": "2025-03-03T10:41:00+02:00",
    "departure_at": "2025-03-03T10:44:00+02:00",
    "wait_s": 0,
    "leg_distance_m": 820,
    "load_after": [36_900, 271_000, 25],
    "closed_at": None,
}
"""An example route stop, for the documentation of the API."""


UNSERVED_EXAMPLE: dict[str, Any] = {
    "order_id": 17,
    "reason": "window_unreachable",
    "detail": "window 07:00-07:15 closes before a vehicle from the depot can arrive (07:22) "
    "— widen the window or start a shift earlier",
}
"""An example unserved order, for the documentation of the API."""


class Plan(StorableModel, table=True):
    """Table ``plans``: one solve for a depot's service day — its request, status and result.

    The row is also the job of a plan solved in the background (:mod:`orchestrator.jobs.plans`):
    ``kind``, ``time_limit_s``, ``seed`` and ``limits`` are the request, ``status``,
    ``started_at``, ``finished_at`` and ``error`` its life, the rest the result.
    """

    __tablename__ = "plans"
    __table_args__ = (sa.Index("ix_plans_depot_day", "depot_id", "service_day"),)

    id: int | None = Field(default=None, primary_key=True)
    depot_id: int = Field(foreign_key="depots.id")
    service_day: date
    status: PlanStatus = enum_field(PlanStatus)
    kind: PlanKind = enum_field(PlanKind, PlanKind.DAY, sa_column_kwargs={"server_default": "day"})
    replan_of_id: int | None = Field(default=None, foreign_key="plans.id")
    created_at: datetime = created_at_field()
    started_at: datetime | None = timestamp_field(default=None, description="Solve started.")
    finished_at: datetime | None = timestamp_field(default=None, description="Solve ended.")
    time_limit_s: float = Field(description="Solver time limit, seconds.")
    seed: int = 0
    limits: dict[str, Any] | None = json_field(
        default=None, description="The requested routing.Limits (None: time limit only)."
    )
    wall_time_s: float | None = Field(default=None, description="Solve time, seconds.")
    objective: int | None = None
    distance_m: int | None = Field(default=None, description="Total metres driven.")
    duration_s: int | None = Field(default=None, description="Total seconds on duty.")
    cost: float | None = Field(default=None, description="Total EUR, fixed costs included.")
    co2_g: float | None = Field(default=None, description="Total grams CO2.")
    n_routes: int = 0
    n_served: int = 0
    n_unserved: int = 0
    stats: dict[str, Any] = json_field(default_factory=dict, description="Solver statistics.")
    error: str | None = Field(default=None, max_length=2_000)


class PlanPublic(StorableModel):
    """A plan as shown."""

    id: int
    depot_id: int
    service_day: date
    status: PlanStatus
    kind: PlanKind
    replan_of_id: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    time_limit_s: float
    seed: int
    wall_time_s: float | None
    distance_m: int | None
    duration_s: int | None
    cost: float | None
    co2_g: float | None
    n_routes: int
    n_served: int
    n_unserved: int
    stats: dict[str, Any]
    error: str | None

    model_config = example_config(**PLAN_EXAMPLE)


class Route(StorableModel, table=True):
    """Table ``routes``: one vehicle's day in a plan."""

    __tablename__ = "routes"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True, ondelete="CASCADE")
    fleet_id: int = Field(foreign_key="fleets.id")
    vehicle_id: str = Field(max_length=100, description="Stable across re-plans of the day.")
    vehicle_type: str = Field(max_length=60)
    status: RouteStatus = enum_field(RouteStatus, RouteStatus.PLANNED)
    start_at: datetime = timestamp_field()
    end_at: datetime = timestamp_field()
    distance_m: int
    duration_s: int
    cost: float = Field(description="EUR, fixed cost included.")
    co2_g: float
    load_at_start: list[int] = json_field(description="Per dimension: grams, millilitres, parcels.")


class RoutePublic(StorableModel):
    """A route as shown."""

    id: int
    plan_id: int
    vehicle_id: str
    vehicle_type: str
    status: RouteStatus
    start_at: datetime
    end_at: datetime
    distance_m: int
    duration_s: int
    cost: float
    co2_g: float
    load_at_start: list[int]

    model_config = example_config(**ROUTE_EXAMPLE)


class RouteStop(StorableModel, table=True):
    """Table ``route_stops``: an order's place on a route, with its ETA."""

    __tablename__ = "route_stops"
    __table_args__ = (sa.UniqueConstraint("route_id", "sequence", name="uq_route_stops_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    route_id: int = Field(foreign_key="routes.id", index=True, ondelete="CASCADE")
    order_id: int = Field(foreign_key="orders.id", index=True)
    sequence: int = Field(ge=0, description="0 for the first stop.")
    status: StopStatus = enum_field(StopStatus, StopStatus.PLANNED)
    arrival_at: datetime = timestamp_field(description="ETA.")
    service_start_at: datetime = timestamp_field()
    departure_at: datetime = timestamp_field()
    wait_s: int = Field(description="Seconds waiting for the window to open.")
    leg_distance_m: int = Field(description="Metres from the previous stop or the depot.")
    load_after: list[int] = json_field(description="On board after the stop, per dimension.")
    closed_at: datetime | None = timestamp_field(default=None)


class RouteStopPublic(StorableModel):
    """A route stop as shown."""

    id: int
    route_id: int
    order_id: int
    sequence: int
    status: StopStatus
    arrival_at: datetime
    service_start_at: datetime
    departure_at: datetime
    wait_s: int
    leg_distance_m: int
    load_after: list[int]
    closed_at: datetime | None

    model_config = example_config(**ROUTE_STOP_EXAMPLE)


class UnservedOrder(StorableModel, table=True):
    """Table ``unserved_orders``: an order a plan leaves out, with a typed reason."""

    __tablename__ = "unserved_orders"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True, ondelete="CASCADE")
    order_id: int = Field(foreign_key="orders.id", index=True)
    reason: str = Field(
        max_length=40,
        description="A routing.UnservedReason value, or 'no_place_chosen'.",
    )
    detail: str = Field(default="", max_length=1_000)


class UnservedOrderPublic(StorableModel):
    """An unserved order as shown."""

    order_id: int
    reason: str
    detail: str

    model_config = example_config(**UNSERVED_EXAMPLE)
