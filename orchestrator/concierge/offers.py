"""The concierge: an order's delivery options, holds on the one chosen, and its confirmation.

For an order still to be planned, :func:`options_for_order` offers the best options over the
next days — the places the customer's schedule puts them at × windows × service level
(standard, express, eco), each checked by cheap insertion against that day's tentative plan
(:mod:`orchestrator.planning.tentative`), priced, scored for this customer and explained
(:mod:`orchestrator.concierge.options`).

:func:`choose_option` reserves the chosen option: a hold that expires (15 minutes by
default) and takes its room in the day's tentative plan, so the next customer sees the day
with it. Choosing again releases the previous hold (and, for a confirmed one, counts as
rescheduled); the order's events record the hold (``held``). :func:`confirm_hold` writes the
place, the window and the day onto the order (event ``confirmed``) and takes it off every
other day's plan (:func:`orchestrator.planning.plans.withdraw_order`; 409 when it is on a
route that has left):
the next full plan builds its routing problem from them (:mod:`orchestrator.planning.problem`), so
it
may move the stop only within the promised window and place. An expired hold answers
:class:`~orchestrator.errors.Conflict`; it never blocks anything, since the tentative plan
leaves it out the moment it expires.

Learning: each choice counts for the chosen place and slot, and half against the other places
offered that day; delivery outcomes count through :func:`orchestrator.concierge.profiles.
on_stop_outcome`. A customer who declared no schedule rule is scored with the choices of
customers who choose alike (:func:`orchestrator.concierge.learning.neighbour_prior` over a bounded
sample of recent profiles).

Concurrency: on PostgreSQL, choosing locks the depot's row, so two customers cannot both take
the last room in a route; SQLite serialises the writes.
"""

from __future__ import annotations

import threading
import time as _time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from orchestrator._validation import validated
from orchestrator.concierge.learning import Outcome, SlotStats, neighbour_prior
from orchestrator.concierge.options import (
    DeliveryOption,
    OptionRequest,
    ParcelSize,
    ServiceLevel,
    delivery_options,
    evaluate_choice,
    offered_windows,
)
from orchestrator.concierge.profiles import (
    CustomerPreferences,
    preferences_of,
    record_outcome,
)
from orchestrator.errors import Conflict, InvalidInput, NotFound
from orchestrator.intake.catalog import customer_places
from orchestrator.models import (
    CustomerProfile,
    DeliveryOptionPublic,
    Depot,
    HoldPublic,
    HoldStatus,
    OptionChoice,
    OptionHold,
    OptionReason,
    Order,
    OrderEventKind,
    OrderItem,
    OrderOptionsPublic,
    OrderStatus,
    Place,
    PlaceKind,
    Plan,
    PlanStatus,
    Route,
    RouteStop,
)
from orchestrator.models.columns import utcnow
from orchestrator.planning.inputs import handling_skills
from orchestrator.planning.plans import withdraw_order
from orchestrator.planning.service import service_seconds
from orchestrator.planning.tentative import (
    DayCache,
    default_cache,
    order_size,
    tentative_day,
    tentative_days,
)
from orchestrator.planning.travel import TravelTimes, legs_for
from orchestrator.settings import Settings
from orchestrator.store import events
from orchestrator.store.engine import begin_write

__all__ = [
    "HOLD_MINUTES",
    "MAX_DAYS",
    "MAX_OPTIONS",
    "ROBOT_MAX_VOLUME_ML",
    "ROBOT_MAX_WEIGHT_G",
    "choose_option",
    "clear_caches",
    "confirm_hold",
    "expire_holds",
    "get_hold",
    "options_for_order",
    "release_hold",
]

HOLD_MINUTES = 15
"""How long a chosen option is held before it expires, minutes."""
MAX_DAYS = 14
"""Most days options may be asked for at once."""
MAX_OPTIONS = 20
"""Most options one answer may hold."""
ROBOT_MAX_WEIGHT_G = 10_000
"""Heaviest parcel a sidewalk robot is offered for, grams (its capacity is checked too)."""
ROBOT_MAX_VOLUME_ML = 40_000
"""Bulkiest parcel a sidewalk robot is offered for, millilitres."""
_NEIGHBOUR_SAMPLE = 200  # profiles the look-alike prior is computed from
_NEIGHBOUR_TTL_S = 60.0  # seconds the sample is reused
_OPEN = (OrderStatus.OPEN, OrderStatus.PLANNED)


