"""Settings of the store and the planner, read from ``LASTMILE_*`` environment variables.

``LASTMILE_DATABASE_URL``
    Any SQLAlchemy URL. Default: the SQLite file ``./var/lastmile.db`` relative to the
    working directory (the folder is created on first use). PostgreSQL works with
    ``postgresql+psycopg://user:password@host:5432/dbname``.
``LASTMILE_SIMULATIONS_DIR``
    Folder of the files of simulation jobs (``POST /simulations``): one sub-folder per job
    with its report, plots and a sweep's cached points. Default ``./var/simulations``,
    beside the default database. It outlives the server (jobs are resumed from it after a
    restart), so every server process of a store must see the same folder.
``LASTMILE_ROAD_GRAPH``
    Optional path of a GraphML street graph following :mod:`routing.network`'s convention.
    When set, travel matrices come from fastest paths on it; otherwise from straight lines
    stretched by ``LASTMILE_DETOUR_FACTOR`` (see :mod:`orchestrator.planning.travel`).
``LASTMILE_DETOUR_FACTOR``
    Straight-line to road distance multiplier, >= 1 (default 1.3, a common urban value).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from routing.matrix import URBAN_DETOUR_FACTOR

__all__ = ["DEFAULT_SIMULATIONS_DIR", "DEFAULT_SQLITE_PATH", "Settings"]

DEFAULT_SQLITE_PATH = Path("var") / "lastmile.db"
"""Where the default SQLite database lives, relative to the working directory."""
DEFAULT_SIMULATIONS_DIR = Path("var") / "simulations"
"""Where simulation jobs keep their files by default, relative to the working directory."""


class Settings(BaseSettings):
    """Store and planner settings; every field can be set as ``LASTMILE_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="LASTMILE_", extra="ignore")

    database_url: str = Field(
        default_factory=lambda: f"sqlite:///{DEFAULT_SQLITE_PATH.resolve()}",
        description="SQLAlchemy URL of the store.",
    )
    simulations_dir: Path = Field(
        default_factory=lambda: DEFAULT_SIMULATIONS_DIR.resolve(),
        description="Folder of the simulation jobs' files (one sub-folder per job).",
    )
    road_graph: Path | None = Field(
        default=None, description="GraphML street graph for travel matrices (optional)."
    )
    detour_factor: float = Field(
        default=URBAN_DETOUR_FACTOR,
        ge=1.0,
        description="Straight-line to road distance multiplier.",
    )
