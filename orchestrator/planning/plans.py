"""Planning a depot's day, re-planning it while it runs, and recording what happened.

:func:`plan_day` gathers the depot's open orders for a service day, builds the routing
problem through :func:`orchestrator.planning.problem.build_problem`, solves it, and stores the plan,
its routes and stops (with ETAs), the unserved orders with their reasons and an event per
order — in **one transaction**. The new plan becomes the day's ``current`` plan and the
previous one ``superseded``. If the solve fails, nothing of it is written: the previous plan
stays current, and a ``failed`` plan records the error.

**A worse plan is not made current by itself.** Every new plan is compared with the day's
current plan (``stats["comparison"]``: the current plan's id, ``cost_delta`` in EUR,
``cost_delta_pct`` in percent, ``routes_delta``, ``served_delta``, ``made_current`` and
``why``). With ``make_current="if_better"`` (the default) the new plan becomes current unless
it serves fewer orders than the current one, or serves as many and costs more than the
setting ``plan_worse_margin_pct`` (percent, default 2) above it; such a plan is stored
``superseded`` with ``made_current: false`` — its routes and stops are kept, no order's status
changes and no event is written — and :func:`make_current` lets the planner choose it later.
A plan serving more orders is always better; the day's first plan is always current; a plan
made on another promise confidence than the current one (``stats["buffer"]``, below) is made
current when it serves as many, whatever it costs (a more cautious plan costs more by design);
``make_current="always"`` makes the new plan current whatever it costs.

**Planned on the learned spread.** Each plan is made on the buffer of the depot's learned
spread at the setting ``promise_confidence``
(:func:`orchestrator.planning.spread_store.promise_buffer`): its leg and service times, hence
its stored ETAs, are the cautious ones (a high quantile), and ``stats["buffer"]`` records the
confidence and the factors (:meth:`orchestrator.planning.spread.Buffer.as_stats`) — what the
spread is then learned against.

Both fill a queued plan row instead of adding one when given ``job=`` — that is how
:mod:`orchestrator.jobs.plans` runs plans in the background; the guarantees are the same.

:func:`replan` does the same during the day: stops already dispatched (on board), delivered
or failed stay where they are as locked route prefixes, and the current plan's routes
warm-start the solver.

:func:`dispatch_route` and :func:`mark_stop_outcome` record the day's progress.

Returns: the day's scheduled return pickups (:class:`~orchestrator.models.ItemReturn`,
collected at a place or a locker) are planned with the orders (see
:mod:`orchestrator.planning.problem`); their stops are stored as ``return_stops``, numbered in the
same
sequence as the route's order stops, the pickups left out as ``unserved_returns`` with their
reasons, and each planned return records whether its route takes it to its store or back to
the depot (then with the onward transfer). ``n_served`` and ``n_unserved`` count orders; the
plan's ``stats["returns"]`` counts the pickups. :func:`orchestrator.planning.tentative.day_timeline`
turns the day's current plan into a :class:`routing.Timeline` for cheap insertion checks.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from orchestrator.errors import Conflict, InvalidInput, NotFound, PlanningFailed
from orchestrator.intake.catalog import depot_fleets
from orchestrator.models import (
    CarriedTo,
    CustomerProfile,
    Depot,
    Fleet,
    ItemReturn,
    Order,
    OrderEventKind,
    OrderItem,
    OrderStatus,
    PickupMethod,
    Place,
    Plan,
    PlanKind,
    PlanStatus,
    ReturnStatus,
    ReturnStop,
    ReturnStopKind,
    Route,
    RouteStatus,
    RouteStop,
    StopStatus,
    Store,
    UnservedOrder,
    UnservedReturn,
)
from orchestrator.models.columns import utcnow
from orchestrator.planning.inputs import OrderInput, PickupInput, fleets_on_day
from orchestrator.planning.problem import (
    MappedProblem,
    build_problem,
    pickup_stop_id,
    stop_id,
)
from orchestrator.planning.rows import depot_input, fleet_inputs, order_input, pickup_input
from orchestrator.planning.spread import Buffer
from orchestrator.planning.spread_store import promise_buffer
from orchestrator.planning.travel import TravelTimes
from orchestrator.settings import Settings, setting_name
from orchestrator.store import events
from returns.model import Point
from returns.transfer import transfer_co2_kg, transfer_km
from routing.solution import Solution, UnservedReason, Visit
from routing.solve import Limits, solve

__all__ = [
    "MAKE_CURRENT",
    "MOVED_BY_CUSTOMER",
    "check_day",
    "check_plan_size",
    "check_replan",
    "current_plan",
    "customer_acceptance",
    "make_current",
    "order_inputs",
    "plan_day",
    "plan_routes",
    "plan_unserved",
    "replan",
    "route_stops",
    "scheduled_pickups",
    "withdraw_order",
]

MAKE_CURRENT = ("if_better", "always")
"""When a new plan becomes the day's current plan: ``if_better`` (unless worse than the
current one beyond the margin, see the module's notes) or ``always``."""

MOVED_BY_CUSTOMER = "moved_by_customer"
"""Unserved reason of an order its customer moved to another day after the plan was made."""

_PLANNABLE = (OrderStatus.OPEN, OrderStatus.PLANNED)
_CLOSED_STOP = (StopStatus.DELIVERED, StopStatus.FAILED)
_ERROR_CHARS = 2_000


