"""What a replication achieved, per vehicle type and overall, and means with 95 % CIs.

Definitions (an order is *due* when its service day falls inside the simulated days; orders
that arrive too late for the last day are counted apart as ``carried_over``):

* **on-time share** — due orders delivered at their place (not the locker) on the first try
  of their promised window, service starting inside it;
* **first-attempt success** — attempted orders whose first attempt worked;
* **cost per parcel** — EUR of the hub vehicles (the fixed cost once per vehicle and day used,
  per km, and per hour of the driver's or rider's shift on every day the vehicle is used — to
  their return when later; robots: lease per day used, remote supervision per hour on the
  move, and their hub's charging docks every day) and the couriers' pay, over delivered orders;
* **CO2 per parcel** — grams over delivered orders; **utilisation** — hours out of the hub
  over shift hours (hub vehicles), or accepted over offered bundles (couriers);
* **lateness** — minutes after the promised window's end, over delivered orders.

Promises (:mod:`simulation.twin.promises`): a **promise** is the day, place and window the
customer confirmed when the order arrived; those of the simulated days are counted
(``promised``). It is **kept** when the parcel was delivered at the promised place (not another
place, not the hub's locker) with service starting inside the promised window; a later
attempt's window is a new offer and does not count. A missed promise is the **customer's**
when the customer was not there — *absent* (the first attempt was at the promised place inside
the promised window, nobody there and the parcel could not be left) or *rescheduled* (told the
ETA before the window, the customer said they would not be there and chose another option) —
and the **system's** otherwise (late, early, elsewhere, undelivered). **On time at the promised
place** — (kept + absent + rescheduled) over promised: the system's side of the promise (the
vehicle was, or was planned to be, at the place inside the window). **Minutes late** — after
the promised window's end, over the missed promises that were delivered after it (p50, p90,
max); **announced before a miss** — the system's missed promises whose customer got a notice
before the window opened, over the system's missed promises (today's policies send none: 0;
``nan`` when the system missed none); **cost per kept promise** — the day's EUR over promises
kept; per vehicle type: promises whose first attempt was by that type.

Returns (when the scenario simulates them; ``returns`` is ``None`` otherwise): returns *asked*
for a pickup day inside the simulated days (those asked for later are counted apart as
``beyond_horizon``); **collected** — picked up and dropped at their store or brought to the hub;
**on a delivery tour** — collected on a trip that also delivered orders (else a dedicated trip);
**to a store** — dropped at a store (else the hub); **added km / CO2** — planned metres the
pickups and their drops add to the routes they rode on (the route against the same route
without them), with the vehicle's grams per km; **expected resale share** — the returns
engine's probability that the item sells within its horizon at the chosen destination,
averaged over returns asked.

Conservation is checked: delivered + failed + unserved = orders drawn; every return ends
collected or unserved with a reason.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from routing.model import VehicleKind
from simulation.errors import InvariantError
from simulation.pickups import ReturnStatus
from simulation.scenario import COURIER_TYPE, Scenario
from simulation.twin import Agent, OrderState, Status, Twin
from simulation.twin.promises import CUSTOMERS_MISSES, Outcome, minutes_late, outcome
from simulation.world import HOUR_S

__all__ = [
    "Estimate",
    "Lateness",
    "PromiseKpis",
    "ReplicationKpis",
    "ReturnKpis",
    "TypeKpis",
    "TypePromises",
    "estimate",
    "paid_hours",
    "paired_difference",
    "promise_kpis",
    "replication_kpis",
    "robot_dock_cost",
    "summarise",
]

_CARRIED = "after_last_day"


@dataclass(frozen=True, slots=True)
class TypeKpis:
    """One vehicle type (or ``"courier"``) over one replication.

    Parameters
    ----------
    vehicle_type
        Type name.
    agents
        Vehicles of the type (couriers: couriers who came to the hub).
    attempts, delivered
        Drop attempts made, and orders delivered, by the type.
    first_attempt_success
        Share of the orders first attempted by the type whose first attempt worked.
    on_time_share
        Share of the orders it delivered that were on time.
    km, co2_g, cost_eur
        Kilometres, grams CO2 and EUR of the type.
    cost_per_parcel, co2_g_per_parcel
        Per order it delivered (``nan`` when it delivered none).
    utilisation
        Hours out of the hub over shift hours (couriers: accepted over offered bundles).
    """

    vehicle_type: str
    agents: int
    attempts: int
    delivered: int
    first_attempt_success: float
    on_time_share: float
    km: float
    co2_g: float
    cost_eur: float
    cost_per_parcel: float
    co2_g_per_parcel: float
    utilisation: float


@dataclass(frozen=True, slots=True)
class Lateness:
    """Minutes after the promised window's end, over delivered orders (0 when on time)."""

    mean: float
    p50: float
    p90: float
    p95: float
    max: float
    late_share: float


