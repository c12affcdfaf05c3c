"""Where a returned item goes: the returns engine's inputs read from the store, and its decision.

The engine (:func:`returns.decide`) chooses the destination with the highest expected net
recovery among the stores that accept returns, the origin warehouse (the order's depot), an
outlet and a liquidation channel. A store is judged on its ``store_sales`` over the last
:attr:`~orchestrator.returns_flow.policy.ReturnsPolicy.history_days` and holds its
``store_stock``; the warehouse is judged on the depot's online orders of catalogued SKUs (order
lines with a SKU, by service day, less the units coming back) and its stock is not known to
lastmile (0). Money in EUR (list prices are stored in cents), distances in km, CO2 in kg."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from orchestrator.errors import InvalidInput
from orchestrator.models import (
    Depot,
    ItemReturn,
    Order,
    OrderItem,
    Product,
    Store,
    StoreSale,
    StoreStock,
)
from orchestrator.models.retailers import owned_by
from orchestrator.returns_flow.policy import (
    LIQUIDATION_ID,
    OUTLET_ID,
    ReturnsPolicy,
    store_destination_id,
    warehouse_id,
)
from returns import (
    Condition,
    Decision,
    Destination,
    DestinationKind,
    InvalidReturnInput,
    Point,
    ReturnedItem,
    Sale,
    SalesHistory,
    Variant,
    decide,
    fit_resale_model,
    transfer_km,
)

__all__ = [
    "customer_explanation",
    "decide_destination",
    "decision_fields",
    "destinations_from",
    "local_today",
    "product_of",
    "sales_history",
]


def product_of(session: Session, item: OrderItem) -> Product:
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


def local_today(depot: Depot, now: datetime | None) -> date:
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        raise InvalidInput("now", "give the current time with an offset")
    return moment.astimezone(ZoneInfo(depot.timezone)).date()


def decide_destination(
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
    # Only the product's retailer's own stores: a return never goes to another retailer's shop.
    accepting = select(Store).where(col(Store.accepts_returns) == sa.true())
    stores = {
        store_destination_id(s.id or 0): s
        for s in session.exec(
            owned_by(accepting, Store, product.retailer_id).order_by(col(Store.id))
        )
    }
    history = sales_history(
        session, depot, product, list(stores.values()), today, policy, pending_line
    )
    stock = {
        store_destination_id(row.store_id): row.units
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


def sales_history(
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
        sales.append(Sale(day, store_destination_id(store_id), code, units))
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
        destinations=(*(store_destination_id(i or 0) for i in store_ids), warehouse),
        catalogue=tuple(catalogue),
        sales=tuple(sales),
    )


def _finite(value: float, digits: int) -> float | None:
    return round(value, digits) if math.isfinite(value) else None


_FOR_CUSTOMER = {
    DestinationKind.STORE: "Your item goes to {name}, where it will be sold again.",
    DestinationKind.WAREHOUSE: "Your item goes back to our warehouse, to be sold again online.",
    DestinationKind.OUTLET: "Your item goes to our outlet, to be sold again.",
    DestinationKind.LIQUIDATION: "Your item goes to a partner who finds it a new owner.",
}


def customer_explanation(kind: DestinationKind, name: str) -> str:
    """Where the item goes, said to its customer: the destination and no figure of the
    retailer's (the decision's own explanation quotes stores' sales and stock and the
    expected recovery, which are staff's to see)."""
    return _FOR_CUSTOMER[kind].format(name=name)


def decision_fields(decision: Decision, stores: Mapping[str, Store]) -> dict[str, Any]:
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
