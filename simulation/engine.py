"""The digital twin: SimPy processes that run the production policies on simulated time.

One replication is one :class:`Twin`: a SimPy environment, the world drawn for it
(:mod:`simulation.world`) and these processes, each a generator that takes ``env`` first:

* :func:`order_arrivals` — orders reach the system over the day; each customer chooses a place
  and a window, through the concierge's options
  (:func:`orchestrator.concierge.options.delivery_options`
  on the day's tentative plan, built and extended by cheap insertion) or home-only slots, and
  eco customers' orders may be deferred (:func:`orchestrator.concierge.consolidation.consolidate`);
* :func:`planner` — planning waves and re-plans: the waiting orders and the idle vehicles of
  each hub become domain rows (in memory), :func:`orchestrator.planning.problem.build_problem` turns
  them into a routing problem and :func:`routing.solve` plans it, repeatably (PyVRP seed by
  iterations, OR-Tools' first solution); only the trips that must leave before the next plan
  are handed out, the rest is planned again then (a rolling horizon);
* :func:`drive` — a vehicle drives its route with noisy legs and service times, waits for
  windows, tries each drop (the customer may be elsewhere) and comes back;
* :func:`charge` — a robot back at its hub queues for a charging dock (a
  :class:`simpy.Resource`) and charges its battery (a :class:`simpy.Container`) until full or
  dispatched; a robot is only planned for trips its charge covers and turns back before a leg
  that its charge could not bring home;
* :func:`courier` — a crowdsourced courier reaches the hub, is offered a bundle near their way
  home, accepts or refuses (logistic in pay and detour), may not show up, rides and drops;
* :func:`day_end` — at midnight what is still waiting moves to the next day or, after the last
  day, ends unserved.

Randomness comes from generators spawned from one :class:`numpy.random.SeedSequence` per
replication, one per concern (world, travel noise, presence, couriers), never the global one:
same scenario and seed ⇒ same events ⇒ same report, byte for byte.

Units: seconds since midnight of the first simulated day (local time at the hubs), metres,
grams, millilitres, EUR, grams CO2.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time as wallclock
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

import numpy as np
import simpy

from orchestrator.concierge.consolidation import Deferrable, consolidate
from orchestrator.concierge.learning import SlotStats
from orchestrator.concierge.options import (
    DayPlan,
    OptionRequest,
    ParcelSize,
    PlaceInfo,
    ServiceLevel,
    delivery_options,
)
from orchestrator.concierge.schedule import resolve
from orchestrator.models import Depot, Fleet, Order, OrderItem, Place, PlaceKind, Store
from orchestrator.models import VehicleType as DomainVehicleType
from orchestrator.planning.problem import OrderInput, PickupInput, build_problem, local_midnight
from returns import Condition
from routing.insertion import Candidate, StraightLineLegs, Timeline
from routing.matrix import haversine_m
from routing.model import Location, Problem, TimeWindow, VehicleKind
from routing.model import VehicleType as EngineVehicleType
from routing.solution import Route, Solution, SolveStatus
from routing.solve import Limits, solve
from simulation.errors import InvariantError
from simulation.pickups import (
    RETURN_FINAL,
    Market,
    ReturnState,
    ReturnStatus,
    ReturnVisit,
    build_market,
)
from simulation.scenario import COURIER_TYPE, DEFAULT_SHIFTS_H, Scenario
from simulation.workload import FLEET_CATALOGUE
from simulation.world import DAY_S, HOUR_S, Courier, OrderSpec, World, build_world, elapsed_s

__all__ = [
    "Agent",
    "CountingEnvironment",
    "OrderState",
    "Status",
    "Twin",
    "charge",
    "courier",
    "day_end",
    "drive",
    "order_arrivals",
    "planner",
]

MINUTE_S = 60
"""Seconds per minute."""
DETOUR_FACTOR = 1.3
"""Straight line to street distance, for the concierge's quick insertion checks."""
_BIG = 1_000_000  # capacity of non-robot vehicles in the "needs a person" dimension
_MIN_SHIFT_LEFT_S = 15 * MINUTE_S  # a vehicle with less shift left is not planned
_COURIER_CANDIDATES = 30  # nearest-by-detour parcels considered for a courier's bundle
_COURIER_WINDOW_AHEAD_S = 90 * MINUTE_S  # a bundle's windows must open within this
_ROUTING_SEED = 0x51D
_RETURNS_STREAM = 0x7E7  # the returns generator's key: the other streams stay as they were
_RETURN_PLACE_ID = 10_000_000  # place ids of pickups, apart from the orders' places
_CONDITIONS = (Condition.A, Condition.B, Condition.C)


class Status(StrEnum):
    """Where an order stands in the simulation."""

    WAITING = "waiting"
    """Arrived, not on any vehicle yet (or back at the hub after a failed attempt)."""
    ASSIGNED = "assigned"
    """On a vehicle's route or a courier's bundle."""
    DELIVERED = "delivered"
    """Handed over, left at the door, or put in the hub's locker (final)."""
    FAILED = "failed"
    """Every attempt failed and there is no locker: back to the sender (final)."""
    UNSERVED = "unserved"
    """Never attempted before the end of the simulation (final)."""


FINAL = frozenset({Status.DELIVERED, Status.FAILED, Status.UNSERVED})


class CountingEnvironment(simpy.Environment):
    """A :class:`simpy.Environment` that counts the events it processes."""

    def __init__(self, initial_time: float = 0) -> None:
        super().__init__(initial_time)
        self.events_processed = 0

    def step(self) -> None:
        """Process the next event, counting it."""
        self.events_processed += 1
        super().step()


@dataclass(slots=True, eq=False)
class OrderState:
    """One order through the simulation: promise, attempts and outcome."""

    spec: OrderSpec
    day: int
    """Service day (index from the first simulated day)."""
    earliest_day: int
    place: str
    location: Location
    window: tuple[int, int]
    """The promised window, seconds since the first day's midnight."""
    status: Status = Status.WAITING
    attempts: int = 0
    first_attempt_ok: bool | None = None
    delivered_at: int | None = None
    delivered_by: str | None = None
    """Vehicle type (or ``"courier"``) that delivered it; ``"locker"`` for the hub locker."""
    on_time: bool = False
    lateness_s: int = 0
    first_type: str | None = None
    """Vehicle type of the first attempt."""
    unserved_reason: str | None = None
    redelivery: bool = False
    db_order: Order | None = None
    db_item: OrderItem | None = None
    db_place: Place | None = None


