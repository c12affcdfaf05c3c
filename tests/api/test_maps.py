"""Tests of api.cli.maps: the folium map of a plan's GeoJSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from api.cli.maps import UNSERVED_COLOUR, write_map


def point(lon: float, lat: float, **properties: Any) -> dict[str, Any]:
    """A GeoJSON Point feature."""
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": properties,
    }


@pytest.fixture
def plan() -> dict[str, Any]:
    """One route with two visits, a depot, one unserved stop; names with awkward characters."""
    route = {
        "type": "Feature",
        "geometry": {
            "type": "LineString",
            "coordinates": [[24.94, 60.17], [24.938, 60.165], [24.944, 60.171], [24.94, 60.17]],
        },
        "properties": {
            "kind": "route",
            "vehicle": "cargo-bike-7",
            "type": "cargo-bike",
            "stops": 2,
            "km": 2.5,
            "duration_s": 3_900,
            "start": "08:00",
            "end": "09:05",
            "co2_kg": 0.0125,
            "cost": 61.25,
            "colour": "#2ca02c",
        },
    }
    visits = [
        point(
            24.938,
            60.165,
            kind="visit",
            stop="S1",
            vehicle="cargo-bike-7",
            sequence=1,
            eta="08:10",
            window="08:00-10:00",
            address="T`UOMO Menswear, Bulevardi 1",  # a real shop name with a backtick
        ),
        point(
            24.944,
            60.171,
            kind="visit",
            stop="S2",
            vehicle="cargo-bike-7",
            sequence=2,
            eta="08:40",
            window="any time",
            address="Café ${x} \\ <b>&</b>",
        ),
    ]
    return {
        "type": "FeatureCollection",
        "bbox": [24.938, 60.165, 24.951, 60.171],
        "summary": {"stops": 3, "served": 2, "unserved": 1, "routes": 1, "km": 2.5},
        "features": [
            point(24.94, 60.17, kind="depot", id="depot", vehicles=["cargo-bike-7"]),
            route,
            *visits,
            point(
                24.951,
                60.169,
                kind="unserved",
                stop="S3",
                reason="window_unreachable",
                detail="no suitable vehicle can start service within its window(s) 21:00-22:00",
                window="21:00-22:00",
            ),
        ],
    }


def test_writes_a_leaflet_page(plan: dict[str, Any], tmp_path: Path) -> None:
    path = write_map(plan, tmp_path / "map.html")
    assert path == tmp_path / "map.html"
    html = path.read_text(encoding="utf-8")
    assert "leaflet" in html.lower()
    assert html.count("L.polyline(") == 1
    assert html.count("L.circleMarker(") == 3  # two visits and one unserved stop
    assert "L.control.layers(" in html


def test_route_stops_and_unserved_are_labelled(plan: dict[str, Any], tmp_path: Path) -> None:
    html = write_map(plan, tmp_path / "map.html").read_text(encoding="utf-8")
    assert "cargo-bike-7" in html
    assert "2 stops, 2.5 km" in html
    assert "CO2 0.01 kg" in html
    assert "ETA 08:10 (window 08:00-10:00)" in html
    assert UNSERVED_COLOUR in html
    assert "window_unreachable" in html
    assert "Unserved (1)" in html


def test_names_cannot_break_the_page(plan: dict[str, Any], tmp_path: Path) -> None:
    html = write_map(plan, tmp_path / "map.html").read_text(encoding="utf-8")
    # folium puts tooltips in JavaScript template literals: no raw backtick, ${ or backslash.
    assert "T&#96;UOMO" in html and "T`UOMO" not in html
    assert "&#36;{x}" in html and "${x}" not in html
    assert "&#92;" in html
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in html


def test_empty_plan_still_draws(tmp_path: Path) -> None:
    empty = {"type": "FeatureCollection", "features": []}
    assert write_map(empty, tmp_path / "empty.html").is_file()
