"""Tests of routing.network: fastest-path matrices on street graphs."""

from __future__ import annotations

import itertools
import math

import networkx as nx
import numpy as np
import pytest

from routing import network
from routing.errors import InvalidProblemError
from routing.matrix import EARTH_RADIUS_M, ceil_seconds, haversine_m
from routing.model import Location
from routing.network import (
    BIKE,
    CAR,
    PROFILES,
    WALK,
    Profile,
    network_matrix,
    path_coordinates,
    snap,
)

SQUARE_XY = {"A": (60.00, 24.00), "B": (60.00, 24.01), "C": (60.01, 24.01), "D": (60.01, 24.00)}


def add_street(graph: nx.Graph, u: str, v: str, **attrs: object) -> None:
    """Add the street u-v as two opposite directed edges with the same attributes."""
    graph.add_edge(u, v, **attrs)
    graph.add_edge(v, u, **attrs)


def at(graph: nx.Graph, node: object) -> Location:
    """A location exactly on a node."""
    data = graph.nodes[node]
    return Location(str(node), data["lat"], data["lon"])


@pytest.fixture
def square() -> nx.DiGraph:
    """Four nodes A-B-C-D round a square, where the shortest A..C path is not the fastest."""
    g = nx.DiGraph()
    for name, (lat, lon) in SQUARE_XY.items():
        g.add_node(name, lat=lat, lon=lon)
    add_street(g, "A", "B", length=360.0, speed_kmh=36.0)  # 36 s
    add_street(g, "B", "C", length=720.0, speed_kmh=72.0)  # 36 s
    add_street(g, "A", "D", length=180.0)  # default 30 km/h: 21.6 s
    add_street(g, "D", "C", length=1000.0, speed_kmh=36.0)  # 100 s
    return g


@pytest.fixture
def modes() -> nx.MultiDiGraph:
    """A-B-C open to all, plus parallel A-C links: a car-only motorway and a footbridge."""
    g = nx.MultiDiGraph()
    for name in "ABC":
        g.add_node(name, lat=SQUARE_XY[name][0], lon=SQUARE_XY[name][1])
    add_street(g, "A", "B", length=500.0)
    add_street(g, "B", "C", length=500.0)
    add_street(g, "A", "C", length=600.0, speed_kmh=100.0, walk=False, bike=False)
    add_street(g, "A", "C", length=300.0, car=False)
    return g


def random_grid(seed: int, side: int = 12) -> nx.DiGraph:
    """A grid with random lengths and speeds, some one-way and some car-free edges."""
    rng = np.random.default_rng(seed)
    g = nx.DiGraph()
    for r in range(side):
        for c in range(side):
            g.add_node(r * side + c, lat=60.0 + r * 0.002, lon=24.0 + c * 0.004)
    for r in range(side):
        for c in range(side):
            here = r * side + c
            for there in ([here + 1] if c + 1 < side else []) + (
                [here + side] if r + 1 < side else []
            ):
                for u, v in ((here, there), (there, here)):
                    if rng.random() < 0.1:  # one-way the other way
                        continue
                    g.add_edge(
                        u,
                        v,
                        length=float(rng.uniform(50, 300)),
                        speed_kmh=float(rng.uniform(20, 60)),
                        car=bool(rng.random() > 0.1),
                    )
    return g


# -- hand-computed values ------------------------------------------------------------------------


def test_square_matrix_matches_hand_computation(square: nx.DiGraph) -> None:
    m = network_matrix(square, [at(square, n) for n in "ABCD"], CAR)
    # D->C direct takes 100 s over 1000 m; round by A and B takes 93.6 s over 1260 m.
    np.testing.assert_array_equal(
        m.durations,
        [
            [0, 36, 72, 22],
            [36, 0, 36, 58],
            [72, 36, 0, 94],
            [22, 58, 94, 0],
        ],
    )
    np.testing.assert_array_equal(
        m.distances,
        [
            [0, 360, 1080, 180],
            [360, 0, 720, 540],
            [1080, 720, 0, 1260],
            [180, 540, 1260, 0],
        ],
    )


def test_undirected_graph_with_xy_attributes(square: nx.DiGraph) -> None:
    g = nx.Graph()
    for node, data in square.nodes(data=True):
        g.add_node(node, y=data["lat"], x=data["lon"])
    g.add_edges_from(square.edges(data=True))
    expected = network_matrix(square, [at(square, n) for n in "ABCD"], "car")
    got = network_matrix(g, [at(square, n) for n in "ABCD"], "car")
    np.testing.assert_array_equal(got.durations, expected.durations)
    np.testing.assert_array_equal(got.distances, expected.distances)