@dataclass(slots=True, eq=False)
class Agent:
    """A hub vehicle and what it did."""

    index: int
    hub: int
    type_name: str
    vtype: EngineVehicleType
    shift: tuple[int, int]
    """Shift start and end, seconds since local midnight of each day."""
    busy: bool = False
    battery: simpy.Container | None = None
    charging: simpy.Process | None = None
    km_m: int = 0
    active_s: int = 0
    """Seconds out of the hub (on the move, waiting for windows, at doors)."""
    moving_s: float = 0.0
    """Seconds on the move between stops (a robot's remote supervision is paid for these)."""
    trips: int = 0
    attempts: int = 0
    days_used: set[int] = field(default_factory=set)
    min_battery_m: float = math.inf
    turned_back: int = 0
    held_s: int = 0
    """Seconds at the hub between being handed a trip and leaving on it."""
    charge_since: float | None = None
    """When the robot started charging on a dock (``None`` when not charging)."""
    back_s: dict[int, int] = field(default_factory=dict)
    """Per day used: when the vehicle last came back to the hub, seconds since that day's
    local midnight (a driver is paid until then when it is past the shift's end)."""


@dataclass(slots=True)
class CourierLog:
    """What the courier pool did over a replication."""

    arrived: int = 0
    offered: int = 0
    accepted: int = 0
    no_shows: int = 0
    pay_eur: float = 0.0
    km_m: int = 0
    attempts: int = 0
    max_parcels: int = 0
    max_grams: int = 0
    max_ml: int = 0


