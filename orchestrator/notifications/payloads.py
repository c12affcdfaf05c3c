"""What each webhook event looks like: which order event becomes which webhook event, and the
exact JSON body posted for it. Plain values in, text out — no store.

A body (keys in this order, compact JSON, ASCII only, so its text and its bytes are the same)::

    {"id": "evt_…", "type": "order.eta_moved", "occurred_at": "2025-03-03T10:41:00+02:00",
     "order_id": 12, "return_id": null,
     "data": {"reference": "SHOP-10042", "status": "planned", "service_day": "2025-03-03",
              "timezone": "Europe/Helsinki",
              "window": {"start": "…+02:00", "end": "…+02:00"},
              "eta": "…+02:00", "eta_window": {"start": "…", "end": "…"},
              "previous_eta": "…+02:00", "moved_min": 23}}

Times are ISO 8601 in the depot's zone with its offset. ``data`` holds only the order's (or
the return's) own facts — never another customer's, never a secret: ``eta``,
``eta_window`` with ``order.out_for_delivery`` and ``order.eta_moved``, ``previous_eta`` and
``moved_min`` (signed, whole minutes, later is positive) with ``order.eta_moved``, ``note``
(the driver's words) with ``order.delivered`` and ``order.failed_attempt``, ``return_status``
with ``return.collected``.

``order.promise_at_risk`` (the order's route runs late; sent once per promise, before its
window when the delay is seen in time) carries ``eta`` and ``eta_window`` (the expected
hand-over), ``late_min`` (whole minutes the expected hand-over is after the window's end;
0 or less: it may still be kept, but not at the confidence promises are made with) and
``choices``: what the customer can still do, each a call on the API —
``{"choice": "later_window", "method": "GET", "href": "/orders/12/options?days=1"}`` and
``{"choice": "another_day", ...?days=3}`` (the options flow; only while the parcel is not on
board), ``{"choice": "locker", "method": "PUT", "href": "/orders/12/whereabouts",
"body": {"place_id": 7}}`` (the customer's own locker, when they have one).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from orchestrator.models import OrderEventKind, WebhookEvent

__all__ = [
    "ETA_BAND_S",
    "WEBHOOK_OF_KIND",
    "EventFacts",
    "OrderFacts",
    "choices",
    "eta_window",
    "event_body",
    "moved_minutes",
    "webhook_event",
]

ETA_BAND_S = 15 * 60
"""Half-width of the ETA window, seconds: the same half-hour band the customer is shown
(:data:`orchestrator.operations.whereabouts.ETA_BAND_S`; a test keeps both equal), centred
on the ETA and kept inside the promised window."""

WEBHOOK_OF_KIND: Mapping[OrderEventKind, WebhookEvent] = {
    OrderEventKind.OPTIONS_OFFERED: WebhookEvent.ORDER_OPTIONS_READY,
    OrderEventKind.CONFIRMED: WebhookEvent.ORDER_CONFIRMED,
    OrderEventKind.DISPATCHED: WebhookEvent.ORDER_OUT_FOR_DELIVERY,
    OrderEventKind.REPLANNED: WebhookEvent.ORDER_ETA_MOVED,
    OrderEventKind.ETA_MOVED: WebhookEvent.ORDER_ETA_MOVED,
    OrderEventKind.DELIVERED: WebhookEvent.ORDER_DELIVERED,
    OrderEventKind.FAILED: WebhookEvent.ORDER_FAILED_ATTEMPT,
    OrderEventKind.RETURN_COLLECTED: WebhookEvent.RETURN_COLLECTED,
    OrderEventKind.PROMISE_AT_RISK: WebhookEvent.ORDER_PROMISE_AT_RISK,
}
"""The webhook event an order event may become (``created``, ``planned`` and ``unserved``
become none; a re-plan becomes ``order.eta_moved`` only when its ETA moved far enough)."""


@dataclass(frozen=True, slots=True)
class EventFacts:
    """What happened, as the order's event log records it.

    ``at`` is an aware instant; ``eta`` and ``previous_eta`` (aware, planned arrival) are
    given by re-plans and redirects; ``return_id`` by a return's events."""

    order_id: int
    kind: OrderEventKind
    at: datetime
    plan_id: int | None = None
    detail: str = ""
    eta: datetime | None = None
    previous_eta: datetime | None = None
    return_id: int | None = None


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """The order's own facts a body may show (``window`` is the promised one, if any)."""

    reference: str | None
    status: str
    service_day: date
    timezone: str
    window: tuple[datetime, datetime] | None
    return_status: str | None = None
    locker_place_id: int | None = None
    """The customer's locker the order could go to instead (``order.promise_at_risk``)."""


