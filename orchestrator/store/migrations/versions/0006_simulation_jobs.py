"""Simulation jobs are kept in the store, so every server process sees them and a restart
resumes them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 04:00:00

Adds the table ``simulation_jobs`` (:class:`orchestrator.models.Simulation`): the request
(scenario name, the scenario's JSON dump, sweep axes and seed as JSON, points, replications),
the job's life (``status`` queued, running, succeeded or failed — indexed: a starting server
looks up the queued ones; ``claim``, the token of the run that holds it; ``attempts``;
``created_at``, ``started_at``, ``finished_at``), its outcome (``kpis`` as JSON, ``error``)
and ``folder``, the name of its folder of files under the server's simulations folder
(unique: two jobs never share files). No existing row changes.

Downgrading drops the table: the jobs are forgotten (their folders stay on disk, and
submitting a job again gives the same numbers).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "simulation_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scenario", sa.String(length=200), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("replications", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("folder", sa.String(length=64), nullable=False),
        sa.Column("kpis", sa.JSON(), nullable=True),
        sa.Column("error", sa.String(length=2000), nullable=True),
        sa.Column("claim", sa.String(length=32), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("started_at", _TS, nullable=True),
        sa.Column("finished_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_simulation_jobs")),
        sa.UniqueConstraint("folder", name=op.f("uq_simulation_jobs_folder")),
    )
    op.create_index(op.f("ix_simulation_jobs_status"), "simulation_jobs", ["status"], unique=False)


def downgrade() -> None:
    """Undo this revision (the jobs are forgotten; their files stay on disk)."""
    op.drop_index(op.f("ix_simulation_jobs_status"), table_name="simulation_jobs")
    op.drop_table("simulation_jobs")
