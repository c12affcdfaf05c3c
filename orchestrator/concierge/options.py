"""The delivery options a customer sees: feasible, priced, scored for them, and explained.

For one order and the next few days, :func:`delivery_options` enumerates candidates — the
places the customer's schedule puts them at × windows inside those stretches × a service level
(standard two-hour window, express one-hour window on the first day, eco: a wide window on the
day that already has the most stops near them, within the wait they accept) — and checks each
against that day's tentative plan by cheap insertion (:class:`routing.Timeline`), never by a
full re-solve. Each feasible option carries the marginal cost and CO2 of serving it, a price,
an ETA window, a personal score from :mod:`orchestrator.concierge.learning` and one sentence saying
why — in English, and as :class:`~orchestrator.concierge.learning.Reason` values (one per phrase,
in the sentence's order) for a page to say in its reader's language.

**How sure each option is.** The day's timeline is timed on the buffer its plans are made on
(:attr:`DayPlan.buffer`: legs and service times at a high quantile of the spread learned from
outcomes, :mod:`orchestrator.planning.spread`), and the new stop is inserted with legs and
service scaled alike. Each option's ``confidence`` is the probability that the vehicle starts
serving it before the window ends (:func:`~orchestrator.planning.spread.keep_probability`):
the elapsed time from the route's start to the planned start of service (for a vehicle
still idle: its drive from the depot, half the added duration less the service), taken back
to the travel provider's own time by the profile's travel factor (the service factor is
larger, so this is cautious), against the learned travel spread of the route's profile at
the hour and zone of the stop (:meth:`~orchestrator.planning.spread.SpreadBook.estimate`). An
option whose confidence, to two decimals, is below the buffer's confidence (the setting
``promise_confidence``) is **not offered**: a promise the plan keeps less often than stated
is not made; with the buffer off (confidence 0) every feasible option is offered, each with
its confidence.

The core here is pure: the day's timelines, the customer's profile and the parcel come in as
plain values; :mod:`orchestrator.concierge.offers` gathers them from the store and keeps holds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from orchestrator.concierge.learning import (
    Reason,
    SlotKey,
    SlotScore,
    SlotStats,
    daypart_of,
    score,
)
from orchestrator.concierge.schedule import WeeklySchedule, day_segments
from orchestrator.errors import InvalidInput
from orchestrator.planning.day_plan import DayPlan
from orchestrator.planning.problem import accepted_vehicle_types
from orchestrator.planning.spread import SpreadKey, keep_probability, zone_of
from routing.insertion import Candidate, Insertion, LegTravel
from routing.model import StopKind, TimeWindow

_MIN_ECO = timedelta(hours=2)
"""Shortest eco window: narrower ones leave no room to group drops."""

__all__ = [
    "DayPlan",
    "DeliveryOption",
    "OptionPolicy",
    "OptionRequest",
    "ParcelSize",
    "PlaceInfo",
    "PreferredWindow",
    "ServiceLevel",
    "delivery_options",
    "evaluate_choice",
    "offered_windows",
]


class ServiceLevel(StrEnum):
    """How fast and how green."""

    STANDARD = "standard"
    """A two-hour window."""
    EXPRESS = "express"
    """A one-hour window on the first day offered, at a premium."""
    ECO = "eco"
    """A wide window on the day most neighbours are served, within the wait accepted."""


@dataclass(frozen=True, slots=True)
class PlaceInfo:
    """One of the customer's places: where it is and what kind (home, office, cafe, locker)."""

    name: str
    lat: float
    lon: float
    kind: str = "home"


