"""The domain, the store and the services that turn customers and orders into routing problems.

Rooms, each named for what it holds (``docs/architecture.md`` has what each may import):

* :mod:`orchestrator.models` — the tables and the input/output classes of each resource;
* :mod:`orchestrator.store` — engines, sessions, migrations, the order event log, read queries;
* :mod:`orchestrator.access` — API keys and roles;
* :mod:`orchestrator.intake` — standing data (customers, places, depots, stores, the fleet),
  orders one by one and from a CSV file;
* :mod:`orchestrator.planning` — a depot's day: the routing problem, travel times, plans and
  re-plans, dispatch and outcomes, the tentative day options are checked against, "find me at
  the café";
* :mod:`orchestrator.concierge` — delivery options, holds, profiles, schedules, learning, eco
  consolidation;
* :mod:`orchestrator.returns_flow` — returns from the customer to the store that resells them;
* :mod:`orchestrator.jobs` — plans and simulations run in the background;
* :mod:`orchestrator.vroom` — VROOM's JSON format in and out;
* :mod:`orchestrator.errors` — the error tree the API maps to 404/409/422;
  :mod:`orchestrator.settings` — ``LASTMILE_*`` settings.
"""

from orchestrator.access.keys import authenticate, create_api_key, revoke_api_key
from orchestrator.concierge.offers import (
    choose_option,
    confirm_hold,
    options_for_order,
    release_hold,
)
from orchestrator.concierge.profiles import (
    delete_profile,
    export_customer,
    get_profile,
    put_profile,
)
from orchestrator.errors import Conflict, InvalidInput, NotFound, OrchestratorError, PlanningFailed
from orchestrator.intake.catalog import (
    add_fleet,
    add_place,
    create_customer,
    create_depot,
    create_store,
    create_vehicle_type,
)
from orchestrator.intake.importer import ImportRejected, ImportSummary, import_orders
from orchestrator.intake.orders import get_order, register_order
from orchestrator.jobs.plans import interrupt_jobs, run_job, submit_plan, submit_replan
from orchestrator.operations.dispatch import dispatch_route, mark_stop_outcome
from orchestrator.operations.whereabouts import WhereaboutsResult, update_whereabouts
from orchestrator.planning.plans import current_plan, plan_day, replan
from orchestrator.planning.problem import build_problem
from orchestrator.planning.travel import RoadGraphTravel, StraightLineTravel, TravelTimes
from orchestrator.returns_flow import choose_pickup, pickup_options, return_flows, start_return
from orchestrator.settings import Settings
from orchestrator.store.engine import create_engine, ensure_schema, session_scope

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
