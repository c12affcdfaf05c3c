"""Tests of routing.geojson: a solution as an RFC 7946 FeatureCollection, built by hand."""

from __future__ import annotations

import json
from typing import Any

import pytest

from routing import (
    Location,
    Problem,
    Route,
    Solution,
    SolveStatus,
    Stop,
    TimeWindow,
    Unserved,
    UnservedReason,
    Vehicle,
    VehicleKind,
    VehicleType,
    Visit,
)
from routing.geojson import (
    PALETTE,
    bbox,
    feature_collection,
    line_feature,
    point_feature,
    position,
    route_coordinates,
    solution_to_geojson,
)
from routing.matrix import straight_line_matrix

H = 3600


@pytest.fixture
def problem() -> Problem:
    """A depot, three stops in Helsinki, a closed-route van and an open-route courier."""
    locations = (
        Location("depot", 60.1700, 24.9400),
        Location("Bulevardi 9", 60.1650, 24.9380),
        Location("Kaivokatu 2", 60.1710, 24.9440),
        Location("Unioninkatu 29", 60.1690, 24.9510),
    )
    types = (
        VehicleType("van", VehicleKind.VAN, capacity=(100, 10), profile="car", co2_g_per_km=200),
        VehicleType("courier", VehicleKind.COURIER, capacity=(10, 2), profile="bike"),
    )
    return Problem(
        locations=locations,
        matrices={
            "car": straight_line_matrix(locations, speed_kmh=30),
            "bike": straight_line_matrix(locations, speed_kmh=15),
        },
        stops=(
            Stop("S1", 1, service=60, windows=(TimeWindow(8 * H, 10 * H),), demand=(5, 1)),
            Stop(
                "S2",
                2,
                service=60,
                windows=(TimeWindow(8 * H, 10 * H), TimeWindow(18 * H, 20 * H)),
                demand=(3, 1),
            ),
            Stop("S3", 3, service=60, demand=(2, 1), penalty=4.0),
        ),
        vehicle_types=types,
        vehicles=(
            Vehicle("van-1", "van", start=0, end=0, shift=TimeWindow(7 * H, 16 * H)),
            Vehicle("courier-1", "courier", start=0, end=None, shift=TimeWindow(16 * H, 21 * H)),
            Vehicle("van-2", "van", start=0, end=0),
        ),
        dimensions=("weight_g", "parcels"),
    )


def visit(stop: str, location: int, start: int, load: tuple[int, ...]) -> Visit:
    """A visit arriving 5 minutes before service starts."""
    return Visit(stop, location, start - 300, start, start + 60, 300, load, 700)


@pytest.fixture
def solution() -> Solution:
    """van-1 serves S1, courier-1 serves S2 in the evening, S3 is dropped."""
    van = Route(
        vehicle_id="van-1",
        vehicle_type="van",
        visits=(visit("S1", 1, 8 * H + 15 * 60, (0, 0)),),
        start_time=8 * H,
        end_time=8 * H + 40 * 60,
        load_at_start=(5, 1),
        distance=1_400,
        duration=40 * 60,
        cost=12.5,
        co2_g=280.0,
    )
    courier = Route(
        vehicle_id="courier-1",
        vehicle_type="courier",
        visits=(visit("S2", 2, 18 * H + 5 * 60, (0, 0)),),
        start_time=18 * H,
        end_time=18 * H + 6 * 60,
        load_at_start=(3, 1),
        distance=700,
        duration=6 * 60,
        cost=3.0,
        co2_g=0.0,
    )
    return Solution(
        routes=(van, courier),
        unserved=(
            Unserved("S3", UnservedReason.DROPPED_BY_OPTIMISER, "costs more than its penalty"),
        ),
        status=SolveStatus.FEASIBLE,
        objective=0,
        wall_time=0.1,
    )


