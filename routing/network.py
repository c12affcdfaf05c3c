"""Road-network travel matrices: fastest paths on a street graph, for cars, bikes and robots.

Straight lines (:mod:`routing.matrix`) ignore one-way streets, rivers and pedestrian zones;
this module computes many-to-many fastest paths on a real (or synthetic) street graph, fast
enough for thousands of points: one vectorised scipy Dijkstra per *distinct* snapped node, and
the distance of every fastest path recovered from the predecessor trees with numpy pointer
jumping, never a Python loop per node.

Input graph convention
----------------------
A :mod:`networkx` ``Graph``, ``DiGraph``, ``MultiGraph`` or ``MultiDiGraph`` (undirected
edges can be travelled both ways) with

* nodes carrying ``lat`` and ``lon`` in WGS84 degrees — ``y`` and ``x`` are accepted instead,
  as OSMnx and pyrosm produce them;
* edges carrying ``length`` in metres (the straight line between the end nodes when absent),
  optionally ``speed_kmh``, the car speed in km/h (OSMnx's ``speed_kph`` is accepted too),
  and optionally boolean flags ``car``, ``bike``, ``walk`` saying which modes may use the
  edge (``True`` when absent).

Where two edges join the same pair of nodes, the fastest one for the profile is used.

Reachability
------------
Each :class:`Profile` travels only on the edges its mode may use, and only on the **largest
strongly connected component** of that sub-graph. Points are snapped to the nearest node of
that component, so every pair of points is reachable and every matrix entry is finite; a
point next to a one-way dead end or an isolated footpath snaps to the nearest node from which
it can both leave and be reached. The straight-line distance between a point and its snapped
node, travelled at the profile's speed, is added at both ends so that points off the network
still cost something.

Units: coordinates in degrees, distances in metres, durations in seconds, speeds in km/h.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from routing.errors import InvalidProblemError
from routing.matrix import EARTH_RADIUS_M, ceil_seconds, haversine_m
from routing.model import Location, TravelMatrix

__all__ = [
    "BIKE",
    "CAR",
    "PROFILES",
    "WALK",
    "Profile",
    "network_matrix",
    "path_coordinates",
    "resolve_profile",
    "snap",
]

# Scipy's csgraph has treated explicit zero weights differently across versions; a
# zero-length edge (two nodes at one spot) is given this many seconds instead.
_MIN_EDGE_S = 1e-9
# Dijkstra runs on this many (source, node) entries at a time, bounding memory to a few
# hundred MB for city-sized graphs whatever the number of points.
_CHUNK_ENTRIES = 2_000_000


@dataclass(frozen=True, slots=True)
class Profile:
    """How one kind of vehicle moves on the street graph.

    Parameters
    ----------
    name
        Profile name, the key of the matrix in :attr:`routing.Problem.matrices`.
    mode
        Name of the boolean edge flag that says whether this vehicle may use an edge
        (``"car"``, ``"bike"``, ``"walk"``); an edge without the flag is allowed.
    speed_kmh
        Travel speed in km/h: the fixed speed everywhere, or — with ``use_edge_speed`` — the
        speed on edges without a ``speed_kmh`` attribute. Also the speed of the straight
        stretch between a point and its snapped node.
    use_edge_speed
        Whether to drive at each edge's ``speed_kmh`` (cars) instead of ``speed_kmh``.
    max_speed_kmh
        Cap on the edge speed in km/h (a speed-limited e-van, say); ``None`` for no cap.
    """

    name: str
    mode: str
    speed_kmh: float
    use_edge_speed: bool = False
    max_speed_kmh: float | None = None

    def __post_init__(self) -> None:
        if not self.name or not self.mode:
            raise InvalidProblemError(
                f"profile {self.name!r}: name and mode must be non-empty (mode is the edge flag "
                "such as 'car', 'bike' or 'walk')"
            )
        if not (math.isfinite(self.speed_kmh) and self.speed_kmh > 0):
            raise InvalidProblemError(
                f"profile {self.name!r}: speed_kmh {self.speed_kmh} must be a positive number "
                "of km/h"
            )
        if self.max_speed_kmh is not None and not (
            math.isfinite(self.max_speed_kmh) and self.max_speed_kmh > 0
        ):
            raise InvalidProblemError(
                f"profile {self.name!r}: max_speed_kmh {self.max_speed_kmh} must be a positive "
                "number of km/h or None"
            )

    def edge_speed_kmh(self, data: Mapping[str, Any]) -> float:
        """Speed in km/h of this profile on an edge with attributes ``data``."""
        speed = self.speed_kmh
        if self.use_edge_speed:
            raw = data.get("speed_kmh", data.get("speed_kph"))
            if raw is not None:
                speed = float(raw)
        if self.max_speed_kmh is not None:
            speed = min(speed, self.max_speed_kmh)
        return speed


CAR = Profile("car", "car", speed_kmh=30.0, use_edge_speed=True)
"""Vans and cars: car-allowed edges at their ``speed_kmh`` (30 km/h when absent)."""
BIKE = Profile("bike", "bike", speed_kmh=15.0)
"""Cargo bikes: bike-allowed edges at 15 km/h."""
WALK = Profile("walk", "walk", speed_kmh=6.0)
"""Sidewalk robots and walking couriers: walk-allowed edges at 6 km/h."""
PROFILES: dict[str, Profile] = {p.name: p for p in (CAR, BIKE, WALK)}
"""The predefined profiles by name: ``"car"``, ``"bike"``, ``"walk"``."""


def snap(
    graph: nx.Graph,
    lats: ArrayLike,
    lons: ArrayLike,
    *,
    profile: Profile | str | None = None,
) -> NDArray[np.int64] | NDArray[np.object_]:
    """Nearest graph node to each point.

    Parameters
    ----------
    graph
        Street graph following the module's convention.
    lats, lons
        Coordinates of the points, degrees (1-D, same length).
    profile
        When given, only nodes of that profile's largest strongly connected component are
        candidates (the nodes :func:`network_matrix` snaps to); else every node.

    Returns
    -------
    numpy.ndarray
        The node ids, one per point (int64 when all node ids are integers, else objects).
    """
    la, lo = _coords(lats, lons)
    if profile is None:
        ids, node_lat, node_lon = _node_table(graph)
        if not ids:
            raise InvalidProblemError("the graph has no nodes — nothing to snap to")
        index = _Snapper(node_lat, node_lon).nearest(la, lo)[0]
    else:
        net = _ProfileNet.build(graph, resolve_profile(profile))
        ids = net.ids
        index = net.snapper.nearest(la, lo)[0]
    return _id_array(ids)[index]


def network_matrix(
    graph: nx.Graph, locations: Sequence[Location], profile: Profile | str
) -> TravelMatrix:
    """Fastest-path travel matrix between points on a street graph.

    Parameters
    ----------
    graph
        Street graph following the module's convention.
    locations
        The points, in the order of :attr:`routing.Problem.locations`.
    profile
        A :class:`Profile` or the name of a predefined one (``"car"``, ``"bike"``, ``"walk"``).

    Returns
    -------
    TravelMatrix
        ``durations[i, j]``: seconds (rounded up) of the fastest path from ``i`` to ``j``;
        ``distances[i, j]``: metres (rounded) of that same path — not of the shortest one.
        Both include the straight stretches from each point to its snapped node at the
        profile's speed. The diagonal is zero.

    Raises
    ------
    InvalidProblemError
        If the profile is unknown, or the graph has no edge the profile may use, or lacks
        node coordinates.
    """
    prof = resolve_profile(profile)
    net = _ProfileNet.build(graph, prof)
    n = len(locations)
    if n == 0:
        empty = np.zeros((0, 0), dtype=np.int64)
        return TravelMatrix(empty, empty)
    la, lo = _coords([p.lat for p in locations], [p.lon for p in locations])
    node, off_m = net.snapper.nearest(la, lo)
    sources, inv = np.unique(node, return_inverse=True)
    node_s, node_m = net.many_to_many(sources)
    off_s = off_m * (3.6 / prof.speed_kmh)
    seconds = off_s[:, None] + node_s[np.ix_(inv, inv)] + off_s[None, :]
    metres = off_m[:, None] + node_m[np.ix_(inv, inv)] + off_m[None, :]
    np.fill_diagonal(seconds, 0.0)
    np.fill_diagonal(metres, 0.0)
    return TravelMatrix(distances=np.rint(metres).astype(np.int64), durations=ceil_seconds(seconds))


def path_coordinates(
    graph: nx.Graph, profile: Profile | str, a: Location, b: Location
) -> list[tuple[float, float]]:
    """The fastest path from ``a`` to ``b`` as points to draw on a map.

    Parameters
    ----------
    graph
        Street graph following the module's convention.
    profile
        A :class:`Profile` or the name of a predefined one.
    a, b
        Start and end points.

    Returns
    -------
    list of (float, float)
        ``(lat, lon)`` in degrees: ``a``, the nodes of the fastest path between their snapped
        nodes (as :func:`network_matrix` routes it), then ``b``; a point lying exactly on its
        snapped node appears once.
    """
    net = _ProfileNet.build(graph, resolve_profile(profile))
    node, _ = net.snapper.nearest(*_coords([a.lat, b.lat], [a.lon, b.lon]))
    start, end = int(node[0]), int(node[1])
    _, pred = dijkstra(net.time, directed=True, indices=start, return_predecessors=True)
    path = [end]
    while path[-1] != start:
        path.append(int(pred[path[-1]]))
    path.reverse()
    points = [(float(net.lat[i]), float(net.lon[i])) for i in path]
    # The points themselves, unless they sit exactly on their snapped nodes.
    if points[0] != (a.lat, a.lon):
        points.insert(0, (a.lat, a.lon))
    if points[-1] != (b.lat, b.lon):
        points.append((b.lat, b.lon))
    return points


def resolve_profile(profile: Profile | str) -> Profile:
    """The :class:`Profile` itself, or the predefined profile of that name.

    Raises
    ------
    InvalidProblemError
        If the name is not one of :data:`PROFILES`.
    """
    if isinstance(profile, Profile):
        return profile
    try:
        return PROFILES[profile]
    except KeyError:
        raise InvalidProblemError(
            f"unknown profile {profile!r} — use one of {sorted(PROFILES)} or pass a Profile"
        ) from None


# -- implementation ----------------------------------------------------------------------------


def _coords(lats: ArrayLike, lons: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    la = np.asarray(lats, dtype=np.float64).reshape(-1)
    lo = np.asarray(lons, dtype=np.float64).reshape(-1)
    if la.shape != lo.shape:
        raise InvalidProblemError(
            f"got {la.size} latitudes but {lo.size} longitudes — give one of each per point"
        )
    return la, lo


def _node_table(graph: nx.Graph) -> tuple[list[Hashable], np.ndarray, np.ndarray]:
    ids: list[Hashable] = []
    lat: list[float] = []
    lon: list[float] = []
    for node, data in graph.nodes(data=True):
        y = data.get("lat", data.get("y"))
        x = data.get("lon", data.get("x"))
        if y is None or x is None:
            raise InvalidProblemError(
                f"graph node {node!r} has no coordinates — give every node 'lat' and 'lon' "
                "(or 'y' and 'x') in degrees"
            )
        ids.append(node)
        lat.append(float(y))
        lon.append(float(x))
    return ids, np.array(lat, dtype=np.float64), np.array(lon, dtype=np.float64)


def _id_array(ids: Sequence[Hashable]) -> NDArray[np.int64] | NDArray[np.object_]:
    if all(isinstance(i, int | np.integer) and not isinstance(i, bool) for i in ids):
        return np.array(ids, dtype=np.int64)
    out = np.empty(len(ids), dtype=object)
    out[:] = list(ids)
    return out


class _Snapper:
    """Nearest-node look-ups on an equirectangular projection around the mean latitude.

    Accurate to well under a metre at city scale; ignores the antimeridian.
    """

    def __init__(self, lat: np.ndarray, lon: np.ndarray) -> None:
        self._lat = lat
        self._lon = lon
        self._coslat = math.cos(math.radians(float(np.mean(lat))))
        self._tree = cKDTree(self._project(lat, lon))

    def _project(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        return EARTH_RADIUS_M * np.column_stack((np.radians(lon) * self._coslat, np.radians(lat)))

    def nearest(
        self, lat: np.ndarray, lon: np.ndarray
    ) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
        """Index of the nearest node per point, and the great-circle metres to it."""
        _, index = self._tree.query(self._project(lat, lon))
        index = np.asarray(index, dtype=np.intp)
        return index, haversine_m(lat, lon, self._lat[index], self._lon[index])


@dataclass(frozen=True, slots=True, eq=False)
class _ProfileNet:
    """The part of a graph one profile travels on, compacted to indices ``0..m-1``.

    ``time`` is the CSR matrix of edge durations (seconds) on the largest strongly connected
    component; ``edge_keys`` (sorted ``u * m + v``) and ``edge_m`` give the length in metres
    of the edge Dijkstra uses between two adjacent nodes.
    """

    ids: list[Hashable]
    lat: np.ndarray
    lon: np.ndarray
    time: sp.csr_matrix
    edge_keys: np.ndarray
    edge_m: np.ndarray
    snapper: _Snapper

    @classmethod
    def build(cls, graph: nx.Graph, profile: Profile) -> _ProfileNet:
        ids, lat, lon = _node_table(graph)
        position = {node: i for i, node in enumerate(ids)}
        src: list[int] = []
        dst: list[int] = []
        metres: list[float] = []
        kmh: list[float] = []
        for u, v, data in graph.edges(data=True):
            if u == v or not data.get(profile.mode, True):
                continue
            iu, iv = position[u], position[v]
            length = data.get("length")
            if length is None:
                length = float(haversine_m(lat[iu], lon[iu], lat[iv], lon[iv]))
            try:
                speed = profile.edge_speed_kmh(data)
            except (TypeError, ValueError):
                speed = math.nan
            if not (math.isfinite(speed) and speed > 0):
                raise InvalidProblemError(
                    f"edge {u!r} -> {v!r}: speed {data.get('speed_kmh')!r} km/h for profile "
                    f"{profile.name!r} is not a positive number — fix or drop 'speed_kmh'"
                )
            if not (math.isfinite(float(length)) and float(length) >= 0):
                raise InvalidProblemError(
                    f"edge {u!r} -> {v!r}: length {length!r} must be a number of metres >= 0"
                )
            src.append(iu)
            dst.append(iv)
            metres.append(float(length))
            kmh.append(speed)
        u_arr = np.array(src, dtype=np.int64)
        v_arr = np.array(dst, dtype=np.int64)
        m_arr = np.array(metres, dtype=np.float64)
        s_arr = np.maximum(m_arr * 3.6 / np.array(kmh, dtype=np.float64), _MIN_EDGE_S)
        if not graph.is_directed():
            u_arr, v_arr = np.concatenate((u_arr, v_arr)), np.concatenate((v_arr, u_arr))
            m_arr, s_arr = np.tile(m_arr, 2), np.tile(s_arr, 2)
        if u_arr.size == 0:
            raise InvalidProblemError(
                f"the graph has no edge profile {profile.name!r} may use — check the "
                f"{profile.mode!r} flags on the edges"
            )

        # Parallel edges: keep the fastest per (u, v).
        order = np.lexsort((s_arr, v_arr, u_arr))
        u_arr, v_arr, m_arr, s_arr = u_arr[order], v_arr[order], m_arr[order], s_arr[order]
        first = np.ones(u_arr.size, dtype=bool)
        first[1:] = (u_arr[1:] != u_arr[:-1]) | (v_arr[1:] != v_arr[:-1])
        u_arr, v_arr, m_arr, s_arr = u_arr[first], v_arr[first], m_arr[first], s_arr[first]

        n = len(ids)
        full = sp.csr_matrix((s_arr, (u_arr, v_arr)), shape=(n, n))
        _, label = connected_components(full, directed=True, connection="strong")
        keep = label == np.argmax(np.bincount(label))
        if keep.sum() < 2:
            raise InvalidProblemError(
                f"the graph has no two nodes that profile {profile.name!r} can travel between "
                f"both ways — check the {profile.mode!r} flags and one-way edges"
            )
        compact = np.full(n, -1, dtype=np.int64)
        compact[keep] = np.arange(int(keep.sum()))
        inside = keep[u_arr] & keep[v_arr]
        u_arr, v_arr = compact[u_arr[inside]], compact[v_arr[inside]]
        m_arr, s_arr = m_arr[inside], s_arr[inside]
        m = int(keep.sum())
        keys = u_arr * m + v_arr  # already sorted: lexsort was by (u, v) and compact is monotone
        kept_ids = [node for node, k in zip(ids, keep, strict=True) if k]
        return cls(
            ids=kept_ids,
            lat=lat[keep],
            lon=lon[keep],
            time=sp.csr_matrix((s_arr, (u_arr, v_arr)), shape=(m, m)),
            edge_keys=keys,
            edge_m=m_arr,
            snapper=_Snapper(lat[keep], lon[keep]),
        )

    @property
    def size(self) -> int:
        return len(self.ids)

    def many_to_many(self, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Seconds and metres of the fastest paths between all pairs of ``nodes``."""
        k = nodes.size
        seconds = np.empty((k, k), dtype=np.float64)
        metres = np.empty((k, k), dtype=np.float64)
        step = max(1, _CHUNK_ENTRIES // self.size)
        for lo in range(0, k, step):
            chunk = nodes[lo : lo + step]
            dist, pred = dijkstra(self.time, directed=True, indices=chunk, return_predecessors=True)
            seconds[lo : lo + step] = dist[:, nodes]
            metres[lo : lo + step] = self._tree_lengths(pred)[:, nodes]
        return seconds, metres

    def _tree_lengths(self, pred: np.ndarray) -> np.ndarray:
        """Metres from the root to every node of each shortest-path tree.

        ``pred`` is Dijkstra's ``(sources, m)`` predecessor array. Pointer jumping: ``anc``
        starts as each node's parent and ``acc`` as the length of the edge to it; every round
        adds the ancestor's ``acc`` and jumps to the ancestor's ancestor, so the tree depth
        is covered in ``log2(depth)`` vectorised rounds.
        """
        k, m = pred.shape
        # Flat indices into the (k, m) block: one fancy-indexing gather per round.
        cols = np.tile(np.arange(m, dtype=np.intp), k)
        anc = pred.astype(np.intp).ravel()
        root = anc < 0  # the source itself (everything is reachable inside the component)
        anc[root] = cols[root]
        where = np.searchsorted(self.edge_keys, anc * m + cols)
        acc = np.where(root, 0.0, self.edge_m[np.minimum(where, self.edge_m.size - 1)])
        anc += np.repeat(np.arange(k, dtype=np.intp) * m, m)
        while True:
            nxt = anc[anc]
            if np.array_equal(nxt, anc):
                return acc.reshape(k, m)
            acc += acc[anc]
            anc = nxt
