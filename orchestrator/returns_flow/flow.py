"""The returns flow: a customer starts a return, picks how the item leaves them, a delivery
route collects it, and the planner sees where returns are heading.

* :func:`start_return` — the customer's own delivered order and line only (anything else is
  :class:`~orchestrator.errors.NotFound`, so ids cannot be probed); the returns engine
  (:func:`returns.decide`) chooses the destination with the highest expected net recovery
  among the stores that accept returns, the origin warehouse (the order's depot) and an
  outlet and a liquidation channel, and the decision is stored with its explanation.
* :func:`pickup_options` — windows at the customer's places and days at their lockers, each
  checked by cheap insertion into that day's tentative plan (as delivery options are), and
  the stores accepting returns nearest to them, for a drop-off.
* :func:`choose_pickup` — the choice is checked again, the decision is made again from the
  item's new starting point, and the return is ``scheduled``; planning then collects it
  (:mod:`orchestrator.planning.plans`).
* :func:`return_flows` — per destination: items incoming, expected recovery, transfer km/CO2.
* :func:`advance_return` — picked up, in transit, received.

How the engine's inputs come from the store: the catalogue is the ``products`` table; a store
is judged on its ``store_sales`` over the last :attr:`ReturnsPolicy.history_days` and holds its
``store_stock``; the warehouse is judged on the depot's online orders of catalogued SKUs (order
lines with a SKU, by service day, less the units coming back) and its stock is not known to
lastmile (0); the outlet and the liquidation channel take any item within their
``clearance_days`` and collect it at the depot. Transfer costs are a base plus a rate per road
kilometre from where the item is (:class:`Tariff`). Money in EUR (list prices are stored in
cents), distances in km, CO2 in kg.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from orchestrator._validation import validated
from orchestrator.errors import Conflict, InvalidInput, NotFound
from orchestrator.intake.catalog import customer_places, depot_fleets
from orchestrator.intake.orders import get_order
from orchestrator.models import (
    CarriedTo,
    Depot,
    DestinationFlowPublic,
    ItemReturn,
    Order,
    OrderItem,
    OrderStatus,
    PickupChoice,
    PickupMethod,
    PickupOptionPublic,
    Place,
    PlaceKind,
    Product,
    ReturnCreate,
    ReturnFlowsPublic,
    ReturnPublic,
    ReturnStatus,
    ReturnStop,
    ReturnStopKind,
    Route,
    Store,
    StoreSale,
    StoreStock,
    UnservedReturn,
)
from orchestrator.models.columns import utcnow
from orchestrator.planning.day_plan import DayPlan
from orchestrator.planning.plans import current_plan
from orchestrator.planning.service import service_seconds
from orchestrator.planning.tentative import day_timeline
from orchestrator.planning.travel import TravelTimes, legs_for
from returns import (
    Condition,
    Decision,
    DecisionPolicy,
    Destination,
    DestinationKind,
    InvalidReturnInput,
    Point,
    ResaleConfig,
    ReturnedItem,
    Sale,
    SalesHistory,
    Variant,
    decide,
    fit_resale_model,
    transfer_km,
)
from routing.insertion import Candidate, Insertion
from routing.model import StopKind, TimeWindow

__all__ = [
    "LIQUIDATION_ID",
    "OUTLET_ID",
    "ReturnsPolicy",
    "Tariff",
    "advance_return",
    "choose_pickup",
    "destinations_from",
    "get_return",
    "list_returns",
    "pickup_options",
    "return_flows",
    "return_public",
    "start_return",
    "warehouse_id",
]

OUTLET_ID = "outlet"
"""Destination id of the outlet channel."""
LIQUIDATION_ID = "liquidation"
"""Destination id of the liquidation channel."""

_CHANGEABLE = (ReturnStatus.REQUESTED, ReturnStatus.SCHEDULED)
_ORDER = list(ReturnStatus)


@dataclass(frozen=True, slots=True)
class Tariff:
    """What sending one returned item to a destination of one kind costs, and fetches.

    Parameters
    ----------
    base_eur
        Fixed part of the transfer, EUR.
    per_km_eur
        EUR per road kilometre from where the item is.
    handling_eur
        Receiving, checking and shelving it there, EUR.
    markdown
        Share of the list price given away when it sells there, in [0, 1).
    clearance_days
        ``None``: judged on sales history. A number: takes any item within that many days.
    """

    base_eur: float
    per_km_eur: float
    handling_eur: float
    markdown: float = 0.0
    clearance_days: float | None = None


def _default_tariffs() -> Mapping[DestinationKind, Tariff]:
    return MappingProxyType(
        {
            # Collected on a passing delivery route, then shelved and tagged.
            DestinationKind.STORE: Tariff(2.0, 0.10, 2.0),
            # A parcel to the online warehouse: inspected, photographed, relisted at 20 % off.
            DestinationKind.WAREHOUSE: Tariff(5.5, 0.0, 3.5, markdown=0.2),
            # An outlet that takes every item and sells it at half price within 10 days.
            DestinationKind.OUTLET: Tariff(3.0, 0.10, 1.5, markdown=0.5, clearance_days=10.0),
            # A jobber buying anything at 15 % of the list price, collected at the depot.
            DestinationKind.LIQUIDATION: Tariff(5.5, 0.0, 0.5, markdown=0.85, clearance_days=2.0),
        }
    )


@dataclass(frozen=True, slots=True)
class ReturnsPolicy:
    """Settings of the returns flow.

    Parameters
    ----------
    tariffs
        Costs and prices per destination kind (every kind must be present).
    decision
        How the engine values options (CO2 price, condition factors, ...).
    resale
        Settings of the resale model (horizon 14 days by default).
    history_days
        Days of sales history read, ending the day before the return starts.
    pickup_window
        Width of the pickup windows offered.
    opening, closing
        Local times between which pickups are offered.
    lead
        Least time between asking and the start of a window offered.
    option_days
        Days offered, from today.
    store_options
        Drop-off stores offered, nearest first.
    eta_spread_s
        The ETA shown is the planned start ± this many seconds, inside the window.
    """

    tariffs: Mapping[DestinationKind, Tariff] = field(default_factory=_default_tariffs)
    decision: DecisionPolicy = field(default_factory=DecisionPolicy)
    resale: ResaleConfig = field(default_factory=ResaleConfig)
    history_days: int = 112
    pickup_window: timedelta = timedelta(hours=2)
    opening: time = time(8)
    closing: time = time(20)
    lead: timedelta = timedelta(hours=1)
    option_days: int = 3
    store_options: int = 3
    eta_spread_s: int = 900

    def __post_init__(self) -> None:
        missing = [k.value for k in DestinationKind if k not in self.tariffs]
        if missing:
            raise InvalidInput("tariffs", f"no tariff for {missing} — give one per kind")
        if self.history_days < 1:
            raise InvalidInput("history_days", "give 1 day of history or more")
        if self.pickup_window <= timedelta(0) or self.option_days < 1:
            raise InvalidInput("pickup_window", "give a positive window and 1 day or more")


def warehouse_id(depot_id: int) -> str:
    """Destination id of a depot's warehouse."""
    return f"depot-{depot_id}"