@dataclass(frozen=True, slots=True)
class ReturnKpis:
    """Returns over one replication (see the module docstring for definitions)."""

    asked: int
    collected: int
    unserved: int
    unserved_reasons: tuple[tuple[str, int], ...]
    beyond_horizon: int
    collected_share: float
    on_tour_share: float
    """Of the collected: on a trip that also delivered orders."""
    to_store_share: float
    """Of the collected: dropped at a store (else brought to the hub)."""
    added_km: float
    added_co2_g: float
    expected_resale_share: float
    expected_recovery_eur: float
    no_room: int
    """Pickups skipped because parcels whose drop failed filled the vehicle."""
    max_load_share: float
    """Fullest a vehicle ever was, over its capacity (the fullest dimension)."""


@dataclass(frozen=True, slots=True)
class TypePromises:
    """Promises whose first attempt was by one vehicle type (or ``"courier"``)."""

    vehicle_type: str
    promised: int
    kept: int
    kept_share: float
    cost_per_kept: float
    """EUR of the type over the promises it kept (``nan`` when none)."""


@dataclass(frozen=True, slots=True)
class PromiseKpis:
    """Confirmed promises over one replication (see the module docstring for definitions).

    ``late``, ``early``, ``elsewhere`` and ``undelivered`` break the missed promises down
    (:class:`simulation.twin.promises.Outcome`); the ``late_*_min`` figures are minutes after
    the promised window over the promises delivered late (``nan`` when none was).
    """

    promised: int
    kept: int
    kept_share: float
    """Kept over promised: delivered at the promised place inside the promised window."""
    late: int
    early: int
    elsewhere: int
    undelivered: int
    late_p50_min: float
    late_p90_min: float
    late_max_min: float
    notices: int
    announced_before_miss: int
    announced_before_miss_share: float
    cost_per_kept: float
    per_type: tuple[TypePromises, ...]
    absent: int = 0
    """Missed because the customer was not there at an attempt on time at the place."""
    rescheduled: int = 0
    """Missed because the customer, told the ETA before the window, chose another option."""
    on_time_at_place_share: float = math.nan
    """(kept + absent + rescheduled) over promised: the system's side of the promise."""
    system_missed: int = 0
    """Missed promises that were the system's (neither absent nor rescheduled)."""


@dataclass(frozen=True, slots=True)
class ReplicationKpis:
    """Everything measured in one replication (see the module docstring for definitions)."""

    replication: int
    orders: int
    due: int
    delivered: int
    delivered_at_place: int
    delivered_to_locker: int
    failed: int
    unserved: int
    carried_over: int
    unserved_reasons: tuple[tuple[str, int], ...]
    on_time_share: float
    first_attempt_success: float
    cost_eur: float
    cost_per_parcel: float
    km: float
    co2_g: float
    co2_g_per_parcel: float
    utilisation: float
    lateness_min: Lateness
    mean_wait_days: float
    courier_offers: int
    courier_accepted: int
    courier_no_shows: int
    courier_max_parcels: int
    robot_min_charge_m: float
    robot_turned_back: int
    per_type: tuple[TypeKpis, ...]
    events: int
    plans: int
    returns: ReturnKpis | None = None
    """``None`` when the scenario does not simulate returns."""
    promises: PromiseKpis | None = None
    """Confirmed promises kept (:func:`promise_kpis`)."""


@dataclass(frozen=True, slots=True)
class Estimate:
    """A mean over replications with its 95 % t confidence interval (``low``/``high`` are
    ``nan`` with a single replication)."""

    mean: float
    low: float
    high: float
    n: int


