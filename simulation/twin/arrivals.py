"""Orders reach the system over the day: the arrival process and a new order's first day.

An order arrives at the time the world drew for it (:class:`~simulation.world.OrderSpec`);
its service day is the first on which a slot still starts after the lead time, the next day
for an order booked ahead, and — for an eco customer under consolidation without the concierge
— the day :func:`orchestrator.concierge.consolidation.consolidate` groups it on. The customer
then chooses its place and window (:mod:`simulation.twin.customers`) and the order waits for a
plan.

Units: seconds since midnight of the first simulated day, metres.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from orchestrator.concierge.consolidation import Deferrable, consolidate
from routing.matrix import haversine_m
from simulation.twin.customers import choose, first_day
from simulation.twin.orders import OrderState, Status
from simulation.twin.promises import record
from simulation.world import DAY_S, OrderSpec

if TYPE_CHECKING:
    from simulation.twin.setup import Twin

__all__ = ["order_arrivals", "receive"]


def order_arrivals(
    env: simpy.Environment, twin: Twin, orders: Sequence[OrderSpec]
) -> Generator[simpy.Event, Any, None]:
    """Release the orders at their arrival times (sorted)."""
    for spec in orders:
        if spec.arrival > env.now:
            yield env.timeout(spec.arrival - env.now)
        receive(twin, spec, int(env.now))


def receive(twin: Twin, spec: OrderSpec, now: int) -> OrderState:
    """A new order: its service day (deferred for eco customers under consolidation), its
    place and window; it then waits for a plan."""
    day, earliest_day = first_day(twin, now)
    if spec.advance_days:
        day = earliest_day = int(now // DAY_S) + spec.advance_days
    state = OrderState(spec, day, earliest_day, "home", spec.customer.places["home"], (0, 0))
    if twin.policies.consolidation and spec.customer.eco and not twin.policies.concierge:
        # With the concierge, its eco options choose the day (see .customers).
        state.day = _consolidated_day(twin, state)
    choose(twin, state, now)
    record(state)  # what the customer confirmed: the promise the KPIs measure
    twin.orders.append(state)
    twin.by_hub[spec.hub].append(state)
    return state


def _consolidated_day(twin: Twin, state: OrderState) -> int:
    """The day :func:`~orchestrator.concierge.consolidation.consolidate` picks for an eco order,
    among the days it accepts to wait that are still simulated."""
    prefs = twin.scenario.demand.preferences
    wait = min(prefs.eco_max_wait_days, twin.scenario.days - 1 - state.earliest_day)
    if wait <= 0:
        return state.earliest_day
    loc = state.spec.customer.places["home"]
    known = [
        o
        for o in twin.by_hub[state.spec.hub]
        if o.status is Status.WAITING and state.earliest_day <= o.day <= state.earliest_day + wait
    ]
    anchors: list[Deferrable] = []
    if known:
        lat = np.array([o.location.lat for o in known])
        lon = np.array([o.location.lon for o in known])
        near = haversine_m(lat, lon, loc.lat, loc.lon) <= twin.policies.consolidation_radius_m
        anchors = [
            Deferrable(str(o.spec.index), o.location.lat, o.location.lon,
                       twin.service_date(o.day))
            for o, ok in zip(known, near, strict=True)
            if ok
        ]  # fmt: skip
    mine = Deferrable(
        "new", loc.lat, loc.lon, twin.service_date(state.earliest_day), max_wait_days=wait
    )
    placed = consolidate([*anchors, mine], radius_m=twin.policies.consolidation_radius_m)[-1]
    return state.earliest_day + placed.waited_days
