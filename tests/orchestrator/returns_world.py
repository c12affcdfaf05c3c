"""A small retail world for the returns tests: a catalogue of one dress in three sizes, two
stores of the depot with different tastes, and an order delivered through the real planning
services (plan, dispatch, delivered)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import Session

from orchestrator.intake.catalog import create_store
from orchestrator.intake.orders import order_items, register_order
from orchestrator.models import Order, OrderItem, Store
from orchestrator.operations.dispatch import dispatch_route, mark_stop_outcome
from orchestrator.planning.plans import plan_day, plan_routes, route_stops
from orchestrator.returns_flow.catalog import put_product, record_sales
from tests.orchestrator.conftest import DAY, LIMITS, TRAVEL, World, order_data

NOW = datetime(2025, 3, 4, 7, tzinfo=UTC)
"""The day after the delivery, 09:00 in Helsinki: the sales history ends on ``DAY``."""
PICKUP_DAY = date(2025, 3, 5)
SIZES = ("S", "M", "L")
PRICE_CENTS = 7_990


def sku(size: str, colour: str = "BLK") -> str:
    """The SKU of the dress in ``size``."""
    return f"DRS-{colour}-{size}"


def catalogue(session: Session) -> None:
    """The dress DRS in black, sizes S, M and L, at 79.90 EUR."""
    for size in SIZES:
        put_product(
            session,
            sku(size),
            {
                "style": "DRS",
                "category": "dresses",
                "size": size,
                "colour": "black",
                "list_price_cents": PRICE_CENTS,
            },
        )


@dataclass(frozen=True)
class Shops:
    """Kallio sells size S steadily, Punavuori size M; both are served from the depot."""

    kallio: Store
    punavuori: Store


def shops(session: Session, world: World, *, with_sales: bool = True) -> Shops:
    """The two stores (and, unless told not to, 28 days of their sales before ``DAY``)."""
    kallio = create_store(
        session,
        {"code": "KAL", "name": "Store Kallio", "lat": 60.1841, "lon": 24.9503,
         "depot_id": world.depot.id, "accepts_returns": True},
    )  # fmt: skip
    punavuori = create_store(
        session,
        {"code": "PUN", "name": "Store Punavuori", "lat": 60.1610, "lon": 24.9400,
         "depot_id": world.depot.id, "accepts_returns": True},
    )  # fmt: skip
    if with_sales:
        for store, size in ((kallio, "S"), (punavuori, "M")):
            record_sales(session, store.id or 0, {"sales": daily(sku(size), days=56, every=2)})
    return Shops(kallio, punavuori)


def daily(code: str, *, days: int, every: int = 1, units: int = 1) -> list[dict[str, Any]]:
    """Sale records of ``code`` on every ``every``-th day of the ``days`` before ``DAY``."""
    return [
        {"sku": code, "day": (DAY - timedelta(days=d)).isoformat(), "units": units}
        for d in range(1, days + 1, every)
    ]


def delivered(
    session: Session, world: World, *codes: str | None, quantity: int = 1
) -> list[tuple[Order, OrderItem]]:
    """One order per SKU in ``codes`` (``None``: a line without a SKU), each of one dress line
    to the customer's home on ``DAY``, planned, dispatched and delivered through the planning
    services."""
    orders = []
    for k, code in enumerate(codes):
        item: dict[str, Any] = {
            "description": "dress", "weight_g": 600, "volume_ml": 3_000, "quantity": quantity,
        }  # fmt: skip
        if code is not None:
            item["sku"] = code
        orders.append(register_order(session, order_data(world, items=[item]), f"dress-{k}"))
    plan = plan_day(session, world.depot.id or 0, DAY, limits=LIMITS, travel=TRAVEL)
    for route in plan_routes(session, plan.id or 0):
        assert route.id is not None
        dispatch_route(session, route.id)
        for stop in route_stops(session, route.id):
            mark_stop_outcome(session, stop.id or 0, "delivered")
    out = []
    for order in orders:
        session.refresh(order)
        (line,) = order_items(session, order.id or 0)
        out.append((order, line))
    return out


def return_of(order: Order, line: OrderItem, **changes: Any) -> dict[str, Any]:
    """A return request of one unit of ``line``, grade A, too large."""
    return {
        "order_id": order.id,
        "order_item_id": line.id,
        "condition": "A",
        "reason": "too_large",
        **changes,
    }