@dataclass(frozen=True, slots=True)
class ParcelSize:
    """The order's demand per planning dimension (as :mod:`orchestrator.planning.problem` builds
    it),
    whether it is small enough for a sidewalk robot, the service time (seconds) and the
    skills a vehicle needs for it (``fragile``, ``signature``, ``cold``)."""

    demand: tuple[int, ...]
    robot_ok: bool
    service_s: int = 120
    skills: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class PreferredWindow:
    """A time of day the customer prefers on ``weekdays`` (0 = Monday), local wall-clock."""

    weekdays: frozenset[int]
    start: time
    end: time

    def __post_init__(self) -> None:
        if not self.weekdays or not all(0 <= d <= 6 for d in self.weekdays):
            raise InvalidInput("weekdays", "give weekdays 0 (Monday) to 6 (Sunday)")
        if self.end <= self.start:
            raise InvalidInput(
                "end",
                f"a preferred window must end after it starts within the day, not "
                f"{self.start:%H:%M}-{self.end:%H:%M} — split it at midnight",
            )

    def holds(self, start: datetime, end: datetime) -> bool:
        """Whether the local window ``start``-``end`` (aware, in the customer's zone) lies
        inside this preference."""
        return (
            start.weekday() in self.weekdays
            and start.date() == end.date()
            and self.start <= start.time()
            and end.time() <= self.end
        )


@dataclass(frozen=True, slots=True)
class OptionRequest:
    """Everything about the customer and the order that options depend on.

    Parameters
    ----------
    schedule
        Where the customer is by weekday and time.
    places
        Their places by name (every place the schedule names must be here).
    stats
        What their choices and deliveries taught.
    parcel
        The order's size.
    accepts_robot, accepts_courier
        Whether a sidewalk robot or a crowdsourced courier may bring it.
    eco_max_wait_days
        Longest extra wait accepted for a consolidated drop (0: no eco options).
    prefers_eco
        Rank greener options higher.
    now
        The moment of asking (aware).
    preferred_windows
        Times of day the customer prefers: options inside one rank higher and say so.
    neighbours
        Look-alike success rates (:func:`orchestrator.concierge.learning.neighbour_prior`), used as
        the
        prior of a customer whose schedule declares no rule.
    """

    schedule: WeeklySchedule
    places: Mapping[str, PlaceInfo]
    stats: SlotStats
    parcel: ParcelSize
    accepts_robot: bool = False
    accepts_courier: bool = True
    eco_max_wait_days: int = 0
    prefers_eco: bool = False
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    preferred_windows: tuple[PreferredWindow, ...] = ()
    neighbours: Mapping[tuple[str, int, str], float] | None = None

    def __post_init__(self) -> None:
        missing = [p for p in self.schedule.places() if p not in self.places]
        if missing:
            raise InvalidInput(
                ("schedule", "places"),
                f"the schedule names {missing} but the customer has no such place — add it "
                "or correct the schedule",
            )
        if self.eco_max_wait_days < 0:
            raise InvalidInput("eco_max_wait_days", "the accepted wait must be 0 days or more")
        if self.now.tzinfo is None:
            raise InvalidInput("now", "give the current time with an offset")


@dataclass(frozen=True, slots=True)
class OptionPolicy:
    """Prices and the weights of ranking (EUR, and plain numbers for weights)."""

    base_price: Mapping[ServiceLevel, float] = field(
        default_factory=lambda: {
            ServiceLevel.STANDARD: 4.90,
            ServiceLevel.EXPRESS: 9.90,
            ServiceLevel.ECO: 2.90,
        }
    )
    cost_share: float = 0.5
    """Share of the marginal cost passed on in the price."""
    surcharge_cap: float = 6.0
    """Most the marginal cost may add to the base price, EUR."""
    eta_spread_s: int = 900
    """The ETA window is the planned start ± this, clipped to the promised window."""
    cost_weight: float = 0.15
    """Score points lost by the costliest options when ranking (scaled by ``cost_scale``)."""
    cost_scale: float = 20.0
    """Marginal cost, EUR, at which an option loses all of ``cost_weight``."""
    eco_weight: float = 0.2
    """Score points gained per kg CO2 saved against the dirtiest option, for eco customers."""
    neighbour_radius_m: float = 800.0
    """Planned stops this close count as neighbours for eco consolidation."""
    preferred_weight: float = 0.1
    """Score points gained by an option inside one of the customer's preferred windows."""