def current_plan(session: Session, depot_id: int, day: date) -> Plan | None:
    """The depot's current plan for the day, or ``None``."""
    return session.exec(
        select(Plan).where(
            Plan.depot_id == depot_id, Plan.service_day == day, Plan.status == PlanStatus.CURRENT
        )
    ).first()


def plan_routes(session: Session, plan_id: int) -> Sequence[Route]:
    """The plan's routes, in id order."""
    return session.exec(select(Route).where(Route.plan_id == plan_id).order_by(col(Route.id))).all()


def route_stops(session: Session, route_id: int) -> Sequence[RouteStop]:
    """The route's stops in visiting order."""
    return session.exec(
        select(RouteStop).where(RouteStop.route_id == route_id).order_by(col(RouteStop.sequence))
    ).all()


def plan_unserved(session: Session, plan_id: int) -> Sequence[UnservedOrder]:
    """The orders the plan leaves out, with their reasons."""
    return session.exec(
        select(UnservedOrder)
        .where(UnservedOrder.plan_id == plan_id)
        .order_by(col(UnservedOrder.order_id))
    ).all()


def check_day(session: Session, depot_id: int, day: date) -> Depot:
    """The checks :func:`plan_day` makes before it solves; returns the depot.

    Raises
    ------
    InvalidInput
        Unknown depot (field ``depot_id``), or a day larger than a plan may be (see
        :func:`check_plan_size`).
    Conflict
        The day is already in progress (a route was dispatched): use :func:`replan`.
    """
    depot = session.get(Depot, depot_id)
    if depot is None:
        raise InvalidInput("depot_id", f"no depot {depot_id} — check the depot id")
    check_plan_size(session, depot_id, day)
    previous = current_plan(session, depot_id, day)
    if previous is not None and any(
        stop.status is not StopStatus.PLANNED for stop in _plan_stops(session, previous)
    ):
        raise Conflict(
            f"plan {previous.id} of depot {depot.code!r} on {day} has dispatched routes — "
            "re-plan it with replan() instead of planning from scratch"
        )
    return depot


def check_plan_size(
    session: Session, depot_id: int, day: date, *, settings: Settings | None = None
) -> None:
    """Refuse a day too large to plan, before anything is queued or solved.

    The solver's memory grows with the square of the stops and with the vehicles, so a
    plan holds at most ``max_plan_stops`` stops (the depot's orders of the day and its
    scheduled return pickups) and ``max_plan_vehicles`` vehicles (its fleets' sizes).

    Parameters
    ----------
    session
        The store.
    depot_id, day
        The depot and its local service day.
    settings
        Where the limits come from; ``None`` reads the ``LASTMILE_*`` environment
        (:mod:`orchestrator.settings`).

    Raises
    ------
    InvalidInput
        Too many stops (field ``service_day``) or vehicles (field ``depot_id``), naming
        the limit and the setting that raises it.
    """
    settings = settings or Settings()
    orders = session.exec(
        select(sa.func.count(col(Order.id))).where(
            Order.depot_id == depot_id, Order.service_day == day
        )
    ).one()
    pickups = session.exec(
        select(sa.func.count(col(ItemReturn.id))).where(
            ItemReturn.depot_id == depot_id,
            ItemReturn.pickup_day == day,
            ItemReturn.status == ReturnStatus.SCHEDULED,
            col(ItemReturn.pickup_method).in_([PickupMethod.PICKUP, PickupMethod.LOCKER]),
        )
    ).one()
    if orders + pickups > settings.max_plan_stops:
        raise InvalidInput(
            "service_day",
            f"depot {depot_id} has {orders} orders and {pickups} return pickups on {day}, "
            f"more than the {settings.max_plan_stops} stops a plan may hold — move orders "
            f"to another day or depot, or raise {setting_name('max_plan_stops')} on the "
            "server",
        )
    vehicles = session.exec(
        select(sa.func.coalesce(sa.func.sum(col(Fleet.count)), 0)).where(Fleet.depot_id == depot_id)
    ).one()
    if vehicles > settings.max_plan_vehicles:
        raise InvalidInput(
            "depot_id",
            f"depot {depot_id}'s fleets have {vehicles} vehicles, more than the "
            f"{settings.max_plan_vehicles} a plan may use — make the fleets smaller, or "
            f"raise {setting_name('max_plan_vehicles')} on the server",
        )


def check_replan(session: Session, plan_id: int) -> Plan:
    """The checks :func:`replan` makes before it solves; returns the plan to re-plan.

    Raises
    ------
    NotFound
        No such plan.
    Conflict
        The plan is not the day's current plan.
    """
    previous = session.get(Plan, plan_id)
    if previous is None:
        raise NotFound("plan", plan_id)
    if previous.status is not PlanStatus.CURRENT:
        raise Conflict(
            f"plan {plan_id} is {previous.status.value}, not current — re-plan the day's "
            "current plan"
        )
    return previous


