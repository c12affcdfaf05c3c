"""How the item leaves the customer: pickup options and the choice of one.

* :func:`pickup_options` — windows at the customer's places and days at their lockers, each
  checked by cheap insertion into that day's tentative plan (as delivery options are), and
  the stores accepting returns nearest to them, for a drop-off;
* :func:`choose_pickup` — the choice is checked again, the destination decided again from the
  item's new starting point, and the return is ``scheduled``; planning then collects it
  (:mod:`orchestrator.planning.plans`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from orchestrator._validation import validated
from orchestrator.errors import Conflict, InvalidInput
from orchestrator.intake.catalog import customer_places, depot_fleets
from orchestrator.models import (
    Depot,
    ItemReturn,
    Order,
    OrderItem,
    PickupChoice,
    PickupMethod,
    PickupOptionPublic,
    Place,
    PlaceKind,
    ReturnStatus,
    Store,
)
from orchestrator.models.columns import utcnow
from orchestrator.models.retailers import owned_by
from orchestrator.planning.day_plan import DayPlan
from orchestrator.planning.service import service_seconds
from orchestrator.planning.tentative import day_timeline
from orchestrator.planning.travel import TravelTimes, legs_for
from orchestrator.returns_flow.decision import (
    decide_destination,
    decision_fields,
    local_today,
    product_of,
)
from orchestrator.returns_flow.lifecycle import check_changeable, visible_return
from orchestrator.returns_flow.policy import ReturnsPolicy
from returns import (
    Point,
    transfer_km,
)
from routing.insertion import Candidate, Insertion
from routing.model import StopKind, TimeWindow

__all__ = [
    "choose_pickup",
    "collecting_types",
    "pickup_candidate",
    "pickup_options",
    "pickup_windows",
]


def collecting_types(session: Session, depot_id: int) -> frozenset[str] | None:
    """Vehicle types that bring pickups back to the depot, when some fleets end elsewhere."""
    fleets = depot_fleets(session, depot_id)
    open_types = {vt.name for f, vt in fleets if f.open_route}
    if not open_types:
        return None
    return frozenset(vt.name for _, vt in fleets if vt.name not in open_types)


def pickup_windows(
    day: date, zone: ZoneInfo, policy: ReturnsPolicy, earliest: datetime, whole_day: bool
) -> list[tuple[datetime, datetime]]:
    """Pickup windows on ``day`` between opening and closing, starting on whole local hours
    after ``earliest``; ``whole_day``: one window, opening (or ``earliest``) to closing."""
    open_at = datetime.combine(day, policy.opening, zone)
    close_at = datetime.combine(day, policy.closing, zone)
    lo = max(open_at, earliest.astimezone(zone))
    if whole_day:
        return [(lo, close_at)] if lo < close_at else []
    start = lo.replace(minute=0, second=0, microsecond=0)
    if start < lo:
        start += timedelta(hours=1)
    out = []
    while start + policy.pickup_window <= close_at:
        out.append((start, start + policy.pickup_window))
        start += policy.pickup_window
    return out


def pickup_candidate(
    place: Place, item: OrderItem, plan: DayPlan, windows: Sequence[tuple[datetime, datetime]],
    types: frozenset[str] | None,
) -> Candidate:  # fmt: skip
    return Candidate(
        place.lat,
        place.lon,
        tuple(TimeWindow(plan.seconds(a), plan.seconds(b)) for a, b in windows),
        service=service_seconds(item.parcels),
        demand=(item.weight_g, item.volume_ml, item.parcels),
        kind=StopKind.PICKUP,
        vehicle_types=types,
    )


def _explain_pickup(plan: DayPlan, ins: Insertion, zone: ZoneInfo) -> str:
    assert ins.route_id is not None and ins.eta is not None
    route = plan.timeline.route(ins.route_id)
    eta = plan.instant(ins.eta).astimezone(zone)
    who = (
        f"a {route.vehicle_type.name} not yet used that day would come"
        if route.idle
        else f"a {route.vehicle_type.name} already out that day passes by"
    )
    return (
        f"{who} at about {eta:%H:%M}; collecting it adds {ins.cost:.2f} EUR and "
        f"{ins.co2_g:.0f} g CO2 to its route"
    )


def _distance_m(a: Point, b: Point) -> int:
    return round(transfer_km(a, b, detour_factor=1.0) * 1000)


def pickup_options(
    session: Session,
    return_id: int,
    *,
    customer_id: int | None = None,
    now: datetime | None = None,
    travel: TravelTimes,
    policy: ReturnsPolicy | None = None,
) -> list[PickupOptionPublic]:
    """The ways the item may leave the customer over the next days.

    Pickup windows at each of the customer's places and the days of each of their lockers,
    each checked by cheap insertion (:class:`routing.Timeline`) into that day's tentative
    plan — its current plan with the pickups already scheduled, or idle vehicles when the day
    has no plan yet — with what collecting it adds; then the stores accepting returns nearest
    to the delivery place, for a drop-off. Pickups by day and time first, then lockers, then
    stores.

    Raises
    ------
    NotFound
        No such return, or not the caller's.
    Conflict
        The item has already left the customer.
    """
    policy = policy or ReturnsPolicy()
    ret = visible_return(session, return_id, customer_id)
    check_changeable(ret)
    depot = session.get(Depot, ret.depot_id)
    item = session.get(OrderItem, ret.order_item_id)
    order = session.get(Order, ret.order_id)
    assert depot is not None and item is not None and order is not None and ret.id is not None
    zone = ZoneInfo(depot.timezone)
    moment = now or datetime.now(UTC)
    today = local_today(depot, moment)
    legs = legs_for(travel)
    types = collecting_types(session, depot.id or 0)
    home = session.get(Place, order.place_id) if order.place_id is not None else None
    origin = Point(home.lon, home.lat) if home is not None else Point(depot.lon, depot.lat)
    places = customer_places(session, ret.customer_id)

    pickups: list[PickupOptionPublic] = []
    lockers: list[PickupOptionPublic] = []
    for d in range(policy.option_days):
        day = today + timedelta(days=d)
        plan = day_timeline(session, depot.id or 0, day, travel=travel, exclude_returns=[ret.id])
        for place in places:
            locker = place.kind is PlaceKind.LOCKER
            windows = pickup_windows(day, zone, policy, moment + policy.lead, whole_day=locker)
            if not windows:
                continue
            found = plan.timeline.best_insertions(
                pickup_candidate(place, item, plan, windows, types), legs
            )
            for (start, end), ins in zip(windows, found, strict=True):
                if not ins.feasible:
                    continue
                assert ins.eta is not None and ins.route_id is not None
                lo = max(ins.window.start, ins.eta - policy.eta_spread_s)
                hi = min(ins.window.end, ins.eta + policy.eta_spread_s)
                option = PickupOptionPublic(
                    method=PickupMethod.LOCKER if locker else PickupMethod.PICKUP,
                    day=day,
                    place_id=place.id,
                    name=place.name,
                    lat=place.lat,
                    lon=place.lon,
                    window_start=None if locker else start.astimezone(UTC),
                    window_end=None if locker else end.astimezone(UTC),
                    eta_start=plan.instant(lo),
                    eta_end=plan.instant(hi),
                    vehicle_type=plan.timeline.route(ins.route_id).vehicle_type.name,
                    marginal_cost_eur=round(ins.cost, 2),
                    co2_g=round(ins.co2_g, 1),
                    distance_m=_distance_m(origin, Point(place.lon, place.lat)),
                    explanation=(
                        f"drop it into your locker {place.name!r} on {day:%A}: " if locker else ""
                    )
                    + _explain_pickup(plan, ins, zone),
                )
                (lockers if locker else pickups).append(option)
    return pickups + lockers + _store_options(session, ret, origin, today, policy)


def _store_options(
    session: Session, ret: ItemReturn, origin: Point, today: date, policy: ReturnsPolicy
) -> list[PickupOptionPublic]:
    # Only the return's retailer's own stores take it in.
    accepting = select(Store).where(col(Store.accepts_returns) == sa.true())
    stores = session.exec(owned_by(accepting, Store, ret.retailer_id)).all()
    near = sorted(stores, key=lambda s: (_distance_m(origin, Point(s.lon, s.lat)), s.id))
    out = []
    for store in near[: policy.store_options]:
        stays = store.id == ret.destination_store_id
        then = (
            "it stays there to be sold again"
            if stays
            else f"from there it goes to {ret.destination_name}"
        )
        metres = _distance_m(origin, Point(store.lon, store.lat))
        out.append(
            PickupOptionPublic(
                method=PickupMethod.STORE,
                day=today,
                store_id=store.id,
                name=store.name,
                lat=store.lat,
                lon=store.lon,
                marginal_cost_eur=0.0,
                co2_g=0.0,
                distance_m=metres,
                explanation=f"hand it in at {store.name}, {metres / 1000:.1f} km away; {then}",
            )
        )
    return out


def choose_pickup(
    session: Session,
    return_id: int,
    choice: PickupChoice | Mapping[str, Any],
    *,
    customer_id: int | None = None,
    now: datetime | None = None,
    travel: TravelTimes,
    policy: ReturnsPolicy | None = None,
) -> ItemReturn:
    """Record how the item leaves the customer; the return becomes ``scheduled``.

    A pickup window or locker day is checked again against the day's tentative plan; the
    destination is decided again from the item's new starting point (a drop-off store may
    now be the best place for it).

    Raises
    ------
    NotFound
        No such return, or not the caller's.
    Conflict
        The item has already left the customer, or no vehicle can collect it then any more.
    InvalidInput
        A missing or wrong field for the method: ``place_id`` (not one of the customer's
        places, or not a locker), ``store_id`` (unknown or not accepting returns),
        ``window_start``/``window_end`` (missing, without an offset, reversed, past, or not
        within one day), ``day`` (past).
    """
    policy = policy or ReturnsPolicy()
    payload = validated(PickupChoice, choice)
    ret = visible_return(session, return_id, customer_id)
    check_changeable(ret)
    depot = session.get(Depot, ret.depot_id)
    item = session.get(OrderItem, ret.order_item_id)
    assert depot is not None and item is not None and ret.id is not None
    zone = ZoneInfo(depot.timezone)
    moment = now or datetime.now(UTC)
    today = local_today(depot, moment)

    place: Place | None = None
    store: Store | None = None
    window: tuple[datetime, datetime] | None = None
    if payload.method is PickupMethod.STORE:
        store = _drop_off_store(session, payload.store_id, ret.retailer_id)
        day = payload.day or today
        at = Point(store.lon, store.lat)
    else:
        place = _own_place(session, ret, payload)
        if payload.method is PickupMethod.PICKUP:
            window = _checked_window(payload, zone, moment)
            day = window[0].astimezone(zone).date()
        else:
            if payload.day is None:
                raise InvalidInput("day", "give the day the item goes into the locker")
            day = payload.day
        at = Point(place.lon, place.lat)
    if day < today:
        raise InvalidInput("day", f"{day} is in the past — give today ({today}) or later")
    if place is not None:
        _check_collectable(session, ret, item, place, day, window, zone, moment, travel, policy)

    product = product_of(session, item)
    decision, stores = decide_destination(session, depot, product, ret.condition, at, today, policy)
    ret.sqlmodel_update(
        {
            **decision_fields(decision, stores),
            "status": ReturnStatus.SCHEDULED,
            "pickup_method": payload.method,
            "pickup_place_id": place.id if place is not None else None,
            "pickup_store_id": store.id if store is not None else None,
            "pickup_day": day,
            "window_start": window[0].astimezone(UTC) if window else None,
            "window_end": window[1].astimezone(UTC) if window else None,
            "carried_to": None,
            "onward_km": None,
            "onward_co2_kg": None,
            "updated_at": utcnow(),
        }
    )
    session.add(ret)
    session.commit()
    session.refresh(ret)
    return ret


def _drop_off_store(session: Session, store_id: int | None, retailer_id: int) -> Store:
    if store_id is None:
        raise InvalidInput("store_id", "give the store the item will be handed in at")
    store = session.get(Store, store_id)
    # Another retailer's store is answered as one that takes no returns: nothing to probe.
    if store is None or not store.accepts_returns or store.retailer_id != retailer_id:
        raise InvalidInput(
            "store_id",
            f"store {store_id} does not take returns — pick one of the stores the pickup "
            "options list",
        )
    return store


def _own_place(session: Session, ret: ItemReturn, payload: PickupChoice) -> Place:
    if payload.place_id is None:
        raise InvalidInput("place_id", "give one of your places for the pickup")
    place = session.get(Place, payload.place_id)
    if place is None or place.customer_id != ret.customer_id:
        raise InvalidInput(
            "place_id", f"you have no place {payload.place_id} — add the place first"
        )
    locker = place.kind is PlaceKind.LOCKER
    if payload.method is PickupMethod.LOCKER and not locker:
        raise InvalidInput(
            "place_id", f"place {place.id} ({place.name!r}) is not a locker — pick a locker"
        )
    if payload.method is PickupMethod.PICKUP and locker:
        raise InvalidInput(
            "place_id",
            f"place {place.id} ({place.name!r}) is a locker — choose the method 'locker'",
        )
    return place


def _checked_window(
    payload: PickupChoice, zone: ZoneInfo, moment: datetime
) -> tuple[datetime, datetime]:
    start, end = payload.window_start, payload.window_end
    if start is None or end is None:
        raise InvalidInput(
            "window_start" if start is None else "window_end",
            "give the pickup window's start and end (one of the pickup options)",
        )
    for name, value in (("window_start", start), ("window_end", end)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidInput(name, "give the time with a UTC offset, e.g. +02:00")
    if end <= start:
        raise InvalidInput(
            "window_end", f"the window ends at {end.isoformat()} before it starts — swap them"
        )
    if start < moment:
        raise InvalidInput("window_start", f"{start.isoformat()} is in the past")
    if start.astimezone(zone).date() != (end - timedelta(seconds=1)).astimezone(zone).date():
        raise InvalidInput("window_end", "the window must end on the day it starts")
    return start, end


def _check_collectable(
    session: Session,
    ret: ItemReturn,
    item: OrderItem,
    place: Place,
    day: date,
    window: tuple[datetime, datetime] | None,
    zone: ZoneInfo,
    moment: datetime,
    travel: TravelTimes,
    policy: ReturnsPolicy,
) -> None:
    plan = day_timeline(session, ret.depot_id, day, travel=travel, exclude_returns=[ret.id or 0])
    windows = [window] if window else pickup_windows(day, zone, policy, moment, whole_day=True)
    if not windows:
        raise Conflict(f"{day} is over for collections — choose a later day")
    types = collecting_types(session, ret.depot_id)
    (ins,) = plan.timeline.best_insertions(
        pickup_candidate(place, item, plan, windows[:1], types), legs_for(travel)
    )
    if not ins.feasible:
        reason = ins.reason.value if ins.reason is not None else "no room"
        raise Conflict(
            f"no vehicle can collect it at {place.name!r} then ({reason}) — ask for the "
            "pickup options again and choose another"
        )
