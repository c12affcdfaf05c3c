"""Tests of simulation.cities.synthetic: the seeded synthetic street network."""

from __future__ import annotations

from collections import Counter

import networkx as nx
import numpy as np
import pytest

from routing.errors import InvalidProblemError
from routing.model import Location
from routing.network import network_matrix
from simulation.cities.synthetic import (
    ARTERIAL_KMH,
    COLLECTOR_KMH,
    RESIDENTIAL_KMH,
    SyntheticCity,
    generate_city,
)


@pytest.fixture(scope="module")
def city() -> SyntheticCity:
    """The default 20-block city, seed 0."""
    return generate_city(0)


@pytest.fixture(scope="module")
def points(city: SyntheticCity) -> list[Location]:
    """500 seeded addresses in the default city."""
    return city.random_points(500, np.random.default_rng(11))


def snapshot(city: SyntheticCity) -> tuple[list[object], list[object]]:
    """Every node and edge with its attributes, in graph order."""
    return list(city.graph.nodes(data=True)), list(city.graph.edges(data=True))


def test_same_seed_same_city() -> None:
    assert snapshot(generate_city(7, blocks=12)) == snapshot(generate_city(7, blocks=12))


def test_other_seed_other_city() -> None:
    assert snapshot(generate_city(7, blocks=12)) != snapshot(generate_city(8, blocks=12))


@pytest.mark.parametrize("mode", ["car", "bike", "walk"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_mode_reaches_every_intersection(mode: str, seed: int) -> None:
    graph = generate_city(seed, blocks=15).graph
    usable = graph.edge_subgraph((u, v) for u, v, ok in graph.edges(data=mode) if ok)
    assert usable.number_of_nodes() == graph.number_of_nodes() == 16 * 16
    assert nx.is_strongly_connected(usable)


def test_street_plan_has_its_features(city: SyntheticCity) -> None:
    edges = list(city.graph.edges(data=True))
    highways = Counter(data["highway"] for _, _, data in edges)
    assert set(highways) == {"primary", "tertiary", "residential", "pedestrian"}
    speeds = {data["speed_kmh"] for _, _, data in edges}
    assert speeds == {ARTERIAL_KMH, COLLECTOR_KMH, RESIDENTIAL_KMH}
    assert all(not d["car"] and d["bike"] for _, _, d in edges if d["highway"] == "pedestrian")
    assert all(d["walk"] for _, _, d in edges)
    assert any(d["oneway"] for _, _, d in edges)
    # Bikes ride non-arterials and arterials with a bike lane, and nothing else.
    assert all(d["bike"] == (d["highway"] != "primary" or d["bike_lane"]) for _, _, d in edges)
    full_grid = 2 * 2 * 20 * 21  # both directions of every block
    assert len(edges) < full_grid  # some blocks are missing


def test_each_block_is_a_pair_of_opposite_edges(city: SyntheticCity) -> None:
    graph = city.graph
    for u, v, data in graph.edges(data=True):
        back = graph.edges[v, u]
        assert back["length"] == data["length"] > 0
        assert (back["car"] and data["car"]) or data["oneway"] or data["highway"] == "pedestrian"


def test_graph_is_frozen(city: SyntheticCity) -> None:
    with pytest.raises(nx.NetworkXError):
        city.graph.add_edge(0, 1)


def test_random_points_lie_in_the_city(city: SyntheticCity) -> None:
    pts = city.random_points(200, np.random.default_rng(3), prefix="x")
    lats = [n["lat"] for _, n in city.graph.nodes(data=True)]
    lons = [n["lon"] for _, n in city.graph.nodes(data=True)]
    assert [p.id for p in pts[:2]] == ["x0", "x1"]
    assert all(min(lats) <= p.lat <= max(lats) and min(lons) <= p.lon <= max(lons) for p in pts)
    assert pts == city.random_points(200, np.random.default_rng(3), prefix="x")


def test_center_point(city: SyntheticCity) -> None:
    assert city.center_point() == Location("center", 60.1699, 24.9384)


def test_network_matrix_on_500_points(city: SyntheticCity, points: list[Location]) -> None:
    m = network_matrix(city.graph, points, "car")
    assert m.size == 500
    assert (np.diag(m.durations) == 0).all() and (np.diag(m.distances) == 0).all()
    off = ~np.eye(500, dtype=bool)
    assert (m.durations[off] > 0).mean() > 0.99  # only points snapped to one node tie at 0
    # Across a 3 km city at 30-50 km/h nothing takes more than ten minutes.
    assert m.durations.max() < 600


def test_walking_is_slower_than_driving(city: SyntheticCity, points: list[Location]) -> None:
    car = network_matrix(city.graph, points[:200], "car")
    walk = network_matrix(city.graph, points[:200], "walk")
    off = ~np.eye(200, dtype=bool)
    assert (walk.durations >= car.durations).all()
    assert (walk.durations[off] > car.durations[off]).mean() > 0.99
    # 6 km/h is 0.6 s per metre walked; metres are rounded to nearest, seconds up.
    np.testing.assert_allclose(walk.durations, 0.6 * walk.distances, atol=1.3)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"blocks": 1},  # no inner street
        {"block_m": 0.0},  # no length
        {"arterial_every": 1},  # every street an arterial
    ],
)
def test_invalid_arguments(kwargs: dict[str, float]) -> None:
    with pytest.raises(InvalidProblemError):
        generate_city(0, **kwargs)  # type: ignore[arg-type]
