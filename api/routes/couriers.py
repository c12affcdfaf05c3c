"""``/couriers``: commuters who deliver on their way — trips, offers, pickup and hand-over.

A planner or admin registers a courier (``POST /couriers``) and gives them a key
(``lastmile keys create --role courier --courier ID``). With it the courier registers a trip
and gets the offer that fits it (or the reason there is none), accepts or refuses it, picks
the parcels up and hands each over with its code. A courier key reaches only its own trips,
offers and jobs (others answer 404); the carrier (planner, admin) reports a courier who did
not show up. The rules live in :mod:`orchestrator.commuting`; every call first expires the
offers whose deadline passed (:func:`orchestrator.commuting.expire_due`). Times are ISO 8601
with the depot's offset.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from api.deps import (
    CARRIER,
    Caller,
    CourierDep,
    PlannerDep,
    SessionDep,
    TravelDep,
    require_role,
)
from api.errors import error_responses
from api.zones import in_zone
from orchestrator.commuting import (
    OfferView,
    accept_offer,
    create_courier,
    deliver,
    expire_due,
    get_offer,
    get_trip,
    offer_view,
    pick_up,
    refuse_offer,
    register_trip,
    report_no_show,
)
from orchestrator.models import (
    CourierCreate,
    CourierOffer,
    CourierPublic,
    CourierTrip,
    Int64,
    Role,
    TripCreate,
)
from orchestrator.planning.travel import TravelTimes

__all__ = ["HandoffIn", "JobOut", "OfferOut", "TripOut", "router"]

router = APIRouter(
    prefix="/couriers",
    tags=["couriers"],
    responses=error_responses(401),
    dependencies=[CARRIER],  # commuters ride for the carrier: a retailer's key is 403
)

ReaderDep = Annotated[
    Caller, Depends(require_role(Role.COURIER, Role.PLANNER, Role.ADMIN, Role.ANALYST))
]
"""Who may read an offer: its courier, or staff."""

_JOB: dict[str, Any] = {
    "id": 4,
    "sequence": 0,
    "status": "accepted",
    "parcels": 1,
    "dropoff_lat": 60.1755,
    "dropoff_lon": 24.931,
    "dropoff_address": "Mannerheimintie 5 A 3",
    "window_start": "2025-03-03T16:00:00+02:00",
    "window_end": "2025-03-03T18:00:00+02:00",
    "pickup_at": "2025-03-03T16:00:33+02:00",
    "eta": "2025-03-03T16:05:56+02:00",
    "handoff_instructions": "ring twice",
    "handoff_code": "482913",
}
_OFFER: dict[str, Any] = {
    "id": 2,
    "trip_id": 3,
    "status": "accepted",
    "payout_eur": 6.0,
    "detour_min": 14.7,
    "distance_m": 5_548,
    "leave_at": "2025-03-03T16:00:00+02:00",
    "arrive_at": "2025-03-03T16:29:44+02:00",
    "deadline_at": "2025-03-03T15:45:00+02:00",
    "pickup_name": "Helsinki depot",
    "pickup_lat": 60.1699,
    "pickup_lon": 24.9384,
    "jobs": [_JOB],
    "replan_note": None,
}


class JobOut(BaseModel):
    """One parcel as the courier sees it: where to take it, when, and how to hand it over.
    Before the offer is accepted the drop-off is rounded to about 100 m and the address,
    instructions and code are ``null``."""

    id: int
    sequence: int = Field(description="Riding order, 0 first.")
    status: str = Field(description="offered, accepted, picked_up, delivered or released.")
    parcels: int
    dropoff_lat: float
    dropoff_lon: float
    dropoff_address: str | None
    window_start: datetime | None = Field(description="The promised window.")
    window_end: datetime | None
    pickup_at: datetime = Field(description="Planned pickup at the pickup point.")
    eta: datetime = Field(description="Planned hand-over.")
    handoff_instructions: str | None
    handoff_code: str | None = Field(
        description="The code the customer's page shows: give it at the door, and send it "
        "with POST /couriers/jobs/{id}/delivered."
    )


class OfferOut(BaseModel):
    """A bundle offered for a trip: the payout, the detour, the deadline to answer, the
    pickup point and the parcels in riding order."""

    id: int
    trip_id: int
    status: str = Field(description="offered, accepted, refused, expired, no_show or done.")
    payout_eur: float = Field(description="What the courier is paid for the trip, EUR.")
    detour_min: float = Field(description="Minutes the bundle adds to the straight ride.")
    distance_m: int = Field(description="The whole ride, metres.")
    leave_at: datetime
    arrive_at: datetime
    deadline_at: datetime = Field(description="Answer before this, or the offer expires.")
    pickup_name: str
    pickup_lat: float
    pickup_lon: float
    jobs: list[JobOut]
    replan_note: str | None = Field(
        description="Sent back: where the re-plan put the parcels, or who was told."
    )

    model_config = ConfigDict(json_schema_extra={"examples": [_OFFER]})


class TripOut(BaseModel):
    """A registered trip and its offer, or why none was made."""

    id: int
    courier_id: int
    depot_id: int | None
    service_day: str | None
    offer: OfferOut | None
    no_offer_reason: str | None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 3,
                    "courier_id": 1,
                    "depot_id": 1,
                    "service_day": "2025-03-03",
                    "offer": {**_OFFER, "status": "offered"},
                    "no_offer_reason": None,
                }
            ]
        }
    )


class HandoffIn(BaseModel):
    """The hand-off code of the parcel handed over."""

    handoff_code: str = Field(min_length=1, max_length=16, description="As the job shows it.")

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"handoff_code": "482913"}]}
    )


def _offer_out(view: OfferView) -> OfferOut:
    out = OfferOut(
        id=view.id,
        trip_id=view.trip_id,
        status=view.status.value,
        payout_eur=view.payout_eur,
        detour_min=round(view.detour_s / 60, 1),
        distance_m=view.distance_m,
        leave_at=view.leave_at,
        arrive_at=view.arrive_at,
        deadline_at=view.deadline_at,
        pickup_name=view.pickup.name,
        pickup_lat=view.pickup.lat,
        pickup_lon=view.pickup.lon,
        jobs=[
            JobOut(
                id=j.id,
                sequence=j.sequence,
                status=j.status.value,
                parcels=j.parcels,
                dropoff_lat=j.dropoff_lat,
                dropoff_lon=j.dropoff_lon,
                dropoff_address=j.dropoff_address,
                window_start=None if j.window is None else j.window[0],
                window_end=None if j.window is None else j.window[1],
                pickup_at=j.pickup_at,
                eta=j.eta,
                handoff_instructions=j.handoff_instructions,
                handoff_code=j.handoff_code,
            )
            for j in view.jobs
        ],
        replan_note=view.replan_note,
    )
    return in_zone(out, ZoneInfo(view.timezone))


def _shown(session: Session, offer: CourierOffer) -> OfferOut:
    return _offer_out(offer_view(session, offer))


def _trip_out(session: Session, trip: CourierTrip) -> TripOut:
    assert trip.id is not None
    offer = session.exec(
        select(CourierOffer)
        .where(CourierOffer.trip_id == trip.id)
        .order_by(col(CourierOffer.id).desc())
    ).first()
    return TripOut(
        id=trip.id,
        courier_id=trip.courier_id,
        depot_id=trip.depot_id,
        service_day=None if trip.service_day is None else trip.service_day.isoformat(),
        offer=None if offer is None else _shown(session, offer),
        no_offer_reason=trip.no_offer_reason,
    )


def _fresh(session: Session, travel: TravelTimes) -> None:
    """Expire the offers whose deadline passed, before anything is read or written."""
    expire_due(session, travel=travel)


def _courier(caller: Caller) -> int | None:
    """The caller's courier, or ``None`` for staff (who see every courier's)."""
    return caller.courier_id if caller.role is Role.COURIER else None


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Register a courier",
    responses=error_responses(403, 422),
)
def post_courier(data: CourierCreate, caller: PlannerDep, session: SessionDep) -> CourierPublic:
    """Register a commuter who may carry parcels (only a display name is kept); give them a
    key with ``lastmile keys create --role courier --courier ID``."""
    courier = create_courier(session, data)
    return CourierPublic.model_validate(courier)


@router.post(
    "/trips",
    status_code=status.HTTP_201_CREATED,
    summary="Register a trip and get the offer that fits it",
    responses=error_responses(403, 422),
)
def post_trip(
    data: TripCreate,
    caller: CourierDep,
    session: SessionDep,
    travel: TravelDep,
) -> TripOut:
    """Register a trip (origin and destination in WGS84 degrees, the leaving window with
    offsets, parcels carried, the longest detour in minutes, the payout wanted in EUR, how
    you travel) and get the bundle of parcels that fits it: picked up at the nearest depot,
    each handed over inside its promised window, the whole ride at most the detour longer than
    going straight, only for customers who accept a courier. The offer pays what you asked
    when the parcels cost the vans at least that much; otherwise ``no_offer_reason`` says
    what they cost. Answer before ``deadline_at``."""
    _fresh(session, travel)
    assert caller.courier_id is not None
    trip, _offer = register_trip(session, caller.courier_id, data, travel=travel)
    return _trip_out(session, trip)


@router.get(
    "/trips/{trip_id}",
    summary="A trip and its offer",
    responses=error_responses(403, 404, 422),
)
def read_trip(trip_id: Int64, caller: ReaderDep, session: SessionDep, travel: TravelDep) -> TripOut:
    """The trip and its offer as it stands now (an offer past its deadline is expired)."""
    _fresh(session, travel)
    return _trip_out(session, get_trip(session, trip_id, courier_id=_courier(caller)))


@router.get(
    "/offers/{offer_id}",
    summary="An offer",
    responses=error_responses(403, 404, 422),
)
def read_offer(
    offer_id: Int64, caller: ReaderDep, session: SessionDep, travel: TravelDep
) -> OfferOut:
    """The offer as it stands now: its parcels, and once accepted their addresses, hand-off
    instructions and codes."""
    _fresh(session, travel)
    return _shown(session, get_offer(session, offer_id, courier_id=_courier(caller)))


@router.post(
    "/offers/{offer_id}/accept",
    summary="Accept an offer",
    responses=error_responses(403, 404, 409, 422),
)
def post_accept(
    offer_id: Int64, caller: CourierDep, session: SessionDep, travel: TravelDep
) -> OfferOut:
    """Accept the offer: its parcels leave the vans and are yours to bring. 409 when it was
    already answered, expired, or a parcel went another way meanwhile."""
    _fresh(session, travel)
    offer = accept_offer(session, offer_id, courier_id=caller.courier_id)
    return _shown(session, offer)


@router.post(
    "/offers/{offer_id}/refuse",
    summary="Refuse an offer",
    responses=error_responses(403, 404, 409, 422),
)
def post_refuse(
    offer_id: Int64, caller: CourierDep, session: SessionDep, travel: TravelDep
) -> OfferOut:
    """Refuse the offer: its parcels go back to the vans (re-planned inside their promised
    windows, or their customers told)."""
    _fresh(session, travel)
    offer = refuse_offer(session, offer_id, courier_id=caller.courier_id, travel=travel)
    return _shown(session, offer)


@router.post(
    "/offers/{offer_id}/no-show",
    summary="Report a courier who did not show up",
    responses=error_responses(403, 404, 409, 422),
)
def post_no_show(
    offer_id: Int64, caller: PlannerDep, session: SessionDep, travel: TravelDep
) -> OfferOut:
    """The carrier reports that the courier of an accepted offer never came for the
    parcels: they go back to the vans (re-planned inside their promised windows, or their
    customers told). 409 when the offer is not accepted or a parcel was picked up."""
    _fresh(session, travel)
    return _shown(session, report_no_show(session, offer_id, travel=travel))


@router.post(
    "/offers/{offer_id}/pickup",
    summary="Pick the parcels up",
    responses=error_responses(403, 404, 409, 422),
)
def post_pickup(
    offer_id: Int64, caller: CourierDep, session: SessionDep, travel: TravelDep
) -> OfferOut:
    """Record that you took the accepted offer's parcels at the pickup point."""
    _fresh(session, travel)
    pick_up(session, offer_id, courier_id=caller.courier_id)
    return _shown(session, get_offer(session, offer_id, courier_id=caller.courier_id))


@router.post(
    "/jobs/{job_id}/delivered",
    summary="Hand a parcel over",
    responses=error_responses(403, 404, 409, 422),
)
def post_delivered(
    job_id: Int64, handoff: HandoffIn, caller: CourierDep, session: SessionDep, travel: TravelDep
) -> OfferOut:
    """Record a hand-over with the parcel's hand-off code (422 ``handoff_code`` when it is
    not the parcel's). The order is delivered; its offer is done when every parcel is."""
    _fresh(session, travel)
    job = deliver(session, job_id, handoff.handoff_code, courier_id=caller.courier_id)
    return _shown(session, get_offer(session, job.offer_id, courier_id=caller.courier_id))
