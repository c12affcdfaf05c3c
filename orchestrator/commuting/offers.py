"""An offer's life: accepted into the plan, or refused, expired or not shown up for and sent
back to the vans.

**Accepting** (:func:`accept_offer`) locks the bundle into the day: under the depot's lock (as
planning takes it), every order must still be open for a courier; each leaves the van route of
the day's current plan it was on — the stop is taken off (the route's other stops keep their
times, the vehicle only skips it), the plan records the order as unserved with the reason
:data:`WITH_COURIER` and says in ``stats["needs_replan"]`` that a re-plan would tighten it —
and becomes ``dispatched`` (a re-plan takes only ``open`` and ``planned`` orders, so no van
takes it back), with the event ``courier_accepted`` and its ETA.

**Sending back** (:func:`refuse_offer`, :func:`report_no_show`, and an offer whose deadline
passed unanswered, found lazily by :func:`expire_due` on every read and write of the
commuting API): the jobs are ``released`` and the orders ``open`` again, each with the event
``courier_released``. An order still on a van route of the current plan (an offer never
accepted takes nothing off) stays there. The others are re-planned at once: the day's
current plan is re-planned (:func:`orchestrator.planning.plans.replan`, dispatched stops kept
in place, promised windows hard); an order the new plan puts on a van keeps its promise (its
``replanned`` event gives the van and ETA), an order it cannot place — or every order when
the re-plan fails — gets the event ``promise_at_risk`` (the webhook
``order.promise_at_risk``) with the choices the customer has left. With no current plan the
orders simply wait, ``open``, for the day's plan.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from orchestrator.errors import Conflict, NotFound, OrchestratorError
from orchestrator.models import (
    CourierJob,
    CourierOffer,
    CourierTrip,
    Depot,
    JobStatus,
    OfferStatus,
    Order,
    OrderEventKind,
    OrderStatus,
    Plan,
    Route,
    RouteStatus,
    RouteStop,
    StopStatus,
    UnservedOrder,
)
from orchestrator.models.columns import utcnow
from orchestrator.operations.progress import choices_left
from orchestrator.planning.plans import current_plan, replan
from orchestrator.planning.travel import TravelTimes
from orchestrator.store import events
from routing.solve import Limits

__all__ = [
    "SEND_BACK_LIMITS",
    "WITH_COURIER",
    "accept_offer",
    "expire_due",
    "get_offer",
    "offer_jobs",
    "refuse_offer",
    "report_no_show",
]

WITH_COURIER = "with_courier"
"""Unserved reason, in a van plan, of an order a commuter courier carries."""
SEND_BACK_LIMITS = Limits(time_limit=5.0, solution_limit=200)
"""Solver limits of the re-plan that takes orders back onto the vans (seconds, solutions)."""

_log = logging.getLogger(__name__)


def get_offer(session: Session, offer_id: int, *, courier_id: int | None) -> CourierOffer:
    """The offer; another courier's is :class:`NotFound`, as an unknown one (``courier_id``
    ``None``: staff)."""
    offer = session.get(CourierOffer, offer_id)
    if offer is None:
        raise NotFound("offer", offer_id)
    if courier_id is not None:
        trip = session.get(CourierTrip, offer.trip_id)
        if trip is None or trip.courier_id != courier_id:
            raise NotFound("offer", offer_id)
    return offer


def offer_jobs(session: Session, offer_id: int) -> list[CourierJob]:
    """The offer's jobs in riding order."""
    return list(
        session.exec(
            select(CourierJob)
            .where(CourierJob.offer_id == offer_id)
            .order_by(col(CourierJob.sequence))
        ).all()
    )


def accept_offer(
    session: Session, offer_id: int, *, courier_id: int | None, now: datetime | None = None
) -> CourierOffer:
    """Accept an offer: its orders leave the vans for the courier (the module's notes); commit.

    Raises
    ------
    NotFound
        No such offer, or another courier's.
    Conflict
        The offer was already answered or its deadline passed (then it is expired and its
        orders sent back), or an order of it moved on meanwhile (dispatched, closed).
    """
    now = now or utcnow()
    offer = get_offer(session, offer_id, courier_id=courier_id)
    depot = session.get(Depot, offer.depot_id)
    assert depot is not None and offer.id is not None
    # Serialise with planners and other couriers of the depot (PostgreSQL row lock).
    session.exec(select(Depot).where(Depot.id == depot.id).with_for_update()).one()
    session.refresh(offer)
    if offer.status is OfferStatus.OFFERED and offer.deadline_at <= now:
        session.rollback()
        raise Conflict(
            f"offer {offer_id} expired at {offer.deadline_at.isoformat()} — register the "
            "trip again for a new offer"
        )
    if offer.status is not OfferStatus.OFFERED:
        raise Conflict(f"offer {offer_id} is {offer.status.value} — it can no longer be accepted")
    jobs = offer_jobs(session, offer.id)
    plan = current_plan(session, depot.id or 0, offer.service_day)
    stops = _stops_of(session, plan, [j.order_id for j in jobs])
    for job in jobs:
        order = session.get(Order, job.order_id)
        assert order is not None
        found = stops.get(job.order_id)
        moved_on = found is not None and (
            found[0].status is not RouteStatus.PLANNED or found[1].status is not StopStatus.PLANNED
        )
        taken = _held_elsewhere(session, job.order_id, offer.id)
        if order.status not in (OrderStatus.OPEN, OrderStatus.PLANNED) or moved_on or taken:
            raise Conflict(
                f"a parcel of offer {offer_id} was sent another way meanwhile — register the "
                "trip again for a new offer"
            )
    zone = ZoneInfo(depot.timezone)
    for job in jobs:
        found = stops.get(job.order_id)
        if found is not None and plan is not None:
            _take_off(session, plan, found[1], offer.id)
        order = session.get(Order, job.order_id)
        assert order is not None
        order.status = OrderStatus.DISPATCHED
        session.add(order)
        job.status = JobStatus.ACCEPTED
        session.add(job)
        events.record(
            session, job.order_id, OrderEventKind.COURIER_ACCEPTED,
            plan_id=plan.id if plan is not None else None,
            detail=f"a neighbour brings it on their way (offer {offer.id}), hand-over ETA "
            f"{job.eta.astimezone(zone).isoformat()}",
            eta=job.eta,
        )  # fmt: skip
    offer.status = OfferStatus.ACCEPTED
    offer.answered_at = now
    session.add(offer)
    session.commit()
    session.refresh(offer)
    return offer