def plan_day(
    session: Session,
    depot_id: int,
    day: date,
    *,
    limits: Limits | None = None,
    travel: TravelTimes,
    seed: int = 0,
    job: Plan | None = None,
    make_current: str = "if_better",
    settings: Settings | None = None,
) -> Plan:
    """Plan the depot's day from scratch.

    Parameters
    ----------
    session
        The store.
    depot_id
        The depot whose open orders for ``day`` are planned.
    day
        Service day, the depot's local date.
    limits
        Solver limits (default ``Limits(time_limit=10)``, 10 seconds).
    travel
        Travel-time provider; default from the settings (straight lines with a detour
        factor, or the configured road graph).
    seed
        Seed of the solver's randomised parts (same data and seed, same plan).
    job
        A ``running`` plan row of this depot and day (see :mod:`orchestrator.jobs.plans`) to fill
        instead of adding a new row; ``None`` in a direct call. Its ``stats["make_current"]``,
        when set at queue time, overrides ``make_current``.
    make_current
        ``"if_better"`` (default) or ``"always"`` (see the module's notes).
    settings
        Where the margin ``plan_worse_margin_pct`` comes from (``None``: the environment).

    Returns
    -------
    Plan
        The new plan: current, or ``superseded`` with ``stats["comparison"]["made_current"]``
        false when it was worse than the current plan.

    Raises
    ------
    InvalidInput
        Unknown depot.
    Conflict
        The day is already in progress (a route was dispatched): use :func:`replan`.
    PlanningFailed
        The solve failed; the previous plan is still current.
    """
    if job is not None and (job.depot_id, job.service_day) != (depot_id, day):
        raise ValueError(f"plan job {job.id} is for depot {job.depot_id} on {job.service_day}")
    depot = check_day(session, depot_id, day)
    previous = current_plan(session, depot_id, day)
    return _plan(
        session, depot, day, previous, {}, None, limits, travel, seed, PlanKind.DAY, job,
        make_current, settings,
    )  # fmt: skip


def replan(
    session: Session,
    plan_id: int,
    *,
    limits: Limits | None = None,
    travel: TravelTimes,
    seed: int = 0,
    job: Plan | None = None,
    make_current: str = "if_better",
    settings: Settings | None = None,
) -> Plan:
    """Re-plan a day in progress, keeping what has been dispatched in place.

    Every route's dispatched, delivered and failed stops become the locked prefix of the
    same vehicle; the remaining open orders of the day (new ones included) are planned
    around them, starting from the current plan's routes. ``job``, ``make_current`` and
    ``settings`` are as in :func:`plan_day`.

    Raises
    ------
    NotFound
        No such plan.
    Conflict
        The plan is not the day's current plan.
    PlanningFailed
        The solve failed; ``plan_id`` is still current.
    """
    previous = check_replan(session, plan_id)
    if job is not None and job.replan_of_id != plan_id:
        raise ValueError(f"plan job {job.id} re-plans plan {job.replan_of_id}, not {plan_id}")
    depot = session.get(Depot, previous.depot_id)
    assert depot is not None
    locked: dict[str, list[int]] = {}
    initial: dict[str, list[str]] = {}
    for route in plan_routes(session, plan_id):
        assert route.id is not None
        stops = route_stops(session, route.id)
        locked[route.vehicle_id] = [s.order_id for s in stops if s.status is not StopStatus.PLANNED]
        initial[route.vehicle_id] = [stop_id(s.order_id) for s in stops]
    return _plan(
        session, depot, previous.service_day, previous, locked, initial, limits, travel, seed,
        PlanKind.REPLAN, job, make_current, settings,
    )  # fmt: skip


def scheduled_pickups(
    session: Session, depot_id: int, day: date, *, exclude: Sequence[int] = ()
) -> list[PickupInput]:
    """The depot's return pickups of the day: returns ``scheduled`` for collection at a
    place or a locker on ``day``, with their place, returned line and destination store.

    ``exclude`` leaves out returns by id (a return whose pickup is being chosen again).
    """
    rows = session.exec(
        select(ItemReturn)
        .where(
            ItemReturn.depot_id == depot_id,
            ItemReturn.pickup_day == day,
            ItemReturn.status == ReturnStatus.SCHEDULED,
            col(ItemReturn.pickup_method).in_([PickupMethod.PICKUP, PickupMethod.LOCKER]),
        )
        .order_by(col(ItemReturn.id))
    ).all()
    out = []
    for ret in rows:
        if ret.id in exclude or ret.pickup_place_id is None:
            continue
        place = session.get(Place, ret.pickup_place_id)
        item = session.get(OrderItem, ret.order_item_id)
        assert ret.id is not None and place is not None and item is not None
        store = (
            session.get(Store, ret.destination_store_id)
            if ret.destination_store_id is not None
            else None
        )
        out.append(pickup_input(ret.id, place, item, ret.window_start, ret.window_end, store))
    return out


