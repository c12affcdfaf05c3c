"""Keep the promise while the day runs: how far a dispatched route runs behind, which promises
it will likely miss, and what is done about each — moved to another vehicle that keeps it, or
the customer told before the window opens, with the choices left. Never silently.

**What is known.** The stops closed (delivered or failed, with their ``closed_at``) and, when
the driver or the planner reports it (:class:`Report`), "at stop *k* at 10:40" or "running
*N* minutes late at 10:40". The **anchor** is the newest of these: a report; else the stop
closed last (the vehicle left it when it was closed); else the route's start (it left on
time). The route is **behind** by the anchor's actual time minus its planned one; a stop not
closed yet at ``now`` is also known not to be done before ``now``.

**The projection** (:func:`forecast_route`). From the anchor, each open stop's hand-over is
projected with the plan's own legs and service times (arrival minus the previous stop's
departure; departure minus service start), waiting for a window to open as the plan does.
The plan's times are its cautious ones (planned on the buffer kept in its stats,
:meth:`~orchestrator.planning.spread.Buffer.from_stats`), so each is first taken back to the
provider's own, then scaled by the depot's learned spread
(:func:`orchestrator.planning.spread_store.load_book`, per profile): the **expected** hand-over
with the median factor ``exp(mu)``, the **cautious** one with the factor at the production
confidence (``Settings.promise_confidence``; 0 there, no buffer, projects on the expected
times) — the same rule a promise is offered on. A stop is **at risk** when its route is behind (by
:data:`BEHIND_S` or more) and its cautious hand-over is after its promised window's end. A
route on time or ahead is trusted to the plan: its promises were offered at that confidence,
and re-scaling planned times a second time would flag on-time routes.

**What is done** (:func:`keep_promises`):

0. **Re-ordered**, after an outcome (the vehicle is at the stop it just closed), when the
   route's open stops — all on board — can be served in another order that starts every
   promised one inside its window at the confidence (the same re-planner and narrowing as a
   move, below; all or nothing). Each order whose ETA moved gets a ``replanned`` event, and
   the stop closed last the re-plan's departure, so the route is on time against the plan it
   now follows. Then, for each stop still at risk, in sequence order:

1. **Moved**, when its parcel is still at the depot (the stop is ``planned``: the route left
   without it, :func:`~orchestrator.operations.dispatch.dispatch_route` with ``stops=``) and a
   route of the plan that has not left yet can take it and still serve every one of its own
   stops inside their windows, the moved one's cautious hand-over inside its window (its window
   is narrowed for the solve so that a vehicle leaving at ``now`` or later, every time of its
   route at the confidence's factor, still starts it inside, :func:`_kept_at`). The
   re-plan is the "find me at the café" re-planner's
   (:mod:`orchestrator.operations.whereabouts`): that route's open stops plus this one, from
   where its vehicle is and when, windows and places hard — a promise is never moved outside
   its window (an order that fits nowhere stays where it is, and is announced). The moved
   order and each re-timed order of the receiving route get a ``replanned`` event (the
   ``order.eta_moved`` webhook). A parcel on board (``dispatched``) cannot change vehicles;
   a route already on its way is no candidate (it would have to fetch the parcel first).
2. **Announced** otherwise: a ``promise_at_risk`` event on the order (the
   ``order.promise_at_risk`` webhook), with the expected hand-over and the choices left
   (:func:`choices_left`): a later window today and another day (the options flow, while the
   parcel is not on board), and the customer's locker, if they have one. **Once per
   promise**: not again while no newer ``confirmed`` event (a new promise) follows it.

A driver's report re-orders nothing (the vehicle is on its way to its next stop); a late
route that cannot keep every promise by re-ordering keeps its order (a planner re-plans it).
Times are aware UTC instants; durations in seconds.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from orchestrator.errors import Conflict, InvalidInput, NotFound, PlanningFailed
from orchestrator.models import (
    Depot,
    Fleet,
    Order,
    OrderEvent,
    OrderEventKind,
    OrderStatus,
    Place,
    PlaceKind,
    Plan,
    PlanStatus,
    Route,
    RouteStatus,
    RouteStop,
    StopStatus,
    VehicleType,
)
from orchestrator.operations import whereabouts as _redirect
from orchestrator.planning.plans import plan_routes, route_stops
from orchestrator.planning.problem import MappedProblem, stop_id
from orchestrator.planning.spread import (
    Buffer,
    Estimate,
    SpreadBook,
    SpreadKey,
    keep_probability,
    quantile_factor,
)
from orchestrator.planning.spread_store import load_book
from orchestrator.planning.travel import TravelTimes, travel_from_settings
from orchestrator.settings import Settings
from orchestrator.store import events
from routing.errors import InvalidProblemError
from routing.model import Problem, TimeWindow
from routing.solution import Route as EngineRoute
from routing.solve import Limits

__all__ = [
    "BEHIND_S",
    "MAX_LATE_MIN",
    "MOVE_LIMITS",
    "Choice",
    "KeepResult",
    "Moved",
    "Report",
    "RiskNotice",
    "RouteForecast",
    "StopForecast",
    "after_outcome",
    "checked_report",
    "choices_left",
    "day_forecasts",
    "forecast_route",
    "keep_promises",
    "locker_place_id",
    "plan_forecasts",
    "production_confidence",
    "promise_risk",
]

_log = logging.getLogger(__name__)

BEHIND_S = 60
"""A route is behind from this many seconds later than planned (outcome times are recorded to
the second; a minute is no delay anyone acts on)."""

MAX_LATE_MIN = 12 * 60
"""Largest "running N minutes late" a report may give, minutes (and -N the earliest)."""

MOVE_LIMITS = Limits(time_limit=1.0, solution_limit=50, seed_with="none")
"""Solver limits of one try at moving a stop to another route (one vehicle's stops): at
most a second, or 50 improving solutions (a route of a few stops needs far fewer)."""

_CLOSED = (StopStatus.DELIVERED, StopStatus.FAILED)


# -- what is known ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Report:
    """A driver's or planner's word on a dispatched route, at clock time ``at`` (aware): the
    vehicle is at stop number ``stop`` (as the manifest numbers them, 1 first), or runs
    ``late_min`` minutes late (negative: early). Exactly one of the two."""

    at: datetime
    stop: int | None = None
    late_min: int | None = None


def checked_report(
    at: datetime | None, *, stop: int | None = None, late_min: int | None = None
) -> Report:
    """A :class:`Report` from a request's fields.

    Raises
    ------
    InvalidInput
        ``at`` missing or without an offset; neither or both of ``stop`` and ``late_min``;
        ``stop`` below 1; ``late_min`` beyond +-:data:`MAX_LATE_MIN`.
    """
    if at is None:
        raise InvalidInput("at", "give the clock time of the report (ISO 8601 with offset)")
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput("at", f"{at.isoformat()} has no UTC offset — give an aware time")
    if (stop is None) == (late_min is None):
        raise InvalidInput(
            "stop",
            "give stop (the stop number the vehicle is at) or late_min (minutes behind), "
            "exactly one",
        )
    if stop is not None and stop < 1:
        raise InvalidInput("stop", f"stop numbers start at 1, not {stop}")
    if late_min is not None and not -MAX_LATE_MIN <= late_min <= MAX_LATE_MIN:
        raise InvalidInput(
            "late_min", f"give -{MAX_LATE_MIN} to {MAX_LATE_MIN} minutes, not {late_min}"
        )
    return Report(at=at, stop=stop, late_min=late_min)


# -- the projection --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StopForecast:
    """An open stop's projected hand-over (service start).

    ``number`` is the stop's number on the route (1 first); ``window`` the promised one, if
    any; ``keep_probability`` the probability the hand-over is inside it (``None`` without a
    window)."""

    route_stop_id: int
    order_id: int
    number: int
    status: StopStatus
    planned_start: datetime
    expected_start: datetime
    cautious_start: datetime
    window: tuple[datetime, datetime] | None
    keep_probability: float | None
    at_risk: bool

    @property
    def late_min(self) -> int | None:
        """Whole minutes the expected hand-over is after the window's end (negative: before
        it), ``None`` without a window."""
        if self.window is None:
            return None
        return math.floor((self.expected_start - self.window[1]).total_seconds() / 60)


@dataclass(frozen=True, slots=True)
class RouteForecast:
    """A route's projection at ``as_of``: ``behind_s`` seconds later than planned (negative:
    ahead), each open stop projected (:class:`StopForecast`) at ``confidence``."""

    route_id: int
    vehicle_id: str
    as_of: datetime
    behind_s: int
    confidence: float
    stops: tuple[StopForecast, ...]

    @property
    def behind(self) -> bool:
        """Whether the route runs :data:`BEHIND_S` or more behind its plan."""
        return self.behind_s >= BEHIND_S

    @property
    def at_risk(self) -> tuple[StopForecast, ...]:
        """The stops whose promise it will likely miss."""
        return tuple(s for s in self.stops if s.at_risk)


@dataclass(frozen=True, slots=True)
class _Anchor:
    """Where the projection starts: the first stop to project (index into the open stops),
    when the vehicle left the previous point (actual and planned), and, when a report pins
    it, the first stop's arrival (expected and cautious)."""

    first: int
    left_at: datetime
    planned_left_at: datetime
    arrival: tuple[datetime, datetime] | None
    behind_s: int


