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
``LASTMILE_TILE_URL``
    Optional tile URL template for the maps (Leaflet's form, such as
    ``https://tiles.example.org/{z}/{x}/{y}.png``), for deployments that run or pay for a
    tile server; the maps draw its tiles under the streets. Unset (the default), no page
    loads anything from another host: the street graph (``LASTMILE_ROAD_GRAPH``) is the
    maps' base layer, and with neither the routes are drawn on a plain background.

Access
------
``LASTMILE_KEY_SECRET``
    The server-side secret API keys are hashed with (HMAC-SHA256), at least 16 characters;
    every process of a deployment (servers, workers, ``lastmile keys``) must see the same.
    Unset, a secret file is created once with ``0600`` permissions: beside a SQLite database,
    named like it plus ``.key-secret`` (``./var/lastmile.db.key-secret``), otherwise
    ``./var/lastmile.key-secret`` in the working directory. Changing or losing it invalidates
    every key (see :mod:`orchestrator.access.secret`).
``LASTMILE_AUTH_FAILURE_LIMIT``
    Failed authentications (401) one client address may have within the window (default 20;
    0 turns the limit off); beyond it every request of that address needing a key is
    answered 429 with ``Retry-After`` until the oldest failure leaves the window, without
    its key being checked (:mod:`orchestrator.access.lockout`). Per server process.
``LASTMILE_AUTH_FAILURE_WINDOW_S``
    That window, seconds (default 60).
``LASTMILE_AUTH_FAILURE_ADDRESSES``
    Client addresses remembered at most (default 10,000; the least recently failing is
    forgotten first), which bounds the memory the limit takes.

Webhooks
--------
Events are delivered from the store's outbox by every server process (each claims the rows it
posts, so none is posted by two at once; see :mod:`orchestrator.notifications.delivery`).

``LASTMILE_WEBHOOK_BACKOFF_S``
    Wait after a failed attempt, seconds (default 5), doubled after each further failure
    (5, 10, 20, ...), randomly ± 20 %.
``LASTMILE_WEBHOOK_BACKOFF_MAX_S``
    Longest wait between two attempts, seconds (default 3,600).
``LASTMILE_WEBHOOK_MAX_ATTEMPTS``
    Attempts at most (default 20); then the event is dead for that subscription.
``LASTMILE_WEBHOOK_MAX_AGE_S``
    An event failing an attempt this long after it happened is dead, seconds (default
    259,200: three days).
``LASTMILE_WEBHOOK_TIMEOUT_S``
    Seconds one attempt may take (default 10).
``LASTMILE_WEBHOOK_POLL_S``
    How often a server process looks for due events, seconds (default 1).
``LASTMILE_WEBHOOK_SENDERS``
    Posts one server process makes at the same time (default 4; 0 delivers nothing from
    this process).

Limits
------
Every limit is checked before any work starts and answered with an error that names the
limit and the setting that raises it. They keep one request from taking the host down: the
solver's memory grows with the square of the stops and with the vehicles (measured, one
solver process, 5 s search: 1,000 VROOM jobs with 20 vehicles peaked at 0.8 GB, with 50 at
1.6 GB, with 200 at 7.1 GB after 43 s; two solve at a time).

``LASTMILE_MAX_BODY_BYTES``
    Largest request body, bytes (default 1 MiB, 1,048,576). Checked while the body is read
    (a declared ``Content-Length`` from the head, a chunked body as it arrives), before any
    JSON is parsed; a larger one is answered 413 and read no further than four times the
    limit (:mod:`api.limits`).
``LASTMILE_MAX_VROOM_BODY_BYTES``
    Largest body of ``POST /solve/vroom``, bytes (default 16 MiB, 16,777,216: full
    ``durations`` and ``distances`` matrices of about 1,000 locations).
``LASTMILE_MAX_VROOM_TASKS``
    Most tasks of one VROOM problem: its jobs plus two per shipment (default 1,000); more is
    a 422 on ``jobs`` before anything is solved (:func:`orchestrator.vroom.parse_vroom`).
``LASTMILE_MAX_VROOM_VEHICLES``
    Most vehicles of one VROOM problem (default 50); more is a 422 on ``vehicles``.
