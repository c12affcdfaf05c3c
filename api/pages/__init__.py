"""The pages people look at, served by the API: HTML rendered on the server.

* :mod:`api.pages.customer` — the customer's page ``/t/{token}`` (a signed, expiring link per
  order; no account): options, choice, live ETA, "I'm at the café now", returns.
* :mod:`api.pages.board` — the planner's board ``/board`` (a planner key in an HTTP-only
  cookie): depots, days, plans, routes on a map, unserved orders, plan, dispatch.
* :mod:`api.pages.manifest` — the driver's manifest ``/routes/{id}/manifest`` (HTML for a
  phone and for print, and CSV), with buttons that record each stop's outcome.
* :mod:`api.pages.assets` — every file a page loads, from this package or from registry
  packages installed with it (Leaflet, Swagger UI, ReDoc): nothing comes from a CDN, so every
  page works with no network. It also serves ``/docs`` and ``/redoc`` from those assets.

Pages hold no business logic: like the JSON routes they call the orchestrator's services
and render what comes back (:mod:`api.pages.rendering`: Jinja2 templates, the message
catalogues of English, Finnish and Swedish, times in the reader's zone).
"""

from __future__ import annotations

from fastapi import FastAPI

from api.pages import assets, board, customer, manifest, streets

__all__ = ["install_pages"]


def install_pages(app: FastAPI) -> None:
    """Add the pages, their assets and the offline API docs to ``app``.

    The pages are left out of the OpenAPI document (they answer HTML for people, not JSON
    for programs); each checks its own credentials (a signed link or the board's cookie).
    """
    assets.install(app)
    for module in (customer, board, manifest, streets):
        app.include_router(module.router, include_in_schema=False)