def _store_id(store_id: int) -> str:
    return f"store-{store_id}"


# -- reading --------------------------------------------------------------------------------------


def get_return(
    session: Session, return_id: int, *, customer_id: int | None = None
) -> ItemReturn | None:
    """The return, or ``None`` when it does not exist or — given ``customer_id`` — is not theirs."""
    ret = session.get(ItemReturn, return_id)
    if ret is None or (customer_id is not None and ret.customer_id != customer_id):
        return None
    return ret


def list_returns(
    session: Session,
    *,
    customer_id: int | None = None,
    depot_id: int | None = None,
    status: ReturnStatus | None = None,
    offset: int = 0,
    limit: int = 100,
) -> Sequence[ItemReturn]:
    """Returns in id order, filtered by whatever is given."""
    query = select(ItemReturn)
    if customer_id is not None:
        query = query.where(ItemReturn.customer_id == customer_id)
    if depot_id is not None:
        query = query.where(ItemReturn.depot_id == depot_id)
    if status is not None:
        query = query.where(ItemReturn.status == status)
    return session.exec(query.order_by(col(ItemReturn.id)).offset(offset).limit(limit)).all()


def return_public(session: Session, ret: ItemReturn) -> ReturnPublic:
    """The return as shown: with its pickup's ETA and vehicle in the day's current plan, or
    the reason that plan leaves the pickup out."""
    extra: dict[str, Any] = {}
    if ret.pickup_day is not None:
        plan = current_plan(session, ret.depot_id, ret.pickup_day)
        if plan is not None:
            planned = session.exec(
                select(ReturnStop, Route)
                .join(Route, col(Route.id) == ReturnStop.route_id)
                .where(
                    Route.plan_id == plan.id,
                    ReturnStop.return_id == ret.id,
                    ReturnStop.kind == ReturnStopKind.PICKUP,
                )
            ).first()
            if planned is not None:
                extra["pickup_eta"] = planned[0].service_start_at
                extra["pickup_vehicle"] = planned[1].vehicle_id
            unserved = session.exec(
                select(UnservedReturn).where(
                    UnservedReturn.plan_id == plan.id, UnservedReturn.return_id == ret.id
                )
            ).first()
            if unserved is not None:
                extra["unserved_reason"] = unserved.reason
                extra["unserved_detail"] = unserved.detail
    return ReturnPublic.model_validate(ret, update=extra)