def forecast_route(
    session: Session,
    route_id: int,
    *,
    report: Report | None = None,
    now: datetime | None = None,
    book: SpreadBook | None = None,
    confidence: float | None = None,
) -> RouteForecast:
    """Project a route's open stops from what is known (see the module's notes); reads only.

    Parameters
    ----------
    route_id
        The route.
    report
        A driver's or planner's report, if any (:func:`checked_report`).
    now
        The clock (aware): a stop not closed by then is not done before then. ``None``
        (e.g. for a past day) leaves the clock out.
    book
        Learned spreads (default: the depot's,
        :func:`~orchestrator.planning.spread_store.load_book`).
    confidence
        Probability a promise is meant to hold with (default :func:`production_confidence`).

    Raises
    ------
    NotFound
        No such route.
    InvalidInput
        A report's ``stop`` that is not an open stop of the route.
    """
    route = session.get(Route, route_id)
    if route is None:
        raise NotFound("route", route_id)
    assert route.id is not None
    plan = session.get(Plan, route.plan_id)
    assert plan is not None
    confidence = confidence if confidence is not None else production_confidence()
    book = book if book is not None else load_book(session, plan.depot_id)
    profile = _profile(session, route)
    # The plan's times are its buffered (cautious) ones: back to the provider's own first.
    buffer = Buffer.from_stats((plan.stats or {}).get("buffer"))
    travel = book.estimate(SpreadKey("travel", profile))
    service = book.estimate(SpreadKey("service", profile))
    f_travel = (
        quantile_factor(travel.mu, travel.sigma, 0.5) / buffer.travel_factor(profile),
        quantile_factor(travel.mu, travel.sigma, confidence) / buffer.travel_factor(profile),
    )
    f_service = (
        quantile_factor(service.mu, service.sigma, 0.5) / buffer.service,
        quantile_factor(service.mu, service.sigma, confidence) / buffer.service,
    )
    stops = list(route_stops(session, route.id))
    open_stops = [s for s in stops if s.status not in _CLOSED]
    anchor = _anchor(route, stops, open_stops, report, f_travel[1])
    windows = _windows(session, [s.order_id for s in open_stops])
    as_of = report.at if report is not None else (now or anchor.left_at)
    behind_s = anchor.behind_s
    if now is not None and anchor.first < len(open_stops):
        # The next stop is not closed at `now`: it is done no earlier than that.
        behind_s = max(behind_s, _seconds(now - open_stops[anchor.first].departure_at))
    forecasts: list[StopForecast] = []
    pinned = report is not None and report.stop is not None
    left = (anchor.left_at, anchor.left_at)
    planned_left = anchor.planned_left_at
    for k, s in enumerate(open_stops[anchor.first :]):
        leg = max(0.0, (s.arrival_at - planned_left).total_seconds())
        if k == 0 and anchor.arrival is not None:
            arrival = anchor.arrival
        else:
            arrival = (
                left[0] + timedelta(seconds=leg * f_travel[0]),
                left[1] + timedelta(seconds=leg * f_travel[1]),
            )
        window = windows.get(s.order_id)
        start = (
            arrival if window is None else (max(arrival[0], window[0]), max(arrival[1], window[0]))
        )
        served = max(0.0, (s.departure_at - s.service_start_at).total_seconds())
        left = (
            start[0] + timedelta(seconds=served * f_service[0]),
            start[1] + timedelta(seconds=served * f_service[1]),
        )
        if k == 0 and now is not None:
            left = (max(left[0], now), max(left[1], now))
        planned_left = s.departure_at
        keep = None
        if window is not None:
            elapsed = (start[0] - anchor.left_at).total_seconds()
            slack = (window[1] - start[0]).total_seconds()
            keep = keep_probability(elapsed, slack, Estimate(0.0, travel.sigma, travel.n))
        forecasts.append(
            StopForecast(
                route_stop_id=s.id or 0,
                order_id=s.order_id,
                number=s.sequence + 1,
                status=s.status,
                planned_start=s.service_start_at,
                expected_start=start[0].replace(microsecond=0),
                cautious_start=start[1].replace(microsecond=0),
                window=window,
                keep_probability=keep,
                # The stop the vehicle is at is being handed over: nothing left to tell.
                at_risk=behind_s >= BEHIND_S
                and window is not None
                and start[1] > window[1]
                and not (k == 0 and pinned),
            )
        )
    return RouteForecast(
        route_id=route.id,
        vehicle_id=route.vehicle_id,
        as_of=as_of,
        behind_s=behind_s,
        confidence=confidence,
        stops=tuple(forecasts),
    )


