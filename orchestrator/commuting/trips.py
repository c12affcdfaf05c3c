"""Couriers and their trips: register a courier, register a trip and make its offer.

:func:`register_trip` matches a trip to the depot whose pickup costs the commuter the least
detour (straight lines: origin → depot → destination against origin → destination), on the
service day its leaving window starts on at that depot; gathers the depot's orders of that day
still open for a courier (:func:`open_for_courier`); asks the offer rule
(:func:`orchestrator.commuting.bundle.best_bundle`) for the bundle and the payout rule
(:func:`orchestrator.commuting.payout.decide`) for its price; and stores the trip with its
offer — or with the reason no offer was made — in one transaction. Nothing of the plan
changes until the courier accepts (:mod:`orchestrator.commuting.offers`).

**Open for a courier**: an order of the depot's day that is ``open`` or ``planned``, whose
stop (if the current plan has one) is neither dispatched nor closed, and that no live offer
holds (``offered`` and not past its deadline, or ``accepted``). Customers who refuse
couriers are left out by the problem builder, never offered.

**The answer's deadline**: :data:`ANSWER_WITHIN_S` after the offer is made, but no later than
the ride's planned departure, and never less than :data:`MIN_ANSWER_S` from now.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from orchestrator.commuting.bundle import Bundle, Trip, best_bundle
from orchestrator.commuting.payout import decide, order_van_costs, route_share
from orchestrator.errors import InvalidInput, NotFound
from orchestrator.models import (
    Courier,
    CourierCreate,
    CourierJob,
    CourierOffer,
    CourierTrip,
    Depot,
    JobStatus,
    OfferStatus,
    Order,
    OrderItem,
    OrderStatus,
    Place,
    Route,
    RouteStatus,
    RouteStop,
    StopStatus,
    TripCreate,
)
from orchestrator.models.columns import utcnow
from orchestrator.planning.inputs import OrderInput
from orchestrator.planning.plans import current_plan, customer_acceptance
from orchestrator.planning.rows import depot_input, order_input
from orchestrator.planning.travel import TravelTimes
from routing.matrix import haversine_m
from routing.solve import Limits

__all__ = [
    "ANSWER_WITHIN_S",
    "MIN_ANSWER_S",
    "create_courier",
    "get_trip",
    "handoff_code",
    "open_for_courier",
    "register_trip",
]

ANSWER_WITHIN_S = 15 * 60
"""Seconds a courier has to answer an offer, at most."""
MIN_ANSWER_S = 60
"""Seconds a courier has to answer an offer, at least."""
_CODE_DIGITS = 6
_LIVE_JOBS = (JobStatus.OFFERED, JobStatus.ACCEPTED, JobStatus.PICKED_UP)


def create_courier(session: Session, data: CourierCreate | dict[str, object]) -> Courier:
    """Store a new courier; commit."""
    fields = data if isinstance(data, CourierCreate) else CourierCreate.model_validate(data)
    courier = Courier(name=fields.name.strip() or fields.name)
    session.add(courier)
    session.commit()
    session.refresh(courier)
    return courier


def handoff_code() -> str:
    """A fresh hand-off code: :data:`_CODE_DIGITS` random digits."""
    return "".join(secrets.choice("0123456789") for _ in range(_CODE_DIGITS))


def get_trip(session: Session, trip_id: int, *, courier_id: int | None) -> CourierTrip:
    """The trip; another courier's is :class:`NotFound`, as an unknown one (``courier_id``
    ``None``: staff, who see every trip)."""
    trip = session.get(CourierTrip, trip_id)
    if trip is None or (courier_id is not None and trip.courier_id != courier_id):
        raise NotFound("trip", trip_id)
    return trip


def register_trip(
    session: Session,
    courier_id: int,
    data: TripCreate,
    *,
    travel: TravelTimes,
    now: datetime | None = None,
    limits: Limits | None = None,
) -> tuple[CourierTrip, CourierOffer | None]:
    """Register a trip and make its offer (see the module's notes); commit.

    Returns
    -------
    tuple
        The trip (``no_offer_reason`` says why when no offer was made) and the offer.

    Raises
    ------
    NotFound
        No such courier.
    InvalidInput
        The leaving window is already over (``leave_before``), or no depot exists.
    """
    now = now or utcnow()
    if session.get(Courier, courier_id) is None:
        raise NotFound("courier", courier_id)
    if data.leave_before.astimezone(UTC) <= now:
        raise InvalidInput(
            "leave_before",
            f"{data.leave_before.isoformat()} is already past — register a trip you have "
            "not started yet",
        )
    depot = _nearest_depot(session, data)
    zone = ZoneInfo(depot.timezone)
    day = data.leave_after.astimezone(zone).date()
    trip = CourierTrip(
        courier_id=courier_id,
        depot_id=depot.id,
        service_day=day,
        **data.model_dump(),
    )
    session.add(trip)
    session.flush()
    assert trip.id is not None and depot.id is not None
    midnight = datetime.combine(day, datetime.min.time(), zone).astimezone(UTC)

    def elapsed(at: datetime) -> int:
        return max(0, int((at.astimezone(UTC) - midnight).total_seconds()))

    earliest = max(data.leave_after.astimezone(UTC), now)
    candidates = open_for_courier(session, depot, day, now=now)
    bundle = best_bundle(
        depot_input(depot), day,
        Trip(
            origin=(data.origin_lat, data.origin_lon),
            destination=(data.destination_lat, data.destination_lon),
            leave_after_s=elapsed(earliest), leave_before_s=elapsed(data.leave_before),
            capacity_parcels=data.capacity_parcels, max_detour_s=data.max_detour_min * 60,
            mode=data.mode.value,
        ),
        candidates, travel=travel, limits=limits,
    )  # fmt: skip
    if not bundle.stops:
        trip.no_offer_reason = _why_nothing(depot, day, candidates, bundle)
        session.add(trip)
        session.commit()
        session.refresh(trip)
        return trip, None
    price = decide(data.payout_wanted_eur, van_costs(session, depot, day, bundle.order_ids))
    if price.payout_eur is None:
        trip.no_offer_reason = price.reason
        session.add(trip)
        session.commit()
        session.refresh(trip)
        return trip, None

    def at(seconds: int) -> datetime:
        return midnight + timedelta(seconds=seconds)

    leave_at = at(bundle.leave_s)
    deadline = min(now + timedelta(seconds=ANSWER_WITHIN_S), leave_at)
    deadline = max(deadline, now + timedelta(seconds=MIN_ANSWER_S))
    offer = CourierOffer(
        trip_id=trip.id, depot_id=depot.id, service_day=day, payout_eur=price.payout_eur,
        carrier_cost_eur=price.carrier_cost_eur, detour_s=bundle.detour_s,
        direct_s=bundle.direct_s, distance_m=bundle.distance_m, leave_at=leave_at,
        arrive_at=at(bundle.arrive_s), deadline_at=deadline, created_at=now,
    )  # fmt: skip
    session.add(offer)
    session.flush()
    assert offer.id is not None
    for n, stop in enumerate(bundle.stops):
        session.add(
            CourierJob(
                offer_id=offer.id, order_id=stop.order_id, sequence=n,
                pickup_at=at(stop.pickup_s), eta=at(stop.handover_s), handoff_code=handoff_code(),
            )
        )  # fmt: skip
    session.commit()
    session.refresh(trip)
    session.refresh(offer)
    return trip, offer


def open_for_courier(
    session: Session, depot: Depot, day: date, *, now: datetime
) -> list[OrderInput]:
    """The depot's orders of ``day`` open for a courier (the module's notes), as the planner
    sees them, with their customers' acceptance of couriers."""
    orders = session.exec(
        select(Order)
        .where(
            Order.depot_id == depot.id,
            Order.service_day == day,
            col(Order.status).in_([OrderStatus.OPEN.value, OrderStatus.PLANNED.value]),
        )
        .order_by(col(Order.id))
    ).all()
    ids = [o.id for o in orders if o.id is not None]
    held = held_orders(session, ids, now=now)
    plan = current_plan(session, depot.id or 0, day)
    moving: set[int] = set()
    if plan is not None:
        rows = session.exec(
            select(RouteStop.order_id, RouteStop.status, Route.status)
            .join(Route, col(Route.id) == col(RouteStop.route_id))
            .where(Route.plan_id == plan.id, col(RouteStop.order_id).in_(ids))
        ).all()
        moving = {
            order_id
            for order_id, stop_status, route_status in rows
            if stop_status != StopStatus.PLANNED or route_status != RouteStatus.PLANNED
        }
    chosen = [o for o in orders if o.id not in held and o.id not in moving]
    items: dict[int, list[OrderItem]] = {}
    for item in session.exec(
        select(OrderItem).where(col(OrderItem.order_id).in_([o.id for o in chosen]))
    ):
        items.setdefault(item.order_id, []).append(item)
    places = {
        p.id: p
        for p in session.exec(
            select(Place).where(col(Place.id).in_({o.place_id for o in chosen if o.place_id}))
        )
    }
    accepts = customer_acceptance(session, {o.customer_id for o in chosen})
    out = []
    for o in chosen:
        base = order_input(o, items.get(o.id or 0, []), places.get(o.place_id))
        robot, courier = accepts.get(o.customer_id, (False, True))
        out.append(
            OrderInput(
                id=base.id, place=base.place, demand=base.demand,
                window_start=base.window_start, window_end=base.window_end,
                fragile=base.fragile, signature_required=base.signature_required,
                cold_chain=base.cold_chain, accepts_robot=robot, accepts_courier=courier,
            )
        )  # fmt: skip
    return out