def estimate(values: Sequence[float], *, bounds: tuple[float, float] | None = None) -> Estimate:
    """Mean and 95 % Student-t interval of ``values`` (``nan`` entries are left out).

    ``bounds`` clips the interval to the values the metric can take (``(0, 1)`` for a
    share): with three replications a t interval of a share near 1 may reach past it.
    """
    x = np.array([v for v in values if not math.isnan(v)], dtype=np.float64)
    if x.size == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if x.size < 2:
        return Estimate(_r(mean), math.nan, math.nan, 1)
    sem = float(x.std(ddof=1) / math.sqrt(x.size))
    if sem == 0:
        return Estimate(_r(mean), _r(mean), _r(mean), int(x.size))
    low, high = stats.t.interval(0.95, x.size - 1, loc=mean, scale=sem)
    if bounds is not None:
        low, high = max(float(low), bounds[0]), min(float(high), bounds[1])
    return Estimate(_r(mean), _r(float(low)), _r(float(high)), int(x.size))


def paired_difference(a: Sequence[float], b: Sequence[float]) -> Estimate:
    """Mean and 95 % CI of ``a[i] - b[i]``: one metric of two scenarios, replication by
    replication.

    Two scenarios run with the same seed see the same customers, parcels and couriers in each
    replication (common random numbers), so most of the day-to-day spread cancels in the
    difference: its interval is far narrower than the two means' intervals suggest, and it is
    the one to judge "does A beat B" by.

    Raises
    ------
    ValueError
        If the two do not have as many replications.
    """
    if len(a) != len(b):
        raise ValueError(f"{len(a)} against {len(b)} replications — pair runs of the same "
                         "replications and seed")  # fmt: skip
    return estimate([float(x) - float(y) for x, y in zip(a, b, strict=True)])


def replication_kpis(twin: Twin) -> ReplicationKpis:
    """The KPIs of a replication that has run.

    Raises
    ------
    InvariantError
        If an order is lost (conservation) or an invariant of the fleet was broken.
    """
    twin.check_conservation()
    orders = twin.orders
    n = len(orders)
    delivered = [o for o in orders if o.status is Status.DELIVERED]
    failed = sum(o.status is Status.FAILED for o in orders)
    unserved = [o for o in orders if o.status is Status.UNSERVED]
    if len(delivered) + failed + len(unserved) != n:
        raise InvariantError("delivered + failed + unserved differs from the orders drawn")
    carried = sum(o.unserved_reason == _CARRIED for o in unserved)
    due = n - carried
    reasons: dict[str, int] = {}
    for o in unserved:
        key = o.unserved_reason or "unknown"
        reasons[key] = reasons.get(key, 0) + 1
    attempted = [o for o in orders if o.first_attempt_ok is not None]
    at_place = [o for o in delivered if o.delivered_by != "locker"]

    scenario = twin.scenario
    days = scenario.days
    per_type: list[TypeKpis] = []
    total_cost = total_co2 = total_km = busy = shift = 0.0
    for name in sorted({a.type_name for a in twin.agents}):
        agents = [a for a in twin.agents if a.type_name == name]
        vt = agents[0].vtype
        km = sum(a.km_m for a in agents) / 1_000
        active_h = sum(a.active_s for a in agents) / HOUR_S
        fixed = vt.fixed_cost * sum(len(a.days_used) for a in agents)
        if vt.kind is VehicleKind.ROBOT:
            # Remote supervision is paid while a robot moves (a robot parked at a door, waiting
            # for its window or its customer, needs no operator); its docks every day. The
            # planner still prices its every hour out: waiting ties a robot up.
            paid_h = sum(a.moving_s for a in agents) / HOUR_S
            fixed += robot_dock_cost(scenario, name)
        else:
            paid_h = sum(paid_hours(a, twin.clock_s) for a in agents)
        cost = fixed + vt.cost_per_km * km + vt.cost_per_hour * paid_h
        co2 = vt.co2_g_per_km * km
        shift_h = sum((a.shift[1] - a.shift[0]) for a in agents) * days / HOUR_S
        use = active_h / shift_h if shift_h else math.nan
        attempts = sum(a.attempts for a in agents)
        per_type.append(_type_kpis(name, len(agents), attempts, orders, km, co2, cost, use))
        total_cost += cost
        total_co2 += co2
        total_km += km
        busy += active_h
        shift += shift_h
    log = twin.courier_log
    if log.arrived:
        courier_cost = log.pay_eur
        costs = scenario.costs.get(COURIER_TYPE)
        g_per_km = 5.0 if costs is None or costs.co2_g_per_km is None else costs.co2_g_per_km
        km = log.km_m / 1_000
        use = log.accepted / log.offered if log.offered else math.nan
        per_type.append(
            _type_kpis(COURIER_TYPE, log.arrived, log.attempts, orders, km, g_per_km * km,
                       courier_cost, use)
        )  # fmt: skip
        total_cost += courier_cost
        total_co2 += g_per_km * km
        total_km += km

    late = np.array([o.lateness_s / 60 for o in delivered], dtype=np.float64)
    lateness = (
        Lateness(
            _r(float(late.mean())),
            _r(float(np.percentile(late, 50))),
            _r(float(np.percentile(late, 90))),
            _r(float(np.percentile(late, 95))),
            _r(float(late.max())),
            _r(float(np.mean(late > 0))),
        )
        if late.size
        else Lateness(math.nan, math.nan, math.nan, math.nan, math.nan, math.nan)
    )
    robots = [a for a in twin.agents if a.battery is not None]
    robot_min = min((a.min_battery_m for a in robots), default=math.nan)
    return ReplicationKpis(
        replication=twin.replication,
        orders=n,
        due=due,
        delivered=len(delivered),
        delivered_at_place=len(at_place),
        delivered_to_locker=len(delivered) - len(at_place),
        failed=failed,
        unserved=len(unserved),
        carried_over=carried,
        unserved_reasons=tuple(sorted(reasons.items())),
        on_time_share=_share(sum(o.on_time for o in orders), due),
        first_attempt_success=_share(
            sum(bool(o.first_attempt_ok) for o in attempted), len(attempted)
        ),
        cost_eur=_r(total_cost),
        cost_per_parcel=_share(total_cost, len(delivered)),
        km=_r(total_km),
        co2_g=_r(total_co2),
        co2_g_per_parcel=_share(total_co2, len(delivered)),
        utilisation=_share(busy, shift),
        lateness_min=lateness,
        mean_wait_days=_share(sum(o.day - o.earliest_day for o in delivered), len(delivered)),
        courier_offers=log.offered,
        courier_accepted=log.accepted,
        courier_no_shows=log.no_shows,
        courier_max_parcels=log.max_parcels,
        robot_min_charge_m=_r(robot_min) if math.isfinite(robot_min) else math.nan,
        robot_turned_back=sum(a.turned_back for a in robots),
        per_type=tuple(per_type),
        events=twin.env.events_processed,
        plans=twin.plans,
        returns=_return_kpis(twin) if twin.market is not None else None,
        promises=promise_kpis(twin, total_cost, {t.vehicle_type: t.cost_eur for t in per_type}),
    )