def plan_forecasts(
    session: Session, plan_id: int, *, now: datetime | None = None
) -> dict[int, RouteForecast]:
    """The forecast of each dispatched route of a plan (by route id), for the board; reads
    only. ``now`` as for :func:`forecast_route` (give it only on the plan's own day)."""
    return {
        r.id: forecast_route(session, r.id, now=now)
        for r in plan_routes(session, plan_id)
        if r.id is not None and r.status is RouteStatus.DISPATCHED
    }


def production_confidence(settings: Settings | None = None) -> float:
    """The confidence promises are kept with: ``Settings.promise_confidence``; 0 there (plans
    without a buffer) projects on the expected times (0.5)."""
    value = (settings or Settings()).promise_confidence
    return float(value) if value else 0.5


def _anchor(
    route: Route,
    stops: Sequence[RouteStop],
    open_stops: Sequence[RouteStop],
    report: Report | None,
    cautious: float,
) -> _Anchor:
    closed = [s for s in stops if s.status in _CLOSED]
    last = max(closed, key=lambda s: (s.closed_at or s.departure_at, s.sequence), default=None)
    if report is not None and report.stop is not None:
        at = [i for i, s in enumerate(open_stops) if s.sequence + 1 == report.stop]
        if not at:
            numbers = ", ".join(str(s.sequence + 1) for s in open_stops) or "none"
            raise InvalidInput(
                "stop", f"stop {report.stop} is not an open stop of the route (open: {numbers})"
            )
        s = open_stops[at[0]]
        behind = _seconds(report.at - s.arrival_at)
        return _Anchor(at[0], report.at, s.arrival_at, (report.at, report.at), behind)
    first = 0
    if last is not None:
        first = sum(1 for s in open_stops if s.sequence < last.sequence)
    if report is not None and report.late_min is not None and first < len(open_stops):
        s = open_stops[first]
        expected = s.arrival_at + timedelta(minutes=report.late_min)
        still = max(0.0, (expected - report.at).total_seconds())
        careful = expected + timedelta(seconds=still * (cautious - 1.0))
        left = report.at
        return _Anchor(first, left, left, (expected, careful), report.late_min * 60)
    if last is not None:
        left_at = last.closed_at or last.departure_at
        return _Anchor(
            first, left_at, last.departure_at, None, _seconds(left_at - last.departure_at)
        )
    return _Anchor(0, route.start_at, route.start_at, None, 0)


