"""The simulated clock against the wall clock: on a daylight-saving change in Europe/Helsinki a
day has 23 or 25 hours, and local hours of the scenario must still mean wall-clock hours."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from simulation.kpis import paid_hours
from simulation.report import run_replication
from simulation.scenario import Scenario
from simulation.twin import Twin
from simulation.world import elapsed_s
from tests.simulation.conftest import tiny_dict

HELSINKI = ZoneInfo("Europe/Helsinki")


def home_only(day: date, **overrides: object) -> Scenario:
    """The tiny scenario on ``day``, home-only slots, vans and bikes."""
    data = tiny_dict(start_date=day.isoformat(), **overrides)
    data["policies"] = {**data["policies"], "concierge": False}
    data["fleet"]["hubs"][0]["vehicles"] = {"van": 1, "cargo-bike": 1}
    return Scenario.from_dict(data)


@pytest.mark.parametrize(
    ("day", "hours"),
    [
        (date(2026, 3, 2), 7.5),  # an ordinary day: elapsed seconds are wall-clock seconds
        (date(2026, 3, 29), 6.5),  # clocks go forward at 03:00: 07:30 is 6.5 h after midnight
        (date(2026, 10, 25), 8.5),  # clocks go back at 04:00: 07:30 is 8.5 h after midnight
    ],
)
def test_a_wall_clock_time_is_the_right_seconds_after_midnight(day: date, hours: float) -> None:
    twin = Twin(home_only(day), 0)
    assert twin.clock_s(0, 7.5 * 3_600) == round(hours * 3_600)
    assert twin.instant(twin.clock_s(0, 7.5 * 3_600)).astimezone(HELSINKI).hour == 7
    van = next(a for a in twin.agents if a.type_name == "van")
    assert twin.shift(van, 0)[0] == twin.clock_s(0, van.shift[0])


@pytest.mark.parametrize("day", [date(2026, 3, 29), date(2026, 10, 25)])
def test_slots_and_pickups_keep_to_opening_hours_on_a_dst_change(day: date) -> None:
    # Two days so returns delivered on the change day are picked up the day after, and the
    # change day's own pickups come from the day before when it is the second day.
    start = date.fromordinal(day.toordinal() - 1)
    twin = run_replication(home_only(start, days=2, returns={"share": 0.5}), 0)
    opening, closing = twin.policies.opening_h, twin.policies.closing_h
    windows = [o.window for o in twin.orders if o.day < 2]
    windows += [r.window for r in twin.returns]
    assert any(w[0] // 86_400 == 1 for w in windows), "the change day needs windows to test"
    for start_s, end_s in windows:
        a = twin.instant(start_s).astimezone(HELSINKI)
        b = twin.instant(end_s).astimezone(HELSINKI)
        assert a.minute == 0 and b.minute == 0
        assert opening <= a.hour and b.hour <= closing and (b.hour, b.minute) != (0, 0)
        assert (b - a).total_seconds() == 7_200
    # The first slot of the change day opens at the opening hour on the wall clock.
    firsts = [twin.instant(w[0]).astimezone(HELSINKI) for w in windows if w[0] // 86_400 == 1]
    assert min(t.hour for t in firsts) == opening


@pytest.mark.parametrize("day", [date(2026, 3, 2), date(2026, 3, 29), date(2026, 10, 25)])
@pytest.mark.parametrize("wall_h", [0.0, 2.5, 3.5, 7.5, 12.0, 23.99])
def test_the_world_converts_wall_clock_times_as_the_twin_does(day: date, wall_h: float) -> None:
    # Arrivals (drawn by wall-clock hour) and the twin's slots must use one clock.
    twin = Twin(home_only(day), 0)
    assert elapsed_s(day, "Europe/Helsinki", wall_h * 3_600) == twin.clock_s(0, wall_h * 3_600)


@pytest.mark.parametrize("day", [date(2026, 3, 29), date(2026, 10, 25)])
def test_orders_arrive_at_the_profile_s_wall_clock_hour_on_a_dst_change(day: date) -> None:
    # Every order and courier arrives between 10:00 and 11:00 on the wall clock.
    profile = [0.0] * 24
    profile[10] = 1.0
    data = tiny_dict(start_date=day.isoformat())
    data["demand"] = {**data["demand"], "hourly_profile": profile}
    data["fleet"]["couriers"] = {"size": 4, "arrival_profile": profile}
    twin = Twin(Scenario.from_dict(data), 0)
    arrivals = [o.arrival for o in twin.world.orders] + [c.arrival for c in twin.world.couriers]
    assert len(arrivals) == 44
    hours = {twin.instant(t).astimezone(HELSINKI).hour for t in arrivals}
    assert hours == {10}


@pytest.mark.parametrize(("day", "hours"), [(date(2026, 3, 29), -1), (date(2026, 10, 25), 1)])
def test_a_shift_across_a_dst_change_is_paid_for_the_hours_worked(day: date, hours: int) -> None:
    # A van on 02:00-12:00 by the wall clock works 9 h on the spring day, 11 h on the autumn one.
    data = tiny_dict(start_date=day.isoformat())
    data["fleet"]["hubs"][0]["vehicles"] = {"van": 1}
    data["fleet"]["shifts"] = {"van": [2.0, 12.0]}
    twin = Twin(Scenario.from_dict(data), 0)
    (van,) = twin.agents
    van.days_used.add(0)
    assert paid_hours(van, twin.clock_s) == pytest.approx(10 + hours)
    assert paid_hours(van) == pytest.approx(10)  # on the wall clock
