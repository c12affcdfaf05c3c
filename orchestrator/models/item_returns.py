"""Returns: an item a customer sends back, where the returns engine sends it, its pickup and
its stops on a route, and where a depot's returns are heading.

Distances in kilometres and CO2 in kilograms where the returns engine counts them so."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from orchestrator.models._fields import (
    StorableModel,
    created_at_field,
    enum_field,
    example_config,
    json_field,
    timestamp_field,
)
from orchestrator.models.retailers import retailer_field
from returns.model import Condition, DestinationKind

__all__ = [
    "CarriedTo",
    "DestinationFlowPublic",
    "ItemReturn",
    "PickupChoice",
    "PickupMethod",
    "PickupOptionPublic",
    "ReturnCreate",
    "ReturnCustomerPublic",
    "ReturnFlowsPublic",
    "ReturnPublic",
    "ReturnReason",
    "ReturnStatus",
    "ReturnStop",
    "ReturnStopKind",
    "UnservedReturn",
]


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


class ItemReturn(StorableModel, table=True):
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
    condition: Condition = enum_field(Condition)
    reason: ReturnReason = enum_field(ReturnReason)
    note: str | None = Field(default=None, max_length=500)
    status: ReturnStatus = enum_field(ReturnStatus, ReturnStatus.REQUESTED)
    pickup_method: PickupMethod | None = enum_field(PickupMethod, None, nullable=True)
    pickup_place_id: int | None = Field(default=None, foreign_key="places.id", ondelete="SET NULL")
    pickup_store_id: int | None = Field(default=None, foreign_key="stores.id")
    pickup_day: date | None = Field(default=None, description="Local date at the depot.")
    window_start: datetime | None = timestamp_field(default=None)
    window_end: datetime | None = timestamp_field(default=None)
    destination_kind: DestinationKind = enum_field(DestinationKind)
    destination_id: str = Field(max_length=40, description="The engine's destination id.")
    destination_store_id: int | None = Field(default=None, foreign_key="stores.id")
    destination_name: str = Field(max_length=200)
    expected_recovery_eur: float
    resale_probability: float
    expected_days: float | None = Field(default=None, description="None: never expected.")
    explanation: str = Field(max_length=1_000)
    options: list[dict[str, Any]] = json_field(default_factory=list)
    transfer_km: float
    transfer_co2_kg: float
    carried_to: CarriedTo | None = enum_field(CarriedTo, None, nullable=True)
    onward_km: float | None = None
    onward_co2_kg: float | None = None
    retailer_id: int = retailer_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class ReturnCreate(StorableModel):
    """What starting a return takes: which unit of which order, its condition and why."""

    order_id: int
    order_item_id: int
    condition: Condition = enum_field(Condition, Condition.A)
    reason: ReturnReason = enum_field(ReturnReason, ReturnReason.OTHER)
    note: str | None = Field(default=None, max_length=500)


class PickupChoice(StorableModel):
    """The pickup the customer picks (one of the pickup options, or their own).

    ``pickup``: ``place_id`` (one of their places) and ``window_start``/``window_end``
    (aware). ``locker``: ``place_id`` (a place of kind locker) and ``day``. ``store``:
    ``store_id`` (a store accepting returns) and ``day``.
    """

    method: PickupMethod = enum_field(PickupMethod)
    place_id: int | None = None
    store_id: int | None = None
    day: date | None = Field(default=None, description="Local date at the depot.")
    window_start: datetime | None = None
    window_end: datetime | None = None


class ReturnPublic(StorableModel):
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

    model_config = example_config(
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
        window_start="2025-03-05T18:00:00+02:00",
        window_end="2025-03-05T20:00:00+02:00",
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
        created_at="2025-03-04T12:00:00+02:00",
        updated_at="2025-03-04T12:02:00+02:00",
        pickup_eta="2025-03-05T18:40:00+02:00",
        pickup_vehicle="van-1-1",
        unserved_reason=None,
        unserved_detail=None,
    )


class ReturnCustomerPublic(StorableModel):
    """A return as its customer sees it: its status, where it goes and why in plain words, and
    its pickup — none of the retailer's figures (stores' sales and stock, expected recovery,
    the options weighed, transfer distances), which :class:`ReturnPublic` shows staff."""

    id: int
    customer_id: int
    order_id: int
    order_item_id: int
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
    destination_name: str
    explanation: str = Field(description="Where the item goes, for the customer.")
    created_at: datetime
    updated_at: datetime
    pickup_eta: datetime | None = None
    pickup_vehicle: str | None = None
    unserved_reason: str | None = None
    unserved_detail: str | None = None

    model_config = example_config(
        id=4, customer_id=1, order_id=1, order_item_id=1, sku="DRS-014-BLK-S",
        condition="A", reason="too_large", note=None, status="scheduled",
        pickup_method="pickup", pickup_place_id=1, pickup_store_id=None,
        pickup_day="2025-03-05", window_start="2025-03-05T18:00:00+02:00",
        window_end="2025-03-05T20:00:00+02:00", destination_kind="store",
        destination_name="Store Kallio",
        explanation="Your item goes to Store Kallio, where it will be sold again.",
        created_at="2025-03-04T12:00:00+02:00", updated_at="2025-03-04T12:02:00+02:00",
        pickup_eta="2025-03-05T18:40:00+02:00", pickup_vehicle="van-1-1",
        unserved_reason=None, unserved_detail=None,
    )  # fmt: skip
    model_config["extra"] = "forbid"  # a staff view never passes for this one


class PickupOptionPublic(StorableModel):
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

    model_config = example_config(
        method="pickup",
        day="2025-03-05",
        place_id=1,
        store_id=None,
        name="home",
        lat=60.1755,
        lon=24.9310,
        window_start="2025-03-05T18:00:00+02:00",
        window_end="2025-03-05T20:00:00+02:00",
        eta_start="2025-03-05T18:25:00+02:00",
        eta_end="2025-03-05T18:55:00+02:00",
        vehicle_type="van",
        marginal_cost_eur=0.84,
        co2_g=210.0,
        distance_m=0,
        explanation="a van passes by at about 18:40 (adds 0.84 EUR and 210 g CO2 to its route)",
    )


class ReturnStop(StorableModel, table=True):
    """Table ``return_stops``: a return's pickup or store drop-off on a route, with its ETA.

    ``sequence`` counts in the same space as the route's order stops (``route_stops``), so the
    two together give the route's visiting order.
    """

    __tablename__ = "return_stops"
    __table_args__ = (sa.UniqueConstraint("route_id", "sequence", name="uq_return_stops_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    route_id: int = Field(foreign_key="routes.id", index=True, ondelete="CASCADE")
    return_id: int = Field(foreign_key="item_returns.id", index=True, ondelete="CASCADE")
    kind: ReturnStopKind = enum_field(ReturnStopKind)
    store_id: int | None = Field(default=None, foreign_key="stores.id")
    sequence: int = Field(ge=0, description="0 for the route's first stop.")
    arrival_at: datetime = timestamp_field(description="ETA.")
    service_start_at: datetime = timestamp_field()
    departure_at: datetime = timestamp_field()
    wait_s: int = Field(description="Seconds waiting for the window to open.")
    leg_distance_m: int = Field(description="Metres from the previous stop or the depot.")
    load_after: list[int] = json_field(description="On board after the stop, per dimension.")


class UnservedReturn(StorableModel, table=True):
    """Table ``unserved_returns``: a scheduled pickup a plan leaves out, with a typed reason."""

    __tablename__ = "unserved_returns"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", index=True, ondelete="CASCADE")
    return_id: int = Field(foreign_key="item_returns.id", index=True, ondelete="CASCADE")
    reason: str = Field(max_length=40, description="A routing.UnservedReason value.")
    detail: str = Field(default="", max_length=1_000)


class DestinationFlowPublic(StorableModel):
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


class ReturnFlowsPublic(StorableModel):
    """Where a depot's returns are heading, per destination (stores first, busiest first)."""

    depot_id: int
    day: date | None = Field(description="Pickup day shown; None: every return not received.")
    items: int
    expected_recovery_eur: float
    destinations: list[DestinationFlowPublic]

    model_config = example_config(
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
