"""The domain, the store and the services that turn customers and orders into routing problems.

Where things live:

* :mod:`orchestrator.models` — the tables and their SQLModel families;
* :mod:`orchestrator.store` — engines (SQLite by default, PostgreSQL by URL), sessions and
  :func:`ensure_schema` (Alembic migrations in :mod:`orchestrator.migrations`);
* :mod:`orchestrator.catalog`, :mod:`orchestrator.orders`, :mod:`orchestrator.planning`,
  :mod:`orchestrator.keys` — the services (plain Python; the API sits on top of them);
* :mod:`orchestrator.importer` — orders from a CSV file, all or nothing;
* :mod:`orchestrator.jobs` — plans solved in the background, their state kept in the store;
* :mod:`orchestrator.queries` — read-only lists and joined look-ups;
* :mod:`orchestrator.mapping` — the one function that builds a :class:`routing.Problem`;
* :mod:`orchestrator.travel` — where travel matrices come from;
* :mod:`orchestrator.errors` — the error tree the API maps to 404/409/422.
"""

from orchestrator.catalog import (
    add_fleet,
    add_place,
    create_customer,
    create_depot,
    create_store,
    create_vehicle_type,
)
from orchestrator.errors import Conflict, InvalidInput, NotFound, OrchestratorError, PlanningFailed
from orchestrator.importer import ImportRejected, ImportSummary, import_orders
from orchestrator.jobs import interrupt_jobs, run_job, submit_plan, submit_replan
from orchestrator.keys import authenticate, create_api_key, revoke_api_key
from orchestrator.mapping import build_problem
from orchestrator.orders import get_order, register_order
from orchestrator.planning import (
    current_plan,
    dispatch_route,
    mark_stop_outcome,
    plan_day,
    replan,
)
from orchestrator.settings import Settings
from orchestrator.store import create_engine, ensure_schema, session_scope
from orchestrator.travel import RoadGraphTravel, StraightLineTravel, TravelTimes

__all__ = [
    "Conflict",
    "ImportRejected",
    "ImportSummary",
    "InvalidInput",
    "NotFound",
    "OrchestratorError",
    "PlanningFailed",
    "RoadGraphTravel",
    "Settings",
    "StraightLineTravel",
    "TravelTimes",
    "add_fleet",
    "add_place",
    "authenticate",
    "build_problem",
    "create_api_key",
    "create_customer",
    "create_depot",
    "create_engine",
    "create_store",
    "create_vehicle_type",
    "current_plan",
    "dispatch_route",
    "ensure_schema",
    "get_order",
    "import_orders",
    "interrupt_jobs",
    "mark_stop_outcome",
    "plan_day",
    "register_order",
    "replan",
    "revoke_api_key",
    "run_job",
    "session_scope",
    "submit_plan",
    "submit_replan",
]