def _seconds(delta: timedelta) -> int:
    return math.floor(delta.total_seconds())


def _profile(session: Session, route: Route) -> str:
    fleet = session.get(Fleet, route.fleet_id)
    vtype = None if fleet is None else session.get(VehicleType, fleet.vehicle_type_id)
    return "car" if vtype is None else vtype.profile


def _windows(session: Session, order_ids: Sequence[int]) -> dict[int, tuple[datetime, datetime]]:
    rows = session.exec(
        select(Order.id, Order.window_start, Order.window_end).where(
            col(Order.id).in_(list(order_ids))
        )
    ).all()
    return {i: (a, b) for i, a, b in rows if i is not None and a is not None and b is not None}


# -- what is done ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Moved:
    """An order moved to another route to keep its window: its new route, vehicle, stop
    number and planned hand-over."""

    order_id: int
    route_id: int
    vehicle_id: str
    number: int
    service_start_at: datetime


@dataclass(frozen=True, slots=True)
class KeepResult:
    """What :func:`keep_promises` did: the forecast it acted on, the orders moved, the
    orders announced now, and those announced before (not again)."""

    forecast: RouteForecast
    moved: tuple[Moved, ...]
    announced: tuple[int, ...]
    announced_before: tuple[int, ...]


def keep_promises(
    session: Session,
    route_id: int,
    *,
    report: Report | None = None,
    now: datetime | None = None,
    travel: TravelTimes | Callable[[], TravelTimes] | None = None,
    book: SpreadBook | None = None,
    confidence: float | None = None,
    limits: Limits | None = None,
) -> KeepResult:
    """Project the route (:func:`forecast_route`) and, for each stop at risk, move it to a
    route that keeps its window or announce it (see the module's notes); commit.

    Parameters
    ----------
    now
        The clock (aware); default the report's time, else the clock.
    travel
        Travel times for a move's re-plan, or a function making them (called only when a
        move is tried); default from the settings.
    limits
        Solver limits of one try at a move (default :data:`MOVE_LIMITS`).

    Raises
    ------
    NotFound
        No such route.
    InvalidInput
        See :func:`forecast_route`.
    Conflict
        The route is not dispatched, or its plan is no longer current.
    """
    route = session.get(Route, route_id)
    if route is None:
        raise NotFound("route", route_id)
    plan = session.get(Plan, route.plan_id)
    assert plan is not None and plan.id is not None
    if plan.status is not PlanStatus.CURRENT:
        raise Conflict(f"route {route_id} belongs to plan {plan.id}, which is no longer current")
    if route.status is not RouteStatus.DISPATCHED:
        raise Conflict(
            f"route {route_id} ({route.vehicle_id}) has not left yet — dispatch it first; a "
            "route at the depot runs on its plan"
        )
    now = now or (report.at if report is not None else datetime.now().astimezone())
    book = book if book is not None else load_book(session, plan.depot_id)
    forecast = forecast_route(
        session, route_id, report=report, now=now, book=book, confidence=confidence
    )
    moved: list[Moved] = []
    announced: list[int] = []
    before: list[int] = []
    provider: TravelTimes | None = None
    if forecast.at_risk:
        provider = _travel(travel)
    if forecast.at_risk and report is None:
        # Right after an outcome the vehicle is at the stop it closed, its next stop not yet
        # chosen: its open stops may be re-ordered to keep every window.
        assert provider is not None
        if _try_reorder(
            session, plan, route, now, provider, limits or MOVE_LIMITS, forecast.confidence,
            book,
        ):  # fmt: skip
            forecast = forecast_route(
                session, route_id, report=report, now=now, book=book, confidence=confidence
            )
    for stop in forecast.at_risk:
        if stop.status is StopStatus.PLANNED:
            assert provider is not None
            done = _try_move(
                session, plan, route, stop, now, provider, limits or MOVE_LIMITS,
                forecast.confidence, book,
            )  # fmt: skip
            if done is not None:
                moved.append(done)
                continue
        if _announced(session, stop.order_id):
            before.append(stop.order_id)
            continue
        _announce(session, plan, route, stop)
        announced.append(stop.order_id)
    session.commit()
    return KeepResult(forecast, tuple(moved), tuple(announced), tuple(before))


