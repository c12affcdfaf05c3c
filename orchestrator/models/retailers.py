"""Retailers (shippers): the businesses whose customers, orders, products, stores and returns
the installation's one fleet serves.

The carrier — whoever runs the installation — owns the depots, hubs, vehicles, plans and
routes and serves every retailer; each retailer owns its customers, orders, products, stores
and item returns (a ``retailer_id`` on each, :func:`retailer_field`). A store that existed
before tenancy keeps all of its rows under the default retailer (:data:`DEFAULT_RETAILER_ID`,
made by revision 0010), and a row written without a retailer lands there too, so a
single-retailer installation never names one.
"""

from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Field, col

from orchestrator.models._fields import StorableModel, created_at_field, example_config

__all__ = [
    "DEFAULT_RETAILER_ID",
    "DEFAULT_RETAILER_NAME",
    "Retailer",
    "RetailerBase",
    "RetailerCreate",
    "RetailerPublic",
    "owned_by",
    "retailer_field",
]

Q = TypeVar("Q")

DEFAULT_RETAILER_ID = 1
"""The retailer every row of a store made before tenancy belongs to (revision 0010)."""
DEFAULT_RETAILER_NAME = "Default retailer"


def retailer_field() -> Any:
    """The owning retailer of a row: a foreign key to ``retailers``, not null, indexed.

    Written without one, a row belongs to the default retailer (in Python and in the store,
    so rows inserted by older code or by hand land there too).
    """
    return Field(
        default=DEFAULT_RETAILER_ID,
        foreign_key="retailers.id",
        index=True,
        sa_column_kwargs={"server_default": sa.text(str(DEFAULT_RETAILER_ID))},
        description="The retailer that owns the row.",
    )


class RetailerBase(StorableModel):
    """A retailer (shipper) served by the installation's fleet."""

    name: str = Field(min_length=1, max_length=200, description="How the retailer is named.")


class RetailerCreate(RetailerBase):
    """What creating a retailer takes."""

    model_config = example_config(name="Kauppa Oy")


class Retailer(RetailerBase, table=True):
    """Table ``retailers``."""

    __tablename__ = "retailers"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = created_at_field()


class RetailerPublic(RetailerBase):
    """A retailer as shown."""

    id: int
    created_at: datetime

    model_config = example_config(id=2, name="Kauppa Oy", created_at="2025-03-01T08:00:00Z")


def owned_by(query: Q, model: type[Any], retailer_id: int | None) -> Q:
    """``query`` of ``model``'s rows narrowed to ``retailer_id``'s (``None``: every retailer's).

    The one filter of a retailer's lists (:mod:`orchestrator.access.tenancy` says who sees
    what); every list service applies it.
    """
    if retailer_id is None:
        return query
    narrowed: Q = query.where(col(model.retailer_id) == retailer_id)  # type: ignore[attr-defined]  # Q is a Select
    return narrowed
