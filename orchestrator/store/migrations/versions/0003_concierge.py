"""The concierge: customer profiles (schedule, preferences, learned statistics) and option holds.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 18:00:00

Creates two tables and changes none:

* ``customer_profiles`` — one row per customer who told us something: the weekly place
  schedule (rules naming their places by id), preferred windows, robot/courier acceptance,
  eco preference and accepted wait, language, hand-off instructions and the learned slot
  statistics. Deleting the customer deletes it (``ON DELETE CASCADE``); deleting the default
  place only clears the reference.
* ``option_holds`` — delivery options customers chose: held until they expire, then
  confirmed, released or expired. Rows go with their order, customer or place.

Downgrading drops both tables; orders keep the place and window a confirmed hold wrote.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "customer_profiles",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("default_place_id", sa.Integer(), nullable=True),
        sa.Column("schedule", sa.JSON(), nullable=False),
        sa.Column("preferred_windows", sa.JSON(), nullable=False),
        sa.Column("accepts_robot", sa.Boolean(), nullable=False),
        sa.Column("accepts_courier", sa.Boolean(), nullable=False),
        sa.Column("prefers_eco", sa.Boolean(), nullable=False),
        sa.Column("eco_max_wait_days", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("handoff_instructions", sa.String(length=500), nullable=True),
        sa.Column("stats", sa.JSON(), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_profiles_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["default_place_id"],
            ["places.id"],
            name=op.f("fk_customer_profiles_default_place_id_places"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_profiles")),
    )
    op.create_table(
        "option_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("depot_id", sa.Integer(), nullable=False),
        sa.Column("service_day", sa.Date(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("window_start", _TS, nullable=False),
        sa.Column("window_end", _TS, nullable=False),
        sa.Column("service_level", sa.String(length=24), nullable=False),
        sa.Column("vehicle_type", sa.String(length=60), nullable=False),
        sa.Column("vehicle_id", sa.String(length=100), nullable=False),
        sa.Column("route_id", sa.Integer(), nullable=True),
        sa.Column("eta_start", _TS, nullable=False),
        sa.Column("eta_end", _TS, nullable=False),
        sa.Column("price_eur", sa.Float(), nullable=False),
        sa.Column("marginal_cost_eur", sa.Float(), nullable=False),
        sa.Column("co2_g", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("closed_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_option_holds_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["depot_id"], ["depots.id"], name=op.f("fk_option_holds_depot_id_depots")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_option_holds_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["place_id"],
            ["places.id"],
            name=op.f("fk_option_holds_place_id_places"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["route_id"],
            ["routes.id"],
            name=op.f("fk_option_holds_route_id_routes"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_option_holds")),
    )
    op.create_index(
        op.f("ix_option_holds_customer_id"), "option_holds", ["customer_id"], unique=False
    )
    op.create_index(
        "ix_option_holds_depot_day", "option_holds", ["depot_id", "service_day"], unique=False
    )
    op.create_index(op.f("ix_option_holds_order_id"), "option_holds", ["order_id"], unique=False)


def downgrade() -> None:
    """Undo this revision."""
    op.drop_index(op.f("ix_option_holds_order_id"), table_name="option_holds")
    op.drop_index("ix_option_holds_depot_day", table_name="option_holds")
    op.drop_index(op.f("ix_option_holds_customer_id"), table_name="option_holds")
    op.drop_table("option_holds")
    op.drop_table("customer_profiles")
