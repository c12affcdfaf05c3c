"""The tentative plan of a depot's day, as delivery options are checked against it.

A day's tentative plan is

* its **current plan** when it has one — the stored routes and stops, re-timed into a
  :class:`routing.insertion.Timeline` through the one mapping
  (:func:`orchestrator.planning.problem.build_problem` for each route's orders, and a
  :class:`routing.Solution` of the stored sequence and ETAs), dispatched stops fixed; vehicles
  of the depot's fleets without a route are idle — or the fleet, all idle, when it has none;
* plus, inserted one by one at their cheapest feasible position, the day's orders that have a
  place and a window but are not on that plan (confirmed options, orders registered with a
  window) and the options customers hold that have not expired.

Building the timeline of a planned day costs a few hundred milliseconds for 2,000 stops, so it
is cached in memory: the plan's timeline per (store, depot, day, plan and its finish time,
fleet, travel), and the layer of inserted orders and holds on top of it per the set of those
items — a new hold is inserted into the cached layer; a hold that expires or is released
rebuilds the layer from the plan's timeline. Every key carries what identifies the rows (ids
*and* creation times), so a store whose ids restart never meets a stale entry. A request that
finds everything cached costs two small queries per day.

The day is timed on the buffer its plans are made on (the depot's learned spread at the
setting ``promise_confidence`` of the caller's :class:`~orchestrator.settings.Settings` — the
app's, not the environment's when they differ —
:func:`orchestrator.planning.spread_store.promise_buffer`):
idle vehicles, inserted orders and holds on the buffered legs and service times, each stored
route as its own plan's buffer made it; the :class:`DayPlan` carries that buffer and the
depot's learned book, so options are inserted and judged the same way.

Expired holds never block anything: they are left out as soon as ``expires_at`` passes. An
order already on the current plan whose customer chose another option since keeps its planned
stop here until the next re-plan moves it (the plan is the base; the new choice is on the
order, which the re-plan reads).
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from orchestrator.errors import InvalidInput
from orchestrator.intake.catalog import depot_fleets
from orchestrator.models import (
    CustomerProfile,
    Depot,
    Fleet,
    HoldStatus,
    OptionHold,
    Order,
    OrderItem,
    OrderStatus,
    Place,
    Plan,
    PlanStatus,
    ReturnStop,
    ReturnStopKind,
    Route,
    RouteStop,
    StopStatus,
    VehicleType,
)
from orchestrator.models.columns import UTCDateTime
from orchestrator.planning.day_plan import DayPlan
from orchestrator.planning.inputs import (
    DepotInput,
    FleetInput,
    fleets_on_day,
    handling_skills,
)
from orchestrator.planning.plans import current_plan, plan_routes, scheduled_pickups
from orchestrator.planning.problem import (
    accepted_vehicle_types,
    build_problem,
    dropoff_stop_id,
    local_midnight,
    pickup_stop_id,
    stop_id,
)
from orchestrator.planning.rows import depot_input, fleet_inputs, order_input
from orchestrator.planning.service import service_seconds
from orchestrator.planning.spread import Buffer
from orchestrator.planning.spread_store import load_book, promise_buffer
from orchestrator.planning.travel import TravelTimes, legs_for
from orchestrator.settings import Settings
from routing.insertion import Candidate, Timeline
from routing.model import StopKind, TimeWindow, VehicleKind
from routing.solution import Route as RoutingRoute
from routing.solution import Solution, SolveStatus, Visit

__all__ = [
    "DayCache",
    "TentativeDay",
    "day_timeline",
    "default_cache",
    "idle_timeline",
    "order_candidate",
    "order_size",
    "tentative_day",
    "tentative_days",
]


@dataclass(frozen=True, slots=True, eq=False)
class TentativeDay:
    """A day ready for option checks: the :class:`~orchestrator.concierge.options.DayPlan`, the
    current
    plan's id (``None`` without a plan) and its stored route ids by vehicle id."""

    plan: DayPlan
    plan_id: int | None
    route_ids: Mapping[str, int]
    skipped: int = 0
    """Orders and holds of the day that no longer fit anywhere (the next re-plan sees them)."""


