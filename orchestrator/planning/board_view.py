"""What the planner's board shows, read from the store: depots and their days, a day's plans,
the shown plan's routes with their stops, and the orders it leaves out.

Read-only and flat: routes, stops and unserved orders are frozen dataclasses of plain values,
plans the store's own rows (their job state and progress are :mod:`orchestrator.jobs.plans`'
to tell), and each table is read once per call — one query for the day's plans, one for the
plan's routes, one for all their stops with their orders and places, one for the unserved
orders — so a day of 2,000 stops costs five queries, not 2,000. The pages
(:mod:`api.pages.board`) render these; ``GET /plans`` lists :func:`day_plans`.

Units: metres, seconds, EUR, grams CO2; loads per dimension as the store keeps them (grams,
millilitres, parcels); instants aware (UTC), shown in the depot's zone by the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from orchestrator.errors import NotFound
from orchestrator.models import (
    Depot,
    Order,
    Place,
    Plan,
    PlanStatus,
    Route,
    RouteStatus,
    RouteStop,
    StopStatus,
    UnservedOrder,
)
from orchestrator.planning.inputs import handling_skills

__all__ = [
    "DayView",
    "DepotDays",
    "KeptAside",
    "RouteTable",
    "StopRow",
    "UnservedRow",
    "day_plans",
    "day_view",
    "depot_days",
    "kept_aside",
]

_UNFINISHED = (PlanStatus.QUEUED, PlanStatus.RUNNING)


@dataclass(frozen=True, slots=True)
class DepotDays:
    """A depot and the service days that have orders or plans, newest first."""

    id: int
    code: str
    name: str
    timezone: str
    days: tuple[date, ...]


@dataclass(frozen=True, slots=True)
class StopRow:
    """One stop of a route: ``sequence`` 1-based; ``load_after`` on board after it (grams,
    millilitres, parcels)."""

    id: int
    sequence: int
    order_id: int
    reference: str | None
    place_name: str | None
    address: str | None
    window_start: datetime | None
    window_end: datetime | None
    arrival_at: datetime
    load_after: tuple[int, ...]
    status: StopStatus


@dataclass(frozen=True, slots=True)
class RouteTable:
    """One vehicle's day: metres, seconds, EUR, grams CO2; ``load_at_start`` per dimension."""

    id: int
    vehicle_id: str
    vehicle_type: str
    status: RouteStatus
    start_at: datetime
    end_at: datetime
    distance_m: int
    duration_s: int
    cost: float
    co2_g: float
    load_at_start: tuple[int, ...]
    stops: tuple[StopRow, ...]

    @property
    def dispatched(self) -> bool:
        """Whether the vehicle has left."""
        return self.status is RouteStatus.DISPATCHED


@dataclass(frozen=True, slots=True)
class UnservedRow:
    """An order the plan leaves out: the stored reason (a ``routing.UnservedReason`` value or
    ``no_place_chosen``) and detail, and what the planner may change — its window, its place,
    and the vehicle skills its handling needs (``fragile``, ``signature``, ``cold``)."""

    order_id: int
    reference: str | None
    reason: str
    detail: str
    window_start: datetime | None
    window_end: datetime | None
    place_name: str | None
    address: str | None
    skills: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DayView:
    """A depot's day as the board shows it.

    ``plans`` are the day's plans newest first; ``shown`` the one looked at (the current
    plan unless another was asked for; else the newest), with its ``routes`` and
    ``unserved`` orders; ``running`` the newest plan still queued or running, if any.
    ``orders`` counts the day's orders.
    """

    depot_id: int
    depot_code: str
    depot_name: str
    timezone: str
    day: date
    orders: int
    plans: tuple[Plan, ...]
    shown: Plan | None
    routes: tuple[RouteTable, ...]
    unserved: tuple[UnservedRow, ...]
    running: Plan | None

    @property
    def current(self) -> Plan | None:
        """The day's current plan, if any."""
        return next((p for p in self.plans if p.status is PlanStatus.CURRENT), None)

    @property
    def dispatched(self) -> bool:
        """Whether a route of the shown plan has left (the day can only be re-planned)."""
        return any(r.dispatched for r in self.routes)

    @property
    def stops(self) -> int:
        """Stops on the shown plan's routes."""
        return sum(len(r.stops) for r in self.routes)


