"""Commuters who deliver on their way: couriers, the trips they register, the offers they get
and the jobs (one per order) an offer holds.

A courier is a person with a ``courier`` API key (:class:`~orchestrator.models.ApiKey`
``courier_id``); they see only their own trips and offers, and of a customer only what the job
needs (:mod:`orchestrator.commuting`). Units: WGS84 degrees, minutes for the detour asked,
seconds for the detour offered, EUR for payouts, aware instants stored in UTC.
"""

import math
from datetime import date, datetime
from enum import StrEnum

from pydantic import field_validator, model_validator
from sqlmodel import Field

from orchestrator.models._fields import (
    StorableModel,
    created_at_field,
    enum_field,
    example_config,
    lat_field,
    lon_field,
    timestamp_field,
)

__all__ = [
    "MAX_DETOUR_MIN",
    "MAX_LEAVING_WINDOW_H",
    "MAX_PAYOUT_EUR",
    "MAX_TRIP_PARCELS",
    "Courier",
    "CourierCreate",
    "CourierJob",
    "CourierOffer",
    "CourierPublic",
    "CourierTrip",
    "JobStatus",
    "OfferStatus",
    "TravelMode",
    "TripCreate",
]

MAX_TRIP_PARCELS = 20
"""Parcels one commuter may offer to carry at most."""
MAX_DETOUR_MIN = 120
"""Longest detour a commuter may offer, minutes."""
MAX_PAYOUT_EUR = 500.0
"""Highest payout a commuter may ask for one trip, EUR."""
MAX_LEAVING_WINDOW_H = 12
"""Widest leaving window, hours."""


class TravelMode(StrEnum):
    """How the commuter travels (the travel profile their ride is timed on)."""

    BIKE = "bike"
    CAR = "car"
    WALK = "walk"


class OfferStatus(StrEnum):
    """An offer is ``offered`` until answered: ``accepted`` (then ``done`` once every parcel is
    delivered or back), ``refused``, ``expired`` (its deadline passed unanswered) or
    ``no_show`` (accepted, but the courier never came for the parcels)."""

    OFFERED = "offered"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    EXPIRED = "expired"
    NO_SHOW = "no_show"
    DONE = "done"


class JobStatus(StrEnum):
    """One order of an offer: ``offered``, ``accepted``, ``picked_up``, ``delivered``, or
    ``released`` (sent back to the plan: refused, expired, no-show)."""

    OFFERED = "offered"
    ACCEPTED = "accepted"
    PICKED_UP = "picked_up"
    DELIVERED = "delivered"
    RELEASED = "released"


class Courier(StorableModel, table=True):
    """Table ``couriers``: a commuter who may carry parcels; only a display name is kept."""

    __tablename__ = "couriers"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(min_length=1, max_length=100, description="What the courier is called.")
    created_at: datetime = created_at_field()


class CourierCreate(StorableModel):
    """What registering a courier takes."""

    name: str = Field(min_length=1, max_length=100, description="What the courier is called.")

    model_config = example_config(name="Mikko")


class CourierPublic(StorableModel):
    """A courier as shown to staff."""

    id: int
    name: str
    created_at: datetime

    model_config = example_config(id=1, name="Mikko", created_at="2025-03-01T08:00:00Z")