def after_outcome(session: Session, route_id: int, at: datetime) -> KeepResult | None:
    """:func:`keep_promises` after a stop outcome at ``at``, for
    :func:`~orchestrator.operations.dispatch.mark_stop_outcome`: the outcome is committed
    already, so a failure here is logged, not raised (the driver's button must not fail
    because a re-plan could not be made); ``None`` then, or when the route has not left."""
    route = session.get(Route, route_id)
    if route is None or route.status is not RouteStatus.DISPATCHED:
        return None
    try:
        return keep_promises(session, route_id, now=at)
    except (Conflict, InvalidInput, PlanningFailed) as exc:
        session.rollback()
        _log.warning("route %s: promises not re-checked after an outcome: %s", route_id, exc)
        return None


def _travel(travel: TravelTimes | Callable[[], TravelTimes] | None) -> TravelTimes:
    if travel is None:
        return travel_from_settings()
    if callable(travel) and not hasattr(travel, "matrix"):
        made: TravelTimes = travel()
        return made
    return travel  # type: ignore[return-value]  # a TravelTimes (it has .matrix)


def _try_reorder(
    session: Session,
    plan: Plan,
    route: Route,
    now: datetime,
    travel: TravelTimes,
    limits: Limits,
    confidence: float,
    book: SpreadBook,
) -> bool:
    """Re-order the late route's open stops, all on board, so that every promised one starts
    inside its window at the confidence (windows narrowed as for a move, :func:`_kept_at`),
    from the stop closed last, leaving no earlier than ``now`` (the "find me at the café"
    re-planner, no stop locked: the vehicle is at the stop it just closed); written only when
    the order changes. ``False`` when it cannot, or need not."""
    stops = list(route_stops(session, route.id or 0))
    remaining = [s for s in stops if s.status not in _CLOSED]
    closed = [s for s in stops if s.status in _CLOSED]
    last = max(closed, key=lambda s: (s.closed_at or s.departure_at, s.sequence), default=None)
    if len(remaining) < 2 or last is None:
        return False  # nothing to re-order, or not after an outcome
    if any(s.status is not StopStatus.DISPATCHED for s in remaining):
        return False  # a parcel at the depot: the route cannot serve it on the way
    fleet = session.get(Fleet, route.fleet_id)
    vtype = None if fleet is None else session.get(VehicleType, fleet.vehicle_type_id)
    order = session.get(Order, remaining[-1].order_id)
    if fleet is None or vtype is None or order is None or order.place_id is None:
        return False
    place = session.get(Place, order.place_id)
    depot = session.get(Depot, order.depot_id)
    assert place is not None and depot is not None
    before = [(s.id, s.route_id, s.status, s.sequence) for s in stops]
    factor = book.factor(SpreadKey("travel", vtype.profile), confidence)
    try:
        _redirect._refuse_returns_ahead(session, route, remaining[0].sequence)
        mapped, problem, departure = _redirect._problem(
            session, depot, route, fleet, vtype, stops, remaining, order, place, now, False,
            travel, False,
        )  # fmt: skip
        for s in remaining:
            problem = _kept_at(problem, stop_id(s.order_id), mapped.midnight, now, factor)
        solved = _redirect._solve(
            problem, route, remaining, order, place, limits, False, ZoneInfo(depot.timezone)
        )
    except (Conflict, PlanningFailed, InvalidProblemError) as exc:
        _log.info("%s cannot be re-ordered to keep its promises: %s", route.vehicle_id, exc)
        return False
    new_order = [mapped.order_of_stop[v.stop_id] for v in solved.visits]
    if new_order == [s.order_id for s in remaining]:
        return False
    session.exec(select(Depot).where(Depot.id == depot.id).with_for_update()).one()
    if not _unchanged(session, plan, before):
        return False
    _write_reorder(session, plan, route, vtype, last, remaining, mapped, solved,
                   departure.driven_m, ZoneInfo(depot.timezone))  # fmt: skip
    return True


