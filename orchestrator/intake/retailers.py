"""Retailers: created by the carrier, listed, read — and the default one every store has.

A retailer (shipper) owns its customers, orders, products, stores and returns
(:mod:`orchestrator.models.retailers`). Only the carrier's keys create retailers; who sees
which is the access rule's (:mod:`orchestrator.access.tenancy`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlmodel import Session, col, select

from orchestrator._validation import validated
from orchestrator.errors import InvalidInput
from orchestrator.models import (
    DEFAULT_RETAILER_ID,
    DEFAULT_RETAILER_NAME,
    Retailer,
    RetailerCreate,
)

__all__ = [
    "create_retailer",
    "ensure_default_retailer",
    "get_retailer",
    "list_retailers",
    "retailer_for_writes",
]


def create_retailer(session: Session, data: RetailerCreate | Mapping[str, Any]) -> Retailer:
    """Store a new retailer (its id is the next free one: the default retailer keeps 1)."""
    payload = validated(RetailerCreate, data)
    retailer = Retailer.model_validate(payload)
    session.add(retailer)
    session.commit()
    session.refresh(retailer)
    return retailer


def get_retailer(session: Session, retailer_id: int) -> Retailer | None:
    """The retailer, or ``None`` when there is none of that id."""
    return session.get(Retailer, retailer_id)


def list_retailers(
    session: Session, *, retailer_id: int | None = None, offset: int = 0, limit: int = 100
) -> Sequence[Retailer]:
    """Retailers in id order; with ``retailer_id``, only that one (a retailer's own key)."""
    query = select(Retailer)
    if retailer_id is not None:
        query = query.where(col(Retailer.id) == retailer_id)
    return session.exec(query.order_by(col(Retailer.id)).offset(offset).limit(limit)).all()


def retailer_for_writes(session: Session, retailer_id: int | None) -> int:
    """The retailer a new customer, store or product is written for: ``retailer_id``, or the
    default retailer when ``None``.

    Raises
    ------
    InvalidInput
        No retailer has that id (field ``retailer_id``).
    """
    if retailer_id is None:
        return DEFAULT_RETAILER_ID
    if session.get(Retailer, retailer_id) is None:
        raise InvalidInput(
            "retailer_id",
            f"no retailer {retailer_id} — create it first (POST /retailers) or leave it out "
            "for the default retailer",
        )
    return retailer_id


def ensure_default_retailer(session: Session) -> Retailer:
    """The default retailer, made again if it is missing (revision 0010 makes it; a store
    emptied by hand, as tests do, may have lost it)."""
    found = session.get(Retailer, DEFAULT_RETAILER_ID)
    if found is not None:
        return found
    made = Retailer(id=DEFAULT_RETAILER_ID, name=DEFAULT_RETAILER_NAME)
    session.add(made)
    session.commit()
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        # Ids given by hand do not move the sequence: the next retailer made must not take 1.
        session.connection().exec_driver_sql(
            "SELECT setval(pg_get_serial_sequence('retailers', 'id'), "
            "(SELECT MAX(id) FROM retailers))"
        )
        session.commit()
    session.refresh(made)
    return made
