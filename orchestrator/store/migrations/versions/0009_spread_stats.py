"""Spread stats: what each depot has learned of actual over planned times.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 08:45:00

Adds the table ``spread_stats`` (:mod:`orchestrator.models.spread`): per depot and key —
``timed`` (travel, service), ``profile``, local ``hour`` (-1: every hour) and ``zone`` (``*``:
every zone), unique together — Welford's ``n``, ``mean`` and ``m2`` of the log of actual
over planned, and ``updated_at``. Deleting a depot deletes its rows. No existing row changes;
a store upgraded here plans on the default spread until outcomes are recorded.

Downgrading drops the table: what was learned is forgotten.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "spread_stats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("depot_id", sa.Integer(), nullable=False),
        sa.Column("timed", sa.String(length=8), nullable=False),
        sa.Column("profile", sa.String(length=30), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("zone", sa.String(length=30), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("mean", sa.Float(), nullable=False),
        sa.Column("m2", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["depot_id"],
            ["depots.id"],
            name=op.f("fk_spread_stats_depot_id_depots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spread_stats")),
        sa.UniqueConstraint(
            "depot_id", "timed", "profile", "hour", "zone", name="uq_spread_stats_depot_id"
        ),
    )
    op.create_index(op.f("ix_spread_stats_depot_id"), "spread_stats", ["depot_id"], unique=False)


def downgrade() -> None:
    """Undo this revision (what was learned is forgotten)."""
    op.drop_index(op.f("ix_spread_stats_depot_id"), table_name="spread_stats")
    op.drop_table("spread_stats")