@dataclass(frozen=True, slots=True, eq=False)
class _Base:
    timeline: Timeline
    route_ids: Mapping[str, int]
    travel: object  # kept alive: its id is part of the key


@dataclass(frozen=True, slots=True, eq=False)
class _Layer:
    items: tuple[Hashable, ...]
    timeline: Timeline
    skipped: int


class DayCache:
    """Timelines of planned days and their layers of inserted items, least recently used out.

    Parameters
    ----------
    max_days
        Plans' timelines kept (each holds a few megabytes for a 2,000-stop day).
    """

    def __init__(self, max_days: int = 32) -> None:
        self.max_days = max_days
        self._lock = threading.Lock()
        self._bases: OrderedDict[Hashable, _Base] = OrderedDict()
        self._layers: OrderedDict[Hashable, _Layer] = OrderedDict()

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._bases.clear()
            self._layers.clear()

    def _get(self, table: OrderedDict[Hashable, Any], key: Hashable) -> Any:
        with self._lock:
            value = table.get(key)
            if value is not None:
                table.move_to_end(key)
            return value

    def _put(self, table: OrderedDict[Hashable, Any], key: Hashable, value: Any) -> None:
        with self._lock:
            table[key] = value
            table.move_to_end(key)
            while len(table) > self.max_days:
                table.popitem(last=False)


default_cache = DayCache()
"""The process's cache (the API's worker threads share it)."""


def order_candidate(
    lat: float,
    lon: float,
    window: tuple[int, int],
    demand: tuple[int, int, int],
    *,
    fragile: bool = False,
    signature_required: bool = False,
    cold_chain: bool = False,
    vehicle_types: frozenset[str] | None = None,
) -> Candidate:
    """An order as a stop to insert, with the service time and skills the mapping gives it
    (:mod:`orchestrator.planning.problem`); ``window`` in seconds since the epoch."""
    skills = handling_skills(fragile, signature_required, cold_chain)
    service = service_seconds(demand[2], signature=signature_required)
    return Candidate(
        lat,
        lon,
        (TimeWindow(*window),),
        service=service,
        demand=demand,
        kind=StopKind.DELIVERY,
        skills=skills,
        vehicle_types=vehicle_types,
    )


def tentative_day(
    session: Session,
    depot: Depot,
    day: date,
    *,
    now: datetime,
    travel: TravelTimes,
    fleets: Sequence[tuple[Fleet, VehicleType]] | None = None,
    cache: DayCache | None = None,
    settings: Settings | None = None,
) -> TentativeDay:
    """The depot's tentative plan of ``day`` (see the module's docstring), as of ``now``.

    Parameters
    ----------
    session
        The store.
    depot, day
        Which day (the depot's local date).
    now
        Holds that expired by then are left out.
    travel
        The travel provider the day was (or will be) planned with.
    fleets
        The depot's fleets (looked up when not given).
    cache
        Where timelines are kept (default: the process's cache).
    settings
        The caller's settings: their ``promise_confidence`` is the buffer's (default: the
        environment's, :class:`~orchestrator.settings.Settings`).
    """
    (one,) = tentative_days(
        session, depot, [day], now=now, travel=travel, fleets=fleets, cache=cache,
        settings=settings,
    )  # fmt: skip
    return one