def held_orders(session: Session, order_ids: Sequence[int], *, now: datetime) -> set[int]:
    """Of ``order_ids``, those a live offer holds (offered and not past its deadline, or
    accepted and not yet closed)."""
    if not order_ids:
        return set()
    rows = session.exec(
        select(CourierJob.order_id, CourierOffer.status, CourierOffer.deadline_at)
        .join(CourierOffer, col(CourierOffer.id) == col(CourierJob.offer_id))
        .where(
            col(CourierJob.order_id).in_(list(order_ids)),
            col(CourierJob.status).in_([s.value for s in _LIVE_JOBS]),
        )
    ).all()
    return {
        order_id
        for order_id, status, deadline in rows
        if status is not OfferStatus.OFFERED or deadline > now
    }


def van_costs(session: Session, depot: Depot, day: date, order_ids: Sequence[int]) -> list[float]:
    """Each order's cost on the vans, EUR (:mod:`orchestrator.commuting.payout`'s rule)."""
    plan = current_plan(session, depot.id or 0, day)
    if plan is None:
        return order_van_costs(order_ids, {}, None)
    average = route_share(float(plan.cost or 0.0), plan.n_served) if plan.n_served else None
    routes = {r.id: r for r in session.exec(select(Route).where(Route.plan_id == plan.id))}
    on_route: dict[int, int] = {}
    counts: dict[int, int] = {}
    for stop in session.exec(select(RouteStop).where(col(RouteStop.route_id).in_(list(routes)))):
        counts[stop.route_id] = counts.get(stop.route_id, 0) + 1
        on_route[stop.order_id] = stop.route_id
    share_of = {
        order_id: route_share(routes[route_id].cost, counts[route_id])
        for order_id, route_id in on_route.items()
    }
    return order_van_costs(order_ids, share_of, average)


def _nearest_depot(session: Session, data: TripCreate) -> Depot:
    """The depot whose pickup adds the least straight-line detour to the trip."""
    depots = session.exec(select(Depot).order_by(col(Depot.id))).all()
    if not depots:
        raise InvalidInput("origin_lat", "no depot is stored — a trip needs a pickup point")

    def detour(d: Depot) -> float:
        there = haversine_m(data.origin_lat, data.origin_lon, d.lat, d.lon)
        on = haversine_m(d.lat, d.lon, data.destination_lat, data.destination_lon)
        return float(there) + float(on)

    return min(depots, key=detour)


def _why_nothing(depot: Depot, day: date, candidates: Sequence[OrderInput], bundle: Bundle) -> str:
    """Why a trip got no offer, in one sentence."""
    if not candidates:
        return f"depot {depot.code!r} has no order open for a courier on {day} — try another day"
    refused = len(bundle.left_out)
    return (
        f"none of the {len(candidates)} orders of depot {depot.code!r} open on {day} fits "
        f"your way, leaving window and detour"
        + (f" ({refused} of them go to customers who do not accept couriers)" if refused else "")
        + " — allow a longer detour or a wider leaving window"
    )
