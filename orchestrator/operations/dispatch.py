"""The day as it runs: a route's vehicle leaves (:func:`dispatch_route`) and each stop ends
delivered or failed (:func:`mark_stop_outcome`), each with an event on the order; an outcome
also teaches the concierge where and when drops work for that customer, and the depot's
learned spread how long the leg to it took (:mod:`orchestrator.planning.spread_store`)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from orchestrator.concierge.profiles import on_stop_outcome
from orchestrator.errors import Conflict, InvalidInput, NotFound
from orchestrator.models import (
    Order,
    OrderEventKind,
    OrderStatus,
    Plan,
    PlanStatus,
    Route,
    RouteStatus,
    RouteStop,
    StopStatus,
)
from orchestrator.models.columns import utcnow
from orchestrator.operations.progress import after_outcome
from orchestrator.planning.plans import route_stops
from orchestrator.planning.spread_store import learn_from_outcome
from orchestrator.store import events

__all__ = ["dispatch_route", "mark_stop_outcome"]

_CLOSED_STOP = (StopStatus.DELIVERED, StopStatus.FAILED)


def dispatch_route(session: Session, route_id: int, *, stops: int | None = None) -> Route:
    """Record that a route's vehicle left with its first ``stops`` stops (all by default).

    Those stops become ``dispatched`` (locked in any re-plan) and their orders too, each
    with a ``dispatched`` event.
    """
    route = session.get(Route, route_id)
    if route is None:
        raise NotFound("route", route_id)
    plan = session.get(Plan, route.plan_id)
    assert plan is not None
    if plan.status is not PlanStatus.CURRENT:
        raise Conflict(f"route {route_id} belongs to plan {plan.id}, which is no longer current")
    all_stops = route_stops(session, route_id)
    count = len(all_stops) if stops is None else stops
    if not 0 <= count <= len(all_stops):
        raise InvalidInput("stops", f"give 0 to {len(all_stops)} stops, not {count}")
    for stop in all_stops[:count]:
        if stop.status is not StopStatus.PLANNED:
            continue
        stop.status = StopStatus.DISPATCHED
        session.add(stop)
        order = session.get(Order, stop.order_id)
        assert order is not None
        order.status = OrderStatus.DISPATCHED
        session.add(order)
        events.record(
            session, stop.order_id, OrderEventKind.DISPATCHED, plan_id=plan.id,
            detail=f"on {route.vehicle_id}, stop {stop.sequence + 1}",
        )  # fmt: skip
    route.status = RouteStatus.DISPATCHED
    session.add(route)
    session.commit()
    session.refresh(route)
    return route


def mark_stop_outcome(
    session: Session,
    route_stop_id: int,
    outcome: StopStatus | str,
    *,
    at: datetime | None = None,
    detail: str = "",
) -> RouteStop:
    """Record that a dispatched stop was delivered or failed (with an event).

    Raises
    ------
    NotFound
        No such stop.
    InvalidInput
        The outcome is neither ``delivered`` nor ``failed``.
    Conflict
        The stop was not dispatched, is already closed, or its plan is no longer current.
    """
    stop = session.get(RouteStop, route_stop_id)
    if stop is None:
        raise NotFound("route stop", route_stop_id)
    try:
        outcome = StopStatus(outcome)
    except ValueError:
        outcome = StopStatus.PLANNED  # refused just below
    if outcome not in _CLOSED_STOP:
        raise InvalidInput("outcome", "give 'delivered' or 'failed'")
    route = session.get(Route, stop.route_id)
    assert route is not None
    plan = session.get(Plan, route.plan_id)
    assert plan is not None
    if plan.status is not PlanStatus.CURRENT:
        raise Conflict(f"stop {route_stop_id} belongs to plan {plan.id}, no longer current")
    if stop.status in _CLOSED_STOP:
        raise Conflict(f"stop {route_stop_id} is already {stop.status.value}")
    if stop.status is not StopStatus.DISPATCHED:
        raise Conflict(f"stop {route_stop_id} is not dispatched yet — dispatch its route first")
    when = at or utcnow()
    stop.status, stop.closed_at = outcome, when
    session.add(stop)
    order = session.get(Order, stop.order_id)
    assert order is not None
    order.status = OrderStatus.DELIVERED if outcome is StopStatus.DELIVERED else OrderStatus.FAILED
    session.add(order)
    kind = OrderEventKind.DELIVERED if outcome is StopStatus.DELIVERED else OrderEventKind.FAILED
    events.record(session, stop.order_id, kind, plan_id=plan.id, detail=detail)
    on_stop_outcome(session, stop, outcome, when)  # the concierge learns where drops work
    session.flush()
    learn_from_outcome(session, stop)  # the depot's spread learns how long the leg took
    session.commit()
    session.refresh(stop)
    after_outcome(session, stop.route_id, when)  # a late route moves work or tells customers
    session.refresh(stop)
    return stop
