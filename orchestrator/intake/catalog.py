"""Services for the standing data: customers and their places, depots, stores, the fleet.

Each function validates its input (raising :class:`~orchestrator.errors.InvalidInput` with
the field path), commits, and returns the stored row. Look-ups return ``X | None``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from orchestrator._validation import validated
from orchestrator.errors import Conflict, InvalidInput, NotFound
from orchestrator.intake.retailers import retailer_for_writes
from orchestrator.models import (
    Customer,
    CustomerCreate,
    Depot,
    DepotCreate,
    Fleet,
    FleetCreate,
    Place,
    PlaceCreate,
    Store,
    StoreCreate,
    VehicleType,
    VehicleTypeCreate,
)

__all__ = [
    "add_fleet",
    "add_place",
    "create_customer",
    "create_depot",
    "create_store",
    "create_vehicle_type",
    "customer_places",
    "depot_fleets",
    "same_point",
    "vehicle_type_by_name",
]


SAME_POINT_DEG = 1e-6
"""Coordinates within this many degrees on both axes (about 10 cm) are the same point."""


def same_point(lat_a: float, lon_a: float, lat_b: float, lon_b: float) -> bool:
    """Whether two coordinates are the same place: the one rule the CSV import and "find me
    at the café" use before creating a place that a customer already has."""
    return abs(lat_a - lat_b) <= SAME_POINT_DEG and abs(lon_a - lon_b) <= SAME_POINT_DEG


def _commit_unique(session: Session, row: Any, what: str) -> None:
    session.add(row)
    try:
        session.commit()
    except sa.exc.IntegrityError:
        session.rollback()
        raise Conflict(
            f"{what} already exists — pick another one or use the existing one"
        ) from None
    session.refresh(row)


def create_customer(
    session: Session, data: CustomerCreate | Mapping[str, Any], *, retailer_id: int | None = None
) -> Customer:
    """Store a new customer of ``retailer_id`` (``None``: the default retailer)."""
    payload = validated(CustomerCreate, data)
    owner = retailer_for_writes(session, retailer_id)
    customer = Customer.model_validate(payload, update={"retailer_id": owner})
    session.add(customer)
    session.commit()
    session.refresh(customer)
    return customer


def add_place(session: Session, customer_id: int, data: PlaceCreate | Mapping[str, Any]) -> Place:
    """Add a named place (home, office, a café, a locker) to a customer.

    Raises :class:`NotFound` for an unknown customer and :class:`Conflict` when the
    customer already has a place of that name.
    """
    payload = validated(PlaceCreate, data)
    if session.get(Customer, customer_id) is None:
        raise NotFound("customer", customer_id)
    place = Place.model_validate(payload, update={"customer_id": customer_id})
    _commit_unique(session, place, f"customer {customer_id}'s place {payload.name!r}")
    return place


def customer_places(session: Session, customer_id: int) -> Sequence[Place]:
    """The customer's places, oldest first."""
    places: Sequence[Place] = session.exec(_places_of(), params={"customer": customer_id}).all()
    return places


@lru_cache(maxsize=1)
def _places_of() -> Any:
    """A customer's places, oldest first (built once: every options request asks it)."""
    return (
        select(Place)
        .where(col(Place.customer_id) == sa.bindparam("customer"))
        .order_by(col(Place.id))
    )


@lru_cache(maxsize=1)
def _fleets_of() -> Any:
    """A depot's fleets with their vehicle types, in id order (built once)."""
    return (
        select(Fleet, VehicleType)
        .join(VehicleType, col(VehicleType.id) == col(Fleet.vehicle_type_id))
        .where(col(Fleet.depot_id) == sa.bindparam("depot"))
        .order_by(col(Fleet.id))
    )


def create_depot(session: Session, data: DepotCreate | Mapping[str, Any]) -> Depot:
    """Store a new depot; :class:`Conflict` when its code is taken."""
    payload = validated(DepotCreate, data)
    depot = Depot.model_validate(payload)
    _commit_unique(session, depot, f"depot code {payload.code!r}")
    return depot


def create_store(
    session: Session, data: StoreCreate | Mapping[str, Any], *, retailer_id: int | None = None
) -> Store:
    """Store a new store (shop or micro-hub) of ``retailer_id`` (``None``: the default
    retailer); :class:`Conflict` when its code is taken."""
    payload = validated(StoreCreate, data)
    if payload.depot_id is not None and session.get(Depot, payload.depot_id) is None:
        raise InvalidInput("depot_id", f"no depot {payload.depot_id} — create the depot first")
    owner = retailer_for_writes(session, retailer_id)
    store = Store.model_validate(payload, update={"retailer_id": owner})
    _commit_unique(session, store, f"store code {payload.code!r}")
    return store


def create_vehicle_type(
    session: Session, data: VehicleTypeCreate | Mapping[str, Any]
) -> VehicleType:
    """Store a new vehicle type; :class:`Conflict` when its name is taken."""
    payload = validated(VehicleTypeCreate, data)
    vtype = VehicleType.model_validate(payload)
    _commit_unique(session, vtype, f"vehicle type {payload.name!r}")
    return vtype


def vehicle_type_by_name(session: Session, name: str) -> VehicleType | None:
    """The vehicle type of that name, or ``None``."""
    return session.exec(select(VehicleType).where(VehicleType.name == name)).first()


def add_fleet(session: Session, data: FleetCreate | Mapping[str, Any]) -> Fleet:
    """Base ``count`` vehicles of a type at a depot, with their shift and break."""
    payload = validated(FleetCreate, data)
    if session.get(Depot, payload.depot_id) is None:
        raise InvalidInput("depot_id", f"no depot {payload.depot_id} — create the depot first")
    if session.get(VehicleType, payload.vehicle_type_id) is None:
        raise InvalidInput(
            "vehicle_type_id",
            f"no vehicle type {payload.vehicle_type_id} — create the vehicle type first",
        )
    fleet = Fleet.model_validate(payload)
    session.add(fleet)
    session.commit()
    session.refresh(fleet)
    return fleet


def depot_fleets(session: Session, depot_id: int) -> Sequence[tuple[Fleet, VehicleType]]:
    """The depot's fleets with their vehicle types, in id order."""
    rows = session.exec(_fleets_of(), params={"depot": depot_id}).all()
    return [(f, vt) for f, vt in rows]
