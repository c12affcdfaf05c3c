"""The customer's live view of one order: where it stands, when it comes, by what, to where.

:func:`tracking_view` gathers, for one order and for its customer's eyes only, what the
customer's page (``/t/{token}``) and ``GET /orders/{id}/tracking`` show: the stage, the ETA
window, how many stops come before theirs, the kind of vehicle, their own places (for "I'm at
the café now"), their hand-off instructions and whether a return can start. It names nothing
of another customer: the stops before theirs are a count. It names the order's own retailer
(the shop the customer bought from) — never another retailer, whose orders may share the van —
and no retailer at all for the default one (a single-retailer installation names none).

The rules, stated once:

* **Stage.** ``delivered``/``failed`` once the stop is closed; ``on_its_way`` while the
  order's route is dispatched (or a commuter courier — "a neighbour on their way",
  ``neighbour`` — has picked it up; ``planned`` once they accepted it, their planned
  hand-over the ETA); ``planned`` when the order is on a route of the day's current
  plan; ``confirmed`` when the customer confirmed a delivery option the plan does not reflect
  yet (a choice confirmed after the plan was made, or for another day); ``unserved`` when the
  current plan leaves it out; ``open`` otherwise (waiting for a choice or a plan).
* **Which ETA.** The route stop's planned start of service (the hand-over, after any wait),
  unless a confirmed choice is newer than the stop's timing (the plan or the last re-plan of
  the order, from its events) on a route not yet left: then the chosen option's expected band
  (stage ``confirmed``, its ends rounded outwards to :data:`ETA_ROUNDING_S`) — a redirect
  stays possible and re-times the stop at once.
* **ETA window** (:func:`eta_window`): the hand-over :data:`ETA_HALF_WIDTH_S` either side,
  widened outwards to whole :data:`ETA_ROUNDING_S`; clipped to the promised window when the
  hand-over is inside it, so a punctual order is never shown outside its promise. When the
  hand-over falls after the promised window (late) the band is not clipped and ``late`` is set.
* **Time zone.** The customer's profile zone when they stored a profile, else the depot's.
* **A return** can start for a delivered order with a line that has a SKU and a unit not
  already being returned; otherwise ``return_blocked`` says why (``not_delivered``,
  ``no_sku``, ``all_returned``).
* **A redirect** ("I'm at … now") is offered while the order is on a route of the current
  plan, not closed, and not the next stop of a vehicle on its way (the rules of
  :mod:`orchestrator.operations.whereabouts`); otherwise ``redirect_blocked`` says why
  (``not_planned``, ``next_stop``, ``closed``).

:func:`set_handoff_instructions` changes only the hand-off instructions of the customer's
profile (the rest of it is kept as stored).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Session, col, select

from orchestrator.concierge.profiles import get_profile, put_profile
from orchestrator.errors import InvalidInput, NotFound
from orchestrator.intake.catalog import customer_places
from orchestrator.intake.orders import get_order, order_items
from orchestrator.models import (
    DEFAULT_RETAILER_ID,
    CourierJob,
    CustomerProfile,
    Depot,
    Fleet,
    HoldStatus,
    ItemReturn,
    JobStatus,
    OptionHold,
    Order,
    OrderEvent,
    OrderEventKind,
    OrderStatus,
    Place,
    Plan,
    Retailer,
    Route,
    RouteStatus,
    RouteStop,
    StopStatus,
    UnservedOrder,
    VehicleType,
)
from orchestrator.models.columns import utcnow
from orchestrator.operations.progress import RiskNotice, promise_risk
from orchestrator.planning.plans import current_plan, route_stops
from routing.model import VehicleKind

__all__ = [
    "ETA_HALF_WIDTH_S",
    "ETA_ROUNDING_S",
    "MAX_HANDOFF_CHARS",
    "HoldView",
    "ItemView",
    "PlaceView",
    "RedirectBlock",
    "ReturnBlock",
    "ReturnView",
    "Stage",
    "TrackingView",
    "eta_window",
    "set_handoff_instructions",
    "tracking_view",
    "vehicle_kinds",
]

ETA_HALF_WIDTH_S = 10 * 60
"""Half-width of the ETA window shown to the customer, seconds, before rounding."""
ETA_ROUNDING_S = 5 * 60
"""The ETA window's ends are rounded outwards to whole multiples of this, seconds."""
MAX_HANDOFF_CHARS = 500
"""Longest hand-off instructions, characters (as the profile stores them)."""

