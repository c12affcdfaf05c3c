""" "Find me at the café": a customer moves an order that is on its way, and its route follows.

:func:`update_whereabouts` takes where the customer is today — one of their places, or a point
that becomes a new place of theirs — and re-optimises **only the route that carries the
order**, from where its vehicle is now; every other route of the plan is left exactly as it
was. The answer is the order's new ETA (with its promised window) and the route's new ETAs.

The rules, and the choices made where the store knows less than a telematics feed would:

* **Until the stop is next-but-one.** On a dispatched route the vehicle is on its way to the
  first stop that is not closed yet (delivered or failed), in sequence order; that stop can no
  longer be redirected (:class:`~orchestrator.errors.Conflict`), and it stays the route's next
  stop (a locked prefix of one). Any later stop may be redirected. A stop of a route that has
  not left yet may be redirected too: its vehicle is still at the depot, so nothing is locked.
* **Where the vehicle is.** lastmile has no live position, so it takes the place of the stop
  closed last (by ``closed_at``, then sequence) — or the depot when none is closed — and
  the vehicle leaves from there at ``now`` or when that stop was closed (when the route
  started, at the depot), whichever is later, and never before its shift starts.
* **What the vehicle has left.** Its shift still ends when it ends; its range shrinks by the
  metres already driven (the planned legs of the closed stops) and its longest shift by the
  time since the route started. A break whose window has closed by the departure is taken
  to be taken (the plan put it there); one still open may start from the departure on.
* **All or nothing.** The route must still serve every remaining stop inside its window.
  If it cannot, the redirect is refused with a :class:`~orchestrator.errors.Conflict` that
  names each order that would be left out and why, and nothing is written: no new place, no
  new sequence, no event. Otherwise the new place, the order's place, the remaining stops'
  sequences and ETAs, the route's and the plan's totals and one ``replanned`` event per
  order that moved are written in **one transaction**.
* **A customer sees only what is theirs.** Asked with ``customer_id``, a refusal names
  their own order's reason and only *counts* the other stops that would be missed (no other
  customer's order, place or window), and the vehicle departs from ``"previous stop"``
  rather than from another customer's order; staff see each. The event logged on another
  order that was re-timed does not name the order that moved (its customer reads it).
* **Routes that also collect returns** further on are refused for now (a planner re-plans
  them): return stops share the route's sequence but record nothing of being done.
* **Far-away points** are refused before any solve: farther from the depot than
  ``max_radius_m`` (:data:`DEFAULT_MAX_RADIUS_M`) or than half the vehicle type's range.

The routing problem comes from :func:`orchestrator.planning.problem.build_problem` (so ids, times,
windows, service times and capacities are those of every plan), narrowed to the one vehicle,
whose start is moved to its current position.

**On the plan's buffer.** A plan's times are the cautious ones it was planned on (its
``stats["buffer"]``, :class:`~orchestrator.planning.spread.Buffer`): a redirect re-times the
route on that same buffer — every leg, the one from the vehicle's position included, and every
service time scaled as :meth:`Buffer.matrix_durations` and :meth:`Buffer.service_seconds`
scale them — so the re-timed ETAs are as cautious as the rest of the plan's, and the spread
learned from their outcomes (:mod:`orchestrator.planning.spread_store`, which divides by the
plan's buffer) reads the legs right. A plan made without a buffer is re-timed on bare times.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from numbers import Real
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from orchestrator.errors import Conflict, InvalidInput, NotFound, PlanningFailed
from orchestrator.intake.catalog import same_point
from orchestrator.models import (
    Depot,
    Fleet,
    Order,
    OrderEventKind,
    OrderItem,
    OrderStatus,
    Place,
    PlaceKind,
    Plan,
    PlanStatus,
    ReturnStop,
    Route,
    RouteStatus,
    RouteStop,
    StopStatus,
    VehicleType,
)
from orchestrator.models.columns import utcnow
from orchestrator.planning.inputs import OrderInput, fleets_on_day
from orchestrator.planning.plans import current_plan, route_stops
from orchestrator.planning.problem import MappedProblem, build_problem, stop_id
from orchestrator.planning.rows import depot_input, fleet_inputs, order_input
from orchestrator.planning.spread import Buffer
from orchestrator.planning.travel import TravelTimes
from orchestrator.store import events
from orchestrator.store.queries import customer_place
from routing.diagnose import diagnose
from routing.errors import InvalidProblemError, SolverError
from routing.matrix import haversine_m
from routing.model import Break, Location, Problem, TimeWindow, TravelMatrix, fmt_time
from routing.solution import Route as EngineRoute
from routing.solution import Visit as EngineVisit
from routing.solve import Limits, solve

__all__ = [
    "DEFAULT_LABEL",
    "DEFAULT_MAX_RADIUS_M",
    "ETA_BAND_S",
    "REDIRECT_LIMITS",
    "StopEta",
    "WhereaboutsResult",
    "update_whereabouts",
]

DEFAULT_MAX_RADIUS_M = 50_000.0
"""Farthest a redirect may lead from the depot, metres in a straight line (a city region)."""

DEFAULT_LABEL = "here today"
"""Name of the place a bare point becomes (``"here today (2)"`` and so on when taken)."""

ETA_BAND_S = 15 * 60
"""Half-width of the ETA window shown to the customer, seconds: a half-hour band centred on
the planned service start, kept inside the promised window."""

REDIRECT_LIMITS = Limits(time_limit=1.0, seed_with="none")
"""Solver limits of a redirect: one route, warm-started from its current order."""

_CLOSED = (StopStatus.DELIVERED, StopStatus.FAILED)
_NAME_CHARS = 100


@dataclass(frozen=True, slots=True)
class StopEta:
    """A remaining stop of the re-optimised route, before and after.

    Times are UTC instants; ``sequence`` is the stop's position on the route (0 first).
    """

    order_id: int
    sequence: int
    arrival_at: datetime
    service_start_at: datetime
    departure_at: datetime
    previous_sequence: int
    previous_arrival_at: datetime

    @property
    def changed(self) -> bool:
        """Whether the stop moved in the sequence or its ETA changed."""
        return (
            self.sequence != self.previous_sequence or self.arrival_at != self.previous_arrival_at
        )


@dataclass(frozen=True, slots=True)
class WhereaboutsResult:
    """What a redirect did.

    Parameters
    ----------
    order_id
        The redirected order.
    place
        Where it now goes (a stored place of the order's customer).
    place_created
        Whether ``place`` was created from a point by this call.
    changed
        ``False`` when the order already went to ``place`` (nothing was re-optimised).
    route_id, vehicle_id
        The route that carries the order.
    sequence
        The order's position on the route (0 first).
    stops_before
        Stops still to be served before it.
    eta, service_start_at
        Planned arrival and start of service, UTC.
    eta_window
        A band of :data:`ETA_BAND_S` either side of the service start, inside ``window``.
    window
        The order's promised window (``None`` when it has none), unchanged by a redirect.
    departure
        Where and when the re-optimised route starts: ``("depot", at)`` or
        ``("order <id>", at)`` for the place of the stop closed last (to a customer whose
        order that is not: ``("previous stop", at)``); ``None`` when nothing was
        re-optimised.
    timezone
        The depot's IANA timezone, to show the times in.
    stops
        The route's remaining stops in their new order, each with its previous ETA.
    """

    order_id: int
    place: Place
    place_created: bool
    changed: bool
    route_id: int
    vehicle_id: str
    sequence: int
    stops_before: int
    eta: datetime
    service_start_at: datetime
    eta_window: tuple[datetime, datetime]
    window: tuple[datetime, datetime] | None
    departure: tuple[str, datetime] | None
    timezone: str
    stops: tuple[StopEta, ...] = field(default=())


def update_whereabouts(
    session: Session,
    order_id: int,
    *,
    place_id: int | None = None,
    point: Sequence[float] | None = None,
    label: str | None = None,
    now: datetime | None = None,
    travel: TravelTimes,
    limits: Limits | None = None,
    customer_id: int | None = None,
    max_radius_m: float = DEFAULT_MAX_RADIUS_M,
) -> WhereaboutsResult:
    """Redirect an order on its way to where its customer is today, and re-time its route.

    Parameters
    ----------
    session
        The store.
    order_id
        The order to redirect.
    place_id
        One of the order's customer's places. Give this or ``point``.
    point
        ``[lon, lat]`` in WGS84 degrees (GeoJSON order): a new place of the customer, of kind
        ``other``, named ``label``.
    label
        The new place's name (default :data:`DEFAULT_LABEL`); only with ``point``.
    now
        The current instant (timezone-aware); default the clock. The vehicle leaves its
        current position no earlier.
    travel
        Travel-time provider; default from the settings, as for planning.
    limits
        Solver limits (default :data:`REDIRECT_LIMITS`, one second).
    customer_id
        The caller's customer, if the caller is a customer: another customer's order is
        :class:`NotFound`, as an unknown one, and no answer or refusal names another
        customer's order, place or window.
    max_radius_m
        Farthest the new place may be from the depot, metres in a straight line.

    Returns
    -------
    WhereaboutsResult
        The order's new place and ETA, and the route's remaining stops before and after.

    Raises
    ------
    NotFound
        No such order (or not the caller's).
    InvalidInput
        Neither or both of ``place_id`` and ``point``; a ``label`` without a point; a point
        off the globe (field ``("point", 0)`` for the longitude, ``("point", 1)`` for the
        latitude) or too far from the depot (``point``/``place_id``); a place that is not the
        customer's (``place_id``); a label naming another of their places (``label``).
    Conflict
        The order is closed, not on a route of the current plan, or the next stop of a
        vehicle on its way; the route collects returns further on; the vehicle's shift or
        range is used up; the route could not serve every remaining stop afterwards (each
        named with its reason); the route changed while this call solved. Nothing is
        written.
    PlanningFailed
        The solver failed for a reason of its own; nothing is written.
    """
    now = now or utcnow()
    if now.tzinfo is None or now.utcoffset() is None:
        raise InvalidInput("now", f"{now.isoformat()} has no UTC offset — give an aware time")
    lonlat = _checked_request(place_id, point, label)
    order = session.get(Order, order_id)
    if order is None or (customer_id is not None and order.customer_id != customer_id):
        raise NotFound("order", order_id)
    assert order.id is not None

    if order.status in (OrderStatus.DELIVERED, OrderStatus.FAILED):
        raise Conflict(
            f"order {order.id} is already {order.status.value} — there is nothing left to redirect"
        )
    depot = session.get(Depot, order.depot_id)
    assert depot is not None
    plan = current_plan(session, order.depot_id, order.service_day)
    stop = _stop_of(session, plan, order.id)
    if plan is None or stop is None:
        raise Conflict(
            f"order {order.id} is not on a route of the current plan for {order.service_day} — "
            "a redirect moves an order that is planned; choose its place among its delivery "
            "options instead"
        )
    route = session.get(Route, stop.route_id)
    assert route is not None and route.id is not None
    stops = list(route_stops(session, route.id))
    remaining = [s for s in stops if s.status not in _CLOSED]
    if stop.status in _CLOSED:
        raise Conflict(f"order {order.id} is already {stop.status.value} — nothing to redirect")
    on_its_way = route.status is RouteStatus.DISPATCHED
    if on_its_way and remaining[0].id == stop.id:
        raise Conflict(
            f"too late to redirect order {order.id}: it is the next stop of {route.vehicle_id} "
            "and the driver is on the way to it — a stop can be redirected until it is the "
            "next but one"
        )

    _refuse_returns_ahead(session, route, remaining[0].sequence if on_its_way else -1)
    fleet = session.get(Fleet, route.fleet_id)
    assert fleet is not None
    vtype = session.get(VehicleType, fleet.vehicle_type_id)
    assert vtype is not None
    place, created = _target_place(session, order, place_id, lonlat, label)
    _check_reach(depot, vtype, place, "place_id" if lonlat is None else "point", max_radius_m)

    window = _window(order)
    if place.id is not None and place.id == order.place_id:
        # Nothing moves: answer with the stop as it stands (a PUT may be repeated).
        return _result(order.id, place, False, False, route, depot, window, stops, stop, (), None)

    for_customer = customer_id is not None
    mapped, problem, departure = _problem(
        session, depot, route, fleet, vtype, stops, remaining, order, place, now, on_its_way,
        travel, for_customer, buffer=Buffer.from_stats((plan.stats or {}).get("buffer")),
    )  # fmt: skip
    solved = _solve(
        problem, route, remaining, order, place, limits or REDIRECT_LIMITS, for_customer,
        ZoneInfo(depot.timezone),
    )  # fmt: skip
    try:
        result = _write(
            session, plan, route, stops, remaining, order, place, created, mapped, solved,
            vtype, depot, window, departure,
        )  # fmt: skip
        session.commit()
    except BaseException:
        session.rollback()
        raise
    session.refresh(place)
    return result


# -- input ----------------------------------------------------------------------------------------


def _checked_request(
    place_id: int | None, point: Sequence[float] | None, label: str | None
) -> tuple[float, float] | None:
    """The request's shape and coordinates; returns ``(lon, lat)`` for a point."""
    if place_id is None and point is None:
        raise InvalidInput(
            "place_id", "give place_id (one of your places) or point ([lon, lat]) — neither given"
        )
    if place_id is not None and point is not None:
        raise InvalidInput("point", "give place_id or point, not both")
    if label is not None and point is None:
        raise InvalidInput(
            "label", "a label names a new point; a stored place keeps its name — drop label"
        )
    if label is not None and not 1 <= len(label.strip()) <= _NAME_CHARS:
        raise InvalidInput("label", f"give a name of 1 to {_NAME_CHARS} characters")
    if point is None:
        return None
    if isinstance(point, str | bytes) or not isinstance(point, Sequence) or len(point) != 2:
        raise InvalidInput("point", "give the point as [lon, lat], two numbers of degrees")
    for k, (name, bound) in enumerate((("longitude", 180.0), ("latitude", 90.0))):
        value = point[k]
        if isinstance(value, bool) or not isinstance(value, Real):
            raise InvalidInput(("point", k), f"{name} {value!r} is not a number of degrees")
        if not (math.isfinite(value) and -bound <= value <= bound):
            hint = " (GeoJSON order: [lon, lat])" if k == 1 else ""
            raise InvalidInput(
                ("point", k), f"{name} {value} is not in [-{bound:g}, {bound:g}]{hint}"
            )
    return float(point[0]), float(point[1])


def _target_place(
    session: Session,
    order: Order,
    place_id: int | None,
    lonlat: tuple[float, float] | None,
    label: str | None,
) -> tuple[Place, bool]:
    """The stored place to go to, or a new (not yet added) place made of the point."""
    if lonlat is None:
        assert place_id is not None
        found = customer_place(session, order.customer_id, place_id)
        if found is None:
            raise InvalidInput(
                "place_id",
                f"customer {order.customer_id} has no place {place_id} — give one of their "
                "places, or a point [lon, lat]",
            )
        return found, False
    lon, lat = lonlat
    mine = {
        p.name: p for p in session.exec(select(Place).where(Place.customer_id == order.customer_id))
    }
    wanted = label.strip() if label is not None else DEFAULT_LABEL
    same = mine.get(wanted)
    if same is not None and same_point(same.lat, same.lon, lat, lon):
        return same, False
    if same is not None and label is not None:
        raise InvalidInput(
            "label",
            f"you already have a place named {wanted!r} elsewhere — give its place_id to go "
            "there, or another label for this point",
        )
    name, n = wanted, 1
    while name in mine:
        n += 1
        suffix = f" ({n})"
        name = wanted[: _NAME_CHARS - len(suffix)] + suffix
    return Place(
        customer_id=order.customer_id, kind=PlaceKind.OTHER, name=name, lat=lat, lon=lon
    ), True


def _check_reach(
    depot: Depot, vtype: VehicleType, place: Place, where: str, max_radius_m: float
) -> None:
    """Refuse a place no vehicle of the route's type could sensibly reach from the depot."""
    limit, why = max_radius_m, "the area this depot serves"
    if vtype.range_m is not None and vtype.range_m / 2 < limit:
        limit, why = vtype.range_m / 2, f"half the range of a {vtype.name} (there and back)"
    far = float(haversine_m(depot.lat, depot.lon, place.lat, place.lon))
    if far <= limit:
        return
    swapped = float(haversine_m(depot.lat, depot.lon, place.lon, place.lat))
    hint = (
        " — it looks like [lat, lon]: give [lon, lat]"
        if swapped <= limit and abs(place.lon) <= 90
        else " — check the coordinates ([lon, lat])"
    )
    raise InvalidInput(
        where,
        f"{place.lat:.5f}, {place.lon:.5f} (lat, lon) is {far / 1000:,.1f} km from depot "
        f"{depot.code!r}, beyond {limit / 1000:,.1f} km, {why}{hint}",
    )


def _refuse_returns_ahead(session: Session, route: Route, after: int) -> None:
    """Refuse a route that collects returns after sequence ``after``.

    Return pickups and drop-offs share the route's sequence, but their rows say nothing of
    whether they are done, so re-optimising around them could misplace them: until they do,
    such a route is re-planned as a whole by a planner.
    """
    ahead = session.exec(
        select(func.count())
        .select_from(ReturnStop)
        .where(ReturnStop.route_id == route.id, col(ReturnStop.sequence) > after)
    ).one()
    if ahead:
        raise Conflict(
            f"{route.vehicle_id} also collects {ahead} return stop(s) on the rest of its route, "
            "which a redirect cannot re-time yet — ask the planner to re-plan the day instead"
        )


# -- the problem ----------------------------------------------------------------------------------


@dataclass(eq=False)
class _AlsoFrom:
    """Travel over the problem's locations plus one more (the vehicle's position), computed
    once: :func:`build_problem` gets the matrices of its own locations, and the full ones are
    kept for the problem that starts at the extra location."""

    travel: TravelTimes
    extra: Location
    full: dict[str, TravelMatrix] = field(default_factory=dict)

    def matrix(self, locations: Sequence[Location], profile: str) -> TravelMatrix:
        m = self.travel.matrix([*locations, self.extra], profile)
        self.full[profile] = m
        n = len(locations)
        return TravelMatrix(m.distances[:n, :n], m.durations[:n, :n])


@dataclass(frozen=True, slots=True)
class _Departure:
    label: str
    at: datetime
    driven_m: int


def _problem(
    session: Session,
    depot: Depot,
    route: Route,
    fleet: Fleet,
    vtype: VehicleType,
    stops: Sequence[RouteStop],
    remaining: Sequence[RouteStop],
    order: Order,
    place: Place,
    now: datetime,
    on_its_way: bool,
    travel: TravelTimes,
    for_customer: bool,
    *,
    buffer: Buffer | None = None,
) -> tuple[MappedProblem, Problem, _Departure]:
    """The route's remaining stops (the order at ``place``) for its one vehicle, starting
    where and when the vehicle is; ``for_customer``: messages and the departure name no other
    customer's order. ``buffer``: what leg and service times are scaled by (the plan's, see
    the module's notes; ``None``: bare times) — the legs from the vehicle's position too."""
    closed = [s for s in stops if s.status in _CLOSED]
    last = max(closed, key=lambda s: (s.closed_at or s.departure_at, s.sequence), default=None)
    position: Place | None = None
    if last is not None:
        last_order = session.get(Order, last.order_id)
        assert last_order is not None and last_order.place_id is not None
        position = session.get(Place, last_order.place_id)
        assert position is not None
        since, label = last.closed_at or last.departure_at, f"order {last.order_id}"
        if for_customer and last_order.customer_id != order.customer_id:
            label = "previous stop"
    elif on_its_way:
        since, label = route.start_at, "depot"
    else:
        since, label = now, "depot"

    inputs = _inputs(session, [s.order_id for s in remaining], order, place)
    extra = None
    if position is not None:
        extra = Location(f"place-{position.id}", position.lat, position.lon)
    provider: TravelTimes = travel if extra is None else _AlsoFrom(travel, extra)
    (on_day,) = fleets_on_day(fleet_inputs([(fleet, vtype)]), depot.timezone, order.service_day)
    mapped = build_problem(
        depot_input(depot),
        (on_day,),
        inputs,
        day=order.service_day,
        travel=provider,
        buffer=buffer,
    )
    if mapped.left_out:
        left_out = [(o.order_id, o.reason, o.detail) for o in mapped.left_out]
        raise Conflict(_unserved_message(order, place, route, left_out, for_customer))
    problem = mapped.problem
    locations, matrices, start = problem.locations, problem.matrices, 0
    if isinstance(provider, _AlsoFrom):
        # The full matrices are the provider's own: scaled here by the same buffer, as
        # build_problem scaled its part of them (the same rounding, so they agree there).
        full = provider.full
        if buffer is not None and not buffer.is_identity:
            full = {
                p: TravelMatrix(m.distances, buffer.matrix_durations(m.durations, p))
                for p, m in full.items()
            }
        locations, matrices, start = (*locations, provider.extra), full, len(locations)

    leave = max(now, since)
    leave_s = max(math.ceil((leave - mapped.midnight).total_seconds()), on_day.shift_start_s)
    if leave_s >= on_day.shift_end_s:
        raise Conflict(
            f"{route.vehicle_id}'s shift ends at {fmt_time(fleet.shift_end_s)}, before it could "
            f"leave {label} ({fmt_time(leave_s)}) — the route can no longer be re-planned"
        )
    driven = sum(s.leg_distance_m for s in closed)
    engine_type = problem.vehicle_type(vtype.name)
    changes: dict[str, int] = {}
    if engine_type.range_m is not None:
        changes["range_m"] = engine_type.range_m - driven
    if engine_type.max_shift is not None and on_its_way:
        elapsed = leave_s - math.ceil((route.start_at - mapped.midnight).total_seconds())
        changes["max_shift"] = engine_type.max_shift - max(0, elapsed)
    if any(v <= 0 for v in changes.values()):
        raise Conflict(
            f"{route.vehicle_id} has used up its {' and '.join(changes)} — the route can no "
            "longer be re-planned"
        )
    (vehicle, *_) = problem.vehicles
    breaks = tuple(
        Break(TimeWindow(max(b.window.start, leave_s), b.window.end), b.duration)
        for b in vehicle.breaks
        if b.window.end >= leave_s
    )
    vehicle = dataclasses.replace(
        vehicle,
        id=route.vehicle_id,
        start=start,
        shift=TimeWindow(leave_s, on_day.shift_end_s),
        breaks=breaks,
        locked=(stop_id(remaining[0].order_id),) if on_its_way else (),
    )
    try:
        narrowed = dataclasses.replace(
            problem,
            locations=locations,
            matrices=matrices,
            vehicle_types=(dataclasses.replace(engine_type, **changes),),  # type: ignore[arg-type]  # changes: dict[str, Any]
            vehicles=(vehicle,),
        )
    except InvalidProblemError as exc:
        why = "" if for_customer else f" ({exc})"  # it may name another customer's stop
        raise Conflict(
            f"{route.vehicle_id} cannot finish its route from {label} any more{why} — the "
            "route can no longer be re-planned"
        ) from None
    departure = _Departure(label, mapped.at(leave_s), driven)
    return dataclasses.replace(mapped, problem=narrowed), narrowed, departure


def _inputs(
    session: Session, order_ids: Sequence[int], redirected: Order, place: Place
) -> list[OrderInput]:
    """The orders with their lines and places; the redirected one at its new place."""
    orders = {
        o.id: o for o in session.exec(select(Order).where(col(Order.id).in_(list(order_ids))))
    }
    items: dict[int, list[OrderItem]] = {}
    for item in session.exec(
        select(OrderItem)
        .where(col(OrderItem.order_id).in_(list(order_ids)))
        .order_by(col(OrderItem.id))
    ):
        items.setdefault(item.order_id, []).append(item)
    place_ids = sorted({o.place_id for o in orders.values() if o.place_id is not None})
    places = {p.id: p for p in session.exec(select(Place).where(col(Place.id).in_(place_ids)))}
    return [
        order_input(
            orders[oid],
            items.get(oid, []),
            place if oid == redirected.id else places.get(orders[oid].place_id),
        )
        for oid in order_ids
    ]


def _solve(
    problem: Problem,
    route: Route,
    remaining: Sequence[RouteStop],
    order: Order,
    place: Place,
    limits: Limits,
    for_customer: bool,
    zone: ZoneInfo,
) -> EngineRoute:
    """The route's new order and ETAs; :class:`Conflict` unless every stop is served."""
    by_stop = {stop_id(s.order_id): s.order_id for s in remaining}
    advice = _advice(problem, order, place, zone)
    hopeless = diagnose(problem).unserved
    if hopeless:
        # Stops the vehicle could not serve even alone: refuse at once, without a search.
        raise Conflict(
            _unserved_message(
                order,
                place,
                route,
                [(by_stop[u.stop_id], u.reason.value, u.detail) for u in hopeless],
                for_customer,
                advice,
            )
        )
    initial = {route.vehicle_id: [stop_id(s.order_id) for s in remaining]}
    try:
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            solution = solve(problem, limits, initial_routes=initial)
    except SolverError as exc:
        raise Conflict(
            f"{route.vehicle_id} could not serve its remaining stops with order {order.id} at "
            f"{place.name!r} ({exc}); the route is unchanged — choose a place nearer its route"
        ) from None
    except Exception as exc:  # the solver's own failure: nothing was written
        raise PlanningFailed(
            f"re-optimising the route of {route.vehicle_id} failed ({exc}); it is unchanged"
        ) from exc
    if solution.unserved:
        raise Conflict(
            _unserved_message(
                order,
                place,
                route,
                [(by_stop[u.stop_id], u.reason.value, u.detail) for u in solution.unserved],
                for_customer,
                advice,
            )
        )
    (solved,) = solution.routes
    return solved


def _advice(problem: Problem, order: Order, place: Place, zone: ZoneInfo) -> str:
    """What to do when the redirected order itself cannot be served, by its cause.

    * the promised window ends before the vehicle can leave where it is: no place helps —
      another window or day;
    * driving straight from where the vehicle is to ``place`` arrives after the window: the
      place is too far for the time left — a place nearer the route, or a later window;
    * it would arrive in time straight away, but not after the route's other stops (the next
      one is fixed): the window is too tight for the route — a later window or another day.

    An order without a window, or a refusal for capacity, range or skills, gets the place
    advice.
    """
    nearer = "choose a place nearer the route or closer to the depot"
    sid = stop_id(order.id or 0)
    stop = next((s for s in problem.stops if s.id == sid), None)
    if stop is None or not stop.windows or order.window_end is None:
        return nearer
    (vehicle, *_) = problem.vehicles
    matrix = problem.matrices[problem.vehicle_type(vehicle.type).profile]
    end = max(w.end for w in stop.windows)
    ends = order.window_end.astimezone(zone).strftime("%H:%M")
    options = "choose another window or day among the order's delivery options"
    if vehicle.shift.start >= end:
        return (
            f"its promised window ended at {ends} before the vehicle could leave, so no place "
            f"would help: {options}"
        )
    if vehicle.shift.start + int(matrix.durations[vehicle.start, stop.location]) > end:
        return (
            f"{place.name!r} cannot be reached before the promised window ends at {ends} — "
            f"{nearer}, or a later window"
        )
    return (
        f"{place.name!r} could be reached before {ends}, but not after the route's other "
        f"stops, so the window, not the place, is too tight: {options}"
    )


def _unserved_message(
    order: Order,
    place: Place,
    route: Route,
    unserved: Sequence[tuple[int, str, str]],
    for_customer: bool,
    advice: str | None = None,
) -> str:
    """Why the redirect is refused: each stop left out with its reason and detail — to a
    customer only their own order's, the other stops (other customers' orders, places and
    windows) only counted. ``advice``: what to do when the order itself is left out
    (:func:`_advice`; default: a place nearer the route)."""
    ours = [u for u in unserved if u[0] == order.id]
    others = [u for u in unserved if u[0] != order.id]
    shown = ours if for_customer else ours + others
    parts = [f"order {oid}: {reason} — {detail}" for oid, reason, detail in shown]
    if for_customer and others:
        parts.append(f"{len(others)} other stop(s) of the route would be missed")
    if not ours:
        advice = "the other stops of the route would then be missed"
    elif advice is None or not any(u[1] == "window_unreachable" for u in ours):
        advice = "choose a place nearer the route or closer to the depot"
    return (
        f"cannot redirect order {order.id} to {place.name!r}: {route.vehicle_id} could not then "
        f"serve every remaining stop ({'; '.join(parts)}); the route is unchanged — {advice}"
    )


# -- writing --------------------------------------------------------------------------------------


def _write(
    session: Session,
    plan: Plan,
    route: Route,
    stops: Sequence[RouteStop],
    remaining: Sequence[RouteStop],
    order: Order,
    place: Place,
    created: bool,
    mapped: MappedProblem,
    solved: EngineRoute,
    vtype: VehicleType,
    depot: Depot,
    window: tuple[datetime, datetime] | None,
    departure: _Departure,
) -> WhereaboutsResult:
    """Persist the redirect in the session (the caller commits or rolls back)."""
    # Serialise with planners of the depot (PostgreSQL row lock; SQLite locks the file), then
    # make sure nothing moved while the solver ran.
    session.exec(select(Depot).where(Depot.id == depot.id).with_for_update()).one()
    status = session.exec(select(Plan.status).where(Plan.id == plan.id)).one()
    fresh = session.exec(
        select(RouteStop.id, RouteStop.status, RouteStop.sequence).where(
            RouteStop.route_id == route.id
        )
    ).all()
    if status is not PlanStatus.CURRENT or sorted(fresh) != sorted(
        (s.id, s.status, s.sequence) for s in stops
    ):
        raise Conflict(
            f"route of {route.vehicle_id} changed while the redirect was computed — send it again"
        )
    if created:
        session.add(place)
        try:
            session.flush()
        except sa.exc.IntegrityError:
            raise Conflict(
                f"a place named {place.name!r} was added meanwhile — send the redirect again"
            ) from None
    assert place.id is not None
    order.place_id = place.id
    session.add(order)

    by_order = {s.order_id: s for s in remaining}
    before = {s.order_id: (s.sequence, s.arrival_at) for s in remaining}
    slots = sorted(s.sequence for s in remaining)
    # Two steps, so that no two stops share a sequence at any moment (a unique constraint).
    parked = max(s.sequence for s in stops) + 1
    for k, s in enumerate(remaining):
        s.sequence = parked + k
        session.add(s)
    session.flush()
    etas = []
    for seq, visit in zip(slots, solved.visits, strict=True):
        s = by_order[mapped.order_of_stop[visit.stop_id]]
        s.sequence = seq
        _retime(s, visit, mapped)
        session.add(s)
        previous_sequence, previous_arrival = before[s.order_id]
        etas.append(
            StopEta(
                order_id=s.order_id,
                sequence=seq,
                arrival_at=s.arrival_at,
                service_start_at=s.service_start_at,
                departure_at=s.departure_at,
                previous_sequence=previous_sequence,
                previous_arrival_at=previous_arrival,
            )
        )
    session.flush()

    old = (route.distance_m, route.duration_s, route.cost, route.co2_g)
    if route.status is not RouteStatus.DISPATCHED:
        route.start_at = mapped.at(solved.start_time)
    route.end_at = mapped.at(solved.end_time)
    route.distance_m = departure.driven_m + solved.distance
    route.duration_s = int((route.end_at - route.start_at).total_seconds())
    _price(route, vtype)
    session.add(route)
    _add_delta(plan, old, route)
    session.add(plan)

    for eta in etas:
        local = eta.arrival_at.astimezone(ZoneInfo(depot.timezone)).isoformat()  # as answered
        where = f"on {route.vehicle_id}, stop {eta.sequence + 1}, ETA {local}"
        if eta.order_id == order.id:
            detail = f"redirected to {place.name!r} (place {place.id}); {where}"
        elif eta.changed:
            # Another customer's order: its log must not name the order that moved.
            detail = f"re-timed after another stop of the route was redirected; {where}"
        else:
            continue
        events.record(
            session, eta.order_id, OrderEventKind.REPLANNED, plan_id=plan.id, detail=detail,
            eta=eta.arrival_at, previous_eta=eta.previous_arrival_at,
        )  # fmt: skip
    assert order.id is not None
    mine = by_order[order.id]
    return _result(
        order.id or 0, place, created, True, route, depot, window, stops, mine, tuple(etas),
        departure,
    )  # fmt: skip


def _retime(stop: RouteStop, visit: EngineVisit, mapped: MappedProblem) -> None:
    """A stored stop timed as the solved ``visit`` (its sequence is the caller's)."""
    stop.arrival_at = mapped.at(visit.arrival)
    stop.service_start_at = mapped.at(visit.start)
    stop.departure_at = mapped.at(visit.departure)
    stop.wait_s = visit.wait
    stop.leg_distance_m = visit.distance
    stop.load_after = list(visit.load)


def _price(route: Route, vtype: VehicleType) -> None:
    """A route's cost (EUR: fixed + per km + per hour on duty) and CO2 (g) from its distance
    and duration, as the planner prices them."""
    km = route.distance_m / 1000.0
    route.cost = round(
        vtype.fixed_cost + vtype.cost_per_km * km + vtype.cost_per_hour * route.duration_s / 3600,
        4,
    )
    route.co2_g = round(vtype.co2_g_per_km * km, 3)


def _add_delta(plan: Plan, old: tuple[int, int, float, float], route: Route) -> None:
    """Keep the plan's totals the sum of its routes."""
    d_dist, d_dur, d_cost, d_co2 = (
        route.distance_m - old[0],
        route.duration_s - old[1],
        route.cost - old[2],
        route.co2_g - old[3],
    )
    if plan.distance_m is not None:
        plan.distance_m += d_dist
    if plan.duration_s is not None:
        plan.duration_s += d_dur
    if plan.cost is not None:
        plan.cost = round(plan.cost + d_cost, 4)
    if plan.co2_g is not None:
        plan.co2_g = round(plan.co2_g + d_co2, 3)


def _window(order: Order) -> tuple[datetime, datetime] | None:
    if order.window_start is None or order.window_end is None:
        return None
    return order.window_start, order.window_end


def _result(
    order_id: int,
    place: Place,
    created: bool,
    changed: bool,
    route: Route,
    depot: Depot,
    window: tuple[datetime, datetime] | None,
    stops: Sequence[RouteStop],
    mine: RouteStop,
    etas: tuple[StopEta, ...],
    departure: _Departure | None,
) -> WhereaboutsResult:
    assert route.id is not None
    band = timedelta(seconds=ETA_BAND_S)
    low, high = mine.service_start_at - band, mine.service_start_at + band
    if window is not None:
        low, high = max(low, window[0]), min(high, window[1])
        low, high = min(low, mine.service_start_at), max(high, mine.service_start_at)
    before = sum(1 for s in stops if s.status not in _CLOSED and s.sequence < mine.sequence)
    return WhereaboutsResult(
        order_id=order_id,
        place=place,
        place_created=created,
        changed=changed,
        route_id=route.id,
        vehicle_id=route.vehicle_id,
        sequence=mine.sequence,
        stops_before=before,
        eta=mine.arrival_at,
        service_start_at=mine.service_start_at,
        eta_window=(low, high),
        window=window,
        departure=None if departure is None else (departure.label, departure.at),
        timezone=depot.timezone,
        stops=etas,
    )


def _stop_of(session: Session, plan: Plan | None, order_id: int) -> RouteStop | None:
    """The order's stop in the plan, if it has one."""
    if plan is None:
        return None
    return session.exec(
        select(RouteStop)
        .join(Route, col(Route.id) == RouteStop.route_id)
        .where(Route.plan_id == plan.id, RouteStop.order_id == order_id)
    ).first()
