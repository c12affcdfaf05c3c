"""Tests of orchestrator.concierge.schedule: where a customer is, by weekday and local time."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from orchestrator.concierge.schedule import ScheduleRule, WeeklySchedule, day_segments, resolve
from orchestrator.errors import InvalidInput

HEL = ZoneInfo("Europe/Helsinki")
WEEKDAYS = frozenset(range(5))


@pytest.fixture
def anna() -> WeeklySchedule:
    """Office on weekdays 9-17, Café Rosa on Saturday mornings, a bar Friday 22-02, else home."""
    return WeeklySchedule(
        default_place="home",
        rules=(
            ScheduleRule("office", WEEKDAYS, time(9), time(17)),
            ScheduleRule("Café Rosa", frozenset({5}), time(9), time(12)),
            ScheduleRule("bar", frozenset({4}), time(22), time(2)),
        ),
    )


@pytest.mark.parametrize(
    ("local", "place"),
    [
        (datetime(2026, 11, 23, 10, 0), "office"),  # Monday morning
        (datetime(2026, 11, 23, 8, 59, 59), "home"),  # a second before the rule
        (datetime(2026, 11, 23, 17, 0), "home"),  # the end is excluded
        (datetime(2026, 11, 28, 9, 0), "Café Rosa"),  # Saturday 09:00
        (datetime(2026, 11, 29, 10, 0), "home"),  # Sunday: no rule
        (datetime(2026, 11, 27, 23, 30), "bar"),  # Friday night
        (datetime(2026, 11, 28, 0, 0), "bar"),  # midnight belongs to Friday's rule
        (datetime(2026, 11, 28, 1, 59), "bar"),
        (datetime(2026, 11, 28, 2, 0), "home"),  # the small hours end at 02:00
        (datetime(2026, 11, 29, 0, 30), "home"),  # Saturday night: the bar rule is Friday's
    ],
)
def test_resolve_by_local_time(anna: WeeklySchedule, local: datetime, place: str) -> None:
    """Rules match on the customer's wall clock, past midnight included."""
    assert resolve(anna, local.replace(tzinfo=HEL)) == place


def test_resolve_converts_other_offsets(anna: WeeklySchedule) -> None:
    """An instant given in UTC is read on the customer's clock (Helsinki is UTC+2 in winter)."""
    assert resolve(anna, datetime(2026, 11, 23, 7, 30, tzinfo=UTC)) == "office"
    assert resolve(anna, datetime(2026, 11, 23, 6, 30, tzinfo=UTC)) == "home"


def test_naive_instant_is_refused(anna: WeeklySchedule) -> None:
    """A time without an offset is ambiguous and is refused with the fix."""
    with pytest.raises(InvalidInput, match="no offset"):
        resolve(anna, datetime(2026, 11, 23, 10))


def test_summer_time_keeps_wall_clock(anna: WeeklySchedule) -> None:
    """09:00 is 09:00 local in summer too (UTC+3): 06:30 UTC is 09:30 at the office."""
    assert resolve(anna, datetime(2026, 6, 1, 6, 30, tzinfo=UTC)) == "office"
    assert resolve(anna, datetime(2026, 6, 1, 5, 30, tzinfo=UTC)) == "home"


def test_segments_cover_the_day(anna: WeeklySchedule) -> None:
    """A Monday: home, office 9-17, home; contiguous and covering 24 hours."""
    spans = day_segments(anna, date(2026, 11, 23))
    assert [s.place for s in spans] == ["home", "office", "home"]
    assert spans[1].start == datetime(2026, 11, 23, 9, tzinfo=HEL)
    assert spans[1].end == datetime(2026, 11, 23, 17, tzinfo=HEL)
    assert all(a.end == b.start for a, b in itertools.pairwise(spans))
    assert spans[-1].end - spans[0].start == timedelta(hours=24)


def test_segments_after_a_friday_night(anna: WeeklySchedule) -> None:
    """Saturday starts at the bar until 02:00, then home, the café 9-12, home."""
    spans = day_segments(anna, date(2026, 11, 28))
    assert [s.place for s in spans] == ["bar", "home", "Café Rosa", "home"]
    assert spans[0].end == datetime(2026, 11, 28, 2, tzinfo=HEL)


@pytest.mark.parametrize(
    ("day", "hours"),
    [
        (date(2026, 3, 29), 23),  # spring forward in Helsinki: 03:00 becomes 04:00
        (date(2026, 10, 25), 25),  # fall back: 04:00 comes twice
    ],
)
def test_segments_on_daylight_saving_days(day: date, hours: int) -> None:
    """The day has 23 or 25 real hours; a 9-17 rule still spans 8 real hours."""
    schedule = WeeklySchedule(
        "home", (ScheduleRule("office", frozenset(range(7)), time(9), time(17)),)
    )
    spans = day_segments(schedule, day)
    assert spans[-1].end - spans[0].start == timedelta(hours=hours)
    office = next(s for s in spans if s.place == "office")
    assert office.end - office.start == timedelta(hours=8)


def test_rule_in_the_skipped_hour() -> None:
    """A rule starting at 03:30 on the spring-forward day (a time that does not exist) starts
    at the first real instant after it, 04:30 local summer time, not an hour early."""
    schedule = WeeklySchedule("home", (ScheduleRule("gym", frozenset({6}), time(3, 30), time(6)),))
    spans = day_segments(schedule, date(2026, 3, 29))
    gym = next(s for s in spans if s.place == "gym")
    assert gym.start.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert resolve(schedule, gym.start) == "gym"


def test_whole_day_rule() -> None:
    """start == end covers the whole weekday."""
    schedule = WeeklySchedule("home", (ScheduleRule("cabin", frozenset({6}), time(0), time(0)),))
    assert [s.place for s in day_segments(schedule, date(2026, 11, 29))] == ["cabin"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"place": "", "weekdays": WEEKDAYS, "start": time(9), "end": time(17)}, "place"),
        ({"place": "x", "weekdays": frozenset(), "start": time(9), "end": time(17)}, "weekdays"),
        ({"place": "x", "weekdays": frozenset({7}), "start": time(9), "end": time(17)}, "weekdays"),
        (
            {"place": "x", "weekdays": WEEKDAYS, "start": time(9, tzinfo=UTC), "end": time(17)},
            "start",
        ),
    ],
)
def test_bad_rules_name_the_field(kwargs: dict[str, object], field: str) -> None:
    """Each bad rule is refused with the field to fix."""
    with pytest.raises(InvalidInput) as info:
        ScheduleRule(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == (field,)


def test_unknown_time_zone() -> None:
    """An unknown zone is refused."""
    with pytest.raises(InvalidInput, match="IANA"):
        WeeklySchedule("home", timezone="Mars/Olympus")
