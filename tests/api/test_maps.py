"""The maps' data and files: the demo's offline map.html (api.cli.maps), the base layer
``GET /streets.geojson`` (api.pages.streets), and ``GET /plans/{id}/routes.geojson`` along the
streets (api.geo.RouteLines) on an app that plans on the demo's road graph."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.app import create_app
from api.cli.demo import GRAPH_FILE, run_demo
from api.cli.maps import ASSETS_DIR, write_map
from api.geo import RouteLines, route_lines
from api.pages.assets import APP_ASSETS, LEAFLET_ASSETS
from orchestrator.access.keys import create_api_key
from orchestrator.models import Plan
from orchestrator.planning.travel import RoadGraphTravel
from orchestrator.settings import Settings
from routing.model import Location
from simulation.cities.synthetic import generate_city

DAY = date(2026, 12, 4)  # winter: Helsinki is at +02:00


def point(lon: float, lat: float, **properties: Any) -> dict[str, Any]:
    """A GeoJSON Point feature."""
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": properties,
    }


@pytest.fixture
def plan() -> dict[str, Any]:
    """One route with two stops, a depot, one unserved order; names that try to break out."""
    route = {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [[24.94, 60.17], [24.938, 60.165]]},
        "properties": {"kind": "route", "vehicle": "cargo-bike-7", "stops": 2, "colour": "#2ca02c"},
    }
    return {
        "type": "FeatureCollection",
        "features": [
            point(24.94, 60.17, kind="depot", id="depot"),
            route,
            point(24.938, 60.165, kind="visit", vehicle="cargo-bike-7", sequence=1, eta="08:10"),
            point(24.944, 60.171, kind="visit", address="</script><script>alert(1)</script>"),
            point(24.951, 60.169, kind="unserved", reason="window_unreachable", detail="late"),
        ],
    }


# -- the demo's offline file -----------------------------------------------------------------


def test_map_html_is_self_contained_with_its_assets_beside(
    plan: dict[str, Any], tmp_path: Path
) -> None:
    streets = {"type": "FeatureCollection", "features": []}
    path = write_map(plan, tmp_path / "map.html", streets=streets)
    page = path.read_text(encoding="utf-8")
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # no CDN, no remote anything
    for source, name in (
        (LEAFLET_ASSETS / "leaflet.js", "leaflet.js"),
        (LEAFLET_ASSETS / "leaflet.css", "leaflet.css"),
        (APP_ASSETS / "map.js", "map.js"),
        (APP_ASSETS / "map.css", "map.css"),
    ):
        assert (tmp_path / ASSETS_DIR / name).read_bytes() == source.read_bytes()
        assert f"{ASSETS_DIR}/{name}" in page
    assert page.index("leaflet.js") < page.index("map.js")
    assert "data-tile-url" not in page


def test_the_data_is_inline_and_cannot_end_its_script(plan: dict[str, Any], tmp_path: Path) -> None:
    page = write_map(plan, tmp_path / "map.html").read_text(encoding="utf-8")
    assert page.count("</script>") == 3  # the data and the two scripts: nothing injected
    routes = re.search(r"<script type=\"application/json\" data-map-routes>(.*?)</script>", page)
    assert routes is not None and json.loads(routes.group(1)) == plan
    assert "data-map-streets" not in page  # no base layer given


def test_a_tile_url_is_handed_to_the_map(plan: dict[str, Any], tmp_path: Path) -> None:
    url = "https://tiles.example.org/{z}/{x}/{y}.png?a=1&b=2"
    page = write_map(plan, tmp_path / "map.html", tile_url=url).read_text(encoding="utf-8")
    assert 'data-tile-url="https://tiles.example.org/{z}/{x}/{y}.png?a=1&amp;b=2"' in page


# -- an app on the demo's road graph ---------------------------------------------------------


@pytest.fixture(scope="module")
def road_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str, int]]:
    """``lastmile demo`` on 15 orders, served on its street graph: client, planner key, plan."""
    folder = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{folder / 'demo.db'}"
    said: list[str] = []
    code = run_demo(
        orders=15,
        time_limit=1.0,
        out_dir=folder,
        database_url=url,
        day=DAY,
        say=lambda text="", end="\n": said.append(text),
    )
    assert code == 0, "\n".join(said)
    app = create_app(Settings(database_url=url, road_graph=folder / GRAPH_FILE))
    with TestClient(app) as client, Session(app.state.engine) as session:
        key = create_api_key(session, "planner")
        # The demo's plan of DAY (its store also holds a delivered past day).
        plan_id = session.exec(select(Plan.id).where(Plan.service_day == DAY)).one()
        assert plan_id is not None
        yield client, key, plan_id


def test_streets_are_public_small_and_revalidated(road_app: tuple[TestClient, str, int]) -> None:
    client, _, _ = road_app
    response = client.get("/streets.geojson")  # no key: the public street graph
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/geo+json")
    assert "max-age" in response.headers["cache-control"]
    body = response.json()
    assert body["type"] == "FeatureCollection" and len(body["features"]) > 10
    assert {f["geometry"]["type"] for f in body["features"]} == {"MultiLineString"}
    assert len(response.content) < 40_000  # measured 20.6 kB for the synthetic city
    etag = response.headers["etag"]
    again = client.get("/streets.geojson", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert client.get("/streets.geojson", headers={"If-None-Match": '"x"'}).status_code == 200


def test_streets_404_when_the_app_plans_on_straight_lines(client: TestClient) -> None:
    response = client.get("/streets.geojson")
    assert response.status_code == 404
    assert "LASTMILE_ROAD_GRAPH" in response.json()["detail"]


def geojson(road_app: tuple[TestClient, str, int]) -> dict[str, Any]:
    """The demo plan's routes.geojson."""
    client, key, plan_id = road_app
    response = client.get(
        f"/plans/{plan_id}/routes.geojson", headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_routes_follow_the_streets(road_app: tuple[TestClient, str, int]) -> None:
    body = geojson(road_app)
    routes = [f for f in body["features"] if f["properties"]["kind"] == "route"]
    stops = [f for f in body["features"] if f["properties"]["kind"] == "stop"]
    depot = next(f for f in body["features"] if f["properties"]["kind"] == "depot")
    assert routes and stops
    for route in routes:
        line = route["geometry"]["coordinates"]
        own = [s for s in stops if s["properties"]["route_id"] == route["properties"]["route_id"]]
        assert len(line) > len(own) + 2  # turns at street corners, not one segment per leg
        assert line[0] == depot["geometry"]["coordinates"]
        for stop in own:  # the line passes through each of its stops
            assert stop["geometry"]["coordinates"] in line
    colours = [r["properties"]["colour"] for r in routes]
    assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in colours)
    assert len(set(colours)) == len(colours)


