"""Where a customer is, by weekday and time of day: the weekly place schedule.

A customer declares rules such as "office Mon–Fri 09:00–17:00", "Café Rosa Sat 09:00–12:00";
outside every rule they are at their default place (home). Rules are in the customer's wall-clock
time in their time zone, so "09:00" stays 09:00 across daylight-saving changes, and a rule may
run past midnight ("22:00–02:00" on Friday covers Friday night until Saturday 02:00).

:func:`resolve` answers "where is she at this instant?"; :func:`day_segments` cuts one local day
into the stretches spent at each place, as instants, which is what delivery options are
enumerated from. Pure code: the store keeps the rules as JSON on the customer's profile.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from orchestrator.errors import InvalidInput

__all__ = ["WEEKDAYS", "PlaceSpan", "ScheduleRule", "WeeklySchedule", "day_segments", "resolve"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday names as rules spell them, Monday first (``datetime.weekday()`` order)."""


@dataclass(frozen=True, slots=True)
class ScheduleRule:
    """The customer is at ``place`` on ``weekdays`` from ``start`` to ``end`` (local time).

    ``end <= start`` means the rule runs past midnight into the next day; ``start == end``
    covers the whole day. ``weekdays`` hold 0 (Monday) to 6 (Sunday); for a rule past
    midnight, the weekday is the one it starts on.
    """

    place: str
    weekdays: frozenset[int]
    start: time
    end: time

    def __post_init__(self) -> None:
        if not self.place:
            raise InvalidInput("place", "a schedule rule needs the name of one of your places")
        if not self.weekdays or not all(0 <= d <= 6 for d in self.weekdays):
            raise InvalidInput(
                "weekdays", f"weekdays {sorted(self.weekdays)} must be a non-empty set of 0-6"
            )
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise InvalidInput(
                "start", "give wall-clock times without an offset; the time zone is the profile's"
            )

    def covers(self, local: datetime) -> bool:
        """Whether the rule holds at this local (naive, wall-clock) moment."""
        t = local.time()
        day = local.weekday()
        if self.start == self.end:
            return day in self.weekdays
        if self.start < self.end:
            return day in self.weekdays and self.start <= t < self.end
        # Past midnight: the evening part on the weekday, the small hours on the day after.
        return (day in self.weekdays and t >= self.start) or (
            (day - 1) % 7 in self.weekdays and t < self.end
        )


@dataclass(frozen=True, slots=True)
class PlaceSpan:
    """The customer is at ``place`` from ``start`` to ``end`` (aware instants, end excluded)."""

    place: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class WeeklySchedule:
    """Rules in order of precedence (first match wins) and the place outside every rule."""

    default_place: str
    rules: tuple[ScheduleRule, ...] = ()
    timezone: str = "Europe/Helsinki"

    def __post_init__(self) -> None:
        if not self.default_place:
            raise InvalidInput("default_place", "name the place you are at outside every rule")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InvalidInput(
                "timezone", f"unknown time zone {self.timezone!r} — use an IANA name"
            ) from exc

    @property
    def zone(self) -> ZoneInfo:
        """The customer's time zone."""
        return ZoneInfo(self.timezone)

    def places(self) -> tuple[str, ...]:
        """Every place the schedule names, default first."""
        seen = dict.fromkeys([self.default_place, *(r.place for r in self.rules)])
        return tuple(seen)


def resolve(schedule: WeeklySchedule, at: datetime) -> str:
    """The place the customer is at at instant ``at`` (timezone-aware).

    Raises
    ------
    InvalidInput
        If ``at`` has no offset (a naive time is ambiguous).
    """
    if at.tzinfo is None:
        raise InvalidInput("at", f"{at.isoformat()} has no offset — give an aware time")
    local = at.astimezone(schedule.zone).replace(tzinfo=None)
    for rule in schedule.rules:
        if rule.covers(local):
            return rule.place
    return schedule.default_place


def day_segments(schedule: WeeklySchedule, day: date) -> list[PlaceSpan]:
    """The local ``day`` cut into the stretches spent at each place, in order.

    Cuts fall on rule starts and ends; a day of 23 or 25 hours (a daylight-saving change) is
    cut the same way, in real instants.
    """
    zone = schedule.zone
    begin = datetime.combine(day, time(0), zone).astimezone(UTC)
    finish = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
    boundaries = _boundaries(schedule.rules, day, zone) | {begin, finish}
    cuts = sorted(b for b in boundaries if begin <= b <= finish)
    spans: list[PlaceSpan] = []
    for lo, hi in itertools.pairwise(cuts):
        if hi <= lo:
            continue
        place = resolve(schedule, lo)
        if spans and spans[-1].place == place and spans[-1].end == lo:
            spans[-1] = PlaceSpan(place, spans[-1].start, hi)
        else:
            spans.append(PlaceSpan(place, lo, hi))
    return spans


def _boundaries(rules: Sequence[ScheduleRule], day: date, zone: ZoneInfo) -> set[datetime]:
    out: set[datetime] = set()
    for rule in rules:
        for t in (rule.start, rule.end):
            local = datetime.combine(day, t)
            # A wall-clock time skipped by a spring-forward change lands an hour on; a repeated
            # one is taken the first time (fold=0), the usual reading of "09:00".
            out.add(_aware(local, zone))
    return out


def _aware(local: datetime, zone: ZoneInfo) -> datetime:
    """Wall-clock ``local`` in ``zone`` as a UTC instant, normalising skipped times."""
    return local.replace(tzinfo=zone).astimezone(UTC)
