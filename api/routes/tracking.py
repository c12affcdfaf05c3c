"""``GET /orders/{id}/tracking``: where an order stands, for its customer — the JSON twin of
the customer's page (``/t/{token}``).

The view comes from :func:`orchestrator.operations.tracking.tracking_view` (its rules: the
stage, the ETA window, the stops before as a count, the vehicle's kind); this route only
checks who may ask and writes the times as ISO 8601 with the offset of the customer's zone
(their profile's, else the depot's).

A customer key reads only its own customer's orders (another's answers 404, as an unknown
id) and the answer names nothing of another customer. Planner, analyst and admin keys read
any order.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CurrentKeyDep, SessionDep
from api.errors import error_responses
from api.zones import in_zone
from orchestrator.models import Int64
from orchestrator.operations.tracking import TrackingView, tracking_view

__all__ = ["TrackingOut", "router"]

router = APIRouter(prefix="/orders", tags=["orders"], responses=error_responses(401))

_EXAMPLE: dict[str, Any] = {
    "order_id": 7,
    "retailer": "Kauppa Oy",
    "reference": "A-1042",
    "stage": "on_its_way",
    "order_status": "dispatched",
    "service_day": "2025-03-03",
    "timezone": "Europe/Helsinki",
    "language": "fi",
    "window_start": "2025-03-03T10:00:00+02:00",
    "window_end": "2025-03-03T12:00:00+02:00",
    "eta": "2025-03-03T10:42:00+02:00",
    "eta_window_start": "2025-03-03T10:30:00+02:00",
    "eta_window_end": "2025-03-03T10:55:00+02:00",
    "late": False,
    "stops_before": 3,
    "vehicle_kind": "cargo-bike",
    "place": {"id": 2, "name": "office", "kind": "office", "address": None, "current": True},
    "places": [
        {"id": 1, "name": "home", "kind": "home", "address": None, "current": False},
        {"id": 2, "name": "office", "kind": "office", "address": None, "current": True},
    ],
    "handoff_instructions": "Ring twice; leave with the concierge.",
    "delivered_at": None,
    "can_choose": False,
    "can_redirect": True,
    "redirect_blocked": None,
    "can_return": False,
    "return_blocked": "not_delivered",
    "promise_at_risk": None,
}


class TrackedPlace(BaseModel):
    """One of the customer's places; ``current``: the order goes there."""

    id: int
    name: str
    kind: str
    address: str | None
    current: bool


class RiskChoiceOut(BaseModel):
    """A choice left to a customer whose promise is at risk, as a call on the API."""

    choice: str = Field(description="later_window, locker or another_day.")
    method: str
    href: str
    place_id: int | None = Field(description="The locker to send it to (PUT's place_id).")


class PromiseRiskOut(BaseModel):
    """The notice that the route runs late and the promised window will likely be missed."""

    sent_at: datetime
    message: str
    choices: list[RiskChoiceOut]