def promise_kpis(twin: Twin, cost_eur: float, type_cost_eur: Mapping[str, float]) -> PromiseKpis:
    """Promises of a replication that has run: kept, missed and how, minutes late, notices.

    Parameters
    ----------
    twin
        The replication, run.
    cost_eur
        EUR of the replication (every vehicle type and the couriers).
    type_cost_eur
        EUR per vehicle type (``"courier"`` included when couriers rode).
    """
    promised = [
        o for o in twin.orders if o.promise is not None and o.promise.day < twin.scenario.days
    ]
    outcomes = [outcome(o) for o in promised]
    kept = sum(x is Outcome.KEPT for x in outcomes)
    # The system's misses: the customer's (absent, rescheduled) are not announced by it.
    missed = [
        o
        for o, x in zip(promised, outcomes, strict=True)
        if x is not Outcome.KEPT and x not in CUSTOMERS_MISSES
    ]
    absent = sum(x is Outcome.ABSENT for x in outcomes)
    rescheduled = sum(x is Outcome.RESCHEDULED for x in outcomes)
    late = np.array(
        [minutes_late(o) for o, x in zip(promised, outcomes, strict=True) if x is Outcome.LATE],
        dtype=np.float64,
    )
    announced = sum(any(n.before_window_start for n in o.notices) for o in missed)
    per_type = []
    for name in sorted(type_cost_eur):
        mine = [x for o, x in zip(promised, outcomes, strict=True) if o.first_type == name]
        kept_t = sum(x is Outcome.KEPT for x in mine)
        per_type.append(
            TypePromises(name, len(mine), kept_t, _share(kept_t, len(mine)),
                         _share(type_cost_eur[name], kept_t))
        )  # fmt: skip
    return PromiseKpis(
        promised=len(promised),
        kept=kept,
        kept_share=_share(kept, len(promised)),
        late=int(late.size),
        early=sum(x is Outcome.EARLY for x in outcomes),
        elsewhere=sum(x is Outcome.ELSEWHERE for x in outcomes),
        undelivered=sum(x is Outcome.UNDELIVERED for x in outcomes),
        late_p50_min=_r(float(np.percentile(late, 50))) if late.size else math.nan,
        late_p90_min=_r(float(np.percentile(late, 90))) if late.size else math.nan,
        late_max_min=_r(float(late.max())) if late.size else math.nan,
        notices=sum(len(o.notices) for o in promised),
        announced_before_miss=announced,
        announced_before_miss_share=_share(announced, len(missed)),
        cost_per_kept=_share(cost_eur, kept),
        per_type=tuple(per_type),
        absent=absent,
        rescheduled=rescheduled,
        on_time_at_place_share=_share(kept + absent + rescheduled, len(promised)),
        system_missed=len(missed),
    )