_KEPT_PROFILE_FIELDS = {
    "timezone", "default_place_id", "preferred_windows", "accepts_robot", "accepts_courier",
    "prefers_eco", "eco_max_wait_days", "language",
}  # fmt: skip
"""The profile's fields written back unchanged beside new hand-off instructions."""
_CLOSED = (StopStatus.DELIVERED, StopStatus.FAILED)
_OPEN = (OrderStatus.OPEN, OrderStatus.PLANNED)


class Stage(StrEnum):
    """Where the order stands for its customer (see the module's notes)."""

    OPEN = "open"
    CONFIRMED = "confirmed"
    PLANNED = "planned"
    UNSERVED = "unserved"
    ON_ITS_WAY = "on_its_way"
    DELIVERED = "delivered"
    FAILED = "failed"


class ReturnBlock(StrEnum):
    """Why no return can start from this order."""

    NOT_DELIVERED = "not_delivered"
    NO_SKU = "no_sku"
    ALL_RETURNED = "all_returned"


class RedirectBlock(StrEnum):
    """Why the order cannot be sent to another of the customer's places now."""

    NOT_PLANNED = "not_planned"
    NEXT_STOP = "next_stop"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class PlaceView:
    """One of the customer's places; ``current``: the order goes there."""

    id: int
    name: str
    kind: str
    address: str | None
    current: bool


@dataclass(frozen=True, slots=True)
class ItemView:
    """A line of the order; ``returnable``: a unit of it may start a return now."""

    id: int
    description: str
    quantity: int
    sku: str | None
    returnable: bool


@dataclass(frozen=True, slots=True)
class ReturnView:
    """A return started from the order: its line, status and where it goes."""

    id: int
    order_item_id: int
    status: str
    destination_name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class HoldView:
    """The customer's latest choice of a delivery option, held or confirmed (UTC instants;
    price EUR, CO2 grams)."""

    id: int
    status: HoldStatus
    service_day: date
    place_id: int
    place: str
    service_level: str
    window: tuple[datetime, datetime]
    eta_window: tuple[datetime, datetime]
    vehicle_kind: str | None
    price_eur: float
    co2_g: float
    expires_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class TrackingView:
    """What the customer sees of their order (see the module's notes for each rule).

    Times are aware UTC instants; show them in ``timezone``. ``vehicle_kind`` is a
    :class:`routing.model.VehicleKind` value (``van``, ``e-van``, ``cargo-bike``, ``robot``,
    ``courier``) or ``None`` before a vehicle is known.
    """

    order_id: int
    customer_id: int
    reference: str | None
    stage: Stage
    order_status: OrderStatus
    service_day: date
    timezone: str
    language: str | None
    window: tuple[datetime, datetime] | None
    eta: datetime | None
    eta_window: tuple[datetime, datetime] | None
    late: bool
    stops_before: int | None
    vehicle_kind: str | None
    place: PlaceView | None
    places: tuple[PlaceView, ...]
    handoff_instructions: str | None
    closed_at: datetime | None
    hold: HoldView | None
    can_choose: bool
    can_redirect: bool
    redirect_blocked: RedirectBlock | None
    can_return: bool
    return_blocked: ReturnBlock | None
    items: tuple[ItemView, ...]
    returns: tuple[ReturnView, ...]
    as_of: datetime
    risk: RiskNotice | None = None
    """The notice that the route runs late and the promised window will likely be missed,
    with the choices left (:func:`orchestrator.operations.progress.promise_risk`)."""
    neighbour: bool = False
    """A commuter courier ("a neighbour on their way") brings it (:mod:`orchestrator.commuting`)."""
    handoff_code: str | None = None
    """The code the neighbour gives at the door, while a neighbour brings it."""
    retailer: str | None = None
    """The name of the order's own retailer; ``None`` for the default retailer (never named)."""


def _retailer_name(session: Session, order: Order) -> str | None:
    """The order's own retailer's name, or ``None`` for the default retailer."""
    if order.retailer_id == DEFAULT_RETAILER_ID:
        return None
    retailer = session.get(Retailer, order.retailer_id)
    return None if retailer is None else retailer.name


def eta_window(
    service_start: datetime, window: tuple[datetime, datetime] | None
) -> tuple[tuple[datetime, datetime], bool]:
    """The band shown around a planned hand-over, and whether it is late.

    Parameters
    ----------
    service_start
        The planned start of service (aware).
    window
        The promised window (aware start and end), if any.

    Returns
    -------
    tuple
        ``((start, end), late)``: ``service_start`` +- :data:`ETA_HALF_WIDTH_S` rounded
        outwards to :data:`ETA_ROUNDING_S`; clipped to ``window`` unless the hand-over is
        after it (``late``).
    """
    at = service_start.astimezone(UTC)
    half = timedelta(seconds=ETA_HALF_WIDTH_S)
    low, high = _floor(at - half), _ceil(at + half)
    late = window is not None and at > window[1]
    if window is not None and not late:
        low, high = max(low, window[0].astimezone(UTC)), min(high, window[1].astimezone(UTC))
    return (low, high), late


