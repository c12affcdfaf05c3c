"""The courier's day: parcels picked up at the pickup point, handed over with the code.

:func:`pick_up` records that the courier took the offer's parcels at the counter (each order's
event ``picked_up``); :func:`deliver` records one hand-over: the courier gives the hand-off
code the customer's page shows, and a wrong code is refused (``handoff_code``) so a parcel is
never marked delivered at the wrong door. The order becomes ``delivered`` with the event
``delivered`` (the webhook ``order.delivered``); once every parcel is delivered the offer is
``done``.
"""

from __future__ import annotations

import hmac
from datetime import datetime

from sqlmodel import Session

from orchestrator.commuting.offers import get_offer, offer_jobs
from orchestrator.errors import Conflict, InvalidInput, NotFound
from orchestrator.models import (
    CourierJob,
    JobStatus,
    OfferStatus,
    Order,
    OrderEventKind,
    OrderStatus,
)
from orchestrator.models.columns import utcnow
from orchestrator.store import events

__all__ = ["deliver", "get_job", "pick_up"]


def get_job(session: Session, job_id: int, *, courier_id: int | None) -> CourierJob:
    """The job; another courier's is :class:`NotFound`, as an unknown one."""
    job = session.get(CourierJob, job_id)
    if job is None:
        raise NotFound("job", job_id)
    get_offer(session, job.offer_id, courier_id=courier_id)  # NotFound for another courier's
    return job


def pick_up(
    session: Session, offer_id: int, *, courier_id: int | None, now: datetime | None = None
) -> list[CourierJob]:
    """The courier took the accepted offer's parcels at the pickup point; commit. Its jobs.

    Raises
    ------
    Conflict
        The offer is not accepted (not yet, or sent back).
    """
    now = now or utcnow()
    offer = get_offer(session, offer_id, courier_id=courier_id)
    if offer.status is not OfferStatus.ACCEPTED:
        raise Conflict(
            f"offer {offer_id} is {offer.status.value} — accept it before picking parcels up"
        )
    jobs = offer_jobs(session, offer_id)
    for job in jobs:
        if job.status is JobStatus.ACCEPTED:
            job.status = JobStatus.PICKED_UP
            session.add(job)
            events.record(
                session,
                job.order_id,
                OrderEventKind.PICKED_UP,
                detail=f"the courier of offer {offer_id} took it at the pickup point",
            )
    session.commit()
    return offer_jobs(session, offer_id)


def deliver(
    session: Session,
    job_id: int,
    code: str,
    *,
    courier_id: int | None,
    now: datetime | None = None,
) -> CourierJob:
    """Record one hand-over, checked by its hand-off code; commit.

    Raises
    ------
    NotFound
        No such job, or another courier's.
    InvalidInput
        Not the job's hand-off code (``handoff_code``).
    Conflict
        The parcel was not picked up, or is already delivered or sent back.
    """
    now = now or utcnow()
    job = get_job(session, job_id, courier_id=courier_id)
    if job.status is JobStatus.DELIVERED:
        raise Conflict(f"job {job_id} is already delivered")
    if job.status is not JobStatus.PICKED_UP:
        raise Conflict(
            f"job {job_id} is {job.status.value} — pick the parcels up at the pickup point "
            "first (POST /couriers/offers/{id}/pickup)"
        )
    if not hmac.compare_digest(code.strip().encode(), job.handoff_code.encode()):
        raise InvalidInput(
            "handoff_code", "not this parcel's hand-off code — check the code and the door"
        )
    job.status = JobStatus.DELIVERED
    job.closed_at = now
    session.add(job)
    order = session.get(Order, job.order_id)
    assert order is not None
    order.status = OrderStatus.DELIVERED
    session.add(order)
    events.record(session, job.order_id, OrderEventKind.DELIVERED,
                  detail=f"handed over by the courier of offer {job.offer_id}")  # fmt: skip
    offer = get_offer(session, job.offer_id, courier_id=None)
    if all(
        j.status in (JobStatus.DELIVERED, JobStatus.RELEASED) or j.id == job.id
        for j in offer_jobs(session, job.offer_id)
    ):
        offer.status = OfferStatus.DONE
        session.add(offer)
    session.commit()
    session.refresh(job)
    return job