@dataclass(frozen=True, slots=True)
class DeliveryOption:
    """One thing the customer may choose, with what it costs the fleet and them.

    Times are aware instants; ``price_eur`` is what the customer pays; ``marginal_cost_eur``
    and ``co2_g`` are what serving it adds to the day; ``score`` ranks it for this customer.
    """

    day: date
    place: str
    level: ServiceLevel
    window_start: datetime
    window_end: datetime
    eta_start: datetime
    eta_end: datetime
    vehicle_type: str
    route_id: str
    position: int
    marginal_cost_eur: float
    co2_g: float
    price_eur: float
    score: float
    explanation: str
    greenest: bool = False
    confidence: float = 1.0
    """Probability the window is kept (the module's notes), 0 to 1."""
    reasons: tuple[Reason, ...] = ()
    """What ``explanation`` says, phrase by phrase, as codes and values."""


@dataclass(frozen=True, slots=True, eq=False)
class _Found:
    """A feasible option before it is dressed: just what ranking needs."""

    plan: DayPlan
    place: PlaceInfo
    level: ServiceLevel
    ins: Insertion
    score: float
    preferred: bool
    cost: float
    co2_g: float
    note: str = ""
    note_reason: Reason | None = None
    confidence: float = 1.0


def delivery_options(
    request: OptionRequest,
    days: Sequence[DayPlan],
    travel: LegTravel,
    *,
    k: int = 5,
    policy: OptionPolicy | None = None,
) -> list[DeliveryOption]:
    """The top ``k`` feasible options over ``days``, best first, the greenest marked.

    Raises
    ------
    InvalidInput
        If no day is given or ``k`` is not positive.
    """
    policy = policy or OptionPolicy()
    if not days:
        raise InvalidInput("days", "give at least one service day to offer")
    if k < 1:
        raise InvalidInput("k", "ask for at least one option")
    days = sorted(days, key=lambda d: d.day)
    first = days[0].day
    found: list[_Found] = []
    scores: dict[tuple[SlotKey, date], float] = {}
    for plan in days:
        types = _eligible_types(request, plan)
        legs = plan.buffer.legs(travel)
        for place_name, windows in _place_windows(request, plan, first).items():
            place = request.places[place_name]
            # Every level's windows in one candidate: one vectorised pass per place and day.
            tagged = [(level, w) for level, ws in windows.items() for w in ws]
            if not tagged:
                continue
            candidate = Candidate(
                place.lat,
                place.lon,
                tuple(TimeWindow(plan.seconds(a), plan.seconds(b)) for _, (a, b) in tagged),
                service=plan.buffer.service_seconds(request.parcel.service_s),
                demand=request.parcel.demand,
                kind=StopKind.DELIVERY,
                skills=request.parcel.skills,
                vehicle_types=types,
            )
            insertions = plan.timeline.best_insertions(candidate, legs)
            for (level, (start, end)), ins in zip(tagged, insertions, strict=True):
                if not ins.feasible:
                    continue
                sure = _confidence(plan, place, ins, candidate.service)
                if not _promised(plan, sure):
                    continue
                local = start.astimezone(request.schedule.zone)
                slot = SlotKey(place.name, local.weekday(), daypart_of(local.time()))
                judged = scores.get((slot, plan.day))
                if judged is None:
                    judged = scores[slot, plan.day] = _judge(request, plan, place, slot).score
                found.append(
                    _Found(
                        plan, place, level, ins, judged, _preferred(request, start, end),
                        round(ins.cost, 2), round(ins.co2_g, 1), confidence=sure,
                    )
                )  # fmt: skip
    if not found:
        return []
    found = _eco_consolidation(found, request, days, policy)
    dirtiest = max(f.co2_g for f in found)
    ranked = sorted(found, key=lambda f: _rank(f, request, dirtiest, policy), reverse=True)
    top = [
        replace(o, explanation=o.explanation + f.note, reasons=(*o.reasons, f.note_reason))
        if f.note and f.note_reason
        else o
        for f in ranked[:k]
        for o in (_option(request, f.plan, f.place, f.level, f.ins, policy, f.confidence),)
    ]
    greenest = min(top, key=lambda o: (o.co2_g, -o.score))
    return [replace(o, greenest=o is greenest) for o in top]


