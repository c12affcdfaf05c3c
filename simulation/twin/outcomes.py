"""What becomes of an order: handed over, back at the hub, waiting again, or unserved.

A drop (:func:`attempt`) works when the customer is where they chose to receive it — most
keep to their week (``noise.presence``) — or when the parcel may be left at the door; a
parcel whose drop failed comes back to the hub (:func:`back_at_hub`) for the hub's locker,
another attempt or the sender; parcels a courier never came for wait again (:func:`release`);
at midnight (:func:`day_end`) what still waits moves to the next day or, after the last day,
ends unserved (:func:`roll_over`).

Units: seconds since midnight of the first simulated day.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from typing import TYPE_CHECKING, Any

import simpy

from orchestrator.concierge.schedule import resolve
from simulation.pickups import ReturnStatus
from simulation.twin.customers import choose, first_day
from simulation.twin.orders import OrderState, Status
from simulation.twin.returns import maybe_return, pickup_window
from simulation.world import DAY_S

if TYPE_CHECKING:
    from simulation.twin.setup import Twin

__all__ = [
    "attempt",
    "back_at_hub",
    "day_end",
    "draw_presence",
    "in_person",
    "release",
    "roll_over",
]


def attempt(twin: Twin, o: OrderState, by: str, now: float) -> bool:
    """Try to hand over (or leave) the parcel; record the attempt; whether it worked."""
    o.attempts += 1
    if o.first_type is None:
        o.first_type = by
        o.first_attempt_at, o.first_attempt_place = int(now), o.place
    customer = o.spec.customer
    if not in_person(o, by):
        ok = True  # left at the door
    else:
        # Drawn when the customer was told the ETA ("kept"), else here at the door: the same
        # draw at the same probability, only when it is known moves.
        followed = draw_presence(twin) if o.present is None else o.present
        ok = followed and resolve(customer.schedule, twin.instant(now)) == o.place
    o.present = None
    if o.first_attempt_ok is None:
        o.first_attempt_ok = ok
    if ok:
        o.status = Status.DELIVERED
        o.delivered_at = int(now)
        o.delivered_by = by
        o.on_time = not o.redelivery and o.window[0] <= now <= o.window[1]
        o.lateness_s = max(0, int(now) - o.window[1])
        if twin.market is not None:
            maybe_return(twin, o, int(now))
    return ok


def in_person(o: OrderState, by: str) -> bool:
    """Whether a drop by vehicle type ``by`` needs the customer there: all but a parcel left
    at the door of a customer who allows it (a robot cannot leave one)."""
    return not (o.spec.customer.unattended and o.place == "home" and by != "robot")


def draw_presence(twin: Twin) -> bool:
    """Whether a customer keeps to their week at one attempt (probability
    ``noise.presence``), one draw from the presence stream."""
    return bool(twin.presence_rng.random() < twin.scenario.noise.presence)


def back_at_hub(twin: Twin, o: OrderState, now: float) -> None:
    """A parcel whose drop failed is back at the hub: locker, another attempt, or the
    sender."""
    policies = twin.policies
    if policies.failed_attempt == "locker" or o.attempts >= policies.max_attempts:
        if policies.failed_attempt == "locker":
            o.status = Status.DELIVERED
            o.delivered_at = int(now)
            o.delivered_by = "locker"
            o.lateness_s = max(0, int(now) - o.window[1])
        else:
            o.status = Status.FAILED
        return
    o.status = Status.WAITING
    o.redelivery = True
    day, _ = first_day(twin, int(now))
    o.day = max(o.day, day)
    choose(twin, o, int(now))


def release(orders: Iterable[OrderState]) -> None:
    """Orders a courier never came for wait again."""
    for o in orders:
        if o.status is Status.ASSIGNED:
            o.status = Status.WAITING


def roll_over(twin: Twin, day: int) -> None:
    """At the end of ``day``: waiting orders move to the next day with a new window, or
    end unserved after the last day."""
    last = day + 1 >= twin.scenario.days
    for o in twin.orders:
        if o.status is not Status.WAITING or o.day > day:
            continue
        if last:
            o.status = Status.UNSERVED
            o.unserved_reason = "not_planned_in_time"
        else:
            o.day = day + 1
            o.redelivery = True
            choose(twin, o, (day + 1) * DAY_S)
    if last:
        for o in twin.orders:
            if o.status is Status.WAITING:
                o.status = Status.UNSERVED
                o.unserved_reason = "after_last_day"
    for r in twin.returns:
        if r.status is not ReturnStatus.WAITING or r.day > day:
            continue
        if last:
            r.status, r.unserved_reason = ReturnStatus.UNSERVED, "not_planned_in_time"
        else:  # the customer is offered a window the next day
            r.day = day + 1
            r.window = pickup_window(twin, r)


def day_end(env: simpy.Environment, twin: Twin, day: int) -> Generator[simpy.Event, Any, None]:
    """Just before midnight: roll waiting orders over, or end them unserved on the last day."""
    at = (day + 1) * DAY_S - 1
    if at > env.now:
        yield env.timeout(at - env.now)
    roll_over(twin, day)