def _return_kpis(twin: Twin) -> ReturnKpis:
    rets = twin.returns
    collected = [r for r in rets if r.status is ReturnStatus.COLLECTED]
    unserved = [r for r in rets if r.status is ReturnStatus.UNSERVED]
    if len(collected) + len(unserved) != len(rets):
        raise InvariantError("collected + unserved returns differs from the returns asked")
    reasons: dict[str, int] = {}
    for r in unserved:
        key = r.unserved_reason or "unknown"
        reasons[key] = reasons.get(key, 0) + 1
    return ReturnKpis(
        asked=len(rets),
        collected=len(collected),
        unserved=len(unserved),
        unserved_reasons=tuple(sorted(reasons.items())),
        beyond_horizon=twin.returns_beyond_horizon,
        collected_share=_share(len(collected), len(rets)),
        on_tour_share=_share(sum(bool(r.on_tour) for r in collected), len(collected)),
        to_store_share=_share(sum(r.collected_to == "store" for r in collected), len(collected)),
        added_km=_r(sum(r.added_m for r in rets) / 1_000),
        added_co2_g=_r(sum(r.added_co2_g for r in rets)),
        expected_resale_share=_share(sum(r.resale_probability for r in rets), len(rets)),
        expected_recovery_eur=_r(sum(r.expected_net_eur for r in rets)),
        no_room=twin.returns_no_room,
        max_load_share=_r(twin.max_load_share),
    )


SUMMARY_METRICS = (
    "on_time_share",
    "first_attempt_success",
    "cost_per_parcel",
    "co2_g_per_parcel",
    "km",
    "utilisation",
    "delivered",
    "failed",
    "unserved",
    "mean_wait_days",
)
"""Replication KPIs summarised with confidence intervals."""

TYPE_METRICS = (
    "delivered",
    "first_attempt_success",
    "on_time_share",
    "cost_per_parcel",
    "co2_g_per_parcel",
    "km",
    "utilisation",
)
"""Per-type KPIs summarised with confidence intervals."""

RETURN_METRICS = (
    "asked",
    "collected",
    "collected_share",
    "on_tour_share",
    "to_store_share",
    "added_km",
    "added_co2_g",
    "expected_resale_share",
)
"""Return KPIs summarised with confidence intervals (as ``returns_<metric>``)."""

PROMISE_METRICS = (
    "promised",
    "kept_share",
    "on_time_at_place_share",
    "absent",
    "rescheduled",
    "late_p50_min",
    "late_p90_min",
    "late_max_min",
    "notices",
    "announced_before_miss_share",
    "cost_per_kept",
)
"""Promise KPIs summarised with confidence intervals (as ``promises_<metric>``)."""