def withdraw_order(session: Session, order_id: int, *, to_day: date) -> list[int]:
    """Take an order off the current plans of every day but ``to_day`` (its customer
    confirmed that day); the caller commits.

    The stop leaves its route (the route's other stops and times stay as planned, so the
    vehicle only skips it), the plan records the order as unserved with the reason
    :data:`MOVED_BY_CUSTOMER` ("moved to DAY by the customer"), counts one order fewer
    served, and says in ``stats["needs_replan"]`` that a re-plan would tighten it. A route
    already dispatched is never changed silently: that is a :class:`Conflict`, raised before
    anything is changed.

    Returns
    -------
    list[int]
        The ids of the plans changed.

    Raises
    ------
    Conflict
        The order's stop is on a route that has left the depot, naming the route.
    """
    rows = session.exec(
        select(RouteStop, Route, Plan)
        .join(Route, col(Route.id) == col(RouteStop.route_id))
        .join(Plan, col(Plan.id) == col(Route.plan_id))
        .where(
            RouteStop.order_id == order_id,
            Plan.status == PlanStatus.CURRENT,
            Plan.service_day != to_day,
        )
    ).all()
    for stop, route, plan in rows:
        if route.status is not RouteStatus.PLANNED or stop.status is not StopStatus.PLANNED:
            raise Conflict(
                f"order {order_id} is on route {route.id} ({route.vehicle_id}) of "
                f"{plan.service_day}, which has been dispatched — it can no longer move to "
                f"{to_day}; ask the depot to take it off the vehicle first"
            )
    changed = []
    for stop, _route, plan in rows:
        assert plan.id is not None
        detail = f"moved to {to_day} by the customer"
        session.delete(stop)
        session.add(
            UnservedOrder(
                plan_id=plan.id, order_id=order_id, reason=MOVED_BY_CUSTOMER, detail=detail
            )
        )
        plan.n_served = max(0, plan.n_served - 1)
        plan.n_unserved += 1
        needs = list(plan.stats.get("needs_replan") or [])
        plan.stats = {**plan.stats, "needs_replan": [*needs, f"order {order_id} {detail}"]}
        session.add(plan)
        changed.append(plan.id)
    return changed


def make_current(session: Session, plan_id: int) -> Plan:
    """Make a plan that was kept aside (worse than the day's current plan when it was made,
    see the module's notes) the day's current plan: the planner's explicit choice; commit.

    The orders on its routes become ``planned`` (events ``replanned``/``planned`` with their
    ETAs), those it leaves out ``open`` (``unserved``), its return pickups record where they
    are taken, and the previous current plan becomes ``superseded``.

    Raises
    ------
    NotFound
        No such plan.
    Conflict
        The plan was not kept aside (it is or was current, still runs or failed); the day's
        current plan is no longer the one it was compared with; a stop was dispatched or
        closed since it was made; or one of its orders moved to another day — re-plan then.
    """
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFound("plan", plan_id)
    comparison = dict(plan.stats.get("comparison") or {})
    if plan.status is not PlanStatus.SUPERSEDED or comparison.get("made_current") is not False:
        raise Conflict(
            f"plan {plan_id} is {plan.status.value} and was not kept aside — only a plan that "
            "was not made current when it was made can be made current; plan the day again"
        )
    depot = session.get(Depot, plan.depot_id)
    assert depot is not None and plan.id is not None
    session.exec(select(Depot).where(Depot.id == depot.id).with_for_update()).one()
    current = current_plan(session, plan.depot_id, plan.service_day)
    compared = comparison.get("current_plan_id")
    if current is None or current.id != compared:
        now = f"plan {current.id} is current" if current is not None else "no plan is current"
        raise Conflict(
            f"plan {plan_id} was compared with plan {compared}, but {now} now — plan the day again"
        )

    def closed(p: Plan) -> set[tuple[int, StopStatus]]:
        return {
            (s.order_id, s.status)
            for s in _plan_stops(session, p)
            if s.status is not StopStatus.PLANNED
        }

    if closed(current) != closed(plan) or any(
        r.status is RouteStatus.DISPATCHED for r in plan_routes(session, current.id or 0)
    ) != any(r.status is RouteStatus.DISPATCHED for r in plan_routes(session, plan.id)):
        raise Conflict(
            f"routes of plan {current.id} were dispatched or stops closed since plan {plan_id} "
            "was made — re-plan the day"
        )
    stops = _plan_stops(session, plan)
    moved = session.exec(
        select(Order.id).where(
            col(Order.id).in_(sorted({s.order_id for s in stops})),
            Order.service_day != plan.service_day,
        )
    ).all()
    if moved:
        raise Conflict(
            f"orders {sorted(m for m in moved if m is not None)} of plan {plan_id} moved to "
            "another day since it was made — re-plan the day"
        )
    previously = {s.order_id: s for s in _plan_stops(session, current)}
    current.status = PlanStatus.SUPERSEDED
    session.add(current)
    plan.status = PlanStatus.CURRENT
    comparison.update(
        made_current=True, why=f"{comparison.get('why', '')}; made current by the planner"
    )
    plan.stats = {**plan.stats, "comparison": comparison}
    session.add(plan)
    zone = ZoneInfo(depot.timezone)
    for route in plan_routes(session, plan.id):
        assert route.id is not None
        for stop in route_stops(session, route.id):
            if stop.status is not StopStatus.PLANNED:
                continue
            before = previously.get(stop.order_id)
            _set_status(session, stop.order_id, OrderStatus.PLANNED)
            events.record(
                session, stop.order_id,
                OrderEventKind.REPLANNED if before is not None else OrderEventKind.PLANNED,
                plan_id=plan.id,
                detail=f"on {route.vehicle_id}, stop {stop.sequence + 1}, ETA "
                f"{stop.arrival_at.astimezone(zone).isoformat()}",
                eta=stop.arrival_at, previous_eta=None if before is None else before.arrival_at,
            )  # fmt: skip
        returns = session.exec(select(ReturnStop).where(ReturnStop.route_id == route.id)).all()
        dropped = {r.return_id for r in returns if r.kind is ReturnStopKind.DROPOFF}
        for r in returns:
            if r.kind is ReturnStopKind.PICKUP:
                _carry(session, depot, r.return_id, to_store=r.return_id in dropped)
    for u in plan_unserved(session, plan.id):
        _set_status(session, u.order_id, OrderStatus.OPEN)
        events.record(
            session, u.order_id, OrderEventKind.UNSERVED, plan_id=plan.id,
            detail=f"{u.reason}: {u.detail}",
        )  # fmt: skip
    for ur in session.exec(select(UnservedReturn).where(UnservedReturn.plan_id == plan.id)):
        ret = session.get(ItemReturn, ur.return_id)
        if ret is not None:
            ret.carried_to, ret.onward_km, ret.onward_co2_kg = None, None, None
            session.add(ret)
    session.commit()
    session.refresh(plan)
    return plan