# -- starting a return ----------------------------------------------------------------------------


def start_return(
    session: Session,
    data: ReturnCreate | Mapping[str, Any],
    *,
    customer_id: int | None = None,
    now: datetime | None = None,
    policy: ReturnsPolicy | None = None,
) -> ItemReturn:
    """Start the return of one unit of a delivered order line and decide where it goes.

    Parameters
    ----------
    session
        The store.
    data
        Order, order line, condition grade (A, B or C) and reason.
    customer_id
        The caller's customer (a customer's key); ``None`` for staff, who may start a return
        for any customer.
    now
        The moment of asking (aware; default now): the sales history ends the day before.
    policy
        Settings (default :class:`ReturnsPolicy`).

    Returns
    -------
    ItemReturn
        The return, ``requested``, with its destination, expected recovery and explanation.

    Raises
    ------
    NotFound
        No such order or line — or not the caller's.
    Conflict
        The order is not delivered yet, or every unit of the line is already being returned.
    InvalidInput
        A bad field (``condition``, ``reason``); a line without a SKU or with a SKU not in
        the catalogue (``order_item_id``); no sales history at all to judge the stores on
        (``sales_history``).
    """
    policy = policy or ReturnsPolicy()
    payload = validated(ReturnCreate, data)
    order = get_order(session, payload.order_id, customer_id=customer_id)
    if order is None:
        raise NotFound("order", payload.order_id)
    item = session.get(OrderItem, payload.order_item_id)
    if item is None or item.order_id != order.id:
        raise NotFound("order item", payload.order_item_id)
    if order.status is not OrderStatus.DELIVERED:
        raise Conflict(
            f"order {order.id} is {order.status.value}, not delivered — a return can start "
            "once the order has been delivered"
        )
    product = _product_of(session, item)
    returning = session.exec(
        select(sa.func.count()).select_from(ItemReturn).where(ItemReturn.order_item_id == item.id)
    ).one()
    if returning >= item.quantity:
        raise Conflict(
            f"all {item.quantity} unit(s) of order line {item.id} are already being returned "
            "— follow the existing return instead"
        )
    depot = session.get(Depot, order.depot_id)
    assert depot is not None and order.id is not None and item.id is not None
    place = session.get(Place, order.place_id) if order.place_id is not None else None
    at = Point(place.lon, place.lat) if place is not None else Point(depot.lon, depot.lat)
    today = _today(depot, now)
    decision, stores = _decide(
        session, depot, product, payload.condition, at, today, policy, pending_line=item.id
    )
    ret = ItemReturn(
        customer_id=order.customer_id,
        order_id=order.id,
        order_item_id=item.id,
        depot_id=depot.id or 0,
        sku=product.sku,
        condition=payload.condition,
        reason=payload.reason,
        note=payload.note,
        status=ReturnStatus.REQUESTED,
        **_decision_fields(decision, stores),
    )
    session.add(ret)
    session.commit()
    session.refresh(ret)
    return ret