@dataclass(frozen=True, slots=True)
class _Context:
    order: Order
    depot: Depot
    prefs: CustomerPreferences
    request: OptionRequest
    first: date
    travel: TravelTimes


def options_for_order(
    session: Session,
    order_id: int,
    *,
    days: int = 3,
    k: int = 5,
    now: datetime | None = None,
    customer_id: int | None = None,
    travel: TravelTimes,
    cache: DayCache | None = None,
    settings: Settings | None = None,
) -> OrderOptionsPublic:
    """The top ``k`` delivery options for an order over ``days`` days, best first.

    The first day is the order's service day, or the depot's today when that has passed.

    Parameters
    ----------
    session
        The store.
    order_id
        An order still to be planned (``open`` or ``planned``).
    days, k
        How many days to consider (1 to :data:`MAX_DAYS`) and options to return (1 to
        :data:`MAX_OPTIONS`).
    now
        The moment of asking (aware; default: now).
    customer_id
        Given for a customer's request: another customer's order is :class:`NotFound`.
    travel
        Travel provider (default: the settings').
    cache
        Timelines cache (default: the process's).
    settings
        The caller's (the app's): their ``promise_confidence`` (default: the environment's).

    Raises
    ------
    NotFound
        No such order (or not the customer's).
    Conflict
        The order is dispatched, delivered or failed: its delivery can no longer change.
    InvalidInput
        ``days`` or ``k`` out of range; the customer has no place.
    """
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput("days", f"ask for 1 to {MAX_DAYS} days, not {days}")
    if not 1 <= k <= MAX_OPTIONS:
        raise InvalidInput("k", f"ask for 1 to {MAX_OPTIONS} options, not {k}")
    now = _aware(now)
    ctx = _context(session, order_id, now, customer_id, travel)
    wanted = [ctx.first + timedelta(days=d) for d in range(days)]
    tentative = tentative_days(
        session, ctx.depot, wanted, now=now, travel=ctx.travel, cache=cache, settings=settings
    )
    plans = [t.plan for t in tentative]
    options = delivery_options(ctx.request, plans, legs_for(ctx.travel), k=k)
    zone = ZoneInfo(ctx.depot.timezone)
    if options and events.record_once(
        session, order_id, OrderEventKind.OPTIONS_OFFERED, detail=f"{len(options)} options"
    ):
        session.commit()  # the first offer (the webhook order.options_ready)
    return OrderOptionsPublic(
        order_id=order_id,
        days=[p.day for p in plans],
        options=[_public(o, ctx.prefs, zone) for o in options],
    )


