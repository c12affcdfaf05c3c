"""Planning waves and re-plans: the production planner on the twin's waiting orders.

At each planning tick (the scenario's waves, and every ``replan_interval_min`` between them
until closing) the waiting orders and returns of each hub and its idle vehicles become
production planner's input (:mod:`simulation.twin.plan_inputs`),
:func:`orchestrator.planning.problem.build_problem` turns them into a routing problem and
:func:`routing.solve` plans it, repeatably (PyVRP seeded by iterations, OR-Tools' first
solution). Only the trips that must leave before the next tick are handed out; the rest is
planned again then (a rolling horizon). Each plan stays the hub's current plan until the next
(:class:`VanPlan`): what each order costs on the vans, the price a courier competes with
(:mod:`simulation.twin.couriers`).

Units: seconds since midnight of the first simulated day (local time at the hubs), metres.
"""

from __future__ import annotations

import itertools
import time as wallclock
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from orchestrator.commuting.payout import route_share
from orchestrator.planning.problem import MappedProblem, build_problem
from orchestrator.planning.spread import Buffer
from routing.model import Problem
from routing.solution import Route, Solution
from routing.solve import Limits, solve
from simulation.pickups import ReturnStatus, ReturnVisit
from simulation.twin.charging import battery_level
from simulation.twin.orders import OrderState, Status
from simulation.twin.plan_inputs import MIN_SHIFT_LEFT_S, fleet_input, order_input, pickup_input
from simulation.twin.promises import notify
from simulation.twin.vehicles import Agent, Trip, drive
from simulation.twin.watch import ask, buffer_now, keeping
from simulation.world import DAY_S, HOUR_S, MINUTE_S

if TYPE_CHECKING:
    from simulation.twin.setup import Twin

__all__ = ["VanPlan", "move", "plan", "planner", "van_plan"]

_ROUTING_SEED = 0x51D  # the solver's seed: the same problem gets the same plan


@dataclass(frozen=True, slots=True)
class VanPlan:
    """A hub's current plan as the payout rule reads it (:mod:`orchestrator.commuting.payout`).

    ``day``: the simulated day it plans; ``share_of``: order id (index + 1) → its route's
    share, the route's cost over the orders on it, EUR; ``average_eur``: the plan's cost per
    order served (``None`` when it serves none).
    """

    day: int
    share_of: Mapping[int, float]
    average_eur: float | None


def van_plan(mapped: MappedProblem, solution: Solution, day: int) -> VanPlan:
    """What each order of ``solution`` costs on the vans (:class:`VanPlan`), as production's
    :func:`orchestrator.commuting.trips.van_costs` reads a stored plan: every route of the
    plan, handed out or not, its cost with the fixed cost the plan counted."""
    share_of: dict[int, float] = {}
    served = 0
    for route in solution.routes:
        ids = [mapped.order_of_stop[v.stop_id] for v in route.visits
               if v.stop_id in mapped.order_of_stop]  # fmt: skip
        served += len(ids)
        share_of.update((order_id, route_share(route.cost, len(ids))) for order_id in ids)
    average = route_share(solution.cost, served) if served else None
    return VanPlan(day, share_of, average)


def planner(env: simpy.Environment, twin: Twin, day: int) -> Generator[simpy.Event, Any, None]:
    """The day's planning waves and the re-plans between them, for every hub; each plan hands
    out the trips that leave before the next one."""
    policies = twin.policies
    base = day * DAY_S
    ticks = {twin.clock_s(day, h * HOUR_S) for h in policies.waves_h}
    if policies.replan_interval_min > 0:
        step = policies.replan_interval_min * MINUTE_S
        t = min(ticks)
        end = twin.clock_s(day, policies.closing_h * HOUR_S)
        while t < end:
            ticks.add(t)
            t += step
    order = sorted(ticks)
    for tick, after in itertools.zip_longest(order, order[1:]):
        if base + tick > env.now:
            yield env.timeout(base + tick - env.now)
        until = None if after is None else base + after
        for hub in range(len(twin.depots)):
            plan(twin, hub, int(env.now), commit_before=until)


