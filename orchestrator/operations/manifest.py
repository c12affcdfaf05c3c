"""The driver's manifest: a route's stops in visiting order with what the driver needs at the
door, as plain values (:func:`route_manifest`), and the three buttons a driver presses at a
stop turned into the stop outcomes of :mod:`orchestrator.operations.dispatch`
(:func:`record_manifest_outcome`).

A stop of the manifest is an order's delivery (``route_stops``) or a return's pickup or its
drop-off at a store (``return_stops``): the two tables share one sequence per route. For each
it gives the address, the window, the ETA, the parcels, the order's handling flags, the
customer's language and hand-off instructions (the profile's, then the place's own), and for a
closed stop its outcome as recorded on the order's events.

The manifest is read in a fixed number of queries whatever the route's length (one per table:
the route with its depot and vehicle type, the order stops with their orders, places,
customers and profiles, the parcels per order, the return stops, the closing events), so a
100-stop route reads as fast as a 10-stop one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, get_args

import sqlalchemy as sa
from sqlmodel import Session, col, select

from orchestrator.errors import InvalidInput, NotFound
from orchestrator.models import (
    Customer,
    CustomerProfile,
    Depot,
    Fleet,
    ItemReturn,
    Order,
    OrderEvent,
    OrderEventKind,
    OrderItem,
    Place,
    Plan,
    PlanStatus,
    ReturnStop,
    ReturnStopKind,
    Route,
    RouteStop,
    StopStatus,
    Store,
    VehicleType,
)
from orchestrator.operations.dispatch import mark_stop_outcome
from orchestrator.planning.inputs import handling_skills
from routing.model import VehicleKind

__all__ = [
    "MANIFEST_OUTCOMES",
    "MAX_RECIPIENT_CHARS",
    "Handoff",
    "Manifest",
    "ManifestStop",
    "ManifestStopKind",
    "OutcomeChoice",
    "first_name",
    "handoff_text",
    "outcome_for",
    "record_manifest_outcome",
    "route_manifest",
    "stop_handoffs",
]

ManifestStopKind = Literal["delivery", "pickup", "dropoff"]
"""What the driver does at a stop: deliver an order, collect a return, leave returns at a
store."""

OutcomeChoice = Literal["delivered", "not_at_home", "refused"]
"""The manifest's three buttons."""

MANIFEST_OUTCOMES: tuple[OutcomeChoice, ...] = get_args(OutcomeChoice)

MAX_RECIPIENT_CHARS = 200
"""Longest recipient name kept (the order event's detail holds 1,000 characters)."""


@dataclass(frozen=True, slots=True)
class Handoff:
    """How a parcel changes hands at a stop: the customer's language (as stored, e.g.
    ``"fi"``) and the hand-off instructions; ``None`` when unknown."""

    language: str | None
    instructions: str | None


@dataclass(frozen=True, slots=True)
class ManifestStop:
    """One stop of a manifest.

    ``id`` is the route stop's id for a delivery (what an outcome is recorded on) and the
    return stop's id for a pickup or drop-off; ``sequence`` counts from 0 over both kinds.
    Times are aware UTC instants; ``window_*`` are ``None`` for an order without a window.
    ``status`` is the stop's :class:`~orchestrator.models.StopStatus` value for a delivery and
    the return's :class:`~orchestrator.models.ReturnStatus` value for a pickup or drop-off.
    ``outcome`` is the detail of the event that closed a delivered or failed stop (e.g.
    ``"received by Aino"``). ``handling`` holds ``"fragile"``, ``"signature"``, ``"cold"`` as
    the order's flags ask.
    """

    id: int
    kind: ManifestStopKind
    sequence: int
    status: str
    order_id: int | None
    return_id: int | None
    customer_name: str | None
    place_name: str | None
    address: str | None
    lat: float | None
    lon: float | None
    window_start: datetime | None
    window_end: datetime | None
    eta: datetime
    departure_at: datetime
    parcels: int
    handling: tuple[str, ...]
    language: str | None
    handoff_instructions: str | None
    item: str | None
    outcome: str | None
    closed_at: datetime | None

    @property
    def first_name(self) -> str | None:
        """The customer's first name (what a robot's greeting uses), or ``None``."""
        return first_name(self.customer_name)

    @property
    def open(self) -> bool:
        """Whether a driver may still record an outcome here (a delivery not yet closed)."""
        return self.kind == "delivery" and self.status in (
            StopStatus.PLANNED.value,
            StopStatus.DISPATCHED.value,
        )