def _product_of(session: Session, item: OrderItem) -> Product:
    if item.sku is None:
        raise InvalidInput(
            "order_item_id",
            f"order line {item.id} has no SKU, so where it could sell again is unknown — the "
            "shop must register its lines with their SKUs",
        )
    product = session.get(Product, item.sku)
    if product is None:
        raise InvalidInput(
            "order_item_id",
            f"SKU {item.sku!r} of order line {item.id} is not in the product catalogue — add "
            "the product (style, category, size, colour, list price) first",
        )
    return product


def _today(depot: Depot, now: datetime | None) -> date:
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        raise InvalidInput("now", "give the current time with an offset")
    return moment.astimezone(ZoneInfo(depot.timezone)).date()


def _decide(
    session: Session,
    depot: Depot,
    product: Product,
    condition: Condition,
    at: Point,
    today: date,
    policy: ReturnsPolicy,
    pending_line: int | None = None,
) -> tuple[Decision, Mapping[str, Store]]:
    """The engine's decision for one unit of ``product`` at ``at``, and the stores by id."""
    assert depot.id is not None
    stores = {
        _store_id(s.id or 0): s
        for s in session.exec(
            select(Store).where(col(Store.accepts_returns) == sa.true()).order_by(col(Store.id))
        )
    }
    history = _history(session, depot, product, list(stores.values()), today, policy, pending_line)
    stock = {
        _store_id(row.store_id): row.units
        for row in session.exec(
            select(StoreStock).where(
                StoreStock.sku == product.sku,
                col(StoreStock.store_id).in_([s.id for s in stores.values()]),
            )
        )
    }
    shops = [(sid, s.name, Point(s.lon, s.lat), stock.get(sid, 0)) for sid, s in stores.items()]
    warehouse = (warehouse_id(depot.id), f"Warehouse {depot.code}", Point(depot.lon, depot.lat))
    try:
        destinations = destinations_from(at, shops, warehouse, policy)
        item = ReturnedItem(
            sku=product.sku,
            style=product.style,
            category=product.category,
            size=product.size,
            colour=product.colour,
            price=product.list_price_cents / 100.0,
            condition=condition,
            location=at,
        )
        model = fit_resale_model(history, policy.resale)
        return decide(item, destinations, model, policy.decision), stores
    except InvalidReturnInput as exc:
        raise InvalidInput(exc.field, exc.message) from exc


def destinations_from(
    at: Point,
    stores: Sequence[tuple[str, str, Point, int]],
    warehouse: tuple[str, str, Point],
    policy: ReturnsPolicy,
) -> list[Destination]:
    """Where a unit returned at ``at`` may go, priced by ``policy``'s tariffs: the stores
    (id, name, location, units on the shelf), the depot's warehouse (id, name, location), and
    the outlet and the liquidation channel, reached from the depot.

    Pure: :func:`start_return` feeds it from the store, the simulator from its own market.
    """
    house, house_name, depot_at = warehouse
    candidates = [
        (ident, name, DestinationKind.STORE, where, units) for ident, name, where, units in stores
    ] + [
        (house, house_name, DestinationKind.WAREHOUSE, depot_at, 0),
        (OUTLET_ID, "Outlet", DestinationKind.OUTLET, depot_at, 0),
        (LIQUIDATION_ID, "Liquidation", DestinationKind.LIQUIDATION, depot_at, 0),
    ]
    out = []
    for ident, name, kind, where, units in candidates:
        tariff = policy.tariffs[kind]
        km = transfer_km(at, where, detour_factor=policy.decision.detour_factor)
        out.append(
            Destination(
                id=ident,
                name=name,
                kind=kind,
                location=where,
                transfer_cost=tariff.base_eur + tariff.per_km_eur * km,
                handling_cost=tariff.handling_eur,
                stock=units,
                markdown=tariff.markdown,
                clearance_days=tariff.clearance_days,
            )
        )
    return out


