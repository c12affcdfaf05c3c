"""Tests of orchestrator.concierge.learning: evidence moves the ranking the expected way, and
fades."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.concierge.learning import (
    Outcome,
    SlotKey,
    SlotStats,
    daypart_of,
    neighbour_prior,
    score,
)
from orchestrator.concierge.schedule import ScheduleRule, WeeklySchedule
from orchestrator.errors import InvalidInput

NOW = datetime(2026, 11, 28, 8, tzinfo=UTC)
SATURDAY = date(2026, 11, 28)
CAFE_SAT = SlotKey("Café Rosa", 5, "morning")
HOME_SAT = SlotKey("home", 5, "morning")


def test_choices_raise_a_slot_above_the_declared_one() -> None:
    """Declared home on Saturdays; after three café choices the café ranks first, and says why."""
    schedule = WeeklySchedule("home")
    stats = SlotStats()
    before_cafe = score(stats, CAFE_SAT, at=NOW, schedule=schedule, day=SATURDAY)
    before_home = score(stats, HOME_SAT, at=NOW, schedule=schedule, day=SATURDAY)
    assert before_home.score > before_cafe.score
    assert before_home.explanation == "your schedule says you are at home on Saturday mornings"
    for weeks in (3, 2, 1):
        stats = stats.record(
            CAFE_SAT, Outcome.CHOSEN, NOW - timedelta(weeks=weeks), passed_over=["home"]
        )
    after_cafe = score(stats, CAFE_SAT, at=NOW, schedule=schedule, day=SATURDAY)
    after_home = score(stats, HOME_SAT, at=NOW, schedule=schedule, day=SATURDAY)
    assert after_cafe.score > after_home.score
    assert after_home.score < before_home.score
    assert after_cafe.explanation == "you are usually at Café Rosa on Saturday mornings"


def test_failed_attempts_lower_a_slot() -> None:
    """Two 'not at home' outcomes push the declared slot down, and the sentence says so."""
    schedule = WeeklySchedule("home")
    stats = SlotStats()
    declared = score(stats, HOME_SAT, at=NOW, schedule=schedule, day=SATURDAY).score
    stats = stats.record(HOME_SAT, Outcome.NOT_AT_HOME, NOW - timedelta(days=7))
    stats = stats.record(HOME_SAT, Outcome.NOT_AT_HOME, NOW - timedelta(days=14))
    after = score(stats, HOME_SAT, at=NOW, schedule=schedule, day=SATURDAY)
    assert after.score < declared
    assert "not at home" in after.explanation


def test_evidence_fades_with_the_half_life() -> None:
    """After one half-life a success counts one half."""
    stats = SlotStats(half_life=timedelta(days=10)).record(CAFE_SAT, Outcome.DELIVERED, NOW)
    assert stats.at(CAFE_SAT, NOW + timedelta(days=10)).successes == pytest.approx(0.5)
    assert stats.at(CAFE_SAT, NOW + timedelta(days=20)).successes == pytest.approx(0.25)


def test_old_habits_give_way_to_new_ones() -> None:
    """A year of office Mondays, then two months of home Mondays: home now ranks first."""
    office, home = SlotKey("office", 0, "morning"), SlotKey("home", 0, "morning")
    stats = SlotStats()
    start = NOW - timedelta(days=430)
    for week in range(52):
        stats = stats.record(office, Outcome.DELIVERED, start + timedelta(weeks=week))
    for week in range(9):
        stats = stats.record(home, Outcome.DELIVERED, NOW - timedelta(weeks=9 - week))
    assert score(stats, home, at=NOW).score > score(stats, office, at=NOW).score


def test_new_customer_borrows_from_look_alikes() -> None:
    """A customer who declared nothing and chose a café once gets the café-goers' Saturday
    habit, not the office crowd's."""
    cafe_goer = SlotStats()
    for w in range(4):
        cafe_goer = cafe_goer.record(
            SlotKey("Kahvila", 5, "morning"), Outcome.DELIVERED, NOW - timedelta(weeks=w)
        )
        cafe_goer = cafe_goer.record(
            SlotKey("Kahvila", 6, "morning"), Outcome.DELIVERED, NOW - timedelta(weeks=w)
        )
    office_worker = SlotStats()
    for w in range(4):
        office_worker = office_worker.record(
            SlotKey("Työ", 5, "morning"), Outcome.NOT_AT_HOME, NOW - timedelta(weeks=w)
        )
        office_worker = office_worker.record(
            SlotKey("Työ", 0, "morning"), Outcome.DELIVERED, NOW - timedelta(weeks=w)
        )
    kinds = {"Kahvila": "cafe", "Työ": "office", "Rosa": "cafe"}
    newcomer = SlotStats().record(SlotKey("Rosa", 6, "morning"), Outcome.CHOSEN, NOW)
    prior = neighbour_prior(newcomer, [office_worker, cafe_goer], at=NOW, kinds=kinds, k=1)
    result = score(newcomer, SlotKey("Rosa", 5, "morning"), at=NOW, neighbours=prior, kind="cafe")
    assert result.score > 0.6
    assert "customers with choices like yours" in result.explanation


def test_stats_round_trip_through_json() -> None:
    """What the store keeps reads back the same."""
    stats = (
        SlotStats().record(CAFE_SAT, Outcome.CHOSEN, NOW).record(HOME_SAT, Outcome.RESCHEDULED, NOW)
    )
    again = SlotStats.from_json(stats.to_json())
    assert again.to_json() == stats.to_json()
    with pytest.raises(InvalidInput, match="malformed"):
        SlotStats.from_json({"slots": [{"place": "x"}]})


def test_bad_slots_are_refused() -> None:
    """Weekday and daypart are checked."""
    with pytest.raises(InvalidInput, match="weekday"):
        SlotKey("home", 7, "morning")
    with pytest.raises(InvalidInput, match="daypart"):
        SlotKey("home", 1, "brunch")


@pytest.mark.parametrize(
    ("hour", "part"),
    [(0, "night"), (6, "night"), (7, "morning"), (12, "afternoon"), (23, "evening")],
)
def test_dayparts(hour: int, part: str) -> None:
    """Local hours map to their part of the day."""
    assert daypart_of(time(hour)) == part


outcomes = st.lists(st.tuples(st.sampled_from(list(Outcome)), st.integers(0, 200)), max_size=30)


@given(history=outcomes, extra=st.sampled_from(list(Outcome)))
def test_one_more_observation_moves_the_score_its_way(
    history: list[tuple[Outcome, int]], extra: Outcome
) -> None:
    """Whatever came before, a success never lowers a slot's score and a failure never raises
    it; scores stay in (0, 1)."""
    schedule = WeeklySchedule(
        "home", (ScheduleRule("Café Rosa", frozenset({5}), time(9), time(12)),)
    )
    stats = SlotStats()
    for outcome, days_ago in sorted(history, key=lambda h: -h[1]):
        stats = stats.record(CAFE_SAT, outcome, NOW - timedelta(days=days_ago))
    before = score(stats, CAFE_SAT, at=NOW, schedule=schedule, day=SATURDAY).score
    after = score(
        stats.record(CAFE_SAT, extra, NOW), CAFE_SAT, at=NOW, schedule=schedule, day=SATURDAY
    ).score
    assert 0 < before < 1 and 0 < after < 1
    if extra in (Outcome.CHOSEN, Outcome.DELIVERED):
        assert after >= before
    else:
        assert after <= before