# -- implementation -----------------------------------------------------------------------------


def _plan_stops(session: Session, plan: Plan) -> Sequence[RouteStop]:
    return session.exec(select(RouteStop).join(Route).where(Route.plan_id == plan.id)).all()


def _gather(session: Session, depot: Depot, day: date, extra_ids: set[int]) -> list[OrderInput]:
    """The day's plannable orders plus ``extra_ids`` (locked ones), with lines and places."""
    condition = (
        (col(Order.depot_id) == depot.id)
        & (col(Order.service_day) == day)
        & col(Order.status).in_([s.value for s in _PLANNABLE])
    )
    if extra_ids:
        condition = condition | col(Order.id).in_(sorted(extra_ids))
    return order_inputs(
        session, session.exec(select(Order).where(condition).order_by(col(Order.id))).all()
    )


def order_inputs(session: Session, orders: Sequence[Order]) -> list[OrderInput]:
    """The planner's view of ``orders`` (in the given order): their lines, places and what
    their customers accept — as a day's plan reads them (also a retailer's stand-alone day,
    :mod:`orchestrator.planning.day_shares`)."""
    ids = [o.id for o in orders]
    items: dict[int, list[OrderItem]] = {}
    for item in session.exec(
        select(OrderItem).where(col(OrderItem.order_id).in_(ids)).order_by(col(OrderItem.id))
    ):
        items.setdefault(item.order_id, []).append(item)
    place_ids = {o.place_id for o in orders if o.place_id is not None}
    places = {
        p.id: p for p in session.exec(select(Place).where(col(Place.id).in_(sorted(place_ids))))
    }
    accepts = customer_acceptance(session, {o.customer_id for o in orders})
    return [
        dataclasses.replace(
            order_input(o, items.get(o.id or 0, []), places.get(o.place_id)),
            accepts_robot=accepts.get(o.customer_id, _NO_PROFILE)[0],
            accepts_courier=accepts.get(o.customer_id, _NO_PROFILE)[1],
        )
        for o in orders
    ]


_NO_PROFILE = (
    bool(CustomerProfile.model_fields["accepts_robot"].default),
    bool(CustomerProfile.model_fields["accepts_courier"].default),
)  # what a customer who never set a profile accepts: no robot, couriers welcome


def customer_acceptance(session: Session, customer_ids: set[int]) -> dict[int, tuple[bool, bool]]:
    """Customer id → (accepts a robot, accepts a courier), for the customers with a profile;
    the others accept what a new profile does (no robot, couriers welcome)."""
    if not customer_ids:
        return {}
    rows = session.exec(
        select(
            CustomerProfile.customer_id,
            CustomerProfile.accepts_robot,
            CustomerProfile.accepts_courier,
        ).where(col(CustomerProfile.customer_id).in_(sorted(customer_ids)))
    ).all()
    return {cid: (bool(robot), bool(courier)) for cid, robot, courier in rows}


