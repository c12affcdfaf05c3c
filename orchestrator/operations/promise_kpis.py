"""Promises kept in production: a depot's day measured from the store.

A **promise** is a confirmed hold (:func:`orchestrator.concierge.offers.confirm_hold`) still
standing — not released by a later choice — for the depot and the service day: the place and
the window the customer confirmed. Its outcome is the order's stop that was closed last
(:func:`orchestrator.operations.dispatch.mark_stop_outcome`, any plan of the day):

* **kept** — delivered at the promised place (the order's place was not changed since, e.g. by
  ``PUT /orders/{id}/whereabouts``) with the stop closed inside the promised window;
* **late** / **early** — delivered at the place after / before the window;
* **elsewhere** — delivered at another place than the one confirmed;
* **absent** — the stop failed at the promised place inside the promised window: the vehicle
  was there on time and nobody took the parcel (a failed stop is the customer not at home,
  :mod:`orchestrator.concierge.profiles`) — the system's side of the promise was kept;
* **failed** — the stop failed another way (outside the window, or at another place);
* **not delivered** — the window is over and no stop of the order was closed;
* **pending** — the window is not over and nothing was closed yet: not counted in the share.

``kept_share`` is kept over the promises with an outcome (promised minus pending);
``on_time_at_place_share`` counts the absent ones too (issue #17's "on time at the promised
place", the twin's figure of the same name, :mod:`simulation.twin.promises`). **Missed** are the
system's misses: every outcome but kept, absent and pending.
**Minutes late** are over the late ones (p50, p90, max). **Notices**: order events of kind
``eta_moved`` (a re-plan moved the ETA) or ``promise_at_risk`` (a late route told the customer
the window will likely be missed, :mod:`orchestrator.operations.progress`) on promised
orders; a missed promise was **announced** when one was recorded before its window started.
**Cost per parcel** per vehicle type comes from the day's current plan: the routes' EUR over
their stops (planned parcels) and over those delivered.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum

import numpy as np
from sqlmodel import Session, col, select

from orchestrator.errors import NotFound
from orchestrator.models import (
    Depot,
    HoldStatus,
    OptionHold,
    Order,
    OrderEvent,
    OrderEventKind,
    Plan,
    Route,
    RouteStop,
    StopStatus,
    StorableModel,
)
from orchestrator.models._fields import example_config
from orchestrator.models.columns import utcnow
from orchestrator.planning.plans import current_plan

__all__ = ["PromiseOutcome", "PromiseRow", "PromisesOfDay", "TypeCost", "promise_kpis"]

NOTICE_KINDS = (OrderEventKind.ETA_MOVED, OrderEventKind.PROMISE_AT_RISK)
"""Order events that tell a customer their delivery moved or will likely miss its window
(:mod:`orchestrator.operations.progress`): the notices counted."""


class PromiseOutcome(StrEnum):
    """What became of a promise (see the module docstring)."""

    KEPT = "kept"
    LATE = "late"
    EARLY = "early"
    ELSEWHERE = "elsewhere"
    ABSENT = "absent"
    FAILED = "failed"
    NOT_DELIVERED = "not_delivered"
    PENDING = "pending"


class PromiseRow(StorableModel):
    """One promise: the order, what was confirmed, and its outcome (times UTC in the store,
    shown in the depot's zone)."""

    order_id: int
    hold_id: int
    place_id: int
    window_start: datetime
    window_end: datetime
    outcome: PromiseOutcome
    closed_at: datetime | None
    vehicle_type: str | None
    """Type of the vehicle whose route held the closed stop."""
    minutes_late: float | None
    """Minutes after the window's end the stop was closed (late ones only)."""
    notices: int
    announced_before_window: bool


class TypeCost(StorableModel):
    """One vehicle type on the day's current plan, and the promises its routes closed."""

    vehicle_type: str
    routes: int
    cost_eur: float
    parcels: int
    """Stops on its routes."""
    delivered: int
    cost_per_parcel: float | None
    """EUR over stops planned (``None`` without stops)."""
    cost_per_delivered: float | None
    """EUR over stops delivered (``None`` before any)."""
    promises: int
    kept: int
    kept_share: float | None


class PromisesOfDay(StorableModel):
    """A depot's day: promises kept, missed and how, minutes late, notices, cost per parcel."""

    depot_id: int
    day: date
    as_of: datetime
    plan_id: int | None
    promised: int
    with_outcome: int
    kept: int
    kept_share: float | None
    """Kept over promises with an outcome (``None`` before any)."""
    on_time_at_place: int
    """Kept, or absent: the vehicle was at the promised place inside the window."""
    on_time_at_place_share: float | None
    """On time at the place over promises with an outcome (``None`` before any)."""
    outcomes: dict[str, int]
    late_p50_min: float | None
    late_p90_min: float | None
    late_max_min: float | None
    notices: int
    missed: int
    announced_before_miss: int
    announced_before_miss_share: float | None
    cost_eur: float | None
    """The current plan's EUR (``None`` without a plan)."""
    cost_per_kept: float | None
    per_vehicle_type: list[TypeCost]
    promises: list[PromiseRow]

    model_config = example_config(
        depot_id=1, day="2025-03-03", as_of="2025-03-03T21:00:00+02:00", plan_id=4,
        promised=2, with_outcome=2, kept=1, kept_share=0.5, on_time_at_place=1,
        on_time_at_place_share=0.5,
        outcomes={"kept": 1, "late": 1, "early": 0, "elsewhere": 0, "absent": 0, "failed": 0,
                  "not_delivered": 0, "pending": 0},
        late_p50_min=30.0, late_p90_min=30.0, late_max_min=30.0, notices=1, missed=1,
        announced_before_miss=1, announced_before_miss_share=1.0, cost_eur=212.4,
        cost_per_kept=212.4,
        per_vehicle_type=[{"vehicle_type": "van", "routes": 1, "cost_eur": 212.4, "parcels": 2,
                           "delivered": 2, "cost_per_parcel": 106.2, "cost_per_delivered": 106.2,
                           "promises": 2, "kept": 1, "kept_share": 0.5}],
        promises=[{"order_id": 7, "hold_id": 3, "place_id": 2,
                   "window_start": "2025-03-03T10:00:00+02:00",
                   "window_end": "2025-03-03T12:00:00+02:00", "outcome": "late",
                   "closed_at": "2025-03-03T12:30:00+02:00", "vehicle_type": "van",
                   "minutes_late": 30.0, "notices": 1, "announced_before_window": True}],
    )  # fmt: skip


def promise_kpis(
    session: Session, depot_id: int, day: date, *, now: datetime | None = None
) -> PromisesOfDay:
    """The promises of depot ``depot_id`` on ``day`` (its local date) and what became of them.

    Parameters
    ----------
    session
        The store.
    depot_id
        The depot.
    day
        The service day, the depot's local date.
    now
        The instant the figures are for (default now, UTC): a promise whose window ends later
        and that has no outcome yet is pending.

    Raises
    ------
    NotFound
        No such depot.
    """
    if session.get(Depot, depot_id) is None:
        raise NotFound("depot", depot_id)
    now = now or utcnow()
    holds = session.exec(
        select(OptionHold)
        .where(
            OptionHold.depot_id == depot_id,
            OptionHold.service_day == day,
            OptionHold.status == HoldStatus.CONFIRMED,
        )
        .order_by(col(OptionHold.order_id), col(OptionHold.id))
    ).all()
    order_ids = sorted({h.order_id for h in holds})
    orders = {
        o.id: o for o in session.exec(select(Order).where(col(Order.id).in_(order_ids))).all()
    }
    closed: dict[int, tuple[RouteStop, str]] = {}
    for row_stop, row_type in session.exec(
        select(RouteStop, Route.vehicle_type)
        .join(Route, col(Route.id) == RouteStop.route_id)
        .where(
            col(RouteStop.order_id).in_(order_ids),
            col(RouteStop.status).in_([StopStatus.DELIVERED.value, StopStatus.FAILED.value]),
        )
    ).all():
        seen = closed.get(row_stop.order_id)
        if seen is None or _utc(row_stop.closed_at) > _utc(seen[0].closed_at):
            closed[row_stop.order_id] = (row_stop, row_type)
    notices: dict[int, list[datetime]] = {}
    for event in session.exec(
        select(OrderEvent).where(
            col(OrderEvent.order_id).in_(order_ids),
            col(OrderEvent.kind).in_([k.value for k in NOTICE_KINDS]),
        )
    ).all():
        notices.setdefault(event.order_id, []).append(_utc(event.at))

    rows: list[PromiseRow] = []
    seen_orders: set[int] = set()
    for hold in holds:
        if hold.order_id in seen_orders:  # one promise per order: its first standing hold
            continue
        seen_orders.add(hold.order_id)
        start, end = _utc(hold.window_start), _utc(hold.window_end)
        order = orders.get(hold.order_id)
        got = closed.get(hold.order_id)
        stop = got[0] if got is not None else None
        vtype = got[1] if got is not None else None
        at = _utc(stop.closed_at) if stop is not None and stop.closed_at is not None else None
        outcome = _outcome(stop, at, order, hold, start, end, _utc(now))
        sent = notices.get(hold.order_id, [])
        late = (at - end).total_seconds() / 60 if outcome is PromiseOutcome.LATE and at else None
        rows.append(
            PromiseRow(
                order_id=hold.order_id, hold_id=hold.id or 0, place_id=hold.place_id,
                window_start=start, window_end=end, outcome=outcome, closed_at=at,
                vehicle_type=vtype, minutes_late=None if late is None else round(late, 2),
                notices=len(sent), announced_before_window=any(t < start for t in sent),
            )
        )  # fmt: skip
    return _summary(session, depot_id, day, _utc(now), rows)


_ON_TIME = frozenset({PromiseOutcome.KEPT, PromiseOutcome.ABSENT})
"""Outcomes where the vehicle was at the promised place inside the window."""


def _outcome(
    stop: RouteStop | None,
    at: datetime | None,
    order: Order | None,
    hold: OptionHold,
    start: datetime,
    end: datetime,
    now: datetime,
) -> PromiseOutcome:
    if stop is None or at is None:
        return PromiseOutcome.PENDING if now <= end else PromiseOutcome.NOT_DELIVERED
    at_place = order is None or order.place_id == hold.place_id
    if stop.status is StopStatus.FAILED:
        inside = start <= at <= end
        return PromiseOutcome.ABSENT if at_place and inside else PromiseOutcome.FAILED
    if not at_place:
        return PromiseOutcome.ELSEWHERE
    if at < start:
        return PromiseOutcome.EARLY
    if at > end:
        return PromiseOutcome.LATE
    return PromiseOutcome.KEPT


def _summary(
    session: Session, depot_id: int, day: date, now: datetime, rows: list[PromiseRow]
) -> PromisesOfDay:
    decided = [r for r in rows if r.outcome is not PromiseOutcome.PENDING]
    kept = sum(r.outcome is PromiseOutcome.KEPT for r in decided)
    on_time = kept + sum(r.outcome is PromiseOutcome.ABSENT for r in decided)
    missed = [r for r in decided if r.outcome not in _ON_TIME]
    late = np.array([r.minutes_late for r in rows if r.minutes_late is not None], dtype=float)
    announced = sum(r.announced_before_window for r in missed)
    plan: Plan | None = current_plan(session, depot_id, day)
    per_type: list[TypeCost] = []
    cost: float | None = None
    if plan is not None:
        cost = 0.0
        routes = session.exec(
            select(Route).where(Route.plan_id == plan.id).order_by(col(Route.id))
        ).all()
        stops = session.exec(
            select(RouteStop).where(col(RouteStop.route_id).in_([r.id for r in routes]))
        ).all()
        for name in sorted({r.vehicle_type for r in routes}):
            mine = [r for r in routes if r.vehicle_type == name]
            ids = {r.id for r in mine}
            on = [s for s in stops if s.route_id in ids]
            delivered = sum(s.status is StopStatus.DELIVERED for s in on)
            eur = round(sum(r.cost for r in mine), 2)
            cost += eur
            theirs = [r for r in decided if r.vehicle_type == name]
            kept_t = sum(r.outcome is PromiseOutcome.KEPT for r in theirs)
            per_type.append(
                TypeCost(
                    vehicle_type=name, routes=len(mine), cost_eur=eur, parcels=len(on),
                    delivered=delivered, cost_per_parcel=_ratio(eur, len(on)),
                    cost_per_delivered=_ratio(eur, delivered), promises=len(theirs),
                    kept=kept_t, kept_share=_ratio(kept_t, len(theirs), 4),
                )
            )  # fmt: skip
        cost = round(cost, 2)
    outcomes = {o.value: sum(r.outcome is o for r in rows) for o in PromiseOutcome}
    return PromisesOfDay(
        depot_id=depot_id,
        day=day,
        as_of=now,
        plan_id=None if plan is None else plan.id,
        promised=len(rows),
        with_outcome=len(decided),
        kept=kept,
        kept_share=_ratio(kept, len(decided), 4),
        on_time_at_place=on_time,
        on_time_at_place_share=_ratio(on_time, len(decided), 4),
        outcomes=outcomes,
        late_p50_min=round(float(np.percentile(late, 50)), 2) if late.size else None,
        late_p90_min=round(float(np.percentile(late, 90)), 2) if late.size else None,
        late_max_min=round(float(late.max()), 2) if late.size else None,
        notices=sum(r.notices for r in rows),
        missed=len(missed),
        announced_before_miss=announced,
        announced_before_miss_share=_ratio(announced, len(missed), 4),
        cost_eur=cost,
        cost_per_kept=None if cost is None else _ratio(cost, kept),
        per_vehicle_type=per_type,
        promises=rows,
    )


def _ratio(part: float, whole: float, digits: int = 2) -> float | None:
    return round(part / whole, digits) if whole else None


def _utc(value: datetime | None) -> datetime:
    """An instant from the store as aware UTC (SQLite may hand it back naive)."""
    if value is None:
        return datetime.min.replace(tzinfo=UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
