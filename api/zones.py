"""The one rule for the times of an answer: ISO 8601, with the offset of the zone its reader
is in.

The store keeps every instant in UTC (:class:`orchestrator.models.columns.UTCDateTime`); an
answer shows them in the zone they belong to, so that ``eta`` and an explanation's "about
18:36" agree at a glance:

* the **depot's** zone (its ``timezone``) for orders and their events, delivery options and
  holds, plans, routes and stops, returns and their pickups, and "find me at the café" —
  where the parcel is, the day it is planned on;
* the **customer's** zone (their profile's ``timezone``) for the customer's own records:
  the customer, their profile and export (a customer without a profile has the default
  profile's zone, as their profile answer says);
* **UTC** for what belongs to no place (simulation jobs, webhook subscriptions and their
  deliveries).

Routes build their answer as usual and pass it through :func:`in_zone` with the zone
:class:`Zones` finds for it; nothing else converts times, and no answer holds a naive time.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import BindParameter, Integer, bindparam
from sqlmodel import Session, col, select

from orchestrator.models import CustomerProfile, Depot, OptionHold, Order, Plan, Route

__all__ = ["DEFAULT_CUSTOMER_ZONE", "TIMES", "Zones", "in_zone"]

TIMES = (
    "ISO 8601 with an explicit offset, never naive: the offset of the depot's `timezone` for "
    "orders and their events, delivery options, holds, plans, routes and stops (JSON and "
    "GeoJSON), returns and their pickups, and whereabouts; of the customer's profile "
    "`timezone` for customers, profiles and exports (a new profile's zone until one is "
    "stored) and an order's tracking (the depot's without a profile); UTC for what belongs "
    "to no place: simulation jobs, webhook subscriptions and deliveries"
)
"""What the OpenAPI document says about the times of every answer."""

DEFAULT_CUSTOMER_ZONE: str = CustomerProfile.model_fields["timezone"].default
"""The zone of a customer without a profile: a new profile's default."""

T = TypeVar("T")


def in_zone(value: T, zone: tzinfo) -> T:
    """``value`` with every datetime in it shown in ``zone``: the same instants, the offset of
    ``zone`` on each.

    ``value`` is an answer: a pydantic model (its fields, nested models, lists and dicts are
    walked) or a list of them. A naive datetime is read as UTC, as the store keeps it — an
    answer never shows one. Unchanged parts are returned as they are; models are copied, not
    changed in place.
    """
    return cast("T", _convert(value, zone))


def _convert(value: Any, zone: tzinfo) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is zone:
            return value  # already shown so (ZoneInfo objects are one per key)
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(zone)
    if isinstance(value, BaseModel):
        changes = {}
        for name in type(value).model_fields:
            old = getattr(value, name)
            new = _convert(old, zone)
            if new is not old:
                changes[name] = new
        return value.model_copy(update=changes) if changes else value
    if isinstance(value, list | tuple):
        items = [_convert(v, zone) for v in value]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        pairs = {k: _convert(v, zone) for k, v in value.items()}
        return value if all(pairs[k] is value[k] for k in value) else pairs
    return value


_ID: BindParameter[int] = bindparam("id", type_=Integer)
_DEPOT_ZONE = select(Depot.timezone).where(Depot.id == _ID)
_ORDER_ZONE = (
    select(Depot.timezone).join(Order, col(Order.depot_id) == Depot.id).where(Order.id == _ID)
)
_HOLD_ZONE = (
    select(Depot.timezone)
    .join(OptionHold, col(OptionHold.depot_id) == Depot.id)
    .where(OptionHold.id == _ID)
)
_PLAN_ZONE = select(Depot.timezone).join(Plan, col(Plan.depot_id) == Depot.id).where(Plan.id == _ID)
_ROUTE_ZONE = (
    select(Depot.timezone)
    .join(Plan, col(Plan.depot_id) == Depot.id)
    .join(Route, col(Route.plan_id) == Plan.id)
    .where(Route.id == _ID)
)
_CUSTOMER_ZONE = select(CustomerProfile.timezone).where(CustomerProfile.customer_id == _ID)
# Built once: building a statement costs more than running it (delivery options are counted
# in milliseconds).


class Zones:
    """The zone each answer is shown in, for one request's ``session``: one small query per
    lookup.

    Unknown ids give UTC: the answer then is a 404 anyway, or holds no time.
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        self._depots: dict[int, ZoneInfo] = {}

    def _key(self, statement: Any, id_: int) -> str | None:
        # Core, not the ORM: a tenth of a millisecond less per answer.
        key: str | None = self._session.connection().execute(statement, {"id": id_}).scalar()
        return key

    def depot(self, depot_id: int | None) -> ZoneInfo:
        """The zone of depot ``depot_id`` (its IANA ``timezone``)."""
        if depot_id is None:
            return ZoneInfo("UTC")
        if depot_id not in self._depots:
            self._depots[depot_id] = ZoneInfo(self._key(_DEPOT_ZONE, depot_id) or "UTC")
        return self._depots[depot_id]

    def order(self, order_id: int) -> ZoneInfo:
        """The zone of the depot that delivers order ``order_id``."""
        return ZoneInfo(self._key(_ORDER_ZONE, order_id) or "UTC")

    def hold(self, hold_id: int) -> ZoneInfo:
        """The zone of the depot of hold ``hold_id``'s order."""
        return ZoneInfo(self._key(_HOLD_ZONE, hold_id) or "UTC")

    def plan(self, plan_id: int) -> ZoneInfo:
        """The zone of the depot whose day plan ``plan_id`` is."""
        return ZoneInfo(self._key(_PLAN_ZONE, plan_id) or "UTC")

    def route(self, route_id: int) -> ZoneInfo:
        """The zone of the depot route ``route_id`` leaves from."""
        return ZoneInfo(self._key(_ROUTE_ZONE, route_id) or "UTC")

    def customer(self, customer_id: int) -> ZoneInfo:
        """The zone of customer ``customer_id``: their profile's ``timezone`` — the default
        one (:data:`DEFAULT_CUSTOMER_ZONE`) when they have no profile, as ``GET
        /customers/{id}/profile`` then shows it."""
        return ZoneInfo(self._key(_CUSTOMER_ZONE, customer_id) or DEFAULT_CUSTOMER_ZONE)