def tracking_view(
    session: Session,
    order_id: int,
    *,
    customer_id: int | None = None,
    now: datetime | None = None,
) -> TrackingView:
    """The customer's view of an order.

    Parameters
    ----------
    session
        The store.
    order_id
        The order.
    customer_id
        The caller's customer (a customer key or a customer's link): another customer's
        order is :class:`NotFound`, as an unknown one. ``None`` for staff.
    now
        The moment of asking (aware; default now): a held choice past its time is left out.

    Raises
    ------
    NotFound
        No such order, or not the customer's.
    InvalidInput
        ``now`` without an offset.
    """
    now = _aware(now)
    order = get_order(session, order_id, customer_id=customer_id)
    if order is None or order.id is None:
        raise NotFound("order", order_id)
    depot = session.get(Depot, order.depot_id)
    assert depot is not None
    profile = session.get(CustomerProfile, order.customer_id)
    zone = profile.timezone if profile is not None else depot.timezone
    window = _window(order)

    plan = current_plan(session, order.depot_id, order.service_day)
    found = _stop_of(session, plan, order.id)
    hold = _latest_hold(session, order.id, now)
    confirmed = hold if hold is not None and hold.status is HoldStatus.CONFIRMED else None
    eta: datetime | None = None
    band: tuple[datetime, datetime] | None = None
    late = False
    stops_before: int | None = None
    kind: str | None = None
    closed_at: datetime | None = None
    redirect_blocked: RedirectBlock | None = RedirectBlock.NOT_PLANNED
    stage: Stage | None = None
    if found is not None:
        route, stop = found
        remaining = [s for s in route_stops(session, route.id or 0) if s.status not in _CLOSED]
        closed_at = stop.closed_at
        if stop.status in _CLOSED:
            stage = Stage.DELIVERED if stop.status is StopStatus.DELIVERED else Stage.FAILED
            redirect_blocked = RedirectBlock.CLOSED
        elif route.status is RouteStatus.DISPATCHED:
            stage = Stage.ON_ITS_WAY
            first = remaining[0].id == stop.id
            redirect_blocked = RedirectBlock.NEXT_STOP if first else None
        elif not _stale(session, order.id, plan, confirmed):
            stage = Stage.PLANNED
            redirect_blocked = None
        else:
            # A choice confirmed after the plan timed this stop: its band until the plan
            # follows (a re-plan, or a redirect, which stays possible meanwhile).
            redirect_blocked = None
        if stage is not None:
            eta = stop.service_start_at
            band, late = eta_window(stop.service_start_at, window)
            stops_before = sum(1 for s in remaining if s.sequence < stop.sequence)
            kind = _route_kind(session, route)
    courier = _courier_job(session, order.id) if found is None else None
    if stage is None and courier is not None:
        # A neighbour on their way: on no van route, their planned hand-over is the ETA.
        stage = Stage.ON_ITS_WAY if courier.status is JobStatus.PICKED_UP else Stage.PLANNED
        eta = courier.eta
        band, late = eta_window(courier.eta, window)
        kind = VehicleKind.COURIER.value
    if stage is None:
        if order.status is OrderStatus.DELIVERED:
            stage = Stage.DELIVERED
        elif order.status is OrderStatus.FAILED:
            stage = Stage.FAILED
        elif confirmed is not None:
            stage = Stage.CONFIRMED
            band = (_floor(confirmed.eta_start), _ceil(confirmed.eta_end))
            kind = _type_kind(session, confirmed.vehicle_type)
        elif plan is not None and _unserved(session, plan, order.id):
            stage = Stage.UNSERVED
        else:
            stage = Stage.OPEN
    if order.status in (OrderStatus.DELIVERED, OrderStatus.FAILED):
        redirect_blocked = RedirectBlock.CLOSED

    places = tuple(
        PlaceView(p.id or 0, p.name, p.kind.value, p.address, p.id == order.place_id)
        for p in customer_places(session, order.customer_id)
    )
    current = next((p for p in places if p.current), None)
    items, returns, return_blocked = _returns(session, order)
    return TrackingView(
        order_id=order.id,
        customer_id=order.customer_id,
        retailer=_retailer_name(session, order),
        reference=order.reference,
        stage=stage,
        order_status=order.status,
        service_day=order.service_day,
        timezone=zone,
        language=profile.language if profile is not None else None,
        window=window,
        eta=eta,
        eta_window=band,
        late=late,
        stops_before=stops_before,
        vehicle_kind=kind,
        place=current,
        places=places,
        handoff_instructions=profile.handoff_instructions if profile is not None else None,
        closed_at=closed_at,
        hold=None if hold is None else _hold_view(session, hold),
        can_choose=order.status in _OPEN,
        can_redirect=redirect_blocked is None,
        redirect_blocked=redirect_blocked,
        can_return=return_blocked is None,
        return_blocked=return_blocked,
        items=items,
        returns=returns,
        as_of=now,
        risk=promise_risk(session, order),
        neighbour=courier is not None,
        handoff_code=courier.handoff_code if courier is not None else None,
    )