def test_point_off_the_network_pays_the_straight_stretch(square: nx.DiGraph) -> None:
    a = at(square, "A")
    north_of_a = Location("p", a.lat + math.degrees(100.0 / EARTH_RADIUS_M), a.lon)
    m = network_matrix(square, [north_of_a, at(square, "B")], CAR)
    # 100 m at 30 km/h (12 s) to reach A, then 36 s to B.
    np.testing.assert_array_equal(m.durations, [[0, 48], [48, 0]])
    np.testing.assert_array_equal(m.distances, [[0, 460], [460, 0]])


def test_points_snapping_to_one_node(square: nx.DiGraph) -> None:
    a = at(square, "A")
    near = Location("near", a.lat + math.degrees(50.0 / EARTH_RADIUS_M), a.lon)
    m = network_matrix(square, [a, near, a], CAR)
    np.testing.assert_array_equal(m.distances, [[0, 50, 0], [50, 0, 50], [0, 50, 0]])
    np.testing.assert_array_equal(m.durations, [[0, 6, 0], [6, 0, 6], [0, 6, 0]])


def test_parallel_edges_use_the_fastest() -> None:
    g = nx.MultiDiGraph()
    g.add_node(0, lat=60.0, lon=24.0)
    g.add_node(1, lat=60.0, lon=24.01)
    g.add_edge(0, 1, length=100.0, speed_kmh=10.0)  # short but 36 s
    g.add_edge(0, 1, length=200.0, speed_kmh=50.0)  # long but 14.4 s
    g.add_edge(1, 0, length=100.0, speed_kmh=10.0)
    m = network_matrix(g, [at(g, 0), at(g, 1)], CAR)
    assert (m.durations[0, 1], m.distances[0, 1]) == (15, 200)
    assert (m.durations[1, 0], m.distances[1, 0]) == (36, 100)


# -- modes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("profile", "seconds", "metres"),
    [
        (CAR, 22, 600),  # motorway, 100 km/h; the footbridge is closed to cars
        (BIKE, 72, 300),  # footbridge at 15 km/h; the motorway is closed to bikes
        (WALK, 180, 300),  # footbridge at 6 km/h
    ],
)
def test_profiles_use_only_their_edges(
    modes: nx.MultiDiGraph, profile: Profile, seconds: int, metres: int
) -> None:
    m = network_matrix(modes, [at(modes, "A"), at(modes, "C")], profile)
    assert (m.durations[0, 1], m.distances[0, 1]) == (seconds, metres)


def test_walk_durations_are_longer(modes: nx.MultiDiGraph) -> None:
    points = [at(modes, n) for n in "ABC"]
    car = network_matrix(modes, points, "car")
    walk = network_matrix(modes, points, "walk")
    off = ~np.eye(3, dtype=bool)
    assert (walk.durations[off] > car.durations[off]).all()


def test_profiles_by_name() -> None:
    assert PROFILES == {"car": CAR, "bike": BIKE, "walk": WALK}
    assert (BIKE.speed_kmh, WALK.speed_kmh) == (15.0, 6.0)


def test_speed_cap(square: nx.DiGraph) -> None:
    capped = Profile("e-van", "car", speed_kmh=30.0, use_edge_speed=True, max_speed_kmh=18.0)
    m = network_matrix(square, [at(square, "A"), at(square, "B")], capped)
    assert m.durations[0, 1] == 72  # 360 m at 18 km/h, not at the edge's 36 km/h


# -- reachability --------------------------------------------------------------------------------


@pytest.fixture
def dead_end(square: nx.DiGraph) -> nx.DiGraph:
    """The square plus E, reachable from C by a one-way street with no way back."""
    g = square.copy()
    g.add_node("E", lat=60.02, lon=24.01)
    g.add_edge("C", "E", length=1100.0)
    return g


def test_unreachable_node_is_not_snapped_to(dead_end: nx.DiGraph) -> None:
    e = at(dead_end, "E")
    assert list(snap(dead_end, [e.lat], [e.lon])) == ["E"]
    assert list(snap(dead_end, [e.lat], [e.lon], profile="car")) == ["C"]


def test_unreachable_point_goes_through_the_component(dead_end: nx.DiGraph) -> None:
    e = at(dead_end, "E")
    m = network_matrix(dead_end, [at(dead_end, "A"), e], CAR)
    to_c = float(haversine_m(e.lat, e.lon, *SQUARE_XY["C"]))
    # E snaps to C: A->C is 72 s and 1080 m, then the straight ~1112 m at 30 km/h.
    assert m.distances[0, 1] == round(1080 + to_c)
    assert m.durations[0, 1] == math.ceil(72 + to_c * 3.6 / 30)
    np.testing.assert_array_equal(m.durations, m.durations.T)