def tentative_days(
    session: Session,
    depot: Depot,
    days: Sequence[date],
    *,
    now: datetime,
    travel: TravelTimes,
    fleets: Sequence[tuple[Fleet, VehicleType]] | None = None,
    cache: DayCache | None = None,
    settings: Settings | None = None,
) -> list[TentativeDay]:
    """:func:`tentative_day` of several days, with three queries in all when they are cached;
    ``settings`` give the buffer's confidence (default: the environment's)."""
    cache = cache or default_cache
    assert depot.id is not None
    fleets = list(fleets) if fleets is not None else list(depot_fleets(session, depot.id))
    book = load_book(session, depot.id)  # options are checked on the buffer plans are made on
    profiles = sorted({vt.profile for _, vt in fleets})
    buffer = promise_buffer(session, depot.id, profiles, settings, book=book)
    legs = buffer.legs(legs_for(travel))
    horizon = max((f.shift_end_s for f, _ in fleets), default=86_400)
    opening = _clock(min((f.shift_start_s for f, _ in fleets), default=8 * 3_600))
    closing = _clock(min(horizon, 86_399))
    kinds = {vt.name: vt.kind for _, vt in fleets}
    fleet_key = _fleet_key(fleets)
    store_key = _store_key(session)
    params = {"depot": depot.id, "days": list(days), "now": now}
    plans = {row[1]: (row[0], row[2]) for row in session.exec(_plans_statement(), params=params)}
    items = _items(session, depot, days, now, horizon, params, kinds)
    out = []
    for day in days:
        midnight = local_midnight(depot, day)
        plan_id, finished = plans.get(day, (None, None))
        base_key = (store_key, depot.id, depot.lat, depot.lon, depot.timezone, day, plan_id,
                    finished, fleet_key, id(travel), buffer.key)  # fmt: skip
        base: _Base | None = cache._get(cache._bases, base_key)
        if base is None or base.travel is not travel:
            plan = session.get(Plan, plan_id) if plan_id is not None else None
            base = _build_base(session, depot, fleets, day, plan, travel, buffer=buffer)
            cache._put(cache._bases, base_key, base)
        todays = [(k, _buffered(c, buffer)) for k, c in items.get(day, [])]
        wanted = tuple(key for key, _ in todays)
        layer: _Layer | None = cache._get(cache._layers, base_key)
        if layer is None or not set(layer.items) <= set(wanted):
            layer = _Layer((), base.timeline, 0)
        if layer.items != wanted:
            have = set(layer.items)
            timeline, skipped, done = layer.timeline, layer.skipped, list(layer.items)
            for key, candidate in todays:
                if key in have:
                    continue
                (best,) = timeline.best_insertions(candidate, legs)
                if best.feasible:
                    timeline = timeline.insert(candidate, best, _item_id(key), legs)
                else:
                    skipped += 1
                done.append(key)
            layer = _Layer(tuple(done), timeline, skipped)
            cache._put(cache._layers, base_key, layer)
        day_plan = DayPlan(
            day=day, timeline=layer.timeline, epoch=midnight, vehicle_kinds=kinds,
            opening=opening, closing=closing, buffer=buffer, book=book,
        )  # fmt: skip
        out.append(TentativeDay(day_plan, plan_id, base.route_ids, layer.skipped))
    return out


def day_timeline(
    session: Session,
    depot_id: int,
    day: date,
    *,
    travel: TravelTimes,
    exclude_returns: Sequence[int] = (),
) -> DayPlan:
    """The depot's day as it is planned now, ready for cheap insertion checks: the current
    plan's routes (order and return stops, but ``exclude_returns``) or, without a plan, every
    vehicle idle — the same builder as :func:`tentative_days`, without the layer of holds.

    Raises
    ------
    InvalidInput
        Unknown depot (field ``depot_id``).
    """
    depot = session.get(Depot, depot_id)
    if depot is None:
        raise InvalidInput("depot_id", f"no depot {depot_id} — check the depot id")
    fleets = list(depot_fleets(session, depot_id))
    base = _build_base(
        session, depot, fleets, day, current_plan(session, depot_id, day), travel,
        exclude_returns,
    )  # fmt: skip
    return DayPlan(
        day=day,
        timeline=base.timeline,
        epoch=local_midnight(depot, day),
        vehicle_kinds={vt.name: vt.kind for _, vt in fleets},
    )


# -- implementation -----------------------------------------------------------------------------