def _eligible_types(request: OptionRequest, plan: DayPlan) -> frozenset[str]:
    """The plan's vehicle types that may bring the parcel: build_problem's acceptance rule,
    with a robot also refused when the parcel does not fit one."""
    types = accepted_vehicle_types(
        plan.vehicle_kinds,
        accepts_robot=request.accepts_robot and request.parcel.robot_ok,
        accepts_courier=request.accepts_courier,
    )
    return frozenset(plan.vehicle_kinds) if types is None else types


def _place_windows(
    request: OptionRequest, plan: DayPlan, first: date
) -> dict[str, dict[ServiceLevel, list[tuple[datetime, datetime]]]]:
    """Windows per place and level on ``plan.day``, inside the place's stretches, the depot's
    opening hours and the future."""
    zone = request.schedule.zone
    open_at = datetime.combine(plan.day, plan.opening, zone)
    close_at = datetime.combine(plan.day, plan.closing, zone)
    earliest = request.now + timedelta(hours=1)
    out: dict[str, dict[ServiceLevel, list[tuple[datetime, datetime]]]] = {}
    wait = (plan.day - first).days
    for span in day_segments(request.schedule, plan.day):
        lo, hi = max(span.start, open_at, earliest), min(span.end, close_at)
        levels = out.setdefault(span.place, {level: [] for level in ServiceLevel})
        for level, width in (
            (ServiceLevel.STANDARD, timedelta(hours=2)),
            (ServiceLevel.EXPRESS, timedelta(hours=1)),
            (ServiceLevel.ECO, timedelta(hours=4)),
        ):
            if level is ServiceLevel.EXPRESS and plan.day != first:
                continue
            if level is ServiceLevel.ECO and (
                request.eco_max_wait_days == 0 or wait > request.eco_max_wait_days
            ):
                continue
            windows = _aligned(lo, hi, width, zone)
            if not windows and level is ServiceLevel.ECO:
                # A stretch shorter than an eco window: offer all of it, if it is worth a trip.
                windows = [w for w in _aligned(lo, hi, hi - lo, zone) if w[1] - w[0] >= _MIN_ECO]
            levels[level].extend(windows)
    return out