def choose_option(
    session: Session,
    order_id: int,
    choice: OptionChoice | Mapping[str, Any],
    *,
    now: datetime | None = None,
    customer_id: int | None = None,
    hold_minutes: int = HOLD_MINUTES,
    travel: TravelTimes,
    cache: DayCache | None = None,
    settings: Settings | None = None,
) -> HoldPublic:
    """Hold the chosen option for the order until it expires; commit.

    The option must be one :func:`options_for_order` offers for that place, level and day
    (the window as offered), and must still fit the day's tentative plan. A previous hold of
    the order is released (a confirmed one counts as rescheduled for learning). ``settings``:
    the caller's, whose ``promise_confidence`` the day is checked at (default: the
    environment's).

    Raises
    ------
    NotFound
        No such order (or not the customer's).
    InvalidInput
        The place is not the customer's (``place_id``); the window has no offset, ends before
        it starts, lies outside one service day, in the past or too far ahead, or is not one
        offered (``window_start``/``window_end``).
    Conflict
        The order can no longer change, or the option no longer fits the day: ask again.
    """
    now = _aware(now)
    picked = validated(OptionChoice, choice)
    ctx = _context(session, order_id, now, customer_id, travel)
    names = {pid: name for name, pid in ctx.prefs.place_ids.items()}
    place = names.get(picked.place_id)
    if place is None:
        raise InvalidInput(
            "place_id",
            f"place {picked.place_id} is not one of your places {sorted(names)} — choose one of "
            "the options offered",
        )
    day = _service_day(picked, ctx)
    level = ServiceLevel(picked.service_level)
    # Serialise choosers of one depot before the day is read, so that two of them cannot
    # both take its last unit of capacity: PostgreSQL locks the depot's row, SQLite the
    # whole store (BEGIN IMMEDIATE; a deferred transaction would read a snapshot in which
    # the other's hold does not exist yet). The day is then read and checked inside.
    begin_write(session)
    session.exec(select(Depot).where(Depot.id == ctx.depot.id).with_for_update()).one()
    _replace_previous(session, ctx.order, now)
    session.flush()
    try:
        tentative = tentative_day(
            session, ctx.depot, day, now=now, travel=ctx.travel, cache=cache, settings=settings
        )
        option = evaluate_choice(
            ctx.request, tentative.plan, ctx.first, legs_for(ctx.travel), place=place,
            level=level, window_start=picked.window_start, window_end=picked.window_end,
        )  # fmt: skip
    except BaseException:
        session.rollback()  # the previous hold stays as it was
        raise
    if option is None:
        session.rollback()
        raise Conflict(
            f"{level.value} {picked.window_start.isoformat()} at {place} no longer fits the "
            "day's plan — ask for the options again"
        )
    hold = OptionHold(
        order_id=order_id,
        customer_id=ctx.order.customer_id,
        depot_id=ctx.depot.id or 0,
        service_day=day,
        place_id=picked.place_id,
        window_start=option.window_start,
        window_end=option.window_end,
        service_level=level.value,
        vehicle_type=option.vehicle_type,
        vehicle_id=option.route_id,
        route_id=tentative.route_ids.get(option.route_id),
        eta_start=option.eta_start,
        eta_end=option.eta_end,
        price_eur=option.price_eur,
        marginal_cost_eur=option.marginal_cost_eur,
        co2_g=option.co2_g,
        status=HoldStatus.HELD,
        created_at=now,
        expires_at=now + timedelta(minutes=hold_minutes),
    )
    session.add(hold)
    zone = ZoneInfo(ctx.depot.timezone)  # as the answers show it
    events.record(
        session, order_id, OrderEventKind.HELD,
        detail=f"{level.value} at {place} (place {picked.place_id}), "
        f"{option.window_start.astimezone(zone).isoformat()} to "
        f"{option.window_end.astimezone(zone).isoformat()}, held until "
        f"{hold.expires_at.astimezone(zone).isoformat()}",
    )  # fmt: skip
    offered = offered_windows(ctx.request, tentative.plan, ctx.first)
    others = [p for p, levels in offered.items() if p != place and any(levels.values())]
    record_outcome(
        session, ctx.order.customer_id, place, option.window_start, Outcome.CHOSEN, at=now,
        passed_over=others,
    )  # fmt: skip
    session.commit()
    session.refresh(hold)
    return HoldPublic.model_validate(hold)


def get_hold(
    session: Session,
    hold_id: int,
    *,
    now: datetime | None = None,
    customer_id: int | None = None,
) -> HoldPublic:
    """The hold; one whose time has passed is marked expired first.

    Raises
    ------
    NotFound
        No such hold (or not the customer's).
    """
    hold = _hold(session, hold_id, customer_id)
    _expire_if_due(session, hold, _aware(now))
    return HoldPublic.model_validate(hold)


def confirm_hold(
    session: Session,
    hold_id: int,
    *,
    now: datetime | None = None,
    customer_id: int | None = None,
) -> HoldPublic:
    """Confirm a held option: the order gets its place, window and service day; commit.

    Confirming a confirmed hold again changes nothing.

    Raises
    ------
    NotFound
        No such hold (or not the customer's).
    Conflict
        The hold expired or was released (choose again), the order can no longer change,
        or it is on a route of another day that has left the depot (named).
    """
    now = _aware(now)
    hold = _hold(session, hold_id, customer_id)
    if hold.status is HoldStatus.CONFIRMED:
        return HoldPublic.model_validate(hold)
    if _expire_if_due(session, hold, now) or hold.status is HoldStatus.EXPIRED:
        raise Conflict(
            f"hold {hold_id} expired at {hold.expires_at.isoformat()} — choose an option again"
        )
    if hold.status is HoldStatus.RELEASED:
        raise Conflict(f"hold {hold_id} was released — choose an option again")
    order = session.get(Order, hold.order_id)
    assert order is not None
    if order.status not in _OPEN:
        raise Conflict(
            f"order {order.id} is {order.status.value}: its delivery can no longer change"
        )
    try:
        # A promise is for one day: the order leaves every other day's plan (409 when it is
        # on a route that has left), before anything here changes.
        withdraw_order(session, order.id or 0, to_day=hold.service_day)
        _flag_moved_stop(session, order, hold)
    except BaseException:
        session.rollback()
        raise
    order.place_id = hold.place_id
    order.window_start, order.window_end = hold.window_start, hold.window_end
    order.service_day = hold.service_day
    hold.status, hold.closed_at = HoldStatus.CONFIRMED, now
    session.add(order)
    session.add(hold)
    depot = session.get(Depot, hold.depot_id)
    zone = ZoneInfo(depot.timezone if depot is not None else "UTC")  # as the answers show it
    events.record(
        session, hold.order_id, OrderEventKind.CONFIRMED,
        detail=f"hold {hold_id}: place {hold.place_id}, "
        f"{hold.window_start.astimezone(zone).isoformat()} to "
        f"{hold.window_end.astimezone(zone).isoformat()}",
    )  # fmt: skip
    session.commit()
    session.refresh(hold)
    return HoldPublic.model_validate(hold)