def _history(
    session: Session,
    depot: Depot,
    product: Product,
    stores: Sequence[Store],
    today: date,
    policy: ReturnsPolicy,
    pending_line: int | None,
) -> SalesHistory:
    """The sales of the stores and of the depot's online orders over the history window;
    ``pending_line``: an order line one more unit of which is coming back (a return being
    started)."""
    end = today - timedelta(days=1)
    start = end - timedelta(days=policy.history_days - 1)
    sales: list[Sale] = []
    store_ids = [s.id for s in stores]
    # Plain rows, not table objects: a history holds hundreds of thousands of them.
    for day, store_id, code, units in session.exec(
        select(
            col(StoreSale.day), col(StoreSale.store_id), col(StoreSale.sku), col(StoreSale.units)
        ).where(
            col(StoreSale.store_id).in_(store_ids),
            col(StoreSale.day) >= start,
            col(StoreSale.day) <= end,
        )
    ):
        sales.append(Sale(day, _store_id(store_id), code, units))
    # Online sales: the depot's order lines of catalogued SKUs, less the units coming back.
    lines = session.exec(
        select(
            col(OrderItem.id), col(OrderItem.sku), col(Order.service_day), col(OrderItem.quantity)
        )
        .join(Order, col(Order.id) == OrderItem.order_id)
        .join(Product, col(Product.sku) == OrderItem.sku)
        .where(
            Order.depot_id == depot.id,
            col(Order.service_day) >= start,
            col(Order.service_day) <= end,
        )
    ).all()
    returned = Counter(
        session.exec(
            select(ItemReturn.order_item_id).where(
                col(ItemReturn.order_item_id).in_([line[0] for line in lines])
            )
        ).all()
    )
    if pending_line is not None:
        returned[pending_line] += 1
    online: Counter[tuple[str, date]] = Counter()
    for line_id, sku, day, quantity in lines:
        if sku is not None and line_id is not None and quantity > returned[line_id]:
            online[(sku, day)] += quantity - returned[line_id]
    warehouse = warehouse_id(depot.id or 0)
    sales.extend(Sale(day, warehouse, code, units) for (code, day), units in sorted(online.items()))
    if not sales:
        raise InvalidInput(
            "sales_history",
            f"no store that accepts returns and no online order recorded a sale from {start} "
            f"to {end}, so there is nothing to judge where {product.sku!r} would sell — load "
            "the stores' daily sales first",
        )
    skus = {s.sku for s in sales} | {product.sku}
    catalogue = [
        Variant(p.sku, p.style, p.category, p.size, p.colour)
        for p in session.exec(
            select(Product).where(col(Product.sku).in_(sorted(skus))).order_by(col(Product.sku))
        )
    ]
    return SalesHistory(
        start=start,
        end=end,
        destinations=(*(_store_id(i or 0) for i in store_ids), warehouse),
        catalogue=tuple(catalogue),
        sales=tuple(sales),
    )


def _finite(value: float, digits: int) -> float | None:
    return round(value, digits) if math.isfinite(value) else None