def plan(twin: Twin, hub: int, now: int, *, commit_before: int | None = None) -> int:
    """Plan the hub's waiting orders on its idle vehicles; start the trips that must leave
    before the next plan.

    The plan looks ``lookahead_h`` ahead, but a trip that would leave at or after
    ``commit_before`` (the next planning tick) is not handed out: its orders wait and the
    next plan, knowing more orders and vehicles back at the hub, plans them again. A
    vehicle is not tied up at the hub for hours by a trip it could start later (a rolling
    horizon: only the part of the plan that must start now is carried out).

    Parameters
    ----------
    hub
        Index of the hub.
    now
        Seconds since the first day's midnight.
    commit_before
        Seconds since the first day's midnight: trips leaving at or after it stay
        unplanned (``None``: every trip is handed out, as after the day's last plan).

    Returns
    -------
    int
        Orders put on routes.
    """
    day = int(now // DAY_S)
    t = now - day * DAY_S
    if keeping(twin):
        # Time has passed since the concierge's timeline of today was built: rebuilt at the
        # next offer from the hub's state now (:func:`simulation.twin.customers.tentative_today`).
        twin.tentative.pop((hub, day), None)
    horizon = now + round(twin.policies.lookahead_h * HOUR_S)
    waiting = [
        o
        for o in twin.by_hub[hub]
        if o.status is Status.WAITING and o.day == day and o.window[0] <= horizon
    ]
    pickups = [
        r
        for r in twin.returns
        if r.hub == hub
        and r.status is ReturnStatus.WAITING
        and r.day == day
        and r.window[0] <= horizon
        and r.window[1] > now + MIN_SHIFT_LEFT_S
    ]
    if not waiting and not pickups:
        return 0
    agents = [a for a in twin.agents if a.hub == hub and _plannable(twin, a, day, t)]
    if not agents:
        return 0
    t0 = wallclock.perf_counter()
    fleets = [fleet_input(twin, a, max(t, twin.shift(a, day)[0]), day=day) for a in agents]
    closing = twin.clock_s(day, twin.policies.closing_h * HOUR_S)
    inputs = [order_input(twin, o, day, t, closing) for o in waiting]
    buffer = _buffer(twin, agents, now)
    mapped = build_problem(
        twin.depots[hub],
        fleets,
        inputs,
        day=twin.service_date(day),
        travel=twin.world.travel,
        pickups=[pickup_input(twin, r, day, t) for r in pickups],
        buffer=buffer,
    )
    # Customers who refuse robots, and return pickups (a robot cannot take a parcel back),
    # are kept away from robots by build_problem itself, as in production.
    order_of = {o.spec.index + 1: o for o in waiting}
    return_of = {r.index + 1: r for r in pickups}
    solution = _solve(twin, mapped.problem)
    if buffer is not None:
        nxt = day * DAY_S + closing if commit_before is None else commit_before
        if _urgent(_left_out(mapped, solution, waiting), nxt):
            # No vehicle keeps these at the confidence and the next plan is too late for
            # them: planned on the expected times rather than not at all (the route watch
            # tells their customers when the projection misses the window).
            mapped = build_problem(
                twin.depots[hub],
                fleets,
                inputs,
                day=twin.service_date(day),
                travel=twin.world.travel,
                pickups=[pickup_input(twin, r, day, t) for r in pickups],
            )
            solution = _solve(twin, mapped.problem)
        for o in _left_out(mapped, solution, waiting):
            if o.window[0] <= nxt + _REACH_S and not o.notices:
                # No vehicle keeps it now and its window opens before the next plan could
                # put it on a route: told now (while the window has not opened), it stays
                # waiting and is planned as soon as possible.
                notify(o, now, "unplanned")
    twin.plan_seconds += wallclock.perf_counter() - t0
    twin.plans += 1
    twin.van_plans[hub] = van_plan(mapped, solution, day)
    agent_of = {f"{a.index + 1}": a for a in agents}
    planned = 0
    for route in solution.routes:
        if (
            commit_before is not None
            and day * DAY_S + route.start_time >= commit_before
            and not _opens_before(route, mapped, order_of, commit_before, keeping(twin))
        ):
            continue  # it can leave after the next plan: planned again then
        agent = agent_of[str(mapped.fleet_of_vehicle[route.vehicle_id])]
        trip_orders = tuple(
            order_of[mapped.order_of_stop[v.stop_id]]
            if v.stop_id in mapped.order_of_stop
            else ReturnVisit(
                return_of[mapped.return_of_stop[v.stop_id]], v.stop_id in mapped.store_of_stop
            )
            for v in route.visits
        )
        planned += _dispatch(twin, agent, route, trip_orders, mapped.problem, day, now)
    return planned


def _opens_before(
    route: Route,
    mapped: MappedProblem,
    order_of: Mapping[int, OrderState],
    next_plan: int,
    kept: bool,
) -> bool:
    """Under ``policies.promises = "kept"``: whether a route that could leave after the next
    plan carries an order whose window opens before it — handed out now all the same (the
    vehicle waits at the hub), because the next plan, free to plan again, could leave that
    order out when its window has already opened, and its customer would hear of the miss
    too late to act (issue #17: half of dense Helsinki's unannounced misses)."""
    if not kept:
        return False
    return any(
        order_of[mapped.order_of_stop[v.stop_id]].window[0] < next_plan
        for v in route.visits
        if v.stop_id in mapped.order_of_stop
    )


_REACH_S = 30 * MINUTE_S
"""Seconds: an order left out of a plan whose window ends within this of the next plan is
taken to be out of the next plan's reach."""


def _left_out(
    mapped: MappedProblem, solution: Solution, waiting: Sequence[OrderState]
) -> list[OrderState]:
    """The waiting orders no route of ``solution`` serves."""
    routed = {mapped.order_of_stop.get(v.stop_id) for r in solution.routes for v in r.visits}
    return [o for o in waiting if o.spec.index + 1 not in routed]


def _urgent(left: Sequence[OrderState], next_plan: int) -> list[OrderState]:
    """Of orders a plan left out, those the next plan (at ``next_plan``) could not reach in
    their window either."""
    return [o for o in left if o.window[1] <= next_plan + _REACH_S]


def move(twin: Twin, hub: int, o: OrderState, now: int) -> bool:
    """Hand a stop that its trip would reach too late to an idle vehicle of the hub at once,
    if one keeps its window and place (``policies.promises = "kept"``; a small re-plan of that
    one order, its window hard). Whether it was moved."""
    day = int(now // DAY_S)
    t = now - day * DAY_S
    base = day * DAY_S
    if o.day != day or o.window[1] - base <= t + MIN_SHIFT_LEFT_S:
        return False
    agents = [a for a in twin.agents if a.hub == hub and _plannable(twin, a, day, t)]
    if not agents:
        return False
    t0 = wallclock.perf_counter()
    fleets = [fleet_input(twin, a, max(t, twin.shift(a, day)[0]), day=day) for a in agents]
    closing = twin.clock_s(day, twin.policies.closing_h * HOUR_S)
    mapped = build_problem(
        twin.depots[hub],
        fleets,
        [order_input(twin, o, day, t, closing)],
        day=twin.service_date(day),
        travel=twin.world.travel,
        buffer=_buffer(twin, agents, now),
    )
    solution = _solve(twin, mapped.problem)
    twin.plan_seconds += wallclock.perf_counter() - t0
    twin.plans += 1
    agent_of = {f"{a.index + 1}": a for a in agents}
    for route in solution.routes:
        if route.visits and base + route.visits[0].start <= o.window[1]:
            agent = agent_of[str(mapped.fleet_of_vehicle[route.vehicle_id])]
            return _dispatch(twin, agent, route, (o,), mapped.problem, day, now) == 1
    return False


def _buffer(twin: Twin, agents: Sequence[Agent], now: int) -> Buffer | None:
    """Under ``policies.promises = "kept"`` the buffer of the twin's learned spread at the
    promise confidence for the agents' profiles at the hour of ``now`` (``None`` today)."""
    if not keeping(twin):
        return None
    return buffer_now(twin, [a.vtype.profile for a in agents], now)


def _solve(twin: Twin, problem: Problem) -> Solution:
    """Solve ``problem`` repeatably (PyVRP seeded by iterations, OR-Tools' first solution)."""
    limits = Limits(
        time_limit=twin.policies.solver_time_limit_s,
        solution_limit=1,
        seed_with="auto",
        seed_iterations=twin.policies.solver_iterations,
    )
    return solve(problem, limits, seed=_ROUTING_SEED)


def _dispatch(
    twin: Twin,
    agent: Agent,
    route: Route,
    trip_orders: tuple[OrderState | ReturnVisit, ...],
    problem: Problem,
    day: int,
    now: int,
) -> int:
    """Hand ``route`` to ``agent`` (under ``"kept"``, after asking its customers whether they
    will be there); the orders it carries."""
    matrix = problem.matrices[agent.vtype.profile]
    if keeping(twin):
        # The plan was timed on the buffer; the vehicle drives the travel provider's times.
        matrix = twin.world.travel.matrix(problem.locations, agent.vtype.profile)
    dropped = ask(twin, agent, route, trip_orders, now) if keeping(twin) else set()
    deliveries = 0  # of this route: whether its pickups ride on a delivery tour
    for k, o in enumerate(trip_orders):
        if isinstance(o, OrderState):
            if k not in dropped:
                o.status = Status.ASSIGNED
                deliveries += 1
        elif not o.drop:
            o.ret.status = ReturnStatus.ASSIGNED
    if len(trip_orders) > deliveries + len(dropped):
        _charge_pickups(route, trip_orders, matrix.distances, agent, deliveries > 0)
    agent.busy = True
    agent.back_at = day * DAY_S + route.end_time
    if keeping(twin):
        # The concierge's timeline of today no longer holds: this vehicle is out until then.
        twin.tentative.pop((agent.hub, day), None)
    trip = Trip(route, trip_orders, matrix.distances, matrix.durations, day, now,
                locations=problem.locations, dropped=dropped)  # fmt: skip
    twin.env.process(drive(twin.env, twin, agent, trip))
    return deliveries


def _charge_pickups(
    route: Route,
    visits: Sequence[OrderState | ReturnVisit],
    distances: np.ndarray,
    agent: Agent,
    on_tour: bool,
) -> None:
    """Share out among a route's pickups the planned metres (and grams CO2) they add: the
    route against the same route with their stops left out."""

    def metres(locations: list[int]) -> int:
        path = [0, *locations, 0]
        return sum(int(distances[a, b]) for a, b in itertools.pairwise(path))

    every = [v.location for v in route.visits]
    pairs = zip(route.visits, visits, strict=True)
    only = [v.location for v, o in pairs if isinstance(o, OrderState)]
    added = max(0, metres(every) - metres(only))
    mine = [o.ret for o in visits if isinstance(o, ReturnVisit) and not o.drop]
    for ret in mine:
        ret.added_m += added / len(mine)
        ret.added_co2_g += added / len(mine) / 1_000 * agent.vtype.co2_g_per_km
        ret.on_tour = on_tour


def _plannable(twin: Twin, agent: Agent, day: int, t: int) -> bool:
    """Idle, with shift left, and — for a robot — charged enough under the dispatch rule."""
    if agent.busy or t > twin.shift(agent, day)[1] - MIN_SHIFT_LEFT_S:
        return False
    if agent.battery is None:
        return True
    full = agent.battery.capacity
    level = battery_level(twin, agent)
    if twin.policies.robot_dispatch == "full_charge":
        return level >= full
    return level >= twin.policies.robot_min_charge * full and level > 0
