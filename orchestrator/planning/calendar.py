"""Which days of a depot have work to plan: its open orders and scheduled return pickups.

Planning a day without either would store an empty plan; :func:`open_work` tells before
anything is solved, and :func:`open_days` names the days that do have work, nearest first,
so that the caller (``lastmile plan``) can say which days to plan instead.

Open means plannable: an order ``open`` or ``planned`` (a planned day can be planned again),
a return ``scheduled`` for collection at a place or a locker — the same rows
:func:`orchestrator.planning.plans.plan_day` gathers. Days are the depot's local dates (the
store keeps ``service_day`` and ``pickup_day`` as local dates already).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col, select

from orchestrator.errors import InvalidInput
from orchestrator.models import Depot, ItemReturn, Order, OrderStatus, PickupMethod, ReturnStatus

__all__ = ["OpenDay", "open_days", "open_work"]

_PLANNABLE = (OrderStatus.OPEN.value, OrderStatus.PLANNED.value)
_COLLECTED = (PickupMethod.PICKUP, PickupMethod.LOCKER)


@dataclass(frozen=True, slots=True)
class OpenDay:
    """A depot's day and the work open on it."""

    day: date
    """The depot's local date."""
    orders: int
    """Orders ``open`` or ``planned`` for delivery that day."""
    pickups: int
    """Returns ``scheduled`` for collection (at a place or a locker) that day."""

    @property
    def empty(self) -> bool:
        """Whether there is nothing to plan that day."""
        return self.orders == 0 and self.pickups == 0


def open_work(session: Session, depot_id: int, day: date) -> OpenDay:
    """The open orders and scheduled pickups of one depot's day.

    Raises
    ------
    InvalidInput
        Unknown depot (field ``depot_id``).
    """
    _check_depot(session, depot_id)
    orders = session.exec(
        select(sa.func.count(col(Order.id))).where(
            *_order_filter(depot_id), Order.service_day == day
        )
    ).one()
    pickups = session.exec(
        select(sa.func.count(col(ItemReturn.id))).where(
            *_pickup_filter(depot_id), ItemReturn.pickup_day == day
        )
    ).one()
    return OpenDay(day, orders, pickups)


def open_days(session: Session, depot_id: int, near: date, *, limit: int = 5) -> list[OpenDay]:
    """The depot's days with open work, nearest to ``near`` first (a later day before an
    earlier one as near), at most ``limit`` of them.

    Four small queries whatever the store holds: the ``limit`` nearest days on or after
    ``near`` and before it, for orders and for pickups, each an index range scan
    (``ix_orders_depot_day_status``).

    Raises
    ------
    InvalidInput
        Unknown depot (field ``depot_id``).
    ValueError
        ``limit`` < 1.
    """
    if limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    _check_depot(session, depot_id)
    orders = _counts(session, col(Order.service_day), _order_filter(depot_id), near, limit)
    pickups = _counts(session, col(ItemReturn.pickup_day), _pickup_filter(depot_id), near, limit)
    days = [OpenDay(d, orders.get(d, 0), pickups.get(d, 0)) for d in orders.keys() | pickups]
    days.sort(key=lambda o: (abs((o.day - near).days), o.day < near))
    return days[:limit]


def _check_depot(session: Session, depot_id: int) -> None:
    if session.get(Depot, depot_id) is None:
        raise InvalidInput("depot_id", f"no depot {depot_id} — check the depot id")


def _order_filter(depot_id: int) -> Sequence[sa.ColumnElement[bool]]:
    return (col(Order.depot_id) == depot_id, col(Order.status).in_(_PLANNABLE))


def _pickup_filter(depot_id: int) -> Sequence[sa.ColumnElement[bool]]:
    return (
        col(ItemReturn.depot_id) == depot_id,
        col(ItemReturn.status) == ReturnStatus.SCHEDULED,
        col(ItemReturn.pickup_method).in_(_COLLECTED),
    )


def _counts(
    session: Session,
    day: Mapped[date] | Mapped[date | None],
    where: Sequence[sa.ColumnElement[bool]],
    near: date,
    limit: int,
) -> dict[date, int]:
    """Rows per day of the ``limit`` days nearest ``near`` on each side."""
    counts: dict[date, int] = {}
    for side, order in ((day >= near, day.asc()), (day < near, day.desc())):
        query = (
            sa.select(day, sa.func.count())
            .where(*where, side)
            .group_by(day)
            .order_by(order)
            .limit(limit)
        )
        counts.update({d: n for d, n in session.execute(query)})
    return counts
