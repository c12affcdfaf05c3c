"""Tests of routing.geojson.streets_to_geojson: the street graph as the maps' base layer."""

from __future__ import annotations

import itertools
import json

import networkx as nx
import numpy as np
import pytest

from routing.geojson import streets_to_geojson
from simulation.cities.synthetic import generate_city


def street(graph: nx.DiGraph, points: list[tuple[float, float]], name: str, **flags: bool) -> None:
    """Add a two-way street through ``(lat, lon)`` points, nodes named by their position."""
    for a, b in itertools.pairwise(points):
        for u, v in ((a, b), (b, a)):
            graph.add_node(u, lat=u[0], lon=u[1])
            graph.add_node(v, lat=v[0], lon=v[1])
            graph.add_edge(u, v, name=name, **flags)


@pytest.fixture
def town() -> nx.DiGraph:
    """A straight avenue of five nodes crossed by a bent street, and a footpath."""
    g = nx.DiGraph()
    street(g, [(60.0, 24.0 + 0.001 * k) for k in range(5)], "Avenue")
    street(g, [(59.999, 24.002), (60.0, 24.002), (60.001, 24.0025)], "Bent")
    street(g, [(60.002, 24.0), (60.002, 24.004)], "Footpath", car=False)
    return g


def test_one_feature_per_street_name_drive_edges_only(town: nx.DiGraph) -> None:
    fc = streets_to_geojson(town)
    names = [f["properties"]["name"] for f in fc["features"]]
    assert names == ["Avenue", "Bent"]  # the footpath is not on the drive graph
    assert {f["geometry"]["type"] for f in fc["features"]} == {"MultiLineString"}
    assert fc["bbox"] == [24.0, 59.999, 24.004, 60.001]


def test_a_straight_street_is_one_line_of_two_positions(town: nx.DiGraph) -> None:
    avenue = streets_to_geojson(town)["features"][0]
    # five collinear nodes, both directions: one line, end to end
    assert avenue["geometry"]["coordinates"] == [[[24.0, 60.0], [24.004, 60.0]]]


def test_a_bend_bigger_than_the_tolerance_stays(town: nx.DiGraph) -> None:
    bent = streets_to_geojson(town)["features"][1]["geometry"]["coordinates"]
    assert len(bent) == 1 and len(bent[0]) == 3  # the kink (~28 m off the chord) is kept
    flat = streets_to_geojson(town, tolerance_m=50.0)["features"][1]["geometry"]["coordinates"]
    assert len(flat[0]) == 2


def test_positions_are_rounded_to_five_decimals() -> None:
    g = nx.DiGraph()
    street(g, [(60.1234567, 24.7654321), (60.1244567, 24.7664321)], "Short")
    (line,) = streets_to_geojson(g)["features"][0]["geometry"]["coordinates"]
    assert line == [[24.76543, 60.12346], [24.76643, 60.12446]]


def test_a_ring_with_no_junction_is_drawn() -> None:
    g = nx.DiGraph()
    street(g, [(60.0, 24.0), (60.001, 24.0), (60.001, 24.001), (60.0, 24.001), (60.0, 24.0)], "")
    (feature,) = streets_to_geojson(g)["features"]
    assert feature["properties"]["name"] is None
    (ring,) = feature["geometry"]["coordinates"]
    assert len(ring) == 5 and ring[0] == ring[-1]


def test_empty_graph_gives_an_empty_collection() -> None:
    assert streets_to_geojson(nx.Graph()) == {"type": "FeatureCollection", "features": []}


def test_the_synthetic_city_is_small_and_every_street_corner_is_on_a_line() -> None:
    city = generate_city(0)
    fc = streets_to_geojson(city.graph)
    body = json.dumps(fc, separators=(",", ":"))
    assert len(body) < 40_000  # measured 20.6 kB
    segments = np.array(
        [
            (*a, *b)
            for f in fc["features"]
            for line in f["geometry"]["coordinates"]
            for a, b in itertools.pairwise(line)
        ]
    )
    metres = np.array([55_600.0, 111_195.0])  # per degree of lon (at 60 N) and of lat
    a, b = segments[:, :2] * metres, segments[:, 2:] * metres
    for node in {
        n for u, v, d in city.graph.edges(data=True) if d.get("car", True) for n in (u, v)
    }:
        data = city.graph.nodes[node]
        p = np.array([data["lon"], data["lat"]]) * metres
        t = np.clip(np.sum((p - a) * (b - a), axis=1) / np.sum((b - a) ** 2, axis=1), 0, 1)
        gap = np.min(np.linalg.norm(a + t[:, None] * (b - a) - p, axis=1))
        assert gap < 3.0, f"node {node} is {gap:.1f} m from the nearest drawn street"