def _plan(
    session: Session,
    depot: Depot,
    day: date,
    previous: Plan | None,
    locked: Mapping[str, Sequence[int]],
    initial: Mapping[str, Sequence[str]] | None,
    limits: Limits | None,
    travel: TravelTimes,
    seed: int,
    kind: PlanKind,
    job: Plan | None,
    make_current: str = "if_better",
    settings: Settings | None = None,
) -> Plan:
    if job is not None and job.stats.get("make_current") is not None:
        make_current = str(job.stats["make_current"])  # chosen when the job was queued
    if make_current not in MAKE_CURRENT:
        raise InvalidInput(
            "make_current",
            f"{make_current!r} is not one of {list(MAKE_CURRENT)} — 'if_better' keeps a worse "
            "plan aside, 'always' makes it current",
        )
    margin = (settings or Settings()).plan_worse_margin_pct
    limits = limits or Limits(time_limit=10.0)
    assert depot.id is not None
    previous_id = previous.id if previous is not None else None
    request: dict[str, Any] = {
        "depot_id": depot.id,
        "service_day": day,
        "kind": kind,
        "replan_of_id": previous_id,
        "time_limit_s": limits.time_limit,
        "seed": seed,
        "limits": dataclasses.asdict(limits),
        "started_at": (job.started_at if job is not None else None) or utcnow(),
    }
    try:
        fleets = depot_fleets(session, depot.id)
        orders = _gather(session, depot, day, {o for ids in locked.values() for o in ids})
        buffer = promise_buffer(
            session, depot.id, sorted({vt.profile for _, vt in fleets}), settings
        )  # the learned spread's quantile: planned times are the cautious ones
        mapped = build_problem(
            depot_input(depot), fleets_on_day(fleet_inputs(fleets), depot.timezone, day),
            orders, day=day,
            travel=travel,
            locked=locked, pickups=scheduled_pickups(session, depot.id, day), buffer=buffer,
        )  # fmt: skip
        known = set(mapped.fleet_of_vehicle)
        start = {v: s for v, s in (initial or {}).items() if v in known} or None
        if start is not None:
            start = {
                v: [s for s in stops if s in mapped.order_of_stop] for v, stops in start.items()
            }
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            solution = solve(mapped.problem, limits, initial_routes=start, seed=seed)
    except Exception as exc:
        session.rollback()
        failed = _row(job, request)
        failed.sqlmodel_update(
            {
                "status": PlanStatus.FAILED,
                "error": f"{type(exc).__name__}: {exc}"[:_ERROR_CHARS],
                "finished_at": utcnow(),
            }
        )
        session.add(failed)
        session.commit()
        raise PlanningFailed(
            f"planning depot {depot.code!r} on {day} failed ({exc}); the previous plan "
            f"{previous_id} is unchanged",
            plan_id=failed.id,
        ) from exc
    try:
        plan = _persist(
            session, depot, day, _row(job, request), mapped, solution,
            always=make_current == "always", margin_pct=margin, buffer=buffer,
        )  # fmt: skip
        plan.stats = {**plan.stats, "warnings": [str(w.message) for w in caught]}
        session.add(plan)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    session.refresh(plan)
    return plan


def _compare(
    current: Plan | None,
    served: int,
    cost: float,
    routes: int,
    margin_pct: float,
    always: bool,
    confidence: float | None = None,
) -> dict[str, Any]:
    """The new plan (``served`` orders, ``cost`` EUR, ``routes``) against the day's current
    plan, and whether it is made current (the rule of the module's notes).

    ``confidence`` is the new plan's promise confidence (``None``: no buffer): against a
    current plan planned on another one, costs are not like for like (a more cautious plan
    costs more by design), so only the orders served decide."""
    if current is None:
        return {"current_plan_id": None, "made_current": True, "why": "the day's first plan"}
    old_cost = float(current.cost or 0.0)
    delta = round(cost - old_cost, 2)
    pct = round(100.0 * delta / old_cost, 2) if old_cost > 0 else (0.0 if delta == 0 else 100.0)
    served_delta = served - current.n_served
    facts: dict[str, Any] = {
        "current_plan_id": current.id,
        "cost_delta": delta,
        "cost_delta_pct": pct,
        "routes_delta": routes - current.n_routes,
        "served_delta": served_delta,
        "margin_pct": margin_pct,
    }
    than = f"plan {current.id}"
    if served_delta < 0:
        verdict, why = False, f"it serves {-served_delta} fewer orders than {than}"
    elif served_delta > 0:
        verdict, why = True, f"it serves {served_delta} more orders than {than}"
    elif (was := Buffer.from_stats(current.stats.get("buffer")).confidence) != confidence:
        verdict = True
        why = (
            f"it is planned on promise confidence {_conf(confidence)} where {than} was "
            f"planned on {_conf(was)}: their costs are not compared ({delta:+,.2f} EUR, "
            f"{pct:+.1f} %)"
        )
    elif pct > margin_pct:
        verdict = False
        why = (
            f"it costs {delta:,.2f} EUR ({pct:+.1f} %) more than {than}, beyond the "
            f"{margin_pct:g} % margin"
        )
    else:
        verdict = True
        why = (
            f"it costs {delta:+,.2f} EUR ({pct:+.1f} %) against {than}, within the "
            f"{margin_pct:g} % margin"
        )
    if always and not verdict:
        return {**facts, "made_current": True, "why": f"{why}; made current as asked (always)"}
    return {**facts, "made_current": verdict, "why": why}


def _conf(confidence: float | None) -> str:
    return "none (no buffer)" if confidence is None else f"{confidence:g}"


def _row(job: Plan | None, request: Mapping[str, Any]) -> Plan:
    """The job's row with the request written into it, or a new row of the request."""
    if job is None:
        return Plan(status=PlanStatus.RUNNING, created_at=request["started_at"], **request)
    job.sqlmodel_update(dict(request))
    return job


