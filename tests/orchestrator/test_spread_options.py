"""Options say how sure they are (orchestrator/concierge/options.py on a buffered DayPlan): each
carries the probability its window is kept under the learned spread, those below the day's
buffer confidence are not offered, and the insertion is timed on the buffered legs and
service."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from orchestrator.concierge.options import DayPlan, delivery_options, evaluate_choice
from orchestrator.planning.spread import Buffer, SpreadBook, SpreadKey
from tests.orchestrator.test_options import (
    CAFE,
    FRIDAY,
    LEGS,
    OFFICE,
    SATURDAY,
    SUNDAY,
    anna,
    day_plan,
)

CAUTIOUS = Buffer.of(SpreadBook(), ["car", "walk"], 0.9)


@pytest.fixture(scope="module")
def days() -> list[DayPlan]:
    """Friday (busy around the office), Saturday (busy around the café), Sunday (quiet)."""
    return [
        day_plan(FRIDAY, 10, 1, OFFICE),
        day_plan(SATURDAY, 10, 2, CAFE),
        day_plan(SUNDAY, 2, 3),
    ]


def _slow_book(mu: float) -> SpreadBook:
    """A depot whose car and walk legs took ``exp(mu)`` times the plan, many times over."""
    return SpreadBook().observe_many(
        (SpreadKey("travel", p), math.exp(mu + 0.1 * ((k % 7) - 3)))
        for p in ("car", "walk")
        for k in range(700)
    )


def test_without_a_buffer_every_option_says_how_sure_it_is(days: list[DayPlan]) -> None:
    options = delivery_options(anna(), days, LEGS, k=50)
    assert options
    assert all(0.0 < o.confidence <= 1.0 for o in options)
    assert len({o.confidence for o in options}) > 1  # not a constant


def test_on_the_buffer_every_option_offered_is_at_least_as_sure(days: list[DayPlan]) -> None:
    cautious = [replace(d, buffer=CAUTIOUS) for d in days]
    options = delivery_options(anna(), cautious, LEGS, k=50)
    assert options
    assert all(round(o.confidence, 2) >= 0.9 for o in options)


def test_buffered_legs_and_service_offer_no_more_options(days: list[DayPlan]) -> None:
    """The same day checked with legs and service scaled up cannot fit more windows."""
    plain = delivery_options(anna(), days, LEGS, k=500)
    slow = Buffer({"car": 3.0, "walk": 3.0}, 3.0)  # no confidence: no floor, only slower
    buffered = delivery_options(anna(), [replace(d, buffer=slow) for d in days], LEGS, k=500)
    assert len(buffered) < len(plain)
    offered = {(o.day, o.place, o.level, o.window_start) for o in plain}
    assert {(o.day, o.place, o.level, o.window_start) for o in buffered} <= offered


def test_a_depot_whose_legs_run_late_offers_fewer_promises(days: list[DayPlan]) -> None:
    """Learned legs 1.6 x the plan: at the same buffer, fewer options reach 0.9."""
    sure = delivery_options(anna(), [replace(d, buffer=CAUTIOUS) for d in days], LEGS, k=500)
    late_book = _slow_book(0.47)
    late = delivery_options(
        anna(), [replace(d, buffer=CAUTIOUS, book=late_book) for d in days], LEGS, k=500
    )
    assert len(late) < len(sure)
    assert all(round(o.confidence, 2) >= 0.9 for o in late)


def test_a_choice_no_longer_kept_surely_enough_is_refused(days: list[DayPlan]) -> None:
    """An option offered on the defaults is refused once the depot learned its legs run late
    (evaluate_choice answers None, as for a window someone took)."""
    cautious = [replace(d, buffer=CAUTIOUS) for d in days]
    options = delivery_options(anna(), cautious, LEGS, k=500)
    late_book = _slow_book(0.47)
    kept = set()
    for o in options:
        plan = next(d for d in cautious if d.day == o.day)
        late = replace(plan, book=late_book)
        again = evaluate_choice(
            anna(), late, FRIDAY, LEGS, place=o.place, level=o.level,
            window_start=o.window_start, window_end=o.window_end,
        )  # fmt: skip
        if again is not None:
            kept.add(o)
            assert round(again.confidence, 2) >= 0.9
    assert 0 < len(kept) < len(options)
