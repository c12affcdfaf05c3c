"""What a courier sees of an offer: what the job needs, nothing else of the customer.

For each parcel: the pickup point (the depot: its name and coordinates), the drop-off (the
place's coordinates — before acceptance rounded to :data:`ROUGH_DECIMALS` decimals, about
100 m, so a refused offer reveals no door — and, once accepted, its street address), the
promised window, the planned hand-over, and once accepted the hand-off instructions (the
customer's and the place's) and the hand-off code. Never the customer's name, e-mail, phone,
other places or other orders, nor another courier's anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from orchestrator.commuting.offers import offer_jobs
from orchestrator.models import (
    CourierOffer,
    CustomerProfile,
    Depot,
    JobStatus,
    OfferStatus,
    Order,
    OrderItem,
    Place,
)

__all__ = ["ROUGH_DECIMALS", "JobView", "OfferView", "PickupPoint", "offer_view"]

ROUGH_DECIMALS = 3
"""Decimals of a drop-off's coordinates shown before the offer is accepted (about 100 m)."""
_SHOWN = (OfferStatus.ACCEPTED, OfferStatus.DONE)


@dataclass(frozen=True, slots=True)
class PickupPoint:
    """Where the parcels are taken: the depot's name and WGS84 coordinates."""

    name: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class JobView:
    """One parcel as the courier sees it (the module's notes). Times are aware UTC instants."""

    id: int
    sequence: int
    status: JobStatus
    parcels: int
    dropoff_lat: float
    dropoff_lon: float
    dropoff_address: str | None
    window: tuple[datetime, datetime] | None
    pickup_at: datetime
    eta: datetime
    handoff_instructions: str | None
    handoff_code: str | None


@dataclass(frozen=True, slots=True)
class OfferView:
    """An offer as the courier sees it: payout (EUR), detour (seconds), deadline and jobs."""

    id: int
    trip_id: int
    status: OfferStatus
    payout_eur: float
    detour_s: int
    distance_m: int
    leave_at: datetime
    arrive_at: datetime
    deadline_at: datetime
    pickup: PickupPoint
    jobs: tuple[JobView, ...]
    timezone: str
    replan_note: str | None


def offer_view(session: Session, offer: CourierOffer) -> OfferView:
    """The courier's view of ``offer`` (the module's notes)."""
    assert offer.id is not None
    depot = session.get(Depot, offer.depot_id)
    assert depot is not None
    shown = offer.status in _SHOWN
    jobs = []
    for job in offer_jobs(session, offer.id):
        order = session.get(Order, job.order_id)
        assert order is not None and job.id is not None
        place = session.get(Place, order.place_id) if order.place_id is not None else None
        profile = session.get(CustomerProfile, order.customer_id)
        lat, lon = (place.lat, place.lon) if place is not None else (depot.lat, depot.lon)
        live = shown and job.status is not JobStatus.RELEASED
        notes = [
            text
            for text in (
                profile.handoff_instructions if profile is not None else None,
                place.instructions if place is not None else None,
            )
            if text
        ]
        parcels = session.exec(
            select(OrderItem.parcels, OrderItem.quantity).where(col(OrderItem.order_id) == order.id)
        ).all()
        jobs.append(
            JobView(
                id=job.id,
                sequence=job.sequence,
                status=job.status,
                parcels=sum(p * q for p, q in parcels),
                dropoff_lat=lat if live else round(lat, ROUGH_DECIMALS),
                dropoff_lon=lon if live else round(lon, ROUGH_DECIMALS),
                dropoff_address=place.address if live and place is not None else None,
                window=(order.window_start, order.window_end)
                if order.window_start is not None and order.window_end is not None
                else None,
                pickup_at=job.pickup_at,
                eta=job.eta,
                handoff_instructions=" — ".join(notes) if live and notes else None,
                handoff_code=job.handoff_code if live else None,
            )
        )
    return OfferView(
        id=offer.id,
        trip_id=offer.trip_id,
        status=offer.status,
        payout_eur=offer.payout_eur,
        detour_s=offer.detour_s,
        distance_m=offer.distance_m,
        leave_at=offer.leave_at,
        arrive_at=offer.arrive_at,
        deadline_at=offer.deadline_at,
        pickup=PickupPoint(depot.name, depot.lat, depot.lon),
        jobs=tuple(jobs),
        timezone=depot.timezone,
        replan_note=offer.replan_note,
    )
