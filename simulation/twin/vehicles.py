"""Hub vehicles on the road: a vehicle drives its planned trip, serves its stops and comes back.

Legs take the planned seconds times a log-normal noise factor; a vehicle early at a stop
waits for its window; each drop may fail (:func:`~simulation.twin.outcomes.attempt`), each
pickup may find nobody home or no room on board (:func:`~simulation.twin.returns.pickup`);
parcels still on board go back to the hub. A robot settles its charge when it leaves, pays
every metre from its battery and turns back before a leg its charge could not bring it home
from; back at the hub it queues for a dock (:func:`~simulation.twin.charging.charge`).

Units: seconds since midnight of the first simulated day, metres, grams, millilitres.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from routing.model import Location
from routing.model import VehicleType as EngineVehicleType
from routing.solution import Route
from simulation.errors import InvariantError
from simulation.pickups import ReturnState, ReturnStatus, ReturnVisit
from simulation.twin.charging import charge
from simulation.twin.orders import OrderState
from simulation.twin.outcomes import attempt, back_at_hub
from simulation.twin.plan_inputs import service_s
from simulation.twin.promises import notify
from simulation.twin.returns import collected, pickup, release_return
from simulation.twin.watch import keeping, learn, leave_at, watch
from simulation.world import DAY_S

if TYPE_CHECKING:
    from simulation.twin.setup import Twin

__all__ = ["Agent", "Trip", "drive", "lognormal"]


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
    back_at: int | None = None
    """While on a trip: when the trip is planned to be back at the hub, seconds since the
    first day's midnight (``None`` at the hub) — the concierge's timeline of today starts the
    vehicle's next trip no earlier (:func:`simulation.twin.customers.tentative_today`)."""
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
    locations: tuple[Location, ...] = ()
    """The points the matrices index (where a leg ends: its zone, for the learned spread)."""
    dropped: set[int] = field(default_factory=set)
    """Positions on the route of stops that left the trip (``policies.promises = "kept"``: the
    customer took another option, or another vehicle took the stop): driven past."""
    told: set[int] = field(default_factory=set)
    """Positions whose customer was told, after the window opened, that the stop is late."""


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
    leave = base + route.start_time
    if keeping(twin):
        leave = leave_at(twin, agent, trip, int(env.now))
    if leave > env.now:
        yield env.timeout(leave - env.now)
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
    kept = keeping(twin)
    profile = agent.vtype.profile
    for k, (visit, o) in enumerate(zip(route.visits, trip.orders, strict=True)):
        if kept:
            watch(twin, agent, trip, k, here, int(env.now))
        if k in trip.dropped:
            continue  # the customer took another option, or another vehicle took it
        if isinstance(o, ReturnVisit):
            if o.drop and o.ret not in on_board:
                continue  # its pickup did not happen: nothing to bring to the store
            if not o.drop and agent.battery is not None:
                release_return(o.ret)
                continue
        if agent.battery is not None:
            need = int(dist[here, visit.location]) + int(dist[visit.location, 0])
            if agent.battery.level < need:
                # Not enough charge to get there and home: back to the hub with the rest.
                agent.turned_back += 1
                carried.extend(
                    x
                    for j, x in enumerate(trip.orders[k:], start=k)
                    if isinstance(x, OrderState) and j not in trip.dropped
                )
                break
        planned = float(dur[here, visit.location])
        took = yield from _leg(env, agent, planned, rng, noise.travel_sigma)
        if kept and planned > 0:
            learn(twin, "travel", profile, env.now, _where(trip, visit.location), took / planned)
        yield from _move(agent, int(dist[here, visit.location]))
        if isinstance(o, ReturnVisit):
            yield from _return_stop(env, twin, agent, o, load, on_board)
            here = visit.location
            continue
        if kept and env.now > o.window[1] and k not in trip.told:
            notify(o, int(env.now), "late")  # the last leg overran: said so at the door
        if env.now < o.window[0]:
            yield env.timeout(o.window[0] - env.now)  # early: wait for the window to open
        agent.attempts += 1
        if not attempt(twin, o, agent.type_name, env.now):
            carried.append(o)
        else:
            for i in range(3):
                load[i] -= o.spec.demand[i]
        factor = lognormal(rng, noise.service_sigma)
        yield env.timeout(service_s(o.spec.demand) * factor)
        if kept:
            learn(twin, "service", profile, env.now, _where(trip, visit.location), factor)
        here = visit.location
    if here != 0:
        yield from _leg(env, agent, float(dur[here, 0]), rng, noise.travel_sigma)  # home
        yield from _move(agent, int(dist[here, 0]))
    agent.active_s += int(env.now - depart)
    agent.back_s[trip.day] = max(agent.back_s.get(trip.day, 0), int(env.now) - base)
    for o in carried:
        back_at_hub(twin, o, env.now)
    for ret in on_board:  # bound for the hub (or a store it could not reach)
        collected(ret, agent, env.now, to="hub")
    for o in trip.orders:  # pickups never reached (a robot turned back)
        if isinstance(o, ReturnVisit) and o.ret.status is ReturnStatus.ASSIGNED:
            release_return(o.ret)
    agent.busy = False
    agent.back_at = None
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
        collected(ret, agent, env.now, to="store")
        service = service_s((0, 0, 0))
    else:
        if env.now < ret.window[0]:
            yield env.timeout(ret.window[0] - env.now)
        if pickup(twin, ret, agent, load, env.now):
            _check_load(twin, agent, load)
            on_board.append(ret)  # to its store later on the route, or to the hub
        service = service_s(ret.demand)
    yield env.timeout(service * lognormal(twin.noise_rng, noise.service_sigma))


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
) -> Generator[simpy.Event, Any, float]:
    """Travel one leg: the planned seconds with noise, counted as time on the move; the
    seconds it took."""
    took = planned_s * lognormal(rng, sigma)
    yield env.timeout(took)
    agent.moving_s += took
    return took


def _where(trip: Trip, location: int) -> Location | None:
    """The point of a route location (``None`` when the trip does not carry them)."""
    return trip.locations[location] if location < len(trip.locations) else None


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


def lognormal(rng: np.random.Generator, sigma: float) -> float:
    """A multiplicative noise factor with median 1 (1 exactly when ``sigma`` is 0)."""
    return float(rng.lognormal(0.0, sigma)) if sigma > 0 else 1.0
