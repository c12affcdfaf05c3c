"""Returns: a delivered parcel may come back, and a vehicle picks it up at the customer's.

A return is asked for some days after the delivery (:func:`maybe_return`); the production
returns engine (:meth:`simulation.pickups.Market.decide`) chooses where the item goes; the
customer gets a two-hour window at home (:func:`pickup_window`). A vehicle on a planned route
tries the pickup (:func:`pickup`): the customer must be there and the item must fit next to
what is still on board; then it rides to its store or back to the hub (:func:`collected`).
Whether each delivered order comes back, after how many days, in which condition and which
SKU it is are drawn for every order up front (:func:`draw_returns`).

Units: seconds since midnight of the first simulated day, days, grams, millilitres.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from orchestrator.concierge.schedule import resolve
from returns import Condition
from routing.model import Location
from simulation.pickups import Market, ReturnState, ReturnStatus
from simulation.scenario import Returns
from simulation.world import DAY_S, HOUR_S

if TYPE_CHECKING:
    from simulation.twin.orders import OrderState
    from simulation.twin.setup import Twin
    from simulation.twin.vehicles import Agent

__all__ = [
    "ReturnDraws",
    "collected",
    "draw_returns",
    "maybe_return",
    "pickup",
    "pickup_window",
    "release_return",
]

_CONDITIONS = (Condition.A, Condition.B, Condition.C)


@dataclass(frozen=True, slots=True, eq=False)
class ReturnDraws:
    """Per order (by index), whether and how its parcel comes back: drawn up front, so a
    return does not depend on the order of events."""

    u: np.ndarray
    """Uniform in [0, 1): the parcel comes back when below ``returns.share``."""
    delay_days: np.ndarray
    """Days after the delivery the customer asks for the pickup (1 or more)."""
    condition: np.ndarray
    """Index of the item's condition grade (A, B, C)."""
    sku: np.ndarray
    """Index of the item in the market's catalogue."""


def draw_returns(spec: Returns, n: int, market: Market, rng: np.random.Generator) -> ReturnDraws:
    """:class:`ReturnDraws` for ``n`` orders, drawn from the replication's returns generator
    ``rng`` right after the market (so the same seed gives the same returns)."""
    weights = np.array(spec.delay_weights, dtype=np.float64)
    mix = np.array([spec.conditions.A, spec.conditions.B, spec.conditions.C])
    u = rng.random(n)
    delay = 1 + rng.choice(len(weights), size=n, p=weights / weights.sum())
    condition = rng.choice(3, size=n, p=mix / mix.sum())
    sku = rng.choice(len(market.catalogue), size=n, p=market.popularity)
    return ReturnDraws(u, delay, condition, sku)


def maybe_return(twin: Twin, o: OrderState, now: int) -> None:
    """A delivered parcel may come back: the customer asks some days later for a pickup
    at home, and the returns engine decides where the item goes."""
    k = o.spec.index
    spec = twin.scenario.returns
    draws = twin.return_draws
    assert draws is not None
    if draws.u[k] >= spec.share:
        return
    day = now // DAY_S + int(draws.delay_days[k])
    if day >= twin.scenario.days:
        twin.returns_beyond_horizon += 1  # asked for after the simulated days
        return
    assert twin.market is not None
    customer = o.spec.customer
    home = customer.places["home"]
    condition = _CONDITIONS[int(draws.condition[k])]
    decision = twin.market.decide(int(draws.sku[k]), condition, home, o.spec.hub)
    chosen = decision.chosen
    store: int | None = None
    if chosen.destination.kind.value == "store":
        index = int(chosen.destination.id.removeprefix("store-")) - 1
        # A store served from another hub: the item goes to this hub and on from there.
        store = index if twin.market.store_hub[index] == o.spec.hub else None
    ret = ReturnState(
        index=len(twin.returns),
        order=k,
        hub=o.spec.hub,
        customer=customer,
        location=Location(f"pickup-{len(twin.returns)}", home.lat, home.lon),
        demand=o.spec.demand,
        day=day,
        window=(0, 0),
        destination=chosen.destination.id,
        destination_kind=chosen.destination.kind.value,
        store=store,
        resale_probability=chosen.estimate.probability,
        expected_net_eur=chosen.expected_net,
    )
    ret.window = pickup_window(twin, ret)
    twin.returns.append(ret)


def pickup_window(twin: Twin, ret: ReturnState) -> tuple[int, int]:
    """A two-hour window on the pickup day when the customer's week has them at home
    (any window of the opening hours when it never does)."""
    first = math.ceil(twin.policies.opening_h)
    last = math.floor(twin.policies.closing_h) - 2
    base, day = ret.day * DAY_S, ret.day
    slots = [
        (base + twin.clock_s(day, h * HOUR_S), base + twin.clock_s(day, (h + 2) * HOUR_S))
        for h in range(first, last + 1)
    ]
    if not slots:
        return (
            base + twin.clock_s(day, twin.policies.opening_h * HOUR_S),
            base + twin.clock_s(day, twin.policies.closing_h * HOUR_S),
        )
    schedule = ret.customer.schedule
    home = [s for s in slots if resolve(schedule, twin.instant((s[0] + s[1]) // 2)) == "home"]
    pool = home or slots
    return pool[int(twin.returns_rng.integers(len(pool)))]


def pickup(twin: Twin, ret: ReturnState, agent: Agent, load: list[int], now: float) -> bool:
    """Try to collect a return: the customer must be at home and the item must fit on
    board next to what the vehicle still carries; whether it was picked up."""
    ret.attempts += 1
    rng = twin.returns_rng
    present = rng.random() < twin.scenario.noise.presence and (
        resolve(ret.customer.schedule, twin.instant(now)) == "home"
    )
    fits = all(a + b <= c for a, b, c in zip(load, ret.demand, agent.vtype.capacity, strict=True))
    if present and fits:
        ret.status = ReturnStatus.ON_BOARD
        ret.picked_by = agent.index
        ret.picked_at = int(now)
        for i in range(3):
            load[i] += ret.demand[i]
        return True
    if not fits:
        # Parcels whose drop failed are still on board: the pickup waits for a re-plan.
        twin.returns_no_room += 1
        ret.attempts -= 1
        ret.status = ReturnStatus.WAITING
        return False
    _retry_return(twin, ret, "customer_absent")
    return False


def _retry_return(twin: Twin, ret: ReturnState, reason: str) -> None:
    """A pickup that did not happen: another window the next day, or unserved."""
    ret.status = ReturnStatus.WAITING
    if ret.attempts >= twin.scenario.returns.max_attempts:
        ret.status, ret.unserved_reason = ReturnStatus.UNSERVED, reason
        return
    if ret.day + 1 >= twin.scenario.days:
        ret.status, ret.unserved_reason = ReturnStatus.UNSERVED, "after_last_day"
        return
    ret.day += 1
    ret.window = pickup_window(twin, ret)


def collected(ret: ReturnState, agent: Agent, now: float, *, to: str) -> None:
    """A return dropped at its store or brought back to the hub."""
    ret.status = ReturnStatus.COLLECTED
    ret.dropped_by = agent.index
    ret.collected_at = int(now)
    ret.collected_to = to


def release_return(ret: ReturnState) -> None:
    """A pickup the vehicle did not make waits for another plan."""
    if ret.status is ReturnStatus.ASSIGNED:
        ret.status = ReturnStatus.WAITING
