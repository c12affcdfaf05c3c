"""Every file a page loads, served from this package or from packages installed with it.

No page loads anything from another host (the browser tests assert it):

=================  ==============================================  ============================
URL prefix         what                                            from
=================  ==============================================  ============================
``/assets/app/``   the pages' CSS and JavaScript, written here     ``api/pages/static``
``/assets/leaflet/``  Leaflet's ``leaflet.js``, ``leaflet.css``,   PyPI ``xstatic-leaflet``
                   ``images/``
``/assets/docs/``  Swagger UI and ReDoc bundles                    PyPI ``fastapi-offline``
=================  ==============================================  ============================

``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) are served here from those local bundles, so
they are no longer blank pages offline; :func:`api.app.create_app` turns FastAPI's CDN-backed
versions off.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import fastapi_offline
import xstatic.pkg.leaflet
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

__all__ = ["APP_ASSETS", "DOCS_ASSETS", "LEAFLET_ASSETS", "install"]

APP_ASSETS = Path(__file__).parent / "static"
"""The pages' own CSS and JavaScript."""

LEAFLET_ASSETS = Path(xstatic.pkg.leaflet.BASE_DIR)
"""Leaflet as the ``xstatic-leaflet`` package installs it (``leaflet.js``, ``leaflet.css``)."""

DOCS_ASSETS = Path(fastapi_offline.__file__).parent / "static"
"""Swagger UI's and ReDoc's bundles as the ``fastapi-offline`` package installs them."""


_REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
"""The one remote file ReDoc's bundle loads (the "powered by" logo); served local instead."""


@cache
def _redoc_bundle() -> bytes:
    """ReDoc's bundle with its one remote image pointed at the local favicon."""
    text = (DOCS_ASSETS / "redoc.standalone.js").read_bytes()
    return text.replace(_REDOC_LOGO.encode(), b"/assets/docs/favicon.png")


def install(app: FastAPI) -> None:
    """Mount the assets and serve ``/docs`` and ``/redoc`` from them."""

    @app.get("/assets/docs/redoc.standalone.js", include_in_schema=False)
    async def redoc_bundle() -> Response:
        return Response(
            _redoc_bundle(),
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    app.mount("/assets/app", StaticFiles(directory=APP_ASSETS), name="app-assets")
    app.mount("/assets/leaflet", StaticFiles(directory=LEAFLET_ASSETS), name="leaflet")
    app.mount("/assets/docs", StaticFiles(directory=DOCS_ASSETS), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"
    title = app.title

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} — API",
            swagger_js_url="/assets/docs/swagger-ui-bundle.js",
            swagger_css_url="/assets/docs/swagger-ui.css",
            swagger_favicon_url="/assets/docs/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} — API reference",
            redoc_js_url="/assets/docs/redoc.standalone.js",
            redoc_favicon_url="/assets/docs/favicon.png",
            with_google_fonts=False,
        )