@dataclass(frozen=True, slots=True)
class Manifest:
    """A route's manifest: its header and its stops in visiting order.

    Distances in metres, times aware UTC instants, ``timezone`` the depot's IANA zone (the
    zone a driver reads times in). ``robot`` says the vehicle is a sidewalk robot (its type's
    kind is :attr:`routing.model.VehicleKind.ROBOT`): each stop then carries a greeting.
    ``current`` is false once the route's plan was superseded (outcomes are refused then).
    """

    route_id: int
    plan_id: int
    current: bool
    depot_code: str
    depot_name: str
    timezone: str
    service_day: date
    vehicle_id: str
    vehicle_type: str
    vehicle_kind: str
    robot: bool
    status: str
    start_at: datetime
    end_at: datetime
    distance_m: int
    duration_s: int
    stops: tuple[ManifestStop, ...]

    @property
    def km(self) -> float:
        """The route's length, kilometres."""
        return self.distance_m / 1_000

    @property
    def deliveries(self) -> int:
        """Order stops on the route."""
        return sum(1 for s in self.stops if s.kind == "delivery")


def first_name(name: str | None) -> str | None:
    """The first word of a customer's name (``"Aino Virtanen"`` → ``"Aino"``), or ``None``."""
    if not name:
        return None
    words = name.split()
    return words[0] if words else None


def handoff_text(profile: str | None, place: str | None) -> str | None:
    """One text of a stop's hand-off instructions: the customer's profile's, then the place's
    own (``"ring twice; Reception, 2nd floor"``); ``None`` when neither says anything."""
    parts: list[str] = []
    for text in (profile, place):
        cleaned = (text or "").strip().rstrip(";").strip()
        if cleaned and cleaned not in parts:
            parts.append(cleaned)
    return "; ".join(parts) or None


def route_manifest(session: Session, route_id: int) -> Manifest:
    """The manifest of route ``route_id``.

    Raises
    ------
    NotFound
        No such route.
    """
    head = session.exec(
        select(Route, Plan, Depot, VehicleType)
        .join(Plan, col(Plan.id) == Route.plan_id)
        .join(Depot, col(Depot.id) == Plan.depot_id)
        .join(Fleet, col(Fleet.id) == Route.fleet_id)
        .join(VehicleType, col(VehicleType.id) == Fleet.vehicle_type_id)
        .where(Route.id == route_id)
    ).first()
    if head is None:
        raise NotFound("route", route_id)
    route, plan, depot, vtype = head
    assert route.id is not None and plan.id is not None
    stops = [*_delivery_stops(session, route.id), *_return_stops(session, route.id)]
    stops.sort(key=lambda s: s.sequence)
    kind = VehicleKind(vtype.kind).value
    return Manifest(
        route_id=route.id,
        plan_id=plan.id,
        current=plan.status is PlanStatus.CURRENT,
        depot_code=depot.code,
        depot_name=depot.name,
        timezone=depot.timezone,
        service_day=plan.service_day,
        vehicle_id=route.vehicle_id,
        vehicle_type=route.vehicle_type,
        vehicle_kind=kind,
        robot=kind == VehicleKind.ROBOT.value,
        status=route.status.value,
        start_at=route.start_at,
        end_at=route.end_at,
        distance_m=route.distance_m,
        duration_s=route.duration_s,
        stops=tuple(stops),
    )


def stop_handoffs(session: Session, route_id: int) -> dict[int, Handoff]:
    """Each order stop of route ``route_id`` (by route stop id) with its customer's language
    and hand-off instructions, in one query; an unknown route gives ``{}``."""
    rows = session.exec(
        select(
            RouteStop.id,
            CustomerProfile.language,
            CustomerProfile.handoff_instructions,
            Place.instructions,
        )
        .join(Order, col(Order.id) == RouteStop.order_id)
        .join(Place, col(Place.id) == Order.place_id, isouter=True)
        .join(
            CustomerProfile,
            col(CustomerProfile.customer_id) == Order.customer_id,
            isouter=True,
        )
        .where(RouteStop.route_id == route_id)
    ).all()
    return {
        stop_id: Handoff(language or None, handoff_text(profile, place))
        for stop_id, language, profile, place in rows
        if stop_id is not None
    }


