"""Idempotency keys belong to the customer of the order: one customer's key never meets another's.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 23:00:00

Until now ``orders.idempotency_key`` was unique across the store, so a customer sending a key
another customer had used was refused (409), and learned that the key was in use. The unique
constraint ``uq_orders_idempotency_key`` becomes ``uq_orders_customer_idempotency_key`` on
``(customer_id, idempotency_key)``. No row changes: keys unique across the store are unique
per customer too, and a request sent again after the upgrade finds its order as before.

SQLite cannot drop a constraint in place, so the table is rebuilt (Alembic's batch mode). The
rebuild drops the old table, and with foreign keys enforced SQLite would first delete every
row that refers to an order (lines, events, stops — ``ON DELETE CASCADE``); so, as SQLite's
own procedure for such changes says, foreign keys are switched off around the rebuild (which
SQLite allows only outside a transaction: the upgrade so far is committed first), checked with
``PRAGMA foreign_key_check`` afterwards, and switched on again. A rebuild that was committed
before its revision was recorded is not done twice.

Downgrading restores the store-wide constraint; it fails, changing nothing, when two customers
have come to share a key since.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_GLOBAL = ("uq_orders_idempotency_key", ["idempotency_key"])
_PER_CUSTOMER = ("uq_orders_customer_idempotency_key", ["customer_id", "idempotency_key"])


def upgrade() -> None:
    """Keys unique per customer."""
    _swap(old=_GLOBAL, new=_PER_CUSTOMER)


def downgrade() -> None:
    """Keys unique across the store again."""
    _swap(old=_PER_CUSTOMER, new=_GLOBAL)


def _swap(old: tuple[str, list[str]], new: tuple[str, list[str]]) -> None:
    bind = op.get_bind()
    present = {c["name"] for c in sa.inspect(bind).get_unique_constraints("orders")}
    if old[0] not in present and new[0] in present:
        return  # rebuilt already (SQLite), before the revision was recorded
    if bind.dialect.name != "sqlite":
        op.drop_constraint(old[0], "orders", type_="unique")
        op.create_unique_constraint(new[0], "orders", new[1])
        return
    raw = bind.connection.dbapi_connection
    assert raw is not None
    if raw.in_transaction:
        bind.exec_driver_sql("COMMIT")
    bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
    try:
        bind.exec_driver_sql("BEGIN")  # the rebuild, all or nothing (its DDL included)
        with op.batch_alter_table("orders", recreate="always") as batch:
            batch.drop_constraint(old[0], type_="unique")
            batch.create_unique_constraint(new[0], new[1])
        broken = bind.exec_driver_sql("PRAGMA foreign_key_check").all()
        if broken:
            raise RuntimeError(f"rebuilding orders broke {len(broken)} reference(s): {broken[:5]}")
        bind.exec_driver_sql("COMMIT")
    except BaseException:
        if raw.in_transaction:
            bind.exec_driver_sql("ROLLBACK")
        raise
    finally:
        bind.exec_driver_sql("PRAGMA foreign_keys=ON")
