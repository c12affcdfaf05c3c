"""Customers' choices: the day, place and window of an order, and of its next attempt.

With the concierge on, the customer takes the best of its options
(:func:`orchestrator.concierge.options.delivery_options`) on the hub's tentative plan for the
day, a :class:`routing.insertion.Timeline` built from the hub's vehicles and extended by
cheap insertion as orders are promised; an eco customer who accepts to wait takes the eco
option. Without it, the customer picks a two-hour slot at home (a customer aware of their
week picks one when they are home, the others favour evenings).

Units: seconds since midnight of the first simulated day (local time at the hubs), metres.
"""

from __future__ import annotations

import math
import time as wallclock
from datetime import time
from typing import TYPE_CHECKING

import numpy as np

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
from orchestrator.planning.problem import accepted_vehicle_types
from orchestrator.planning.tentative import idle_timeline
from routing.insertion import Candidate, LegTravel, Timeline
from routing.model import TimeWindow
from simulation.twin.orders import Status
from simulation.twin.plan_inputs import fleet_input, place_kind, service_s
from simulation.world import DAY_S, HOUR_S, MINUTE_S, OrderSpec

if TYPE_CHECKING:
    from simulation.twin.orders import OrderState
    from simulation.twin.setup import Twin

__all__ = ["choose", "first_day", "tentative_today", "vehicle_types_for"]