def _flag_moved_stop(session: Session, order: Order, hold: OptionHold) -> None:
    """Mark the current plan of the hold's day ``needs_replan`` when the order is on it and
    the confirmed place or window is not the one its stop was planned for — and so a plan of
    the day kept aside (it may still be made current); the caller commits.

    The plan was made from the order's place and window as they were (still on the order
    until this confirmation writes the hold's), so a stop of that plan keeps the old promise,
    not the new one, until a re-plan; a confirmation of the same place and window changes
    nothing. (A confirmation for another day takes the order off this day's plan instead:
    :func:`orchestrator.planning.plans.withdraw_order`.)
    """
    if (order.place_id, order.window_start, order.window_end) == (
        hold.place_id, hold.window_start, hold.window_end,
    ):  # fmt: skip
        return
    carrying = session.exec(
        select(Plan)
        .join(Route, col(Route.plan_id) == col(Plan.id))
        .join(RouteStop, col(RouteStop.route_id) == col(Route.id))
        .where(
            RouteStop.order_id == order.id,
            col(Plan.status).in_([PlanStatus.CURRENT, PlanStatus.SUPERSEDED]),
            Plan.service_day == hold.service_day,
        )
    ).all()  # one stop per order and plan: each plan once
    plans = [
        p
        for p in carrying
        if p.status is PlanStatus.CURRENT
        or (p.stats.get("comparison") or {}).get("made_current") is False
    ]
    if not plans:
        return
    depot = session.get(Depot, plans[0].depot_id)
    zone = ZoneInfo(depot.timezone if depot is not None else "UTC")
    moved = []
    if order.place_id != hold.place_id:
        moved.append(f"place {order.place_id} to place {hold.place_id}")
    if (order.window_start, order.window_end) != (hold.window_start, hold.window_end):
        new = f"{hold.window_start.astimezone(zone):%H:%M}-{hold.window_end.astimezone(zone):%H:%M}"
        moved.append(f"window to {new}")
    note = f"order {order.id} changed {' and '.join(moved)} by the customer — re-plan to keep it"
    for plan in plans:
        needs = list(plan.stats.get("needs_replan") or [])
        plan.stats = {**plan.stats, "needs_replan": [*needs, note]}
        session.add(plan)


def release_hold(
    session: Session,
    hold_id: int,
    *,
    now: datetime | None = None,
    customer_id: int | None = None,
) -> HoldPublic:
    """Give a held option up (its room goes back to the day); commit. Releasing a released
    or expired hold changes nothing.

    Raises
    ------
    NotFound
        No such hold (or not the customer's).
    Conflict
        The hold is confirmed: choose another option to change the delivery.
    """
    now = _aware(now)
    hold = _hold(session, hold_id, customer_id)
    if hold.status is HoldStatus.CONFIRMED:
        raise Conflict(
            f"hold {hold_id} is confirmed — choose another option for order {hold.order_id} "
            "to change its delivery"
        )
    if hold.status is HoldStatus.HELD and not _expire_if_due(session, hold, now):
        hold.status, hold.closed_at = HoldStatus.RELEASED, now
        session.add(hold)
        session.commit()
        session.refresh(hold)
    return HoldPublic.model_validate(hold)


def expire_holds(session: Session, *, now: datetime | None = None) -> int:
    """Mark every held option whose time has passed as expired; commit. Returns how many.

    Housekeeping only: expired holds are ignored by every check whether marked or not.
    """
    now = _aware(now)
    due = session.exec(
        select(OptionHold).where(
            OptionHold.status == HoldStatus.HELD, col(OptionHold.expires_at) <= now
        )
    ).all()
    for hold in due:
        hold.status, hold.closed_at = HoldStatus.EXPIRED, hold.expires_at
        session.add(hold)
    session.commit()
    return len(due)


