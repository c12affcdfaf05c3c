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
* :mod:`orchestrator.concierge` — an order's delivery options, holds and their confirmation;
  :mod:`orchestrator.concierge_profiles` — customers' preferences (see, correct, export,
  delete) and what their choices and deliveries teach; :mod:`orchestrator.concierge_days` —
  the tentative plan of a day the options are checked against;
* :mod:`orchestrator.whereabouts` — "find me at the café": an order on its way redirected,
  its route re-optimised from where the vehicle is;
* :mod:`orchestrator.returns_flow` — returns: started by the customer, sent where they sell
  again (the :mod:`returns` engine), collected by the delivery routes, seen as flows per
  store; :mod:`orchestrator.returns_catalog` — the catalogue, stores' sales and stock;
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
from orchestrator.concierge import (
    choose_option,
    confirm_hold,
    options_for_order,
    release_hold,
)
from orchestrator.concierge_profiles import (
    delete_profile,
    export_customer,
    get_profile,
    put_profile,
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
from orchestrator.returns_flow import choose_pickup, pickup_options, return_flows, start_return
from orchestrator.settings import Settings
from orchestrator.store import create_engine, ensure_schema, session_scope
from orchestrator.travel import RoadGraphTravel, StraightLineTravel, TravelTimes
from orchestrator.whereabouts import WhereaboutsResult, update_whereabouts

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
    "WhereaboutsResult",
    "add_fleet",
    "add_place",
    "authenticate",
    "build_problem",
    "choose_option",
    "choose_pickup",
    "confirm_hold",
    "create_api_key",
    "create_customer",
    "create_depot",
    "create_engine",
    "create_store",
    "create_vehicle_type",
    "current_plan",
    "delete_profile",
    "dispatch_route",
    "ensure_schema",
    "export_customer",
    "get_order",
    "get_profile",
    "import_orders",
    "interrupt_jobs",
    "mark_stop_outcome",
    "options_for_order",
    "pickup_options",
    "plan_day",
    "put_profile",
    "register_order",
    "release_hold",
    "replan",
    "return_flows",
    "revoke_api_key",
    "run_job",
    "session_scope",
    "start_return",
    "submit_plan",
    "submit_replan",
    "update_whereabouts",
]