def refuse_offer(
    session: Session,
    offer_id: int,
    *,
    courier_id: int | None,
    travel: TravelTimes,
    now: datetime | None = None,
    limits: Limits | None = None,
) -> CourierOffer:
    """Refuse an offer: its orders go back to the vans (the module's notes); commit.

    Raises
    ------
    NotFound
        No such offer, or another courier's.
    Conflict
        The offer is no longer waiting for an answer.
    """
    now = now or utcnow()
    offer = get_offer(session, offer_id, courier_id=courier_id)
    if offer.status is OfferStatus.OFFERED and offer.deadline_at <= now:
        expire_due(session, travel=travel, now=now, limits=limits)
        session.refresh(offer)
    if offer.status is not OfferStatus.OFFERED:
        raise Conflict(f"offer {offer_id} is {offer.status.value} — there is nothing to refuse")
    return _send_back(session, offer, OfferStatus.REFUSED, "the courier refused it",
                      travel=travel, now=now, limits=limits)  # fmt: skip


def report_no_show(
    session: Session,
    offer_id: int,
    *,
    travel: TravelTimes,
    now: datetime | None = None,
    limits: Limits | None = None,
) -> CourierOffer:
    """The carrier reports that the courier of an accepted offer never came for the parcels:
    they go back to the vans (the module's notes); commit.

    Raises
    ------
    NotFound
        No such offer.
    Conflict
        The offer is not accepted, or a parcel of it was already picked up.
    """
    now = now or utcnow()
    offer = get_offer(session, offer_id, courier_id=None)
    if offer.status is not OfferStatus.ACCEPTED:
        raise Conflict(
            f"offer {offer_id} is {offer.status.value}, not accepted — only an accepted "
            "offer's courier can fail to show up"
        )
    if any(j.status is not JobStatus.ACCEPTED for j in offer_jobs(session, offer.id or 0)):
        raise Conflict(
            f"the courier of offer {offer_id} already picked parcels up — report each parcel "
            "they could not deliver instead"
        )
    return _send_back(session, offer, OfferStatus.NO_SHOW, "the courier did not show up",
                      travel=travel, now=now, limits=limits)  # fmt: skip


def expire_due(
    session: Session,
    *,
    travel: TravelTimes,
    now: datetime | None = None,
    limits: Limits | None = None,
) -> list[int]:
    """Expire every offer whose deadline passed unanswered and send its orders back; commit.
    The ids of the offers expired (called lazily before every read and write)."""
    now = now or utcnow()
    due = session.exec(
        select(CourierOffer)
        .where(CourierOffer.status == OfferStatus.OFFERED, col(CourierOffer.deadline_at) <= now)
        .order_by(col(CourierOffer.id))
    ).all()
    expired = []
    for offer in due:
        _send_back(session, offer, OfferStatus.EXPIRED, "the courier's offer expired unanswered",
                   travel=travel, now=now, limits=limits)  # fmt: skip
        expired.append(offer.id or 0)
    return expired


# -- implementation -----------------------------------------------------------------------------


def _held_elsewhere(session: Session, order_id: int, offer_id: int) -> bool:
    """Whether a courier of an offer other than ``offer_id`` accepted the order (first to
    accept wins; an offer still waiting for its answer holds nothing against another)."""
    found = session.exec(
        select(CourierJob.id).where(
            CourierJob.order_id == order_id,
            CourierJob.offer_id != offer_id,
            col(CourierJob.status).in_(
                [JobStatus.ACCEPTED.value, JobStatus.PICKED_UP.value, JobStatus.DELIVERED.value]
            ),
        )
    ).first()
    return found is not None


