"""Returns: the product catalogue, store sales and stock, returns, and their stops on routes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 20:00:00

Adds one column and six tables, and changes no row:

* ``order_items.sku`` — nullable: lines registered before have none (and cannot be returned
  until the shop tells us theirs);
* ``products`` — the catalogue: SKU → style, category, size, colour, list price (cents);
* ``store_sales`` and ``store_stock`` — daily units sold and units on the shelf per store and
  SKU, the inputs of the resale model; they go with their store (``ON DELETE CASCADE``);
* ``item_returns`` — one returned unit each: order line, condition, reason, status, the pickup
  chosen, and the returns engine's decision (destination, expected recovery, explanation,
  transfer km and CO2, and — written by planning — whether a route carries it to the store
  or back to the depot, with the onward transfer);
* ``return_stops`` and ``unserved_returns`` — a plan's pickup and store drop-off stops with
  their ETAs, and the pickups it leaves out with their reasons (they go with their plan).

Downgrading drops the tables and the column: returns, sales, stock and order lines' SKUs are
lost.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)
_ENUM = sa.String(length=24)


def upgrade() -> None:
    """Apply this revision."""
    op.add_column("order_items", sa.Column("sku", sa.String(length=64), nullable=True))
    op.create_table(
        "products",
        sa.Column("style", sa.String(length=100), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("size", sa.String(length=20), nullable=False),
        sa.Column("colour", sa.String(length=40), nullable=False),
        sa.Column("list_price_cents", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("sku", name=op.f("pk_products")),
    )
    op.create_table(
        "store_sales",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sku"], ["products.sku"], name=op.f("fk_store_sales_sku_products")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_store_sales_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_sales")),
        sa.UniqueConstraint("store_id", "sku", "day", name="uq_store_sales_store_sku_day"),
    )
    op.create_index(op.f("ix_store_sales_store_id"), "store_sales", ["store_id"], unique=False)
    op.create_table(
        "store_stock",
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sku"], ["products.sku"], name=op.f("fk_store_stock_sku_products")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_store_stock_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("store_id", "sku", name=op.f("pk_store_stock")),
    )
    op.create_table(
        "item_returns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("order_item_id", sa.Integer(), nullable=False),
        sa.Column("depot_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("condition", _ENUM, nullable=False),
        sa.Column("reason", _ENUM, nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("status", _ENUM, nullable=False),
        sa.Column("pickup_method", _ENUM, nullable=True),
        sa.Column("pickup_place_id", sa.Integer(), nullable=True),
        sa.Column("pickup_store_id", sa.Integer(), nullable=True),
        sa.Column("pickup_day", sa.Date(), nullable=True),
        sa.Column("window_start", _TS, nullable=True),
        sa.Column("window_end", _TS, nullable=True),
        sa.Column("destination_kind", _ENUM, nullable=False),
        sa.Column("destination_id", sa.String(length=40), nullable=False),
        sa.Column("destination_store_id", sa.Integer(), nullable=True),
        sa.Column("destination_name", sa.String(length=200), nullable=False),
        sa.Column("expected_recovery_eur", sa.Float(), nullable=False),
        sa.Column("resale_probability", sa.Float(), nullable=False),
        sa.Column("expected_days", sa.Float(), nullable=True),
        sa.Column("explanation", sa.String(length=1000), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("transfer_km", sa.Float(), nullable=False),
        sa.Column("transfer_co2_kg", sa.Float(), nullable=False),
        sa.Column("carried_to", _ENUM, nullable=True),
        sa.Column("onward_km", sa.Float(), nullable=True),
        sa.Column("onward_co2_kg", sa.Float(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_item_returns_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["depot_id"], ["depots.id"], name=op.f("fk_item_returns_depot_id_depots")
        ),
        sa.ForeignKeyConstraint(
            ["destination_store_id"],
            ["stores.id"],
            name=op.f("fk_item_returns_destination_store_id_stores"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_item_returns_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_item_id"],
            ["order_items.id"],
            name=op.f("fk_item_returns_order_item_id_order_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pickup_place_id"],
            ["places.id"],
            name=op.f("fk_item_returns_pickup_place_id_places"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["pickup_store_id"],
            ["stores.id"],
            name=op.f("fk_item_returns_pickup_store_id_stores"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_returns")),
    )
    op.create_index(
        op.f("ix_item_returns_customer_id"), "item_returns", ["customer_id"], unique=False
    )
    op.create_index(op.f("ix_item_returns_order_id"), "item_returns", ["order_id"], unique=False)
    op.create_index(
        "ix_item_returns_depot_day", "item_returns", ["depot_id", "pickup_day"], unique=False
    )
    op.create_table(
        "return_stops",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("route_id", sa.Integer(), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=False),
        sa.Column("kind", _ENUM, nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("arrival_at", _TS, nullable=False),
        sa.Column("service_start_at", _TS, nullable=False),
        sa.Column("departure_at", _TS, nullable=False),
        sa.Column("wait_s", sa.Integer(), nullable=False),
        sa.Column("leg_distance_m", sa.Integer(), nullable=False),
        sa.Column("load_after", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["return_id"],
            ["item_returns.id"],
            name=op.f("fk_return_stops_return_id_item_returns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["route_id"],
            ["routes.id"],
            name=op.f("fk_return_stops_route_id_routes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_return_stops_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_stops")),
        sa.UniqueConstraint("route_id", "sequence", name="uq_return_stops_seq"),
    )
    op.create_index(op.f("ix_return_stops_return_id"), "return_stops", ["return_id"], unique=False)
    op.create_index(op.f("ix_return_stops_route_id"), "return_stops", ["route_id"], unique=False)
    op.create_table(
        "unserved_returns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.String(length=1000), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_unserved_returns_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["return_id"],
            ["item_returns.id"],
            name=op.f("fk_unserved_returns_return_id_item_returns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unserved_returns")),
    )
    op.create_index(
        op.f("ix_unserved_returns_plan_id"), "unserved_returns", ["plan_id"], unique=False
    )
    op.create_index(
        op.f("ix_unserved_returns_return_id"), "unserved_returns", ["return_id"], unique=False
    )


def downgrade() -> None:
    """Undo this revision (returns, sales, stock and the order lines' SKUs are lost)."""
    op.drop_index(op.f("ix_unserved_returns_return_id"), table_name="unserved_returns")
    op.drop_index(op.f("ix_unserved_returns_plan_id"), table_name="unserved_returns")
    op.drop_table("unserved_returns")
    op.drop_index(op.f("ix_return_stops_route_id"), table_name="return_stops")
    op.drop_index(op.f("ix_return_stops_return_id"), table_name="return_stops")
    op.drop_table("return_stops")
    op.drop_index("ix_item_returns_depot_day", table_name="item_returns")
    op.drop_index(op.f("ix_item_returns_order_id"), table_name="item_returns")
    op.drop_index(op.f("ix_item_returns_customer_id"), table_name="item_returns")
    op.drop_table("item_returns")
    op.drop_table("store_stock")
    op.drop_index(op.f("ix_store_sales_store_id"), table_name="store_sales")
    op.drop_table("store_sales")
    op.drop_table("products")
    op.drop_column("order_items", "sku")