def outcome_for(choice: str, recipient: str = "") -> tuple[StopStatus, str]:
    """The stop outcome and the event's detail of a manifest button: ``delivered`` (with the
    recipient's name, when given) is ``delivered``; ``not_at_home`` and ``refused`` are
    ``failed``, the detail saying which (the concierge learns both as a missed drop).

    Raises
    ------
    InvalidInput
        ``outcome`` is none of the three, or the recipient's name is too long.
    """
    name = " ".join(recipient.split())
    if len(name) > MAX_RECIPIENT_CHARS:
        raise InvalidInput(
            "recipient", f"give at most {MAX_RECIPIENT_CHARS} characters, not {len(name)}"
        )
    if choice == "delivered":
        return StopStatus.DELIVERED, f"received by {name}" if name else "delivered"
    if choice == "not_at_home":
        return StopStatus.FAILED, "not at home"
    if choice == "refused":
        return StopStatus.FAILED, "refused by the recipient"
    raise InvalidInput(
        "outcome", f"give one of {', '.join(MANIFEST_OUTCOMES)}, not {choice[:40]!r}"
    )


def record_manifest_outcome(
    session: Session,
    route_id: int,
    stop_id: int,
    choice: str,
    *,
    recipient: str = "",
    at: datetime | None = None,
) -> RouteStop:
    """Record what a driver pressed at stop ``stop_id`` of route ``route_id``, through
    :func:`orchestrator.operations.dispatch.mark_stop_outcome` (the stop closes, the order gets
    its event, the concierge learns).

    Raises
    ------
    NotFound
        No such stop on that route.
    InvalidInput
        See :func:`outcome_for`.
    Conflict
        The stop is not dispatched, already closed, or its plan is no longer current.
    """
    stop = session.get(RouteStop, stop_id)
    if stop is None or stop.route_id != route_id:
        raise NotFound("route stop", stop_id)
    status, detail = outcome_for(choice, recipient)
    return mark_stop_outcome(session, stop_id, status, at=at, detail=detail)


# -- implementation ---------------------------------------------------------------------------


def _delivery_stops(session: Session, route_id: int) -> list[ManifestStop]:
    # Columns, not entities: building ~5 ORM objects per stop cost more than the query.
    rows = session.exec(
        select(  # type: ignore[call-overload, misc]  # select() is typed for at most 4 columns
            RouteStop.id,
            RouteStop.sequence,
            RouteStop.status,
            RouteStop.arrival_at,
            RouteStop.departure_at,
            RouteStop.closed_at,
            Order.id,
            Order.window_start,
            Order.window_end,
            Order.fragile,
            Order.signature_required,
            Order.cold_chain,
            Customer.name,
            Place.name,
            Place.address,
            Place.lat,
            Place.lon,
            Place.instructions,
            CustomerProfile.language,
            CustomerProfile.handoff_instructions,
        )
        .join(Order, col(Order.id) == RouteStop.order_id)
        .join(Customer, col(Customer.id) == Order.customer_id)
        .join(Place, col(Place.id) == Order.place_id, isouter=True)
        .join(
            CustomerProfile,
            col(CustomerProfile.customer_id) == Order.customer_id,
            isouter=True,
        )
        .where(RouteStop.route_id == route_id)
    ).all()
    order_ids = [row[6] for row in rows]
    parcels = _parcels(session, order_ids)
    outcomes = _outcomes(session, [row[6] for row in rows if StopStatus(row[2]) not in _OPEN])
    out = []
    for (
        stop_id,
        sequence,
        status,
        arrival_at,
        departure_at,
        closed_at,
        order_id,
        window_start,
        window_end,
        fragile,
        signature_required,
        cold_chain,
        customer_name,
        place_name,
        address,
        lat,
        lon,
        place_instructions,
        language,
        profile_instructions,
    ) in rows:
        status = StopStatus(status)
        out.append(
            ManifestStop(
                id=stop_id,
                kind="delivery",
                sequence=sequence,
                status=status.value,
                order_id=order_id,
                return_id=None,
                customer_name=customer_name,
                place_name=place_name,
                address=address,
                lat=lat,
                lon=lon,
                window_start=window_start,
                window_end=window_end,
                eta=arrival_at,
                departure_at=departure_at,
                parcels=parcels.get(order_id, 0),
                handling=tuple(sorted(handling_skills(fragile, signature_required, cold_chain))),
                language=language or None,
                handoff_instructions=handoff_text(profile_instructions, place_instructions),
                item=None,
                outcome=outcomes.get(order_id) if status not in _OPEN else None,
                closed_at=closed_at,
            )
        )
    return out


