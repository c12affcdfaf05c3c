"""A planned (or tentative) service day as a timeline, ready for cheap insertion checks by
delivery options, return pickup options and the simulator."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from orchestrator.planning.spread import Buffer, SpreadBook
from routing.insertion import Timeline
from routing.model import VehicleKind

__all__ = ["DayPlan"]


@dataclass(frozen=True, slots=True, eq=False)
class DayPlan:
    """The tentative plan of one service day, ready for insertion checks.

    ``epoch`` is the instant the timeline's seconds count from (the depot's local midnight as
    :mod:`orchestrator.planning.problem` uses); ``vehicle_kinds`` maps vehicle type names to kinds.

    ``buffer`` is what the timeline's legs and service times were scaled by (the day's plans
    are made on it, :mod:`orchestrator.planning.spread`): a stop inserted into it must be
    timed the same way (:meth:`Buffer.legs`, :meth:`Buffer.service_seconds`); its
    ``confidence``, when set, is the floor below which a window is not promised. ``book`` is
    the depot's learned spread, which says how sure a promise is (no outcomes: the defaults).
    """

    day: date
    timeline: Timeline
    epoch: datetime
    vehicle_kinds: Mapping[str, VehicleKind]
    opening: time = time(8)
    closing: time = time(20)
    buffer: Buffer = field(default_factory=Buffer)
    book: SpreadBook = field(default_factory=SpreadBook)

    def seconds(self, at: datetime) -> int:
        """``at`` as seconds on the timeline."""
        return int((at - self.epoch).total_seconds())

    def instant(self, seconds: int) -> datetime:
        """Seconds on the timeline as an aware instant (UTC)."""
        return (self.epoch + timedelta(seconds=seconds)).astimezone(UTC)
