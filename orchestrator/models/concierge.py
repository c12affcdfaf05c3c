"""The concierge: what it keeps about a customer (profile, learned slots) and the delivery
options it offers, chosen and held; and the export of everything stored about a customer."""

from collections.abc import Sequence
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from pydantic import PrivateAttr, field_validator, model_validator
from sqlmodel import Field
from sqlmodel._compat import SQLModelConfig  # the type of model_config; no public module has it

from orchestrator.models._fields import (
    StorableModel,
    created_at_field,
    enum_field,
    example_config,
    json_field,
    timestamp_field,
)
from orchestrator.models.customers import CustomerPublic, PlacePublic
from orchestrator.models.orders import OrderEventPublic, OrderPublic

__all__ = [
    "CustomerExport",
    "CustomerProfile",
    "DeliveryOptionPublic",
    "HoldPublic",
    "HoldStatus",
    "LearnedSlot",
    "OptionChoice",
    "OptionHold",
    "OrderOptionsPublic",
    "PreferredWindowIn",
    "ProfileDeleted",
    "ProfilePublic",
    "ProfileUpdate",
    "ScheduleRuleIn",
    "ScheduleRulePublic",
    "Weekday",
]


class HoldStatus(StrEnum):
    """Life of a hold on a delivery option: ``held`` until confirmed, released or expired."""

    HELD = "held"
    CONFIRMED = "confirmed"
    EXPIRED = "expired"
    RELEASED = "released"


class CustomerProfile(StorableModel, table=True):
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
    schedule: list[dict[str, Any]] = json_field(
        default_factory=list,
        description="Rules: place_id, weekdays ['mon', ...], start and end 'HH:MM' local.",
    )
    preferred_windows: list[dict[str, Any]] = json_field(
        default_factory=list, description="weekdays, start and end 'HH:MM' local."
    )
    accepts_robot: bool = False
    accepts_courier: bool = True
    prefers_eco: bool = False
    eco_max_wait_days: int = Field(default=0, ge=0, le=14)
    language: str | None = Field(default=None, max_length=16)
    handoff_instructions: str | None = Field(default=None, max_length=500)
    stats: dict[str, Any] = json_field(default_factory=dict, description="Learned slot statistics.")
    updated_at: datetime = created_at_field()


class OptionHold(StorableModel, table=True):
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
    window_start: datetime = timestamp_field()
    window_end: datetime = timestamp_field()
    service_level: str = Field(max_length=24, description="standard, express or eco.")
    vehicle_type: str = Field(max_length=60)
    vehicle_id: str = Field(max_length=100)
    route_id: int | None = Field(default=None, foreign_key="routes.id", ondelete="SET NULL")
    eta_start: datetime = timestamp_field()
    eta_end: datetime = timestamp_field()
    price_eur: float
    marginal_cost_eur: float
    co2_g: float
    status: HoldStatus = enum_field(HoldStatus, HoldStatus.HELD)
    created_at: datetime = created_at_field()
    expires_at: datetime = timestamp_field()
    closed_at: datetime | None = timestamp_field(default=None)


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
"""A weekday as schedules spell it."""


_ALL_WEEK: list[Weekday] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class ScheduleRuleIn(StorableModel):
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


class ScheduleRulePublic(StorableModel):
    """A rule of the weekly schedule as shown: the place by id and by name."""

    place_id: int
    place: str
    weekdays: list[Weekday]
    start: time
    end: time


class PreferredWindowIn(StorableModel):
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


class ProfileUpdate(StorableModel):
    """A customer's delivery preferences, all at once (``PUT`` replaces the stored ones).

    Only what delivery options need: where they are by weekday, the times they prefer, what
    may bring their parcels, how green and how patient they are, their language and the
    hand-off instructions. Unknown fields are refused.
    """

    model_config = SQLModelConfig(
        extra="forbid", json_schema_extra={"examples": [_PROFILE_EXAMPLE]}
    )

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


class LearnedSlot(StorableModel):
    """What choices and deliveries taught about one place, weekday and part of the day:
    counts as of the last observation ``as_of`` (they fade with a half-life from then)."""

    place: str
    weekday: Weekday
    daypart: str = Field(description="night, morning, afternoon or evening.")
    successes: float
    failures: float
    as_of: datetime | None