def _aligned(
    lo: datetime, hi: datetime, width: timedelta, zone: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """Back-to-back windows of ``width`` starting on whole local hours inside ``[lo, hi]``."""
    local = lo.astimezone(zone)
    start = local.replace(minute=0, second=0, microsecond=0)
    if start < local:
        start += timedelta(hours=1)
    out: list[tuple[datetime, datetime]] = []
    if width <= timedelta(0):
        return out
    while start + width <= hi:
        out.append((start, start + width))
        start += width
    return out


def _judge(request: OptionRequest, plan: DayPlan, place: PlaceInfo, slot: SlotKey) -> SlotScore:
    """How likely the customer is at ``slot`` on ``plan.day``, and why."""
    if request.neighbours and not request.schedule.rules:
        # Nothing declared beyond a home: customers who choose alike say more than a default.
        return score(
            request.stats, slot, at=request.now, neighbours=request.neighbours, kind=place.kind
        )
    return score(request.stats, slot, at=request.now, schedule=request.schedule, day=plan.day)


def _option(
    request: OptionRequest,
    plan: DayPlan,
    place: PlaceInfo,
    level: ServiceLevel,
    ins: Insertion,
    policy: OptionPolicy,
    confidence: float = 1.0,
) -> DeliveryOption:
    assert ins.eta is not None and ins.route_id is not None and ins.position is not None
    window_start, window_end = plan.instant(ins.window.start), plan.instant(ins.window.end)
    eta = ins.eta
    eta_lo = max(ins.window.start, eta - policy.eta_spread_s)
    eta_hi = min(ins.window.end, eta + policy.eta_spread_s)
    local = window_start.astimezone(request.schedule.zone)
    slot = SlotKey(place.name, local.weekday(), daypart_of(local.time()))
    judged = _judge(request, plan, place, slot)
    explanation, reasons = judged.explanation, judged.reasons
    if _preferred(request, window_start, window_end):
        until = window_end.astimezone(request.schedule.zone)
        explanation += f"; inside the time you prefer ({local:%H:%M}-{until:%H:%M})"
        reasons += (
            Reason("preferred_window", {"start": f"{local:%H:%M}", "end": f"{until:%H:%M}"}),
        )
    vehicle_type = plan.timeline.route(ins.route_id).vehicle_type.name
    surcharge = min(policy.surcharge_cap, policy.cost_share * ins.cost)
    price = policy.base_price[level] + surcharge
    return DeliveryOption(
        day=plan.day,
        place=place.name,
        level=level,
        window_start=window_start,
        window_end=window_end,
        eta_start=plan.instant(eta_lo),
        eta_end=plan.instant(eta_hi),
        vehicle_type=vehicle_type,
        route_id=ins.route_id,
        position=ins.position,
        marginal_cost_eur=round(ins.cost, 2),
        co2_g=round(ins.co2_g, 1),
        price_eur=round(price, 2),
        score=judged.score,
        explanation=explanation,
        confidence=confidence,
        reasons=reasons,
    )


def _confidence(plan: DayPlan, place: PlaceInfo, ins: Insertion, service_s: int) -> float:
    """The probability the insertion's window is kept (the module's notes), rounded to 3
    decimals; ``service_s`` is the buffered service time of the new stop, seconds."""
    assert ins.eta is not None and ins.route_id is not None
    route = plan.timeline.route(ins.route_id)
    profile = route.vehicle_type.profile
    if route.idle:
        elapsed = max(0.0, (ins.added_duration - service_s) / 2)
    else:
        elapsed = float(ins.eta - int(route.starts[0]))
    nominal = elapsed / plan.buffer.travel_factor(profile)
    slack = ins.window.end - ins.eta
    hour = _hour(ins.eta)
    key = SpreadKey("travel", profile, hour, zone_of(place.lat, place.lon))
    p = keep_probability(nominal, slack + (elapsed - nominal), plan.book.estimate(key))
    return round(p, 3)


def _hour(seconds: int) -> int:
    """The local hour (0-23) of ``seconds`` on the timeline (seconds since local midnight;
    a day that changes its clock is off by an hour for part of it — the spread's hour is a
    coarse key)."""
    return int(seconds // 3_600) % 24


def _promised(plan: DayPlan, confidence: float) -> bool:
    """Whether an option kept with ``confidence`` may be offered on ``plan``'s day: at or
    above the buffer's confidence, to two decimals (no floor without a buffer)."""
    floor = plan.buffer.confidence
    return floor is None or round(confidence, 2) >= round(floor, 2)


def _eco_consolidation(
    found: list[_Found],
    request: OptionRequest,
    days: Sequence[DayPlan],
    policy: OptionPolicy,
) -> list[_Found]:
    """Keep, per place, only the eco options of the day with the most planned neighbours, and
    say so."""
    eco = [f for f in found if f.level is ServiceLevel.ECO]
    if not eco:
        return found
    best_day: dict[str, tuple[int, date]] = {}
    counted: set[tuple[str, date]] = set()
    for f in eco:
        name = f.place.name
        if (name, f.plan.day) in counted:
            continue
        counted.add((name, f.plan.day))
        n = f.plan.timeline.stops_near(f.place.lat, f.place.lon, policy.neighbour_radius_m)
        if name not in best_day or n > best_day[name][0]:
            best_day[name] = (n, f.plan.day)
    kept = []
    for f in found:
        if f.level is not ServiceLevel.ECO:
            kept.append(f)
        elif f.plan.day == best_day[f.place.name][1]:
            n = best_day[f.place.name][0]
            why = (
                f"eco: {n} neighbours are already served on {f.plan.day:%A}, so one grouped trip "
                "brings yours"
                if n
                else "eco: a wide window lets a passing vehicle bring it"
            )
            reason = (
                Reason("eco_grouped", {"count": n, "weekday": f.plan.day.weekday()})
                if n
                else Reason("eco_wide")
            )
            kept.append(replace(f, note=f"; {why}", note_reason=reason))
    return kept


def _rank(f: _Found, request: OptionRequest, dirtiest: float, policy: OptionPolicy) -> float:
    value = f.score - policy.cost_weight * min(f.cost / policy.cost_scale, 1.0)
    if f.preferred:
        value += policy.preferred_weight
    if request.prefers_eco:
        value += policy.eco_weight * (dirtiest - f.co2_g) / 1000
    return value


def _preferred(request: OptionRequest, start: datetime, end: datetime) -> bool:
    zone = request.schedule.zone
    lo, hi = start.astimezone(zone), end.astimezone(zone)
    return any(p.holds(lo, hi) for p in request.preferred_windows)


def offered_windows(
    request: OptionRequest, plan: DayPlan, first: date
) -> dict[str, dict[ServiceLevel, list[tuple[datetime, datetime]]]]:
    """The windows offered on ``plan.day`` per place and service level, before any check of
    the plan (``first`` is the first day offered: express exists only then)."""
    return _place_windows(request, plan, first)


def evaluate_choice(
    request: OptionRequest,
    plan: DayPlan,
    first: date,
    travel: LegTravel,
    *,
    place: str,
    level: ServiceLevel,
    window_start: datetime,
    window_end: datetime,
    policy: OptionPolicy | None = None,
) -> DeliveryOption | None:
    """The option a customer chose, checked against the day as it is now and priced.

    Parameters
    ----------
    request
        The customer and the order, as for :func:`delivery_options`.
    plan
        The tentative plan of the chosen day.
    first
        The first day options are offered for (express windows exist only on it).
    travel
        Legs to and from the new stop.
    place, level, window_start, window_end
        What was chosen (aware instants).

    Returns
    -------
    DeliveryOption or None
        ``None`` when the window no longer fits the day's plan (someone took the room), or
        is kept less surely than the day's buffer promises.

    Raises
    ------
    InvalidInput
        The place is not the customer's, or the window is not one offered for that place and
        level on that day (field ``place``, ``window_start``).
    """
    policy = policy or OptionPolicy()
    info = request.places.get(place)
    if info is None:
        raise InvalidInput("place_id", f"{place!r} is not one of your places — add it first")
    offered = _place_windows(request, plan, first).get(place, {}).get(level, [])
    wanted = (window_start.astimezone(UTC), window_end.astimezone(UTC))
    if wanted not in [(a.astimezone(UTC), b.astimezone(UTC)) for a, b in offered]:
        zone = request.schedule.zone
        raise InvalidInput(
            "window_start",
            f"{level.value} {window_start.astimezone(zone):%H:%M}-"
            f"{window_end.astimezone(zone):%H:%M} at {place} on {plan.day} is not an option "
            "offered — ask for the options again and pick one of them",
        )
    candidate = Candidate(
        info.lat,
        info.lon,
        (TimeWindow(plan.seconds(window_start), plan.seconds(window_end)),),
        service=plan.buffer.service_seconds(request.parcel.service_s),
        demand=request.parcel.demand,
        kind=StopKind.DELIVERY,
        skills=request.parcel.skills,
        vehicle_types=_eligible_types(request, plan),
    )
    (insertion,) = plan.timeline.best_insertions(candidate, plan.buffer.legs(travel))
    if not insertion.feasible:
        return None
    sure = _confidence(plan, info, insertion, candidate.service)
    if not _promised(plan, sure):
        return None  # no longer kept as surely as promised: as good as taken
    return _option(request, plan, info, level, insertion, policy, sure)
