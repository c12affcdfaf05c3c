"""What a replication costs (crews, robots' lease, supervision and docks), share intervals
clipped to [0, 1], and paired differences between scenarios."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulation.kpis import (
    estimate,
    paid_hours,
    paired_difference,
    replication_kpis,
    robot_dock_cost,
    summarise,
)
from simulation.scenario import Scenario
from simulation.sweep import grid, sweep
from simulation.twin import Twin
from simulation.world import HOUR_S


@pytest.fixture
def ran(tiny: Scenario) -> Twin:
    """The tiny scenario over two days, run."""
    twin = Twin(tiny.with_changes({"days": 2}))
    twin.run()
    return twin


def test_robots_cost_their_lease_supervision_kilometres_and_docks(ran: Twin) -> None:
    robots = [a for a in ran.agents if a.type_name == "robot"]
    spec = ran.scenario.fleet.robots
    assert sum(a.trips for a in robots) > 0  # the robots worked, so every component counts
    days_used = sum(len(a.days_used) for a in robots)
    # Supervision is paid on the move, not for the minutes at doors (a strictly shorter time).
    moving_h = sum(a.moving_s for a in robots) / HOUR_S
    assert 0 < moving_h < sum(a.active_s for a in robots) / HOUR_S
    km = sum(a.km_m for a in robots) / 1_000
    docks = ran.scenario.fleet.hubs[0].chargers * spec.dock_eur_per_day * ran.scenario.days
    expected = (
        spec.lease_eur_per_day * days_used
        + spec.supervision_eur_per_h * moving_h
        + robots[0].vtype.cost_per_km * km
        + docks
    )
    assert robot_dock_cost(ran.scenario) == pytest.approx(docks)
    (robot,) = [t for t in replication_kpis(ran).per_type if t.vehicle_type == "robot"]
    assert robot.cost_eur == pytest.approx(expected, rel=1e-6)


def test_docks_cost_even_on_a_day_no_robot_runs(tiny: Scenario) -> None:
    # The docks are there whether or not the robots leave: a robot fleet that never runs
    # still costs its docks, nothing more.
    idle = tiny.with_changes({"fleet.robots.battery_range_km": 0.01})
    twin = Twin(idle)
    twin.run()
    robots = [a for a in twin.agents if a.type_name == "robot"]
    assert all(a.trips == 0 for a in robots)
    (robot,) = [t for t in replication_kpis(twin).per_type if t.vehicle_type == "robot"]
    assert robot.cost_eur == pytest.approx(robot_dock_cost(idle)) and robot.cost_eur > 0


def test_drivers_are_paid_their_whole_shift_on_a_day_used(ran: Twin) -> None:
    (van,) = [a for a in ran.agents if a.type_name == "van"]
    assert van.days_used
    shift_h = (van.shift[1] - van.shift[0]) / HOUR_S
    assert paid_hours(van) >= shift_h * len(van.days_used)
    assert paid_hours(van) >= van.active_s / HOUR_S
    late = max(van.back_s.values()) > van.shift[1]
    assert late or paid_hours(van) == pytest.approx(shift_h * len(van.days_used))
    vt = van.vtype
    expected = (
        vt.fixed_cost * len(van.days_used)
        + vt.cost_per_km * van.km_m / 1_000
        + vt.cost_per_hour * paid_hours(van)
    )
    (kpi,) = [t for t in replication_kpis(ran).per_type if t.vehicle_type == "van"]
    assert kpi.cost_eur == pytest.approx(expected, rel=1e-6)


def test_an_unused_vehicle_costs_nothing(tiny: Scenario) -> None:
    # Six vans for forty parcels: the planner leaves some at the hub, and they cost nothing.
    scenario = tiny.with_changes({"fleet.hubs.0.vehicles": {"van": 6}, "fleet.couriers.size": 0})
    twin = Twin(scenario)
    twin.run()
    unused = [a for a in twin.agents if not a.days_used]
    assert unused
    assert all(paid_hours(a) == 0 for a in unused)


def test_share_intervals_stay_inside_0_and_1() -> None:
    # Three replications near 1: the t interval reaches past 1 unless clipped.
    raw = estimate([0.99, 1.0, 0.9])
    assert raw.high > 1
    clipped = estimate([0.99, 1.0, 0.9], bounds=(0.0, 1.0))
    assert clipped.high == 1.0 and clipped.low == raw.low and clipped.mean == raw.mean


@given(st.lists(st.floats(0, 1), min_size=2, max_size=8))
def test_summarised_shares_have_intervals_inside_0_and_1(values: list[float]) -> None:
    e = estimate(values, bounds=(0.0, 1.0))
    assert 0.0 <= e.low <= e.mean <= e.high <= 1.0


def test_summary_clips_shares_and_keeps_costs_non_negative(ran: Twin) -> None:
    reps = [replication_kpis(ran)] * 2
    overall, per_type = summarise(reps)
    for metric in ("on_time_share", "first_attempt_success"):
        assert 0 <= overall[metric].low <= overall[metric].high <= 1
        for kpis in per_type.values():
            e = kpis[metric]
            assert math.isnan(e.low) or 0 <= e.low <= e.high <= 1


def test_paired_difference_cancels_what_both_share() -> None:
    # Day-to-day spread shared by both scenarios (common random numbers) cancels.
    base = [10.0, 20.0, 30.0]
    better = [9.0, 19.2, 28.9]
    d = paired_difference(better, base)
    assert d.mean == pytest.approx(-0.9667, abs=1e-3)
    assert d.high < 0  # clearly better, although the two means' intervals overlap
    assert estimate(better).high > estimate(base).low
    with pytest.raises(ValueError, match="replications"):
        paired_difference([1.0], [1.0, 2.0])


def test_sweep_difference_pairs_replications(tiny: Scenario) -> None:
    points = grid(tiny.with_changes({"replications": 2}), {"fleet.couriers.size": [0, 4]})
    result = sweep(points, progress=False)
    d = result.difference("cost_eur", 1, 0)
    a = [r["cost_eur"] for r in result.reports[1]["replications"]]
    b = [r["cost_eur"] for r in result.reports[0]["replications"]]
    assert d.n == 2 and d.mean == pytest.approx((a[0] - b[0] + a[1] - b[1]) / 2, abs=1e-5)
    assert result.difference("cost_eur", 0, 0).mean == 0
