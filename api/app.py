"""The FastAPI application: :func:`create_app` wires the store, the routers and the errors.

Run it with ``lastmile serve --host 127.0.0.1 --port 8000`` (uvicorn), then read the
OpenAPI documentation at ``/docs``. Every endpoint except ``/health`` and the docs needs an
API key (``Authorization: Bearer <key>``, see :mod:`api.deps`).

Conventions of the API: coordinates ``[lon, lat]`` (GeoJSON order) where a pair is given,
named ``lat``/``lon`` fields otherwise; times ISO 8601 with the offset of the depot's or the
customer's zone (:mod:`api.zones`); durations in seconds;
distances in metres; masses in grams; volumes in millilitres.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import api.routes.couriers
import api.routes.kpis
import api.routes.options
import api.routes.plan_exports
import api.routes.profiles
import api.routes.retailers
import api.routes.returns
import api.routes.simulations
import api.routes.stores
import api.routes.tracking
import api.routes.webhooks
from api.deps import AuthenticationGate
from api.errors import install_error_handlers
from api.limits import install_body_limit
from api.pages import install_pages
from api.routes import customers, depots, fleet, health, orders, plans, routes, vroom, whereabouts
from api.runtime.jobs import SOLVES_WAITING, PlanJobs, SimulationJobs, SolverPool
from api.runtime.outbox import OutboxWorker
from api.zones import TIMES
from orchestrator.planning.travel import travel_from_settings
from orchestrator.settings import Settings
from orchestrator.store.engine import create_engine, ensure_schema

__all__ = ["create_app"]

_DESCRIPTION = """\
lastmile plans a depot's delivery day: customers and their places, orders with windows, a
mixed fleet; plans are solved as background jobs and come back as JSON or GeoJSON routes.

* **Authentication**: `Authorization: Bearer <key>`; create keys with
  `lastmile keys create --role planner|customer|analyst|admin [--customer ID]`.
* **Units**: seconds, metres, grams, millilitres; times ISO 8601 with an explicit offset
  (see *Times*); coordinate pairs `[lon, lat]`.
* **Times**: {times}.
* **Errors**: 401 no/unknown key, 403 wrong role (both before the input is judged), 404
  unknown id (or not yours), 409 conflict, 422 bad input with `field` (dotted path) and
  `message` (what to fix), 415 a body not sent as JSON (send `Content-Type:
  application/json`; curl: `--json`); each operation lists the ones it may answer, with
  their bodies.
  An address with too many failed keys is answered 429 with `Retry-After` for a while.
* **Plans are jobs**: `POST /plans` answers 202 with the plan's id; poll `GET /plans/{id}`.
  Jobs are kept in the store: a job a stopped server left unfinished shows as failed —
  submit it again.
""".replace("{times}", TIMES)


def create_app(settings: Settings | None = None, *, recover_jobs: bool = True) -> FastAPI:
    """Build the app on the store ``settings`` names.

    Parameters
    ----------
    settings
        Store and planner settings; ``None`` reads ``LASTMILE_*`` environment variables.
        The schema is created or migrated when the app starts, so an empty database works.
    recover_jobs
        Mark the plan jobs a previous server left unfinished as failed, and queue again the
        simulation jobs it left running, on start-up; off in the workers of a multi-process
        server, whose supervisor does it once (:mod:`api.runtime.serve`).

    Returns
    -------
    fastapi.FastAPI
        The app; ``app.state.engine`` is its store, ``app.state.travel`` its travel-time
        provider (:data:`api.deps.TravelDep`), ``app.state.jobs`` its plan jobs,
        ``app.state.simulations`` its simulation jobs and ``app.state.solver`` the worker
        processes of ``POST /solve/vroom``.

    Notes
    -----
    On start-up the app migrates the store, marks the plan jobs a previous server left
    queued or running as failed and takes up the queued simulation jobs (see
    :mod:`api.runtime.jobs`); on shutdown it marks its own queued plan jobs so and waits for the
    running ones, and stops its running simulations, which stay queued for the next start.
    """
    settings = settings or Settings()
    # One provider for every request: a road graph (LASTMILE_ROAD_GRAPH) is read here, once.
    # Plan jobs run in worker processes, which make their own (api.runtime.jobs).
    travel = travel_from_settings(settings)
    engine = create_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ensure_schema(engine)
        if recover_jobs:
            app.state.jobs.start()
        app.state.simulations.start()
        app.state.outbox.start()  # webhooks (api.runtime.outbox)
        # What the imports and start-up made (~500k objects) lives as long as the process: a
        # full garbage collection scanning it took ~300 ms, the p95 of a 2,000-stop board page
        # (benchmarks.pages). Frozen, collections skip it. (No gc.collect() first: it would
        # cost every start, tests' included, that much.)
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            app.state.outbox.shutdown()
            app.state.simulations.shutdown()
            app.state.solver.shutdown(cancel_running=True)  # VROOM solves: nobody will read them
            app.state.jobs.shutdown()
            engine.dispose()

    app = FastAPI(
        title="lastmile",
        summary="Open-source last-mile logistics orchestrator.",
        description=_DESCRIPTION,
        version="0.1.0",
        lifespan=lifespan,
        # Served by api.pages.assets from local copies: FastAPI's own load from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.travel = travel
    app.state.jobs = PlanJobs(settings, engine)
    app.state.solver = SolverPool(max_waiting=SOLVES_WAITING)
    app.state.simulations = SimulationJobs(settings, engine)
    app.state.outbox = OutboxWorker(engine, settings)
    install_error_handlers(app)
    # Bodies over their limit are answered 413 before anything reads them (api.limits).
    install_body_limit(app, settings)
    # Outermost: the key is judged before the size or the shape of the input (api.deps).
    app.add_middleware(AuthenticationGate, api=app, settings=settings)
    for concierge_module in (api.routes.profiles, api.routes.options):
        app.include_router(concierge_module.router)
    for module in (health, vroom, depots, fleet, customers, orders, plans, routes, whereabouts):
        app.include_router(module.router)
    app.include_router(api.routes.plan_exports.router)  # a plan's routes as CSV and .xlsx
    for returns_module in (api.routes.stores, api.routes.returns):
        app.include_router(returns_module.router)
    app.include_router(api.routes.simulations.router)
    app.include_router(api.routes.webhooks.router)
    app.include_router(api.routes.tracking.router)  # the customer's page's JSON twin
    app.include_router(api.routes.kpis.router)  # GET /depots/{id}/kpis: promises kept on a day
    app.include_router(api.routes.couriers.router)  # commuters: trips, offers, hand-overs
    app.include_router(api.routes.retailers.router)  # the retailers the fleet serves
    install_pages(app)
    return app
