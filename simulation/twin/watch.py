"""Keeping promises while the day runs (``policies.promises = "kept"``, issue #17).

Four things, each the twin's analogue of what production does:

* **Plan on a buffer** (:func:`buffer_now`, passed to
  :func:`orchestrator.planning.problem.build_problem` and scaling the concierge's legs
  (:meth:`~orchestrator.planning.spread.Buffer.legs`)): the planner and the concierge's
  tentative timeline time each leg and each service at the
  ``promise_confidence`` quantile of the spread learned so far
  (:class:`orchestrator.planning.spread.Buffer` from the twin's
  :class:`~orchestrator.planning.spread.SpreadBook`), so a window is offered and planned only
  where it holds at that confidence; the vehicles still drive the unbuffered times with noise.
* **Learn the spread** (:func:`learn`): every driven leg's actual over planned seconds and
  every stop's actual over planned service, keyed by profile, local hour and the stop's zone
  (:func:`~orchestrator.planning.spread.zone_of`); the book starts from the defaults (the
  shipped noise) in each replication and is folded in before each plan and offer (:func:`book`).
* **Ask before the vehicle sets out** (:func:`ask`): when a trip is handed out each customer
  who must be there in person is told the ETA and their presence for that attempt is drawn
  then (the same draw, same stream, same probability as at the door); one who will not be
  there answers with probability ``answers_notice``, is noticed
  (:func:`~simulation.twin.promises.notify`) and takes another option; the stop is skipped.
* **Leave early enough** (:func:`leave_at`): the solver, pricing a vehicle's hours out, starts
  a route as late as its windows allow, so a stop whose window opened before the trip was
  handed out is often planned at that window's very end, on the buffer's quantile — a one in
  four chance of a miss nobody could announce (the window is open). A trip handed out leaves
  as much earlier than planned as that stop needs to hold at :data:`LEAVE_CONFIDENCE` (never
  before it was handed out; the vehicle is held for it anyway), the minutes gained waited
  at a later door.
* **Watch routes as they run** (:func:`watch`): before each leg the stops left are projected
  from now on the planned legs and services (their mean, and ``z`` standard deviations of
  their sum at the confidence); a stop projected past its window is moved to an idle vehicle
  of the hub while the trip has not left (a small re-plan with its window and place hard,
  :func:`simulation.twin.planning.move`), else its customer is told the new ETA at once
  (:func:`~simulation.twin.promises.notify`, production's ``order.eta_moved`` event and
  webhook) — before the window when it has not opened — and the stop is still driven to.
  The planner tells, too, the customer of an order no vehicle keeps whose window opens before
  the next plan, and a vehicle that reaches a stop after its window says so at the door: no
  vehicle goes past a promise silently.

What cannot be announced before the window: a leg that overruns on the way to the stop after
the last projection said it would hold (the leg's noise is only known on arrival), a trip
handed out after the window opened, and a stop already late when its trip was handed out
(planned "as soon as possible"). A notice the watch sends for a stop that then arrives in
time is a false alarm (counted in ``notices``, not in the missed promises).

Units: seconds since midnight of the first simulated day; ratios actual over planned.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import TYPE_CHECKING

from orchestrator.concierge.schedule import resolve
from orchestrator.planning.spread import (
    ANY_HOUR,
    Buffer,
    Estimate,
    SpreadBook,
    SpreadKey,
    zone_of,
)
from routing.model import Location
from routing.solution import Route
from simulation.pickups import ReturnVisit
from simulation.twin.customers import choose, first_day
from simulation.twin.orders import OrderState, Status
from simulation.twin.outcomes import draw_presence, in_person
from simulation.twin.plan_inputs import service_s
from simulation.twin.promises import notify
from simulation.world import DAY_S, HOUR_S

if TYPE_CHECKING:
    from simulation.twin.setup import Twin
    from simulation.twin.vehicles import Agent, Trip

__all__ = [
    "ask",
    "book",
    "buffer_now",
    "keeping",
    "learn",
    "leave_at",
    "local_hour",
    "reschedule",
    "watch",
]


def keeping(twin: Twin) -> bool:
    """Whether the twin runs the promise-keeping policy."""
    return twin.policies.promises == "kept"


def local_hour(t: float) -> int:
    """The hour of the day (0-23) of simulated second ``t`` (elapsed since local midnight)."""
    return min(23, max(0, int((t % DAY_S) // HOUR_S)))


# -- the learned spread ---------------------------------------------------------------------------


def learn(
    twin: Twin, timed: str, profile: str, at: float, where: Location | None, ratio: float
) -> None:
    """One outcome: a leg (``timed="travel"``) or a stop's service (``"service"``) that took
    ``ratio`` times its planned seconds, at simulated second ``at`` near ``where``."""
    hour = local_hour(at)
    zone = zone_of(where.lat, where.lon) if where is not None else "*"
    key = SpreadKey("travel" if timed == "travel" else "service", profile, hour, zone)
    twin.spread_seen.append((key, ratio))


def book(twin: Twin) -> SpreadBook:
    """The twin's spread book with every outcome so far."""
    if twin.spread_seen:
        twin.spread = twin.spread.observe_many(twin.spread_seen)
        twin.spread_seen.clear()
    return twin.spread