def webhook_event(kind: OrderEventKind) -> WebhookEvent | None:
    """The webhook event an order event of this kind may become, or ``None``."""
    return WEBHOOK_OF_KIND.get(kind)


def moved_minutes(eta: datetime | None, previous_eta: datetime | None) -> int | None:
    """By how many whole minutes the ETA moved (later is positive, rounded towards zero), or
    ``None`` without both."""
    if eta is None or previous_eta is None:
        return None
    return int((eta - previous_eta).total_seconds() / 60)


def choices(order_id: int, order: OrderFacts) -> list[dict[str, Any]]:
    """The choices left to a customer whose promise is at risk, as API calls: a later window
    today and another day while the order is not on board (``open`` or ``planned``), their
    locker when they have one (the rule of
    :func:`orchestrator.operations.progress.choices_left`)."""
    options = order.status in ("open", "planned")
    out: list[dict[str, Any]] = []
    if options:
        out.append(
            {"choice": "later_window", "method": "GET",
             "href": f"/orders/{order_id}/options?days=1"}
        )  # fmt: skip
    if order.locker_place_id is not None:
        out.append(
            {"choice": "locker", "method": "PUT", "href": f"/orders/{order_id}/whereabouts",
             "body": {"place_id": order.locker_place_id}}
        )  # fmt: skip
    if options:
        out.append(
            {"choice": "another_day", "method": "GET",
             "href": f"/orders/{order_id}/options?days=3"}
        )  # fmt: skip
    return out


def eta_window(
    eta: datetime, window: tuple[datetime, datetime] | None
) -> tuple[datetime, datetime]:
    """The ETA ± :data:`ETA_BAND_S`, kept inside the promised ``window`` (but always holding
    the ETA itself, which may lie outside when the plan is late)."""
    band = timedelta(seconds=ETA_BAND_S)
    low, high = eta - band, eta + band
    if window is not None:
        low, high = max(low, window[0]), min(high, window[1])
        low, high = min(low, eta), max(high, eta)
    return low, high


def event_body(
    event_id: str, event_type: WebhookEvent, facts: EventFacts, order: OrderFacts
) -> str:
    """The exact JSON text posted for the event (see the module's docstring)."""
    zone = ZoneInfo(order.timezone)

    def local(instant: datetime) -> str:
        return instant.astimezone(zone).isoformat()

    data: dict[str, Any] = {
        "reference": order.reference,
        "status": order.status,
        "service_day": order.service_day.isoformat(),
        "timezone": order.timezone,
        "window": None
        if order.window is None
        else {"start": local(order.window[0]), "end": local(order.window[1])},
    }
    with_eta = (
        WebhookEvent.ORDER_OUT_FOR_DELIVERY,
        WebhookEvent.ORDER_ETA_MOVED,
        WebhookEvent.ORDER_PROMISE_AT_RISK,
    )
    if event_type in with_eta and facts.eta is not None:
        low, high = eta_window(facts.eta, order.window)
        data["eta"] = local(facts.eta)
        data["eta_window"] = {"start": local(low), "end": local(high)}
    if event_type is WebhookEvent.ORDER_ETA_MOVED and facts.previous_eta is not None:
        data["previous_eta"] = local(facts.previous_eta)
        data["moved_min"] = moved_minutes(facts.eta, facts.previous_eta)
    if event_type is WebhookEvent.ORDER_PROMISE_AT_RISK:
        data["late_min"] = (
            None
            if facts.eta is None or order.window is None
            else math.floor((facts.eta - order.window[1]).total_seconds() / 60)
        )
        data["choices"] = choices(facts.order_id, order)
    if event_type in (WebhookEvent.ORDER_DELIVERED, WebhookEvent.ORDER_FAILED_ATTEMPT):
        data["note"] = facts.detail
    if event_type is WebhookEvent.RETURN_COLLECTED:
        data["return_status"] = order.return_status
    body = {
        "id": event_id,
        "type": event_type.value,
        "occurred_at": local(facts.at),
        "order_id": facts.order_id,
        "return_id": facts.return_id,
        "data": data,
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=True)
