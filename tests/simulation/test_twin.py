"""The SimPy processes, each on a tiny scenario, and the run's invariants."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import simpy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulation.kpis import replication_kpis
from simulation.scenario import Scenario
from simulation.twin import (
    FINAL,
    Status,
    Trip,
    Twin,
    charge,
    courier,
    day_end,
    drive,
    order_arrivals,
)
from simulation.world import DAY_S, HOUR_S


def arrived(twin: Twin, until: float = 7 * HOUR_S) -> None:
    """Run only the arrival process up to ``until``."""
    twin.env.process(order_arrivals(twin.env, twin, twin.world.orders))
    twin.env.run(until=until)


def test_orders_arrive_on_time_with_a_window_after_the_lead_time(tiny: Scenario) -> None:
    twin = Twin(tiny)
    arrived(twin, until=DAY_S)
    assert len(twin.orders) == tiny.demand.orders_per_day
    lead = tiny.demand.lead_time_min * 60
    for o in twin.orders:
        assert o.status is Status.WAITING
        assert o.window[0] >= o.spec.arrival + lead or o.day > 0
        assert o.window[1] > o.window[0]
        assert o.place in o.spec.customer.places


def test_concierge_puts_office_workers_at_the_office_in_office_hours(tiny: Scenario) -> None:
    # Vans and bikes until 20:00: an office worker's order of the afternoon finds a slot at
    # home in the evening rather than a home-only slot the next day.
    late = {"van": [7.5, 20.0], "cargo-bike": [8.0, 20.0]}
    scenario = tiny.with_changes({"demand.preferences.office": 1.0, "demand.preferences.cafe": 0,
                                  "fleet.shifts": late})  # fmt: skip
    twin = Twin(scenario)
    arrived(twin, until=DAY_S)
    for o in twin.orders:
        start = o.window[0] % DAY_S
        if start >= 9 * HOUR_S and o.window[1] % DAY_S <= 17 * HOUR_S:
            assert o.place == "office", (o.place, start / HOUR_S)


def test_home_only_keeps_everyone_at_home(tiny: Scenario) -> None:
    twin = Twin(tiny.with_changes({"policies.concierge": False}))
    arrived(twin, until=DAY_S)
    assert {o.place for o in twin.orders} == {"home"}
    assert all((o.window[1] - o.window[0]) == 2 * HOUR_S for o in twin.orders)


def test_a_planning_wave_puts_waiting_orders_on_idle_vehicles(tiny: Scenario) -> None:
    twin = Twin(tiny)
    arrived(twin, until=7 * HOUR_S)
    waiting = sum(o.status is Status.WAITING for o in twin.orders)
    planned = twin.plan(0, int(twin.env.now))
    assert 0 < planned <= waiting
    assert sum(o.status is Status.ASSIGNED for o in twin.orders) == planned
    assert any(a.busy for a in twin.agents)


@pytest.mark.parametrize(
    "interval_min",
    [
        30,  # re-plans every half hour
        0,  # waves only: a trip may be handed out up to a wave ahead, no more
    ],
)
def test_a_vehicle_is_handed_a_trip_only_when_it_must_leave_before_the_next_plan(
    tiny: Scenario, interval_min: int
) -> None:
    # A plan looks hours ahead; a vehicle committed at 07:00 to a trip that leaves at 13:00
    # would sit at the hub, unavailable, all morning.
    waves = [7.0, 11.0, 15.0]
    scenario = tiny.with_changes({"policies.replan_interval_min": interval_min,
                                  "policies.waves_h": waves,
                                  "demand.preferences.robot_acceptance": 1.0})  # fmt: skip
    twin = Twin(scenario)
    twin.run()
    trips = sum(a.trips for a in twin.agents)
    assert trips > 0
    gap_s = interval_min * 60 if interval_min else 4 * HOUR_S  # the longest gap between plans
    assert sum(a.held_s for a in twin.agents) <= trips * gap_s


def test_customers_who_refuse_robots_never_get_one(tiny: Scenario) -> None:
    scenario = tiny.with_changes({"demand.preferences.robot_acceptance": 0.0})
    twin = Twin(scenario)
    twin.run()
    assert not any(o.first_type == "robot" for o in twin.orders)


def test_drive_delivers_and_comes_back(tiny: Scenario) -> None:
    twin = Twin(tiny.with_changes({"noise.presence": 1.0}))
    arrived(twin, until=7 * HOUR_S)
    twin.plan(0, int(twin.env.now))
    twin.env.run(until=DAY_S - 10)
    assert not any(a.busy for a in twin.agents)
    assert sum(a.km_m for a in twin.agents) > 0
    attempted = [o for o in twin.orders if o.attempts]
    assert attempted
    assert all(o.status in (Status.DELIVERED, Status.WAITING, Status.FAILED) for o in attempted)


def test_a_robot_that_cannot_finish_turns_back_and_never_goes_below_zero(
    tiny: Scenario,
) -> None:
    scenario = tiny.with_changes({"fleet.hubs.0.vehicles": {"robot": 1}, "fleet.couriers.size": 0,
                                  "demand.preferences.robot_acceptance": 1.0,
                                  "demand.sizes": {"small": 1, "medium": 0, "large": 0,
                                                   "bulky": 0}})  # fmt: skip
    twin = Twin(scenario)
    arrived(twin, until=9 * HOUR_S)
    robot = twin.agents[0]
    assert twin.plan(0, int(twin.env.now)) > 0
    # Drain the battery behind the planner's back: the trip is now beyond its charge.
    assert robot.battery is not None
    twin.env.process(_drain(twin.env, robot.battery, robot.battery.level - 50))
    twin.env.run(until=DAY_S - 10)
    assert robot.turned_back >= 1
    assert robot.battery.level >= 0
    assert robot.min_battery_m >= 0


def _drain(env: simpy.Environment, battery: simpy.Container, amount: float):  # type: ignore[no-untyped-def]
    yield battery.get(amount)


def test_robots_never_drive_beyond_their_charge(tiny: Scenario) -> None:
    scenario = tiny.with_changes({"fleet.robots.battery_range_km": 2.5,
                                  "demand.preferences.robot_acceptance": 1.0})  # fmt: skip
    twin = Twin(scenario)
    twin.run()
    robots = [a for a in twin.agents if a.battery is not None]
    assert any(a.trips for a in robots)
    for robot in robots:
        assert robot.min_battery_m >= 0
        assert 0 <= robot.battery.level <= robot.battery.capacity  # type: ignore[union-attr]


def test_charging_fills_the_battery_and_docks_are_shared(tiny: Scenario) -> None:
    twin = Twin(tiny)  # one dock, two robots
    env = twin.env
    robots = [a for a in twin.agents if a.battery is not None]
    for r in robots:
        r.battery.get(r.battery.capacity)  # type: ignore[union-attr]
    env.run(until=1)
    for r in robots:
        r.charging = env.process(charge(env, twin, r))
    full_h = tiny.fleet.robots.recharge_h
    env.run(until=1 + full_h * HOUR_S + 1)
    levels = sorted(r.battery.level for r in robots)  # type: ignore[union-attr]
    assert levels[1] == pytest.approx(robots[0].battery.capacity)  # type: ignore[union-attr]
    assert levels[0] == pytest.approx(0.0, abs=1)  # still waiting for the only dock
    env.run(until=1 + 2 * full_h * HOUR_S + 2)
    assert all(r.battery.level == pytest.approx(r.battery.capacity) for r in robots)  # type: ignore[union-attr]


def test_an_interrupted_charge_keeps_what_it_gained(tiny: Scenario) -> None:
    twin = Twin(tiny)
    env = twin.env
    robot = next(a for a in twin.agents if a.battery is not None)
    battery = robot.battery
    assert battery is not None
    battery.get(battery.capacity)
    env.run(until=1)
    robot.charging = env.process(charge(env, twin, robot))
    half = tiny.fleet.robots.recharge_h * HOUR_S / 2
    env.run(until=1 + half)
    assert twin.battery_level(robot) == pytest.approx(battery.capacity / 2)
    robot.charging.interrupt("dispatched")
    env.run(until=2 + half)
    assert battery.level == pytest.approx(battery.capacity / 2)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    parcels=st.integers(1, 5),
    kg=st.floats(1.0, 30.0),
    litres=st.floats(5.0, 80.0),
    seed=st.integers(0, 1_000),
)
def test_couriers_never_carry_more_than_their_capacity(
    tiny: Scenario, parcels: int, kg: float, litres: float, seed: int
) -> None:
    scenario = tiny.with_changes({
        "seed": seed, "fleet.couriers.size": 12, "fleet.couriers.capacity_parcels": parcels,
        "fleet.couriers.capacity_kg": kg, "fleet.couriers.capacity_l": litres,
        "fleet.couriers.acceptance_intercept": 5.0, "fleet.hubs.0.vehicles": {"van": 1},
        "fleet.couriers.arrival_profile": [0.0] * 8 + [1.0] * 8 + [0.0] * 8,
    })  # fmt: skip
    twin = Twin(scenario)
    twin.run()
    log = twin.courier_log
    assert log.max_parcels <= parcels
    assert log.max_grams <= kg * 1_000
    assert log.max_ml <= litres * 1_000


def test_couriers_accept_more_when_paid_more(tiny: Scenario) -> None:
    def accepted(pay: float) -> float:
        scenario = tiny.with_changes({
            "fleet.couriers.size": 40, "fleet.couriers.pay_base_eur": pay,
            "fleet.hubs.0.vehicles": {"van": 1}, "demand.orders_per_day": 80,
            "fleet.couriers.arrival_profile": [0.0] * 8 + [1.0] * 8 + [0.0] * 8,
        })  # fmt: skip
        twin = Twin(scenario)
        twin.run()
        return twin.courier_log.accepted / max(1, twin.courier_log.offered)

    assert accepted(12.0) > accepted(0.0)


def test_a_courier_who_does_not_show_releases_the_parcels(tiny: Scenario) -> None:
    scenario = tiny.with_changes({"fleet.couriers.no_show": 1.0,
                                  "fleet.couriers.acceptance_intercept": 10.0})  # fmt: skip
    twin = Twin(scenario)
    arrived(twin, until=12 * HOUR_S)
    c = twin.world.couriers[0]
    c = type(c)(c.index, c.day, int(twin.env.now) + 1, c.hub, c.home)
    twin.env.process(courier(twin.env, twin, c))
    twin.env.run(until=12 * HOUR_S + 10)
    assigned = sum(o.status is Status.ASSIGNED for o in twin.orders)
    twin.env.run(until=14 * HOUR_S)
    assert twin.courier_log.no_shows == 1
    assert assigned > 0
    assert sum(o.status is Status.ASSIGNED for o in twin.orders) == 0


def test_absent_customer_fails_and_the_parcel_comes_back(tiny: Scenario) -> None:
    scenario = tiny.with_changes({"noise.presence": 0.0, "policies.max_attempts": 2})
    twin = Twin(scenario)
    twin.run()
    attended = [o for o in twin.orders if o.attempts and not o.spec.customer.unattended]
    assert attended
    assert all(o.first_attempt_ok is False for o in attended)
    assert all(o.status is not Status.DELIVERED for o in attended)


def test_locker_policy_delivers_failed_parcels_to_the_locker(tiny: Scenario) -> None:
    scenario = tiny.with_changes({"noise.presence": 0.0, "policies.failed_attempt": "locker"})
    twin = Twin(scenario)
    twin.run()
    failed_first = [o for o in twin.orders if o.first_attempt_ok is False]
    assert failed_first
    assert all(o.delivered_by in ("locker", None) for o in failed_first)
    assert any(o.delivered_by == "locker" for o in failed_first)


def test_day_end_rolls_waiting_orders_over_then_ends_them_unserved(tiny: Scenario) -> None:
    twin = Twin(tiny.with_changes({"days": 2}))
    arrived(twin, until=DAY_S - 10)
    today = [o for o in twin.orders if o.day == 0]
    twin.env.process(day_end(twin.env, twin, 0))
    twin.env.run(until=DAY_S + 1)
    assert all(o.day == 1 and o.status is Status.WAITING for o in today)
    twin.env.process(day_end(twin.env, twin, 1))
    twin.env.run(until=2 * DAY_S)
    assert all(o.status is Status.UNSERVED for o in today)


def test_conservation_every_order_ends_final(tiny: Scenario) -> None:
    twin = Twin(tiny.with_changes({"days": 2}))
    twin.run()
    assert len(twin.orders) == 2 * tiny.demand.orders_per_day
    assert all(o.status in FINAL for o in twin.orders)
    counts = Counter(o.status for o in twin.orders)
    assert counts[Status.DELIVERED] > 0


def test_consolidation_defers_eco_orders_within_their_wait(tiny: Scenario) -> None:
    # Home-only: orchestrator.concierge.consolidation.consolidate picks the day at arrival.
    scenario = tiny.with_changes({"days": 3, "policies.consolidation": True,
                                  "policies.concierge": False,
                                  "fleet.shifts": {"van": [7.5, 20.0], "cargo-bike": [8.0, 20.0]},
                                  "demand.preferences.eco_wait": 0.5,
                                  "demand.same_day_share": 0.3, "demand.orders_per_day": 120,
                                  "demand.preferences.eco_max_wait_days": 2})  # fmt: skip
    twin = Twin(scenario)
    arrived(twin, until=3 * DAY_S - 10)
    waits = [o.day - o.earliest_day for o in twin.orders]
    assert max(waits) > 0
    assert all(0 <= w <= 2 for w in waits)
    assert all(o.day < 3 for o in twin.orders if o.earliest_day < 3)


def test_trip_is_a_frozen_value(tiny: Scenario) -> None:
    twin = Twin(tiny)
    empty = np.zeros((1, 1), dtype=np.int64)
    from routing.solution import Route

    trip = Trip(Route("v", "van", (), 0, 0, (0, 0, 0), 0, 0, 0.0, 0.0), (), empty, empty, 0)
    agent = twin.agents[0]
    agent.busy = True
    twin.env.process(drive(twin.env, twin, agent, trip))
    twin.env.run(until=10)
    assert not agent.busy and agent.trips == 1 and agent.km_m == 0


def test_no_slot_is_sold_that_no_vehicle_able_to_carry_it_can_drive(tiny: Scenario) -> None:
    # Vans end at 16:00, robots at 20:00: only robot parcels may have evening slots.
    scenario = tiny.with_changes({"policies.concierge": False, "fleet.couriers.size": 0,
                                  "fleet.hubs.0.vehicles": {"van": 1, "robot": 2},
                                  "fleet.shifts": {"van": [7.5, 16.0]}})  # fmt: skip
    twin = Twin(scenario)
    arrived(twin, until=DAY_S)
    by_robot = {
        o.spec.index: o.spec.customer.accepts_robot and twin._robot_fits(o.spec.demand)
        for o in twin.orders
    }
    assert not all(by_robot.values())
    for o in twin.orders:
        if not by_robot[o.spec.index]:
            assert o.window[1] - o.day * DAY_S <= 16 * HOUR_S, o.window
    assert any(
        o.window[1] - o.day * DAY_S > 16 * HOUR_S for o in twin.orders if by_robot[o.spec.index]
    )


def test_concierge_gives_eco_customers_a_wide_window_on_a_grouped_day(tiny: Scenario) -> None:
    scenario = tiny.with_changes({"days": 3, "policies.consolidation": True,
                                  "demand.preferences.eco_wait": 0.5,
                                  "demand.same_day_share": 0.3, "demand.orders_per_day": 60,
                                  "demand.preferences.eco_max_wait_days": 2})  # fmt: skip
    twin = Twin(scenario)
    arrived(twin, until=3 * DAY_S - 10)
    eco = [o for o in twin.orders if o.spec.customer.eco]
    others = [o for o in twin.orders if not o.spec.customer.eco]
    # Eco customers take the concierge's eco option: a window of at least two hours, often
    # four, on the day it found most neighbours on — some on a later day, within their wait.
    assert any(o.window[1] - o.window[0] > 2 * HOUR_S for o in eco)
    assert any(o.day > o.earliest_day for o in eco)
    assert all(o.day - o.earliest_day <= 2 for o in eco if o.day < scenario.days)
    assert all(o.window[1] - o.window[0] <= 2 * HOUR_S for o in others)
    # Without consolidation nobody is offered an eco window.
    plain = Twin(scenario.with_changes({"policies.consolidation": False}))
    arrived(plain, until=3 * DAY_S - 10)
    assert all(o.window[1] - o.window[0] <= 2 * HOUR_S for o in plain.orders)


def test_consolidation_defers_some_orders_and_drives_less_per_parcel(tiny: Scenario) -> None:
    # Sixty orders a day, half of their customers green: grouped drops over three days.
    scenario = tiny.with_changes({"days": 3, "demand.preferences.eco_wait": 0.5,
                                  "demand.same_day_share": 0.3, "demand.orders_per_day": 60,
                                  "demand.preferences.eco_max_wait_days": 2,
                                  "fleet.couriers.size": 0})  # fmt: skip
    kpis = {}
    for consolidation in (False, True):
        twin = Twin(scenario.with_changes({"policies.consolidation": consolidation}))
        twin.run()
        kpis[consolidation] = replication_kpis(twin)
    on, off = kpis[True], kpis[False]
    assert on.mean_wait_days > off.mean_wait_days  # some orders were deferred
    assert on.km / on.delivered <= off.km / off.delivered
    assert on.co2_g_per_parcel <= off.co2_g_per_parcel