def _decision_fields(decision: Decision, stores: Mapping[str, Store]) -> dict[str, Any]:
    chosen = decision.chosen
    dest = chosen.destination
    store = stores.get(dest.id)
    return {
        "destination_kind": dest.kind,
        "destination_id": dest.id,
        "destination_store_id": store.id if store is not None else None,
        "destination_name": dest.name,
        "expected_recovery_eur": round(chosen.expected_net, 2),
        "resale_probability": round(chosen.estimate.probability, 4),
        "expected_days": _finite(chosen.estimate.expected_days, 2),
        "explanation": decision.explanation[:1_000],
        "options": [
            {
                "destination_id": o.destination.id,
                "name": o.destination.name,
                "kind": o.destination.kind.value,
                "eligible": o.eligible,
                "probability": round(o.estimate.probability, 4),
                "expected_days": _finite(o.estimate.expected_days, 2),
                "expected_net_eur": round(o.expected_net, 2),
                "distance_km": round(o.distance_km, 3),
                "co2_kg": round(o.co2_kg, 4),
            }
            for o in decision.options
        ],
        "transfer_km": round(chosen.distance_km, 3),
        "transfer_co2_kg": round(chosen.co2_kg, 4),
    }


# -- pickup options and the choice ----------------------------------------------------------------


def _visible(session: Session, return_id: int, customer_id: int | None) -> ItemReturn:
    ret = get_return(session, return_id, customer_id=customer_id)
    if ret is None:
        raise NotFound("return", return_id)
    return ret


def _changeable(ret: ItemReturn) -> None:
    if ret.status not in _CHANGEABLE:
        raise Conflict(f"return {ret.id} is {ret.status.value} — its pickup can no longer change")


def _collecting_types(session: Session, depot_id: int) -> frozenset[str] | None:
    """Vehicle types that bring pickups back to the depot, when some fleets end elsewhere."""
    fleets = depot_fleets(session, depot_id)
    open_types = {vt.name for f, vt in fleets if f.open_route}
    if not open_types:
        return None
    return frozenset(vt.name for _, vt in fleets if vt.name not in open_types)


