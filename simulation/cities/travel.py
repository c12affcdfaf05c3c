"""Travel times on a city's streets between the points a replication will visit.

Units: metres, seconds, degrees.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import networkx as nx
import numpy as np

from routing.errors import InvalidProblemError
from routing.matrix import ceil_seconds, haversine_m
from routing.model import Location, TravelMatrix
from routing.network import Profile, network_matrix, snap

__all__ = ["SnappedTravel"]


_Index = dict[tuple[float, float], tuple[int, float]]  # (lat, lon) -> (table row, metres off)


class SnappedTravel:
    """Fastest paths on the street graph between known points, from tables computed once.

    Every point the simulation will visit is known before it starts; each is snapped to the
    nearest node of each profile's network (:func:`routing.network.snap`) and one
    :func:`routing.network.network_matrix` between those nodes is computed per profile. A
    matrix between points is then a gather plus the straight stretch from each point to its
    node at the profile's speed — the same construction as :func:`~routing.network.network_matrix`
    (figures may differ from a direct call by a rounding second or metre). A point that was
    not announced falls back to a direct call.

    Parameters
    ----------
    graph
        Street graph following :mod:`routing.network`'s convention.
    points
        Every point to be visited.
    profiles
        Profile by name (``"car"``, ``"bike"``, ``"walk"``).
    """

    def __init__(
        self, graph: nx.Graph, points: Sequence[Location], profiles: Mapping[str, Profile]
    ) -> None:
        self._graph = graph
        self._profiles = dict(profiles)
        lats = np.array([p.lat for p in points], dtype=np.float64)
        lons = np.array([p.lon for p in points], dtype=np.float64)
        self._tables: dict[str, tuple[_Index, TravelMatrix]] = {}
        for name, profile in self._profiles.items():
            nodes = snap(graph, lats, lons, profile=profile)
            distinct = list(dict.fromkeys(nodes.tolist()))
            row = {n: i for i, n in enumerate(distinct)}
            node_locs = [Location(f"n{i}", *_coords_of(graph, n)) for i, n in enumerate(distinct)]
            table = network_matrix(graph, node_locs, profile)
            node_lat = np.array([loc.lat for loc in node_locs])
            node_lon = np.array([loc.lon for loc in node_locs])
            rows = np.array([row[n] for n in nodes.tolist()], dtype=np.int64)
            off = haversine_m(lats, lons, node_lat[rows], node_lon[rows])
            index = {
                (float(a), float(b)): (int(r), float(o))
                for a, b, r, o in zip(lats, lons, rows, off, strict=True)
            }
            self._tables[name] = (index, table)

    def matrix(self, locations: Sequence[Location], profile: str) -> TravelMatrix:
        """Distances (metres) and durations (seconds) between every pair of ``locations``."""
        prof = self._profiles.get(profile)
        if prof is None:
            raise InvalidProblemError(f"no travel profile {profile!r} in this simulation")
        index, table = self._tables[profile]
        try:
            found = [index[(loc.lat, loc.lon)] for loc in locations]
        except KeyError:
            return network_matrix(self._graph, locations, prof)
        n = len(locations)
        if n == 0:
            empty = np.zeros((0, 0), dtype=np.int64)
            return TravelMatrix(empty, empty)
        rows = np.array([r for r, _ in found], dtype=np.int64)
        off_m = np.array([o for _, o in found], dtype=np.float64)
        off_s = off_m * (3.6 / prof.speed_kmh)
        sub = np.ix_(rows, rows)
        seconds = off_s[:, None] + table.durations[sub] + off_s[None, :]
        metres = off_m[:, None] + table.distances[sub] + off_m[None, :]
        np.fill_diagonal(seconds, 0.0)
        np.fill_diagonal(metres, 0.0)
        return TravelMatrix(
            distances=np.rint(metres).astype(np.int64), durations=ceil_seconds(seconds)
        )


def _coords_of(graph: nx.Graph, node: object) -> tuple[float, float]:
    data = graph.nodes[node]
    return float(data.get("lat", data.get("y"))), float(data.get("lon", data.get("x")))