def features(collection: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """The features of one kind."""
    return [f for f in collection["features"] if f["properties"]["kind"] == kind]


def test_is_a_json_feature_collection(problem: Problem, solution: Solution) -> None:
    collection = solution_to_geojson(problem, solution)
    assert collection["type"] == "FeatureCollection"
    assert json.loads(json.dumps(collection)) == collection
    for f in collection["features"]:
        assert f["type"] == "Feature"
        assert f["geometry"]["type"] in {"Point", "LineString"}


def test_one_line_string_per_route_in_lon_lat_order(problem: Problem, solution: Solution) -> None:
    routes = features(solution_to_geojson(problem, solution), "route")
    assert [f["geometry"]["type"] for f in routes] == ["LineString", "LineString"]
    van, courier = routes
    depot, s1, s2 = [24.94, 60.17], [24.938, 60.165], [24.944, 60.171]
    # A closed route returns to the depot; an open one ends at its last stop.
    assert van["geometry"]["coordinates"] == [depot, s1, depot]
    assert courier["geometry"]["coordinates"] == [depot, s2]


def test_route_properties(problem: Problem, solution: Solution) -> None:
    van = features(solution_to_geojson(problem, solution), "route")[0]["properties"]
    assert van | {"stop_ids": None, "breaks": None} == {
        "kind": "route",
        "vehicle": "van-1",
        "type": "van",
        "vehicle_kind": "van",
        "profile": "car",
        "stops": 1,
        "stop_ids": None,
        "km": 1.4,
        "duration_s": 2400,
        "start": "08:00",
        "end": "08:40",
        "breaks": None,
        "co2_kg": 0.28,
        "cost": 12.5,
        "colour": PALETTE[0],
    }
    assert van["stop_ids"] == ["S1"]


def test_visits_carry_eta_window_and_load(problem: Problem, solution: Solution) -> None:
    visits = {
        f["properties"]["stop"]: f
        for f in features(solution_to_geojson(problem, solution), "visit")
    }
    assert set(visits) == {"S1", "S2"}
    s2 = visits["S2"]
    assert s2["geometry"] == {"type": "Point", "coordinates": [24.944, 60.171]}
    p = s2["properties"]
    assert p["eta"] == "18:05"
    assert p["arrival"] == "18:00"
    assert p["window"] == "08:00-10:00 or 18:00-20:00"
    assert p["load"] == {"weight_g": 0, "parcels": 0}
    assert p["demand"] == {"weight_g": 3, "parcels": 1}
    assert p["vehicle"] == "courier-1"
    assert p["sequence"] == 1
    assert p["address"] == "Kaivokatu 2"
    assert p["colour"] == PALETTE[1]


def test_unserved_stops_with_their_reason(problem: Problem, solution: Solution) -> None:
    (s3,) = features(solution_to_geojson(problem, solution), "unserved")
    assert s3["geometry"]["coordinates"] == [24.951, 60.169]
    assert s3["properties"]["stop"] == "S3"
    assert s3["properties"]["reason"] == "dropped_by_optimiser"
    assert s3["properties"]["detail"] == "costs more than its penalty"
    assert s3["properties"]["window"] == "any time"
    assert s3["properties"]["optional"] is True


def test_depots_list_their_vehicles(problem: Problem, solution: Solution) -> None:
    (depot,) = features(solution_to_geojson(problem, solution), "depot")
    assert depot["geometry"]["coordinates"] == [24.94, 60.17]
    assert depot["properties"]["vehicles"] == ["van-1", "courier-1", "van-2"]


def test_bbox_and_summary(problem: Problem, solution: Solution) -> None:
    collection = solution_to_geojson(problem, solution)
    assert collection["bbox"] == [24.938, 60.165, 24.951, 60.171]
    assert collection["summary"] == {
        "status": "feasible",
        "stops": 3,
        "served": 2,
        "unserved": 1,
        "routes": 2,
        "vehicles": 3,
        "km": 2.1,
        "duration_s": 2760,
        "co2_kg": 0.28,
        "cost": 15.5,
    }


def test_paths_draw_legs_along_the_streets(problem: Problem, solution: Solution) -> None:
    calls: list[tuple[str, str, str]] = []

    def paths(profile: str, a: Location, b: Location) -> list[tuple[float, float]]:
        calls.append((profile, a.id, b.id))
        # (lat, lon) points, a bend half-way; legs share their end points.
        return [(a.lat, a.lon), (a.lat, b.lon), (b.lat, b.lon)]

    van, courier = features(solution_to_geojson(problem, solution, paths=paths), "route")
    assert calls == [
        ("car", "depot", "Bulevardi 9"),
        ("car", "Bulevardi 9", "depot"),
        ("bike", "depot", "Kaivokatu 2"),
    ]
    # Consecutive duplicates (the shared ends of legs) appear once.
    assert van["geometry"]["coordinates"] == [
        [24.94, 60.17],
        [24.938, 60.17],
        [24.938, 60.165],
        [24.94, 60.165],
        [24.94, 60.17],
    ]
    assert courier["geometry"]["coordinates"] == [[24.94, 60.17], [24.944, 60.17], [24.944, 60.171]]


def test_empty_path_falls_back_to_a_straight_line(problem: Problem, solution: Solution) -> None:
    routes = features(solution_to_geojson(problem, solution, paths=lambda *_: []), "route")
    assert routes[1]["geometry"]["coordinates"] == [[24.94, 60.17], [24.944, 60.171]]


def test_no_routes_still_a_valid_collection(problem: Problem) -> None:
    nothing = Solution((), (), SolveStatus.NO_STOPS, 0, 0.0)
    collection = solution_to_geojson(problem, nothing)
    assert [f["properties"]["kind"] for f in collection["features"]] == ["depot"]
    assert collection["summary"]["routes"] == 0
    assert json.loads(json.dumps(collection)) == collection


# -- the building blocks the API and the demo write their plans with ----------------------------

DEPOT = Location("depot", 60.17, 24.94)
SHOP = Location("shop", 60.165, 24.938)


def test_position_is_lon_lat_rounded_to_six_decimals() -> None:
    assert position(60.123456789, 24.987654321) == [24.987654, 60.123457]


def test_point_feature_keeps_its_properties_in_order() -> None:
    feature = point_feature(60.17, 24.94, kind="depot", id="HEL1")
    assert feature == {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [24.94, 60.17]},
        "properties": {"kind": "depot", "id": "HEL1"},
    }
    assert list(feature["properties"]) == ["kind", "id"]


