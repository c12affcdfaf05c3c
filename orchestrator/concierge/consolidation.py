"""Eco consolidation: defer an order, within the wait its customer accepts, to the day when the
most of its neighbours are served anyway.

One van stopping at five doors on one street in one tour drives far less than five tours on
five days. Customers who say "I can wait two days for a greener drop" give the planner that
freedom; :func:`consolidate` uses it. Orders that do not accept a wait stay on their day and
anchor the choice; accepting orders are placed one by one (those with the least freedom first)
on the day in their range with the most orders — fixed or already placed — within
``radius_m``, the earliest such day on a tie, so nobody waits for nothing.

Pure code over plain values: the concierge and the simulator feed it orders of the store or of
a simulated city.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from orchestrator.errors import InvalidInput
from routing.matrix import haversine_m

__all__ = ["Deferrable", "Placement", "consolidate"]

_MAX_PASSES = 10
"""Passes over the flexible orders at most (in practice two or three settle it)."""


@dataclass(frozen=True, slots=True)
class Deferrable:
    """An order to place: where it goes, the first day it may arrive, and how many more days
    its customer accepts to wait (0: it goes on ``earliest``)."""

    key: str
    lat: float
    lon: float
    earliest: date
    max_wait_days: int = 0

    def __post_init__(self) -> None:
        if self.max_wait_days < 0:
            raise InvalidInput(
                ("orders", self.key, "max_wait_days"), "the accepted wait must be 0 or more days"
            )


@dataclass(frozen=True, slots=True)
class Placement:
    """The day an order goes on, how long it waits for it, and how many neighbours share it."""

    key: str
    day: date
    waited_days: int
    neighbours: int


def consolidate(orders: Sequence[Deferrable], *, radius_m: float = 800.0) -> list[Placement]:
    """The day for every order, in the input order.

    Parameters
    ----------
    orders
        The orders to place; keys must be unique.
    radius_m
        Orders this close (great-circle metres) count as neighbours.

    Raises
    ------
    InvalidInput
        If a key repeats or the radius is not positive.
    """
    if radius_m <= 0:
        raise InvalidInput("radius_m", "the neighbour radius must be a positive number of metres")
    keys = [o.key for o in orders]
    if len(set(keys)) != len(keys):
        raise InvalidInput("orders", "order keys must be unique")
    n = len(orders)
    if n == 0:
        return []
    lats = np.array([o.lat for o in orders])
    lons = np.array([o.lon for o in orders])
    near = haversine_m(lats[:, None], lons[:, None], lats[None, :], lons[None, :]) <= radius_m
    np.fill_diagonal(near, False)
    day_of: dict[int, date] = {i: o.earliest for i, o in enumerate(orders) if o.max_wait_days == 0}
    flexible = sorted(
        (i for i, o in enumerate(orders) if o.max_wait_days > 0),
        key=lambda i: (orders[i].max_wait_days, orders[i].earliest, orders[i].key),
    )
    # First pass: place each against what is placed so far. Later passes: move each to its
    # best day given all the others, until nothing moves (flexible orders find each other).
    for _ in range(_MAX_PASSES):
        moved = False
        for i in flexible:
            o = orders[i]
            best_day, best_count = o.earliest, -1
            for wait in range(o.max_wait_days + 1):
                day = o.earliest + timedelta(days=wait)
                count = sum(1 for j, d in day_of.items() if d == day and near[i, j])
                if count > best_count:
                    best_day, best_count = day, count
            moved |= day_of.get(i) != best_day
            day_of[i] = best_day
        if not moved:
            break
    placements = []
    for i, o in enumerate(orders):
        day = day_of[i]
        neighbours = sum(1 for j, d in day_of.items() if d == day and near[i, j])
        placements.append(Placement(o.key, day, (day - o.earliest).days, neighbours))
    return placements
