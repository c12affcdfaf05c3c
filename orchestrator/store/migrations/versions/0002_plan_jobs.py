"""Plans are jobs: queued and running plans, what was asked (kind, limits) and when it ran.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 12:00:00

Adds to ``plans``:

* ``kind`` — ``day`` (plan from scratch) or ``replan``. Revision 0001 kept no record of
  which plans were re-plans, so its rows become ``day``;
* ``started_at`` and ``finished_at`` — 0001 wrote a plan only once its solve had ended, so
  its rows get ``finished_at = created_at`` and no ``started_at``;
* ``limits`` — the requested ``routing.Limits``; empty for 0001's rows (their time limit is
  in ``time_limit_s``).

``status`` may now also be ``queued`` or ``running`` (a string column: no schema change).

Columns are only added (``ALTER TABLE ... ADD COLUMN``), never rebuilt: on SQLite a batch
rebuild drops and re-creates ``plans``, and dropping it would cascade into the routes, stops
and unserved orders that point at it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNFINISHED_ON_DOWNGRADE = (
    "interrupted: lastmile was downgraded before this job finished — submit it again"
)


def upgrade() -> None:
    """Apply this revision."""
    op.add_column(
        "plans", sa.Column("kind", sa.String(length=24), nullable=False, server_default="day")
    )
    op.add_column("plans", sa.Column("started_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("plans", sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("plans", sa.Column("limits", sa.JSON(), nullable=True))
    op.execute(sa.text("UPDATE plans SET finished_at = created_at WHERE finished_at IS NULL"))


def downgrade() -> None:
    """Undo this revision (queued and running plans become failed: 0001 knows neither)."""
    op.execute(
        sa.text(
            "UPDATE plans SET status = 'failed', error = :error "
            "WHERE status IN ('queued', 'running')"
        ).bindparams(error=_UNFINISHED_ON_DOWNGRADE)
    )
    for column in ("limits", "finished_at", "started_at", "kind"):
        op.drop_column("plans", column)
