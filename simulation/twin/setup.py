"""Building one replication: the twin of a scenario, its world, fleets and random streams.

:class:`Twin` holds everything a replication's processes read and change: the scenario and
its policies, the world drawn for it (:func:`simulation.world.build_world`), the returns
market, the hubs as production depots, the vehicles (:class:`~simulation.twin.vehicles.Agent`)
with their shifts and batteries, the hubs' charging docks, the orders and returns so far and
the counters that :mod:`simulation.kpis` reads when the run is over. :meth:`Twin.run` starts
the processes and checks at the end that no order was lost.

Randomness comes from generators spawned from one :class:`numpy.random.SeedSequence` per
replication, one per concern (world, travel noise, presence, couriers, returns), never the
global one: same scenario and seed ⇒ same events ⇒ same report, byte for byte.

Units: seconds since midnight of the first simulated day (local time at the hubs).
"""

from __future__ import annotations

import dataclasses
import time as wallclock
from datetime import date, datetime, timedelta

import numpy as np
import simpy

from orchestrator.planning.inputs import DepotInput
from orchestrator.planning.problem import local_midnight
from orchestrator.planning.spread import SpreadBook, SpreadKey
from routing.insertion import StraightLineLegs, Timeline
from routing.matrix import URBAN_DETOUR_FACTOR
from routing.model import VehicleKind
from routing.model import VehicleType as EngineVehicleType
from simulation.errors import InvariantError
from simulation.pickups import RETURN_FINAL, Market, ReturnState, ReturnStatus, build_market
from simulation.scenario import COURIER_TYPE, DEFAULT_SHIFTS_H, Scenario
from simulation.twin.arrivals import order_arrivals
from simulation.twin.charging import battery_level
from simulation.twin.couriers import CourierLog, courier
from simulation.twin.orders import FINAL, OrderState, Status
from simulation.twin.outcomes import day_end
from simulation.twin.planning import VanPlan, plan, planner
from simulation.twin.returns import ReturnDraws, draw_returns
from simulation.twin.vehicles import Agent
from simulation.workload import FLEET_CATALOGUE
from simulation.world import DAY_S, HOUR_S, World, build_world, elapsed_s

__all__ = ["CountingEnvironment", "Twin"]

_RETURNS_STREAM = 0x7E7  # the returns generator's key: the other streams stay as they were
_ANSWERS_STREAM = 0xA45  # customers answering a notice ("kept"): the other streams unchanged


class CountingEnvironment(simpy.Environment):
    """A :class:`simpy.Environment` that counts the events it processes."""

    def __init__(self, initial_time: float = 0) -> None:
        super().__init__(initial_time)
        self.events_processed = 0

    def step(self) -> None:
        """Process the next event, counting it."""
        self.events_processed += 1
        super().step()


