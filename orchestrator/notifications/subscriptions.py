"""A retailer's webhook subscriptions: created with a fresh secret (shown once), listed, read
and deleted.

A secret cannot be changed or shown again: to rotate it, create a second subscription to the
same URL, move the receiver to the new secret, and delete the first (both are signed
meanwhile, each with its own secret). Deleting a subscription deletes its undelivered events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlmodel import Session, col, select

from orchestrator._validation import validated
from orchestrator.errors import NotFound
from orchestrator.models import (
    Webhook,
    WebhookCreate,
    WebhookCreated,
    WebhookPublic,
)
from orchestrator.notifications.signing import new_secret

__all__ = [
    "create_subscription",
    "delete_subscription",
    "get_subscription",
    "list_subscriptions",
    "subscription_public",
]


def create_subscription(
    session: Session, payload: WebhookCreate | Mapping[str, Any]
) -> WebhookCreated:
    """Store a subscription with a fresh secret; commit. The answer is the only place the
    secret is ever shown.

    Raises
    ------
    InvalidInput
        A URL that is not http(s) with a host (``url``), no or repeated events (``events``),
        a threshold out of 1 to 1,440 minutes (``eta_moved_min``).
    """
    data = validated(WebhookCreate, payload)
    webhook = Webhook(
        url=data.url,
        events=list(data.events),
        eta_moved_min=data.eta_moved_min,
        description=data.description,
        secret=new_secret(),
    )
    session.add(webhook)
    session.commit()
    session.refresh(webhook)
    return WebhookCreated.model_validate(webhook)


def list_subscriptions(session: Session) -> Sequence[Webhook]:
    """Every subscription, oldest first."""
    return session.exec(select(Webhook).order_by(col(Webhook.id))).all()


def get_subscription(session: Session, webhook_id: int) -> Webhook:
    """The subscription.

    Raises
    ------
    NotFound
        No such subscription.
    """
    webhook = session.get(Webhook, webhook_id)
    if webhook is None:
        raise NotFound("webhook", webhook_id)
    return webhook


def delete_subscription(session: Session, webhook_id: int) -> None:
    """Delete the subscription and its events not yet delivered; commit.

    Raises
    ------
    NotFound
        No such subscription.
    """
    session.delete(get_subscription(session, webhook_id))
    session.commit()


def subscription_public(webhook: Webhook) -> WebhookPublic:
    """The subscription as shown (without its secret)."""
    return WebhookPublic.model_validate(webhook)
