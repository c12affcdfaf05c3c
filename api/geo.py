"""A stored plan as GeoJSON (RFC 7946): routes, stops with ETAs, the depot, unserved orders.

Written with the building blocks of :mod:`routing.geojson`, the project's one GeoJSON
writer. Coordinates are ``[lon, lat]`` in WGS84 degrees, six decimals (about 10 cm). Every
feature has a ``kind`` property: ``depot``, ``route`` (a ``LineString`` from the depot
through the stops, back to the depot unless the vehicle's route is open, with a ``colour``
``#rrggbb`` per route), ``stop`` (a ``Point`` with ``sequence`` 1-based, ``eta`` ISO 8601,
``order_id``, ``status``) or ``unserved`` (a ``Point`` at the chosen place, when there is one,
with ``reason`` and ``detail``). Times are ISO 8601 in the depot's zone with its offset
(``2025-03-03T10:41:00+02:00`` for a Helsinki depot), as the depot's planner reads them. The
collection carries a ``plan`` foreign member (``id``, ``depot_id``, ``status``) and no
``bbox``.

A route's line, as :func:`plan_geojson` writes it, has one position per waypoint: the *n*-th
position after the depot is the *n*-th stop with a place. When the app plans on a road graph
:class:`RouteLines` redraws it along the streets, leg by leg, the way the plan was timed
(:func:`orchestrator.planning.travel.paths_for`; a straight segment where the graph has no
path): the line then has more positions than stops, and the stops are the ``stop`` points.
The street lines of a plan are kept per plan id (a stored plan's geometry does not change;
the cache is bounded and checks the waypoints, so a stop moved to another place is redrawn).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from orchestrator.models import Depot, Place, Plan, Route, RouteStop, UnservedOrder
from orchestrator.planning.travel import TravelTimes, paths_for
from routing.geojson import PALETTE, PathFunction, line_feature, point_feature, route_coordinates
from routing.model import Location

__all__ = ["GEOJSON_MEDIA_TYPE", "GeoJSONResponse", "RouteLines", "plan_geojson", "route_lines"]

GEOJSON_MEDIA_TYPE = "application/geo+json"


class GeoJSONResponse(JSONResponse):
    """A JSON response served as ``application/geo+json`` (RFC 7946)."""

    media_type = GEOJSON_MEDIA_TYPE


def plan_geojson(
    plan: Plan,
    depot: Depot,
    routes: Sequence[tuple[Route, bool, Sequence[tuple[RouteStop, Place | None]]]],
    unserved: Sequence[tuple[UnservedOrder, Place | None]],
) -> dict[str, Any]:
    """The plan as a ``FeatureCollection``.

    Parameters
    ----------
    plan, depot
        The plan and its depot.
    routes
        Per route: the route, whether it is open (ends at its last stop), and its stops in
        order with their delivery places.
    unserved
        The unserved orders with their places (``None`` when no place was chosen).
    """
    zone = ZoneInfo(depot.timezone)

    def local(at: datetime) -> str:
        return at.astimezone(zone).isoformat()

    home = Location(depot.code, depot.lat, depot.lon)
    features: list[dict[str, Any]] = [
        point_feature(home.lat, home.lon, kind="depot", code=depot.code, name=depot.name)
    ]
    for k, (route, open_route, stops) in enumerate(routes):
        waypoints = [home]
        for stop, place in stops:
            if place is None:
                continue
            waypoints.append(Location(f"place-{place.id}", place.lat, place.lon))
            features.append(
                point_feature(
                    place.lat,
                    place.lon,
                    kind="stop",
                    route_id=route.id,
                    vehicle=route.vehicle_id,
                    sequence=stop.sequence + 1,
                    order_id=stop.order_id,
                    eta=local(stop.arrival_at),
                    service_start=local(stop.service_start_at),
                    status=stop.status.value,
                )
            )
        if not open_route:
            waypoints.append(home)
        features.append(
            line_feature(
                route_coordinates(waypoints, geometry="waypoints"),
                kind="route",
                route_id=route.id,
                vehicle=route.vehicle_id,
                type=route.vehicle_type,
                stops=len(stops),
                distance_m=route.distance_m,
                duration_s=route.duration_s,
                start=local(route.start_at),
                end=local(route.end_at),
                co2_g=route.co2_g,
                cost=route.cost,
                colour=PALETTE[k % len(PALETTE)],
            )
        )
    for item, place in unserved:
        if place is not None:
            features.append(
                point_feature(
                    place.lat,
                    place.lon,
                    kind="unserved",
                    order_id=item.order_id,
                    reason=item.reason,
                    detail=item.detail,
                )
            )
    return {
        "type": "FeatureCollection",
        "features": features,
        "plan": {"id": plan.id, "depot_id": plan.depot_id, "status": plan.status.value},
    }


_PLANS_KEPT = 64
"""Plans whose street lines a :class:`RouteLines` keeps (a 2,000-stop day is about 0.5 MB)."""


class RouteLines:
    """Redraws a plan's route lines along the streets, keeping them per plan id.

    Parameters
    ----------
    paths
        How to draw a leg (``(profile, a, b) -> [(lat, lon), ...]``, ``[]`` for straight),
        typically the app's travel provider's (:func:`orchestrator.planning.travel.paths_for`).
    plans
        Plans kept; the least recently drawn goes first.
    """

    def __init__(self, paths: PathFunction, *, plans: int = _PLANS_KEPT) -> None:
        self._paths = paths
        self._plans = plans
        self._kept: OrderedDict[int, tuple[Any, dict[int, list[list[float]]]]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._kept)

    def draw(
        self, plan_id: int, geojson: dict[str, Any], profiles: Mapping[int, str]
    ) -> dict[str, Any]:
        """``geojson`` (from :func:`plan_geojson`) with its route lines along the streets.

        Parameters
        ----------
        plan_id
            The plan's id, the key its lines are kept under.
        geojson
            The plan's ``FeatureCollection``, each route a line through its waypoints.
        profiles
            The travel profile (``"car"``, ``"bike"``, ``"walk"``) per route id; a route
            without one is drawn for ``"car"``.

        Returns
        -------
        dict
            A new collection; features other than routes are the same objects.
        """
        routes = [f for f in geojson["features"] if f["properties"].get("kind") == "route"]
        key = tuple(
            (
                f["properties"]["route_id"],
                profiles.get(f["properties"]["route_id"], "car"),
                tuple(map(tuple, f["geometry"]["coordinates"])),
            )
            for f in routes
        )
        with self._lock:
            kept = self._kept.get(plan_id)
            if kept is not None and kept[0] == key:
                self._kept.move_to_end(plan_id)
                lines = kept[1]
            else:
                lines = None
        if lines is None:
            lines = {
                route_id: route_coordinates(
                    [Location("", lat, lon) for lon, lat in waypoints],
                    profile=profile,
                    paths=self._paths,
                )
                for route_id, profile, waypoints in key
            }
            with self._lock:
                self._kept[plan_id] = (key, lines)
                self._kept.move_to_end(plan_id)
                while len(self._kept) > self._plans:
                    self._kept.popitem(last=False)
        features = [
            {
                **f,
                "geometry": {
                    "type": "LineString",
                    "coordinates": lines[f["properties"]["route_id"]],
                },
            }
            if f["properties"].get("kind") == "route"
            else f
            for f in geojson["features"]
        ]
        return {**geojson, "features": features}


_LOCK = threading.Lock()


def route_lines(app: FastAPI) -> RouteLines | None:
    """The app's :class:`RouteLines`, made on first use from ``app.state.travel``; ``None``
    when the app plans on straight lines (its routes are drawn as they are timed)."""
    with _LOCK:
        if not hasattr(app.state, "route_lines"):
            travel: TravelTimes = app.state.travel
            paths = paths_for(travel)
            app.state.route_lines = None if paths is None else RouteLines(paths)
        lines: RouteLines | None = app.state.route_lines
        return lines
