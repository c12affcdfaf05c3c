"""Webhooks: a retailer's subscriptions, and the outbox of events waiting to be delivered.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 02:30:00

Adds two tables (:mod:`orchestrator.models.webhooks`):

* ``webhook_subscriptions`` — a receiver ``url``, the ``events`` it wants (JSON list),
  ``eta_moved_min`` (minutes an ETA must move by to be told), a ``description``, and the
  ``secret`` its bodies are signed with (kept as given: the server signs with it);
* ``webhook_outbox`` — one row per event and subscription, written in the transaction of the
  change it tells about: the exact ``body`` posted, its ``event_id`` (unique per
  subscription), ``event_type``, ``order_id`` and ``return_id``, and the delivery's life:
  ``status`` (pending, delivered, dead) with ``next_attempt_at`` (indexed together: the
  delivery worker looks up the due rows), ``attempts``, ``claim`` and ``lease_until`` (the
  worker sending it now), ``last_status``, ``last_error``, ``created_at``,
  ``delivered_at``. Deleting a subscription deletes its rows.

New order event kinds (``options_offered``, ``confirmed``, ``eta_moved``,
``return_collected``) need no change: ``order_events.kind`` is a plain ``VARCHAR(24)``. No
existing row changes.

Downgrading drops both tables: subscriptions and undelivered events are forgotten.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("eta_moved_min", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscriptions")),
    )
    op.create_table(
        "webhook_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=24), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("return_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _TS, nullable=False),
        sa.Column("claim", sa.String(length=32), nullable=True),
        sa.Column("lease_until", _TS, nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("delivered_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscriptions.id"],
            name=op.f("fk_webhook_outbox_subscription_id_webhook_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_outbox")),
        sa.UniqueConstraint(
            "subscription_id", "event_id", name=op.f("uq_webhook_outbox_subscription_id")
        ),
    )
    op.create_index(
        op.f("ix_webhook_outbox_subscription_id"),
        "webhook_outbox",
        ["subscription_id"],
        unique=False,
    )
    op.create_index(
        "ix_webhook_outbox_status_next_attempt_at",
        "webhook_outbox",
        ["status", "next_attempt_at"],
        unique=False,
    )


def downgrade() -> None:
    """Undo this revision (subscriptions and undelivered events are forgotten)."""
    op.drop_index("ix_webhook_outbox_status_next_attempt_at", table_name="webhook_outbox")
    op.drop_index(op.f("ix_webhook_outbox_subscription_id"), table_name="webhook_outbox")
    op.drop_table("webhook_outbox")
    op.drop_table("webhook_subscriptions")