def _item_id(key: Hashable) -> str:
    """The stop id of an inserted order or hold: its kind and id (``order-12``, ``hold-3``)."""
    assert isinstance(key, tuple)
    return f"{key[0]}-{key[1]}"


def _clock(seconds: int) -> time:
    seconds = max(0, min(int(seconds), 86_399))
    return time(seconds // 3_600, seconds % 3_600 // 60, seconds % 60)


def _store_key(session: Session) -> Hashable:
    bind = session.get_bind()
    return (id(bind), str(getattr(bind, "url", "")))


_FLEET_FIELDS = ("id", "count", "shift_start_s", "shift_end_s", "open_route", "break_duration_s",
                 "break_earliest_s", "break_latest_s")  # fmt: skip
_TYPE_FIELDS = ("id", "name", "kind", "profile", "capacity_weight_g", "capacity_volume_ml",
                "capacity_parcels", "range_m", "max_shift_s", "fixed_cost", "cost_per_km",
                "cost_per_hour", "co2_g_per_km")  # fmt: skip


def _fleet_key(fleets: Sequence[tuple[Fleet, VehicleType]]) -> Hashable:
    return tuple(
        (
            tuple(getattr(f, n) for n in _FLEET_FIELDS),
            tuple(getattr(vt, n) for n in _TYPE_FIELDS),
            tuple(vt.skills),
        )
        for f, vt in fleets
    )


def idle_timeline(
    depot: DepotInput,
    fleets: Sequence[FleetInput],
    day: date,
    travel: TravelTimes,
    *,
    buffer: Buffer | None = None,
) -> Timeline:
    """A day on which nothing is planned yet: every vehicle of the fleets idle at the depot —
    the base of a day without a plan here, and of the simulator's concierge (``buffer``:
    as :func:`~orchestrator.planning.problem.build_problem` takes it)."""
    mapped = build_problem(depot, fleets, [], day=day, travel=travel, buffer=buffer)
    empty = Solution((), (), SolveStatus.NO_STOPS, 0, 0.0)
    return Timeline.from_solution(mapped.problem, empty)


def _build_base(
    session: Session,
    depot: Depot,
    fleets: Sequence[tuple[Fleet, VehicleType]],
    day: date,
    plan: Plan | None,
    travel: TravelTimes,
    exclude_returns: Sequence[int] = (),
    *,
    buffer: Buffer | None = None,
) -> _Base:
    """The plan's routes as a timeline, every other vehicle of the fleets idle.

    This is the one builder of a planned day: each stored route is re-timed with its order
    stops *and* its return stops (pickups still scheduled, and their drop-offs at a store),
    in their stored sequence and ETAs; ``exclude_returns`` leaves returns out by id (one whose
    pickup is being chosen again). A stop that can no longer be mapped (its place or skills
    changed, its return was cancelled) is left for the next re-plan to decide. The stops up
    to the first one still planned are fixed (dispatched and done).
    """
    on_day = fleets_on_day(fleet_inputs(fleets), depot.timezone, day)  # wall clock -> elapsed
    idle = idle_timeline(depot_input(depot), on_day, day, travel, buffer=buffer)
    if plan is None or plan.id is None:
        return _Base(idle, {}, travel)
    assert depot.id is not None
    midnight = local_midnight(depot, day)

    def secs(at: datetime) -> int:
        return int((at - midnight).total_seconds())

    routes = [r for r in plan_routes(session, plan.id) if r.id is not None]
    stops = session.exec(
        select(RouteStop)
        .join(Route, col(Route.id) == col(RouteStop.route_id))
        .where(Route.plan_id == plan.id)
        .order_by(col(RouteStop.route_id), col(RouteStop.sequence))
    ).all()
    by_route: dict[int, list[RouteStop | ReturnStop]] = {}
    for s in stops:
        by_route.setdefault(s.route_id, []).append(s)
    return_stops = session.exec(
        select(ReturnStop)
        .join(Route, col(Route.id) == col(ReturnStop.route_id))
        .where(Route.plan_id == plan.id)
    ).all()
    for rs in return_stops:
        by_route.setdefault(rs.route_id, []).append(rs)
    pickups = (
        {p.return_id: p for p in scheduled_pickups(session, depot.id, day, exclude=exclude_returns)}
        if return_stops
        else {}
    )
    order_ids = sorted({s.order_id for s in stops})
    orders = {o.id: o for o in _chunked(session, Order, col(Order.id), order_ids)}
    items: dict[int, list[OrderItem]] = {}
    for item in _chunked(session, OrderItem, col(OrderItem.order_id), order_ids):
        items.setdefault(item.order_id, []).append(item)
    place_ids = sorted({o.place_id for o in orders.values() if o.place_id is not None})
    places = {p.id: p for p in _chunked(session, Place, col(Place.id), place_ids)}

    schedules = {r.route_id: r for r in idle.routes}
    route_ids: dict[str, int] = {}
    for route in routes:
        assert route.id is not None
        todays = sorted(by_route.get(route.id, []), key=lambda s: s.sequence)
        if not todays or route.vehicle_id not in schedules:
            continue
        inputs = [
            order_input(
                orders[s.order_id],
                items.get(s.order_id, []),
                places.get(orders[s.order_id].place_id),
            )
            for s in todays
            if isinstance(s, RouteStop)
        ]
        returns_here = sorted({s.return_id for s in todays if isinstance(s, ReturnStop)})
        mapped = build_problem(
            depot_input(depot), on_day, inputs, day=day, travel=travel,
            pickups=[pickups[r] for r in returns_here if r in pickups],
            buffer=Buffer.from_stats(plan.stats.get("buffer")),  # as its stored ETAs were made
        )  # fmt: skip
        problem = mapped.problem
        known = {stop.id for stop in problem.stops}
        kept = [(sid, s) for s in todays if (sid := _stop_id_of(s)) in known]
        if not kept:
            continue
        solved = RoutingRoute(
            vehicle_id=route.vehicle_id,
            vehicle_type=route.vehicle_type,
            visits=tuple(
                Visit(
                    stop_id=sid,
                    location=problem.stops[problem.stop_index(sid)].location,
                    arrival=secs(s.arrival_at),
                    start=secs(s.service_start_at),
                    departure=secs(s.departure_at),
                    wait=s.wait_s,
                    load=tuple(s.load_after),
                    distance=s.leg_distance_m,
                )
                for sid, s in kept
            ),
            start_time=secs(route.start_at),
            end_time=secs(route.end_at),
            load_at_start=tuple(route.load_at_start),
            distance=route.distance_m,
            duration=route.duration_s,
            cost=route.cost,
            co2_g=route.co2_g,
        )
        fixed = sum(
            1
            for _ in itertools.takewhile(
                lambda v: isinstance(v[1], RouteStop) and v[1].status is not StopStatus.PLANNED,
                kept,
            )
        )
        timeline = Timeline.from_solution(
            problem,
            Solution((solved,), (), SolveStatus.FEASIBLE, 0, 0.0),
            include_idle=False,
            fixed_prefix={route.vehicle_id: fixed},
        )
        schedules[route.vehicle_id] = timeline.routes[0]
        route_ids[route.vehicle_id] = route.id
    return _Base(Timeline(tuple(schedules[r.route_id] for r in idle.routes)), route_ids, travel)


def _buffered(candidate: Candidate, buffer: Buffer) -> Candidate:
    """``candidate`` with its service time as planned under ``buffer``."""
    if buffer.is_identity:
        return candidate
    return dataclasses.replace(candidate, service=buffer.service_seconds(candidate.service))


def _stop_id_of(stop: RouteStop | ReturnStop) -> str:
    """The engine's stop id of a stored stop (:mod:`orchestrator.planning.problem`'s ids)."""
    if isinstance(stop, RouteStop):
        return stop_id(stop.order_id)
    if stop.kind is ReturnStopKind.PICKUP:
        return pickup_stop_id(stop.return_id)
    return dropoff_stop_id(stop.return_id)


def _chunked(session: Session, model: Any, column: Any, ids: Sequence[int]) -> list[Any]:
    """Rows whose ``column`` is in ``ids``, in chunks (SQLite limits bound parameters)."""
    out: list[Any] = []
    for lo in range(0, len(ids), 900):
        out.extend(session.exec(select(model).where(column.in_(ids[lo : lo + 900]))).all())
    return out


@lru_cache(maxsize=1)
def _plans_statement() -> Any:
    """The current plans of a depot's days (id, day, finished at)."""
    return select(col(Plan.id), col(Plan.service_day), col(Plan.finished_at)).where(
        col(Plan.depot_id) == sa.bindparam("depot"),
        col(Plan.status) == PlanStatus.CURRENT,
        col(Plan.service_day).in_(sa.bindparam("days", expanding=True)),
    )


def order_size() -> tuple[Any, Any, Any]:
    """Grams, millilitres and parcels of an order, summed over its lines (grouped by order):
    the SQL expressions, for a query that groups by order."""
    return (
        sa.func.sum(col(OrderItem.weight_g) * col(OrderItem.quantity)),
        sa.func.sum(col(OrderItem.volume_ml) * col(OrderItem.quantity)),
        sa.func.sum(col(OrderItem.parcels) * col(OrderItem.quantity)),
    )


def _live_holds() -> Any:
    return (
        col(OptionHold.depot_id) == sa.bindparam("depot"),
        col(OptionHold.service_day).in_(sa.bindparam("days", expanding=True)),
        col(OptionHold.status) == HoldStatus.HELD,
        col(OptionHold.expires_at) > sa.bindparam("now", type_=UTCDateTime()),
    )


@lru_cache(maxsize=1)
def _orders_statement() -> Any:
    """Open orders of the days with a place and a window and no live hold, with their size.

    Open, not planned: an order on the day's current plan is planned (the plan is the base of
    the tentative day); one a plan left out, or registered or confirmed since, is open.
    Columns as :func:`_pending_statement` has them (0 for an order, no vehicle type), with
    whether its customer accepts a robot and a courier (their profile's, else a new
    profile's: no robot, couriers welcome — as the planner reads them).
    """
    held = select(col(OptionHold.order_id)).where(*_live_holds()).scalar_subquery()
    return (
        select(  # type: ignore[call-overload]  # sqlmodel types select() for at most four columns
            sa.literal(0).label("kind"),
            col(Order.id),
            col(Order.service_day),
            col(Order.created_at),
            col(Order.window_start),
            col(Order.window_end),
            sa.cast(sa.null(), sa.String).label("vehicle_type"),
            col(Order.fragile),
            col(Order.signature_required),
            col(Order.cold_chain),
            col(Place.id).label("place_id"),
            col(Place.lat),
            col(Place.lon),
            sa.func.coalesce(col(CustomerProfile.accepts_robot), _NO_PROFILE[0]).label("robot"),
            sa.func.coalesce(col(CustomerProfile.accepts_courier), _NO_PROFILE[1]).label("courier"),
            *order_size(),
        )
        .join(Place, col(Place.id) == col(Order.place_id))
        .join(OrderItem, col(OrderItem.order_id) == col(Order.id))
        .join(
            CustomerProfile,
            col(CustomerProfile.customer_id) == col(Order.customer_id),
            isouter=True,
        )
        .where(
            col(Order.depot_id) == sa.bindparam("depot"),
            col(Order.service_day).in_(sa.bindparam("days", expanding=True)),
            col(Order.status) == OrderStatus.OPEN,
            col(Order.window_start).is_not(None),
            col(Order.window_end).is_not(None),
            col(Order.id).not_in(held),
        )
        .group_by(col(Order.id), col(Place.id), col(CustomerProfile.customer_id))
    )


@lru_cache(maxsize=1)
def _holds_statement() -> Any:
    """Live holds of the days, with their place and the order's size (1 for a hold, no
    place id, no acceptance: the hold's vehicle type is its customer's choice)."""
    return (
        select(  # type: ignore[call-overload]  # sqlmodel types select() for at most four columns
            sa.literal(1).label("kind"),
            col(OptionHold.id),
            col(OptionHold.service_day),
            col(OptionHold.created_at),
            col(OptionHold.window_start),
            col(OptionHold.window_end),
            col(OptionHold.vehicle_type),
            col(Order.fragile),
            col(Order.signature_required),
            col(Order.cold_chain),
            sa.cast(sa.null(), sa.Integer).label("place_id"),
            col(Place.lat),
            col(Place.lon),
            # a hold's vehicle type was one its customer accepts (the options offered only those)
            sa.cast(sa.null(), sa.Boolean).label("robot"),
            sa.cast(sa.null(), sa.Boolean).label("courier"),
            *order_size(),
        )
        .join(Order, col(Order.id) == col(OptionHold.order_id))
        .join(Place, col(Place.id) == col(OptionHold.place_id))
        .join(OrderItem, col(OrderItem.order_id) == col(OptionHold.order_id))
        .where(*_live_holds())
        .group_by(col(OptionHold.id), col(Order.id), col(Place.id))
    )


@lru_cache(maxsize=1)
def _pending_statement() -> Any:
    """The days' open orders, then their live holds, each by id, in one query."""
    both = sa.union_all(_orders_statement(), _holds_statement()).subquery()
    return select(*both.c).order_by(both.c.kind, both.c.id)


_NO_PROFILE = (
    bool(CustomerProfile.model_fields["accepts_robot"].default),
    bool(CustomerProfile.model_fields["accepts_courier"].default),
)
"""What a customer who never set a profile accepts (a robot, a courier), as the planner
reads it."""


def _window(start: datetime, end: datetime, midnight: datetime, horizon: int) -> tuple[int, int]:
    """As :mod:`orchestrator.planning.problem` has it: seconds since midnight, clipped to the
    day."""
    lo = max(0, min(int((start - midnight).total_seconds()), horizon))
    hi = max(0, min(int((end - midnight).total_seconds()), horizon))
    return lo, max(lo, hi)


def _items(
    session: Session,
    depot: Depot,
    days: Sequence[date],
    now: datetime,
    horizon: int,
    params: Mapping[str, Any],
    kinds: Mapping[str, VehicleKind],
) -> dict[date, list[tuple[Hashable, Candidate]]]:
    """Per day: its open orders with a place and window (on no plan), then the holds that
    have not expired, as candidates keyed by what identifies them; an order only on the
    vehicle types (of ``kinds``, name to kind) its customer accepts."""
    midnights = {day: local_midnight(depot, day) for day in days}
    out: dict[date, list[tuple[Hashable, Candidate]]] = {day: [] for day in days}
    accepted = {
        (robot, courier): accepted_vehicle_types(
            kinds, accepts_robot=robot, accepts_courier=courier
        )
        for robot in (False, True)
        for courier in (False, True)
    }
    for row in session.exec(_pending_statement(), params=params):
        kind, rid, day, created, ws, we, vtype, fragile, signature, cold, pid, lat, lon, *rest = row
        robot, courier, *size = rest
        window = _window(ws, we, midnights[day], horizon)
        types = (
            frozenset({vtype}) if vtype is not None
            else accepted[(bool(robot), bool(courier))] if robot is not None
            else None
        )  # fmt: skip
        candidate = order_candidate(
            lat, lon, window, (int(size[0] or 0), int(size[1] or 0), int(size[2] or 0)),
            fragile=fragile,
            signature_required=signature, cold_chain=cold,
            vehicle_types=types,
        )  # fmt: skip
        # acceptance in the key: a profile that changes is a new item (re-inserted), not a stale one
        key = (
            ("order", rid, created, pid, window, types)
            if kind == 0
            else ("hold", rid, created, window)
        )
        out[day].append((key, candidate))
    return out