def buffer_now(twin: Twin, profiles: list[str], now: float | None = None) -> Buffer:
    """The buffer at ``policies.promise_confidence`` for ``profiles``, at the local hour of
    ``now`` (every hour when ``None``)."""
    hour = ANY_HOUR if now is None else local_hour(now)
    return Buffer.of(book(twin), sorted(set(profiles)), twin.policies.promise_confidence, hour)


# -- telling the customer -------------------------------------------------------------------------


def reschedule(twin: Twin, o: OrderState, *, after: int) -> None:
    """The customer, told before the window, takes the best option left from ``after`` on (a
    later window that day, or another day): the order waits for a plan with it."""
    o.redelivery = True
    day, _ = first_day(twin, after)
    o.day = max(o.day, day)
    choose(twin, o, after)


def ask(twin: Twin, agent: Agent, route: Route, orders: tuple[object, ...], now: int) -> set[int]:
    """A trip handed out at ``now``: each customer on it who must be there in person is told
    the ETA and their presence at that attempt is drawn; one who will not be there answers
    with probability ``answers_notice`` and takes another option.

    Returns
    -------
    set[int]
        Positions on the route of the stops that leave the trip.
    """
    out: set[int] = set()
    day = int(now // DAY_S)
    answers = twin.scenario.demand.preferences.answers_notice
    for k, (visit, o) in enumerate(zip(route.visits, orders, strict=True)):
        if not isinstance(o, OrderState) or not in_person(o, agent.type_name):
            continue
        if o.present is not None:
            continue  # asked already (a stop moved from another trip)
        followed = draw_presence(twin)
        eta = day * DAY_S + visit.start
        there = followed and resolve(o.spec.customer.schedule, twin.instant(eta)) == o.place
        if not there and twin.answers_rng.random() < answers:
            first = o.attempts == 0 and not o.redelivery  # the promise is still the one at stake
            notify(o, now, "away")
            o.rescheduled = o.rescheduled or first
            o.status = Status.WAITING
            reschedule(twin, o, after=max(now, o.window[1]))
            out.add(k)
        else:
            o.present = followed
    return out


def _projection(
    twin: Twin, agent: Agent, confidence: float
) -> tuple[Estimate, Estimate, float, float, float]:
    """What a projection of the agent's stops works with: the learned travel and service
    spread of its profile, their mean ratios (actual over planned) and ``z`` at
    ``confidence``."""
    spread = book(twin)
    profile = agent.vtype.profile
    travel = spread.estimate(SpreadKey("travel", profile))
    service = spread.estimate(SpreadKey("service", profile))
    t_mean = math.exp(travel.mu + travel.sigma**2 / 2)
    s_mean = math.exp(service.mu + service.sigma**2 / 2)
    return travel, service, t_mean, s_mean, NormalDist().inv_cdf(confidence)


# -- leaving the hub -------------------------------------------------------------------------------

LEAVE_CONFIDENCE = 0.99
"""Probability at which a trip's stops before its first planned wait must hold their windows
when it leaves (:func:`leave_at`); above ``promise_confidence`` because leaving a few minutes
early costs only a few minutes' wait at a later door."""


def leave_at(twin: Twin, agent: Agent, trip: Trip, now: int) -> int:
    """When a trip handed out at ``now`` leaves the hub, seconds since the first day's
    midnight: the plan's start, or earlier — down to ``now`` — by as much as the stops before
    its first planned wait need to hold their windows at :data:`LEAVE_CONFIDENCE` on the
    learned spread (mean times, and ``z`` standard deviations of their sum, as the watch
    projects them). Those stops move earlier one for one; the first wait absorbs the rest."""
    route = trip.route
    planned = trip.day * DAY_S + route.start_time
    if planned <= now:
        return planned
    travel, service, t_mean, s_mean, z = _projection(twin, agent, LEAVE_CONFIDENCE)
    t, var, pos, short = float(planned), 0.0, 0, 0.0
    for visit, o in zip(route.visits, trip.orders, strict=True):
        leg = float(trip.durations[pos, visit.location])
        t += leg * t_mean
        var += (leg * travel.sigma) ** 2
        if isinstance(o, ReturnVisit):
            if not o.drop and t < o.ret.window[0]:
                break  # the first wait: what comes after it does not move
            svc = service_s(o.ret.demand if not o.drop else (0, 0, 0))
        else:
            short = max(short, t + z * math.sqrt(var) - o.window[1])
            if t < o.window[0]:
                break
            svc = service_s(o.spec.demand)
        t += svc * s_mean
        var += (svc * service.sigma) ** 2
        pos = visit.location
    return int(max(now, planned - math.ceil(short)))


# -- watching a route -----------------------------------------------------------------------------


def watch(twin: Twin, agent: Agent, trip: Trip, k: int, here: int, now: int) -> None:
    """Before the leg to the ``k``-th stop, from route location ``here`` at ``now``: project
    the stops left; move or re-time the ones that would miss their window (module notes)."""
    from simulation.twin.planning import move  # planning hands trips to drive, which calls this

    travel, service, t_mean, s_mean, z = _projection(twin, agent, twin.policies.promise_confidence)
    at_hub = here == 0 and k == 0
    t, var, pos = float(now), 0.0, here
    for j in range(k, len(trip.route.visits)):
        o = trip.orders[j]
        if j in trip.dropped:
            continue
        loc = trip.route.visits[j].location
        leg = float(trip.durations[pos, loc])
        t += leg * t_mean
        var += (leg * travel.sigma) ** 2
        if isinstance(o, ReturnVisit):
            start = o.ret.window[0] if not o.drop else t
            t = max(t, start)
            svc = service_s(o.ret.demand if not o.drop else (0, 0, 0))
        else:
            late = t + z * math.sqrt(var) > o.window[1]
            if late and at_hub and o.window[0] > now and move(twin, agent.hub, o, now):
                trip.dropped.add(j)  # another vehicle keeps it
                continue
            if late and j not in trip.told:
                trip.told.add(j)
                if not o.notices:
                    notify(o, now, "late")  # the new ETA, before the window when it has not opened
            if t < o.window[0]:
                if o.window[0] - t > z * math.sqrt(var):
                    var = 0.0  # waiting for the window absorbs the spread so far
                t = float(o.window[0])
            svc = service_s(o.spec.demand)
        t += svc * s_mean
        var += (svc * service.sigma) ** 2
        pos = loc
