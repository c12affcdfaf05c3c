"""Tenancy: which retailer's rows a key may see — the one rule, for every route.

The carrier (whoever runs the installation) owns the depots, hubs, vehicles, plans and routes
and serves every retailer; a retailer owns its customers, orders, products, stores and
returns (``retailer_id`` on each, :mod:`orchestrator.models.retailers`). A key belongs to the
carrier (``api_keys.retailer_id`` null: it sees every retailer's rows) or to one retailer
(its planner's key, or the key of one of its customers), which sees only that retailer's:

* an id of another retailer's row is answered as an id that does not exist (:class:`NotFound`,
  404 — never 403, so ids cannot be probed): :func:`check_ids` for the ids a request names,
  :data:`OWNED_IDS` says which names those are and whose table they point into;
* lists hold only the retailer's rows: the services filter their queries with
  :func:`restrict` (:func:`orchestrator.models.retailers.owned_by`, kept with the tables so
  every room may use it);
* a new customer, store or product is written for the key's retailer: :func:`writes_for`;
* the carrier's own resources (plans, routes, the board, manifests, fleet writes, KPIs across
  retailers, simulations, webhooks) are not a retailer's at all: :data:`CARRIER_ONLY` is the
  403's message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from orchestrator.errors import InvalidInput, NotFound
from orchestrator.models import (
    Customer,
    ItemReturn,
    OptionHold,
    Order,
    Product,
    Retailer,
    Store,
)
from orchestrator.models.retailers import owned_by as restrict

__all__ = [
    "CARRIER_ONLY",
    "OWNED_IDS",
    "OwnedId",
    "check_ids",
    "owner_of",
    "restrict",
    "writes_for",
]

CARRIER_ONLY = (
    "a retailer's key may not do this: it is the carrier's (plans, routes, the fleet, "
    "figures across retailers) — use a carrier key (`lastmile keys create --role planner`, "
    "without --retailer)"
)
"""The 403's message for a retailer's key on a carrier's resource."""


@dataclass(frozen=True, slots=True)
class OwnedId:
    """An id that points at a retailer's row: what it is called in answers, and where its
    owner is read (``table.retailer_id``, or through the order for a hold)."""

    resource: str
    """As :class:`NotFound` names it (``"order"``): the same words as for an unknown id."""
    model: type[Any]
    is_int: bool = True


OWNED_IDS: Mapping[str, OwnedId] = {
    "customer_id": OwnedId("customer", Customer),
    "order_id": OwnedId("order", Order),
    "return_id": OwnedId("return", ItemReturn),
    "store_id": OwnedId("store", Store),
    "sku": OwnedId("product", Product, is_int=False),
    "hold_id": OwnedId("hold", OptionHold),
    "retailer_id": OwnedId("retailer", Retailer),
}
"""The names of ids that point at a retailer's rows (path parameters of the API, fields of
bodies), each with its resource. An endpoint that takes one is checked by :func:`check_ids`;
the isolation test walks every endpoint taking one of these names."""


@cache
def _owner_query(name: str) -> Any:
    """The owning retailer of the row ``:key`` points at (built once per name)."""
    owned = OWNED_IDS[name]
    key: Any = sa.bindparam("key")
    if owned.model is OptionHold:
        # A hold is its order's: the retailer is read through it.
        return (
            select(Order.retailer_id)
            .join(OptionHold, col(OptionHold.order_id) == col(Order.id))
            .where(col(OptionHold.id) == key)
        )
    if owned.model is Retailer:
        return select(Retailer.id).where(col(Retailer.id) == key)  # a retailer is its own
    primary = owned.model.sku if owned.model is Product else owned.model.id
    return select(owned.model.retailer_id).where(col(primary) == key)


def owner_of(session: Session, name: str, key: int | str) -> int | None:
    """The retailer owning the row the id ``name`` = ``key`` points at; ``None`` without one."""
    found = session.exec(_owner_query(name), params={"key": key}).first()
    return None if found is None else int(found)


def check_ids(session: Session, retailer_id: int | None, ids: Mapping[str, Any]) -> None:
    """Refuse, as not found, any of ``ids`` that points at another retailer's row.

    Parameters
    ----------
    retailer_id
        The caller's retailer; ``None`` (the carrier) sees every retailer: nothing is checked.
    ids
        Names and values, e.g. a request's path parameters (as text or as read); names not in
        :data:`OWNED_IDS`, and values that are not ids (the route answers 422 for those), are
        left alone, and so are ids of no row (the route answers its own 404).

    Raises
    ------
    NotFound
        With the same words as for an id that does not exist.
    """
    if retailer_id is None:
        return
    for name, value in ids.items():
        owned = OWNED_IDS.get(name)
        if owned is None:
            continue
        key = _key(value, owned)
        if key is None:
            continue
        owner = owner_of(session, name, key)
        if owner is not None and owner != retailer_id:
            raise NotFound(owned.resource, key)


def _key(value: Any, owned: OwnedId) -> int | str | None:
    if not owned.is_int:
        return str(value)
    try:
        key = int(value)
    except (TypeError, ValueError):
        return None
    return key if -(2**63) <= key < 2**63 else None


def writes_for(caller_retailer: int | None, asked: int | None) -> int | None:
    """The retailer a new customer, store or product is written for.

    Parameters
    ----------
    caller_retailer
        The key's retailer; ``None`` for the carrier's keys.
    asked
        The retailer the request names (``retailer_id``), or ``None``.

    Returns
    -------
    int or None
        A retailer's key writes for its own retailer; the carrier's for the one it names,
        ``None`` meaning the default retailer.

    Raises
    ------
    InvalidInput
        A retailer's key naming another retailer (answered as a retailer that does not exist).
    """
    if caller_retailer is None:
        return asked
    if asked is not None and asked != caller_retailer:
        raise InvalidInput("retailer_id", f"no retailer {asked} — leave retailer_id out")
    return caller_retailer