def summarise(
    reps: Sequence[ReplicationKpis],
) -> tuple[Mapping[str, Estimate], Mapping[str, Mapping[str, Estimate]]]:
    """Means and 95 % CIs over replications: overall, and per vehicle type."""
    overall = {
        m: estimate([float(getattr(r, m)) for r in reps], bounds=_bounds(m))
        for m in SUMMARY_METRICS
    }
    overall["lateness_p90_min"] = estimate([r.lateness_min.p90 for r in reps], bounds=_NONNEG)
    with_returns = [r.returns for r in reps if r.returns is not None]
    if with_returns:
        for m in RETURN_METRICS:
            bounds = _UNIT if m.endswith("_share") else _NONNEG
            overall[f"returns_{m}"] = estimate(
                [float(getattr(r, m)) for r in with_returns], bounds=bounds
            )
    promises = [r.promises for r in reps if r.promises is not None]
    if promises:
        for m in PROMISE_METRICS:
            bounds = _UNIT if m.endswith("_share") else _NONNEG
            overall[f"promises_{m}"] = estimate(
                [float(getattr(p, m)) for p in promises], bounds=bounds
            )
    types = sorted({t.vehicle_type for r in reps for t in r.per_type})
    per_type: dict[str, dict[str, Estimate]] = {}
    for name in types:
        rows = [t for r in reps for t in r.per_type if t.vehicle_type == name]
        per_type[name] = {
            m: estimate([float(getattr(t, m)) for t in rows], bounds=_bounds(m))
            for m in TYPE_METRICS
        }
        kept = [t for p in promises for t in p.per_type if t.vehicle_type == name]
        if kept:
            per_type[name]["promises_kept_share"] = estimate(
                [t.kept_share for t in kept], bounds=_UNIT
            )
            per_type[name]["promises_cost_per_kept"] = estimate(
                [t.cost_per_kept for t in kept], bounds=_NONNEG
            )
    return overall, per_type


_SHARES = frozenset({"on_time_share", "first_attempt_success"})
_UNIT = (0.0, 1.0)
_NONNEG = (0.0, math.inf)


def _bounds(metric: str) -> tuple[float, float]:
    """Values a metric can take: shares lie in [0, 1], counts, EUR, grams and km are >= 0
    (utilisation may pass 1 when a vehicle comes back after its shift)."""
    return _UNIT if metric in _SHARES else _NONNEG


def paid_hours(agent: Agent, clock: Callable[[int, float], int] | None = None) -> float:
    """Hours a hub vehicle's driver or rider is paid: the whole shift on every day the vehicle
    is used (a carrier calls a driver in for a shift, not for the minutes on the road), and
    until they are back when that is later than the shift's end.

    ``clock(day, wall_s)`` turns the shift's wall-clock hours into elapsed seconds on ``day``
    (:meth:`simulation.twin.Twin.clock_s`), the clock the vehicle's return is counted on: a
    shift across a daylight-saving change is an hour shorter or longer. Without it, wall clock.
    """
    total = 0
    for day in agent.days_used:
        start, end = agent.shift
        if clock is not None:
            start, end = clock(day, start), clock(day, end)
        total += max(end, agent.back_s.get(day, end)) - start
    return total / HOUR_S


def robot_dock_cost(scenario: Scenario, type_name: str = "robot") -> float:
    """EUR of the charging docks of the hubs that hold robots, over the simulated days: a dock
    costs its day whether or not the robots run (:class:`~simulation.scenario.RobotSpec`)."""
    docks = sum(h.chargers for h in scenario.fleet.hubs if h.vehicles.get(type_name, 0) > 0)
    return docks * scenario.fleet.robots.dock_eur_per_day * scenario.days


def _type_kpis(
    name: str,
    agents: int,
    attempts: int,
    orders: Sequence[OrderState],
    km: float,
    co2: float,
    cost: float,
    utilisation: float,
) -> TypeKpis:
    mine = [o for o in orders if o.delivered_by == name]
    first = [o for o in orders if o.first_type == name]
    return TypeKpis(
        vehicle_type=name,
        agents=agents,
        attempts=attempts,
        delivered=len(mine),
        first_attempt_success=_share(sum(bool(o.first_attempt_ok) for o in first), len(first)),
        on_time_share=_share(sum(o.on_time for o in mine), len(mine)),
        km=_r(km),
        co2_g=_r(co2),
        cost_eur=_r(cost),
        cost_per_parcel=_share(cost, len(mine)),
        co2_g_per_parcel=_share(co2, len(mine)),
        utilisation=_r(utilisation) if not math.isnan(utilisation) else math.nan,
    )


def _share(part: float, whole: float) -> float:
    return _r(part / whole) if whole else math.nan


def _r(x: float) -> float:
    """Rounded to 6 significant decimals, so reports compare and diff cleanly."""
    return round(float(x), 6)
