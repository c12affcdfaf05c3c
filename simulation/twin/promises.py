"""Promises in the twin: what a customer confirmed, whether it was kept, and notices of a miss.

A **promise** is what the customer confirmed when the order arrived
(:func:`simulation.twin.arrivals.receive`, after :func:`simulation.twin.customers.choose`): the
service day, the place (``home``, ``office``, ``cafe``…) and the window. A later choice — the
next attempt's window after a failed drop, or the next day's after an order waited past its
day — is a new offer, but the promise was missed by then: only the first one counts.

A promise is **kept** when the parcel was handed over (or left at the door) at the promised place
— not at another place, not in the hub's locker — with service starting inside the promised
window (hence on the promised day). Otherwise it was **missed**, by the customer — *absent* (the
first attempt was at the promised place inside the promised window, nobody was there and the
parcel could not be left) or *rescheduled* (told the ETA before the vehicle came, the customer
said they would not be there and chose another option) — or by the system: *late* (at the
place, after the window), *early* (before it), *elsewhere* (another place or the locker) or
*undelivered* (failed or unserved) (:data:`CUSTOMERS_MISSES`).

A **notice** (:class:`PromiseNotice`) is what a promise-keeping policy sends a customer when it
sees the promise will be missed — the production ``order.eta_moved`` event and its webhook.
Today's policies send none; ``policies.promises = "kept"`` (:mod:`simulation.twin.watch`) calls
:func:`notify` and the KPIs (:mod:`simulation.kpis`) count the system's missed promises
announced before their window started.

Units: seconds since midnight of the first simulated day (local time at the hubs).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simulation.twin.orders import OrderState

__all__ = [
    "CUSTOMERS_MISSES",
    "Outcome",
    "Promise",
    "PromiseNotice",
    "minutes_late",
    "notify",
    "outcome",
    "record",
]


@dataclass(frozen=True, slots=True)
class Promise:
    """What the customer confirmed: ``day`` (index from the first simulated day), ``place``
    (the customer's place name) and ``window`` (seconds since the first day's midnight)."""

    day: int
    place: str
    window: tuple[int, int]


@dataclass(frozen=True, slots=True)
class PromiseNotice:
    """A customer told that their promise will be missed.

    ``order`` is the order's index (:attr:`simulation.world.OrderSpec.index`), ``at`` the
    second the notice was sent, ``before_window_start`` whether that was before the promised
    window opened (a notice after the window started tells the customer nothing they could
    still act on).
    """

    order: int
    at: int
    before_window_start: bool
    reason: str = ""
    """Why: ``"away"`` (told the ETA, the customer said they would not be there),
    ``"late"`` (the route watch projects the stop past its window, or the vehicle got there
    after it), ``"unplanned"`` (no vehicle keeps it and the next plan comes too late)."""


class Outcome(StrEnum):
    """What became of a promise."""

    KEPT = "kept"
    LATE = "late"
    """Delivered at the promised place after the window."""
    EARLY = "early"
    """Delivered at the promised place before the window."""
    ELSEWHERE = "elsewhere"
    """Delivered at another place, or put in the hub's locker."""
    UNDELIVERED = "undelivered"
    """Failed (back to the sender) or unserved."""
    ABSENT = "absent"
    """The first attempt was at the promised place inside the promised window, but the
    customer was not there and the parcel could not be left: the system's side was kept."""
    RESCHEDULED = "rescheduled"
    """The customer, told the ETA before the window, said they would not be there and chose
    another option (announced by construction; the customer's miss, not the system's)."""


CUSTOMERS_MISSES = frozenset({Outcome.ABSENT, Outcome.RESCHEDULED})
"""Missed promises whose cause is the customer's absence; the rest are the system's."""


def record(state: OrderState) -> Promise:
    """The promise of an order whose customer has just chosen its day, place and window;
    kept on the order (``state.promise``)."""
    state.promise = Promise(state.day, state.place, state.window)
    return state.promise


def notify(state: OrderState, at: int, reason: str = "") -> PromiseNotice:
    """The hook a promise-keeping policy calls when it tells the customer their promise will
    be missed, at second ``at``, for ``reason`` (:class:`PromiseNotice`): the notice is kept
    on the order (``state.notices``).

    Raises
    ------
    ValueError
        If the order has no promise yet (notify after :func:`record`).
    """
    if state.promise is None:
        raise ValueError(f"order {state.spec.index} has no promise yet — record it first")
    notice = PromiseNotice(state.spec.index, int(at), int(at) < state.promise.window[0], reason)
    state.notices.append(notice)
    return notice


def outcome(state: OrderState) -> Outcome:
    """Whether an order that ended the run kept its promise, and how it missed it.

    Raises
    ------
    ValueError
        If the order has no promise.
    """
    from simulation.twin.orders import Status  # orders imports this module for its types

    promise = state.promise
    if promise is None:
        raise ValueError(f"order {state.spec.index} has no promise")
    start, end = promise.window
    delivered = state.status is Status.DELIVERED and state.delivered_at is not None
    if (
        delivered
        and state.delivered_by != "locker"
        and state.place == promise.place
        and state.delivered_at is not None
        and start <= state.delivered_at <= end
    ):
        return Outcome.KEPT
    if state.rescheduled:
        return Outcome.RESCHEDULED
    if (
        state.first_attempt_ok is False
        and state.first_attempt_at is not None
        and state.first_attempt_place == promise.place
        and start <= state.first_attempt_at <= end
    ):
        return Outcome.ABSENT
    if not delivered or state.delivered_at is None:
        return Outcome.UNDELIVERED
    if state.delivered_by == "locker" or state.place != promise.place:
        return Outcome.ELSEWHERE
    if state.delivered_at < start:
        return Outcome.EARLY
    return Outcome.LATE


def minutes_late(state: OrderState) -> float | None:
    """Minutes after the promised window's end the parcel was handed over (0 when inside or
    before it); ``None`` when it was never delivered."""
    if state.promise is None or state.delivered_at is None:
        return None
    return max(0, state.delivered_at - state.promise.window[1]) / 60