def clear_caches() -> None:
    """Forget the cached timelines and the look-alike sample (tests; after restoring a store)."""
    default_cache.clear()
    _sample.clear()


# -- implementation -----------------------------------------------------------------------------


def _aware(now: datetime | None) -> datetime:
    if now is None:
        return utcnow()
    if now.tzinfo is None:
        raise InvalidInput("now", f"{now.isoformat()} has no offset — give an aware time")
    return now.astimezone(UTC)


def _context(
    session: Session,
    order_id: int,
    now: datetime,
    customer_id: int | None,
    travel: TravelTimes,
) -> _Context:
    row = session.exec(_context_statement(), params={"order_id": order_id}).first()
    if row is None or (customer_id is not None and row[0].customer_id != customer_id):
        raise NotFound("order", order_id)
    order, depot, profile, grams, millilitres, parcels = row
    if order.status not in _OPEN:
        raise Conflict(
            f"order {order_id} is {order.status.value}: its delivery can no longer change"
        )
    places = customer_places(session, order.customer_id)
    prefs = preferences_of(order.customer_id, profile, places)
    today = now.astimezone(ZoneInfo(depot.timezone)).date()
    first = max(order.service_day, today)
    demand = (int(grams or 0), int(millilitres or 0), int(parcels or 0))
    skills = handling_skills(order.fragile, order.signature_required, order.cold_chain)
    robot_ok = (
        demand[0] <= ROBOT_MAX_WEIGHT_G
        and demand[1] <= ROBOT_MAX_VOLUME_ML
        and not order.signature_required
        and not order.cold_chain
    )
    service = service_seconds(demand[2], signature=order.signature_required)
    request = OptionRequest(
        schedule=prefs.schedule,
        places=prefs.places,
        stats=prefs.stats,
        parcel=ParcelSize(demand, robot_ok=robot_ok, service_s=service, skills=skills),
        accepts_robot=prefs.accepts_robot,
        accepts_courier=prefs.accepts_courier,
        eco_max_wait_days=prefs.eco_max_wait_days,
        prefers_eco=prefs.prefers_eco,
        now=now,
        preferred_windows=prefs.preferred_windows,
        neighbours=None if prefs.declared else _neighbours(session, prefs, now),
    )
    return _Context(order, depot, prefs, request, first, travel)


@lru_cache(maxsize=1)
def _context_statement() -> Any:
    """The order, its depot, its customer's profile (if any) and its size, in one query."""
    grams, millilitres, parcels = order_size()
    size = (
        select(
            col(OrderItem.order_id).label("order_id"),
            grams.label("grams"),
            millilitres.label("ml"),
            parcels.label("parcels"),
        )
        .where(col(OrderItem.order_id) == sa.bindparam("order_id"))
        .group_by(col(OrderItem.order_id))
        .subquery()
    )
    return (
        select(  # type: ignore[call-overload]  # sqlmodel types select() for at most four columns
            Order, Depot, CustomerProfile, size.c.grams, size.c.ml, size.c.parcels
        )
        .join(Depot, col(Depot.id) == col(Order.depot_id))
        .outerjoin(CustomerProfile, col(CustomerProfile.customer_id) == col(Order.customer_id))
        .outerjoin(size, size.c.order_id == col(Order.id))
        .where(col(Order.id) == sa.bindparam("order_id"))
    )


def _service_day(picked: OptionChoice, ctx: _Context) -> date:
    start, end = picked.window_start, picked.window_end
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("window_start", "give the window with an offset, as offered")
    if end <= start:
        raise InvalidInput(
            "window_end",
            f"the window ends at {end.isoformat()} before it starts at {start.isoformat()} — "
            "swap start and end",
        )
    zone = ZoneInfo(ctx.depot.timezone)
    day = start.astimezone(zone).date()
    next_midnight = datetime.combine(day + timedelta(days=1), datetime.min.time(), zone)
    if end > next_midnight:
        raise InvalidInput(
            "window_end",
            f"the window {start.isoformat()} - {end.isoformat()} is outside the day: it must "
            f"end by midnight of {day} at the depot ({ctx.depot.timezone})",
        )
    if day < ctx.first:
        raise InvalidInput(
            "window_start",
            f"{day} is before {ctx.first}, the first day this order can be delivered",
        )
    if day >= ctx.first + timedelta(days=MAX_DAYS):
        raise InvalidInput(
            "window_start", f"{day} is more than {MAX_DAYS} days ahead — choose an earlier day"
        )
    return day