def _write_reorder(
    session: Session,
    plan: Plan,
    route: Route,
    vtype: VehicleType,
    last: RouteStop,
    remaining: Sequence[RouteStop],
    mapped: MappedProblem,
    solved: EngineRoute,
    driven_m: int,
    zone: ZoneInfo,
) -> None:
    """Persist a re-ordered late route: its open stops in the solved order (the same
    sequence numbers), their ETAs, the route's end and totals, a ``replanned`` event per
    order whose ETA moved. The stop closed last gets the re-plan's departure from it, so the
    plan's legs stay the re-plan's (the route is on time against the plan it now follows)."""
    last.departure_at = mapped.at(solved.start_time)
    session.add(last)
    by_order = {s.order_id: s for s in remaining}
    previous = {s.order_id: s.arrival_at for s in remaining}
    slots = sorted(s.sequence for s in remaining)
    parked = max(slots) + 1_000
    for k, s in enumerate(remaining):
        s.sequence = parked + k
        session.add(s)
    session.flush()
    for seq, visit in zip(slots, solved.visits, strict=True):
        s = by_order[mapped.order_of_stop[visit.stop_id]]
        s.sequence = seq
        _redirect._retime(s, visit, mapped)
        session.add(s)
        if s.arrival_at == previous[s.order_id]:
            continue
        eta = s.arrival_at.astimezone(zone).strftime("%H:%M")
        events.record(
            session, s.order_id, OrderEventKind.REPLANNED, plan_id=plan.id,
            detail=f"{route.vehicle_id} runs late: its stops re-ordered to keep the promised "
            f"windows; stop {seq + 1}, ETA {eta}",
            eta=s.arrival_at, previous_eta=previous[s.order_id],
        )  # fmt: skip
    old = (route.distance_m, route.duration_s, route.cost, route.co2_g)
    route.end_at = mapped.at(solved.end_time)
    route.distance_m = driven_m + solved.distance
    route.duration_s = int((route.end_at - route.start_at).total_seconds())
    _redirect._price(route, vtype)
    session.add(route)
    _redirect._add_delta(plan, old, route)
    session.add(plan)
    session.flush()


def _try_move(
    session: Session,
    plan: Plan,
    late: Route,
    stop: StopForecast,
    now: datetime,
    travel: TravelTimes,
    limits: Limits,
    confidence: float,
    book: SpreadBook,
) -> Moved | None:
    """Move the stop to the first route of the plan not yet left that keeps every window
    (its own at the confidence); ``None`` when none can. Writes in the session."""
    order = session.get(Order, stop.order_id)
    row = session.get(RouteStop, stop.route_stop_id)
    if order is None or order.place_id is None or row is None or stop.window is None:
        return None
    place = session.get(Place, order.place_id)
    depot = session.get(Depot, order.depot_id)
    assert place is not None and depot is not None
    zone = ZoneInfo(depot.timezone)
    candidates = [
        r
        for r in plan_routes(session, plan.id or 0)
        if r.id != late.id and r.status is RouteStatus.PLANNED and r.id is not None
    ]
    for target in candidates:
        assert target.id is not None
        fleet = session.get(Fleet, target.fleet_id)
        vtype = None if fleet is None else session.get(VehicleType, fleet.vehicle_type_id)
        if fleet is None or vtype is None:
            continue
        stops = list(route_stops(session, target.id))
        before = [(s.id, s.route_id, s.status, s.sequence) for s in [*stops, row]]
        remaining = [s for s in stops if s.status not in _CLOSED]
        try:
            _redirect._refuse_returns_ahead(session, target, -1)
            mapped, problem, _ = _redirect._problem(
                session, depot, target, fleet, vtype, stops, [*remaining, row], order, place,
                now, False, travel, False,
            )  # fmt: skip
            factor = book.factor(SpreadKey("travel", vtype.profile), confidence)
            problem = _kept_at(problem, stop_id(order.id or 0), mapped.midnight, now, factor)
            solved = _redirect._solve(
                problem, target, [*remaining, row], order, place, limits, False, zone
            )
        except (Conflict, PlanningFailed, InvalidProblemError) as exc:
            _log.info("order %s cannot move to %s: %s", order.id, target.vehicle_id, exc)
            continue
        visit = next(v for v in solved.visits if mapped.order_of_stop.get(v.stop_id) == order.id)
        # Leaving no earlier than now, at `factor` on every time of the route: still inside.
        cautious = now + (mapped.at(visit.start) - now) * factor
        if cautious > stop.window[1]:
            continue
        # Serialise with planners and redirects of the depot (a row lock on PostgreSQL; SQLite
        # locks the file), then make sure neither route moved while the solver ran.
        session.exec(select(Depot).where(Depot.id == depot.id).with_for_update()).one()
        if not _unchanged(session, plan, before):
            _log.info("order %s: %s changed while a move was computed", order.id, target.vehicle_id)
            continue
        return _write_move(session, plan, late, target, vtype, row, remaining, mapped, solved,
                           order, stop, zone)  # fmt: skip
    return None


