"""The promise-keeping policy in the twin (``policies.promises = "kept"``, issue #17): today's
policy draws exactly what it drew before the policy existed; the planner and the concierge plan
on a buffer; the twin learns the spread of its own outcomes; a late route tells the customer
before the window; a customer asked before the vehicle sets out who will not be there is not
attempted and gets a new option; no vehicle goes past a promise silently."""

from __future__ import annotations

import hashlib
import json
import math
from statistics import NormalDist

import numpy as np
import pytest

from orchestrator.planning.spread import SpreadKey
from routing.solution import Route, Visit
from simulation.kpis import replication_kpis
from simulation.scenario import Scenario
from simulation.twin import Agent, OrderState, Status, Trip, Twin
from simulation.twin.promises import CUSTOMERS_MISSES, Outcome, outcome, record
from simulation.twin.watch import LEAVE_CONFIDENCE, book, buffer_now, leave_at, watch
from simulation.world import HOUR_S
from tests.simulation.conftest import tiny_dict


def _state(rng: np.random.Generator) -> str:
    """A short digest of a generator's state (what it has drawn so far)."""
    text = json.dumps(rng.bit_generator.state, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def test_today_draws_and_measures_what_it_did_before_the_policy() -> None:
    # Figures of the tiny scenario over two days on main before "kept" existed (6571dc4),
    # since its four couriers went through production's offer and payout rules (three bundles
    # priced above their van cost, none offered; before: five offers, two accepted): the same
    # events, the same random draws, the same KPIs.
    twin = Twin(Scenario.from_dict(tiny_dict(days=2)))
    twin.run()
    k = replication_kpis(twin)
    assert k.promises is not None
    assert (k.delivered, k.failed, k.unserved, k.events, k.plans) == (78, 0, 2, 550, 39)
    assert (k.cost_eur, k.km, k.first_attempt_success) == (1277.859565, 53.002, 0.897436)
    assert (k.promises.promised, k.promises.kept, k.promises.notices) == (78, 70, 0)
    assert [_state(g) for g in (twin.noise_rng, twin.presence_rng, twin.courier_rng)] == [
        "c00c54eab1b53983", "a9f47f80bfbf0701", "ae9ce9003687b18e"
    ]  # fmt: skip


def _kept(**changes: object) -> Twin:
    """The tiny scenario (no couriers: every drop is a hub vehicle's) under "kept", run."""
    data = tiny_dict(days=2)
    data["fleet"]["couriers"] = {"size": 0}
    data["policies"]["promises"] = "kept"
    twin = Twin(Scenario.from_dict(data).with_changes(dict(changes)))
    twin.run()
    return twin


def _promised(twin: Twin) -> list[OrderState]:
    return [o for o in twin.orders if o.promise is not None and o.promise.day < 2]


def test_the_learned_spread_moves_toward_the_scenarios_noise() -> None:
    twin = _kept(**{"noise.travel_sigma": 0.6, "noise.service_sigma": 0.05})
    spread = book(twin)
    travel = [spread.estimate(SpreadKey("travel", p)) for p in ("car", "bike", "walk")]
    learned = max(travel, key=lambda e: e.n)
    assert learned.n >= 30
    # From the default 0.15 toward 0.6 (shrunk by 20 pseudo-observations of the default).
    assert 0.4 < learned.sigma < 0.7
    service = max((spread.estimate(SpreadKey("service", p)) for p in ("car", "bike", "walk")),
                  key=lambda e: e.n)  # fmt: skip
    assert service.n >= 30 and service.sigma < 0.2  # from the default 0.3 toward 0.05
    # Per hour and zone as well: the finer keys have outcomes of their own.
    assert any(k.zone != "*" and s.n > 0 for k, s in spread.spreads.items())


def test_the_plan_and_the_offers_are_timed_on_the_buffer() -> None:
    twin = _kept()
    buffer = buffer_now(twin, ["car", "bike"], 12 * 3600)
    assert buffer.confidence == twin.policies.promise_confidence
    assert buffer.travel_factor("car") > 1 and buffer.service > 1


def _kept_van() -> tuple[Twin, Agent]:
    """The tiny scenario's twin under "kept", not run, and one of its vans."""
    data = tiny_dict()
    data["policies"]["promises"] = "kept"
    twin = Twin(Scenario.from_dict(data))
    return twin, next(a for a in twin.agents if a.type_name == "van")


def test_a_late_route_tells_the_customer_before_the_window_opens() -> None:
    # A van at its first stop at 09:00; its next stop, promised 10:00-11:00, is three hours
    # away on the planned times (travel forced far past the window): the watch tells the
    # customer at once, before the window opens, and the stop stays on the trip.
    twin, agent = _kept_van()
    spec = twin.world.orders[0]
    o = OrderState(spec, 0, 0, "home", spec.customer.places["home"], (10 * HOUR_S, 11 * HOUR_S))
    record(o)
    o.status = Status.ASSIGNED
    visits = tuple(Visit(f"s{i}", i, 0, 0, 0, 0, (0,), 0) for i in (1, 2))
    route = Route("1", "van", visits, 8 * HOUR_S, 12 * HOUR_S, (0,), 0, 0, 0.0, 0.0)
    durations = np.array([[0, 600, 600], [600, 0, 3 * HOUR_S], [600, 3 * HOUR_S, 0]])
    trip = Trip(route, (o, o), durations, durations, 0, 8 * HOUR_S)
    watch(twin, agent, trip, 1, 1, 9 * HOUR_S)
    assert [(n.at, n.before_window_start, n.reason) for n in o.notices] == [
        (9 * HOUR_S, True, "late")
    ]
    assert 1 not in trip.dropped and o.status is Status.ASSIGNED  # still driven to, told
    watch(twin, agent, trip, 1, 1, 9 * HOUR_S + 60)
    assert len(o.notices) == 1  # told once


def test_the_watch_leaves_a_route_that_holds_alone() -> None:
    twin, agent = _kept_van()
    spec = twin.world.orders[0]
    o = OrderState(spec, 0, 0, "home", spec.customer.places["home"], (10 * HOUR_S, 11 * HOUR_S))
    record(o)
    visits = (Visit("s1", 1, 0, 0, 0, 0, (0,), 0),)
    route = Route("1", "van", visits, 8 * HOUR_S, 12 * HOUR_S, (0,), 0, 0, 0.0, 0.0)
    durations = np.array([[0, 1_200], [1_200, 0]])
    trip = Trip(route, (o,), durations, durations, 0, 8 * HOUR_S)
    watch(twin, agent, trip, 0, 0, 9 * HOUR_S)
    assert o.notices == [] and trip.dropped == set()


def _two_stop_trip(twin: Twin) -> Trip:
    """A van's trip handed out at 14:00, planned to leave at 15:40 (the solver's latest
    start): its first stop, promised 14:00-16:00, 20 minutes away and planned at 16:00
    sharp; its second, 5 minutes on, opens at 16:30 (the plan waits there)."""
    specs = twin.world.orders[:2]
    windows = ((14 * HOUR_S, 16 * HOUR_S), (16 * HOUR_S + 1_800, 18 * HOUR_S))
    orders = tuple(
        OrderState(s, 0, 0, "home", s.customer.places["home"], w)
        for s, w in zip(specs, windows, strict=True)
    )
    leave = 15 * HOUR_S + 2_400
    visits = (
        Visit("s1", 1, 16 * HOUR_S, 16 * HOUR_S, 16 * HOUR_S + 60, 0, (0,), 0),
        Visit("s2", 2, 16 * HOUR_S + 360, 16 * HOUR_S + 1_800, 16 * HOUR_S + 1_860, 1_440,
              (0,), 0),
    )  # fmt: skip
    route = Route("1", "van", visits, leave, 17 * HOUR_S, (0,), 0, 0, 0.0, 0.0)
    durations = np.array([[0, 1_200, 1_500], [1_200, 0, 300], [1_500, 300, 0]])
    return Trip(route, orders, durations, durations, 0, 14 * HOUR_S)


def test_a_trip_leaves_early_enough_for_a_stop_planned_at_its_windows_end() -> None:
    # The stop whose window is open is planned at its very end; leaving at 15:40 it is
    # late about one time in two. The trip leaves earlier, by what the stop needs to hold at
    # LEAVE_CONFIDENCE, never before it was handed out; the second stop's wait absorbs it.
    twin, agent = _kept_van()
    trip = _two_stop_trip(twin)
    leave = leave_at(twin, agent, trip, 14 * HOUR_S)
    assert 14 * HOUR_S <= leave < 15 * HOUR_S + 2_400
    travel = book(twin).estimate(SpreadKey("travel", agent.vtype.profile))
    # The leg projected as the watch does (its mean and z standard deviations, z at
    # LEAVE_CONFIDENCE) just fits between leaving and the window's end.
    z = NormalDist().inv_cdf(LEAVE_CONFIDENCE)
    projected = 1_200 * (math.exp(travel.mu + travel.sigma**2 / 2) + z * travel.sigma)
    assert 16 * HOUR_S - 2 <= leave + projected <= 16 * HOUR_S
    # Handed out later than that, it leaves at once; handed out after the plan's start, then.
    assert leave_at(twin, agent, trip, leave + 300) == leave + 300
    assert leave_at(twin, agent, trip, 15 * HOUR_S + 2_500) == 15 * HOUR_S + 2_400


def test_a_trip_with_slack_leaves_when_planned() -> None:
    twin, agent = _kept_van()
    trip = _two_stop_trip(twin)
    first = trip.orders[0]
    assert isinstance(first, OrderState)
    first.window = (first.window[0], 17 * HOUR_S)  # room enough
    assert leave_at(twin, agent, trip, 14 * HOUR_S) == 15 * HOUR_S + 2_400


def test_late_notices_under_heavy_travel_noise_are_the_systems() -> None:
    # Travel noise forced high, nobody answers the ETA question: every notice is the
    # system's (late or unplanned), none makes a customer reschedule.
    twin = _kept(**{"noise.travel_sigma": 1.0, "demand.preferences.answers_notice": 0.0})
    notices = [n for o in _promised(twin) for n in o.notices]
    assert notices and {n.reason for n in notices} <= {"late", "unplanned"}
    assert not any(o.rescheduled for o in twin.orders)


def test_a_customer_told_the_eta_who_will_not_be_there_gets_a_new_option() -> None:
    # Half the customers keep to their week, and every one who will not be there says so.
    twin = _kept(**{"noise.presence": 0.5, "demand.preferences.answers_notice": 1.0})
    moved = [o for o in _promised(twin) if o.rescheduled]
    assert len(moved) >= 3
    for o in moved:
        assert o.promise is not None and outcome(o) is Outcome.RESCHEDULED
        # Told when the trip was handed out, before the vehicle came (a trip handed out
        # after the window opened tells the customer inside it).
        away = [n for n in o.notices if n.reason == "away"]
        assert away and away[0].at < o.promise.window[1]
        # Not attempted in the promised window: a new option after it.
        assert o.window != o.promise.window and o.window[0] >= o.promise.window[1]
        assert o.first_attempt_at is None or o.first_attempt_at > o.promise.window[1]
    kpis = replication_kpis(twin)
    assert kpis.promises is not None and kpis.promises.rescheduled == len(moved)


def test_kept_never_sends_a_vehicle_past_a_promise_silently() -> None:
    twin = _kept(**{"noise.travel_sigma": 1.2})
    missed = [o for o in _promised(twin) if outcome(o) not in {Outcome.KEPT, *CUSTOMERS_MISSES}]
    assert missed  # the noise makes the system miss some
    for o in missed:
        # Every promise the system missed was told — before its window when the watch saw it
        # coming, at the door when the last leg overran.
        assert o.notices, (o.spec.index, outcome(o))
    kpis = replication_kpis(twin)
    assert kpis.promises is not None and kpis.promises.announced_before_miss_share > 0


@pytest.mark.parametrize(
    ("next_plan_h", "promises", "handed_out"),
    [(10.5, "kept", True), (10.0, "kept", False), (10.5, "today", False)],
)
def test_a_trip_whose_window_opens_before_the_next_plan_is_handed_out_now(
    next_plan_h: float, promises: str, handed_out: bool
) -> None:
    # Issue #17: a route that could leave after the next plan but carries an order whose
    # window opens before it is handed out now under "kept" — the next plan, free to plan
    # again, could leave the order out once its window has opened, and its customer would
    # hear of the miss too late (half of dense Helsinki's unannounced misses).
    from orchestrator.planning.problem import build_problem
    from simulation.twin.plan_inputs import fleet_input, order_input
    from simulation.twin.planning import _opens_before, _solve

    data = tiny_dict()
    data["policies"]["promises"] = promises
    twin = Twin(Scenario.from_dict(data))
    van = next(a for a in twin.agents if a.type_name == "van")
    spec = twin.world.orders[0]
    o = OrderState(spec, 0, 0, "home", spec.customer.places["home"], (10 * HOUR_S, 12 * HOUR_S))
    record(o)
    mapped = build_problem(
        twin.depots[0],
        [fleet_input(twin, van, 9 * HOUR_S, day=0)],
        [order_input(twin, o, 0, 9 * HOUR_S, 20 * HOUR_S)],
        day=twin.service_date(0),
        travel=twin.world.travel,
    )
    (route,) = _solve(twin, mapped.problem).routes
    order_of = {spec.index + 1: o}
    next_plan = round(next_plan_h * HOUR_S)
    assert _opens_before(route, mapped, order_of, next_plan, promises == "kept") is handed_out