def _replace_previous(session: Session, order: Order, now: datetime) -> None:
    """Release the order's live holds; a confirmed one was a promise: it is rescheduled."""
    previous = session.exec(
        select(OptionHold).where(
            OptionHold.order_id == order.id,
            col(OptionHold.status).in_([HoldStatus.HELD.value, HoldStatus.CONFIRMED.value]),
        )
    ).all()
    for hold in previous:
        if hold.status is HoldStatus.CONFIRMED:
            place = session.get(Place, hold.place_id)
            if place is not None:
                record_outcome(
                    session, order.customer_id, place.name, hold.window_start,
                    Outcome.RESCHEDULED, at=now,
                )  # fmt: skip
        elif hold.expires_at <= now:
            hold.status, hold.closed_at = HoldStatus.EXPIRED, hold.expires_at
            session.add(hold)
            continue
        hold.status, hold.closed_at = HoldStatus.RELEASED, now
        session.add(hold)


def _hold(session: Session, hold_id: int, customer_id: int | None) -> OptionHold:
    hold = session.get(OptionHold, hold_id)
    if hold is None or (customer_id is not None and hold.customer_id != customer_id):
        raise NotFound("hold", hold_id)
    return hold


def _expire_if_due(session: Session, hold: OptionHold, now: datetime) -> bool:
    """Mark a held option past its time as expired (committed); whether it just expired."""
    if hold.status is HoldStatus.HELD and hold.expires_at <= now:
        hold.status, hold.closed_at = HoldStatus.EXPIRED, hold.expires_at
        session.add(hold)
        session.commit()
        session.refresh(hold)
        return True
    return False


def _public(o: DeliveryOption, prefs: CustomerPreferences, zone: ZoneInfo) -> DeliveryOptionPublic:
    return DeliveryOptionPublic(
        service_day=o.day,
        place_id=prefs.place_ids[o.place],
        place=o.place,
        service_level=o.level.value,
        window_start=o.window_start.astimezone(zone),
        window_end=o.window_end.astimezone(zone),
        eta_start=o.eta_start.astimezone(zone),
        eta_end=o.eta_end.astimezone(zone),
        vehicle_type=o.vehicle_type,
        price_eur=o.price_eur,
        marginal_cost_eur=o.marginal_cost_eur,
        co2_g=o.co2_g,
        greenest=o.greenest,
        score=round(o.score, 4),
        explanation=o.explanation,
        confidence=o.confidence,
    ).with_reasons([OptionReason(code=r.code, params=dict(r.params)) for r in o.reasons])


class _Sample:
    """Other customers' learned statistics and their places' kinds, refreshed every minute."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[object, tuple[float, list[tuple[int, SlotStats]], dict[str, str]]] = {}

    def get(self, session: Session) -> tuple[list[tuple[int, SlotStats]], dict[str, str]]:
        bind = session.get_bind()
        key = (id(bind), str(getattr(bind, "url", "")))
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and _time.monotonic() - entry[0] < _NEIGHBOUR_TTL_S:
            return entry[1], entry[2]
        rows = session.exec(
            select(CustomerProfile.customer_id, CustomerProfile.stats)
            .order_by(col(CustomerProfile.updated_at).desc())
            .limit(5 * _NEIGHBOUR_SAMPLE)
        ).all()
        stats = [(cid, SlotStats.from_json(s)) for cid, s in rows if s and s.get("slots")]
        stats = stats[:_NEIGHBOUR_SAMPLE]
        kinds: dict[str, str] = {}
        ids = [cid for cid, _ in stats]
        for lo in range(0, len(ids), 900):
            for name, kind in session.exec(
                select(Place.name, Place.kind).where(col(Place.customer_id).in_(ids[lo : lo + 900]))
            ):
                kinds.setdefault(name, PlaceKind(kind).value)
        with self._lock:
            self._entries[key] = (_time.monotonic(), stats, kinds)
        return stats, kinds

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_sample = _Sample()


def _neighbours(
    session: Session, prefs: CustomerPreferences, now: datetime
) -> dict[tuple[str, int, str], float] | None:
    stats, kinds = _sample.get(session)
    others = [s for cid, s in stats if cid != prefs.customer_id]
    if not others:
        return None
    mine_kinds = {name: info.kind for name, info in prefs.places.items()}
    return neighbour_prior(prefs.stats, others, at=now, kinds={**kinds, **mine_kinds})