def _windows(
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


def _candidate(
    place: Place, item: OrderItem, plan: DayPlan, windows: Sequence[tuple[datetime, datetime]],
    types: frozenset[str] | None,
) -> Candidate:  # fmt: skip
    return Candidate(
        place.lat,
        place.lon,
        tuple(TimeWindow(plan.seconds(a), plan.seconds(b)) for a, b in windows),
        service=service_seconds(item.parcels, weight_g=item.weight_g),
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
    ret = _visible(session, return_id, customer_id)
    _changeable(ret)
    depot = session.get(Depot, ret.depot_id)
    item = session.get(OrderItem, ret.order_item_id)
    order = session.get(Order, ret.order_id)
    assert depot is not None and item is not None and order is not None and ret.id is not None
    zone = ZoneInfo(depot.timezone)
    moment = now or datetime.now(UTC)
    today = _today(depot, moment)
    legs = legs_for(travel)
    types = _collecting_types(session, depot.id or 0)
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
            windows = _windows(day, zone, policy, moment + policy.lead, whole_day=locker)
            if not windows:
                continue
            found = plan.timeline.best_insertions(
                _candidate(place, item, plan, windows, types), legs
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
    stores = session.exec(select(Store).where(col(Store.accepts_returns) == sa.true())).all()
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
    ret = _visible(session, return_id, customer_id)
    _changeable(ret)
    depot = session.get(Depot, ret.depot_id)
    item = session.get(OrderItem, ret.order_item_id)
    assert depot is not None and item is not None and ret.id is not None
    zone = ZoneInfo(depot.timezone)
    moment = now or datetime.now(UTC)
    today = _today(depot, moment)

    place: Place | None = None
    store: Store | None = None
    window: tuple[datetime, datetime] | None = None
    if payload.method is PickupMethod.STORE:
        store = _drop_off_store(session, payload.store_id)
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

    product = _product_of(session, item)
    decision, stores = _decide(session, depot, product, ret.condition, at, today, policy)
    ret.sqlmodel_update(
        {
            **_decision_fields(decision, stores),
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


def _drop_off_store(session: Session, store_id: int | None) -> Store:
    if store_id is None:
        raise InvalidInput("store_id", "give the store the item will be handed in at")
    store = session.get(Store, store_id)
    if store is None or not store.accepts_returns:
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
    windows = [window] if window else _windows(day, zone, policy, moment, whole_day=True)
    if not windows:
        raise Conflict(f"{day} is over for collections — choose a later day")
    types = _collecting_types(session, ret.depot_id)
    (ins,) = plan.timeline.best_insertions(
        _candidate(place, item, plan, windows[:1], types), legs_for(travel)
    )
    if not ins.feasible:
        reason = ins.reason.value if ins.reason is not None else "no room"
        raise Conflict(
            f"no vehicle can collect it at {place.name!r} then ({reason}) — ask for the "
            "pickup options again and choose another"
        )


# -- progress and flows ---------------------------------------------------------------------------


def advance_return(session: Session, return_id: int, status: ReturnStatus | str) -> ItemReturn:
    """Record that a return moved on: ``picked_up``, ``in_transit`` or ``received``.

    Raises
    ------
    NotFound
        No such return.
    InvalidInput
        Not one of those statuses (``status``).
    Conflict
        No pickup chosen yet, or the return is already that far or further.
    """
    ret = session.get(ItemReturn, return_id)
    if ret is None:
        raise NotFound("return", return_id)
    try:
        target = ReturnStatus(status)
    except ValueError:
        target = ReturnStatus.REQUESTED  # refused just below
    if target in _CHANGEABLE:
        raise InvalidInput("status", "give 'picked_up', 'in_transit' or 'received'")
    if ret.status is ReturnStatus.REQUESTED:
        raise Conflict(f"return {return_id} has no pickup chosen yet — choose one first")
    if _ORDER.index(target) <= _ORDER.index(ret.status):
        raise Conflict(f"return {return_id} is already {ret.status.value}")
    ret.status, ret.updated_at = target, utcnow()
    session.add(ret)
    session.commit()
    session.refresh(ret)
    return ret


def return_flows(session: Session, depot_id: int, day: date | None = None) -> ReturnFlowsPublic:
    """Where the depot's returns are heading, per destination.

    With ``day``: the returns collected or handed in that day (by pickup day, whatever their
    status); without: every return not yet received. Stores come first, the busiest first.

    Raises
    ------
    NotFound
        No such depot.
    """
    if session.get(Depot, depot_id) is None:
        raise NotFound("depot", depot_id)
    query = select(ItemReturn).where(ItemReturn.depot_id == depot_id)
    if day is not None:
        query = query.where(ItemReturn.pickup_day == day)
    else:
        query = query.where(ItemReturn.status != ReturnStatus.RECEIVED)
    rows = session.exec(query.order_by(col(ItemReturn.id))).all()
    groups: dict[str, list[ItemReturn]] = {}
    for ret in rows:
        groups.setdefault(ret.destination_id, []).append(ret)
    flows = [
        DestinationFlowPublic(
            destination_id=ident,
            destination_kind=rets[0].destination_kind,
            store_id=rets[0].destination_store_id,
            name=rets[-1].destination_name,
            items=len(rets),
            by_status=dict(sorted(Counter(r.status.value for r in rets).items())),
            expected_recovery_eur=round(sum(r.expected_recovery_eur for r in rets), 2),
            transfer_km=round(sum(r.transfer_km for r in rets), 3),
            transfer_co2_kg=round(sum(r.transfer_co2_kg for r in rets), 4),
            via_depot=sum(1 for r in rets if r.carried_to is CarriedTo.DEPOT),
        )
        for ident, rets in groups.items()
    ]
    flows.sort(
        key=lambda f: (f.destination_kind is not DestinationKind.STORE, -f.items, f.destination_id)
    )
    return ReturnFlowsPublic(
        depot_id=depot_id,
        day=day,
        items=len(rows),
        expected_recovery_eur=round(sum(r.expected_recovery_eur for r in rows), 2),
        destinations=flows,
    )
