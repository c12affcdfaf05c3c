"""``/webhooks``: a retailer's subscriptions to what happens to orders and returns, and the
progress of their deliveries.

Planners and admins subscribe a URL to event types; the answer to the creation carries the
subscription's secret, shown only then (rotate it by creating a second subscription and
deleting the first). Events, bodies, headers and signatures: ``docs/webhooks.md`` and
:mod:`orchestrator.notifications`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response, status

from api.deps import CARRIER, PlannerDep, SessionDep
from api.errors import error_responses
from orchestrator.models import (
    DeliveryStatus,
    Int64,
    WebhookCreate,
    WebhookCreated,
    WebhookDeliveryPublic,
    WebhookPublic,
)
from orchestrator.notifications.outbox import delivery_public, recent_deliveries
from orchestrator.notifications.subscriptions import (
    create_subscription,
    delete_subscription,
    get_subscription,
    list_subscriptions,
    subscription_public,
)

__all__ = ["WEBHOOK_EXAMPLE", "router"]

router = APIRouter(
    tags=["webhooks"],
    responses=error_responses(401, 403),
    dependencies=[CARRIER],  # the carrier's own resources: a retailer's key is 403
)

WEBHOOK_EXAMPLE: dict[str, Any] = {
    "url": "https://shop.example/hooks/lastmile",
    "events": ["order.out_for_delivery", "order.eta_moved", "order.delivered"],
    "eta_moved_min": 15,
    "description": "shop's order-status service",
}


@router.post(
    "/webhooks",
    status_code=status.HTTP_201_CREATED,
    summary="Subscribe to events",
    responses=error_responses(403, 422),
)
def create(
    _caller: PlannerDep,
    session: SessionDep,
    webhook: Annotated[
        WebhookCreate,
        Body(openapi_examples={"shop": {"summary": "A shop's service", "value": WEBHOOK_EXAMPLE}}),
    ],
) -> WebhookCreated:
    """Subscribe ``url`` (http or https) to ``events``; each is posted as JSON, signed with
    HMAC-SHA256 over the body under the ``secret`` of this answer — shown only now.
    ``order.eta_moved`` is sent when a stop's ETA moves by more than ``eta_moved_min``
    minutes. 422 names a bad ``url`` or ``events``."""
    return create_subscription(session, webhook)


@router.get("/webhooks", summary="List subscriptions", responses=error_responses(403))
def read_all(_caller: PlannerDep, session: SessionDep) -> list[WebhookPublic]:
    """Every subscription, oldest first (without secrets)."""
    return [subscription_public(w) for w in list_subscriptions(session)]


@router.get(
    "/webhooks/{webhook_id}",
    summary="Read a subscription",
    responses=error_responses(403, 404, 422),
)
def read(webhook_id: Int64, _caller: PlannerDep, session: SessionDep) -> WebhookPublic:
    """The subscription (without its secret)."""
    return subscription_public(get_subscription(session, webhook_id))


@router.delete(
    "/webhooks/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a subscription",
    responses=error_responses(403, 404, 422),
)
def remove(webhook_id: Int64, _caller: PlannerDep, session: SessionDep) -> Response:
    """Stop posting to the subscription's URL; its events not yet delivered are dropped."""
    delete_subscription(session, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    summary="Recent deliveries of a subscription",
    responses=error_responses(403, 404, 422),
)
def deliveries(
    webhook_id: Int64,
    _caller: PlannerDep,
    session: SessionDep,
    delivery_status: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
    limit: Annotated[Int64, Query(ge=1, le=1_000)] = 50,
) -> list[WebhookDeliveryPublic]:
    """The subscription's most recent events, newest first: ``pending`` (with the attempts
    made and when the next is due), ``delivered``, or ``dead`` (given up, with the last
    error)."""
    get_subscription(session, webhook_id)
    rows = recent_deliveries(session, webhook_id, limit=limit, status=delivery_status)
    return [delivery_public(r) for r in rows]
