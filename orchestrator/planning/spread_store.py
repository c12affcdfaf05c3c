"""A depot's learned spread in the store: read as a :class:`SpreadBook`, taught by outcomes,
and turned into the buffer its days are planned on.

* :func:`load_book` reads a depot's ``spread_stats`` rows (:class:`SpreadStat`);
* :func:`record` adds outcomes (every level of each key, as
  :meth:`SpreadBook.observe_many` does);
* :func:`outcome_ratios` says what one closed stop teaches (the rule below), and
  :func:`learn_from_outcome` records it — called where a stop's outcome is recorded
  (:func:`orchestrator.operations.dispatch.mark_stop_outcome`);
* :func:`promise_buffer` is the buffer a depot's day is planned on at the settings'
  ``promise_confidence`` (no buffer when it is 0).

**What a closed stop teaches.** Only the instant a stop closed (``closed_at``, the
hand-over or the failed attempt) is recorded, not when the vehicle arrived, so one stop's
outcome gives one *travel* ratio, of the leg that led to it, and only when the previous stop
on the route (sequence one less, a delivery) closed too:

    actual travel  = (closed_at - previous closed_at) - nominal service        [s]
    ratio          = actual travel / nominal leg                             [unitless]

where the *nominal* leg and service are the plan's (``arrival_at - previous departure_at``
and ``departure_at - service_start_at``) divided by the buffer that plan was made with
(kept in its stats, :meth:`Buffer.as_stats`): a plan's times are the cautious ones, and the
spread is learned against the travel provider's own times — else the buffer would feed on
itself. The service is taken as planned (its own spread is not observable from hand-over
instants alone, so service keeps the default spread). Skipped: the first stop of a route
(the vehicle's departure is not recorded), a stop whose plan had it wait for its window
(waiting hides earliness), and legs shorter than :data:`MIN_LEG_S` (a ratio of seconds is
noise). The key is the route's vehicle type's profile, the local hour of the planned
arrival, and the zone of the stop's place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from orchestrator.models import (
    Depot,
    Order,
    Place,
    Plan,
    Route,
    RouteStop,
    SpreadStat,
    VehicleType,
)
from orchestrator.models.columns import utcnow
from orchestrator.planning.spread import (
    Buffer,
    Spread,
    SpreadBook,
    SpreadKey,
    zone_of,
)
from orchestrator.settings import Settings

__all__ = [
    "MIN_LEG_S",
    "learn_from_outcome",
    "load_book",
    "outcome_ratios",
    "promise_buffer",
    "record",
]

MIN_LEG_S = 60
"""Shortest nominal leg a travel ratio is learned from, seconds."""


def load_book(session: Session, depot_id: int) -> SpreadBook:
    """What depot ``depot_id`` has learned (an empty book — the defaults — for none)."""
    rows = session.exec(select(SpreadStat).where(col(SpreadStat.depot_id) == depot_id)).all()
    return SpreadBook(
        {
            SpreadKey(r.timed, r.profile, r.hour, r.zone): Spread(r.n, r.mean, r.m2)  # type: ignore[arg-type]  # timed is checked by SpreadKey
            for r in rows
        }
    )


def record(session: Session, depot_id: int, outcomes: Iterable[tuple[SpreadKey, float]]) -> int:
    """Add ``outcomes`` (key, actual over planned) to the depot's rows, at every level of each
    key; the caller commits. Returns the outcomes recorded.

    Rows are read for update, so two outcomes recorded at once do not lose one another
    (PostgreSQL locks the rows; SQLite the store); a row made meanwhile by another writer is
    re-read and updated.
    """
    pending = list(outcomes)
    if not pending:
        return 0
    updates: dict[SpreadKey, list[float]] = {}
    for key, ratio in pending:
        for level in key.levels():
            updates.setdefault(level, []).append(ratio)
    now = utcnow()
    for key, ratios in updates.items():
        row = _row(session, depot_id, key)
        if row is None:
            row = SpreadStat(
                depot_id=depot_id, timed=key.timed, profile=key.profile, hour=key.hour,
                zone=key.zone,
            )  # fmt: skip
            try:
                with session.begin_nested():
                    session.add(row)
            except sa.exc.IntegrityError:
                row = _row(session, depot_id, key)  # another writer made it meanwhile
                assert row is not None
        spread = Spread(row.n, row.mean, row.m2)
        for ratio in ratios:
            spread = spread.observe(ratio)
        row.n, row.mean, row.m2, row.updated_at = spread.n, spread.mean, spread.m2, now
        session.add(row)
    session.flush()
    return len(pending)


def outcome_ratios(session: Session, stop: RouteStop) -> list[tuple[SpreadKey, float]]:
    """What closed stop ``stop`` teaches (the rule of the module's notes): one travel ratio,
    or none."""
    if stop.closed_at is None or stop.sequence == 0 or stop.wait_s > 0:
        return []
    prev = session.exec(
        select(RouteStop).where(
            RouteStop.route_id == stop.route_id, RouteStop.sequence == stop.sequence - 1
        )
    ).first()
    if prev is None or prev.closed_at is None:
        return []
    route = session.get(Route, stop.route_id)
    plan = session.get(Plan, route.plan_id) if route is not None else None
    order = session.get(Order, stop.order_id)
    if route is None or plan is None or order is None or order.place_id is None:
        return []
    place = session.get(Place, order.place_id)
    depot = session.get(Depot, plan.depot_id)
    profile = session.exec(
        select(VehicleType.profile).where(VehicleType.name == route.vehicle_type)
    ).first()
    if place is None or depot is None or profile is None:
        return []
    buffer = Buffer.from_stats((plan.stats or {}).get("buffer"))
    leg = _seconds(stop.arrival_at, prev.departure_at) / buffer.travel_factor(profile)
    if leg < MIN_LEG_S:
        return []
    service = _seconds(stop.departure_at, stop.service_start_at) / buffer.service
    elapsed = _seconds(stop.closed_at, prev.closed_at)
    travel = max(elapsed - service, 1.0)
    hour = stop.arrival_at.astimezone(ZoneInfo(depot.timezone)).hour
    key = SpreadKey("travel", profile, hour, zone_of(place.lat, place.lon))
    return [(key, travel / leg)]


def learn_from_outcome(session: Session, stop: RouteStop) -> int:
    """Record what closed stop ``stop`` teaches in its depot's book (the caller commits):
    its own leg's ratio, and the next stop's when that one closed first (outcomes recorded
    out of order; each leg is learned once, when the later of its two stops closes). Returns
    the ratios recorded (0 to 2)."""
    ratios = outcome_ratios(session, stop)
    after = session.exec(
        select(RouteStop).where(
            RouteStop.route_id == stop.route_id, RouteStop.sequence == stop.sequence + 1
        )
    ).first()
    if after is not None and after.closed_at is not None:
        ratios += outcome_ratios(session, after)
    if not ratios:
        return 0
    route = session.get(Route, stop.route_id)
    assert route is not None
    plan = session.get(Plan, route.plan_id)
    assert plan is not None
    return record(session, plan.depot_id, ratios)


def promise_buffer(
    session: Session,
    depot_id: int,
    profiles: Sequence[str],
    settings: Settings | None = None,
    *,
    book: SpreadBook | None = None,
) -> Buffer:
    """The buffer the depot's days are planned on: ``profiles``' factors at the settings'
    ``promise_confidence`` from what the depot learned (``book``, read when not given); no
    buffer (every factor 1.0) when the confidence is 0."""
    confidence = (settings or Settings()).promise_confidence
    if not confidence:
        return Buffer()
    return Buffer.of(
        book if book is not None else load_book(session, depot_id), profiles, confidence
    )


def _row(session: Session, depot_id: int, key: SpreadKey) -> SpreadStat | None:
    return session.exec(
        select(SpreadStat)
        .where(
            SpreadStat.depot_id == depot_id,
            SpreadStat.timed == key.timed,
            SpreadStat.profile == key.profile,
            SpreadStat.hour == key.hour,
            SpreadStat.zone == key.zone,
        )
        .with_for_update()
    ).first()


def _seconds(a: datetime, b: datetime) -> float:
    return (a - b).total_seconds()