def set_handoff_instructions(
    session: Session,
    order_id: int,
    text: str | None,
    *,
    customer_id: int | None = None,
    now: datetime | None = None,
) -> str | None:
    """Change the hand-off instructions of the order's customer; commit. Returns them.

    Only the instructions change: the rest of the profile is written back as stored (a
    customer without a stored profile gets one in the depot's time zone). Blank text clears
    them.

    Raises
    ------
    NotFound
        No such order, or not the customer's.
    InvalidInput
        Longer than :data:`MAX_HANDOFF_CHARS` (``handoff_instructions``).
    """
    order = get_order(session, order_id, customer_id=customer_id)
    if order is None:
        raise NotFound("order", order_id)
    cleaned = (text or "").strip() or None
    if cleaned is not None and len(cleaned) > MAX_HANDOFF_CHARS:
        raise InvalidInput(
            "handoff_instructions",
            f"{len(cleaned)} characters — keep the instructions to {MAX_HANDOFF_CHARS}",
        )
    stored = session.get(CustomerProfile, order.customer_id)
    current = get_profile(session, order.customer_id)
    data = current.model_dump(include=_KEPT_PROFILE_FIELDS)
    if stored is None:
        depot = session.get(Depot, order.depot_id)
        assert depot is not None
        data["timezone"] = depot.timezone
    data["schedule"] = [
        {"place_id": r.place_id, "weekdays": r.weekdays, "start": r.start, "end": r.end}
        for r in current.schedule
    ]
    data["handoff_instructions"] = cleaned
    return put_profile(session, order.customer_id, data, now=now).handoff_instructions


def vehicle_kinds(session: Session) -> dict[str, str]:
    """Each vehicle type's name and its kind (``van``, ``robot`` …), to say plainly what a
    delivery option's ``vehicle_type`` is."""
    rows = session.exec(select(VehicleType.name, VehicleType.kind)).all()
    return {name: str(kind) for name, kind in rows}  # StrEnum: its value


# -- implementation -----------------------------------------------------------------------------


def _aware(now: datetime | None) -> datetime:
    if now is None:
        return utcnow()
    if now.tzinfo is None or now.utcoffset() is None:
        raise InvalidInput("now", f"{now.isoformat()} has no offset — give an aware time")
    return now.astimezone(UTC)


def _floor(t: datetime) -> datetime:
    seconds = int(t.timestamp())
    return datetime.fromtimestamp(seconds - seconds % ETA_ROUNDING_S, UTC)


