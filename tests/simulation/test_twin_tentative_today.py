"""The concierge's tentative plan of the running day under ``policies.promises = "kept"``
(issue #17): a vehicle out on a trip sells nothing before it is back, and the home-only
fallback sells only slots the tentative plan can take."""

from __future__ import annotations

import pytest

from routing.insertion import Candidate
from routing.model import TimeWindow
from simulation.scenario import Scenario
from simulation.twin import OrderState, Twin
from simulation.twin.customers import _home_slot, _tentative_plan
from simulation.twin.vehicles import Agent
from simulation.world import DAY_S, HOUR_S


def _twin(promises: str, *, days: int = 1, concierge: bool = True) -> Twin:
    """The tiny city with one hub of two vans: 07:30-16:00 and 11:30-20:00 (the only evening
    vehicle), not yet run (the clock at the first midnight)."""
    from tests.simulation.conftest import tiny_dict

    data = tiny_dict(days=days)
    data["fleet"] = {"hubs": [{"name": "hub", "vehicles": {"van": 2}}]}
    data["policies"] = {**data["policies"], "promises": promises, "concierge": concierge}
    return Twin(Scenario.from_dict(data))


def _evening_van(twin: Twin) -> Agent:
    (van,) = [a for a in twin.agents if twin.shift(a, 0)[1] > 16 * HOUR_S]
    return van


def _fits(twin: Twin, window_h: tuple[int, int]) -> bool:
    """Whether the hub's tentative plan of day 0 takes a stop at the first order's home."""
    home = twin.world.orders[0].customer.places["home"]
    window = TimeWindow(window_h[0] * HOUR_S, window_h[1] * HOUR_S)
    candidate = Candidate(home.lat, home.lon, (window,), service=120, demand=(1000, 2000, 1))
    return _tentative_plan(twin, 0, 0).best_insertions(candidate, twin.legs)[0].feasible


@pytest.mark.parametrize("promises", ["today", "kept"])
def test_an_idle_evening_van_sells_the_evening(promises: str) -> None:
    twin = _twin(promises)
    assert _fits(twin, (16, 18)) and _fits(twin, (18, 20))


def test_an_evening_van_out_until_18_sells_no_window_that_closes_by_18() -> None:
    twin = _twin("kept")
    _evening_van(twin).back_at = 18 * HOUR_S + 5 * 60  # out on a day trip until 18:05
    assert not _fits(twin, (16, 18))
    assert _fits(twin, (18, 20))


def test_todays_policy_still_sells_on_the_plan_the_day_started_with() -> None:
    twin = _twin("today")
    _evening_van(twin).back_at = 18 * HOUR_S + 5 * 60
    assert _fits(twin, (16, 18))  # unchanged: the baseline of the paired benchmark


def _order(twin: Twin) -> OrderState:
    spec = twin.world.orders[0]
    return OrderState(spec, 0, 0, "home", spec.customer.places["home"], (0, 0))


@pytest.mark.parametrize("concierge", [True, False])
def test_the_home_slots_sell_no_slot_when_every_vehicle_is_out_all_day(concierge: bool) -> None:
    # With the concierge, its fallback; without, home-only delivery: under "kept" neither
    # sells a slot no vehicle can drive (issue #17: "offered only when the plan keeps it").
    twin = _twin("kept", days=2, concierge=concierge)
    for a in twin.agents:
        a.back_at = 21 * HOUR_S  # out past every shift of day 0
    state = _order(twin)
    _home_slot(twin, state, 0)
    assert state.day == 1 and state.window[0] >= DAY_S  # the next day, where a van is free


@pytest.mark.parametrize("concierge", [True, False])
def test_todays_slots_sell_the_day_regardless(concierge: bool) -> None:
    twin = _twin("today", days=2, concierge=concierge)
    for a in twin.agents:
        a.back_at = 21 * HOUR_S
    state = _order(twin)
    _home_slot(twin, state, 0)
    assert state.day == 0 and state.window[1] <= DAY_S


def _robot_twin() -> Twin:
    """The tiny city with one hub of one van and one robot, promises kept, not yet run."""
    from tests.simulation.conftest import tiny_dict

    data = tiny_dict()
    data["fleet"] = {"hubs": [{"name": "hub", "vehicles": {"van": 1, "robot": 1}, "chargers": 1}]}
    data["policies"] = {**data["policies"], "promises": "kept", "concierge": True}
    return Twin(Scenario.from_dict(data))


def _small_order(twin: Twin, *, accepts_robot: bool) -> OrderState:
    """A waiting, promised one-parcel order of day 0 (10:00-12:00 at home) whose customer
    does or does not accept robots."""
    from dataclasses import replace

    from simulation.twin.promises import record

    spec = twin.world.orders[0]
    spec = replace(spec, customer=replace(spec.customer, accepts_robot=accepts_robot),
                   demand=(500, 1000, 1))  # fmt: skip
    window = (10 * HOUR_S, 12 * HOUR_S)
    state = OrderState(spec, 0, 0, "home", spec.customer.places["home"], window)
    record(state)
    twin.by_hub[0] = [state]
    return state


def test_the_running_days_plan_keeps_a_robot_refuser_on_a_van() -> None:
    # The tentative plan put a robot refuser's promised order on a robot (cheapest), so the
    # van looked free and sold its evening twice: most misses of dense Helsinki (issue #17).
    from simulation.twin.customers import tentative_today

    twin = _robot_twin()
    assert twin._robot_fits((500, 1000, 1))
    state = _small_order(twin, accepts_robot=False)
    timeline = tentative_today(twin, 0, 0)
    (route,) = [r for r in timeline.routes if f"o{state.spec.index}-0" in r.stop_ids]
    assert route.vehicle_type.kind.value == "van"