``LASTMILE_MAX_PLAN_STOPS``
    Most stops of one plan: a depot's orders and return pickups of a service day (default
    2,000); more is a 422 on ``service_day`` when the plan is submitted, before it is queued
    (:func:`orchestrator.planning.plans.check_day`).
``LASTMILE_MAX_PLAN_VEHICLES``
    Most vehicles of one plan: the sum of the depot's fleets (default 500); more is a 422 on
    ``depot_id`` when the plan is submitted.

Constants, not settings: a list page holds at most :data:`MAX_PAGE_SIZE` (1,000) rows
(``GET /orders?limit=``, and every other list with ``limit`` and ``offset``); a simulation
sweep runs at most 64 scenarios; ``POST /solve/vroom`` searches at most 60 s and a plan job
at most 600 s. The VROOM and plan limits are read from the environment where they are
checked (the solver processes inherit the server's), not from the settings an app was built
with.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from routing.matrix import URBAN_DETOUR_FACTOR

__all__ = [
    "DEFAULT_SIMULATIONS_DIR",
    "DEFAULT_SQLITE_PATH",
    "MAX_PAGE_SIZE",
    "Settings",
    "setting_name",
]

DEFAULT_SQLITE_PATH = Path("var") / "lastmile.db"
"""Where the default SQLite database lives, relative to the working directory."""
DEFAULT_SIMULATIONS_DIR = Path("var") / "simulations"
"""Where simulation jobs keep their files by default, relative to the working directory."""
MAX_PAGE_SIZE = 1_000
"""Most rows of one page of a list (its ``limit`` query parameter, at most this)."""

_MIB = 1_048_576


class Settings(BaseSettings):
    """Store and planner settings; every field can be set as ``LASTMILE_<NAME>``.

    Each field's ``description`` (its first sentence is the short form ``lastmile serve
    --help`` lists) and default are the one source of the README's table of environment
    variables (``python -m api.cli.settings_table`` writes it); a field whose default is
    computed names it in ``json_schema_extra["shown_default"]``.
    """

    model_config = SettingsConfigDict(env_prefix="LASTMILE_", extra="ignore")

    database_url: str = Field(
        default_factory=lambda: f"sqlite:///{DEFAULT_SQLITE_PATH.resolve()}",
        description=(
            "SQLAlchemy URL of the store, created or migrated on first use. PostgreSQL: "
            "postgresql+psycopg://user:password@host:5432/dbname; the default SQLite file is "
            "relative to the working directory."
        ),
        json_schema_extra={"shown_default": f"sqlite:///./{DEFAULT_SQLITE_PATH.as_posix()}"},
    )
    simulations_dir: Path = Field(
        default_factory=lambda: DEFAULT_SIMULATIONS_DIR.resolve(),
        description=(
            "Folder of the simulation jobs' files (POST /simulations), one sub-folder per job. "
            "Jobs resume from it after a restart, so every server process of a store must see "
            "the same folder."
        ),
        json_schema_extra={"shown_default": f"./{DEFAULT_SIMULATIONS_DIR.as_posix()}"},
    )
    road_graph: Path | None = Field(
        default=None,
        description=(
            "GraphML street graph the travel times come from (fastest paths on it). Unset: "
            "straight lines stretched by LASTMILE_DETOUR_FACTOR."
        ),
    )
    detour_factor: float = Field(
        default=URBAN_DETOUR_FACTOR,
        ge=1.0,
        description=(
            "Road distance per straight-line distance, >= 1, when there is no street graph "
            "(1.3 is a common urban value)."
        ),
    )
    tile_url: str | None = Field(
        default=None,
        min_length=1,
        description=(
            "Tile URL template drawn under the maps, in Leaflet's form with {z}/{x}/{y}. For "
            "instance https://tiles.example.org/{z}/{x}/{y}.png; unset, no page loads anything "
            "from another host and the street graph is the maps' base layer."
        ),
    )
    max_body_bytes: int = Field(
        default=_MIB,
        ge=1_024,
        description=(
            "Largest request body, bytes. A larger one is answered 413 before any JSON is parsed."
        ),
    )
    max_vroom_body_bytes: int = Field(
        default=16 * _MIB,
        ge=1_024,
        description=(
            "Largest body of POST /solve/vroom, bytes. The default holds full durations and "
            "distances matrices of about 1,000 locations."
        ),
    )
    max_vroom_tasks: int = Field(
        default=1_000,
        ge=1,
        description=(
            "Most tasks of one VROOM problem: its jobs plus two per shipment. More is a 422 "
            "before anything is solved."
        ),
    )
    max_vroom_vehicles: int = Field(
        default=50, ge=1, description="Most vehicles of one VROOM problem. More is a 422."
    )
    max_plan_stops: int = Field(
        default=2_000,
        ge=1,
        description=(
            "Most stops of one plan: a depot's orders and return pickups of a service day. More "
            "is a 422 before the plan is queued."
        ),
    )
    max_plan_vehicles: int = Field(
        default=500,
        ge=1,
        description="Most vehicles of one plan: the sum of the depot's fleets. More is a 422.",
    )
    plan_worse_margin_pct: float = Field(
        default=2.0,
        ge=0,
        le=100,
        description=(
            "Percent: a new plan of a day that serves as many orders as the day's current plan "
            "but costs more than this much above it (EUR), or serves fewer, is stored but not "
            "made current unless the request asks for make_current 'always'. A plan made at "
            "another promise_confidence than the current one is compared on orders served "
            "only (a more cautious plan costs more by design): serving as many or more, it is "
            "made current whatever it costs."
        ),
    )
    promise_confidence: float = Field(
        default=0.9,
        ge=0,
        lt=1,
        description=(
            "Probability each planned leg and service time is meant to hold with: plans and "
            "delivery options use the quantile of the travel and service spread learned from "
            "outcomes (so planned times are the cautious ones), and an option whose window is "
            "kept with a lower probability is not offered. 0 turns the buffer and the floor off."
        ),
    )
    key_secret: SecretStr | None = Field(
        default=None,
        min_length=16,
        description=(
            "Secret API keys are hashed with (HMAC-SHA256), at least 16 characters, the same "
            "in every process of a deployment. Unset: a secret file created once (0600) beside "
            "a SQLite store, else ./var/lastmile.key-secret; changing it invalidates every key."
        ),
    )
    auth_failure_limit: int = Field(
        default=20,
        ge=0,
        description=(
            "Failed authentications (401) one client address may have within the window. "
            "Beyond it its requests are answered 429 until the oldest failure leaves the "
            "window; 0 turns the limit off. Per server process."
        ),
    )
    auth_failure_window_s: float = Field(
        default=60.0,
        gt=0,
        description="Window of the failed-authentication limit, seconds.",
    )
    auth_failure_addresses: int = Field(
        default=10_000,
        ge=1,
        description=(
            "Client addresses the failed-authentication limit remembers at most. The least "
            "recently failing is forgotten first, which bounds the limit's memory."
        ),
    )
    webhook_backoff_s: float = Field(
        default=5.0,
        gt=0,
        description=(
            "Wait after a failed webhook attempt, seconds. Doubled after each further failure "
            "(5, 10, 20, ...), randomly ± 20 %."
        ),
    )
    webhook_backoff_max_s: float = Field(
        default=3_600.0,
        gt=0,
        description="Longest wait between two attempts of a webhook event, seconds.",
    )
    webhook_max_attempts: int = Field(
        default=20,
        ge=1,
        description=(
            "Attempts of a webhook event per subscription at most. Then the event is dead for "
            "that subscription."
        ),
    )
    webhook_max_age_s: float = Field(
        default=259_200.0,
        gt=0,
        description=(
            "Age past which a failing webhook event is dead, seconds. The default is three days."
        ),
    )
    webhook_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Seconds one webhook attempt may take, at most 300.",
    )
    webhook_poll_s: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="How often a server process looks for due webhook events, seconds (<= 60).",
    )
    webhook_senders: int = Field(
        default=4,
        ge=0,
        le=64,
        description=(
            "Webhook posts one server process makes at the same time, at most 64. 0: this "
            "process delivers none."
        ),
    )


def setting_name(field: str) -> str:
    """The environment variable of a :class:`Settings` field: ``max_body_bytes`` →
    ``LASTMILE_MAX_BODY_BYTES``."""
    if field not in Settings.model_fields:
        raise KeyError(f"no setting {field!r}")
    return f"LASTMILE_{field.upper()}"
