"""Orders: what to deliver from a depot on a service day, their lines, and the append-only
log of what happened to each.

Importing this module registers the ORM hooks that refuse to change or delete a logged event."""

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from pydantic import (
    SerializerFunctionWrapHandler,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError
from sqlmodel import Field

from orchestrator.models._fields import (
    StorableModel,
    created_at_field,
    enum_field,
    example_config,
    timestamp_field,
)
from orchestrator.models.retailers import DEFAULT_RETAILER_ID, retailer_field

__all__ = [
    "MAX_ITEMS_PER_ORDER",
    "DeliveryMode",
    "Order",
    "OrderBase",
    "OrderCreate",
    "OrderEvent",
    "OrderEventKind",
    "OrderEventPublic",
    "OrderItem",
    "OrderItemBase",
    "OrderItemCreate",
    "OrderItemPublic",
    "OrderPublic",
    "OrderStatus",
    "window_off_day",
]


MAX_ITEMS_PER_ORDER = 500
"""Lines one order may hold: a larger order is split into several (each line already carries
a quantity). Bounds the work and the answers of every request that reads the order."""

# The widest offsets a time zone has: a service day's local midnight lies between these.
_EARLIEST_OFFSET = timedelta(hours=14)
_LATEST_OFFSET = timedelta(hours=12)


def window_off_day(
    start: datetime, end: datetime, day: date, zone: tzinfo | None = None
) -> str | None:
    """Why the window ``start``–``end`` does not overlap the service ``day`` at a depot in
    time zone ``zone``, or ``None`` if it does. Without a zone, the day anywhere on Earth (from
    its start at UTC+14 to its end at UTC-12) is the bound."""
    if zone is None:
        first = datetime.combine(day, time(), UTC) - _EARLIEST_OFFSET
        last = datetime.combine(day + timedelta(days=1), time(), UTC) + _LATEST_OFFSET
        where = "in any time zone"
    else:
        first = datetime.combine(day, time(), zone)
        last = datetime.combine(day + timedelta(days=1), time(), zone)
        where = f"at the depot ({zone})"
    if end <= first or start >= last:
        return (
            f"the window must overlap the service day {day.isoformat()} {where} — give "
            f"window_start before {last.isoformat()} and window_end after {first.isoformat()}"
        )
    return None


class DeliveryMode(StrEnum):
    """How the parcel changes hands once it arrives."""

    HAND_OVER = "hand_over"
    """To the customer in person (signature possible)."""
    LEAVE_AT_DOOR = "leave_at_door"
    """Unattended, at the door or an agreed safe place."""
    LOCKER = "locker"
    """Into a parcel locker compartment."""


class OrderStatus(StrEnum):
    """Where an order stands. ``open`` orders wait for a plan; closed ones never move again."""

    OPEN = "open"
    PLANNED = "planned"
    DISPATCHED = "dispatched"
    DELIVERED = "delivered"
    FAILED = "failed"


class OrderEventKind(StrEnum):
    """What happened to an order, as recorded in the append-only event log."""

    CREATED = "created"
    PLANNED = "planned"
    UNSERVED = "unserved"
    DISPATCHED = "dispatched"
    DELIVERED = "delivered"
    FAILED = "failed"
    REPLANNED = "replanned"
    OPTIONS_OFFERED = "options_offered"
    """Delivery options were offered for the order for the first time."""
    HELD = "held"
    """The customer chose an option, held until it is confirmed or expires."""
    CONFIRMED = "confirmed"
    """The customer confirmed a held option (the order took its place, window and day)."""
    ETA_MOVED = "eta_moved"
    """A re-plan moved the ETA of a stop already dispatched (its order was not re-planned)."""
    RETURN_COLLECTED = "return_collected"
    """An item of the order, returned, was picked up from the customer."""
    PROMISE_AT_RISK = "promise_at_risk"
    """Its route runs late: the promised window will likely be missed, and the customer was
    told before it with the choices left (:mod:`orchestrator.operations.progress`), or a
    commuter courier gave it back and no van can bring it in its window
    (:mod:`orchestrator.commuting`)."""
    COURIER_ACCEPTED = "courier_accepted"
    """A commuter courier accepted to bring it on their way; it left the vans' routes."""
    PICKED_UP = "picked_up"
    """The commuter courier took it at the pickup point."""
    COURIER_RELEASED = "courier_released"
    """The courier refused it, let the offer expire or did not show up: back to the plan."""


_ITEM_EXAMPLE: dict[str, Any] = {
    "id": 1,
    "description": "shoes",
    "quantity": 1,
    "weight_g": 1_200,
    "volume_ml": 9_000,
    "parcels": 1,
}


class OrderItemBase(StorableModel):
    """One line of an order; the sizes are per unit, multiplied by ``quantity``."""

    description: str = Field(default="", max_length=200)
    quantity: int = Field(default=1, ge=1)
    weight_g: int = Field(ge=0, description="Mass of one unit, grams.")
    volume_ml: int = Field(ge=0, description="Volume of one unit, millilitres.")
    parcels: int = Field(default=1, ge=0, description="Parcels one unit ships in.")
    sku: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="The product's stock-keeping unit (see /products); needed to return it.",
    )


class OrderItemCreate(OrderItemBase):
    """What an order line takes."""

    @model_serializer(mode="wrap")
    def _without_empty_sku(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Lines without a SKU serialise as they did before SKUs existed, so the content hash
        # of an order registered then (its idempotency check) stays the same.
        data: dict[str, Any] = handler(self)
        if data.get("sku") is None:
            data.pop("sku", None)
        return data


class OrderItem(OrderItemBase, table=True):
    """Table ``order_items``."""

    __tablename__ = "order_items"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True, ondelete="CASCADE")


