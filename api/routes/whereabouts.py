"""``PUT /orders/{id}/whereabouts``: "find me at the café" — redirect an order on its way.

The customer says where they are today — one of their places, or a point that becomes a new
place of theirs — and the route carrying the order is re-optimised from where its vehicle is;
the answer is the new ETA. The rules live in :mod:`orchestrator.operations.whereabouts`; this route
only
checks who may ask and shows the times in the depot's timezone (:mod:`api.zones`).

A customer key reaches only its own customer's orders (others answer 404, as unknown ids) and
sees only its own ETA: neither the answer nor a refusal names another customer's order, place
or window (a refusal counts the other stops that would be missed). Planner and admin keys may
redirect any order, see the route's other new ETAs and each stop a refusal would leave out.
Analysts may not redirect (403).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Caller, SessionDep, TravelDep, require_role
from api.errors import error_responses
from api.zones import in_zone
from orchestrator.models import Int64, PlacePublic, Role
from orchestrator.operations.whereabouts import WhereaboutsResult, update_whereabouts

__all__ = ["WhereaboutsIn", "WhereaboutsOut", "router"]

router = APIRouter(prefix="/orders", tags=["orders"], responses=error_responses(401))

RedirectDep = Annotated[Caller, Depends(require_role(Role.CUSTOMER, Role.PLANNER, Role.ADMIN))]
"""Who may redirect: the order's customer, a planner or an admin."""

_PLACE_EXAMPLE: dict[str, Any] = {
    "id": 12,
    "customer_id": 1,
    "kind": "cafe",
    "name": "Café Rosa",
    "lat": 60.169,
    "lon": 24.95,
    "address": None,
    "instructions": None,
}
_EXAMPLE: dict[str, Any] = {
    "order_id": 7,
    "place": _PLACE_EXAMPLE,
    "place_created": False,
    "changed": True,
    "route_id": 5,
    "vehicle_id": "e-van-1-1",
    "stops_before": 1,
    "eta": "2025-03-03T10:41:00+02:00",
    "service_start_at": "2025-03-03T10:41:00+02:00",
    "eta_window_start": "2025-03-03T10:26:00+02:00",
    "eta_window_end": "2025-03-03T10:56:00+02:00",
    "window_start": "2025-03-03T09:00:00+02:00",
    "window_end": "2025-03-03T17:00:00+02:00",
    "departs_from": "order 3",
    "departs_at": "2025-03-03T10:30:00+02:00",
    "route_stops": None,
}


class WhereaboutsIn(BaseModel):
    """Where the customer is today: one of their places, or a point."""

    place_id: Int64 | None = Field(default=None, description="One of the customer's places.")
    point: list[float] | None = Field(
        default=None,
        description="``[lon, lat]`` in WGS84 degrees (GeoJSON order); becomes a new place of "
        "the customer, of kind ``other``.",
    )
    label: str | None = Field(
        default=None, description="Name of the new place made of ``point`` (``here today``)."
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"place_id": 12}, {"point": [24.95, 60.169], "label": "Café Rosa"}]
        },
    )


class StopEtaOut(BaseModel):
    """A remaining stop of the route, before and after the redirect (staff only)."""

    order_id: int
    sequence: int = Field(description="Position on the route, 0 first.")
    eta: datetime
    service_start_at: datetime
    departure_at: datetime
    previous_sequence: int
    previous_eta: datetime
    changed: bool


class WhereaboutsOut(BaseModel):
    """The order's new place and ETA; times are ISO 8601 with the depot's UTC offset."""

    order_id: int
    place: PlacePublic = Field(description="Where the order now goes.")
    place_created: bool = Field(description="Whether ``point`` became a new place.")
    changed: bool = Field(description="False when the order already went there.")
    route_id: int
    vehicle_id: str
    stops_before: int = Field(description="Stops the vehicle serves before this one.")
    eta: datetime = Field(description="Planned arrival.")
    service_start_at: datetime = Field(description="Planned hand-over (after any wait).")
    eta_window_start: datetime = Field(
        description="A half-hour band around the hand-over, inside the promised window."
    )
    eta_window_end: datetime
    window_start: datetime | None = Field(description="The promised window (unchanged).")
    window_end: datetime | None
    departs_from: str | None = Field(
        description="Where the re-optimised route starts: ``depot`` or ``order <id>`` (the "
        "stop closed last; ``previous stop`` to a customer key when that order is another "
        "customer's); ``None`` when nothing changed."
    )
    departs_at: datetime | None
    route_stops: list[StopEtaOut] | None = Field(
        default=None, description="Planner and admin keys: the route's remaining stops."
    )

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})


def _out(result: WhereaboutsResult, staff: bool) -> WhereaboutsOut:
    window = result.window
    stops = [
        StopEtaOut(
            order_id=s.order_id,
            sequence=s.sequence,
            eta=s.arrival_at,
            service_start_at=s.service_start_at,
            departure_at=s.departure_at,
            previous_sequence=s.previous_sequence,
            previous_eta=s.previous_arrival_at,
            changed=s.changed,
        )
        for s in result.stops
    ]
    out = WhereaboutsOut(
        order_id=result.order_id,
        place=PlacePublic.model_validate(result.place),
        place_created=result.place_created,
        changed=result.changed,
        route_id=result.route_id,
        vehicle_id=result.vehicle_id,
        stops_before=result.stops_before,
        eta=result.eta,
        service_start_at=result.service_start_at,
        eta_window_start=result.eta_window[0],
        eta_window_end=result.eta_window[1],
        window_start=None if window is None else window[0],
        window_end=None if window is None else window[1],
        departs_from=None if result.departure is None else result.departure[0],
        departs_at=None if result.departure is None else result.departure[1],
        route_stops=stops if staff else None,
    )
    return in_zone(out, ZoneInfo(result.timezone))


@router.put(
    "/{order_id}/whereabouts",
    summary="Find me here today: redirect an order on its way",
    responses=error_responses(403, 404, 409, 422),
)
def put_whereabouts(
    order_id: Int64,
    caller: RedirectDep,
    session: SessionDep,
    travel: TravelDep,
    whereabouts: Annotated[
        WhereaboutsIn,
        Body(
            openapi_examples={
                "place": {"summary": "One of my places", "value": {"place_id": 12}},
                "point": {
                    "summary": "A point, named",
                    "value": {"point": [24.95, 60.169], "label": "Café Rosa"},
                },
            }
        ),
    ],
) -> WhereaboutsOut:
    """Send the order to where the customer is today — one of their places (``place_id``) or
    a point (``point``: ``[lon, lat]``, with an optional ``label``, which becomes a new place)
    — and re-optimise its route from the vehicle's current position, every other route left
    as it is. Answers the new ETA, a half-hour ETA window and the promised window (ISO 8601
    with the depot's offset). Possible until the stop is the next but one: 409 when the driver
    is already on the way to it, when the order is delivered or not on a route, or when the
    route could not then serve all its stops (the detail names each and why; nothing
    changes). 422 names the field: a point off the globe (``body.point.1`` for the latitude)
    or too far from the depot, a place that is not the customer's. A customer key redirects
    only its own orders (404 for others)."""
    result = update_whereabouts(
        session,
        order_id,
        place_id=whereabouts.place_id,
        point=whereabouts.point,
        label=whereabouts.label,
        travel=travel,
        customer_id=caller.customer_scope,
    )
    return _out(result, staff=caller.customer_scope is None)
