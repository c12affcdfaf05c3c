"""Customers and their places: who receives parcels, and the named points (home, office, a
café, a locker) where each accepts them."""

import math
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from pydantic import field_validator
from sqlmodel import Field

from orchestrator.models._fields import (
    StorableModel,
    created_at_field,
    enum_field,
    example_config,
    lat_field,
    lon_field,
)
from orchestrator.models.retailers import DEFAULT_RETAILER_ID, retailer_field

__all__ = [
    "Customer",
    "CustomerBase",
    "CustomerCreate",
    "CustomerPublic",
    "CustomerUpdate",
    "Place",
    "PlaceBase",
    "PlaceCreate",
    "PlaceKind",
    "PlacePublic",
]


class PlaceKind(StrEnum):
    """What a customer's named place is."""

    HOME = "home"
    OFFICE = "office"
    CAFE = "cafe"
    LOCKER = "locker"
    OTHER = "other"


class CustomerBase(StorableModel):
    """A person or business that receives parcels."""

    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)


class CustomerCreate(CustomerBase):
    """What creating a customer takes."""


class CustomerUpdate(StorableModel):
    """Fields of a customer that may change; ``None`` leaves a field as it is."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)


class Customer(CustomerBase, table=True):
    """Table ``customers``."""

    __tablename__ = "customers"

    id: int | None = Field(default=None, primary_key=True)
    retailer_id: int = retailer_field()
    created_at: datetime = created_at_field()


class CustomerPublic(CustomerBase):
    """A customer as shown."""

    id: int
    retailer_id: int = Field(
        default=DEFAULT_RETAILER_ID, description="The retailer that owns it (1: the default)."
    )
    created_at: datetime

    model_config = example_config(
        id=1,
        name="Aino Virtanen",
        email="aino@example.org",
        phone="+358401234567",
        created_at="2025-03-01T11:00:00+02:00",
    )


class PlaceBase(StorableModel):
    """A named point where a customer accepts parcels: home, office, a café, a locker."""

    kind: PlaceKind = enum_field(PlaceKind, PlaceKind.HOME)
    name: str = Field(min_length=1, max_length=100, description="The customer's name for it.")
    lat: float = lat_field()
    lon: float = lon_field()
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
    created_at: datetime = created_at_field()


class PlacePublic(PlaceBase):
    """A place as shown."""

    id: int
    customer_id: int

    model_config = example_config(
        id=1,
        customer_id=1,
        kind="office",
        name="office",
        lat=60.1640,
        lon=24.9460,
        address="Mannerheimintie 1, Helsinki",
        instructions="Reception, 2nd floor",
    )
