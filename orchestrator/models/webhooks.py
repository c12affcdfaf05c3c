"""Webhooks: a retailer's subscriptions to what happens to orders and returns, and the outbox
of signed event bodies waiting to be delivered to them (:mod:`orchestrator.notifications`)."""

from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from pydantic import field_validator
from sqlmodel import Field

from orchestrator.models._fields import (
    StorableModel,
    created_at_field,
    enum_field,
    example_config,
    json_field,
    timestamp_field,
)

__all__ = [
    "MAX_URL_CHARS",
    "DeliveryStatus",
    "Webhook",
    "WebhookBase",
    "WebhookCreate",
    "WebhookCreated",
    "WebhookDelivery",
    "WebhookDeliveryPublic",
    "WebhookEvent",
    "WebhookPublic",
]

MAX_URL_CHARS = 2_000
"""Longest receiver URL, characters."""


class WebhookEvent(StrEnum):
    """What a subscription may ask to be told about."""

    ORDER_OPTIONS_READY = "order.options_ready"
    """The order's delivery options were offered for the first time."""
    ORDER_CONFIRMED = "order.confirmed"
    """The customer confirmed a held option: the order has its place, window and day."""
    ORDER_OUT_FOR_DELIVERY = "order.out_for_delivery"
    """The order's route was dispatched: the vehicle left with it."""
    ORDER_ETA_MOVED = "order.eta_moved"
    """A re-plan or a redirect moved the order's ETA by more than ``eta_moved_min``."""
    ORDER_DELIVERED = "order.delivered"
    ORDER_FAILED_ATTEMPT = "order.failed_attempt"
    """The stop ended without a delivery (not at home, refused, ...)."""
    RETURN_COLLECTED = "return.collected"
    """A returned item was picked up from the customer."""
    ORDER_PROMISE_AT_RISK = "order.promise_at_risk"
    """The order's route runs late and its promised window will likely be missed: sent once,
    before the window, with the choices left (a later window, a locker, another day)."""


class DeliveryStatus(StrEnum):
    """Where one event stands for one subscription."""

    PENDING = "pending"
    """Waiting for its next attempt (``next_attempt_at``), or being sent right now."""
    DELIVERED = "delivered"
    """The receiver answered 2xx."""
    DEAD = "dead"
    """Given up after the most attempts or the longest age the settings allow."""


_WEBHOOK_EXAMPLE: dict[str, Any] = {
    "url": "https://shop.example/hooks/lastmile",
    "events": ["order.out_for_delivery", "order.eta_moved", "order.delivered"],
    "eta_moved_min": 15,
    "description": "shop's order-status service",
}


class WebhookBase(StorableModel):
    """What a subscription takes: where to post, which events, and the ETA threshold."""

    url: str = Field(
        max_length=MAX_URL_CHARS,
        description="Where events are posted (http or https).",
    )
    events: list[WebhookEvent] = json_field(
        description="The event types wanted (at least one, each once)."
    )
    eta_moved_min: int = Field(
        default=15,
        ge=1,
        le=1_440,
        description="order.eta_moved is sent only when the ETA moves by more than this, minutes.",
    )
    description: str = Field(default="", max_length=200)


class WebhookCreate(WebhookBase):
    """What creating a subscription takes."""

    model_config = example_config(**_WEBHOOK_EXAMPLE)

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise ValueError(
                "give an absolute http:// or https:// URL with a host, such as "
                "https://shop.example/hooks/lastmile"
            )
        if any(c.isspace() for c in url):
            raise ValueError("the URL holds white space — percent-encode it (%20)")
        try:
            parts.port  # noqa: B018  (a port out of range raises here)
        except ValueError as exc:
            raise ValueError(f"the URL's port is not a valid port: {exc}") from None
        return url

    @field_validator("events")
    @classmethod
    def _some_events(cls, events: list[WebhookEvent]) -> list[WebhookEvent]:
        if not events:
            raise ValueError("name at least one event: " + ", ".join(e.value for e in WebhookEvent))
        if len(set(events)) != len(events):
            raise ValueError("name each event once")
        return events


