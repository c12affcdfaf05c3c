"""Draw a plan's GeoJSON (:func:`routing.geojson.solution_to_geojson`) as an interactive map.

One HTML file made with folium: a layer per route (its line and its stops, toggled together
in the layer control), the depots, the unserved stops in red with their reason, and a legend
with the totals. The file is self-contained apart from Leaflet's JavaScript and CSS and the
background tiles, which the browser loads from their CDNs: offline, the file still holds every
route and stop but shows a blank page.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import folium
from branca.element import Figure

from routing.geojson import bbox as bounding_box

__all__ = ["UNSERVED_COLOUR", "build_map", "write_map"]

UNSERVED_COLOUR = "#d62728"
"""Colour of unserved stops (kept out of the route palette)."""

_TILES = "OpenStreetMap"  # needs no API key (CartoDB tiles now do)
_STOP_RADIUS_PX = 5
_ROUTE_WEIGHT_PX = 4


def write_map(geojson: dict[str, Any], path: str | Path) -> Path:
    """Write the plan as an HTML map.

    Parameters
    ----------
    geojson
        A ``FeatureCollection`` from :func:`routing.geojson.solution_to_geojson`.
    path
        The HTML file to write; its folder must exist.

    Returns
    -------
    Path
        The path written.
    """
    out = Path(path)
    build_map(geojson).save(str(out))
    return out


def build_map(geojson: dict[str, Any]) -> folium.Map:
    """The folium map of a plan, without writing it (see :func:`write_map`)."""
    features = geojson.get("features", [])
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for f in features:
        by_kind.setdefault(f["properties"].get("kind", ""), []).append(f)

    bbox = geojson.get("bbox") or bounding_box(features)
    if bbox:
        west, south, east, north = bbox
        centre = [(south + north) / 2.0, (west + east) / 2.0]
    else:
        centre = [0.0, 0.0]
    fmap = folium.Map(location=centre, zoom_start=14, tiles=_TILES, control_scale=True)
    if bbox:
        fmap.fit_bounds([[south, west], [north, east]])

    visits: dict[str, list[dict[str, Any]]] = {}
    for f in by_kind.get("visit", []):
        visits.setdefault(f["properties"]["vehicle"], []).append(f)
    for f in by_kind.get("route", []):
        _add_route(fmap, f, visits.get(f["properties"]["vehicle"], []))

    unserved = by_kind.get("unserved", [])
    if unserved:
        group = folium.FeatureGroup(name=f"Unserved ({len(unserved)})", show=True)
        for f in unserved:
            p = f["properties"]
            text = (
                f"<b>{_e(p['stop'])}</b> unserved: {_e(p['reason'])}<br>{_e(p['detail'])}"
                f"<br>window {_e(p.get('window', ''))}"
            )
            folium.CircleMarker(
                location=_latlon(f),
                radius=_STOP_RADIUS_PX + 1,
                color=UNSERVED_COLOUR,
                fill=True,
                fill_color=UNSERVED_COLOUR,
                fill_opacity=0.9,
                tooltip=folium.Tooltip(text),
            ).add_to(group)
        group.add_to(fmap)

    for f in by_kind.get("depot", []):
        p = f["properties"]
        folium.Marker(
            location=_latlon(f),
            tooltip=folium.Tooltip(
                f"<b>Depot {_e(p['id'])}</b><br>{len(p['vehicles'])} vehicles: "
                + _e(", ".join(p["vehicles"]))
            ),
            icon=folium.Icon(color="black", icon="home"),
        ).add_to(fmap)

    root = fmap.get_root()
    if isinstance(root, Figure):  # always, for a map not yet placed in another figure
        root.html.add_child(folium.Element(_legend(geojson, by_kind.get("route", []))))
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap


def _add_route(fmap: folium.Map, route: dict[str, Any], visits: list[dict[str, Any]]) -> None:
    p = route["properties"]
    colour = p["colour"]
    label = (
        f"<b>{_e(p['vehicle'])}</b> ({_e(p['type'])})<br>{p['stops']} stops, {p['km']:.1f} km, "
        f"{_hm(p['duration_s'])} h, {p['start']}-{p['end']}<br>CO2 {p['co2_kg']:.2f} kg, "
        f"cost {p['cost']:.2f}"
    )
    group = folium.FeatureGroup(
        name=f'<span style="color:{colour}">&#9632;</span> {_e(p["vehicle"])} '
        f"({p['stops']} stops, {p['km']:.1f} km)",
        show=True,
    )
    folium.PolyLine(  # type: ignore[no-untyped-call]  # folium leaves PolyLine.__init__ unannotated
        locations=[[lat, lon] for lon, lat in route["geometry"]["coordinates"]],
        color=colour,
        weight=_ROUTE_WEIGHT_PX,
        opacity=0.85,
        tooltip=folium.Tooltip(label),
        popup=folium.Popup(label, max_width=320),
    ).add_to(group)
    for v in visits:
        q = v["properties"]
        text = (
            f"<b>{_e(q['stop'])}</b> #{q['sequence']} of {_e(q['vehicle'])}<br>"
            f"ETA {_e(q['eta'])} (window {_e(q['window'])})<br>{_e(q.get('address', ''))}"
        )
        folium.CircleMarker(
            location=_latlon(v),
            radius=_STOP_RADIUS_PX,
            color=colour,
            weight=1,
            fill=True,
            fill_color=colour,
            fill_opacity=0.9,
            tooltip=folium.Tooltip(text),
        ).add_to(group)
    group.add_to(fmap)


def _legend(geojson: dict[str, Any], routes: list[dict[str, Any]]) -> str:
    s = geojson.get("summary", {})
    rows = "".join(
        f'<div><span style="color:{r["properties"]["colour"]}">&#9644;</span> '
        f"{_e(r['properties']['vehicle'])} &middot; {r['properties']['stops']} stops</div>"
        for r in routes
    )
    head = (
        f"<b>lastmile plan</b><br>{s.get('served', '?')}/{s.get('stops', '?')} stops served on "
        f"{s.get('routes', len(routes))} routes<br>{s.get('km', 0):.1f} km &middot; "
        f"{s.get('co2_kg', 0):.1f} kg CO2 &middot; cost {s.get('cost', 0):.2f}"
        if s
        else "<b>lastmile plan</b>"
    )
    unserved = (
        f'<div><span style="color:{UNSERVED_COLOUR}">&#9679;</span> unserved '
        f"({s['unserved']})</div>"
        if s.get("unserved")
        else ""
    )
    return (
        '<div style="position:fixed; bottom:24px; left:12px; z-index:9999; background:white;'
        " padding:8px 10px; border:1px solid #999; border-radius:4px; font:12px sans-serif;"
        ' max-height:60%; overflow:auto">'
        f"{head}<hr style='margin:4px 0'>{rows}{unserved}</div>"
    )


def _latlon(feature: dict[str, Any]) -> list[float]:
    lon, lat = feature["geometry"]["coordinates"]
    return [lat, lon]


def _hm(seconds: int) -> str:
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}"


def _e(value: object) -> str:
    """Text made safe for folium's tooltips and popups.

    folium writes them into JavaScript template literals, where a backtick, ``${`` or a
    backslash in a name ("T`UOMO Menswear" is a real shop in Helsinki) would break the page;
    they become HTML entities, which the browser shows as the characters.
    """
    text = html.escape(str(value))
    return text.replace("\\", "&#92;").replace("`", "&#96;").replace("$", "&#36;")
