"""Commuters: couriers, their trips, the offers made to them and the jobs of each offer.

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-03 12:20:00

Adds four tables (:mod:`orchestrator.models.couriers`):

* ``couriers`` — a commuter who carries parcels on their way: a display ``name``;
* ``courier_trips`` — a trip a courier registered: origin and destination (WGS84 degrees),
  the leaving window, ``capacity_parcels``, ``max_detour_min``, ``payout_wanted_eur``,
  ``mode`` (bike, car, walk), the depot and day it was matched to and why no offer was made;
* ``courier_offers`` — a bundle offered for a trip: ``status``, ``payout_eur``,
  ``carrier_cost_eur``, ``detour_s``, ``direct_s``, ``distance_m``, the ride's ends, the
  answer's ``deadline_at`` and what sending the orders back did (``replan_note``);
* ``courier_jobs`` — one order of an offer: its ``sequence``, ``status``, ``pickup_at``, ``eta``
  and ``handoff_code``.

and the column ``api_keys.courier_id`` (the courier a ``courier`` key belongs to). Deleting a
courier deletes their keys, trips, offers and jobs. New order event kinds
(``courier_accepted``, ``picked_up``, ``courier_released``) and the role ``courier`` need no
change: both are plain ``VARCHAR(24)``. No existing row changes.

Downgrading drops the four tables and the column: couriers and their keys are forgotten.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "couriers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_couriers")),
    )
    op.create_table(
        "courier_trips",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("courier_id", sa.Integer(), nullable=False),
        sa.Column("depot_id", sa.Integer(), nullable=True),
        sa.Column("service_day", sa.Date(), nullable=True),
        sa.Column("origin_lat", sa.Float(), nullable=False),
        sa.Column("origin_lon", sa.Float(), nullable=False),
        sa.Column("destination_lat", sa.Float(), nullable=False),
        sa.Column("destination_lon", sa.Float(), nullable=False),
        sa.Column("leave_after", _TS, nullable=False),
        sa.Column("leave_before", _TS, nullable=False),
        sa.Column("capacity_parcels", sa.Integer(), nullable=False),
        sa.Column("max_detour_min", sa.Integer(), nullable=False),
        sa.Column("payout_wanted_eur", sa.Float(), nullable=False),
        sa.Column("mode", sa.String(length=24), nullable=False),
        sa.Column("no_offer_reason", sa.String(length=1000), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["courier_id"],
            ["couriers.id"],
            name=op.f("fk_courier_trips_courier_id_couriers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["depot_id"],
            ["depots.id"],
            name=op.f("fk_courier_trips_depot_id_depots"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courier_trips")),
    )
    op.create_index(
        op.f("ix_courier_trips_courier_id"), "courier_trips", ["courier_id"], unique=False
    )
    op.create_table(
        "courier_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trip_id", sa.Integer(), nullable=False),
        sa.Column("depot_id", sa.Integer(), nullable=False),
        sa.Column("service_day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("payout_eur", sa.Float(), nullable=False),
        sa.Column("carrier_cost_eur", sa.Float(), nullable=False),
        sa.Column("detour_s", sa.Integer(), nullable=False),
        sa.Column("direct_s", sa.Integer(), nullable=False),
        sa.Column("distance_m", sa.Integer(), nullable=False),
        sa.Column("leave_at", _TS, nullable=False),
        sa.Column("arrive_at", _TS, nullable=False),
        sa.Column("deadline_at", _TS, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("answered_at", _TS, nullable=True),
        sa.Column("replan_note", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["trip_id"],
            ["courier_trips.id"],
            name=op.f("fk_courier_offers_trip_id_courier_trips"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["depot_id"],
            ["depots.id"],
            name=op.f("fk_courier_offers_depot_id_depots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courier_offers")),
    )
    op.create_index(op.f("ix_courier_offers_trip_id"), "courier_offers", ["trip_id"], unique=False)
    op.create_table(
        "courier_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("pickup_at", _TS, nullable=False),
        sa.Column("eta", _TS, nullable=False),
        sa.Column("handoff_code", sa.String(length=8), nullable=False),
        sa.Column("closed_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["courier_offers.id"],
            name=op.f("fk_courier_jobs_offer_id_courier_offers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_courier_jobs_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courier_jobs")),
    )
    op.create_index(op.f("ix_courier_jobs_offer_id"), "courier_jobs", ["offer_id"], unique=False)
    op.create_index(op.f("ix_courier_jobs_order_id"), "courier_jobs", ["order_id"], unique=False)
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("courier_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_api_keys_courier_id_couriers"),
            "couriers",
            ["courier_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    """Undo this revision (couriers, their trips, offers, jobs and keys are forgotten)."""
    op.execute("DELETE FROM api_keys WHERE courier_id IS NOT NULL")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_constraint("fk_api_keys_courier_id_couriers", type_="foreignkey")
        batch_op.drop_column("courier_id")
    op.drop_index(op.f("ix_courier_jobs_order_id"), table_name="courier_jobs")
    op.drop_index(op.f("ix_courier_jobs_offer_id"), table_name="courier_jobs")
    op.drop_table("courier_jobs")
    op.drop_index(op.f("ix_courier_offers_trip_id"), table_name="courier_offers")
    op.drop_table("courier_offers")
    op.drop_index(op.f("ix_courier_trips_courier_id"), table_name="courier_trips")
    op.drop_table("courier_trips")
    op.drop_table("couriers")