def _unchanged(
    session: Session, plan: Plan, before: Sequence[tuple[int | None, int, StopStatus, int]]
) -> bool:
    """Whether the plan is still current and each stop still has the route, status and
    sequence read before the solve (``before``: id, route id, status, sequence)."""
    status = session.exec(select(Plan.status).where(Plan.id == plan.id)).one()
    fresh = session.exec(
        select(RouteStop.id, RouteStop.route_id, RouteStop.status, RouteStop.sequence).where(
            col(RouteStop.id).in_([b[0] for b in before])
        )
    ).all()
    return status is PlanStatus.CURRENT and sorted(fresh) == sorted(before)


def _kept_at(
    problem: Problem, sid: str, midnight: datetime, now: datetime, factor: float
) -> Problem:
    """The problem with stop ``sid``'s windows ending early enough that a vehicle leaving at
    ``now`` or later, every time of its route ``factor`` times longer, still starts it inside
    them: a nominal start ``s`` with ``now + (s - now) * factor <= end``.

    Raises
    ------
    InvalidProblemError
        No window of the stop is left.
    """
    now_s = math.ceil((now - midnight).total_seconds())
    stops = []
    for stop in problem.stops:
        if stop.id == sid:
            windows = []
            for w in stop.windows:
                end = now_s + math.floor((w.end - now_s) / factor) if w.end > now_s else w.end
                if end >= w.start:
                    windows.append(TimeWindow(w.start, end))
            if not windows:
                raise InvalidProblemError(f"stop {sid}: no window is left to keep")
            stop = dataclasses.replace(stop, windows=tuple(windows))
        stops.append(stop)
    return dataclasses.replace(problem, stops=tuple(stops))


def _write_move(
    session: Session,
    plan: Plan,
    late: Route,
    target: Route,
    vtype: VehicleType,
    row: RouteStop,
    remaining: Sequence[RouteStop],
    mapped: MappedProblem,
    solved: EngineRoute,
    order: Order,
    stop: StopForecast,
    zone: ZoneInfo,
) -> Moved:
    """Persist a move: the receiving route's open stops (the moved one among them) in the
    solved order, its totals, and the events. The late route keeps its other stops."""
    previous = {s.order_id: s.arrival_at for s in [*remaining, row]}
    was = row.service_start_at
    moving = [*remaining, row]
    by_order = {s.order_id: s for s in moving}
    old = (target.distance_m, target.duration_s, target.cost, target.co2_g)
    stops_now = route_stops(session, target.id or 0)
    parked = max([s.sequence for s in stops_now] + [row.sequence], default=0) + 1_000
    for k, s in enumerate(moving):
        s.sequence = parked + k
        s.route_id = target.id or 0
        session.add(s)
    session.flush()
    first = max((s.sequence for s in stops_now if s.status in _CLOSED), default=-1) + 1

    def local(t: datetime) -> str:
        return t.astimezone(zone).strftime("%H:%M")

    moved: Moved | None = None
    for k, visit in enumerate(solved.visits):
        s = by_order[mapped.order_of_stop[visit.stop_id]]
        s.sequence = first + k
        _redirect._retime(s, visit, mapped)
        session.add(s)
        where = f"on {target.vehicle_id}, stop {s.sequence + 1}, ETA {local(s.arrival_at)}"
        if s.order_id == order.id:
            assert stop.window is not None
            moved = Moved(order.id, target.id or 0, target.vehicle_id, s.sequence + 1,
                          s.service_start_at)  # fmt: skip
            detail = (
                f"moved from {late.vehicle_id}, which runs late, to keep the promised window "
                f"{local(stop.window[0])}-{local(stop.window[1])}; {where}"
            )
        elif s.arrival_at != previous[s.order_id]:
            detail = f"re-timed after a stop was added to the route; {where}"
        else:
            continue
        events.record(
            session, s.order_id, OrderEventKind.REPLANNED, plan_id=plan.id, detail=detail,
            eta=s.arrival_at, previous_eta=previous[s.order_id],
        )  # fmt: skip
    target.start_at = mapped.at(solved.start_time)
    target.end_at = mapped.at(solved.end_time)
    target.distance_m = solved.distance
    target.duration_s = int((target.end_at - target.start_at).total_seconds())
    _redirect._price(target, vtype)
    session.add(target)
    _redirect._add_delta(plan, old, target)
    session.add(plan)
    session.flush()
    assert moved is not None, "the solved route holds the moved stop"
    _log.info("order %s moved from %s to %s (was %s)", order.id, late.vehicle_id,
              target.vehicle_id, was)  # fmt: skip
    return moved


def _announced(session: Session, order_id: int) -> bool:
    """Whether the order's current promise was announced at risk already: a
    ``promise_at_risk`` event newer than its last ``confirmed`` one."""
    last: dict[OrderEventKind, int] = {}
    for kind, event_id in session.exec(
        select(OrderEvent.kind, OrderEvent.id).where(
            OrderEvent.order_id == order_id,
            col(OrderEvent.kind).in_(
                [OrderEventKind.PROMISE_AT_RISK.value, OrderEventKind.CONFIRMED.value]
            ),
        )
    ).all():
        if event_id is not None:
            last[OrderEventKind(kind)] = max(last.get(OrderEventKind(kind), 0), event_id)
    risk = last.get(OrderEventKind.PROMISE_AT_RISK)
    return risk is not None and risk > last.get(OrderEventKind.CONFIRMED, 0)