def first_day(twin: Twin, now: int) -> tuple[int, int]:
    """The day an order placed at ``now`` can first be served (a slot must still start)."""
    day = int(now // DAY_S)
    earliest = now + twin.scenario.demand.lead_time_min * MINUTE_S
    last_start = day * DAY_S + twin.clock_s(day, (twin.policies.closing_h - 2) * HOUR_S)
    if earliest > last_start:
        day += 1
    return day, day


def choose(twin: Twin, state: OrderState, now: int) -> None:
    """Place and window of an order (or of its next attempt), concierge or home-only."""
    if twin.policies.concierge:
        t0 = wallclock.perf_counter()
        chosen = _concierge(twin, state, now)
        twin.option_seconds += wallclock.perf_counter() - t0
        if chosen:
            return
    _home_slot(twin, state, now)


def _slots(twin: Twin, day: int, now: int, spec: OrderSpec) -> list[tuple[int, int]]:
    """Two-hour windows of ``day`` starting on whole hours, at least the lead time ahead,
    within opening hours and the shifts of the hub's vehicles that may carry the order
    (no one sells a slot nobody can drive: a robot's evening shift does not open evening
    slots for a bulky parcel or a customer who refuses robots)."""
    earliest = now + twin.scenario.demand.lead_time_min * MINUTE_S
    first = math.ceil(twin.policies.opening_h)
    robot_ok = spec.customer.accepts_robot and twin._robot_fits(spec.demand)
    shift_end = max(
        (
            a.shift[1]  # wall clock, like the hours compared with it below
            for a in twin.agents
            if a.hub == spec.hub and (a.battery is None or robot_ok)
        ),
        default=DAY_S,
    )
    last = min(math.floor(twin.policies.closing_h), shift_end // HOUR_S) - 2
    base = day * DAY_S
    slots = [
        (base + twin.clock_s(day, h * HOUR_S), base + twin.clock_s(day, (h + 2) * HOUR_S))
        for h in range(first, last + 1)
    ]
    return [s for s in slots if s[0] >= earliest]


def _home_slot(twin: Twin, state: OrderState, now: int) -> None:
    """Home-only: a two-hour slot at home; an aware customer picks one when they are home.

    Under ``policies.promises = "kept"`` (home-only, or the concierge's fallback when it has
    no option): only the slots the hub's tentative plan can still take are offered (the
    first day that has one), and the one taken is inserted there — a slot no vehicle can
    drive is not sold (issue #17: these went unchecked, and mostly in the evening)."""
    slots = _keepable(twin, state, state.day, _slots(twin, state.day, now, state.spec))
    for _ in range(7):
        if slots:
            break
        state.day += 1
        slots = _keepable(twin, state, state.day, _slots(twin, state.day, now, state.spec))
    if not slots:  # no vehicle at the hub ever: any time from the opening
        base = state.day * DAY_S
        slots = [
            (
                base + twin.clock_s(state.day, twin.policies.opening_h * HOUR_S),
                base + twin.clock_s(state.day, twin.policies.closing_h * HOUR_S),
            )
        ]
    customer = state.spec.customer
    at_home = [
        s for s in slots if resolve(customer.schedule, twin.instant((s[0] + s[1]) // 2)) == "home"
    ]
    rng = twin.presence_rng
    aware = rng.random() < twin.scenario.demand.preferences.slot_awareness
    if aware and at_home:
        pick = at_home[int(rng.integers(len(at_home)))]
    else:
        # People at work want evenings: later slots are more popular.
        evening = state.day * DAY_S + twin.clock_s(state.day, 16 * HOUR_S)
        weights = np.array([1.0 + (s[0] >= evening) for s in slots])
        pick = slots[int(rng.choice(len(slots), p=weights / weights.sum()))]
    state.place, state.location, state.window = "home", customer.places["home"], pick
    if _checks_slots(twin):
        _insert(twin, state, pick)


def _home_candidate(
    twin: Twin, state: OrderState, day: int, slot: tuple[int, int]
) -> tuple[Candidate, LegTravel]:
    """The order at home in ``slot`` (seconds since the first day's midnight) as a stop of
    ``day``'s tentative plan, and the legs it is timed with."""
    legs, service = _timing(twin, state.spec)
    home = state.spec.customer.places["home"]
    base = day * DAY_S
    window = TimeWindow(slot[0] - base, slot[1] - base)
    candidate = Candidate(
        home.lat,
        home.lon,
        (window,),
        service=service,
        demand=state.spec.demand,
        vehicle_types=vehicle_types_for(twin, state.spec),
    )
    return candidate, legs


def _checks_slots(twin: Twin) -> bool:
    """Whether home slots (home-only delivery, or the concierge's fallback) are sold only
    where the hub's tentative plan takes them: under ``policies.promises = "kept"``, with or
    without the concierge — an option is offered only where the plan keeps it (issue #17).
    Home-only delivery used to sell every slot as today: in the sparse suburb that sold
    18:00-20:00 past the vans' 19:00 shift end, and 29 of 228 promises went undelivered."""
    return twin.policies.promises == "kept"


def _keepable(
    twin: Twin, state: OrderState, day: int, slots: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """Of ``slots`` of ``day``, those the hub's tentative plan can take the order home in
    (all of them unless ``policies.promises = "kept"``, :func:`_checks_slots`)."""
    if not _checks_slots(twin) or not slots:
        return slots
    timeline = _tentative_plan(twin, state.spec.hub, day, state)
    kept = []
    for slot in slots:
        candidate, legs = _home_candidate(twin, state, day, slot)
        if timeline.best_insertions(candidate, legs)[0].feasible:
            kept.append(slot)
    return kept


def _insert(twin: Twin, state: OrderState, slot: tuple[int, int]) -> None:
    """Put the order, home in ``slot``, on its day's tentative plan (when it still fits)."""
    key = (state.spec.hub, state.day)
    timeline = _tentative_plan(twin, state.spec.hub, state.day, state)
    candidate, legs = _home_candidate(twin, state, state.day, slot)
    insertion = timeline.best_insertions(candidate, legs)[0]
    if insertion.feasible:
        stop = f"o{state.spec.index}-{state.attempts}"
        twin.tentative[key] = timeline.insert(candidate, insertion, stop, legs)


def _concierge(twin: Twin, state: OrderState, now: int) -> bool:
    """The concierge's best option on the order's day, inserted into the tentative plan."""
    spec = state.spec
    customer = spec.customer
    wait = _eco_wait(twin, state)
    robot_ok = twin._robot_fits(spec.demand)
    legs, service = _timing(twin, spec)
    request = OptionRequest(
        schedule=customer.schedule,
        places={
            name: PlaceInfo(name, loc.lat, loc.lon, kind=place_kind(name))
            for name, loc in customer.places.items()
        },
        stats=SlotStats(),
        parcel=ParcelSize(spec.demand, robot_ok=robot_ok, service_s=service),
        accepts_robot=customer.accepts_robot,
        accepts_courier=customer.accepts_courier,
        eco_max_wait_days=wait,
        prefers_eco=customer.eco,
        now=twin.instant(now),
    )
    kinds = {name: vt.kind for name, vt in twin.vehicle_types.items()}
    plans = {
        twin.service_date(d): DayPlan(
            day=twin.service_date(d),
            timeline=_tentative_plan(twin, spec.hub, d, state),
            epoch=twin.midnight(d),
            vehicle_kinds=kinds,
            opening=_clock(twin.policies.opening_h),
            closing=_clock(twin.policies.closing_h),
        )
        for d in range(state.day, state.day + wait + 1)
    }
    options = delivery_options(request, list(plans.values()), legs, k=3 + 7 * bool(wait))
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
        service=service,
        demand=spec.demand,
        vehicle_types=vehicle_types_for(twin, spec),
    )
    insertion = timeline.best_insertions(candidate, legs)[0]
    if insertion.feasible:
        twin.tentative[(spec.hub, state.day)] = timeline.insert(
            candidate, insertion, f"o{spec.index}-{state.attempts}", legs
        )
    return True


def vehicle_types_for(twin: Twin, spec: OrderSpec) -> frozenset[str] | None:
    """Names of the vehicle types that may carry ``spec``'s parcel to its customer on the
    concierge's tentative plan, under ``policies.promises = "kept"``: build_problem's
    acceptance rule (:func:`orchestrator.planning.problem.accepted_vehicle_types`), with a
    robot also refused when the parcel does not fit one. ``None`` (any type) when nothing is
    refused, and under today's policy, which the paired benchmark keeps as it was.

    Why: a robot refuser's order inserted on a robot (its cheapest vehicle) left the van
    looking free, and the van's evening was sold twice (issue #17: most of dense Helsinki's
    misses)."""
    if twin.policies.promises != "kept":
        return None
    customer = spec.customer
    return accepted_vehicle_types(
        {name: vt.kind for name, vt in twin.vehicle_types.items()},
        accepts_robot=customer.accepts_robot and twin._robot_fits(spec.demand),
        accepts_courier=customer.accepts_courier,
    )


def _timing(twin: Twin, spec: OrderSpec) -> tuple[LegTravel, int]:
    """The legs and the stop's seconds the tentative timeline is timed with: the planned ones
    today; under ``policies.promises = "kept"`` the buffer of the learned spread at the
    promise confidence (every hour's), so an option is offered only where it holds at that
    confidence."""
    service = service_s(spec.demand)
    if twin.policies.promises != "kept":
        return twin.legs, service
    from simulation.twin.watch import buffer_now  # watch chooses through here

    buffer = buffer_now(twin, sorted({a.vtype.profile for a in twin.agents if a.hub == spec.hub}))
    return buffer.legs(twin.legs), buffer.service_seconds(service)


def _eco_wait(twin: Twin, state: OrderState) -> int:
    """Days an eco customer's new order may wait for a grouped drop under consolidation
    (0 for everyone else, for another attempt, or on the last simulated day)."""
    customer = state.spec.customer
    if not (twin.policies.consolidation and customer.eco) or state.redelivery:
        return 0
    prefs = twin.scenario.demand.preferences
    return max(0, min(prefs.eco_max_wait_days, twin.scenario.days - 1 - state.day))


def _tentative_plan(twin: Twin, hub: int, day: int, choosing: OrderState | None = None) -> Timeline:
    """The concierge's tentative plan of a hub's day: every vehicle, one trip each.

    Under ``policies.promises = "kept"`` the plan of the day that is running is
    :func:`tentative_today` (rebuilt after each plan and each trip handed out); ``choosing``
    is the order being offered options, left out of it."""
    key = (hub, day)
    if key not in twin.tentative:
        if twin.policies.promises == "kept" and day == int(twin.env.now // DAY_S):
            twin.tentative[key] = tentative_today(twin, hub, day, choosing)
            return twin.tentative[key]
        agents = [a for a in twin.agents if a.hub == hub]
        fleets = [fleet_input(twin, a, twin.shift(a, day)[0], full=True, day=day) for a in agents]
        twin.tentative[key] = idle_timeline(
            twin.depots[hub], fleets, twin.service_date(day), twin.world.travel
        )
    return twin.tentative[key]


def tentative_today(twin: Twin, hub: int, day: int, choosing: OrderState | None = None) -> Timeline:
    """The hub's day as the rolling planner can still run it from now: each vehicle one more
    trip, leaving no earlier than now and than the planned return of the trip it is on
    (:attr:`~simulation.twin.vehicles.Agent.back_at`), carrying the day's promised orders not
    yet on a trip (inserted by window start, cheapest first; one that no longer fits is left
    to the planner).

    Why: the plan the day started with offers every vehicle idle for one trip over its whole
    shift — an evening van that is out on a day trip until 18:00 still sells 16:00-18:00
    windows there, which no plan can keep (issue #17: most of the system's misses).
    """
    now = int(twin.env.now)
    t = now - day * DAY_S
    agents = [a for a in twin.agents if a.hub == hub]
    fleets = []
    for a in agents:
        back = 0 if a.back_at is None else a.back_at - day * DAY_S
        fleets.append(fleet_input(twin, a, max(twin.shift(a, day)[0], t, back), full=True, day=day))
    timeline = idle_timeline(twin.depots[hub], fleets, twin.service_date(day), twin.world.travel)
    waiting = sorted(
        (
            o
            for o in twin.by_hub[hub]
            if o is not choosing
            and o.day == day
            and o.status is Status.WAITING
            and o.promise is not None
            and o.window[1] - day * DAY_S > t
        ),
        key=lambda o: (o.window[0], o.spec.index),
    )
    base = day * DAY_S
    for o in waiting:
        legs, service = _timing(twin, o.spec)
        candidate = Candidate(
            o.location.lat,
            o.location.lon,
            (TimeWindow(max(o.window[0] - base, t), o.window[1] - base),),
            service=service,
            demand=o.spec.demand,
            vehicle_types=vehicle_types_for(twin, o.spec),
        )
        insertion = timeline.best_insertions(candidate, legs)[0]
        if insertion.feasible:
            timeline = timeline.insert(candidate, insertion, f"o{o.spec.index}-{o.attempts}", legs)
    return timeline


def _clock(hours: float) -> time:
    """Hours of the day (``7.5``) as a time of day (07:30), 23:59 at the latest."""
    minutes = round(hours * 60)
    if minutes >= 24 * 60:
        return time(23, 59)
    return time(minutes // 60, minutes % 60)