@dataclass(frozen=True, slots=True)
class Trip:
    """A planned route handed to a vehicle: the route, its orders and its travel matrix."""

    route: Route
    orders: tuple[OrderState | ReturnVisit, ...]
    distances: np.ndarray
    durations: np.ndarray
    day: int
    planned_at: int = 0
    """When the trip was handed out, seconds since the first day's midnight."""


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
        self.returns: list[ReturnState] = []
        self.returns_beyond_horizon = 0
        self.returns_no_room = 0
        self.max_load_share = 0.0
        if spec.enabled:
            self.market = build_market(
                spec, self.world.stores, self.world.hubs, scenario.start_date, self.returns_rng
            )
            n = len(self.world.orders)
            weights = np.array(spec.delay_weights, dtype=np.float64)
            mix = np.array([spec.conditions.A, spec.conditions.B, spec.conditions.C])
            # Drawn per order up front, so a return does not depend on the order of events.
            self._return_u = self.returns_rng.random(n)
            self._return_delay = 1 + self.returns_rng.choice(
                len(weights), size=n, p=weights / weights.sum()
            )
            self._return_condition = self.returns_rng.choice(3, size=n, p=mix / mix.sum())
            self._return_sku = self.returns_rng.choice(
                len(self.market.catalogue), size=n, p=self.market.popularity
            )
        self.policies = scenario.policies
        self.courier_log = CourierLog()
        self.plan_seconds = 0.0
        self.run_seconds = 0.0
        self.plans = 0
        self.option_seconds = 0.0
        self._legs = StraightLineLegs(
            {name: p.speed_kmh for name, p in self.world.profiles.items()},
            detour_factor=DETOUR_FACTOR,
        )
        self._types = _vehicle_types(scenario)
        self._domain_types: dict[str, DomainVehicleType] = {}
        self.depots = tuple(
            Depot(
                id=i + 1,
                code=f"SIM-{h.name}"[:40],
                name=h.name,
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
                        vtype=self._types[name],
                        shift=(round(start_h * HOUR_S), round(end_h * HOUR_S)),
                    )
                    if agent.vtype.kind is VehicleKind.ROBOT:
                        full = float(agent.vtype.range_m or 0)
                        agent.battery = simpy.Container(self.env, capacity=full, init=full)
                        agent.min_battery_m = full
                    self.agents.append(agent)
        self.orders: list[OrderState] = []
        self._by_hub: list[list[OrderState]] = [[] for _ in scenario.fleet.hubs]
        self._tentative: dict[tuple[int, int], Timeline] = {}
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
        :func:`orchestrator.planning.problem.build_problem` does); they equal the wall clock except
        on a
        daylight-saving change: on 2026-03-29 in Helsinki 07:30 is 6.5 h after midnight, on
        2026-10-25 8.5 h. A wall time the change skips counts from the earlier offset.
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

    # -- customers' choices ----------------------------------------------------------------------

    def receive(self, spec: OrderSpec, now: int) -> OrderState:
        """A new order: its service day (deferred for eco customers under consolidation), its
        place and window; it then waits for a plan."""
        day, earliest_day = self._first_day(now)
        if spec.advance_days:
            day = earliest_day = int(now // DAY_S) + spec.advance_days
        state = OrderState(spec, day, earliest_day, "home", spec.customer.places["home"], (0, 0))
        if self.policies.consolidation and spec.customer.eco and not self.policies.concierge:
            # With the concierge, its eco options choose the day (see _concierge).
            state.day = self._consolidated_day(state)
        self._choose(state, now)
        self.orders.append(state)
        self._by_hub[spec.hub].append(state)
        return state

    def _first_day(self, now: int) -> tuple[int, int]:
        """The day an order placed at ``now`` can first be served (a slot must still start)."""
        day = int(now // DAY_S)
        earliest = now + self.scenario.demand.lead_time_min * MINUTE_S
        last_start = day * DAY_S + self.clock_s(day, (self.policies.closing_h - 2) * HOUR_S)
        if earliest > last_start:
            day += 1
        return day, day

    def _consolidated_day(self, state: OrderState) -> int:
        """The day :func:`~orchestrator.concierge.consolidation.consolidate` picks for an eco order,
        among the days it accepts to wait that are still simulated."""
        prefs = self.scenario.demand.preferences
        wait = min(prefs.eco_max_wait_days, self.scenario.days - 1 - state.earliest_day)
        if wait <= 0:
            return state.earliest_day
        loc = state.spec.customer.places["home"]
        known = [
            o
            for o in self._by_hub[state.spec.hub]
            if o.status is Status.WAITING
            and state.earliest_day <= o.day <= state.earliest_day + wait
        ]
        anchors: list[Deferrable] = []
        if known:
            lat = np.array([o.location.lat for o in known])
            lon = np.array([o.location.lon for o in known])
            near = haversine_m(lat, lon, loc.lat, loc.lon) <= self.policies.consolidation_radius_m
            anchors = [
                Deferrable(str(o.spec.index), o.location.lat, o.location.lon,
                           self.service_date(o.day))
                for o, ok in zip(known, near, strict=True)
                if ok
            ]  # fmt: skip
        mine = Deferrable(
            "new", loc.lat, loc.lon, self.service_date(state.earliest_day), max_wait_days=wait
        )
        placed = consolidate([*anchors, mine], radius_m=self.policies.consolidation_radius_m)[-1]
        return state.earliest_day + placed.waited_days

    def _choose(self, state: OrderState, now: int) -> None:
        """Place and window of an order (or of its next attempt), concierge or home-only."""
        if self.policies.concierge:
            t0 = wallclock.perf_counter()
            chosen = self._concierge(state, now)
            self.option_seconds += wallclock.perf_counter() - t0
            if chosen:
                return
        self._home_slot(state, now)

    def _slots(self, day: int, now: int, spec: OrderSpec) -> list[tuple[int, int]]:
        """Two-hour windows of ``day`` starting on whole hours, at least the lead time ahead,
        within opening hours and the shifts of the hub's vehicles that may carry the order
        (no one sells a slot nobody can drive: a robot's evening shift does not open evening
        slots for a bulky parcel or a customer who refuses robots)."""
        earliest = now + self.scenario.demand.lead_time_min * MINUTE_S
        first = math.ceil(self.policies.opening_h)
        robot_ok = spec.customer.accepts_robot and self._robot_fits(spec.demand)
        shift_end = max(
            (
                a.shift[1]  # wall clock, like the hours compared with it below
                for a in self.agents
                if a.hub == spec.hub and (a.battery is None or robot_ok)
            ),
            default=DAY_S,
        )
        last = min(math.floor(self.policies.closing_h), shift_end // HOUR_S) - 2
        base = day * DAY_S
        slots = [
            (base + self.clock_s(day, h * HOUR_S), base + self.clock_s(day, (h + 2) * HOUR_S))
            for h in range(first, last + 1)
        ]
        return [s for s in slots if s[0] >= earliest]

    def _home_slot(self, state: OrderState, now: int) -> None:
        """Home-only: a two-hour slot at home; an aware customer picks one when they are home."""
        slots = self._slots(state.day, now, state.spec)
        for _ in range(7):
            if slots:
                break
            state.day += 1
            slots = self._slots(state.day, now, state.spec)
        if not slots:  # no vehicle at the hub ever: any time from the opening
            base = state.day * DAY_S
            slots = [
                (
                    base + self.clock_s(state.day, self.policies.opening_h * HOUR_S),
                    base + self.clock_s(state.day, self.policies.closing_h * HOUR_S),
                )
            ]
        customer = state.spec.customer
        at_home = [
            s
            for s in slots
            if resolve(customer.schedule, self.instant((s[0] + s[1]) // 2)) == "home"
        ]
        rng = self.presence_rng
        aware = rng.random() < self.scenario.demand.preferences.slot_awareness
        if aware and at_home:
            pick = at_home[int(rng.integers(len(at_home)))]
        else:
            # People at work want evenings: later slots are more popular.
            evening = state.day * DAY_S + self.clock_s(state.day, 16 * HOUR_S)
            weights = np.array([1.0 + (s[0] >= evening) for s in slots])
            pick = slots[int(rng.choice(len(slots), p=weights / weights.sum()))]
        state.place, state.location, state.window = "home", customer.places["home"], pick

    def _concierge(self, state: OrderState, now: int) -> bool:
        """The concierge's best option on the order's day, inserted into the tentative plan."""
        spec = state.spec
        customer = spec.customer
        wait = self._eco_wait(state)
        robot_ok = self._robot_fits(spec.demand)
        request = OptionRequest(
            schedule=customer.schedule,
            places={
                name: PlaceInfo(name, loc.lat, loc.lon, kind=_place_kind(name).value)
                for name, loc in customer.places.items()
            },
            stats=SlotStats(),
            parcel=ParcelSize(spec.demand, robot_ok=robot_ok, service_s=_service_s(spec.demand)),
            accepts_robot=customer.accepts_robot,
            accepts_courier=customer.accepts_courier,
            eco_max_wait_days=wait,
            prefers_eco=customer.eco,
            now=self.instant(now),
        )
        kinds = {name: vt.kind for name, vt in self._types.items()}
        plans = {
            self.service_date(d): DayPlan(
                day=self.service_date(d),
                timeline=self._tentative_plan(spec.hub, d),
                epoch=self.midnight(d),
                vehicle_kinds=kinds,
                opening=_clock(self.policies.opening_h),
                closing=_clock(self.policies.closing_h),
            )
            for d in range(state.day, state.day + wait + 1)
        }
        options = delivery_options(request, list(plans.values()), self._legs, k=3 + 7 * bool(wait))
        if not options:
            return False
        # A customer who accepts to wait for a greener grouped drop takes the eco option (the
        # day the concierge found most neighbours on, a wide window) when there is one.
        eco = [o for o in options if o.level is ServiceLevel.ECO]
        best = eco[0] if eco else options[0]
        plan = plans[best.day]
        state.day += (best.day - plans[min(plans)].day).days
        timeline = plan.timeline
        start, end = plan.seconds(best.window_start), plan.seconds(best.window_end)
        base = state.day * DAY_S
        state.place = best.place
        state.location = customer.places[best.place]
        state.window = (base + start, base + end)
        candidate = Candidate(
            state.location.lat,
            state.location.lon,
            (TimeWindow(start, end),),
            service=_service_s(spec.demand),
            demand=spec.demand,
        )
        insertion = timeline.best_insertions(candidate, self._legs)[0]
        if insertion.feasible:
            self._tentative[(spec.hub, state.day)] = timeline.insert(
                candidate, insertion, f"o{spec.index}-{state.attempts}", self._legs
            )
        return True

    def _eco_wait(self, state: OrderState) -> int:
        """Days an eco customer's new order may wait for a grouped drop under consolidation
        (0 for everyone else, for another attempt, or on the last simulated day)."""
        customer = state.spec.customer
        if not (self.policies.consolidation and customer.eco) or state.redelivery:
            return 0
        prefs = self.scenario.demand.preferences
        return max(0, min(prefs.eco_max_wait_days, self.scenario.days - 1 - state.day))

    def _tentative_plan(self, hub: int, day: int) -> Timeline:
        """The concierge's tentative plan of a hub's day: every vehicle, one trip each."""
        key = (hub, day)
        if key not in self._tentative:
            agents = [a for a in self.agents if a.hub == hub]
            fleets = [self._fleet(a, self.shift(a, day)[0], full=True, day=day) for a in agents]
            mapped = build_problem(
                self.depots[hub], fleets, [], day=self.service_date(day), travel=self.world.travel
            )
            empty = Solution((), (), SolveStatus.NO_STOPS, 0, 0.0)
            self._tentative[key] = Timeline.from_solution(mapped.problem, empty)
        return self._tentative[key]

    def _robot_fits(self, demand: tuple[int, int, int]) -> bool:
        robot = self._types.get("robot")
        return robot is not None and all(
            d <= c for d, c in zip(demand, robot.capacity, strict=True)
        )

    # -- planning --------------------------------------------------------------------------------

    def plan(self, hub: int, now: int, *, commit_before: int | None = None) -> int:
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
        horizon = now + round(self.policies.lookahead_h * HOUR_S)
        waiting = [
            o
            for o in self._by_hub[hub]
            if o.status is Status.WAITING and o.day == day and o.window[0] <= horizon
        ]
        pickups = [
            r
            for r in self.returns
            if r.hub == hub
            and r.status is ReturnStatus.WAITING
            and r.day == day
            and r.window[0] <= horizon
            and r.window[1] > now + _MIN_SHIFT_LEFT_S
        ]
        if not waiting and not pickups:
            return 0
        agents = [a for a in self.agents if a.hub == hub and self._plannable(a, day, t)]
        if not agents:
            return 0
        t0 = wallclock.perf_counter()
        fleets = [self._fleet(a, max(t, self.shift(a, day)[0]), day=day) for a in agents]
        closing = self.clock_s(day, self.policies.closing_h * HOUR_S)
        inputs = [self._order_input(o, day, t, closing) for o in waiting]
        mapped = build_problem(
            self.depots[hub],
            fleets,
            inputs,
            day=self.service_date(day),
            travel=self.world.travel,
            pickups=[self._pickup_input(r, day, t) for r in pickups],
        )
        order_of = {o.db_order.id: o for o in waiting if o.db_order is not None}
        refusing = {
            sid
            for sid, oid in mapped.order_of_stop.items()
            if not (order_of[oid].spec.customer.accepts_robot)
        }
        # A robot cannot take a parcel back from a customer: pickups need a person.
        refusing |= set(mapped.return_of_stop)
        return_of = {r.index + 1: r for r in pickups}
        problem = _with_robot_consent(mapped.problem, refusing)
        limits = Limits(
            time_limit=self.policies.solver_time_limit_s,
            solution_limit=1,
            seed_with="auto",
            seed_iterations=self.policies.solver_iterations,
        )
        solution = solve(problem, limits, seed=_ROUTING_SEED)
        self.plan_seconds += wallclock.perf_counter() - t0
        self.plans += 1
        agent_of = {f"{a.index + 1}": a for a in agents}
        planned = 0
        for route in solution.routes:
            if commit_before is not None and day * DAY_S + route.start_time >= commit_before:
                continue  # it can leave after the next plan: planned again then
            agent = agent_of[str(mapped.fleet_of_vehicle[route.vehicle_id])]
            matrix = problem.matrices[agent.vtype.profile]
            trip_orders = tuple(
                order_of[mapped.order_of_stop[v.stop_id]]
                if v.stop_id in mapped.order_of_stop
                else ReturnVisit(
                    return_of[mapped.return_of_stop[v.stop_id]], v.stop_id in mapped.store_of_stop
                )
                for v in route.visits
            )
            deliveries = 0  # of this route: whether its pickups ride on a delivery tour
            for o in trip_orders:
                if isinstance(o, OrderState):
                    o.status = Status.ASSIGNED
                    deliveries += 1
                elif not o.drop:
                    o.ret.status = ReturnStatus.ASSIGNED
            planned += deliveries
            if len(trip_orders) > deliveries:
                self._charge_pickups(route, trip_orders, matrix.distances, agent, deliveries > 0)
            agent.busy = True
            self.env.process(
                drive(
                    self.env,
                    self,
                    agent,
                    Trip(route, trip_orders, matrix.distances, matrix.durations, day, now),
                )
            )
        return planned

    def _charge_pickups(
        self,
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

    def _plannable(self, agent: Agent, day: int, t: int) -> bool:
        """Idle, with shift left, and — for a robot — charged enough under the dispatch rule."""
        if agent.busy or t > self.shift(agent, day)[1] - _MIN_SHIFT_LEFT_S:
            return False
        if agent.battery is None:
            return True
        full = agent.battery.capacity
        level = self.battery_level(agent)
        if self.policies.robot_dispatch == "full_charge":
            return level >= full
        return level >= self.policies.robot_min_charge * full and level > 0

    def battery_level(self, agent: Agent) -> float:
        """A robot's charge now, metres of range, counting the charging under way."""
        assert agent.battery is not None
        return min(agent.battery.capacity, agent.battery.level + _charged_so_far(self, agent))

    def _fleet(
        self, agent: Agent, start_s: int, *, day: int, full: bool = False
    ) -> tuple[Fleet, Any]:
        """The agent as a one-vehicle fleet (id = agent index + 1) of its current type, on
        its shift of ``day``."""
        vt = agent.vtype
        name, fixed, range_m = vt.name, vt.fixed_cost, vt.range_m
        if not full and int(self.env.now // DAY_S) in agent.days_used:
            name, fixed = f"{name}+", 0.0  # the day's fixed cost is already paid
        if agent.battery is not None and not full:
            range_m = max(1, int(self.battery_level(agent)))
            name = f"{name}@{range_m}"
        domain = self._domain_types.get(name)
        if domain is None:
            domain = DomainVehicleType(
                id=len(self._domain_types) + 1,
                name=name,
                kind=vt.kind,
                profile=vt.profile,
                capacity_weight_g=vt.capacity[0],
                capacity_volume_ml=vt.capacity[1],
                capacity_parcels=vt.capacity[2],
                range_m=range_m,
                max_shift_s=vt.max_shift,
                fixed_cost=fixed,
                cost_per_km=vt.cost_per_km,
                # A robot's hour stays priced for every hour out of the hub, though supervision
                # is paid on the move only: a robot waiting at a door is not delivering
                # elsewhere (priced per km, plans kept robots waiting for hours).
                cost_per_hour=vt.cost_per_hour,
                co2_g_per_km=vt.co2_g_per_km,
                skills=[],
            )
            self._domain_types[name] = domain
        fleet = Fleet(
            id=agent.index + 1,
            depot_id=agent.hub + 1,
            vehicle_type_id=domain.id,
            count=1,
            shift_start_s=min(start_s, self.shift(agent, day)[1] - 1),
            shift_end_s=self.shift(agent, day)[1],
            open_route=False,
        )
        return fleet, domain

    def _order_input(self, o: OrderState, day: int, t: int, closing: int) -> OrderInput:
        """The order as domain rows; a window already out of reach becomes "as soon as
        possible" (the delivery will be late)."""
        if o.db_order is None:
            oid = o.spec.index + 1
            o.db_order = Order(
                id=oid,
                customer_id=o.spec.customer.index + 1,
                depot_id=o.spec.hub + 1,
                service_day=self.service_date(day),
                idempotency_key=f"sim-{oid}",
                content_hash="",
            )
            weight, volume, parcels = o.spec.demand
            o.db_item = OrderItem(
                order_id=oid, weight_g=weight, volume_ml=volume, parcels=parcels, quantity=1
            )
        place = o.db_place
        if place is None or place.name != o.place:
            place = Place(
                id=o.spec.index * 4 + list(o.spec.customer.places).index(o.place) + 1,
                customer_id=o.spec.customer.index + 1,
                kind=_place_kind(o.place),
                name=o.place,
                lat=o.location.lat,
                lon=o.location.lon,
            )
            o.db_place = place
        base = day * DAY_S
        start, end = o.window[0] - base, o.window[1] - base
        if end <= t + _MIN_SHIFT_LEFT_S:
            start, end = t, max(closing, t + HOUR_S)
        midnight = self.midnight(day)
        order = o.db_order
        order.service_day = self.service_date(day)
        order.place_id = place.id
        order.window_start = midnight + timedelta(seconds=max(start, t))
        order.window_end = midnight + timedelta(seconds=max(end, t + 1))
        assert o.db_item is not None
        return OrderInput(order, [o.db_item], place)

    # -- outcomes --------------------------------------------------------------------------------

    def attempt(self, o: OrderState, by: str, now: float) -> bool:
        """Try to hand over (or leave) the parcel; record the attempt; whether it worked."""
        o.attempts += 1
        if o.first_type is None:
            o.first_type = by
        customer = o.spec.customer
        robot = by == "robot"
        if customer.unattended and o.place == "home" and not robot:
            ok = True  # left at the door
        else:
            followed = self.presence_rng.random() < self.scenario.noise.presence
            ok = followed and resolve(customer.schedule, self.instant(now)) == o.place
        if o.first_attempt_ok is None:
            o.first_attempt_ok = ok
        if ok:
            o.status = Status.DELIVERED
            o.delivered_at = int(now)
            o.delivered_by = by
            o.on_time = not o.redelivery and o.window[0] <= now <= o.window[1]
            o.lateness_s = max(0, int(now) - o.window[1])
            if self.market is not None:
                self._maybe_return(o, int(now))
        return ok

    # -- returns ---------------------------------------------------------------------------------

    def _maybe_return(self, o: OrderState, now: int) -> None:
        """A delivered parcel may come back: the customer asks some days later for a pickup
        at home, and the returns engine decides where the item goes."""
        k = o.spec.index
        spec = self.scenario.returns
        if self._return_u[k] >= spec.share:
            return
        day = now // DAY_S + int(self._return_delay[k])
        if day >= self.scenario.days:
            self.returns_beyond_horizon += 1  # asked for after the simulated days
            return
        assert self.market is not None
        customer = o.spec.customer
        home = customer.places["home"]
        condition = _CONDITIONS[int(self._return_condition[k])]
        decision = self.market.decide(int(self._return_sku[k]), condition, home, o.spec.hub)
        chosen = decision.chosen
        store: int | None = None
        if chosen.destination.kind.value == "store":
            index = int(chosen.destination.id.removeprefix("store-")) - 1
            # A store served from another hub: the item goes to this hub and on from there.
            store = index if self.market.store_hub[index] == o.spec.hub else None
        ret = ReturnState(
            index=len(self.returns),
            order=k,
            hub=o.spec.hub,
            customer=customer,
            location=Location(f"pickup-{len(self.returns)}", home.lat, home.lon),
            demand=o.spec.demand,
            day=day,
            window=(0, 0),
            destination=chosen.destination.id,
            destination_kind=chosen.destination.kind.value,
            store=store,
            resale_probability=chosen.estimate.probability,
            expected_net_eur=chosen.expected_net,
        )
        ret.window = self._pickup_window(ret)
        self.returns.append(ret)

    def _pickup_window(self, ret: ReturnState) -> tuple[int, int]:
        """A two-hour window on the pickup day when the customer's week has them at home
        (any window of the opening hours when it never does)."""
        first = math.ceil(self.policies.opening_h)
        last = math.floor(self.policies.closing_h) - 2
        base, day = ret.day * DAY_S, ret.day
        slots = [
            (base + self.clock_s(day, h * HOUR_S), base + self.clock_s(day, (h + 2) * HOUR_S))
            for h in range(first, last + 1)
        ]
        if not slots:
            return (
                base + self.clock_s(day, self.policies.opening_h * HOUR_S),
                base + self.clock_s(day, self.policies.closing_h * HOUR_S),
            )
        schedule = ret.customer.schedule  # type: ignore[attr-defined]
        home = [s for s in slots if resolve(schedule, self.instant((s[0] + s[1]) // 2)) == "home"]
        pool = home or slots
        return pool[int(self.returns_rng.integers(len(pool)))]

    def _pickup_input(self, ret: ReturnState, day: int, t: int) -> PickupInput:
        """The return as the production mapping takes it: a place, one unit of the line, the
        window and — when its store is served from this hub — the store."""
        weight, volume, parcels = ret.demand
        place = Place(
            id=_RETURN_PLACE_ID + ret.index,
            customer_id=ret.order + 1,
            kind=PlaceKind.HOME,
            name="home",
            lat=ret.location.lat,
            lon=ret.location.lon,
        )
        item = OrderItem(
            order_id=ret.order + 1, weight_g=weight, volume_ml=volume, parcels=parcels, quantity=1
        )
        store = None
        if ret.store is not None:
            site = self.world.stores[ret.store]
            store = Store(
                id=ret.store + 1,
                code=site.id,
                name=f"Store {ret.store + 1}",
                lat=site.lat,
                lon=site.lon,
                depot_id=ret.hub + 1,
            )
        midnight = self.midnight(day)
        base = day * DAY_S
        start, end = ret.window[0] - base, ret.window[1] - base
        return PickupInput(
            return_id=ret.index + 1,
            place=place,
            item=item,
            window_start=midnight + timedelta(seconds=max(start, t)),
            window_end=midnight + timedelta(seconds=max(end, t + 1)),
            store=store,
        )

    def pickup(self, ret: ReturnState, agent: Agent, load: list[int], now: float) -> bool:
        """Try to collect a return: the customer must be at home and the item must fit on
        board next to what the vehicle still carries; whether it was picked up."""
        ret.attempts += 1
        rng = self.returns_rng
        present = rng.random() < self.scenario.noise.presence and (
            resolve(ret.customer.schedule, self.instant(now)) == "home"  # type: ignore[attr-defined]
        )
        fits = all(
            a + b <= c for a, b, c in zip(load, ret.demand, agent.vtype.capacity, strict=True)
        )
        if present and fits:
            ret.status = ReturnStatus.ON_BOARD
            ret.picked_by = agent.index
            ret.picked_at = int(now)
            for i in range(3):
                load[i] += ret.demand[i]
            return True
        if not fits:
            # Parcels whose drop failed are still on board: the pickup waits for a re-plan.
            self.returns_no_room += 1
            ret.attempts -= 1
            ret.status = ReturnStatus.WAITING
            return False
        self._retry_return(ret, "customer_absent")
        return False

    def _retry_return(self, ret: ReturnState, reason: str) -> None:
        """A pickup that did not happen: another window the next day, or unserved."""
        ret.status = ReturnStatus.WAITING
        if ret.attempts >= self.scenario.returns.max_attempts:
            ret.status, ret.unserved_reason = ReturnStatus.UNSERVED, reason
            return
        if ret.day + 1 >= self.scenario.days:
            ret.status, ret.unserved_reason = ReturnStatus.UNSERVED, "after_last_day"
            return
        ret.day += 1
        ret.window = self._pickup_window(ret)

    def collected(self, ret: ReturnState, agent: Agent, now: float, *, to: str) -> None:
        """A return dropped at its store or brought back to the hub."""
        ret.status = ReturnStatus.COLLECTED
        ret.dropped_by = agent.index
        ret.collected_at = int(now)
        ret.collected_to = to

    def back_at_hub(self, o: OrderState, now: float) -> None:
        """A parcel whose drop failed is back at the hub: locker, another attempt, or the
        sender."""
        policies = self.policies
        if policies.failed_attempt == "locker" or o.attempts >= policies.max_attempts:
            if policies.failed_attempt == "locker":
                o.status = Status.DELIVERED
                o.delivered_at = int(now)
                o.delivered_by = "locker"
                o.lateness_s = max(0, int(now) - o.window[1])
            else:
                o.status = Status.FAILED
            return
        o.status = Status.WAITING
        o.redelivery = True
        day, _ = self._first_day(int(now))
        o.day = max(o.day, day)
        self._choose(o, int(now))

    def release_return(self, ret: ReturnState) -> None:
        """A pickup the vehicle did not make waits for another plan."""
        if ret.status is ReturnStatus.ASSIGNED:
            ret.status = ReturnStatus.WAITING

    def release(self, orders: Iterable[OrderState]) -> None:
        """Orders a courier never came for wait again."""
        for o in orders:
            if o.status is Status.ASSIGNED:
                o.status = Status.WAITING

    def roll_over(self, day: int) -> None:
        """At the end of ``day``: waiting orders move to the next day with a new window, or
        end unserved after the last day."""
        last = day + 1 >= self.scenario.days
        for o in self.orders:
            if o.status is not Status.WAITING or o.day > day:
                continue
            if last:
                o.status = Status.UNSERVED
                o.unserved_reason = "not_planned_in_time"
            else:
                o.day = day + 1
                o.redelivery = True
                self._choose(o, (day + 1) * DAY_S)
        if last:
            for o in self.orders:
                if o.status is Status.WAITING:
                    o.status = Status.UNSERVED
                    o.unserved_reason = "after_last_day"
        for r in self.returns:
            if r.status is not ReturnStatus.WAITING or r.day > day:
                continue
            if last:
                r.status, r.unserved_reason = ReturnStatus.UNSERVED, "not_planned_in_time"
            else:  # the customer is offered a window the next day
                r.day = day + 1
                r.window = self._pickup_window(r)

    # -- couriers --------------------------------------------------------------------------------

    def courier_bundle(self, c: Courier, now: int) -> list[OrderState]:
        """The parcels offered to a courier: cheapest detours on their way home, within their
        capacity and the detour limit (straight lines × 1.3; the ride is on the streets)."""
        pool = self.scenario.fleet.couriers
        day = int(now // DAY_S)
        hub = self.world.hubs[c.hub]
        caps = (round(pool.capacity_kg * 1_000), round(pool.capacity_l * 1_000))
        eligible = [
            o
            for o in self._by_hub[c.hub]
            if o.status is Status.WAITING
            and o.day == day
            and o.spec.customer.accepts_courier
            and o.spec.demand[0] <= caps[0]
            and o.spec.demand[1] <= caps[1]
            and o.spec.demand[2] <= pool.capacity_parcels
            and o.window[1] > now + _MIN_SHIFT_LEFT_S
            and o.window[0] < now + _COURIER_WINDOW_AHEAD_S
        ]
        if not eligible:
            return []
        lat = np.array([o.location.lat for o in eligible])
        lon = np.array([o.location.lon for o in eligible])
        direct = float(haversine_m(hub.lat, hub.lon, c.home.lat, c.home.lon))
        detour = (
            haversine_m(hub.lat, hub.lon, lat, lon)
            + haversine_m(lat, lon, c.home.lat, c.home.lon)
            - direct
        ) * DETOUR_FACTOR
        order = np.argsort(detour, kind="stable")[:_COURIER_CANDIDATES]
        path = [hub, c.home]
        chosen: list[OrderState] = []
        load = [0, 0, 0]
        length = direct * DETOUR_FACTOR
        limit = direct * DETOUR_FACTOR + pool.max_detour_km * 1_000
        for i in order.tolist():
            o = eligible[i]
            new_load = [a + b for a, b in zip(load, o.spec.demand, strict=True)]
            if new_load[0] > caps[0] or new_load[1] > caps[1]:
                continue
            if new_load[2] > pool.capacity_parcels:
                break
            best, where = math.inf, 0
            for k in range(1, len(path)):
                a, b = path[k - 1], path[k]
                added = (
                    haversine_m(a.lat, a.lon, o.location.lat, o.location.lon)
                    + haversine_m(o.location.lat, o.location.lon, b.lat, b.lon)
                    - haversine_m(a.lat, a.lon, b.lat, b.lon)
                ) * DETOUR_FACTOR
                if added < best:
                    best, where = float(added), k
            if length + best > limit:
                continue
            path.insert(where, o.location)
            chosen.insert(where - 1, o)
            length += best
            load = new_load
        return chosen


def _charged_so_far(twin: Twin, agent: Agent) -> float:
    """Metres of range a robot has gained on the dock since it last settled its battery."""
    since = agent.charge_since
    if since is None or agent.battery is None:
        return 0.0
    rate = agent.battery.capacity / (twin.scenario.fleet.robots.recharge_h * HOUR_S)
    return (twin.env.now - since) * rate


# -- processes -------------------------------------------------------------------------------------


def order_arrivals(
    env: simpy.Environment, twin: Twin, orders: Sequence[OrderSpec]
) -> Generator[simpy.Event, Any, None]:
    """Release the orders at their arrival times (sorted)."""
    for spec in orders:
        if spec.arrival > env.now:
            yield env.timeout(spec.arrival - env.now)
        twin.receive(spec, int(env.now))


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
            twin.plan(hub, int(env.now), commit_before=until)


def drive(
    env: simpy.Environment, twin: Twin, agent: Agent, trip: Trip
) -> Generator[simpy.Event, Any, None]:
    """A vehicle drives its route: noisy legs, waits for windows, drops, and back to the hub.

    A robot settles its charge when it leaves and turns back before any leg after which its
    charge could not bring it home.
    """
    route = trip.route
    base = trip.day * DAY_S
    rng = twin.noise_rng
    noise = twin.scenario.noise
    if base + route.start_time > env.now:
        yield env.timeout(base + route.start_time - env.now)
    if agent.charging is not None and agent.charging.is_alive:
        agent.charging.interrupt("dispatched")
        yield env.timeout(0)  # let the dock settle the charge first
    depart = env.now
    agent.held_s += max(0, int(depart) - trip.planned_at)
    agent.trips += 1
    agent.days_used.add(trip.day)
    dist, dur = trip.distances, trip.durations
    here = 0
    carried: list[OrderState] = []
    # What is on board (grams, millilitres, parcels): the parcels to drop, then returns.
    load = [sum(o.spec.demand[i] for o in trip.orders if isinstance(o, OrderState))
            for i in range(3)]  # fmt: skip
    on_board: list[ReturnState] = []
    _check_load(twin, agent, load)
    for k, (visit, o) in enumerate(zip(route.visits, trip.orders, strict=True)):
        if isinstance(o, ReturnVisit):
            if o.drop and o.ret not in on_board:
                continue  # its pickup did not happen: nothing to bring to the store
            if not o.drop and agent.battery is not None:
                twin.release_return(o.ret)
                continue
        if agent.battery is not None:
            need = int(dist[here, visit.location]) + int(dist[visit.location, 0])
            if agent.battery.level < need:
                # Not enough charge to get there and home: back to the hub with the rest.
                agent.turned_back += 1
                carried.extend(x for x in trip.orders[k:] if isinstance(x, OrderState))
                break
        yield from _leg(env, agent, float(dur[here, visit.location]), rng, noise.travel_sigma)
        yield from _move(agent, int(dist[here, visit.location]))
        if isinstance(o, ReturnVisit):
            yield from _return_stop(env, twin, agent, o, load, on_board)
            here = visit.location
            continue
        if env.now < o.window[0]:
            yield env.timeout(o.window[0] - env.now)  # early: wait for the window to open
        agent.attempts += 1
        if not twin.attempt(o, agent.type_name, env.now):
            carried.append(o)
        else:
            for i in range(3):
                load[i] -= o.spec.demand[i]
        yield env.timeout(_service_s(o.spec.demand) * _lognormal(rng, noise.service_sigma))
        here = visit.location
    if here != 0:
        yield from _leg(env, agent, float(dur[here, 0]), rng, noise.travel_sigma)
        yield from _move(agent, int(dist[here, 0]))
    agent.active_s += int(env.now - depart)
    agent.back_s[trip.day] = max(agent.back_s.get(trip.day, 0), int(env.now) - base)
    for o in carried:
        twin.back_at_hub(o, env.now)
    for ret in on_board:  # bound for the hub (or a store it could not reach)
        twin.collected(ret, agent, env.now, to="hub")
    for o in trip.orders:  # pickups never reached (a robot turned back)
        if isinstance(o, ReturnVisit) and o.ret.status is ReturnStatus.ASSIGNED:
            twin.release_return(o.ret)
    agent.busy = False
    if agent.battery is not None:
        agent.charging = env.process(charge(env, twin, agent))


def _return_stop(
    env: simpy.Environment,
    twin: Twin,
    agent: Agent,
    visit: ReturnVisit,
    load: list[int],
    on_board: list[ReturnState],
) -> Generator[simpy.Event, Any, None]:
    """A return's stop: its pickup at the customer's (in its window) or its drop at the store."""
    ret = visit.ret
    noise = twin.scenario.noise
    if visit.drop:
        on_board.remove(ret)
        for i in range(3):
            load[i] -= ret.demand[i]
        twin.collected(ret, agent, env.now, to="store")
        service = _service_s((0, 0, 0))
    else:
        if env.now < ret.window[0]:
            yield env.timeout(ret.window[0] - env.now)
        if twin.pickup(ret, agent, load, env.now):
            _check_load(twin, agent, load)
            on_board.append(ret)  # to its store later on the route, or to the hub
        service = _service_s(ret.demand)
    yield env.timeout(service * _lognormal(twin.noise_rng, noise.service_sigma))


def _check_load(twin: Twin, agent: Agent, load: Sequence[int]) -> None:
    """What is on board fits the vehicle, in every dimension."""
    cap = agent.vtype.capacity
    if any(a > c for a, c in zip(load, cap, strict=True)):
        raise InvariantError(f"vehicle {agent.index} carries {list(load)} beyond {list(cap)}")
    if twin.market is not None:
        share = max(a / c for a, c in zip(load, cap, strict=True) if c > 0)
        twin.max_load_share = max(twin.max_load_share, share)


def _leg(
    env: simpy.Environment, agent: Agent, planned_s: float, rng: np.random.Generator, sigma: float
) -> Generator[simpy.Event, Any, None]:
    """Travel one leg: the planned seconds with noise, counted as time on the move."""
    took = planned_s * _lognormal(rng, sigma)
    yield env.timeout(took)
    agent.moving_s += took


def _move(agent: Agent, metres: int) -> Generator[simpy.Event, Any, None]:
    """Count the distance; a robot's battery pays for it (never below zero)."""
    agent.km_m += metres
    if agent.battery is not None and metres > 0:
        if agent.battery.level < metres:
            raise InvariantError(
                f"robot {agent.index} would drive {metres} m on {agent.battery.level:.0f} m of "
                "charge"
            )
        yield agent.battery.get(metres)
        agent.min_battery_m = min(agent.min_battery_m, agent.battery.level)


def charge(env: simpy.Environment, twin: Twin, agent: Agent) -> Generator[simpy.Event, Any, None]:
    """A robot at its hub queues for a dock and charges until full or dispatched."""
    battery = agent.battery
    assert battery is not None
    rate = battery.capacity / (twin.scenario.fleet.robots.recharge_h * HOUR_S)
    dock = twin.chargers[agent.hub]
    with dock.request() as slot:
        try:
            yield slot
            agent.charge_since = env.now
            missing = battery.capacity - battery.level
            if missing > 0:
                yield env.timeout(missing / rate)
        except simpy.Interrupt:
            pass
        gained = _charged_so_far(twin, agent)
        agent.charge_since = None
        gained = min(gained, battery.capacity - battery.level)
        if gained > 0:
            yield battery.put(gained)


def courier(env: simpy.Environment, twin: Twin, c: Courier) -> Generator[simpy.Event, Any, None]:
    """A crowdsourced courier: reaches the hub, is offered a bundle, accepts or not, rides."""
    pool = twin.scenario.fleet.couriers
    log = twin.courier_log
    rng = twin.courier_rng
    if c.arrival > env.now:
        yield env.timeout(c.arrival - env.now)
    log.arrived += 1
    bundle = twin.courier_bundle(c, int(env.now))
    if not bundle:
        return
    log.offered += 1
    hub = twin.world.hubs[c.hub]
    points = [hub, *(o.location for o in bundle), c.home]
    matrix = twin.world.travel.matrix(points, "bike")
    route_m = sum(int(matrix.distances[k, k + 1]) for k in range(len(points) - 1))
    detour_m = max(0, route_m - int(matrix.distances[0, len(points) - 1]))
    pay = pool.pay_base_eur + pool.pay_per_parcel_eur * len(bundle)
    pay += pool.pay_per_km_eur * detour_m / 1_000
    logit = (
        pool.acceptance_intercept
        + pool.acceptance_per_eur * pay
        - pool.acceptance_per_km * detour_m / 1_000
    )
    if rng.random() >= 1.0 / (1.0 + math.exp(-logit)):
        return
    log.accepted += 1
    for o in bundle:
        o.status = Status.ASSIGNED
    load = [sum(o.spec.demand[i] for o in bundle) for i in range(3)]
    if (
        load[2] > pool.capacity_parcels
        or load[0] > pool.capacity_kg * 1_000
        or load[1] > pool.capacity_l * 1_000
    ):
        raise InvariantError(f"courier {c.index} offered {load} beyond capacity")
    log.max_parcels = max(log.max_parcels, load[2])
    log.max_grams = max(log.max_grams, load[0])
    log.max_ml = max(log.max_ml, load[1])
    if rng.random() < pool.no_show:
        log.no_shows += 1
        yield env.timeout(pool.no_show_timeout_min * MINUTE_S)
        twin.release(bundle)
        return
    log.pay_eur += pay
    log.km_m += detour_m
    sigma = twin.scenario.noise
    failed: list[OrderState] = []
    for k, o in enumerate(bundle, start=1):
        yield env.timeout(
            float(matrix.durations[k - 1, k]) * _lognormal(twin.noise_rng, sigma.travel_sigma)
        )
        if env.now < o.window[0]:
            yield env.timeout(o.window[0] - env.now)
        log.attempts += 1
        if not twin.attempt(o, COURIER_TYPE, env.now):
            failed.append(o)
        service = _service_s(o.spec.demand) * _lognormal(twin.noise_rng, sigma.service_sigma)
        yield env.timeout(service)
    # A parcel the courier could not drop goes back to the hub with them the next morning.
    for o in failed:
        twin.back_at_hub(o, env.now)


def day_end(env: simpy.Environment, twin: Twin, day: int) -> Generator[simpy.Event, Any, None]:
    """Just before midnight: roll waiting orders over, or end them unserved on the last day."""
    at = (day + 1) * DAY_S - 1
    if at > env.now:
        yield env.timeout(at - env.now)
    twin.roll_over(day)


# -- helpers ---------------------------------------------------------------------------------------


def _lognormal(rng: np.random.Generator, sigma: float) -> float:
    """A multiplicative noise factor with median 1 (1 exactly when ``sigma`` is 0)."""
    return float(rng.lognormal(0.0, sigma)) if sigma > 0 else 1.0


def _service_s(demand: tuple[int, int, int]) -> int:
    """Planned seconds at a stop, as :mod:`orchestrator.planning.problem` plans it (no
    signature)."""
    from orchestrator.planning.problem import SERVICE_BASE_S, SERVICE_PER_PARCEL_S

    return SERVICE_BASE_S + SERVICE_PER_PARCEL_S * demand[2]


def _clock(hours: float) -> time:
    minutes = round(hours * 60)
    if minutes >= 24 * 60:
        return time(23, 59)
    return time(minutes // 60, minutes % 60)


def _place_kind(name: str) -> PlaceKind:
    return {"home": PlaceKind.HOME, "office": PlaceKind.OFFICE, "café": PlaceKind.CAFE}.get(
        name, PlaceKind.OTHER
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


def _with_robot_consent(problem: Problem, refusing: set[str]) -> Problem:
    """Keep robots away from customers who refuse them: a "needs a person" capacity
    dimension (1 per refusing stop; robots carry 0 of it, everyone else plenty), which every
    solver — PyVRP's seed included — understands."""
    if not refusing or not any(t.kind is VehicleKind.ROBOT for t in problem.vehicle_types):
        return problem
    dims = len(problem.dimensions)
    stops = tuple(
        dataclasses.replace(s, demand=(*_padded(s.demand, dims), 1 if s.id in refusing else 0))
        for s in problem.stops
    )
    types = tuple(
        dataclasses.replace(
            t, capacity=(*_padded(t.capacity, dims), 0 if t.kind is VehicleKind.ROBOT else _BIG)
        )
        for t in problem.vehicle_types
    )
    return dataclasses.replace(
        problem, stops=stops, vehicle_types=types, dimensions=(*problem.dimensions, "person")
    )


def _padded(values: Sequence[int], n: int) -> tuple[int, ...]:
    return tuple(values[:n]) + (0,) * max(0, n - len(values))