def _persist(
    session: Session,
    depot: Depot,
    day: date,
    plan: Plan,
    mapped: MappedProblem,
    solution: Solution,
    *,
    always: bool = True,
    margin_pct: float = 0.0,
    buffer: Buffer | None = None,
) -> Plan:
    """Make ``plan`` (new, or a running job's row) the day's current plan, with everything
    in it — or, when it is worse than the current plan (:func:`_compare`) and not
    ``always``, store it aside without touching any order; the caller commits or rolls
    back."""
    # Serialise concurrent planners of one depot (PostgreSQL row lock; SQLite locks the file).
    session.exec(select(Depot).where(Depot.id == depot.id).with_for_update()).one()
    if plan.id is not None:
        # A job's row: still ours? (It is failed as interrupted when a new server started
        # while this solve ran on; the lock makes that update wait for this transaction.)
        stored = PlanStatus(
            session.exec(select(Plan.status).where(Plan.id == plan.id).with_for_update()).one()
        )
        if stored is not PlanStatus.RUNNING:
            raise Conflict(
                f"plan job {plan.id} is {stored.value}, no longer running — submit it again"
            )
    previous_id = plan.replan_of_id
    current = current_plan(session, depot.id or 0, day)
    if current is not None and current.id != previous_id:
        raise Conflict(
            f"depot {depot.code!r} on {day} was re-planned meanwhile (plan {current.id}); "
            "re-plan that plan"
        )
    served = sum(1 for r in solution.routes for v in r.visits if v.stop_id in mapped.order_of_stop)
    unserved = sum(1 for u in solution.unserved if u.stop_id in mapped.order_of_stop)
    unserved += len(mapped.left_out)
    buffer = buffer or Buffer()
    comparison = _compare(
        current, served, round(solution.cost, 4), len(solution.routes), margin_pct, always,
        buffer.confidence,
    )  # fmt: skip
    made = bool(comparison["made_current"])
    previously_routed: dict[int, RouteStop] = {}
    if current is not None:
        previously_routed = {s.order_id: s for s in _plan_stops(session, current)}
        if made:
            current.status = PlanStatus.SUPERSEDED
            session.add(current)

    solver_stats = _jsonable(solution.stats)
    assert isinstance(solver_stats, dict)
    stats: dict[str, Any] = {
        "status": solution.status.value,
        **solver_stats,
        "comparison": comparison,
        "buffer": buffer.as_stats(),  # what its times were planned on (spread_store)
    }
    if mapped.return_of_stop or mapped.left_out_returns:
        pickups = {p for p, r in mapped.return_of_stop.items() if p == pickup_stop_id(r)}
        on_routes = sum(1 for r in solution.routes for v in r.visits if v.stop_id in pickups)
        stats["returns"] = {
            "served": on_routes,
            "unserved": len(pickups) - on_routes + len(mapped.left_out_returns),
        }
    plan.sqlmodel_update(
        {
            "status": PlanStatus.CURRENT if made else PlanStatus.SUPERSEDED,
            "finished_at": utcnow(),
            "error": None,
            "wall_time_s": round(solution.wall_time, 3),
            "objective": int(solution.objective),
            "distance_m": solution.distance,
            "duration_s": solution.duration,
            "cost": round(solution.cost, 4),
            "co2_g": round(solution.co2_g, 3),
            "n_routes": len(solution.routes),
            "n_served": served,
            "n_unserved": unserved,
            "stats": stats,
        }
    )
    session.add(plan)
    session.flush()
    assert plan.id is not None

    zone = ZoneInfo(depot.timezone)

    def local(instant: datetime) -> str:
        # Event text is read beside the answers' times: the depot's clock, as they show it.
        return instant.astimezone(zone).isoformat()

    for r in solution.routes:
        kept = [
            previously_routed[mapped.order_of_stop[v.stop_id]]
            for v in r.visits
            if mapped.order_of_stop.get(v.stop_id) in previously_routed
        ]
        dispatched = any(s.status is not StopStatus.PLANNED for s in kept)
        route = Route(
            plan_id=plan.id,
            fleet_id=mapped.fleet_of_vehicle[r.vehicle_id],
            vehicle_id=r.vehicle_id,
            vehicle_type=r.vehicle_type,
            status=RouteStatus.DISPATCHED if dispatched else RouteStatus.PLANNED,
            start_at=mapped.at(r.start_time),
            end_at=mapped.at(r.end_time),
            distance_m=r.distance,
            duration_s=r.duration,
            cost=r.cost,
            co2_g=r.co2_g,
            load_at_start=list(r.load_at_start),
        )
        session.add(route)
        session.flush()
        assert route.id is not None
        for seq, v in enumerate(r.visits):
            if v.stop_id in mapped.return_of_stop:
                _persist_return_stop(session, depot, mapped, route, seq, v, apply=made)
                continue
            order_id = mapped.order_of_stop[v.stop_id]
            before = previously_routed.get(order_id)
            status = before.status if before is not None else StopStatus.PLANNED
            session.add(
                RouteStop(
                    route_id=route.id,
                    order_id=order_id,
                    sequence=seq,
                    status=status,
                    arrival_at=mapped.at(v.arrival),
                    service_start_at=mapped.at(v.start),
                    departure_at=mapped.at(v.departure),
                    wait_s=v.wait,
                    leg_distance_m=v.distance,
                    load_after=list(v.load),
                    closed_at=before.closed_at if before is not None else None,
                )
            )
            eta, previous = mapped.at(v.arrival), None if before is None else before.arrival_at
            if not made:
                continue  # kept aside: the orders stay as the current plan has them
            if status is not StopStatus.PLANNED:
                # Its order has moved on; nothing was re-planned for it, but a dispatched
                # stop's ETA may have moved (the webhook order.eta_moved).
                if (
                    status is StopStatus.DISPATCHED
                    and previous is not None
                    and abs((eta - previous).total_seconds()) >= 60
                ):
                    events.record(
                        session, order_id, OrderEventKind.ETA_MOVED, plan_id=plan.id,
                        detail=f"on {r.vehicle_id}, stop {seq + 1}, ETA {local(eta)} "
                        f"(was {local(previous)})", eta=eta, previous_eta=previous,
                    )  # fmt: skip
                continue
            _set_status(session, order_id, OrderStatus.PLANNED)
            kind = OrderEventKind.REPLANNED if before is not None else OrderEventKind.PLANNED
            events.record(
                session, order_id, kind, plan_id=plan.id,
                detail=f"on {r.vehicle_id}, stop {seq + 1}, ETA {local(eta)}",
                eta=eta, previous_eta=previous,
            )  # fmt: skip

    _persist_unserved_returns(session, plan.id, mapped, solution, apply=made)
    reasons = [
        (mapped.order_of_stop[u.stop_id], u.reason.value, u.detail)
        for u in solution.unserved
        if u.stop_id in mapped.order_of_stop
    ] + [(o.order_id, o.reason, o.detail) for o in mapped.left_out]
    for order_id, reason, detail in reasons:
        session.add(
            UnservedOrder(plan_id=plan.id, order_id=order_id, reason=reason, detail=detail[:1_000])
        )
        if not made:
            continue
        _set_status(session, order_id, OrderStatus.OPEN)
        events.record(
            session,
            order_id,
            OrderEventKind.UNSERVED,
            plan_id=plan.id,
            detail=f"{reason}: {detail}",
        )
    return plan