def _ceil(t: datetime) -> datetime:
    seconds = int(t.timestamp()) + (1 if t.microsecond else 0)
    return datetime.fromtimestamp(-(-seconds // ETA_ROUNDING_S) * ETA_ROUNDING_S, UTC)


def _window(order: Order) -> tuple[datetime, datetime] | None:
    if order.window_start is None or order.window_end is None:
        return None
    return order.window_start, order.window_end


def _stop_of(session: Session, plan: Plan | None, order_id: int) -> tuple[Route, RouteStop] | None:
    """The order's route and stop in the plan, if it has one."""
    if plan is None:
        return None
    row = session.exec(
        select(Route, RouteStop)
        .join(RouteStop, col(Route.id) == RouteStop.route_id)
        .where(Route.plan_id == plan.id, RouteStop.order_id == order_id)
    ).first()
    return None if row is None else (row[0], row[1])


def _courier_job(session: Session, order_id: int) -> CourierJob | None:
    """The commuter courier's job that brings the order now (accepted or picked up)."""
    return session.exec(
        select(CourierJob)
        .where(
            CourierJob.order_id == order_id,
            col(CourierJob.status).in_([JobStatus.ACCEPTED.value, JobStatus.PICKED_UP.value]),
        )
        .order_by(col(CourierJob.id).desc())
    ).first()


def _stale(
    session: Session, order_id: int, plan: Plan | None, confirmed: OptionHold | None
) -> bool:
    """Whether a confirmed choice is newer than the plan's timing of the order's stop."""
    if confirmed is None or confirmed.closed_at is None:
        return False
    timed = _timed_at(session, order_id, plan)
    return timed is not None and timed < confirmed.closed_at


def _timed_at(session: Session, order_id: int, plan: Plan | None) -> datetime | None:
    """When the plan last timed the order's stop (its planned or re-planned event)."""
    if plan is None:
        return None
    at: datetime | None = session.exec(
        select(sa.func.max(OrderEvent.at)).where(
            OrderEvent.order_id == order_id,
            OrderEvent.plan_id == plan.id,
            col(OrderEvent.kind).in_([OrderEventKind.PLANNED, OrderEventKind.REPLANNED]),
        )
    ).one()
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=UTC)  # SQLite keeps UTC without the offset
    return at


def _latest_hold(session: Session, order_id: int, now: datetime) -> OptionHold | None:
    """The order's latest choice that still counts: confirmed, or held and not expired."""
    holds = session.exec(
        select(OptionHold)
        .where(
            OptionHold.order_id == order_id,
            col(OptionHold.status).in_([HoldStatus.HELD, HoldStatus.CONFIRMED]),
        )
        .order_by(col(OptionHold.id).desc())
    ).all()
    for hold in holds:
        if hold.status is HoldStatus.CONFIRMED or hold.expires_at > now:
            return hold
    return None


def _hold_view(session: Session, hold: OptionHold) -> HoldView:
    place = session.get(Place, hold.place_id)
    return HoldView(
        id=hold.id or 0,
        status=hold.status,
        service_day=hold.service_day,
        place_id=hold.place_id,
        place=place.name if place is not None else "",
        service_level=hold.service_level,
        window=(hold.window_start, hold.window_end),
        eta_window=(hold.eta_start, hold.eta_end),
        vehicle_kind=_type_kind(session, hold.vehicle_type),
        price_eur=hold.price_eur,
        co2_g=hold.co2_g,
        expires_at=hold.expires_at,
        closed_at=hold.closed_at,
    )


def _route_kind(session: Session, route: Route) -> str | None:
    fleet = session.get(Fleet, route.fleet_id)
    vtype = None if fleet is None else session.get(VehicleType, fleet.vehicle_type_id)
    return None if vtype is None else vtype.kind.value


def _type_kind(session: Session, name: str) -> str | None:
    vtype = session.exec(select(VehicleType).where(VehicleType.name == name)).first()
    return None if vtype is None else vtype.kind.value


def _unserved(session: Session, plan: Plan, order_id: int) -> bool:
    return (
        session.exec(
            select(UnservedOrder.id).where(
                UnservedOrder.plan_id == plan.id, UnservedOrder.order_id == order_id
            )
        ).first()
        is not None
    )


def _returns(
    session: Session, order: Order
) -> tuple[tuple[ItemView, ...], tuple[ReturnView, ...], ReturnBlock | None]:
    """The order's lines (returnable or not), its returns, and why none may start."""
    assert order.id is not None
    started = session.exec(
        select(ItemReturn).where(ItemReturn.order_id == order.id).order_by(col(ItemReturn.id))
    ).all()
    counts: dict[int, int] = {}
    for r in started:
        counts[r.order_item_id] = counts.get(r.order_item_id, 0) + 1
    delivered = order.status is OrderStatus.DELIVERED
    items = tuple(
        ItemView(
            id=i.id or 0,
            description=i.description,
            quantity=i.quantity,
            sku=i.sku,
            returnable=delivered and i.sku is not None and counts.get(i.id or 0, 0) < i.quantity,
        )
        for i in order_items(session, order.id)
    )
    returns = tuple(
        ReturnView(r.id or 0, r.order_item_id, r.status.value, r.destination_name, r.created_at)
        for r in started
    )
    if not delivered:
        block: ReturnBlock | None = ReturnBlock.NOT_DELIVERED
    elif not any(i.sku is not None for i in items):
        block = ReturnBlock.NO_SKU
    elif not any(i.returnable for i in items):
        block = ReturnBlock.ALL_RETURNED
    else:
        block = None
    return items, returns, block