def depot_days(session: Session) -> list[DepotDays]:
    """Every depot (by code) with the days that have orders or plans, newest day first.

    Three queries whatever the number of orders: depots, the distinct (depot, day) pairs of
    orders, and those of plans.
    """
    depots = session.exec(select(Depot).order_by(col(Depot.code))).all()
    pairs: set[tuple[int, date]] = set()
    for table in (Order, Plan):
        rows = session.execute(
            sa.select(col(table.depot_id), col(table.service_day)).distinct()
        ).all()
        pairs.update((depot_id, day) for depot_id, day in rows)
    days: dict[int, list[date]] = {}
    for depot_id, day in pairs:
        days.setdefault(depot_id, []).append(day)
    return [
        DepotDays(
            id=d.id,
            code=d.code,
            name=d.name,
            timezone=d.timezone,
            days=tuple(sorted(days.get(d.id, ()), reverse=True)),
        )
        for d in depots
        if d.id is not None
    ]


def day_plans(
    session: Session,
    depot_id: int,
    day: date,
    *,
    status: PlanStatus | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> Sequence[Plan]:
    """The depot's plans of ``day``, newest first (by submission, then id), optionally of
    one ``status``; ``offset`` and ``limit`` count plans."""
    query = select(Plan).where(Plan.depot_id == depot_id, Plan.service_day == day)
    if status is not None:
        query = query.where(Plan.status == status)
    query = query.order_by(col(Plan.created_at).desc(), col(Plan.id).desc()).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return session.exec(query).all()


def day_view(session: Session, depot_id: int, day: date, *, plan_id: int | None = None) -> DayView:
    """The depot's ``day``: its plans, and the routes and unserved orders of one of them.

    Parameters
    ----------
    session
        The store (read only).
    depot_id, day
        The depot and its local service day.
    plan_id
        The plan to show; ``None`` for the current plan (or, without one, the newest).

    Raises
    ------
    NotFound
        No such depot, or ``plan_id`` is not a plan of this depot's day.
    """
    depot = session.get(Depot, depot_id)
    if depot is None or depot.id is None:
        raise NotFound("depot", depot_id)
    plans = tuple(day_plans(session, depot_id, day))
    if plan_id is not None:
        shown = next((p for p in plans if p.id == plan_id), None)
        if shown is None:
            raise NotFound("plan", plan_id)
    else:
        shown = next((p for p in plans if p.status is PlanStatus.CURRENT), None)
        shown = shown or (plans[0] if plans else None)
    orders = session.execute(
        sa.select(sa.func.count())
        .select_from(Order)
        .where(col(Order.depot_id) == depot_id, col(Order.service_day) == day)
    ).scalar_one()
    routes: tuple[RouteTable, ...] = ()
    unserved: tuple[UnservedRow, ...] = ()
    if shown is not None and shown.id is not None and shown.status not in _UNFINISHED:
        routes = _routes(session, shown.id)
        unserved = _unserved(session, shown.id)
    return DayView(
        depot_id=depot.id,
        depot_code=depot.code,
        depot_name=depot.name,
        timezone=depot.timezone,
        day=day,
        orders=int(orders),
        plans=plans,
        shown=shown,
        routes=routes,
        unserved=unserved,
        running=next((p for p in plans if p.status in _UNFINISHED), None),
    )


@dataclass(frozen=True, slots=True)
class KeptAside:
    """A newer plan of the day that was not made current because it was worse than the
    current plan (``stats["comparison"]`` of :mod:`orchestrator.planning.plans`): its id, what
    it costs more than the current plan (``cost_delta`` EUR, ``cost_delta_pct`` percent,
    negative when cheaper), how many more orders it serves (``served_delta``, negative:
    fewer) and routes it uses (``routes_delta``), and the planner's ``why``."""

    plan_id: int
    current_plan_id: int
    cost_delta: float
    cost_delta_pct: float
    served_delta: int
    routes_delta: int
    why: str


def kept_aside(view: DayView) -> KeptAside | None:
    """The newest plan of the day kept aside against the day's current plan, which the
    planner may still make current (``POST /plans/{id}/current``), or ``None``.

    Only a plan compared with the plan current now counts: one compared with an earlier
    current plan can no longer be chosen (the day was planned again since). No query: the
    day's plans are in ``view``.
    """
    current = view.current
    if current is None or current.id is None:
        return None
    for plan in view.plans:  # newest first
        if plan.id is None or plan.status is not PlanStatus.SUPERSEDED:
            continue
        comparison = plan.stats.get("comparison") or {}
        if comparison.get("made_current") is not False:
            continue
        if comparison.get("current_plan_id") != current.id:
            continue
        return KeptAside(
            plan_id=plan.id,
            current_plan_id=current.id,
            cost_delta=float(comparison.get("cost_delta") or 0.0),
            cost_delta_pct=float(comparison.get("cost_delta_pct") or 0.0),
            served_delta=int(comparison.get("served_delta") or 0),
            routes_delta=int(comparison.get("routes_delta") or 0),
            why=str(comparison.get("why") or ""),
        )
    return None


def _raw(column: Any) -> Any:
    """``column`` read as the driver gives it, without its type's work on every row."""
    return sa.type_coerce(col(column), sa.String)


_STOP_STATUS = {s.value: s for s in StopStatus}


def _instants() -> Any:
    """A reader of raw stored instants, each distinct value read once (windows repeat).

    The same instants :class:`~orchestrator.models.columns.UTCDateTime` gives, at a fraction
    of its cost on 2,000 rows: SQLite hands back UTC text (``2025-03-03 08:00:00.000000``),
    PostgreSQL aware datetimes; either becomes an aware UTC datetime.
    """
    seen: dict[object, datetime] = {}

    def read(value: object) -> Any:
        if value is None:
            return None
        found = seen.get(value)
        if found is None:
            if isinstance(value, str):
                found = datetime.fromisoformat(value).replace(tzinfo=UTC)
            elif isinstance(value, datetime):
                aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
                found = aware.astimezone(UTC)
            else:
                raise TypeError(f"not a stored instant: {value!r}")
            seen[value] = found
        return found

    return read


def _routes(session: Session, plan_id: int) -> tuple[RouteTable, ...]:
    """The plan's routes in id order with their stops: two queries."""
    routes = session.exec(
        select(Route).where(Route.plan_id == plan_id).order_by(col(Route.id))
    ).all()
    # Columns, not rows, and on the connection: 2,000 stops are read as plain tuples, without
    # building 6,000 objects or going through the ORM's loading.
    rows: Sequence[Any] = (
        session.connection()
        .execute(
            sa.select(
                col(RouteStop.route_id),
                col(RouteStop.id),
                col(RouteStop.sequence),
                col(RouteStop.order_id),
                _raw(RouteStop.status),
                _raw(RouteStop.arrival_at),
                col(RouteStop.load_after),
                col(Order.reference),
                _raw(Order.window_start),
                _raw(Order.window_end),
                col(Place.name),
                col(Place.address),
            )
            .join(Route, col(Route.id) == RouteStop.route_id)
            .join(Order, col(Order.id) == RouteStop.order_id)
            .join(Place, col(Place.id) == Order.place_id, isouter=True)
            .where(col(Route.plan_id) == plan_id)
            .order_by(col(RouteStop.route_id), col(RouteStop.sequence))
        )
        .all()
    )
    stops: dict[int, list[StopRow]] = {}
    instant = _instants()
    for r in rows:
        stops.setdefault(r[0], []).append(
            StopRow(
                id=r[1],
                sequence=r[2] + 1,
                order_id=r[3],
                status=_STOP_STATUS[r[4]],
                arrival_at=instant(r[5]),
                load_after=tuple(r[6] or ()),
                reference=r[7],
                window_start=instant(r[8]),
                window_end=instant(r[9]),
                place_name=r[10],
                address=r[11],
            )
        )
    return tuple(
        RouteTable(
            id=route.id,
            vehicle_id=route.vehicle_id,
            vehicle_type=route.vehicle_type,
            status=route.status,
            start_at=route.start_at,
            end_at=route.end_at,
            distance_m=route.distance_m,
            duration_s=route.duration_s,
            cost=route.cost,
            co2_g=route.co2_g,
            load_at_start=tuple(route.load_at_start),
            stops=tuple(stops.get(route.id, ())),
        )
        for route in routes
        if route.id is not None
    )


def _unserved(session: Session, plan_id: int) -> tuple[UnservedRow, ...]:
    """The plan's unserved orders with what the planner may change: one query."""
    rows = session.execute(
        sa.select(
            col(UnservedOrder.order_id),
            col(UnservedOrder.reason),
            col(UnservedOrder.detail),
            col(Order.reference),
            col(Order.window_start),
            col(Order.window_end),
            col(Order.fragile),
            col(Order.signature_required),
            col(Order.cold_chain),
            col(Place.name),
            col(Place.address),
        )
        .join(Order, col(Order.id) == UnservedOrder.order_id)
        .join(Place, col(Place.id) == Order.place_id, isouter=True)
        .where(col(UnservedOrder.plan_id) == plan_id)
        .order_by(col(UnservedOrder.order_id))
    ).all()
    return tuple(
        UnservedRow(
            order_id=r[0],
            reason=r[1],
            detail=r[2],
            reference=r[3],
            window_start=r[4],
            window_end=r[5],
            skills=tuple(sorted(handling_skills(r[6], r[7], r[8]))),
            place_name=r[9],
            address=r[10],
        )
        for r in rows
    )