def test_line_feature() -> None:
    feature = line_feature([[24.94, 60.17], [24.938, 60.165]], kind="route")
    assert feature["geometry"] == {
        "type": "LineString",
        "coordinates": [[24.94, 60.17], [24.938, 60.165]],
    }
    assert feature["properties"] == {"kind": "route"}


@pytest.mark.parametrize(
    ("waypoints", "expected"),
    [
        # A closed route: out and back.
        ([DEPOT, SHOP, DEPOT], [[24.94, 60.17], [24.938, 60.165], [24.94, 60.17]]),
        # Two stops at one place: the repeat is merged into one position.
        ([DEPOT, SHOP, SHOP], [[24.94, 60.17], [24.938, 60.165]]),
        # Nowhere to go: still two positions, as RFC 7946 asks of a LineString.
        ([DEPOT], [[24.94, 60.17], [24.94, 60.17]]),
        # Back where it started at once: the same.
        ([DEPOT, DEPOT], [[24.94, 60.17], [24.94, 60.17]]),
        # No waypoints, no line.
        ([], []),
    ],
)
def test_legs_merge_repeats_and_keep_two_positions(
    waypoints: list[Location], expected: list[list[float]]
) -> None:
    assert route_coordinates(waypoints) == expected


@pytest.mark.parametrize(
    ("waypoints", "expected"),
    [
        # Two stops at one place: a position each, so position n is waypoint n.
        ([DEPOT, SHOP, SHOP], [[24.94, 60.17], [24.938, 60.165], [24.938, 60.165]]),
        # An open route without stops: the depot alone.
        ([DEPOT], [[24.94, 60.17]]),
    ],
)
def test_waypoints_give_one_position_per_waypoint(
    waypoints: list[Location], expected: list[list[float]]
) -> None:
    assert route_coordinates(waypoints, geometry="waypoints") == expected


def test_legs_follow_the_paths_of_the_profile() -> None:
    calls: list[tuple[str, str, str]] = []

    def paths(profile: str, a: Location, b: Location) -> list[tuple[float, float]]:
        calls.append((profile, a.id, b.id))
        return [(a.lat, a.lon), (a.lat, b.lon), (b.lat, b.lon)]

    line = route_coordinates([DEPOT, SHOP], profile="bike", paths=paths)
    assert calls == [("bike", "depot", "shop")]
    assert line == [[24.94, 60.17], [24.938, 60.17], [24.938, 60.165]]


def test_waypoints_draw_no_paths() -> None:
    with pytest.raises(ValueError, match="geometry='legs'"):
        route_coordinates([DEPOT, SHOP], geometry="waypoints", paths=lambda *_: [])


def test_bbox_spans_points_and_lines() -> None:
    features = [
        point_feature(60.17, 24.94, kind="depot"),
        line_feature([[24.93, 60.16], [24.95, 60.18]], kind="route"),
    ]
    assert bbox(features) == [24.93, 60.16, 24.95, 60.18]
    assert bbox([]) == []


def test_feature_collection_puts_bbox_and_members_before_the_features() -> None:
    depot = point_feature(60.17, 24.94, kind="depot")
    collection = feature_collection([depot], summary={"routes": 0})
    assert list(collection) == ["type", "bbox", "summary", "features"]
    assert collection["bbox"] == [24.94, 60.17, 24.94, 60.17]
    assert collection["features"] == [depot]
    assert list(feature_collection([], summary={})) == ["type", "summary", "features"]