# -- against networkx ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "chunk_entries",
    [
        network._CHUNK_ENTRIES,  # one Dijkstra call
        1,  # one source per call
    ],
)
@pytest.mark.parametrize("profile", [CAR, WALK])
def test_matches_networkx_dijkstra(
    monkeypatch: pytest.MonkeyPatch, chunk_entries: int, profile: Profile
) -> None:
    monkeypatch.setattr(network, "_CHUNK_ENTRIES", chunk_entries)
    g = random_grid(seed=3)
    usable = nx.DiGraph()
    for u, v, data in g.edges(data=True):
        if data.get(profile.mode, True):
            duration = 3.6 * data["length"] / profile.edge_speed_kmh(data)
            usable.add_edge(u, v, length=data["length"], t=duration)
    component = max(nx.strongly_connected_components(usable), key=len)
    rng = np.random.default_rng(5)
    nodes = sorted(int(n) for n in rng.choice(sorted(component), size=25, replace=False))
    m = network_matrix(g, [at(g, n) for n in nodes], profile)

    seconds = np.zeros((len(nodes), len(nodes)))
    metres = np.zeros((len(nodes), len(nodes)))
    for i, source in enumerate(nodes):
        times, paths = nx.single_source_dijkstra(usable, source, weight="t")
        for j, target in enumerate(nodes):
            seconds[i, j] = times[target]
            path = paths[target]
            metres[i, j] = sum(usable[a][b]["length"] for a, b in itertools.pairwise(path))
    np.testing.assert_array_equal(m.durations, ceil_seconds(seconds))
    np.testing.assert_array_equal(m.distances, np.rint(metres))


# -- paths and snapping --------------------------------------------------------------------------


def test_path_coordinates_follow_the_fastest_path(square: nx.DiGraph) -> None:
    path = path_coordinates(square, "car", at(square, "D"), at(square, "C"))
    assert path == [SQUARE_XY[n] for n in "DABC"]


def test_path_coordinates_include_points_off_the_network(square: nx.DiGraph) -> None:
    start = Location("s", 59.999, 23.999)
    path = path_coordinates(square, WALK, start, at(square, "B"))
    assert path == [(59.999, 23.999), SQUARE_XY["A"], SQUARE_XY["B"]]


def test_snap_returns_integer_ids_for_integer_nodes() -> None:
    g = random_grid(seed=1, side=4)
    ids = snap(g, [60.0, 60.006], [24.0, 24.012])
    assert ids.dtype == np.int64
    assert list(ids) == [0, 15]


# -- edge cases and errors -----------------------------------------------------------------------


def test_no_and_one_location(square: nx.DiGraph) -> None:
    assert network_matrix(square, [], CAR).size == 0
    one = network_matrix(square, [at(square, "A")], CAR)
    np.testing.assert_array_equal(one.durations, [[0]])


def test_unknown_profile_name(square: nx.DiGraph) -> None:
    with pytest.raises(InvalidProblemError, match="unknown profile 'boat'"):
        network_matrix(square, [at(square, "A")], "boat")


def test_graph_without_usable_edges(square: nx.DiGraph) -> None:
    nx.set_edge_attributes(square, False, "walk")
    with pytest.raises(InvalidProblemError, match="no edge profile 'walk' may use"):
        network_matrix(square, [at(square, "A")], WALK)


def test_node_without_coordinates(square: nx.DiGraph) -> None:
    square.add_node("X")
    with pytest.raises(InvalidProblemError, match="node 'X' has no coordinates"):
        network_matrix(square, [at(square, "A")], CAR)


def test_edge_with_bad_speed(square: nx.DiGraph) -> None:
    square.edges["A", "B"]["speed_kmh"] = -5
    with pytest.raises(InvalidProblemError, match="speed"):
        network_matrix(square, [at(square, "A")], CAR)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"speed_kmh": 0.0},  # standing still
        {"speed_kmh": 10.0, "max_speed_kmh": -1.0},  # negative cap
        {"speed_kmh": 10.0, "mode": ""},  # no edge flag to read
    ],
)
def test_invalid_profile(kwargs: dict[str, object]) -> None:
    args: dict[str, object] = {"name": "x", "mode": "car"} | kwargs
    with pytest.raises(InvalidProblemError, match="profile 'x'"):
        Profile(**args)  # type: ignore[arg-type]
