"""Tenancy: several retailers on one fleet; everything so far belongs to the default retailer.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 12:00:00

Adds the table ``retailers`` (:mod:`orchestrator.models.retailers`: ``id``, ``name``,
``created_at``) with one row, the default retailer (id 1, "Default retailer"), and a
``retailer_id`` to each retailer-owned table — ``customers``, ``orders``, ``products``,
``stores``, ``item_returns`` — not null, indexed, a foreign key to ``retailers``, with a
server default of 1: every existing row moves to the default retailer, and a row written
without a retailer lands there too. ``api_keys`` gets a nullable ``retailer_id`` (none: a
carrier's key, which sees every retailer); existing customers' keys take their customer's
retailer, every other existing key stays the carrier's. An existing single-retailer store
therefore reads and plans the same after the upgrade.

On PostgreSQL the columns are added in place (the server default fills existing rows) and the
id sequence of ``retailers`` is moved past the default retailer. SQLite cannot add a
referencing, not-null column in place, so each table is rebuilt (Alembic's batch mode) with
foreign keys switched off around the rebuild, as revision 0007 does and for the same reason
(dropping the old table would cascade into the rows referring to it), checked with
``PRAGMA foreign_key_check`` afterwards.

Downgrading drops the columns and the table: which retailer owned what is forgotten.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_ID = 1
DEFAULT_NAME = "Default retailer"
OWNED = ("customers", "orders", "products", "stores", "item_returns")
"""The tables whose rows belong to a retailer."""


def upgrade() -> None:
    """Add the retailers, and move every existing row to the default one."""
    bind = op.get_bind()
    if "retailers" not in sa.inspect(bind).get_table_names():
        _create_retailers()
    for table in (*OWNED, "api_keys"):
        if "retailer_id" not in _columns(table):  # not rebuilt yet (SQLite commits each)
            _alter(table, partial(_add, table=table))
    op.execute(
        sa.text(
            "UPDATE api_keys SET retailer_id = (SELECT c.retailer_id FROM customers c "
            "WHERE c.id = api_keys.customer_id) WHERE customer_id IS NOT NULL"
        )
    )


def downgrade() -> None:
    """Forget the retailers (every row stays, no longer owned)."""
    for table in (*OWNED, "api_keys"):
        if "retailer_id" in _columns(table):
            _alter(table, partial(_drop, table=table))
    if "retailers" in sa.inspect(op.get_bind()).get_table_names():
        op.drop_table("retailers")


def _columns(table: str) -> set[str]:
    return {str(c["name"]) for c in sa.inspect(op.get_bind()).get_columns(table)}


def _create_retailers() -> None:
    """The table, holding the default retailer."""
    op.create_table(
        "retailers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retailers")),
    )
    retailers = sa.table(
        "retailers",
        sa.column("id", sa.Integer()),
        sa.column("name", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    op.bulk_insert(
        retailers, [{"id": DEFAULT_ID, "name": DEFAULT_NAME, "created_at": datetime.now(UTC)}]
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # The default retailer took id 1 by hand: the next one made must not.
        bind.exec_driver_sql(
            "SELECT setval(pg_get_serial_sequence('retailers', 'id'), "
            "(SELECT MAX(id) FROM retailers))"
        )


def _add(batch: BatchOperations | None, table: str) -> None:
    """Add ``table``'s ``retailer_id`` (in place, or in a SQLite ``batch``) with its foreign
    key to ``retailers`` and its index: not null with a default of 1 on a retailer-owned
    table, nullable on ``api_keys``."""
    if table == "api_keys":
        column = sa.Column("retailer_id", sa.Integer(), nullable=True)
    else:
        default = sa.text(str(DEFAULT_ID))
        column = sa.Column("retailer_id", sa.Integer(), server_default=default, nullable=False)
    fk, index = f"fk_{table}_retailer_id_retailers", f"ix_{table}_retailer_id"
    if batch is None:
        op.add_column(table, column)
        op.create_foreign_key(fk, table, "retailers", ["retailer_id"], ["id"])
        op.create_index(index, table, ["retailer_id"], unique=False)
        return
    batch.add_column(column)
    batch.create_foreign_key(fk, "retailers", ["retailer_id"], ["id"])
    batch.create_index(index, ["retailer_id"], unique=False)


def _drop(batch: BatchOperations | None, table: str) -> None:
    """Drop what :func:`_add` added to ``table``."""
    fk, index = f"fk_{table}_retailer_id_retailers", f"ix_{table}_retailer_id"
    if batch is None:
        op.drop_index(index, table_name=table)
        op.drop_constraint(fk, table, type_="foreignkey")
        op.drop_column(table, "retailer_id")
        return
    batch.drop_index(index)
    batch.drop_constraint(fk, type_="foreignkey")
    batch.drop_column("retailer_id")


def _alter(table: str, change: Callable[[BatchOperations | None], None]) -> None:
    """Apply ``change`` to ``table``: in place (``None``) on PostgreSQL; on SQLite in a batch
    that rebuilds the table, foreign keys off around it (see the module's docstring)."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        change(None)
        return
    raw = bind.connection.dbapi_connection
    assert raw is not None
    if raw.in_transaction:
        bind.exec_driver_sql("COMMIT")
    bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
    try:
        bind.exec_driver_sql("BEGIN")
        with op.batch_alter_table(table, recreate="always") as batch:
            change(batch)
        broken = bind.exec_driver_sql("PRAGMA foreign_key_check").all()
        if broken:
            raise RuntimeError(f"rebuilding {table} broke {len(broken)} reference(s): {broken[:5]}")
        bind.exec_driver_sql("COMMIT")
    except BaseException:
        if raw.in_transaction:
            bind.exec_driver_sql("ROLLBACK")
        raise
    finally:
        bind.exec_driver_sql("PRAGMA foreign_keys=ON")
