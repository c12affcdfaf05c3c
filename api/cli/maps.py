"""Draw a plan's GeoJSON as an HTML map that works offline, opened from ``file://``.

:func:`write_map` writes ``map.html`` and, beside it, ``assets/``: Leaflet's ``leaflet.js``
and ``leaflet.css`` copied from the installed ``xstatic-leaflet`` package, and the pages' own
``map.js`` and ``map.css`` (:file:`api/pages/static`) — copied at run time, never committed
copies. The routes and the street graph (the base layer) are embedded in the page as JSON, so
nothing is fetched: the page loads no CDN, no font and no tile, unless a tile URL is given
(``LASTMILE_TILE_URL``), whose tiles are then drawn under the streets.

``map.js`` does the drawing, the same script every page of the API uses: one colour per
route, the stops with their ETA, the unserved orders in red with their reason, the depot, a
legend, the view fitted to the plan; touch zoom on a phone.
"""

from __future__ import annotations

import html
import json
import shutil
from pathlib import Path
from typing import Any

from api.pages.assets import APP_ASSETS, LEAFLET_ASSETS

__all__ = ["ASSETS_DIR", "write_map"]

ASSETS_DIR = "assets"
"""The folder beside the map that holds its scripts and styles."""

_ASSETS = (
    (LEAFLET_ASSETS / "leaflet.js", "leaflet.js"),
    (LEAFLET_ASSETS / "leaflet.css", "leaflet.css"),
    (APP_ASSETS / "map.js", "map.js"),
    (APP_ASSETS / "map.css", "map.css"),
)


def write_map(
    geojson: dict[str, Any],
    path: str | Path,
    *,
    streets: dict[str, Any] | None = None,
    tile_url: str | None = None,
    title: str = "lastmile plan",
) -> Path:
    """Write the plan as an HTML map beside its ``assets/`` folder.

    Parameters
    ----------
    geojson
        The plan's ``FeatureCollection``: features of kind ``route``, ``stop`` (or ``visit``),
        ``depot``, ``unserved`` (:func:`api.cli.demo.plan_geojson`,
        ``GET /plans/{id}/routes.geojson``); a ``summary`` member heads the legend.
    path
        The HTML file to write; its folder must exist. ``assets/`` is written beside it
        (its four files replaced).
    streets
        The base layer (:func:`routing.geojson.streets_to_geojson`), or ``None``.
    tile_url
        A tile URL template (``{z}/{x}/{y}``) to draw under the streets, or ``None``: then
        the page loads nothing from any host.
    title
        The page's title.

    Returns
    -------
    Path
        The path written.
    """
    out = Path(path)
    assets = out.parent / ASSETS_DIR
    assets.mkdir(exist_ok=True)
    for source, name in _ASSETS:
        shutil.copyfile(source, assets / name)
    tiles = f' data-tile-url="{html.escape(tile_url)}"' if tile_url else ""
    data = [f'<script type="application/json" data-map-routes>{_json(geojson)}</script>']
    if streets is not None:
        data.append(f'<script type="application/json" data-map-streets>{_json(streets)}</script>')
    body = "\n".join(data)
    page = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="stylesheet" href="{ASSETS_DIR}/leaflet.css">
<link rel="stylesheet" href="{ASSETS_DIR}/map.css">
<style>html, body {{ height: 100%; margin: 0; }} #map {{ height: 100%; }}</style>
</head>
<body>
<div id="map" data-map data-testid="map"{tiles}>
{body}
</div>
<script src="{ASSETS_DIR}/leaflet.js"></script>
<script src="{ASSETS_DIR}/map.js"></script>
</body>
</html>
"""
    out.write_text(page, encoding="utf-8")
    return out


def _json(value: dict[str, Any]) -> str:
    """JSON that cannot end its ``<script>`` element: ``<`` is written ``\\u003c``."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