_OPEN = (StopStatus.PLANNED, StopStatus.DISPATCHED)


def _parcels(session: Session, order_ids: Sequence[int | None]) -> dict[int, int]:
    """Parcels per order (lines' quantity × parcels per unit), one grouped query."""
    if not order_ids:
        return {}
    rows = session.exec(
        select(
            OrderItem.order_id,
            sa.func.sum(col(OrderItem.quantity) * col(OrderItem.parcels)),
        )
        .where(col(OrderItem.order_id).in_(order_ids))
        .group_by(col(OrderItem.order_id))
    ).all()
    return {order_id: int(total or 0) for order_id, total in rows}


def _outcomes(session: Session, order_ids: Iterable[int | None]) -> dict[int, str]:
    """The detail of the latest delivered or failed event of each order."""
    wanted = [i for i in order_ids if i is not None]
    if not wanted:
        return {}
    events = session.exec(
        select(OrderEvent)
        .where(
            col(OrderEvent.order_id).in_(wanted),
            col(OrderEvent.kind).in_([OrderEventKind.DELIVERED, OrderEventKind.FAILED]),
        )
        .order_by(col(OrderEvent.id))
    ).all()
    found: dict[int, str] = {}
    for event in events:  # in id order: the latest wins
        found[event.order_id] = event.detail or event.kind.value
    return found


def _return_stops(session: Session, route_id: int) -> list[ManifestStop]:
    rows = session.exec(
        select(  # type: ignore[call-overload]  # select() is typed for at most four columns
            ReturnStop, ItemReturn, Place, Customer, CustomerProfile, Store
        )
        .join(ItemReturn, col(ItemReturn.id) == ReturnStop.return_id)
        .join(Customer, col(Customer.id) == ItemReturn.customer_id)
        .join(Place, col(Place.id) == ItemReturn.pickup_place_id, isouter=True)
        .join(
            CustomerProfile,
            col(CustomerProfile.customer_id) == ItemReturn.customer_id,
            isouter=True,
        )
        .join(Store, col(Store.id) == ReturnStop.store_id, isouter=True)
        .where(ReturnStop.route_id == route_id)
    ).all()
    out = []
    for stop, ret, place, customer, profile, store in rows:
        assert stop.id is not None and ret.id is not None
        pickup = stop.kind is ReturnStopKind.PICKUP
        out.append(
            ManifestStop(
                id=stop.id,
                kind="pickup" if pickup else "dropoff",
                sequence=stop.sequence,
                status=ret.status.value,
                order_id=ret.order_id,
                return_id=ret.id,
                customer_name=customer.name if pickup else None,
                place_name=(place.name if place is not None else None)
                if pickup
                else (store.name if store is not None else None),
                address=(place.address if place is not None else None) if pickup else None,
                lat=(place.lat if place else None) if pickup else (store.lat if store else None),
                lon=(place.lon if place else None) if pickup else (store.lon if store else None),
                window_start=ret.window_start if pickup else None,
                window_end=ret.window_end if pickup else None,
                eta=stop.arrival_at,
                departure_at=stop.departure_at,
                parcels=1,
                handling=(),
                language=(profile.language or None) if pickup and profile is not None else None,
                handoff_instructions=handoff_text(
                    profile.handoff_instructions if pickup and profile is not None else None,
                    place.instructions if pickup and place is not None else None,
                ),
                item=ret.sku,
                outcome=None,
                closed_at=None,
            )
        )
    return out