class OrderItemPublic(OrderItemBase):
    """An order line as shown."""

    id: int

    model_config = example_config(**_ITEM_EXAMPLE)


class OrderBase(StorableModel):
    """An order to deliver from a depot on a service day.

    The delivery place, window and mode are chosen by the customer, possibly after the order
    is placed; an order without a place cannot be planned (it is reported unserved).
    """

    customer_id: int = Field(foreign_key="customers.id", index=True)
    depot_id: int = Field(foreign_key="depots.id")
    service_day: date = Field(description="Local date of the depot on which to deliver.")
    place_id: int | None = Field(default=None, foreign_key="places.id")
    window_start: datetime | None = timestamp_field(default=None)
    window_end: datetime | None = timestamp_field(default=None)
    mode: DeliveryMode | None = enum_field(DeliveryMode, None, nullable=True)
    value_cents: int = Field(default=0, ge=0, description="Goods value, cents.")
    fragile: bool = False
    signature_required: bool = False
    cold_chain: bool = False
    reference: str | None = Field(default=None, max_length=100, description="Shop's order number.")


class OrderCreate(OrderBase):
    """What registering an order takes: the order and at least one line."""

    items: list[OrderItemCreate] = Field(min_length=1, max_length=MAX_ITEMS_PER_ORDER)

    @field_validator("items", mode="before")
    @classmethod
    def _few_enough(cls, items: Any) -> Any:
        # Before the lines are read one by one: 150,000 of them are refused at once.
        if isinstance(items, list | tuple) and len(items) > MAX_ITEMS_PER_ORDER:
            raise ValueError(
                f"an order holds at most {MAX_ITEMS_PER_ORDER} lines (MAX_ITEMS_PER_ORDER), "
                f"not {len(items)} — give each line a quantity, or split the order"
            )
        return items

    @model_validator(mode="after")
    def _window(self) -> "OrderCreate":
        start, end = self.window_start, self.window_end
        if (start is None) != (end is None):
            raise ValueError("give both window_start and window_end, or neither")
        if start is not None and end is not None:
            if start.tzinfo is None or end.tzinfo is None:
                raise ValueError("window times need a UTC offset, e.g. 2025-03-01T09:00:00+02:00")
            if end <= start:
                raise ValueError(
                    f"window ends at {end.isoformat()} before it starts at "
                    f"{start.isoformat()} — swap start and end"
                )
            off_day = window_off_day(start, end, self.service_day)
            if off_day is not None:
                # Named at window_start, as the depot's own check names it.
                issue = InitErrorDetails(
                    type=PydanticCustomError("window_off_day", off_day),
                    loc=("window_start",),
                    input=start.isoformat(),
                )
                raise ValidationError.from_exception_data(type(self).__name__, [issue])
            # One instant, one spelling: the idempotency check hashes the content.
            self.window_start, self.window_end = start.astimezone(UTC), end.astimezone(UTC)
        return self


class Order(OrderBase, table=True):
    """Table ``orders``."""

    __tablename__ = "orders"
    __table_args__ = (
        sa.Index("ix_orders_depot_day_status", "depot_id", "service_day", "status"),
        # Keys are the caller's: one customer's key never meets another's (revision 0007).
        sa.UniqueConstraint(
            "customer_id", "idempotency_key", name="uq_orders_customer_idempotency_key"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=200)
    content_hash: str = Field(max_length=64, description="sha256 of the registered content.")
    status: OrderStatus = enum_field(OrderStatus, OrderStatus.OPEN)
    retailer_id: int = retailer_field()
    created_at: datetime = created_at_field()


class OrderPublic(OrderBase):
    """An order as shown, with its lines."""

    id: int
    status: OrderStatus
    retailer_id: int = Field(
        default=DEFAULT_RETAILER_ID, description="The retailer that owns it (1: the default)."
    )
    created_at: datetime
    items: list[OrderItemPublic] = Field(default_factory=list)

    model_config = example_config(
        id=1,
        customer_id=1,
        depot_id=1,
        service_day="2025-03-03",
        place_id=1,
        window_start="2025-03-03T10:00:00+02:00",
        window_end="2025-03-03T12:00:00+02:00",
        mode="hand_over",
        value_cents=4_990,
        fragile=False,
        signature_required=True,
        cold_chain=False,
        reference="SHOP-10042",
        status="planned",
        created_at="2025-03-01T11:05:00+02:00",
        items=[_ITEM_EXAMPLE],
    )


class OrderEvent(StorableModel, table=True):
    """Table ``order_events``: what happened to each order, append-only."""

    __tablename__ = "order_events"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True, ondelete="CASCADE")
    kind: OrderEventKind = enum_field(OrderEventKind)
    at: datetime = created_at_field()
    plan_id: int | None = Field(default=None, foreign_key="plans.id")
    detail: str = Field(default="", max_length=1_000)


class OrderEventPublic(StorableModel):
    """An order event as shown."""

    id: int
    order_id: int
    kind: OrderEventKind
    at: datetime
    plan_id: int | None
    detail: str

    model_config = example_config(
        id=2,
        order_id=1,
        kind="planned",
        at="2025-03-02T20:00:11+02:00",
        plan_id=3,
        detail="on e-van-1-1, stop 4, ETA 2025-03-03T10:41:00+02:00",
    )


def _refuse_change(_mapper: Any, _connection: Any, target: OrderEvent) -> None:
    raise ValueError(
        f"order event {target.id} is append-only — record a new event instead of changing one"
    )


# The event log is append-only: the ORM refuses to update or delete an event.
sa.event.listen(OrderEvent, "before_update", _refuse_change)
sa.event.listen(OrderEvent, "before_delete", _refuse_change)