class Twin:
    """One replication of a scenario, ready to run.

    Parameters
    ----------
    scenario
        The scenario.
    replication
        Index of the replication; with ``seed`` it picks the random streams.
    seed
        Seed of the run (the scenario's own when ``None``).

    Attributes
    ----------
    env
        The SimPy environment; its clock counts seconds since the first day's midnight.
    world
        Hubs, customers, orders, couriers and travel times drawn for the replication.
    agents
        The hub vehicles, in hub order then by type name.
    orders
        Every order arrived so far (:class:`~simulation.twin.orders.OrderState`); ``by_hub``
        holds the same per hub.
    returns
        Every return asked for so far (only when the scenario simulates returns).
    tentative
        The concierge's tentative plan per (hub, day).
    van_plans
        The last plan of each hub, what its orders cost on the vans
        (:class:`~simulation.twin.planning.VanPlan`).
    plans, plan_seconds, option_seconds, run_seconds
        Planning runs, and wall-clock seconds spent planning, computing options and running.
    """

    def __init__(self, scenario: Scenario, replication: int = 0, *, seed: int | None = None):
        self.scenario = scenario
        self.replication = replication
        self.seed = scenario.seed if seed is None else seed
        streams = np.random.SeedSequence((self.seed, replication)).spawn(4)
        world_rng, self.noise_rng, self.presence_rng, self.courier_rng = (
            np.random.default_rng(s) for s in streams
        )
        self.env = CountingEnvironment()
        spec = scenario.returns
        self.returns_rng = np.random.default_rng(
            np.random.SeedSequence((self.seed, replication, _RETURNS_STREAM))
        )
        self.world: World = build_world(
            scenario, world_rng, returns_rng=self.returns_rng if spec.enabled else None
        )
        self.market: Market | None = None
        self.return_draws: ReturnDraws | None = None
        self.returns: list[ReturnState] = []
        self.returns_beyond_horizon = 0
        self.returns_no_room = 0
        self.max_load_share = 0.0
        if spec.enabled:
            self.market = build_market(
                spec, self.world.stores, self.world.hubs, scenario.start_date, self.returns_rng
            )
            self.return_draws = draw_returns(
                spec, len(self.world.orders), self.market, self.returns_rng
            )
        self.policies = scenario.policies
        self.answers_rng = np.random.default_rng(
            np.random.SeedSequence((self.seed, replication, _ANSWERS_STREAM))
        )
        self.spread = SpreadBook()
        """The spread of actual over planned times learned from this replication's own legs and
        stops (``policies.promises = "kept"``), from the defaults at the start."""
        self.spread_seen: list[tuple[SpreadKey, float]] = []
        """Outcomes not yet in :attr:`spread` (folded in before the next plan or offer)."""
        self.courier_log = CourierLog()
        self.plan_seconds = 0.0
        self.run_seconds = 0.0
        self.plans = 0
        self.option_seconds = 0.0
        self.legs = StraightLineLegs(
            {name: p.speed_kmh for name, p in self.world.profiles.items()},
            detour_factor=URBAN_DETOUR_FACTOR,
        )
        self.vehicle_types = _vehicle_types(scenario)
        self.depots = tuple(
            DepotInput(
                id=i + 1,
                code=f"SIM-{h.name}"[:40],
                lat=site.lat,
                lon=site.lon,
                timezone=scenario.timezone,
            )
            for i, (h, site) in enumerate(zip(scenario.fleet.hubs, self.world.hubs, strict=True))
        )
        self.chargers = tuple(
            simpy.Resource(self.env, capacity=max(1, h.chargers)) for h in scenario.fleet.hubs
        )
        self.agents: list[Agent] = []
        for hi, hub in enumerate(scenario.fleet.hubs):
            for name in sorted(hub.vehicles):  # sorted: the file's key order must not matter
                given = scenario.fleet.shifts.get(name)
                shifts = (given,) if given is not None else DEFAULT_SHIFTS_H[name]
                for i in range(hub.vehicles[name]):
                    start_h, end_h = shifts[i % len(shifts)]
                    agent = Agent(
                        index=len(self.agents),
                        hub=hi,
                        type_name=name,
                        vtype=self.vehicle_types[name],
                        shift=(round(start_h * HOUR_S), round(end_h * HOUR_S)),
                    )
                    if agent.vtype.kind is VehicleKind.ROBOT:
                        full = float(agent.vtype.range_m or 0)
                        agent.battery = simpy.Container(self.env, capacity=full, init=full)
                        agent.min_battery_m = full
                    self.agents.append(agent)
        self.orders: list[OrderState] = []
        self.by_hub: list[list[OrderState]] = [[] for _ in scenario.fleet.hubs]
        self.tentative: dict[tuple[int, int], Timeline] = {}
        self.van_plans: dict[int, VanPlan] = {}
        """The current plan of each hub (by index) as the couriers' payout rule reads it."""
        self._midnights: dict[int, datetime] = {}
        self._clock: dict[tuple[int, int], int] = {}

    # -- time ------------------------------------------------------------------------------------

    def service_date(self, day: int) -> date:
        """The calendar date of simulated day ``day``."""
        return self.scenario.start_date + timedelta(days=day)

    def midnight(self, day: int) -> datetime:
        """The UTC instant of local midnight at the hubs on day ``day``."""
        if day not in self._midnights:
            self._midnights[day] = local_midnight(self.depots[0], self.service_date(day))
        return self._midnights[day]

    def clock_s(self, day: int, wall_s: float) -> int:
        """Seconds since local midnight of day ``day`` at the local wall-clock time ``wall_s``
        (seconds on a 24-hour clock face: ``7.5 * 3600`` is 07:30).

        The simulated clock counts seconds elapsed since each day's local midnight (as
        :func:`orchestrator.planning.problem.build_problem` does); they equal the wall clock
        except on a daylight-saving change: on 2026-03-29 in Helsinki 07:30 is 6.5 h after
        midnight, on 2026-10-25 8.5 h. A wall time the change skips counts from the earlier
        offset.
        """
        key = (day, round(wall_s))
        if key not in self._clock:
            self._clock[key] = elapsed_s(self.service_date(day), self.scenario.timezone, wall_s)
        return self._clock[key]

    def shift(self, agent: Agent, day: int) -> tuple[int, int]:
        """An agent's shift on ``day``, seconds since that day's local midnight."""
        return self.clock_s(day, agent.shift[0]), self.clock_s(day, agent.shift[1])

    def instant(self, t: float) -> datetime:
        """Simulated second ``t`` as an aware UTC instant."""
        day = int(t // DAY_S)
        return self.midnight(day) + timedelta(seconds=float(t - day * DAY_S))

    # -- running ---------------------------------------------------------------------------------

    def run(self) -> None:
        """Start every process and run the simulation to the end of the last day."""
        env = self.env
        env.process(order_arrivals(env, self, self.world.orders))
        for c in self.world.couriers:
            env.process(courier(env, self, c))
        for day in range(self.scenario.days):
            env.process(planner(env, self, day))
            env.process(day_end(env, self, day))
        t0 = wallclock.perf_counter()
        env.run(until=self.scenario.days * DAY_S)
        self.run_seconds = wallclock.perf_counter() - t0
        for o in self.orders:
            if o.status is Status.ASSIGNED:  # still on board when the simulation stops
                o.status = Status.UNSERVED
                o.unserved_reason = "on_board_at_end"
        for r in self.returns:
            if r.status not in RETURN_FINAL:
                r.unserved_reason = (
                    "on_board_at_end" if r.status is ReturnStatus.ON_BOARD else "after_last_day"
                )
                r.status = ReturnStatus.UNSERVED
        self.check_conservation()

    def check_conservation(self) -> None:
        """Every order drawn ended delivered, failed or unserved — none lost, none twice.

        Raises
        ------
        InvariantError
            If an order is missing or not in a final state.
        """
        seen = sorted(o.spec.index for o in self.orders)
        if seen != list(range(len(self.world.orders))):
            raise InvariantError(
                f"{len(self.world.orders)} orders drawn but {len(seen)} tracked (or some twice)"
            )
        open_ = [o.spec.index for o in self.orders if o.status not in FINAL]
        if open_:
            raise InvariantError(f"orders {open_[:10]} ended the run {self.orders[0].status}")
        if sorted(r.index for r in self.returns) != list(range(len(self.returns))):
            raise InvariantError(f"{len(self.returns)} returns asked but some tracked twice")
        for r in self.returns:
            if r.status not in RETURN_FINAL:
                raise InvariantError(f"return {r.index} ended the run {r.status}")
            if r.status is ReturnStatus.UNSERVED and not r.unserved_reason:
                raise InvariantError(f"return {r.index} ended unserved without a reason")
            if r.status is ReturnStatus.COLLECTED and r.picked_by is None:
                raise InvariantError(f"return {r.index} collected but never picked up")

    # -- planning and charging, as methods for callers outside the processes ---------------------

    def plan(self, hub: int, now: int, *, commit_before: int | None = None) -> int:
        """Plan the hub's waiting orders on its idle vehicles now (seconds since the first
        day's midnight); see :func:`simulation.twin.planning.plan`. Orders put on routes."""
        return plan(self, hub, now, commit_before=commit_before)

    def battery_level(self, agent: Agent) -> float:
        """A robot's charge now, metres of range, counting the charging under way."""
        return battery_level(self, agent)

    # -- the fleet -------------------------------------------------------------------------------

    def _robot_fits(self, demand: tuple[int, int, int]) -> bool:
        """Whether a parcel of ``demand`` (grams, millilitres, parcels) fits the scenario's
        robot (``False`` without robots)."""
        robot = self.vehicle_types.get("robot")
        return robot is not None and all(
            d <= c for d, c in zip(demand, robot.capacity, strict=True)
        )


def _vehicle_types(scenario: Scenario) -> dict[str, EngineVehicleType]:
    """The catalogue's types with the scenario's robots and cost factors."""
    out: dict[str, EngineVehicleType] = {}
    robots = scenario.fleet.robots
    for vt in FLEET_CATALOGUE:
        if vt.name == COURIER_TYPE:
            continue
        if vt.kind is VehicleKind.ROBOT:
            vt = dataclasses.replace(
                vt,
                capacity=(
                    round(robots.payload_kg * 1_000),
                    round(robots.volume_l * 1_000),
                    robots.parcels,
                ),
                range_m=round(robots.battery_range_km * 1_000),
                fixed_cost=robots.lease_eur_per_day,
                cost_per_hour=robots.supervision_eur_per_h,
            )
        else:
            # The catalogue counts litres; the store and every plan count millilitres.
            vt = dataclasses.replace(vt, capacity=(vt.capacity[0], vt.capacity[1] * 1_000,
                                                   vt.capacity[2]))  # fmt: skip
        f = scenario.costs.get(vt.name)
        if f is not None:
            vt = dataclasses.replace(
                vt,
                fixed_cost=vt.fixed_cost if f.fixed_eur is None else f.fixed_eur,
                cost_per_km=vt.cost_per_km if f.per_km_eur is None else f.per_km_eur,
                cost_per_hour=vt.cost_per_hour if f.per_hour_eur is None else f.per_hour_eur,
                co2_g_per_km=vt.co2_g_per_km if f.co2_g_per_km is None else f.co2_g_per_km,
            )
        out[vt.name] = vt
    return out