def _persist_return_stop(
    session: Session,
    depot: Depot,
    mapped: MappedProblem,
    route: Route,
    seq: int,
    v: Visit,
    *,
    apply: bool = True,
) -> None:
    """Store a return's pickup or drop-off visit; a pickup records where its route takes it
    (unless not ``apply``: a plan kept aside changes no return)."""
    assert route.id is not None
    return_id = mapped.return_of_stop[v.stop_id]
    pickup = v.stop_id == pickup_stop_id(return_id)
    session.add(
        ReturnStop(
            route_id=route.id,
            return_id=return_id,
            kind=ReturnStopKind.PICKUP if pickup else ReturnStopKind.DROPOFF,
            store_id=mapped.store_of_stop.get(v.stop_id),
            sequence=seq,
            arrival_at=mapped.at(v.arrival),
            service_start_at=mapped.at(v.start),
            departure_at=mapped.at(v.departure),
            wait_s=v.wait,
            leg_distance_m=v.distance,
            load_after=list(v.load),
        )
    )
    if pickup and apply:
        _carry(session, depot, return_id, to_store=return_id in mapped.to_store)


def _carry(session: Session, depot: Depot, return_id: int, *, to_store: bool) -> None:
    """Record where the route that picks the return up takes it: its store, or the depot
    (then with the onward transfer)."""
    ret = session.get(ItemReturn, return_id)
    assert ret is not None
    if to_store:
        ret.carried_to, ret.onward_km, ret.onward_co2_kg = CarriedTo.STORE, None, None
    else:
        # Back at the depot; a store destination is still a transfer away (the warehouse,
        # the outlet and the liquidation channel take it from the depot).
        store = (
            session.get(Store, ret.destination_store_id)
            if ret.destination_store_id is not None
            else None
        )
        km = (
            transfer_km(Point(depot.lon, depot.lat), Point(store.lon, store.lat))
            if store is not None
            else 0.0
        )
        ret.carried_to = CarriedTo.DEPOT
        ret.onward_km, ret.onward_co2_kg = round(km, 3), round(transfer_co2_kg(km), 4)
    ret.updated_at = utcnow()
    session.add(ret)


def _persist_unserved_returns(
    session: Session, plan_id: int, mapped: MappedProblem, solution: Solution, *, apply: bool = True
) -> None:
    """One row per pickup left out; the reason of a pair is that of the half that failed."""
    reasons: dict[int, tuple[str, str]] = {}
    for u in solution.unserved:
        return_id = mapped.return_of_stop.get(u.stop_id)
        if return_id is None:
            continue
        known = reasons.get(return_id)
        if known is None or known[0] == UnservedReason.PARTNER_UNSERVED.value:
            reasons[return_id] = (u.reason.value, u.detail)
    for left in mapped.left_out_returns:
        reasons[left.return_id] = (left.reason, left.detail)
    for return_id, (reason, detail) in sorted(reasons.items()):
        session.add(
            UnservedReturn(
                plan_id=plan_id, return_id=return_id, reason=reason, detail=detail[:1_000]
            )
        )
        if not apply:
            continue
        ret = session.get(ItemReturn, return_id)
        assert ret is not None
        ret.carried_to, ret.onward_km, ret.onward_co2_kg = None, None, None
        session.add(ret)


def _set_status(session: Session, order_id: int, status: OrderStatus) -> None:
    order = session.get(Order, order_id)
    assert order is not None
    if order.status is not status:
        order.status = status
        session.add(order)


def _jsonable(value: object) -> object:
    """Solver statistics made JSON-safe (numpy numbers, tuples)."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if hasattr(value, "item"):
        return value.item()
    return str(value)