class ProfilePublic(StorableModel):
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

    model_config = example_config(
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
                "as_of": "2025-02-25T10:10:00+02:00",
            }
        ],
        updated_at="2025-03-01T11:30:00+02:00",
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
    "confidence": 0.93,
}


class OptionReason(StorableModel):
    """One phrase of an option's explanation as a code and its values, to say it in another
    language (the codes: :data:`orchestrator.concierge.learning.REASON_CODES`)."""

    code: str
    params: dict[str, str | int] = Field(
        default_factory=dict,
        description="place, weekday (0 = Monday), daypart, start/end (local HH:MM), count.",
    )


class DeliveryOptionPublic(StorableModel):
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
    confidence: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="Probability the window is kept under the travel spread learned from "
        "outcomes; options below the setting promise_confidence are not offered.",
    )
    _reasons: tuple[OptionReason, ...] = PrivateAttr(default=())

    model_config = example_config(**_OPTION_EXAMPLE)

    @property
    def reasons(self) -> tuple[OptionReason, ...]:
        """The explanation phrase by phrase, as codes and values, for a page to say in its
        reader's language; not in the API's answer (``explanation`` is)."""
        return self._reasons

    def with_reasons(self, reasons: Sequence[OptionReason]) -> "DeliveryOptionPublic":
        """This option carrying ``reasons`` (see :attr:`reasons`)."""
        self._reasons = tuple(reasons)
        return self


class OrderOptionsPublic(StorableModel):
    """The best options for an order over the days considered, best first."""

    order_id: int
    days: list[date]
    options: list[DeliveryOptionPublic]

    model_config = example_config(
        order_id=7, days=["2025-03-04", "2025-03-05"], options=[_OPTION_EXAMPLE]
    )


class OptionChoice(StorableModel):
    """The option chosen, as the options answer names it."""

    place_id: int
    service_level: Literal["standard", "express", "eco"]
    window_start: datetime = Field(description="With an offset.")
    window_end: datetime = Field(description="With an offset.")

    model_config = example_config(
        place_id=2,
        service_level="standard",
        window_start="2025-03-04T10:00:00+02:00",
        window_end="2025-03-04T12:00:00+02:00",
    )


class HoldPublic(StorableModel):
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

    model_config = example_config(
        id=4,
        order_id=7,
        customer_id=1,
        service_day="2025-03-04",
        place_id=2,
        window_start="2025-03-04T10:00:00+02:00",
        window_end="2025-03-04T12:00:00+02:00",
        service_level="standard",
        vehicle_type="cargo-bike",
        eta_start="2025-03-04T10:20:00+02:00",
        eta_end="2025-03-04T10:50:00+02:00",
        price_eur=5.12,
        marginal_cost_eur=0.44,
        co2_g=0.0,
        status="held",
        created_at="2025-03-03T19:00:00+02:00",
        expires_at="2025-03-03T19:15:00+02:00",
        closed_at=None,
    )


class ProfileDeleted(StorableModel):
    """What deleting a customer's profile removed, and what it kept and why."""

    deleted: dict[str, int]
    kept: dict[str, int]
    note: str

    model_config = example_config(
        deleted={"profile": 1, "holds": 2, "places": 1},
        kept={"live_orders": 1, "places_of_live_orders": 1, "closed_orders": 3},
        note="Places of orders still to deliver are kept until delivered; delivered and "
        "failed orders are kept for bookkeeping, their places anonymised.",
    )


class CustomerExport(StorableModel):
    """Everything stored about a customer, as one document."""

    exported_at: datetime
    customer: CustomerPublic
    profile: ProfilePublic
    places: list[PlacePublic]
    orders: list[OrderPublic]
    events: list[OrderEventPublic]
    holds: list[HoldPublic]

    model_config = example_config(
        exported_at="2025-03-03T20:00:00+02:00",
        customer=CustomerPublic.model_config["json_schema_extra"]["examples"][0],
        profile=ProfilePublic.model_config["json_schema_extra"]["examples"][0],
        places=[PlacePublic.model_config["json_schema_extra"]["examples"][0]],
        orders=[],
        events=[],
        holds=[HoldPublic.model_config["json_schema_extra"]["examples"][0]],
    )