class TrackingOut(BaseModel):
    """Where the order stands, for its customer; times ISO 8601 with the offset of
    ``timezone``."""

    order_id: int
    retailer: str | None = Field(
        default=None,
        description="The shop the order is from (the customer's own retailer); null on an "
        "installation of one retailer. Never another retailer, whose orders may share the van.",
    )
    reference: str | None = Field(description="The shop's order number.")
    stage: str = Field(
        description="open, confirmed (a choice the plan does not show yet), planned, unserved, "
        "on_its_way, delivered or failed."
    )
    order_status: str
    service_day: date
    timezone: str = Field(description="The customer's zone (profile), else the depot's.")
    language: str | None = Field(description="The customer's language, from the profile.")
    window_start: datetime | None = Field(description="The promised window.")
    window_end: datetime | None
    eta: datetime | None = Field(description="Planned hand-over (start of service).")
    eta_window_start: datetime | None = Field(
        description="The hand-over +-10 min rounded out to 5 min, inside the promised window "
        "unless late; a confirmed choice not yet planned: the option's expected band."
    )
    eta_window_end: datetime | None
    late: bool = Field(description="The planned hand-over is after the promised window.")
    stops_before: int | None = Field(description="Stops the vehicle serves before this one.")
    vehicle_kind: str | None = Field(
        description="van, e-van, cargo-bike, robot or courier; null before one is known."
    )
    place: TrackedPlace | None = Field(description="Where the order goes.")
    places: list[TrackedPlace] = Field(description="The customer's places.")
    handoff_instructions: str | None
    delivered_at: datetime | None = Field(description="When the stop was closed.")
    can_choose: bool = Field(description="Delivery options may still be chosen.")
    can_redirect: bool = Field(description="PUT /orders/{id}/whereabouts may move it now.")
    redirect_blocked: str | None = Field(description="not_planned, next_stop or closed.")
    can_return: bool = Field(description="POST /returns may start a return of a line.")
    return_blocked: str | None = Field(description="not_delivered, no_sku or all_returned.")
    promise_at_risk: PromiseRiskOut | None = Field(
        default=None,
        description="Running late: the notice sent (once, before the window when seen in "
        "time) and the choices left; null when none stands.",
    )
    neighbour: bool = Field(
        default=False, description="A neighbour on their way (a commuter courier) brings it."
    )
    handoff_code: str | None = Field(
        default=None, description="The code the neighbour gives at the door."
    )

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})


def tracking_out(view: TrackingView) -> TrackingOut:
    """The view as JSON, its times in the customer's zone (:mod:`api.zones`)."""
    window = view.window or (None, None)
    band = view.eta_window or (None, None)
    places = [TrackedPlace(**_place(p)) for p in view.places]
    out = TrackingOut(
        order_id=view.order_id,
        retailer=view.retailer,
        reference=view.reference,
        stage=view.stage.value,
        order_status=view.order_status.value,
        service_day=view.service_day,
        timezone=view.timezone,
        language=view.language,
        window_start=window[0],
        window_end=window[1],
        eta=view.eta,
        eta_window_start=band[0],
        eta_window_end=band[1],
        late=view.late,
        stops_before=view.stops_before,
        vehicle_kind=view.vehicle_kind,
        place=None if view.place is None else TrackedPlace(**_place(view.place)),
        places=places,
        handoff_instructions=view.handoff_instructions,
        neighbour=view.neighbour,
        handoff_code=view.handoff_code,
        delivered_at=view.closed_at,
        can_choose=view.can_choose,
        can_redirect=view.can_redirect,
        redirect_blocked=None if view.redirect_blocked is None else view.redirect_blocked.value,
        can_return=view.can_return,
        return_blocked=None if view.return_blocked is None else view.return_blocked.value,
        promise_at_risk=None
        if view.risk is None
        else PromiseRiskOut(
            sent_at=view.risk.sent_at,
            message=view.risk.detail,
            choices=[
                RiskChoiceOut(choice=c.kind, method=c.method, href=c.href, place_id=c.place_id)
                for c in view.risk.choices
            ],
        ),
    )
    return in_zone(out, ZoneInfo(view.timezone))


def _place(p: Any) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "kind": p.kind, "address": p.address, "current": p.current}


@router.get(
    "/{order_id}/tracking",
    summary="Where an order stands: status, ETA window, stops before",
    responses=error_responses(404, 422),
)
def read_tracking(order_id: Int64, caller: CurrentKeyDep, session: SessionDep) -> TrackingOut:
    """The order's stage, its ETA window (updated as the route runs and when it is redirected),
    the number of stops before it, the kind of vehicle bringing it, the customer's places and
    hand-off instructions, and whether it may still be redirected or returned (and why not) —
    times in the customer's zone. A customer key reads only its own orders (404 for others)."""
    return tracking_out(tracking_view(session, order_id, customer_id=caller.customer_scope))