def _stops_of(
    session: Session, plan: Plan | None, order_ids: Sequence[int]
) -> dict[int, tuple[Route, RouteStop]]:
    """Order id → its route and stop in ``plan``."""
    if plan is None or not order_ids:
        return {}
    rows = session.exec(
        select(Route, RouteStop)
        .join(RouteStop, col(RouteStop.route_id) == col(Route.id))
        .where(Route.plan_id == plan.id, col(RouteStop.order_id).in_(list(order_ids)))
    ).all()
    return {stop.order_id: (route, stop) for route, stop in rows}


def _take_off(session: Session, plan: Plan, stop: RouteStop, offer_id: int) -> None:
    """Take a stop off its van route for a courier (the route's other stops stay as timed)."""
    assert plan.id is not None
    detail = f"a commuter courier carries it (offer {offer_id})"
    session.delete(stop)
    session.add(
        UnservedOrder(plan_id=plan.id, order_id=stop.order_id, reason=WITH_COURIER, detail=detail)
    )
    plan.n_served = max(0, plan.n_served - 1)
    plan.n_unserved += 1
    needs = list(plan.stats.get("needs_replan") or [])
    plan.stats = {**plan.stats, "needs_replan": [*needs, f"order {stop.order_id}: {detail}"]}
    session.add(plan)


def _send_back(
    session: Session,
    offer: CourierOffer,
    status: OfferStatus,
    why: str,
    *,
    travel: TravelTimes,
    now: datetime,
    limits: Limits | None,
) -> CourierOffer:
    """Release the offer's orders to the vans and re-plan those on no van route."""
    assert offer.id is not None
    depot = session.get(Depot, offer.depot_id)
    assert depot is not None
    zone = ZoneInfo(depot.timezone)
    plan = current_plan(session, depot.id or 0, offer.service_day)
    jobs = offer_jobs(session, offer.id)
    on_vans = _stops_of(session, plan, [j.order_id for j in jobs])
    homeless: list[int] = []
    for job in jobs:
        if job.status is JobStatus.RELEASED:
            continue
        # Only an accepted job took its order off the vans; an offered one never owned it
        # (another courier may have taken it since).
        ours = job.status in (JobStatus.ACCEPTED, JobStatus.PICKED_UP)
        job.status = JobStatus.RELEASED
        job.closed_at = now
        session.add(job)
        order = session.get(Order, job.order_id)
        assert order is not None
        found = on_vans.get(job.order_id)
        if found is not None:
            route, stop = found
            where = (
                f"it stays on {route.vehicle_id}, ETA "
                f"{stop.service_start_at.astimezone(zone).isoformat()}"
            )
        elif ours or order.status in (OrderStatus.OPEN, OrderStatus.PLANNED):
            if order.status is OrderStatus.DISPATCHED:
                order.status = OrderStatus.OPEN
                session.add(order)
            homeless.append(job.order_id)
            where = "back to the vans" if plan is not None else "it waits for the day's plan"
        else:
            where = f"it is {order.status.value} another way"
        events.record(session, job.order_id, OrderEventKind.COURIER_RELEASED,
                      detail=f"{why} (offer {offer.id}); {where}")  # fmt: skip
    offer.status = status
    offer.answered_at = offer.answered_at or now
    session.add(offer)
    session.commit()
    if homeless and plan is not None and plan.id is not None:
        offer.replan_note = _replan_onto_vans(session, plan.id, homeless, travel, limits, zone)
        session.add(offer)
        session.commit()
    session.refresh(offer)
    return offer


def _replan_onto_vans(
    session: Session,
    plan_id: int,
    order_ids: Sequence[int],
    travel: TravelTimes,
    limits: Limits | None,
    zone: ZoneInfo,
) -> str:
    """Re-plan the day for orders a courier gave back; tell the customers of those no van can
    bring in their window. A sentence of what happened (the offer's ``replan_note``)."""
    why = "no van can bring it inside its promised window"
    try:
        replan(session, plan_id, travel=travel, limits=limits or SEND_BACK_LIMITS)
    except OrchestratorError as exc:
        session.rollback()
        _log.warning("re-planning plan %s for a courier's orders failed: %s", plan_id, exc)
        why = f"the re-plan failed ({exc})"
    before = session.get(Plan, plan_id)
    assert before is not None
    now_current = current_plan(session, before.depot_id, before.service_day)
    placed = _stops_of(session, now_current, order_ids)
    missing = [o for o in order_ids if o not in placed]
    for order_id in missing:
        order = session.get(Order, order_id)
        assert order is not None
        choices = ", ".join(c.label for c in choices_left(session, order))
        events.record(
            session, order_id, OrderEventKind.PROMISE_AT_RISK,
            detail=f"a courier gave it back and no van can bring it in its window now; "
            f"choices: {choices or 'none'}",
        )  # fmt: skip
    session.commit()
    done = [
        f"order {o} on {placed[o][0].vehicle_id}, ETA "
        f"{placed[o][1].service_start_at.astimezone(zone).isoformat()}"
        for o in order_ids
        if o in placed
    ]
    told = [f"order {o}: customer told ({why})" for o in missing]
    return "; ".join(done + told)[:1_000]
