"""An order through the twin: where it stands, what was promised and what became of it.

Units: seconds since midnight of the first simulated day (local time at the hubs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from routing.model import Location
from simulation.twin.promises import Promise, PromiseNotice
from simulation.world import OrderSpec

__all__ = ["FINAL", "OrderState", "Status"]


class Status(StrEnum):
    """Where an order stands in the simulation."""

    WAITING = "waiting"
    """Arrived, not on any vehicle yet (or back at the hub after a failed attempt)."""
    ASSIGNED = "assigned"
    """On a vehicle's route or a courier's bundle."""
    DELIVERED = "delivered"
    """Handed over, left at the door, or put in the hub's locker (final)."""
    FAILED = "failed"
    """Every attempt failed and there is no locker: back to the sender (final)."""
    UNSERVED = "unserved"
    """Never attempted before the end of the simulation (final)."""


FINAL = frozenset({Status.DELIVERED, Status.FAILED, Status.UNSERVED})
"""The statuses an order ends the run in."""


@dataclass(slots=True, eq=False)
class OrderState:
    """One order through the simulation: promise, attempts and outcome."""

    spec: OrderSpec
    day: int
    """Service day (index from the first simulated day)."""
    earliest_day: int
    place: str
    location: Location
    window: tuple[int, int]
    """The promised window, seconds since the first day's midnight."""
    status: Status = Status.WAITING
    attempts: int = 0
    first_attempt_ok: bool | None = None
    delivered_at: int | None = None
    delivered_by: str | None = None
    """Vehicle type (or ``"courier"``) that delivered it; ``"locker"`` for the hub locker."""
    on_time: bool = False
    lateness_s: int = 0
    first_type: str | None = None
    """Vehicle type of the first attempt."""
    unserved_reason: str | None = None
    redelivery: bool = False
    promise: Promise | None = None
    """What the customer confirmed first (:mod:`simulation.twin.promises`)."""
    notices: list[PromiseNotice] = field(default_factory=list)
    """Notices that the promise will be missed (:func:`simulation.twin.promises.notify`)."""
    present: bool | None = None
    """Whether the customer keeps to their week at the next attempt, drawn when the trip was
    handed out and the customer was told the ETA (``policies.promises = "kept"``); ``None``
    when not drawn yet (today's policy draws it at the door)."""
    first_attempt_at: int | None = None
    """When the first attempt was made (seconds since the first day's midnight)."""
    first_attempt_place: str | None = None
    """Where the first attempt was made (the customer's place name)."""
    rescheduled: bool = False
    """The customer, told the ETA before the window, said they would not be there and chose
    another option (the miss is the customer's, announced by construction)."""
