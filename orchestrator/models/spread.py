"""What a depot has learned of how far actual times stray from planned ones: one row per key
of :class:`orchestrator.planning.spread.SpreadKey` (what is timed, the routing profile, the
local hour, the zone), at every level of it, holding the running statistics of
``log(actual / planned)`` (:class:`orchestrator.planning.spread.Spread`).

:mod:`orchestrator.planning.spread_store` reads a depot's rows as a
:class:`~orchestrator.planning.spread.SpreadBook` and adds outcomes to them.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from orchestrator.models._fields import StorableModel, created_at_field

__all__ = ["SpreadStat"]


class SpreadStat(StorableModel, table=True):
    """Table ``spread_stats``: the spread of one key at one depot.

    ``timed`` is ``travel`` or ``service``; ``profile`` a routing profile (``car``, ``bike``,
    ``walk``); ``hour`` the local hour 0-23, or -1 for every hour; ``zone`` the
    ``"row:col"`` square of :func:`orchestrator.planning.spread.zone_of`, or ``"*"`` for
    every zone. ``n``, ``mean`` and ``m2`` are Welford's count, mean and sum of squared
    deviations of the natural log of actual over planned (unitless); ``updated_at`` the last
    outcome's recording."""

    __tablename__ = "spread_stats"
    __table_args__ = (
        sa.UniqueConstraint(
            "depot_id", "timed", "profile", "hour", "zone", name="uq_spread_stats_depot_id"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    depot_id: int = Field(foreign_key="depots.id", index=True, ondelete="CASCADE")
    timed: str = Field(max_length=8)
    profile: str = Field(max_length=30)
    hour: int = Field(ge=-1, le=23)
    zone: str = Field(max_length=30)
    n: int = Field(default=0, ge=0)
    mean: float = 0.0
    m2: float = 0.0
    updated_at: datetime = created_at_field()
