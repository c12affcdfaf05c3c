"""The fleet: depots where vehicles load and routes start, the kinds of vehicles, and how
many of each kind a depot has, with their shifts and breaks.

Times of day (shifts, breaks) are **seconds since local midnight** of the depot's timezone
on the service day."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator, model_validator
from sqlmodel import Field

from orchestrator.models._fields import (
    StorableModel,
    created_at_field,
    enum_field,
    example_config,
    json_field,
    lat_field,
    lon_field,
)
from routing.model import VehicleKind

__all__ = [
    "DAY_S",
    "Depot",
    "DepotBase",
    "DepotCreate",
    "DepotPublic",
    "Fleet",
    "FleetBase",
    "FleetCreate",
    "FleetPublic",
    "VehicleType",
    "VehicleTypeBase",
    "VehicleTypeCreate",
    "VehicleTypePublic",
]


DAY_S = 86_400
"""Seconds per day; times of day may run to two days to allow night shifts."""


def _time_of_day(description: str, **kw: Any) -> Any:
    """A time of day, seconds since local midnight, up to two days (night shifts)."""
    return Field(
        ge=0, le=2 * DAY_S, description=f"{description}, seconds since local midnight.", **kw
    )


class DepotBase(StorableModel):
    """A depot: where vehicles load and routes start."""

    code: str = Field(min_length=1, max_length=40, description="Short unique code, e.g. HEL1.")
    name: str = Field(min_length=1, max_length=200)
    lat: float = lat_field()
    lon: float = lon_field()
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
    created_at: datetime = created_at_field()


class DepotPublic(DepotBase):
    """A depot as shown."""

    id: int

    model_config = example_config(
        id=1,
        code="HEL1",
        name="Helsinki central depot",
        lat=60.1699,
        lon=24.9384,
        timezone="Europe/Helsinki",
    )


class VehicleTypeBase(StorableModel):
    """A kind of vehicle: capacities, speed profile, costs and emissions.

    Mirrors :class:`routing.VehicleType` with the store's capacity dimensions
    (grams, millilitres, parcels).
    """

    name: str = Field(min_length=1, max_length=60)
    kind: VehicleKind = enum_field(VehicleKind, VehicleKind.VAN)
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
    skills: list[str] = json_field(
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

    model_config = example_config(
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


class FleetBase(StorableModel):
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

    model_config = example_config(
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
