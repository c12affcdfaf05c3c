"""A stored plan as GeoJSON (RFC 7946): routes, stops with ETAs, the depot, unserved orders.

Written with the building blocks of :mod:`routing.geojson`, the project's one GeoJSON
writer. Coordinates are ``[lon, lat]`` in WGS84 degrees, six decimals (about 10 cm). Every
feature has a ``kind`` property: ``depot``, ``route`` (a ``LineString`` from the depot
through the stops, back to the depot unless the vehicle's route is open; one position per
waypoint, so the *n*-th position after the depot is the *n*-th stop with a place), ``stop``
(a ``Point`` with ``sequence`` 1-based, ``eta`` ISO 8601, ``order_id``, ``status``) or
``unserved`` (a ``Point`` at the chosen place, when there is one, with ``reason`` and
``detail``). The collection carries a ``plan`` foreign member (``id``, ``depot_id``,
``status``) and no ``bbox``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.responses import JSONResponse

from orchestrator.models import Depot, Place, Plan, Route, RouteStop, UnservedOrder
from routing.geojson import line_feature, point_feature, route_coordinates
from routing.model import Location

__all__ = ["GEOJSON_MEDIA_TYPE", "GeoJSONResponse", "plan_geojson"]

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
    home = Location(depot.code, depot.lat, depot.lon)
    features: list[dict[str, Any]] = [
        point_feature(home.lat, home.lon, kind="depot", code=depot.code, name=depot.name)
    ]
    for route, open_route, stops in routes:
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
                    eta=stop.arrival_at.isoformat(),
                    service_start=stop.service_start_at.isoformat(),
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
                start=route.start_at.isoformat(),
                end=route.end_at.isoformat(),
                co2_g=route.co2_g,
                cost=route.cost,
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