class Webhook(WebhookBase, table=True):
    """Table ``webhook_subscriptions``.

    ``secret`` signs every body posted to ``url`` (HMAC-SHA256): it is kept as given, not
    hashed, because the server must sign with it. It is shown once, when created."""

    __tablename__ = "webhook_subscriptions"

    id: int | None = Field(default=None, primary_key=True)
    secret: str = Field(max_length=100)
    created_at: datetime = created_at_field()


class WebhookPublic(WebhookBase):
    """A subscription as shown (never its secret)."""

    id: int
    created_at: datetime

    model_config = example_config(id=1, created_at="2025-03-01T09:00:00Z", **_WEBHOOK_EXAMPLE)


class WebhookCreated(WebhookPublic):
    """A subscription just created, with its secret — shown this once."""

    secret: str = Field(
        description="Signs every body (HMAC-SHA256); shown only now. To rotate it, delete the "
        "subscription and create another."
    )

    model_config = example_config(
        id=1,
        created_at="2025-03-01T09:00:00Z",
        secret="whsec_Jc0pX2bQ7g8n3y5kq1Vd4rT6uW9zA0sE",
        **_WEBHOOK_EXAMPLE,
    )


class WebhookDelivery(StorableModel, table=True):
    """Table ``webhook_outbox``: one event for one subscription, written in the transaction
    of the change it tells about, and its delivery.

    ``body`` is the exact JSON text posted (and signed) on every attempt; ``event_id`` is its
    ``id``, the same for every subscription told about the event and on every attempt.
    ``claim`` and ``lease_until`` mark a row a delivery worker is sending right now: another
    worker takes it only once the lease has passed (the first crashed)."""

    __tablename__ = "webhook_outbox"
    __table_args__ = (
        sa.Index("ix_webhook_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        sa.UniqueConstraint(
            "subscription_id", "event_id", name="uq_webhook_outbox_subscription_id"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(
        foreign_key="webhook_subscriptions.id", index=True, ondelete="CASCADE"
    )
    event_id: str = Field(max_length=64)
    event_type: WebhookEvent = enum_field(WebhookEvent)
    order_id: int | None = Field(default=None)
    return_id: int | None = Field(default=None)
    body: str = Field(sa_type=sa.Text)
    status: DeliveryStatus = enum_field(DeliveryStatus, DeliveryStatus.PENDING)
    attempts: int = 0
    next_attempt_at: datetime = timestamp_field()
    claim: str | None = Field(default=None, max_length=32)
    lease_until: datetime | None = timestamp_field(default=None)
    last_status: int | None = Field(default=None)
    last_error: str | None = Field(default=None, max_length=1_000)
    created_at: datetime = created_at_field()
    delivered_at: datetime | None = timestamp_field(default=None)


class WebhookDeliveryPublic(StorableModel):
    """One event's delivery to a subscription, as shown."""

    id: int
    event_id: str
    event_type: WebhookEvent
    order_id: int | None
    return_id: int | None
    status: DeliveryStatus
    attempts: int = Field(description="Attempts made so far (one being made counts).")
    next_attempt_at: datetime | None = Field(
        description="When the next attempt is due (pending only)."
    )
    last_status: int | None = Field(description="HTTP status of the last answer, if any.")
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None

    model_config = example_config(
        id=7,
        event_id="evt_3f9c1e0b6a2d4c8e9f1a2b3c4d5e6f70",
        event_type="order.delivered",
        order_id=12,
        return_id=None,
        status="pending",
        attempts=2,
        next_attempt_at="2025-03-03T09:41:20Z",
        last_status=503,
        last_error="HTTP 503 from the receiver",
        created_at="2025-03-03T09:41:00Z",
        delivered_at=None,
    )
