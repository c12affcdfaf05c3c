"""What a commuter is paid for a bundle: the payout rule, on plain values (no store).

**The rule.** The carrier pays a commuter at most what the bundle's orders cost it on its own
vans, and the commuter says what they want:

* each order's van cost is its share of its route in the day's current plan — the route's
  cost (EUR, fixed cost included) divided by the orders on it; an order on no route yet costs
  the plan's average per order served, and with no plan at all :data:`UNPLANNED_ORDER_EUR`
  (:func:`order_van_costs`);
* the carrier's ceiling is the sum over the bundle (:func:`carrier_cost`);
* the offer pays exactly what the commuter asked when that is at most the ceiling; asked for
  more, no offer is made, and the reason names the ceiling so they can ask less
  (:func:`decide`).

The van cost is an average, not the saving of taking the stops off a route (usually less):
it is the price a commuter competes with, and it errs towards making offers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "UNPLANNED_ORDER_EUR",
    "Payout",
    "carrier_cost",
    "decide",
    "order_van_costs",
    "route_share",
]

UNPLANNED_ORDER_EUR = 4.0
"""Van cost of an order when the day has no plan yet, EUR (a rule of thumb: a van day of about
250 EUR serving 60 stops)."""


@dataclass(frozen=True, slots=True)
class Payout:
    """The rule's answer: ``payout_eur`` (``None``: no offer, see ``reason``) and the
    carrier's ceiling ``carrier_cost_eur``."""

    payout_eur: float | None
    carrier_cost_eur: float
    reason: str | None = None


def route_share(route_cost_eur: float, orders_on_route: int) -> float:
    """One order's share of its route's cost, EUR."""
    return route_cost_eur / max(1, orders_on_route)


def order_van_costs(
    order_ids: Sequence[int], share_of: Mapping[int, float], average_eur: float | None
) -> list[float]:
    """Each order's van cost, EUR (the module's rule): its route's share ``share_of[id]``
    (:func:`route_share`) when the current plan has it on a route, else the plan's average
    per order served ``average_eur``, else (no plan, or one serving nothing)
    :data:`UNPLANNED_ORDER_EUR`."""
    fallback = UNPLANNED_ORDER_EUR if average_eur is None else average_eur
    return [share_of.get(order_id, fallback) for order_id in order_ids]


def carrier_cost(van_costs_eur: Sequence[float]) -> float:
    """What the bundle's orders cost on the vans, EUR, rounded to cents."""
    return round(math.fsum(van_costs_eur), 2)


def decide(wanted_eur: float, van_costs_eur: Sequence[float]) -> Payout:
    """The payout of a bundle whose orders cost ``van_costs_eur`` on the vans, for a commuter
    who wants ``wanted_eur`` (see the module's rule)."""
    ceiling = carrier_cost(van_costs_eur)
    if wanted_eur <= ceiling:
        return Payout(round(wanted_eur, 2), ceiling)
    return Payout(
        None,
        ceiling,
        f"the {len(van_costs_eur)} parcels that fit your way cost the vans {ceiling:.2f} EUR, "
        f"less than the {wanted_eur:.2f} EUR you asked — ask at most {ceiling:.2f} EUR",
    )