def test_times_carry_the_depot_offset(road_app: tuple[TestClient, str, int]) -> None:
    body = geojson(road_app)
    times = [
        f["properties"][name]
        for f in body["features"]
        for name in ("eta", "service_start", "start", "end")
        if name in f["properties"]
    ]
    assert times
    for text in times:
        assert text.endswith("+02:00"), text  # Europe/Helsinki in December, not +00:00
        assert datetime.fromisoformat(text).date() == DAY


def test_route_lines_are_kept_per_plan(road_app: tuple[TestClient, str, int]) -> None:
    client, _, _ = road_app
    first = geojson(road_app)
    assert isinstance(client.app, FastAPI)
    lines = route_lines(client.app)
    assert lines is not None and len(lines) == 1  # the demo's one plan
    assert geojson(road_app) == first


class CountingPaths:
    """The street graph's path rule, counting the legs it is asked to draw."""

    def __init__(self) -> None:
        self.travel = RoadGraphTravel(generate_city(0).graph)
        self.legs = 0

    def __call__(self, profile: str, a: Location, b: Location) -> Any:
        self.legs += 1
        return self.travel.path(profile, a, b)


def straight_plan(*positions: list[float]) -> dict[str, Any]:
    """A collection with one route (id 1) through ``positions``."""
    line = {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [list(p) for p in positions]},
        "properties": {"kind": "route", "route_id": 1},
    }
    return {"type": "FeatureCollection", "features": [line]}


def test_route_lines_cache_is_bounded_and_redraws_a_moved_stop() -> None:
    paths = CountingPaths()
    lines = RouteLines(paths, plans=2)
    a, b, c = [24.915, 60.158], [24.925, 60.162], [24.93, 60.17]
    drawn = lines.draw(1, straight_plan(a, b, a), {1: "car"})
    assert paths.legs == 2 and len(drawn["features"][0]["geometry"]["coordinates"]) > 3
    assert lines.draw(1, straight_plan(a, b, a), {1: "car"}) == drawn
    assert paths.legs == 2  # kept: no leg drawn again
    lines.draw(1, straight_plan(a, c, a), {1: "car"})  # a stop moved: redrawn
    assert paths.legs == 4
    lines.draw(2, straight_plan(a, b), {})
    lines.draw(3, straight_plan(a, c), {})
    assert len(lines) == 2  # plan 1, the least recently drawn, went first
