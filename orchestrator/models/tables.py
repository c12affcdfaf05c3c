"""The tables of the store, with one SQLModel family per resource.

Each resource has ``XBase`` (the fields a client supplies), ``XCreate`` (what creating one
takes, validated), ``X`` (the table) and ``XPublic`` (what is shown); some have ``XUpdate``.
Table objects stay inside :mod:`orchestrator`: :mod:`orchestrator.planning.problem` turns them into
:mod:`routing` dataclasses.

Units, everywhere: coordinates in WGS84 degrees, distances in **metres**, durations in
**seconds**, masses in **grams**, volumes in **millilitres**, money in **cents** (orders) or
EUR (vehicle costs, plan costs), CO2 in **grams**. Timestamps are timezone-aware and stored
in UTC. Times of day (shifts, breaks) are **seconds since local midnight** of the depot's
timezone on the service day.

No comment in this module is load-bearing for the schema: the migrations in
:mod:`orchestrator.migrations` are, and a test checks that both agree.
"""

import math
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from pydantic import (
    ConfigDict,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)
from sqlmodel import Field, SQLModel

from orchestrator.models.columns import EnumText, UTCDateTime, utcnow
from returns.model import Condition, DestinationKind
from routing.model import VehicleKind

__all__ = [
    "PLAN_EXAMPLE",
    "ROUTE_EXAMPLE",
    "ROUTE_STOP_EXAMPLE",
    "UNSERVED_EXAMPLE",
    "ApiKey",
    "ApiKeyPublic",
    "Customer",
    "CustomerBase",
    "CustomerCreate",
    "CustomerProfile",
    "CustomerPublic",
    "CustomerUpdate",
    "DeliveryMode",
    "Depot",
    "DepotBase",
    "DepotCreate",
    "DepotPublic",
    "Fleet",
    "FleetBase",
    "FleetCreate",
    "FleetPublic",
    "HoldStatus",
    "OptionHold",
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
    "Place",
    "PlaceBase",
    "PlaceCreate",
    "PlaceKind",
    "PlacePublic",
    "Plan",
    "PlanKind",
    "PlanPublic",
    "PlanStatus",
    "Role",
    "Route",
    "RoutePublic",
    "RouteStatus",
    "RouteStop",
    "RouteStopPublic",
    "StopStatus",
    "Store",
    "StoreBase",
    "StoreCreate",
    "StorePublic",
    "UnservedOrder",
    "UnservedOrderPublic",
    "VehicleType",
    "VehicleTypeBase",
    "VehicleTypeCreate",
    "VehicleTypePublic",
]

# Deterministic constraint names, so migrations can refer to them on every backend.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

DAY_S = 86_400
"""Seconds per day; times of day may run to two days to allow night shifts."""


# -- enums --------------------------------------------------------------------------------------


class PlaceKind(StrEnum):
    """What a customer's named place is."""

    HOME = "home"
    OFFICE = "office"
    CAFE = "cafe"
    LOCKER = "locker"
    OTHER = "other"


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


class PlanStatus(StrEnum):
    """Life of a plan: ``queued`` → ``running`` → ``current`` (later ``superseded``) or ``failed``.

    A plan requested as a job (:mod:`orchestrator.jobs.plans`) is stored ``queued`` at once and is
    ``running`` while it solves; a plan made in one call
    (:func:`orchestrator.planning.plans.plan_day`)
    is stored only when it is done. Exactly one ``current`` plan per depot and day at most.
    """

    QUEUED = "queued"
    RUNNING = "running"
    CURRENT = "current"
    SUPERSEDED = "superseded"
    FAILED = "failed"


class PlanKind(StrEnum):
    """What a plan was asked to do."""

    DAY = "day"
    """Plan the day from scratch (refused once a route of the day is dispatched)."""
    REPLAN = "replan"
    """Re-plan ``replan_of_id`` during the day: dispatched stops stay where they are."""


class RouteStatus(StrEnum):
    """A route is ``planned`` until its vehicle leaves, then ``dispatched``."""

    PLANNED = "planned"
    DISPATCHED = "dispatched"


class StopStatus(StrEnum):
    """A stop is ``planned``, then ``dispatched`` (on board), then ``delivered`` or ``failed``."""

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


class Role(StrEnum):
    """What an API key may do (enforced by the API layer)."""

    PLANNER = "planner"
    CUSTOMER = "customer"
    ANALYST = "analyst"
    ADMIN = "admin"


# -- helpers ------------------------------------------------------------------------------------


def _enum(enum: type[StrEnum], default: Any = ..., **kw: Any) -> Any:
    return Field(default=default, sa_type=EnumText(enum), **kw)  # type: ignore[arg-type]


def _timestamp(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)  # type: ignore[arg-type]


def _created_at() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)  # type: ignore[arg-type]


def _json(**kw: Any) -> Any:
    return Field(sa_type=sa.JSON, **kw)


def _lat() -> Any:
    return Field(ge=-90.0, le=90.0, description="WGS84 latitude, degrees.")


def _lon() -> Any:
    return Field(ge=-180.0, le=180.0, description="WGS84 longitude, degrees.")


def _time_of_day(description: str, **kw: Any) -> Any:
    return Field(
        ge=0, le=2 * DAY_S, description=f"{description}, seconds since local midnight.", **kw
    )


def _example(**example: Any) -> Any:
    """The config that documents a model with one example (shown in the OpenAPI schema);
    pydantic merges it with the inherited config."""
    return ConfigDict(json_schema_extra={"examples": [example]})


_ITEM_EXAMPLE: dict[str, Any] = {
    "id": 1,
    "description": "shoes",
    "quantity": 1,
    "weight_g": 1_200,
    "volume_ml": 9_000,
    "parcels": 1,
}
PLAN_EXAMPLE: dict[str, Any] = {
    "id": 3,
    "depot_id": 1,
    "service_day": "2025-03-03",
    "status": "current",
    "kind": "day",
    "replan_of_id": None,
    "created_at": "2025-03-02T17:59:58Z",
    "started_at": "2025-03-02T18:00:00Z",
    "finished_at": "2025-03-02T18:00:10Z",
    "time_limit_s": 10.0,
    "seed": 0,
    "wall_time_s": 9.87,
    "distance_m": 48_210,
    "duration_s": 24_780,
    "cost": 412.35,
    "co2_g": 0.0,
    "n_routes": 2,
    "n_served": 57,
    "n_unserved": 1,
    "stats": {"status": "feasible", "seed_with": "pyvrp", "diagnosed_unserved": 1},
    "error": None,
}
"""An example plan, for the documentation of the API."""
ROUTE_EXAMPLE: dict[str, Any] = {
    "id": 5,
    "plan_id": 3,
    "vehicle_id": "e-van-1-1",
    "vehicle_type": "e-van",
    "status": "planned",
    "start_at": "2025-03-03T06:00:00Z",
    "end_at": "2025-03-03T12:52:00Z",
    "distance_m": 24_105,
    "duration_s": 24_720,
    "cost": 208.1,
    "co2_g": 0.0,
    "load_at_start": [41_300, 310_000, 29],
}
"""An example route, for the documentation of the API."""
ROUTE_STOP_EXAMPLE: dict[str, Any] = {
    "id": 11,
    "route_id": 5,
    "order_id": 1,
    "sequence": 3,
    "status": "planned",
    "arrival_at": "2025-03-03T08:41:00Z",
    "service_start_at": "2025-03-03T08:41:00Z",
    "departure_at": "2025-03-03T08:44:00Z",
    "wait_s": 0,
    "leg_distance_m": 820,
    "load_after": [36_900, 271_000, 25],
    "closed_at": None,
}
"""An example route stop, for the documentation of the API."""
UNSERVED_EXAMPLE: dict[str, Any] = {
    "order_id": 17,
    "reason": "window_unreachable",
    "detail": "window 07:00-07:15 closes before a vehicle from the depot can arrive (07:22) "
    "— widen the window or start a shift earlier",
}
"""An example unserved order, for the documentation of the API."""