class TripCreate(StorableModel):
    """A trip a commuter offers: from where to where, when they leave, what they carry, how
    long a detour they accept and what they want for it."""

    origin_lat: float = lat_field()
    origin_lon: float = lon_field()
    destination_lat: float = lat_field()
    destination_lon: float = lon_field()
    leave_after: datetime = Field(description="Earliest departure from the origin (with offset).")
    leave_before: datetime = Field(description="Latest departure from the origin (with offset).")
    capacity_parcels: int = Field(
        ge=1, le=MAX_TRIP_PARCELS, description="Parcels the commuter can carry."
    )
    max_detour_min: int = Field(
        ge=1, le=MAX_DETOUR_MIN, description="Longest detour accepted, minutes."
    )
    payout_wanted_eur: float = Field(
        ge=0, le=MAX_PAYOUT_EUR, description="What the commuter wants for the trip, EUR."
    )
    mode: TravelMode = Field(default=TravelMode.BIKE, description="bike, car or walk.")

    model_config = example_config(
        origin_lat=60.1690,
        origin_lon=24.9390,
        destination_lat=60.1950,
        destination_lon=24.9400,
        leave_after="2025-03-03T16:00:00+02:00",
        leave_before="2025-03-03T17:00:00+02:00",
        capacity_parcels=3,
        max_detour_min=20,
        payout_wanted_eur=6.0,
        mode="bike",
    )

    @field_validator("payout_wanted_eur")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("give the payout as a number of EUR, such as 6.5")
        return round(value, 2)

    @field_validator("leave_after", "leave_before")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"{value.isoformat()} has no UTC offset — give one, e.g. 2025-03-03T16:30:00+02:00"
            )
        return value

    @model_validator(mode="after")
    def _window(self) -> "TripCreate":
        if self.leave_before < self.leave_after:
            raise ValueError(
                f"leave_before {self.leave_before.isoformat()} is before leave_after "
                f"{self.leave_after.isoformat()} — swap them"
            )
        if (self.leave_before - self.leave_after).total_seconds() > MAX_LEAVING_WINDOW_H * 3600:
            raise ValueError(
                f"the leaving window is longer than {MAX_LEAVING_WINDOW_H} h — narrow it to "
                "when you really leave"
            )
        return self


class CourierTrip(StorableModel, table=True):
    """Table ``courier_trips``: a trip as registered (the depot and day it was matched to)."""

    __tablename__ = "courier_trips"

    id: int | None = Field(default=None, primary_key=True)
    courier_id: int = Field(foreign_key="couriers.id", index=True, ondelete="CASCADE")
    depot_id: int | None = Field(default=None, foreign_key="depots.id", ondelete="SET NULL")
    service_day: date | None = None
    origin_lat: float
    origin_lon: float
    destination_lat: float
    destination_lon: float
    leave_after: datetime = timestamp_field()
    leave_before: datetime = timestamp_field()
    capacity_parcels: int
    max_detour_min: int
    payout_wanted_eur: float
    mode: TravelMode = enum_field(TravelMode, TravelMode.BIKE)
    no_offer_reason: str | None = Field(default=None, max_length=1_000)
    created_at: datetime = created_at_field()


class CourierOffer(StorableModel, table=True):
    """Table ``courier_offers``: a bundle offered for a trip, its payout, detour and deadline.

    ``carrier_cost_eur`` is what the orders cost on the vans (the ceiling of the payout rule);
    ``detour_s`` and ``direct_s`` are seconds; ``leave_at``/``arrive_at`` the ride's ends.
    """

    __tablename__ = "courier_offers"

    id: int | None = Field(default=None, primary_key=True)
    trip_id: int = Field(foreign_key="courier_trips.id", index=True, ondelete="CASCADE")
    depot_id: int = Field(foreign_key="depots.id", ondelete="CASCADE")
    service_day: date
    status: OfferStatus = enum_field(OfferStatus, OfferStatus.OFFERED)
    payout_eur: float
    carrier_cost_eur: float
    detour_s: int
    direct_s: int
    distance_m: int
    leave_at: datetime = timestamp_field()
    arrive_at: datetime = timestamp_field()
    deadline_at: datetime = timestamp_field()
    created_at: datetime = created_at_field()
    answered_at: datetime | None = timestamp_field(default=None)
    replan_note: str | None = Field(default=None, max_length=1_000)


class CourierJob(StorableModel, table=True):
    """Table ``courier_jobs``: one order of an offer — when it is picked up and handed over,
    its status and the hand-off code the customer recognises the courier by."""

    __tablename__ = "courier_jobs"

    id: int | None = Field(default=None, primary_key=True)
    offer_id: int = Field(foreign_key="courier_offers.id", index=True, ondelete="CASCADE")
    order_id: int = Field(foreign_key="orders.id", index=True, ondelete="CASCADE")
    sequence: int = Field(ge=0, description="0 for the first drop-off.")
    status: JobStatus = enum_field(JobStatus, JobStatus.OFFERED)
    pickup_at: datetime = timestamp_field()
    eta: datetime = timestamp_field(description="Planned hand-over.")
    handoff_code: str = Field(max_length=8)
    closed_at: datetime | None = timestamp_field(default=None)