def _announce(session: Session, plan: Plan, route: Route, stop: StopForecast) -> None:
    order = session.get(Order, stop.order_id)
    depot = None if order is None else session.get(Depot, order.depot_id)
    assert order is not None and depot is not None and stop.window is not None
    zone = ZoneInfo(depot.timezone)

    def hm(t: datetime) -> str:
        return t.astimezone(zone).strftime("%H:%M")

    late = stop.late_min
    how = (
        f"expected about {hm(stop.expected_start)}, {late} min after the promised window "
        f"{hm(stop.window[0])}-{hm(stop.window[1])}"
        if late is not None and late > 0
        else f"may miss the promised window {hm(stop.window[0])}-{hm(stop.window[1])} "
        f"(expected about {hm(stop.expected_start)})"
    )
    choices = ", ".join(c.label for c in choices_left(session, order))
    events.record(
        session, stop.order_id, OrderEventKind.PROMISE_AT_RISK, plan_id=plan.id,
        detail=f"running late on {route.vehicle_id}: {how}; choices: {choices or 'none'}",
        eta=stop.expected_start, previous_eta=stop.planned_start,
    )  # fmt: skip


# -- what the customer is offered ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Choice:
    """One choice left to a customer whose promise is at risk: ``kind`` (``later_window``,
    ``locker``, ``another_day``), how to act on it through the API (``method``, ``href``,
    ``place_id`` for the locker) and a ``label``."""

    kind: str
    method: str
    href: str
    label: str
    place_id: int | None = None


def choices_left(session: Session, order: Order) -> tuple[Choice, ...]:
    """The choices left to the order's customer: a later window today and another day
    through the options flow (``GET /orders/{id}/options``) while the parcel is not on board,
    and the customer's locker (``PUT /orders/{id}/whereabouts``) when they have one that is
    not the order's place already. The same rule as the webhook's ``choices``
    (:func:`orchestrator.notifications.payloads.choices`)."""
    out: list[Choice] = []
    oid = order.id or 0
    if order.status in (OrderStatus.OPEN, OrderStatus.PLANNED):
        out.append(Choice("later_window", "GET", f"/orders/{oid}/options?days=1",
                          "a later window today"))  # fmt: skip
    locker = _locker(session, order)
    if locker is not None:
        out.append(Choice("locker", "PUT", f"/orders/{oid}/whereabouts",
                          f"your locker {locker.name!r}", locker.id))  # fmt: skip
    if order.status in (OrderStatus.OPEN, OrderStatus.PLANNED):
        out.append(Choice("another_day", "GET", f"/orders/{oid}/options?days=3",
                          "another day"))  # fmt: skip
    return tuple(out)


def locker_place_id(session: Session, order: Order) -> int | None:
    """The customer's locker the order could go to instead (their first place of kind
    ``locker`` that is not the order's place), if any."""
    locker = _locker(session, order)
    return None if locker is None else locker.id


def _locker(session: Session, order: Order) -> Place | None:
    return session.exec(
        select(Place)
        .where(
            Place.customer_id == order.customer_id,
            Place.kind == PlaceKind.LOCKER,
            Place.id != (order.place_id or 0),
        )
        .order_by(col(Place.id))
    ).first()


@dataclass(frozen=True, slots=True)
class RiskNotice:
    """The notice a customer got that their promise is at risk: when it was sent, what it
    said, and the choices left now."""

    sent_at: datetime
    detail: str
    choices: tuple[Choice, ...]


def promise_risk(session: Session, order: Order) -> RiskNotice | None:
    """The order's standing notice of a promise at risk (:func:`_announced`), or ``None``:
    none sent, a new promise confirmed since, or the order closed."""
    if order.id is None or order.status in (OrderStatus.DELIVERED, OrderStatus.FAILED):
        return None
    if not _announced(session, order.id):
        return None
    event = session.exec(
        select(OrderEvent)
        .where(
            OrderEvent.order_id == order.id,
            OrderEvent.kind == OrderEventKind.PROMISE_AT_RISK,
        )
        .order_by(col(OrderEvent.id).desc())
    ).first()
    assert event is not None
    return RiskNotice(event.at, event.detail, choices_left(session, order))


def day_forecasts(
    session: Session, route_ids: Sequence[int], day: date, timezone: str, now: datetime
) -> dict[int, RouteForecast]:
    """:func:`forecast_route` of each route (by id) of a day at a depot in ``timezone``, for
    the board: the clock ``now`` counts only when ``day`` is the depot's today (a past day's
    open stops are not "behind" by the days since). No route, no query."""
    clock = now if now.astimezone(ZoneInfo(timezone)).date() == day else None
    return {rid: forecast_route(session, rid, now=clock) for rid in route_ids}