# -- customers and their places -----------------------------------------------------------------


class CustomerBase(SQLModel):
    """A person or business that receives parcels."""

    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)


class CustomerCreate(CustomerBase):
    """What creating a customer takes."""


class CustomerUpdate(SQLModel):
    """Fields of a customer that may change; ``None`` leaves a field as it is."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)


class Customer(CustomerBase, table=True):
    """Table ``customers``."""

    __tablename__ = "customers"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = _created_at()


class CustomerPublic(CustomerBase):
    """A customer as shown."""

    id: int
    created_at: datetime

    model_config = _example(
        id=1,
        name="Aino Virtanen",
        email="aino@example.org",
        phone="+358401234567",
        created_at="2025-03-01T09:00:00Z",
    )


class PlaceBase(SQLModel):
    """A named point where a customer accepts parcels: home, office, a café, a locker."""

    kind: PlaceKind = _enum(PlaceKind, PlaceKind.HOME)
    name: str = Field(min_length=1, max_length=100, description="The customer's name for it.")
    lat: float = _lat()
    lon: float = _lon()
    address: str | None = Field(default=None, max_length=300)
    instructions: str | None = Field(default=None, max_length=500, description="For the driver.")

    @field_validator("lat", "lon")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError("must be a finite number of degrees")
        return v


class PlaceCreate(PlaceBase):
    """What adding a place to a customer takes."""


class Place(PlaceBase, table=True):
    """Table ``places``: a customer's named points."""

    __tablename__ = "places"
    __table_args__ = (sa.UniqueConstraint("customer_id", "name", name="uq_places_customer_name"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id", index=True, ondelete="CASCADE")
    created_at: datetime = _created_at()


class PlacePublic(PlaceBase):
    """A place as shown."""

    id: int
    customer_id: int

    model_config = _example(
        id=1,
        customer_id=1,
        kind="office",
        name="office",
        lat=60.1640,
        lon=24.9460,
        address="Mannerheimintie 1, Helsinki",
        instructions="Reception, 2nd floor",
    )


# -- depots, stores and the fleet -------------------------------------------------------------


class DepotBase(SQLModel):
    """A depot: where vehicles load and routes start."""

    code: str = Field(min_length=1, max_length=40, description="Short unique code, e.g. HEL1.")
    name: str = Field(min_length=1, max_length=200)
    lat: float = _lat()
    lon: float = _lon()
    timezone: str = Field(
        default="UTC",
        max_length=64,
        description="IANA timezone of the depot; times of day are local to it.",
    )


class DepotCreate(DepotBase):
    """What creating a depot takes."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown timezone {v!r} — give an IANA name such as 'Europe/Helsinki'"
            ) from None
        return v


class Depot(DepotBase, table=True):
    """Table ``depots``."""

    __tablename__ = "depots"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(min_length=1, max_length=40, unique=True)
    created_at: datetime = _created_at()


class DepotPublic(DepotBase):
    """A depot as shown."""

    id: int

    model_config = _example(
        id=1,
        code="HEL1",
        name="Helsinki central depot",
        lat=60.1699,
        lon=24.9384,
        timezone="Europe/Helsinki",
    )


class StoreBase(SQLModel):
    """A shop or micro-hub: it may receive returns and may host sidewalk robots."""

    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    lat: float = _lat()
    lon: float = _lon()
    depot_id: int | None = Field(default=None, foreign_key="depots.id", description="Served from.")
    accepts_returns: bool = False
    hosts_robots: bool = False


class StoreCreate(StoreBase):
    """What creating a store takes."""


class Store(StoreBase, table=True):
    """Table ``stores``."""

    __tablename__ = "stores"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(min_length=1, max_length=40, unique=True)
    created_at: datetime = _created_at()


class StorePublic(StoreBase):
    """A store as shown."""

    id: int


class VehicleTypeBase(SQLModel):
    """A kind of vehicle: capacities, speed profile, costs and emissions.

    Mirrors :class:`routing.VehicleType` with the store's capacity dimensions
    (grams, millilitres, parcels).
    """

    name: str = Field(min_length=1, max_length=60)
    kind: VehicleKind = _enum(VehicleKind, VehicleKind.VAN)
    profile: str = Field(
        default="car", max_length=20, description="Travel profile: 'car', 'bike' or 'walk'."
    )
    capacity_weight_g: int = Field(ge=0, description="Payload, grams.")
    capacity_volume_ml: int = Field(ge=0, description="Load space, millilitres.")
    capacity_parcels: int = Field(ge=0, description="Parcels on board at most.")
    range_m: int | None = Field(default=None, gt=0, description="Longest route, metres.")
    max_shift_s: int | None = Field(default=None, gt=0, description="Longest route, seconds.")
    fixed_cost: float = Field(default=0.0, ge=0, description="EUR per vehicle used per day.")
    cost_per_km: float = Field(default=0.0, ge=0, description="EUR per kilometre.")
    cost_per_hour: float = Field(default=0.0, ge=0, description="EUR per hour on duty.")
    co2_g_per_km: float = Field(default=0.0, ge=0, description="Grams CO2 per kilometre.")
    skills: list[str] = _json(
        default_factory=list, description="'fragile', 'signature', 'cold', ..."
    )


class VehicleTypeCreate(VehicleTypeBase):
    """What creating a vehicle type takes."""

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, v: str) -> str:
        if v not in ("car", "bike", "walk"):
            raise ValueError(f"unknown profile {v!r} — use 'car', 'bike' or 'walk'")
        return v


class VehicleType(VehicleTypeBase, table=True):
    """Table ``vehicle_types``."""

    __tablename__ = "vehicle_types"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(min_length=1, max_length=60, unique=True)


class VehicleTypePublic(VehicleTypeBase):
    """A vehicle type as shown."""

    id: int

    model_config = _example(
        id=1,
        name="e-van",
        kind="van",
        profile="car",
        capacity_weight_g=800_000,
        capacity_volume_ml=10_000_000,
        capacity_parcels=120,
        range_m=160_000,
        max_shift_s=None,
        fixed_cost=120.0,
        cost_per_km=0.12,
        cost_per_hour=30.0,
        co2_g_per_km=0.0,
        skills=["fragile", "signature"],
    )


class FleetBase(SQLModel):
    """``count`` vehicles of one type based at a depot, with their shift and break."""

    depot_id: int = Field(foreign_key="depots.id", index=True)
    vehicle_type_id: int = Field(foreign_key="vehicle_types.id")
    count: int = Field(ge=1, le=1_000)
    shift_start_s: int = _time_of_day("Earliest departure")
    shift_end_s: int = _time_of_day("Latest return")
    open_route: bool = Field(default=False, description="Ends at the last stop (couriers).")
    break_duration_s: int | None = Field(default=None, gt=0, description="Break, seconds.")
    break_earliest_s: int | None = _time_of_day("Earliest break start", default=None)
    break_latest_s: int | None = _time_of_day("Latest break start", default=None)


class FleetCreate(FleetBase):
    """What adding vehicles to a depot takes."""

    @model_validator(mode="after")
    def _consistent(self) -> "FleetCreate":
        if self.shift_end_s <= self.shift_start_s:
            raise ValueError("shift_end_s must be after shift_start_s — swap them")
        given = [self.break_duration_s, self.break_earliest_s, self.break_latest_s]
        if any(v is not None for v in given) and any(v is None for v in given):
            raise ValueError(
                "a break needs break_duration_s, break_earliest_s and break_latest_s, or none"
            )
        if (
            self.break_earliest_s is not None
            and self.break_latest_s is not None
            and self.break_latest_s < self.break_earliest_s
        ):
            raise ValueError("break_latest_s is before break_earliest_s — swap them")
        return self


class Fleet(FleetBase, table=True):
    """Table ``fleets``."""

    __tablename__ = "fleets"

    id: int | None = Field(default=None, primary_key=True)


class FleetPublic(FleetBase):
    """A fleet as shown."""

    id: int

    model_config = _example(
        id=1,
        depot_id=1,
        vehicle_type_id=1,
        count=4,
        shift_start_s=28_800,
        shift_end_s=64_800,
        open_route=False,
        break_duration_s=1_800,
        break_earliest_s=41_400,
        break_latest_s=48_600,
    )


# -- orders -------------------------------------------------------------------------------------


class OrderItemBase(SQLModel):
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

    model_config = _example(**_ITEM_EXAMPLE)


class OrderBase(SQLModel):
    """An order to deliver from a depot on a service day.

    The delivery place, window and mode are chosen by the customer, possibly after the order
    is placed; an order without a place cannot be planned (it is reported unserved).
    """

    customer_id: int = Field(foreign_key="customers.id", index=True)
    depot_id: int = Field(foreign_key="depots.id")
    service_day: date = Field(description="Local date of the depot on which to deliver.")
    place_id: int | None = Field(default=None, foreign_key="places.id")
    window_start: datetime | None = _timestamp(default=None)
    window_end: datetime | None = _timestamp(default=None)
    mode: DeliveryMode | None = _enum(DeliveryMode, None, nullable=True)
    value_cents: int = Field(default=0, ge=0, description="Goods value, cents.")
    fragile: bool = False
    signature_required: bool = False
    cold_chain: bool = False
    reference: str | None = Field(default=None, max_length=100, description="Shop's order number.")


class OrderCreate(OrderBase):
    """What registering an order takes: the order and at least one line."""

    items: list[OrderItemCreate] = Field(min_length=1)

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
            # One instant, one spelling: the idempotency check hashes the content.
            self.window_start, self.window_end = start.astimezone(UTC), end.astimezone(UTC)
        return self


class Order(OrderBase, table=True):
    """Table ``orders``."""

    __tablename__ = "orders"
    __table_args__ = (sa.Index("ix_orders_depot_day_status", "depot_id", "service_day", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=200, unique=True)
    content_hash: str = Field(max_length=64, description="sha256 of the registered content.")
    status: OrderStatus = _enum(OrderStatus, OrderStatus.OPEN)
    created_at: datetime = _created_at()


class OrderPublic(OrderBase):
    """An order as shown, with its lines."""

    id: int
    status: OrderStatus
    created_at: datetime
    items: list[OrderItemPublic] = []

    model_config = _example(
        id=1,
        customer_id=1,
        depot_id=1,
        service_day="2025-03-03",
        place_id=1,
        window_start="2025-03-03T08:00:00Z",
        window_end="2025-03-03T10:00:00Z",
        mode="hand_over",
        value_cents=4_990,
        fragile=False,
        signature_required=True,
        cold_chain=False,
        reference="SHOP-10042",
        status="planned",
        created_at="2025-03-01T09:05:00Z",
        items=[_ITEM_EXAMPLE],
    )


class OrderEvent(SQLModel, table=True):
    """Table ``order_events``: what happened to each order, append-only."""

    __tablename__ = "order_events"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True, ondelete="CASCADE")
    kind: OrderEventKind = _enum(OrderEventKind)
    at: datetime = _created_at()
    plan_id: int | None = Field(default=None, foreign_key="plans.id")
    detail: str = Field(default="", max_length=1_000)


class OrderEventPublic(SQLModel):
    """An order event as shown."""

    id: int
    order_id: int
    kind: OrderEventKind
    at: datetime
    plan_id: int | None
    detail: str

    model_config = _example(
        id=2,
        order_id=1,
        kind="planned",
        at="2025-03-02T18:00:11Z",
        plan_id=3,
        detail="on e-van-1-1, stop 4, ETA 2025-03-03T08:41:00+00:00",
    )


# -- plans --------------------------------------------------------------------------------------


class Plan(SQLModel, table=True):
    """Table ``plans``: one solve for a depot's service day — its request, status and result.

    The row is also the job of a plan solved in the background (:mod:`orchestrator.jobs.plans`):
    ``kind``, ``time_limit_s``, ``seed`` and ``limits`` are the request, ``status``,
    ``started_at``, ``finished_at`` and ``error`` its life, the rest the result.
    """

    __tablename__ = "plans"
    __table_args__ = (sa.Index("ix_plans_depot_day", "depot_id", "service_day"),)

    id: int | None = Field(default=None, primary_key=True)
    depot_id: int = Field(foreign_key="depots.id")
    service_day: date
    status: PlanStatus = _enum(PlanStatus)
    kind: PlanKind = _enum(PlanKind, PlanKind.DAY, sa_column_kwargs={"server_default": "day"})
    replan_of_id: int | None = Field(default=None, foreign_key="plans.id")
    created_at: datetime = _created_at()
    started_at: datetime | None = _timestamp(default=None, description="Solve started.")
    finished_at: datetime | None = _timestamp(default=None, description="Solve ended.")
    time_limit_s: float = Field(description="Solver time limit, seconds.")
    seed: int = 0
    limits: dict[str, Any] | None = _json(
        default=None, description="The requested routing.Limits (None: time limit only)."
    )
    wall_time_s: float | None = Field(default=None, description="Solve time, seconds.")
    objective: int | None = None
    distance_m: int | None = Field(default=None, description="Total metres driven.")
    duration_s: int | None = Field(default=None, description="Total seconds on duty.")
    cost: float | None = Field(default=None, description="Total EUR, fixed costs included.")
    co2_g: float | None = Field(default=None, description="Total grams CO2.")
    n_routes: int = 0
    n_served: int = 0
    n_unserved: int = 0
    stats: dict[str, Any] = _json(default_factory=dict, description="Solver statistics.")
    error: str | None = Field(default=None, max_length=2_000)


class PlanPublic(SQLModel):
    """A plan as shown."""

    id: int
    depot_id: int
    service_day: date
    status: PlanStatus
    kind: PlanKind
    replan_of_id: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    time_limit_s: float
    seed: int
    wall_time_s: float | None
    distance_m: int | None
    duration_s: int | None
    cost: float | None
    co2_g: float | None
    n_routes: int
    n_served: int
    n_unserved: int
    stats: dict[str, Any]
    error: str | None

    model_config = _example(**PLAN_EXAMPLE)


class Route(SQLModel, table=True):
    """Table ``routes``: one vehicle's day in a plan."""

    __tablename__ = "routes"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True, ondelete="CASCADE")
    fleet_id: int = Field(foreign_key="fleets.id")
    vehicle_id: str = Field(max_length=100, description="Stable across re-plans of the day.")
    vehicle_type: str = Field(max_length=60)
    status: RouteStatus = _enum(RouteStatus, RouteStatus.PLANNED)
    start_at: datetime = _timestamp()
    end_at: datetime = _timestamp()
    distance_m: int
    duration_s: int
    cost: float = Field(description="EUR, fixed cost included.")
    co2_g: float
    load_at_start: list[int] = _json(description="Per dimension: grams, millilitres, parcels.")


class RoutePublic(SQLModel):
    """A route as shown."""

    id: int
    plan_id: int
    vehicle_id: str
    vehicle_type: str
    status: RouteStatus
    start_at: datetime
    end_at: datetime
    distance_m: int
    duration_s: int
    cost: float
    co2_g: float
    load_at_start: list[int]

    model_config = _example(**ROUTE_EXAMPLE)


class RouteStop(SQLModel, table=True):
    """Table ``route_stops``: an order's place on a route, with its ETA."""

    __tablename__ = "route_stops"
    __table_args__ = (sa.UniqueConstraint("route_id", "sequence", name="uq_route_stops_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    route_id: int = Field(foreign_key="routes.id", index=True, ondelete="CASCADE")
    order_id: int = Field(foreign_key="orders.id", index=True)
    sequence: int = Field(ge=0, description="0 for the first stop.")
    status: StopStatus = _enum(StopStatus, StopStatus.PLANNED)
    arrival_at: datetime = _timestamp(description="ETA.")
    service_start_at: datetime = _timestamp()
    departure_at: datetime = _timestamp()
    wait_s: int = Field(description="Seconds waiting for the window to open.")
    leg_distance_m: int = Field(description="Metres from the previous stop or the depot.")
    load_after: list[int] = _json(description="On board after the stop, per dimension.")
    closed_at: datetime | None = _timestamp(default=None)


class RouteStopPublic(SQLModel):
    """A route stop as shown."""

    id: int
    route_id: int
    order_id: int
    sequence: int
    status: StopStatus
    arrival_at: datetime
    service_start_at: datetime
    departure_at: datetime
    wait_s: int
    leg_distance_m: int
    load_after: list[int]
    closed_at: datetime | None

    model_config = _example(**ROUTE_STOP_EXAMPLE)


class UnservedOrder(SQLModel, table=True):
    """Table ``unserved_orders``: an order a plan leaves out, with a typed reason."""

    __tablename__ = "unserved_orders"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True, ondelete="CASCADE")
    order_id: int = Field(foreign_key="orders.id", index=True)
    reason: str = Field(
        max_length=40,
        description="A routing.UnservedReason value, or 'no_place_chosen'.",
    )
    detail: str = Field(default="", max_length=1_000)


class UnservedOrderPublic(SQLModel):
    """An unserved order as shown."""

    order_id: int
    reason: str
    detail: str

    model_config = _example(**UNSERVED_EXAMPLE)


# -- API keys -----------------------------------------------------------------------------------


class ApiKey(SQLModel, table=True):
    """Table ``api_keys``: only the sha256 of a key is kept, and its first characters."""

    __tablename__ = "api_keys"

    id: int | None = Field(default=None, primary_key=True)
    prefix: str = Field(max_length=16, description="First characters, to recognise a key.")
    key_hash: str = Field(max_length=64, unique=True, description="sha256 hex of the key.")
    role: Role = _enum(Role)
    customer_id: int | None = Field(default=None, foreign_key="customers.id", ondelete="CASCADE")
    created_at: datetime = _created_at()
    revoked_at: datetime | None = _timestamp(default=None)


class ApiKeyPublic(SQLModel):
    """An API key as shown (never the key itself)."""

    id: int
    prefix: str
    role: Role
    customer_id: int | None
    created_at: datetime
    revoked_at: datetime | None

    model_config = _example(
        id=1,
        prefix="lmk_3f9a",
        role="planner",
        customer_id=None,
        created_at="2025-03-01T08:00:00Z",
        revoked_at=None,
    )


def _refuse_change(_mapper: Any, _connection: Any, target: OrderEvent) -> None:
    raise ValueError(
        f"order event {target.id} is append-only — record a new event instead of changing one"
    )


# The event log is append-only: the ORM refuses to update or delete an event.
sa.event.listen(OrderEvent, "before_update", _refuse_change)
sa.event.listen(OrderEvent, "before_delete", _refuse_change)


# -- the concierge: customer profiles and option holds ------------------------------------------


class HoldStatus(StrEnum):
    """Life of a hold on a delivery option: ``held`` until confirmed, released or expired."""

    HELD = "held"
    CONFIRMED = "confirmed"
    EXPIRED = "expired"
    RELEASED = "released"


class CustomerProfile(SQLModel, table=True):
    """Table ``customer_profiles``: what the concierge needs to know about one customer.

    Only what the delivery options use is kept (privacy): where they are by weekday (rules
    naming their own places by id, wall-clock times in ``timezone``), the windows they prefer,
    what may bring their parcels, how green and how patient they are, the language and the
    hand-off instructions, and what their choices and deliveries taught (``stats``, the JSON
    of :class:`orchestrator.concierge.learning.SlotStats`).
    """

    __tablename__ = "customer_profiles"

    customer_id: int = Field(foreign_key="customers.id", primary_key=True, ondelete="CASCADE")
    timezone: str = Field(default="Europe/Helsinki", max_length=64)
    default_place_id: int | None = Field(default=None, foreign_key="places.id", ondelete="SET NULL")
    schedule: list[dict[str, Any]] = _json(
        default_factory=list,
        description="Rules: place_id, weekdays ['mon', ...], start and end 'HH:MM' local.",
    )
    preferred_windows: list[dict[str, Any]] = _json(
        default_factory=list, description="weekdays, start and end 'HH:MM' local."
    )
    accepts_robot: bool = False
    accepts_courier: bool = True
    prefers_eco: bool = False
    eco_max_wait_days: int = Field(default=0, ge=0, le=14)
    language: str | None = Field(default=None, max_length=16)
    handoff_instructions: str | None = Field(default=None, max_length=500)
    stats: dict[str, Any] = _json(default_factory=dict, description="Learned slot statistics.")
    updated_at: datetime = _created_at()


class OptionHold(SQLModel, table=True):
    """Table ``option_holds``: a delivery option a customer chose, reserved until it expires.

    A ``held`` row keeps its place in the day's tentative plan until ``expires_at``;
    ``confirmed`` writes the place, window and level onto the order. Prices in EUR, CO2 in
    grams; ``vehicle_id`` names the vehicle of the tentative route (stable across re-plans),
    ``route_id`` the stored route when the day had a plan.
    """

    __tablename__ = "option_holds"
    __table_args__ = (sa.Index("ix_option_holds_depot_day", "depot_id", "service_day"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True, ondelete="CASCADE")
    customer_id: int = Field(foreign_key="customers.id", index=True, ondelete="CASCADE")
    depot_id: int = Field(foreign_key="depots.id")
    service_day: date
    place_id: int = Field(foreign_key="places.id", ondelete="CASCADE")
    window_start: datetime = _timestamp()
    window_end: datetime = _timestamp()
    service_level: str = Field(max_length=24, description="standard, express or eco.")
    vehicle_type: str = Field(max_length=60)
    vehicle_id: str = Field(max_length=100)
    route_id: int | None = Field(default=None, foreign_key="routes.id", ondelete="SET NULL")
    eta_start: datetime = _timestamp()
    eta_end: datetime = _timestamp()
    price_eur: float
    marginal_cost_eur: float
    co2_g: float
    status: HoldStatus = _enum(HoldStatus, HoldStatus.HELD)
    created_at: datetime = _created_at()
    expires_at: datetime = _timestamp()
    closed_at: datetime | None = _timestamp(default=None)


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
"""A weekday as schedules spell it."""
_ALL_WEEK: list[Weekday] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class ScheduleRuleIn(SQLModel):
    """The customer is at a place on ``weekdays`` from ``start`` to ``end``, local wall-clock
    time. ``end`` at or before ``start`` runs past midnight; ``start == end`` is the whole day.
    Name the place by ``place_id`` or by its ``place`` name."""

    place_id: int | None = Field(default=None, description="One of the customer's places.")
    place: str | None = Field(default=None, max_length=100, description="Or the place's name.")
    weekdays: list[Weekday] = Field(min_length=1, max_length=7)
    start: time = Field(description="Local time, e.g. 09:00.")
    end: time = Field(description="Local time, e.g. 17:00.")

    @model_validator(mode="after")
    def _names_a_place(self) -> "ScheduleRuleIn":
        if self.place_id is None and self.place is None:
            raise ValueError("name the place: give place_id or place")
        return self


class ScheduleRulePublic(SQLModel):
    """A rule of the weekly schedule as shown: the place by id and by name."""

    place_id: int
    place: str
    weekdays: list[Weekday]
    start: time
    end: time


class PreferredWindowIn(SQLModel):
    """A time of day the customer prefers deliveries on ``weekdays``, local wall-clock time,
    within one day."""

    weekdays: list[Weekday] = Field(default_factory=lambda: list(_ALL_WEEK), min_length=1)
    start: time
    end: time

    @model_validator(mode="after")
    def _inside_the_day(self) -> "PreferredWindowIn":
        if self.end <= self.start:
            raise ValueError(
                f"window {self.start:%H:%M}-{self.end:%H:%M} is outside the day: it must end "
                "after it starts, before midnight — split it into two windows"
            )
        return self


_PROFILE_EXAMPLE: dict[str, Any] = {
    "timezone": "Europe/Helsinki",
    "default_place_id": 1,
    "schedule": [
        {
            "place_id": 2,
            "weekdays": ["mon", "tue", "wed", "thu", "fri"],
            "start": "09:00:00",
            "end": "17:00:00",
        },
        {"place": "Café Rosa", "weekdays": ["sat"], "start": "09:00:00", "end": "12:00:00"},
    ],
    "preferred_windows": [{"weekdays": ["sat", "sun"], "start": "10:00:00", "end": "12:00:00"}],
    "accepts_robot": True,
    "accepts_courier": True,
    "prefers_eco": True,
    "eco_max_wait_days": 2,
    "language": "fi",
    "handoff_instructions": "Leave with the concierge; ring twice.",
}


class ProfileUpdate(SQLModel):
    """A customer's delivery preferences, all at once (``PUT`` replaces the stored ones).

    Only what delivery options need: where they are by weekday, the times they prefer, what
    may bring their parcels, how green and how patient they are, their language and the
    hand-off instructions. Unknown fields are refused.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_PROFILE_EXAMPLE]})

    timezone: str = Field(default="Europe/Helsinki", max_length=64, description="IANA name.")
    default_place_id: int | None = Field(
        default=None, description="Where they are outside every rule (default: their home)."
    )
    schedule: list[ScheduleRuleIn] = Field(default_factory=list, max_length=50)
    preferred_windows: list[PreferredWindowIn] = Field(default_factory=list, max_length=20)
    accepts_robot: bool = Field(default=False, description="A sidewalk robot may bring it.")
    accepts_courier: bool = Field(default=True, description="A crowdsourced courier may.")
    prefers_eco: bool = Field(default=False, description="Rank greener options higher.")
    eco_max_wait_days: int = Field(
        default=0, ge=0, le=14, description="Extra days accepted for a grouped (eco) drop."
    )
    language: str | None = Field(default=None, max_length=16, description="e.g. 'fi', 'en'.")
    handoff_instructions: str | None = Field(default=None, max_length=500)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown timezone {v!r} — give an IANA name such as 'Europe/Helsinki'"
            ) from None
        return v


class LearnedSlot(SQLModel):
    """What choices and deliveries taught about one place, weekday and part of the day:
    counts as of the last observation ``as_of`` (they fade with a half-life from then)."""

    place: str
    weekday: Weekday
    daypart: str = Field(description="night, morning, afternoon or evening.")
    successes: float
    failures: float
    as_of: datetime | None


class ProfilePublic(SQLModel):
    """A customer's preferences as stored (defaults when nothing is stored yet), with the
    places named and what was learned."""

    customer_id: int
    timezone: str
    default_place_id: int | None
    default_place: str | None
    schedule: list[ScheduleRulePublic]
    preferred_windows: list[PreferredWindowIn]
    accepts_robot: bool
    accepts_courier: bool
    prefers_eco: bool
    eco_max_wait_days: int
    language: str | None
    handoff_instructions: str | None
    learned: list[LearnedSlot]
    updated_at: datetime | None = Field(description="None: nothing stored yet (defaults).")

    model_config = _example(
        customer_id=1,
        timezone="Europe/Helsinki",
        default_place_id=1,
        default_place="home",
        schedule=[
            {
                "place_id": 2,
                "place": "office",
                "weekdays": ["mon", "tue", "wed", "thu", "fri"],
                "start": "09:00:00",
                "end": "17:00:00",
            }
        ],
        preferred_windows=[{"weekdays": ["sat", "sun"], "start": "10:00:00", "end": "12:00:00"}],
        accepts_robot=True,
        accepts_courier=True,
        prefers_eco=True,
        eco_max_wait_days=2,
        language="fi",
        handoff_instructions="Leave with the concierge; ring twice.",
        learned=[
            {
                "place": "office",
                "weekday": "tue",
                "daypart": "morning",
                "successes": 2.7,
                "failures": 0.0,
                "as_of": "2025-02-25T08:10:00Z",
            }
        ],
        updated_at="2025-03-01T09:30:00Z",
    )


_OPTION_EXAMPLE: dict[str, Any] = {
    "service_day": "2025-03-04",
    "place_id": 2,
    "place": "office",
    "service_level": "standard",
    "window_start": "2025-03-04T10:00:00+02:00",
    "window_end": "2025-03-04T12:00:00+02:00",
    "eta_start": "2025-03-04T10:20:00+02:00",
    "eta_end": "2025-03-04T10:50:00+02:00",
    "vehicle_type": "cargo-bike",
    "price_eur": 5.12,
    "marginal_cost_eur": 0.44,
    "co2_g": 0.0,
    "greenest": True,
    "score": 0.81,
    "explanation": "you are usually at office on Tuesday mornings",
}


class DeliveryOptionPublic(SQLModel):
    """One option a customer may choose: where, when, how, what it costs and emits, and why it
    is suggested. Times are ISO 8601 with the depot's offset; prices in EUR; CO2 in grams."""

    service_day: date
    place_id: int
    place: str
    service_level: str = Field(description="standard, express or eco.")
    window_start: datetime
    window_end: datetime
    eta_start: datetime = Field(description="The vehicle is expected from ...")
    eta_end: datetime = Field(description="... to this time.")
    vehicle_type: str
    price_eur: float = Field(description="What the customer pays, EUR.")
    marginal_cost_eur: float = Field(description="What serving it adds to the day, EUR.")
    co2_g: float = Field(description="What serving it adds to the day, grams CO2.")
    greenest: bool = Field(description="The option with the least CO2 among those shown.")
    score: float = Field(description="How well it suits the customer, 0 to 1.")
    explanation: str = Field(description="Why it is suggested, in one sentence.")

    model_config = _example(**_OPTION_EXAMPLE)


class OrderOptionsPublic(SQLModel):
    """The best options for an order over the days considered, best first."""

    order_id: int
    days: list[date]
    options: list[DeliveryOptionPublic]

    model_config = _example(
        order_id=7, days=["2025-03-04", "2025-03-05"], options=[_OPTION_EXAMPLE]
    )


class OptionChoice(SQLModel):
    """The option chosen, as the options answer names it."""

    place_id: int
    service_level: Literal["standard", "express", "eco"]
    window_start: datetime = Field(description="With an offset.")
    window_end: datetime = Field(description="With an offset.")

    model_config = _example(
        place_id=2,
        service_level="standard",
        window_start="2025-03-04T10:00:00+02:00",
        window_end="2025-03-04T12:00:00+02:00",
    )


class HoldPublic(SQLModel):
    """A chosen option, held for the customer until ``expires_at`` unless confirmed."""

    id: int
    order_id: int
    customer_id: int
    service_day: date
    place_id: int
    window_start: datetime
    window_end: datetime
    service_level: str
    vehicle_type: str
    eta_start: datetime
    eta_end: datetime
    price_eur: float
    marginal_cost_eur: float
    co2_g: float
    status: HoldStatus
    created_at: datetime
    expires_at: datetime
    closed_at: datetime | None

    model_config = _example(
        id=4,
        order_id=7,
        customer_id=1,
        service_day="2025-03-04",
        place_id=2,
        window_start="2025-03-04T08:00:00Z",
        window_end="2025-03-04T10:00:00Z",
        service_level="standard",
        vehicle_type="cargo-bike",
        eta_start="2025-03-04T08:20:00Z",
        eta_end="2025-03-04T08:50:00Z",
        price_eur=5.12,
        marginal_cost_eur=0.44,
        co2_g=0.0,
        status="held",
        created_at="2025-03-03T17:00:00Z",
        expires_at="2025-03-03T17:15:00Z",
        closed_at=None,
    )


class ProfileDeleted(SQLModel):
    """What deleting a customer's profile removed, and what it kept and why."""

    deleted: dict[str, int]
    kept: dict[str, int]
    note: str

    model_config = _example(
        deleted={"profile": 1, "holds": 2, "places": 1},
        kept={"live_orders": 1, "places_of_live_orders": 1, "closed_orders": 3},
        note="Places of orders still to deliver are kept until delivered; delivered and "
        "failed orders are kept for bookkeeping, their places anonymised.",
    )


class CustomerExport(SQLModel):
    """Everything stored about a customer, as one document."""

    exported_at: datetime
    customer: CustomerPublic
    profile: ProfilePublic
    places: list[PlacePublic]
    orders: list[OrderPublic]
    events: list[OrderEventPublic]
    holds: list[HoldPublic]

    model_config = _example(
        exported_at="2025-03-03T18:00:00Z",
        customer=CustomerPublic.model_config["json_schema_extra"]["examples"][0],  # type: ignore[index]
        profile=ProfilePublic.model_config["json_schema_extra"]["examples"][0],  # type: ignore[index]
        places=[PlacePublic.model_config["json_schema_extra"]["examples"][0]],  # type: ignore[index]
        orders=[],
        events=[],
        holds=[HoldPublic.model_config["json_schema_extra"]["examples"][0]],  # type: ignore[index]
    )


__all__ += [  # the concierge section lists its own names
    "CustomerExport",
    "DeliveryOptionPublic",
    "HoldPublic",
    "LearnedSlot",
    "OptionChoice",
    "OrderOptionsPublic",
    "PreferredWindowIn",
    "ProfileDeleted",
    "ProfilePublic",
    "ProfileUpdate",
    "ScheduleRuleIn",
    "ScheduleRulePublic",
    "Weekday",
]


# -- returns: the product catalogue, store sales and stock, returns and their stops -------------


class ReturnStatus(StrEnum):
    """Where a return stands: ``requested`` (no pickup chosen yet) → ``scheduled`` (a pickup,
    locker or store drop-off is chosen) → ``picked_up`` → ``in_transit`` → ``received`` at
    its destination."""

    REQUESTED = "requested"
    SCHEDULED = "scheduled"
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"


class ReturnReason(StrEnum):
    """Why the customer sends the item back."""

    TOO_SMALL = "too_small"
    TOO_LARGE = "too_large"
    NOT_AS_DESCRIBED = "not_as_described"
    DEFECTIVE = "defective"
    CHANGED_MIND = "changed_mind"
    OTHER = "other"


class PickupMethod(StrEnum):
    """How a returned item leaves the customer."""

    PICKUP = "pickup"
    """Collected at one of the customer's places, in a window, by a passing delivery route."""
    LOCKER = "locker"
    """Dropped into a parcel locker (a customer's place of kind ``locker``), collected that day."""
    STORE = "store"
    """Handed in at a store that accepts returns."""


class ReturnStopKind(StrEnum):
    """A return's stop on a route: the ``pickup``, or the ``dropoff`` at the chosen store."""

    PICKUP = "pickup"
    DROPOFF = "dropoff"


class CarriedTo(StrEnum):
    """Where the route that collects a return takes it."""

    STORE = "store"
    """Straight to the destination store, later on the same route."""
    DEPOT = "depot"
    """Back to the depot; the onward transfer to the destination is recorded on the return."""


class ProductBase(SQLModel):
    """One variant of the catalogue: a style in one colour and one size."""

    style: str = Field(min_length=1, max_length=100, description="Style (model) code.")
    category: str = Field(min_length=1, max_length=100, description="E.g. 'dresses'.")
    size: str = Field(min_length=1, max_length=20)
    colour: str = Field(min_length=1, max_length=40)
    list_price_cents: int = Field(gt=0, description="List price of one unit, cents.")


class ProductCreate(ProductBase):
    """What adding a product takes: its SKU and its place in the hierarchy."""

    sku: str = Field(min_length=1, max_length=64)


class Product(ProductBase, table=True):
    """Table ``products``: the catalogue the resale model reads SKUs through."""

    __tablename__ = "products"

    sku: str = Field(primary_key=True, min_length=1, max_length=64)
    created_at: datetime = _created_at()


_PRODUCT_EXAMPLE: dict[str, Any] = {
    "sku": "DRS-014-BLK-S",
    "style": "DRS-014",
    "category": "dresses",
    "size": "S",
    "colour": "black",
    "list_price_cents": 7_990,
}


class ProductPublic(ProductBase):
    """A product as shown."""

    sku: str

    model_config = _example(**_PRODUCT_EXAMPLE)


class StoreUpdate(SQLModel):
    """Fields of a store that may change; ``None`` leaves a field as it is."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    lat: float | None = Field(default=None, ge=-90.0, le=90.0)
    lon: float | None = Field(default=None, ge=-180.0, le=180.0)
    depot_id: int | None = Field(default=None, description="Served from.")
    accepts_returns: bool | None = None
    hosts_robots: bool | None = None


class StoreSale(SQLModel, table=True):
    """Table ``store_sales``: units of one SKU a store sold on one day (days without a sale
    have no row)."""

    __tablename__ = "store_sales"
    __table_args__ = (
        sa.UniqueConstraint("store_id", "sku", "day", name="uq_store_sales_store_sku_day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    store_id: int = Field(foreign_key="stores.id", index=True, ondelete="CASCADE")
    sku: str = Field(foreign_key="products.sku", max_length=64)
    day: date
    units: int = Field(ge=1)


class StoreStock(SQLModel, table=True):
    """Table ``store_stock``: units of one SKU on a store's shelves (and on their way)."""

    __tablename__ = "store_stock"

    store_id: int = Field(foreign_key="stores.id", primary_key=True, ondelete="CASCADE")
    sku: str = Field(foreign_key="products.sku", primary_key=True, max_length=64)
    units: int = Field(ge=0)


class SaleIn(SQLModel):
    """One day's sales of one SKU at a store."""

    sku: str = Field(min_length=1, max_length=64)
    day: date
    units: int = Field(default=1, ge=1, description="Units sold that day, 1 or more.")


class SalesIn(SQLModel):
    """Daily sales to record at a store; a day already recorded for a SKU is replaced."""

    sales: list[SaleIn] = Field(min_length=1, max_length=100_000)


class SalesLoaded(SQLModel):
    """What loading sales did."""

    store_id: int
    records: int = Field(description="Sale records written (new or replaced).")
    units: int = Field(description="Units in them.")
    first_day: date
    last_day: date

    model_config = _example(
        store_id=2, records=3, units=7, first_day="2025-02-01", last_day="2025-02-03"
    )


class StockLevelIn(SQLModel):
    """Units of one SKU at a store."""

    sku: str = Field(min_length=1, max_length=64)
    units: int = Field(ge=0, description="Units on the shelf or on their way, 0 or more.")


class StockIn(SQLModel):
    """A store's whole stock: it replaces what was recorded (SKUs left out hold 0)."""

    stock: list[StockLevelIn] = Field(max_length=100_000)


class StockLevelPublic(SQLModel):
    """Units of one SKU at a store, as shown."""

    sku: str
    units: int

    model_config = _example(sku="DRS-014-BLK-S", units=2)


class ItemReturn(SQLModel, table=True):
    """Table ``item_returns``: one returned unit of an order line, its pickup and where it goes.

    The destination is the returns engine's decision (:func:`returns.decide`) with its
    expected net recovery (EUR), its probability of a sale within the horizon, the options it
    weighed (``options``) and one sentence; it is made when the return starts and again when
    the pickup is chosen (the item's starting point changes the transfer). Distances in
    kilometres and CO2 in kilograms, as the engine counts them. ``carried_to`` and the onward
    transfer are written by planning.
    """

    __tablename__ = "item_returns"
    __table_args__ = (sa.Index("ix_item_returns_depot_day", "depot_id", "pickup_day"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id", index=True, ondelete="CASCADE")
    order_id: int = Field(foreign_key="orders.id", index=True, ondelete="CASCADE")
    order_item_id: int = Field(foreign_key="order_items.id", ondelete="CASCADE")
    depot_id: int = Field(foreign_key="depots.id", description="The origin warehouse.")
    sku: str = Field(max_length=64)
    condition: Condition = _enum(Condition)
    reason: ReturnReason = _enum(ReturnReason)
    note: str | None = Field(default=None, max_length=500)
    status: ReturnStatus = _enum(ReturnStatus, ReturnStatus.REQUESTED)
    pickup_method: PickupMethod | None = _enum(PickupMethod, None, nullable=True)
    pickup_place_id: int | None = Field(default=None, foreign_key="places.id", ondelete="SET NULL")
    pickup_store_id: int | None = Field(default=None, foreign_key="stores.id")
    pickup_day: date | None = Field(default=None, description="Local date at the depot.")
    window_start: datetime | None = _timestamp(default=None)
    window_end: datetime | None = _timestamp(default=None)
    destination_kind: DestinationKind = _enum(DestinationKind)
    destination_id: str = Field(max_length=40, description="The engine's destination id.")
    destination_store_id: int | None = Field(default=None, foreign_key="stores.id")
    destination_name: str = Field(max_length=200)
    expected_recovery_eur: float
    resale_probability: float
    expected_days: float | None = Field(default=None, description="None: never expected.")
    explanation: str = Field(max_length=1_000)
    options: list[dict[str, Any]] = _json(default_factory=list)
    transfer_km: float
    transfer_co2_kg: float
    carried_to: CarriedTo | None = _enum(CarriedTo, None, nullable=True)
    onward_km: float | None = None
    onward_co2_kg: float | None = None
    created_at: datetime = _created_at()
    updated_at: datetime = _created_at()


class ReturnCreate(SQLModel):
    """What starting a return takes: which unit of which order, its condition and why."""

    order_id: int
    order_item_id: int
    condition: Condition = _enum(Condition, Condition.A)
    reason: ReturnReason = _enum(ReturnReason, ReturnReason.OTHER)
    note: str | None = Field(default=None, max_length=500)


class PickupChoice(SQLModel):
    """The pickup the customer picks (one of the pickup options, or their own).

    ``pickup``: ``place_id`` (one of their places) and ``window_start``/``window_end``
    (aware). ``locker``: ``place_id`` (a place of kind locker) and ``day``. ``store``:
    ``store_id`` (a store accepting returns) and ``day``.
    """

    method: PickupMethod = _enum(PickupMethod)
    place_id: int | None = None
    store_id: int | None = None
    day: date | None = Field(default=None, description="Local date at the depot.")
    window_start: datetime | None = None
    window_end: datetime | None = None


class ReturnPublic(SQLModel):
    """A return as shown, with its pickup as planned."""

    id: int
    customer_id: int
    order_id: int
    order_item_id: int
    depot_id: int
    sku: str
    condition: Condition
    reason: ReturnReason
    note: str | None
    status: ReturnStatus
    pickup_method: PickupMethod | None
    pickup_place_id: int | None
    pickup_store_id: int | None
    pickup_day: date | None
    window_start: datetime | None
    window_end: datetime | None
    destination_kind: DestinationKind
    destination_id: str
    destination_store_id: int | None
    destination_name: str
    expected_recovery_eur: float
    resale_probability: float
    expected_days: float | None
    explanation: str
    options: list[dict[str, Any]]
    transfer_km: float
    transfer_co2_kg: float
    carried_to: CarriedTo | None
    onward_km: float | None
    onward_co2_kg: float | None
    created_at: datetime
    updated_at: datetime
    pickup_eta: datetime | None = Field(
        default=None, description="Planned start of the pickup in the day's current plan."
    )
    pickup_vehicle: str | None = None
    unserved_reason: str | None = Field(
        default=None, description="Why the day's current plan leaves the pickup out."
    )
    unserved_detail: str | None = None

    model_config = _example(
        id=4,
        customer_id=1,
        order_id=1,
        order_item_id=1,
        depot_id=1,
        sku="DRS-014-BLK-S",
        condition="A",
        reason="too_large",
        note=None,
        status="scheduled",
        pickup_method="pickup",
        pickup_place_id=1,
        pickup_store_id=None,
        pickup_day="2025-03-05",
        window_start="2025-03-05T16:00:00Z",
        window_end="2025-03-05T18:00:00Z",
        destination_kind="store",
        destination_id="store-2",
        destination_store_id=2,
        destination_name="Store Kallio",
        expected_recovery_eur=52.4,
        resale_probability=0.81,
        expected_days=6.2,
        explanation="Store Kallio sold 9 of this style in size S in the last 28 days and "
        "holds 0; expected 52 EUR net vs 31 EUR at Warehouse HEL1",
        options=[
            {
                "destination_id": "store-2",
                "name": "Store Kallio",
                "kind": "store",
                "eligible": True,
                "probability": 0.81,
                "expected_days": 6.2,
                "expected_net_eur": 52.4,
                "distance_km": 2.1,
                "co2_kg": 0.011,
            }
        ],
        transfer_km=2.1,
        transfer_co2_kg=0.011,
        carried_to="store",
        onward_km=None,
        onward_co2_kg=None,
        created_at="2025-03-04T10:00:00Z",
        updated_at="2025-03-04T10:02:00Z",
        pickup_eta="2025-03-05T16:40:00Z",
        pickup_vehicle="van-1-1",
        unserved_reason=None,
        unserved_detail=None,
    )


class PickupOptionPublic(SQLModel):
    """One way to hand a return over: a pickup window, a locker day or a store to bring it to.

    Times are aware instants; ``marginal_cost_eur`` and ``co2_g`` are what collecting it adds
    to the day's tentative plan (0 for a store drop-off); ``distance_m`` is from the place the
    order was delivered to.
    """

    method: PickupMethod
    day: date
    place_id: int | None = None
    store_id: int | None = None
    name: str
    lat: float
    lon: float
    window_start: datetime | None = None
    window_end: datetime | None = None
    eta_start: datetime | None = None
    eta_end: datetime | None = None
    vehicle_type: str | None = None
    marginal_cost_eur: float
    co2_g: float
    distance_m: int
    explanation: str

    model_config = _example(
        method="pickup",
        day="2025-03-05",
        place_id=1,
        store_id=None,
        name="home",
        lat=60.1755,
        lon=24.9310,
        window_start="2025-03-05T16:00:00Z",
        window_end="2025-03-05T18:00:00Z",
        eta_start="2025-03-05T16:25:00Z",
        eta_end="2025-03-05T16:55:00Z",
        vehicle_type="van",
        marginal_cost_eur=0.84,
        co2_g=210.0,
        distance_m=0,
        explanation="a van passes by at about 16:40 (adds 0.84 EUR and 210 g CO2 to its route)",
    )


class ReturnStop(SQLModel, table=True):
    """Table ``return_stops``: a return's pickup or store drop-off on a route, with its ETA.

    ``sequence`` counts in the same space as the route's order stops (``route_stops``), so the
    two together give the route's visiting order.
    """

    __tablename__ = "return_stops"
    __table_args__ = (sa.UniqueConstraint("route_id", "sequence", name="uq_return_stops_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    route_id: int = Field(foreign_key="routes.id", index=True, ondelete="CASCADE")
    return_id: int = Field(foreign_key="item_returns.id", index=True, ondelete="CASCADE")
    kind: ReturnStopKind = _enum(ReturnStopKind)
    store_id: int | None = Field(default=None, foreign_key="stores.id")
    sequence: int = Field(ge=0, description="0 for the route's first stop.")
    arrival_at: datetime = _timestamp(description="ETA.")
    service_start_at: datetime = _timestamp()
    departure_at: datetime = _timestamp()
    wait_s: int = Field(description="Seconds waiting for the window to open.")
    leg_distance_m: int = Field(description="Metres from the previous stop or the depot.")
    load_after: list[int] = _json(description="On board after the stop, per dimension.")


class UnservedReturn(SQLModel, table=True):
    """Table ``unserved_returns``: a scheduled pickup a plan leaves out, with a typed reason."""

    __tablename__ = "unserved_returns"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True, ondelete="CASCADE")
    return_id: int = Field(foreign_key="item_returns.id", index=True, ondelete="CASCADE")
    reason: str = Field(max_length=40, description="A routing.UnservedReason value.")
    detail: str = Field(default="", max_length=1_000)


class DestinationFlowPublic(SQLModel):
    """The returns heading to one destination."""

    destination_id: str
    destination_kind: DestinationKind
    store_id: int | None
    name: str
    items: int = Field(description="Returns heading there.")
    by_status: dict[str, int] = Field(description="Of those, how many in each status.")
    expected_recovery_eur: float = Field(description="Sum of the expected net recoveries.")
    transfer_km: float = Field(description="Sum of the items' transfer distances.")
    transfer_co2_kg: float
    via_depot: int = Field(description="Items a route brings back to the depot first.")


class ReturnFlowsPublic(SQLModel):
    """Where a depot's returns are heading, per destination (stores first, busiest first)."""

    depot_id: int
    day: date | None = Field(description="Pickup day shown; None: every return not received.")
    items: int
    expected_recovery_eur: float
    destinations: list[DestinationFlowPublic]

    model_config = _example(
        depot_id=1,
        day="2025-03-05",
        items=3,
        expected_recovery_eur=121.7,
        destinations=[
            {
                "destination_id": "store-2",
                "destination_kind": "store",
                "store_id": 2,
                "name": "Store Kallio",
                "items": 2,
                "by_status": {"scheduled": 2},
                "expected_recovery_eur": 98.1,
                "transfer_km": 3.4,
                "transfer_co2_kg": 0.017,
                "via_depot": 0,
            },
            {
                "destination_id": "outlet",
                "destination_kind": "outlet",
                "store_id": None,
                "name": "Outlet",
                "items": 1,
                "by_status": {"requested": 1},
                "expected_recovery_eur": 23.6,
                "transfer_km": 12.0,
                "transfer_co2_kg": 0.06,
                "via_depot": 0,
            },
        ],
    )


__all__ += [  # the returns section lists its own names
    "CarriedTo",
    "DestinationFlowPublic",
    "ItemReturn",
    "PickupChoice",
    "PickupMethod",
    "PickupOptionPublic",
    "Product",
    "ProductBase",
    "ProductCreate",
    "ProductPublic",
    "ReturnCreate",
    "ReturnFlowsPublic",
    "ReturnPublic",
    "ReturnReason",
    "ReturnStatus",
    "ReturnStop",
    "ReturnStopKind",
    "SaleIn",
    "SalesIn",
    "SalesLoaded",
    "StockIn",
    "StockLevelIn",
    "StockLevelPublic",
    "StoreSale",
    "StoreStock",
    "StoreUpdate",
    "UnservedReturn",
]


# -- simulation jobs ----------------------------------------------------------------------------


class SimulationStatus(StrEnum):
    """Life of a simulation job (:mod:`orchestrator.jobs.simulations`)."""

    QUEUED = "queued"
    """Waiting for a server process to run it (new, or left unfinished by a stopped server)."""
    RUNNING = "running"
    """Claimed by one server process, whose worker is simulating."""
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Simulation(SQLModel, table=True):
    """Table ``simulation_jobs``: one what-if simulation (a scenario or a sweep) run as a job.

    ``request`` is what to run, as plain JSON — the orchestrator does not know the simulator:
    ``{"scenario": <the scenario's JSON dump>, "axes": [[dotted path, [values]], ...],
    "seed": int | null}`` (axes as pairs, so their order, which orders the sweep's points,
    survives any JSON column). ``folder`` names the job's folder under the server's
    simulations folder, where the worker writes the report, the plots and a sweep's cached
    points. ``claim`` is the token of the run that holds a running job: only that run may
    record its end, so a run a restart gave up on cannot overwrite the one that resumed it.
    """

    __tablename__ = "simulation_jobs"

    id: int | None = Field(default=None, primary_key=True)
    scenario: str = Field(max_length=200, description="The scenario's name.")
    request: dict[str, Any] = _json(description="Scenario JSON dump, axes and seed.")
    points: int = Field(ge=1, description="Scenarios to run: 1, or the sweep's combinations.")
    replications: int = Field(ge=1, description="Replications per scenario.")
    status: SimulationStatus = _enum(SimulationStatus, SimulationStatus.QUEUED, index=True)
    folder: str = Field(max_length=64, unique=True, description="Folder name of the files.")
    kpis: list[dict[str, Any]] | None = _json(
        default=None, description="Once succeeded: per scenario its label and KPI means."
    )
    error: str | None = Field(default=None, max_length=2_000)
    claim: str | None = Field(default=None, max_length=32, description="Token of the run.")
    attempts: int = Field(default=0, description="Runs started (more than 1: resumed).")
    created_at: datetime = _created_at()
    started_at: datetime | None = _timestamp(default=None, description="Last run started.")
    finished_at: datetime | None = _timestamp(default=None, description="Job ended.")


__all__ += ["Simulation", "SimulationStatus"]
